use time::macros::date;

use super::*;

#[test]
fn eight_and_eleven_digits_parse_and_zero_means_none() {
    let o = Oktmo::parse("45348000").unwrap();
    assert_eq!(o.municipality(), "45348000");
    let o: Oktmo = "45348000101".parse().unwrap();
    assert_eq!(o.municipality(), "45348000");
    assert_eq!(o.to_string(), "45348000101");
    assert_eq!(Oktmo::parse_or_zero("0"), Ok(None));
    assert_eq!(
        Oktmo::parse_or_zero("45348000").unwrap().unwrap().as_str(),
        "45348000"
    );
}

#[test]
fn other_shapes_are_schema_refusals() {
    for (s, length) in [
        ("", 0),
        ("0", 1),
        ("4534800", 7),
        ("453480001", 9),
        ("453480001011", 12),
    ] {
        assert_eq!(Oktmo::parse(s), Err(OktmoError::Length { length }), "{s}");
    }
    assert_eq!(Oktmo::parse_or_zero("00"), Err(OktmoError::Length { length: 2 }));
    assert_eq!(
        Oktmo::parse("4534800O"),
        Err(OktmoError::NonDigit {
            position: 8,
            found: 'O'
        })
    );
    let e = Oktmo::parse("1").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(
        e.description_ru(),
        "Код ОКТМО состоит из 8 или 11 цифр либо равен 0, указано символов: 1"
    );
}

#[test]
fn a_new_charge_carries_eight_digits() {
    assert_eq!(Oktmo::parse("45348000").unwrap().check_for_charge(), Ok(()));
    let e = Oktmo::parse("45348000101")
        .unwrap()
        .check_for_charge()
        .unwrap_err();
    assert_eq!(e.code(), Code::Protocol(232));
    assert_eq!(e.description_ru(), "Некорректное значение кода по ОКТМО");
    assert_eq!(
        e.to_string(),
        "OKTMO 45348000101 has 11 digits; a new charge carries 8"
    );
}

#[test]
fn a_payment_from_25_april_2017_carries_eight_digits() {
    let eleven = Oktmo::parse("45348000101").unwrap();
    assert_eq!(eleven.check_for_payment(date!(2017 - 04 - 24)), Ok(()));
    let e = eleven.check_for_payment(date!(2017 - 04 - 25)).unwrap_err();
    assert_eq!(e.code(), Code::Protocol(335));
    assert_eq!(e.description_ru(), "Указано недопустимое значение кода по ОКТМО");
    assert_eq!(
        Oktmo::parse("45348000")
            .unwrap()
            .check_for_payment(date!(2021 - 07 - 01)),
        Ok(())
    );
}
