//! Amounts as the forms print them: figures (`1500-75`, `1 500 руб. 75 коп.`) and in Russian words
//! (field 6 of 0401060, «Сумма прописью»: roubles in words, kopecks in figures).
//!
//! 0401060's rules (Bank of Russia 383-П, kept by 762-П): roubles and kopecks are separated by `-`
//! in field 7, and an amount in whole roubles may omit the kopecks and end with `=`; in field 6
//! the roubles are written in words with «рубль» in its grammatical number, the kopecks in
//! figures. A whole amount is still written with `00 копеек` there, so the line reads the same for
//! every amount.

use crate::amount::Kopecks;

/// Field 7 of 0401060: `1500-75`, or `1500=` for whole roubles.
pub fn order_figures(amount: Kopecks) -> String {
    if amount.kopecks() == 0 {
        format!("{}=", amount.rubles())
    } else {
        format!("{}-{:02}", amount.rubles(), amount.kopecks())
    }
}

/// The sum of a bank-counter receipt: `1 500 руб. 75 коп.`, roubles grouped by thousands.
pub fn receipt_figures(amount: Kopecks) -> String {
    format!("{} руб. {:02} коп.", grouped(amount.rubles()), amount.kopecks())
}

/// `1234567` as `1 234 567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Field 6 of 0401060: `Одна тысяча пятьсот рублей 75 копеек`.
pub fn in_words(amount: Kopecks) -> String {
    let rubles = amount.rubles();
    let mut text = if rubles == 0 {
        "ноль".to_owned()
    } else {
        number_in_words(rubles, Gender::Masculine)
    };
    text.push(' ');
    text.push_str(plural(rubles, ["рубль", "рубля", "рублей"]));
    let kopecks = amount.kopecks();
    text.push_str(&format!(
        " {kopecks:02} {}",
        plural(u64::from(kopecks), ["копейка", "копейки", "копеек"])
    ));
    capitalized(&text)
}

/// The grammatical gender a number agrees with: «один рубль», «одна тысяча».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gender {
    Masculine,
    Feminine,
}

const HUNDREDS: [&str; 10] = [
    "",
    "сто",
    "двести",
    "триста",
    "четыреста",
    "пятьсот",
    "шестьсот",
    "семьсот",
    "восемьсот",
    "девятьсот",
];
const TENS: [&str; 10] = [
    "",
    "",
    "двадцать",
    "тридцать",
    "сорок",
    "пятьдесят",
    "шестьдесят",
    "семьдесят",
    "восемьдесят",
    "девяносто",
];
const TEENS: [&str; 10] = [
    "десять",
    "одиннадцать",
    "двенадцать",
    "тринадцать",
    "четырнадцать",
    "пятнадцать",
    "шестнадцать",
    "семнадцать",
    "восемнадцать",
    "девятнадцать",
];
const UNITS: [&str; 10] = [
    "",
    "один",
    "два",
    "три",
    "четыре",
    "пять",
    "шесть",
    "семь",
    "восемь",
    "девять",
];

/// The scales above units, smallest first, with their gender and forms for 1, 2–4, 5+.
const SCALES: [(Gender, [&str; 3]); 6] = [
    (Gender::Feminine, ["тысяча", "тысячи", "тысяч"]),
    (Gender::Masculine, ["миллион", "миллиона", "миллионов"]),
    (Gender::Masculine, ["миллиард", "миллиарда", "миллиардов"]),
    (Gender::Masculine, ["триллион", "триллиона", "триллионов"]),
    (
        Gender::Masculine,
        ["квадриллион", "квадриллиона", "квадриллионов"],
    ),
    (
        Gender::Masculine,
        ["квинтиллион", "квинтиллиона", "квинтиллионов"],
    ),
];

/// A positive number in words, agreeing with `gender` in its last group.
fn number_in_words(n: u64, gender: Gender) -> String {
    // Groups of three digits, units first.
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let mut words: Vec<&str> = Vec::new();
    for (i, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            continue;
        }
        let (group_gender, forms) = match i.checked_sub(1).and_then(|s| SCALES.get(s)) {
            Some((g, forms)) => (*g, Some(forms)),
            None => (gender, None),
        };
        group_in_words(group, group_gender, &mut words);
        if let Some(forms) = forms {
            words.push(plural(group, *forms));
        }
    }
    words.join(" ")
}

/// A number from 1 to 999 in words.
fn group_in_words(n: u64, gender: Gender, words: &mut Vec<&'static str>) {
    // Each index is below 10.
    let hundreds = (n / 100 % 10) as usize;
    let tens = (n / 10 % 10) as usize;
    let units = (n % 10) as usize;
    if hundreds > 0 {
        words.push(HUNDREDS[hundreds]);
    }
    if tens == 1 {
        words.push(TEENS[units]);
        return;
    }
    if tens > 1 {
        words.push(TENS[tens]);
    }
    match (units, gender) {
        (0, _) => {}
        (1, Gender::Feminine) => words.push("одна"),
        (2, Gender::Feminine) => words.push("две"),
        _ => words.push(UNITS[units]),
    }
}

/// The form of a noun after `n`: for 1 (21, 101…), for 2–4 (22…), for 5+ and 11–14.
fn plural(n: u64, forms: [&'static str; 3]) -> &'static str {
    let [one, few, many] = forms;
    match (n % 100, n % 10) {
        (11..=14, _) => many,
        (_, 1) => one,
        (_, 2..=4) => few,
        _ => many,
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
