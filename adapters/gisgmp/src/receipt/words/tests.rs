use super::*;

#[track_caller]
fn check(kopecks: u64, words: &str) {
    assert_eq!(in_words(Kopecks(kopecks)), words, "{kopecks} kopecks");
}

#[test]
fn roubles_agree_with_their_number_and_kopecks_stay_in_figures() {
    check(150_075, "Одна тысяча пятьсот рублей 75 копеек");
    check(100, "Один рубль 00 копеек");
    check(201, "Два рубля 01 копейка");
    check(522, "Пять рублей 22 копейки");
    check(1_100, "Одиннадцать рублей 00 копеек");
    check(2_111, "Двадцать один рубль 11 копеек");
    check(11_400, "Сто четырнадцать рублей 00 копеек");
    check(50, "Ноль рублей 50 копеек");
}

#[test]
fn thousands_are_feminine_and_the_other_scales_masculine() {
    check(200_000, "Две тысячи рублей 00 копеек");
    check(2_100_000, "Двадцать одна тысяча рублей 00 копеек");
    check(1_200_000_000, "Двенадцать миллионов рублей 00 копеек");
    check(
        200_300_200_100,
        "Два миллиарда три миллиона две тысячи один рубль 00 копеек",
    );
    check(100_000_000_000_099, "Один триллион рублей 99 копеек");
}

#[test]
fn the_largest_amount_is_written_out_whole() {
    // 184467440737095516 roubles 15 kopecks.
    check(
        u64::MAX,
        "Сто восемьдесят четыре квадриллиона четыреста шестьдесят семь триллионов четыреста сорок \
         миллиардов семьсот тридцать семь миллионов девяносто пять тысяч пятьсот шестнадцать \
         рублей 15 копеек",
    );
}

#[test]
fn figures_of_the_payment_order_mark_whole_roubles_with_equals() {
    assert_eq!(order_figures(Kopecks(150_075)), "1500-75");
    assert_eq!(order_figures(Kopecks(150_005)), "1500-05");
    assert_eq!(order_figures(Kopecks(150_000)), "1500=");
    assert_eq!(order_figures(Kopecks(7)), "0-07");
}

#[test]
fn figures_of_the_receipt_group_thousands() {
    assert_eq!(receipt_figures(Kopecks(150_075)), "1 500 руб. 75 коп.");
    assert_eq!(receipt_figures(Kopecks(99)), "0 руб. 99 коп.");
    assert_eq!(receipt_figures(Kopecks(123_456_700)), "1 234 567 руб. 00 коп.");
    assert_eq!(receipt_figures(Kopecks(10_000_000)), "100 000 руб. 00 коп.");
}
