use proptest::prelude::*;

use super::*;

#[test]
fn amounts_are_read_as_xsd_unsigned_long() {
    for (s, kopecks) in [
        ("500000", 500_000),
        ("0", 0),
        ("+20", 20),
        ("000035000", 35_000),
        ("-0", 0),
        ("-000", 0),
        (" 5000\n", 5000),
        ("\t+0\r", 0),
        ("18446744073709551615", u64::MAX),
        ("0018446744073709551615", u64::MAX),
    ] {
        assert_eq!(Kopecks::parse(s), Ok(Kopecks(kopecks)), "{s:?}");
    }
    let amount: Kopecks = "500001".parse().unwrap();
    assert_eq!((amount.rubles(), amount.kopecks()), (5000, 1));
    assert_eq!(amount.to_string(), "500001");
    assert_eq!(amount.get(), 500_001);
    assert_eq!(Kopecks::from(7), Kopecks(7));
}

#[test]
fn negatives_fractions_and_the_rest_are_refused() {
    for (s, e) in [
        ("", AmountError::NoDigits),
        ("  ", AmountError::NoDigits),
        ("+", AmountError::NoDigits),
        ("-", AmountError::NoDigits),
        ("-1", AmountError::Negative),
        ("-0001", AmountError::Negative),
        ("-18446744073709551616", AmountError::Negative),
        ("100.00", AmountError::Fraction),
        ("100.", AmountError::Fraction),
        (".5", AmountError::Fraction),
        ("-1.5", AmountError::Fraction),
        (
            "1e3",
            AmountError::Character {
                position: 2,
                found: 'e',
            },
        ),
        (
            "+-1",
            AmountError::Character {
                position: 2,
                found: '-',
            },
        ),
        (
            "1 000",
            AmountError::Character {
                position: 2,
                found: ' ',
            },
        ),
        (
            "1,5",
            AmountError::Character {
                position: 2,
                found: ',',
            },
        ),
        (
            "١٢",
            AmountError::Character {
                position: 1,
                found: '١',
            },
        ),
        ("18446744073709551616", AmountError::TooLarge),
        ("99999999999999999999999", AmountError::TooLarge),
    ] {
        assert_eq!(Kopecks::parse(s), Err(e.clone()), "{s:?}");
        assert_eq!(e.code(), Code::Schema);
    }
    assert_eq!(
        AmountError::Fraction.description_ru(),
        "Сумма указывается целым числом копеек, без дробной части"
    );
    assert_eq!(AmountError::Negative.to_string(), "an amount cannot be negative");
}

#[test]
fn a_charge_is_zero_exactly_when_prior() {
    assert_eq!(
        check_charge_amount(Kopecks(500_000), ChargeOrigin::Ordinary),
        Ok(())
    );
    assert_eq!(check_charge_amount(Kopecks(1), ChargeOrigin::Temp), Ok(()));
    assert_eq!(check_charge_amount(Kopecks(0), ChargeOrigin::Prior), Ok(()));
    let e = check_charge_amount(Kopecks(0), ChargeOrigin::Ordinary).unwrap_err();
    assert_eq!(e, ChargeAmountError::Zero);
    assert_eq!(e.code(), Code::Protocol(40));
    assert_eq!(
        e.description_ru(),
        "В извещении о начислении указана некорректная сумма"
    );
    assert_eq!(
        check_charge_amount(Kopecks(0), ChargeOrigin::Temp),
        Err(ChargeAmountError::Zero)
    );
    let e = check_charge_amount(Kopecks(5), ChargeOrigin::Prior).unwrap_err();
    assert_eq!(e, ChargeAmountError::PriorNotZero { amount: Kopecks(5) });
    assert_eq!(e.to_string(), "a prior charge has the amount 0, not 5");
}

#[test]
fn a_payment_is_never_zero() {
    assert_eq!(check_payment_amount(Kopecks(20)), Ok(()));
    let e = check_payment_amount(Kopecks(0)).unwrap_err();
    assert_eq!(e.code(), Code::Protocol(32));
    assert_eq!(
        e.description_ru(),
        "Извещение о приеме к исполнению распоряжения имеет нулевую сумму платежа"
    );
}

proptest! {
    #[test]
    fn every_u64_round_trips(n in any::<u64>(), zeros in 0usize..5, plus in any::<bool>()) {
        let s = format!("{}{}{n}", if plus { "+" } else { "" }, "0".repeat(zeros));
        prop_assert_eq!(Kopecks::parse(&s), Ok(Kopecks(n)));
        prop_assert_eq!(Kopecks::parse(&Kopecks(n).to_string()), Ok(Kopecks(n)));
    }

    #[test]
    fn negative_amounts_are_refused(n in 1u64..) {
        prop_assert_eq!(Kopecks::parse(&format!("-{n}")), Err(AmountError::Negative));
    }

    #[test]
    fn decimals_are_refused(whole in any::<u32>(), frac in 0u32..100) {
        prop_assert_eq!(Kopecks::parse(&format!("{whole}.{frac:02}")), Err(AmountError::Fraction));
    }
}
