use proptest::prelude::*;

use super::*;

#[test]
fn kpps_parse_with_their_parts() {
    let kpp = Kpp::parse("770542151").unwrap();
    assert_eq!(kpp.tax_office(), "7705");
    assert_eq!(kpp.reason(), "42");
    assert_eq!(kpp.to_string(), "770542151");
    // Positions 5 and 6 may be capital Latin letters.
    let kpp: Kpp = "7701AB001".parse().unwrap();
    assert_eq!(kpp.reason(), "AB");
    assert!(Kpp::parse("010101001").is_ok());
}

#[test]
fn every_xsd_rule_is_a_schema_refusal() {
    assert_eq!(Kpp::parse("77054215"), Err(KppError::Length { length: 8 }));
    assert_eq!(Kpp::parse("7705421510"), Err(KppError::Length { length: 10 }));
    for (s, position, found) in [
        ("7701ab001", 5, 'a'),
        ("7701AЖ001", 6, 'Ж'),
        ("A70101001", 1, 'A'),
        ("7701010X1", 8, 'X'),
        ("7701-1001", 5, '-'),
    ] {
        assert_eq!(Kpp::parse(s), Err(KppError::Character { position, found }), "{s}");
    }
    assert_eq!(Kpp::parse("000101001"), Err(KppError::LeadingZeros));
    let e = Kpp::parse("7701ab001").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(
        e.to_string(),
        "KPP character 5 is 'a'; positions 5 and 6 hold A-Z or 0-9, the others digits"
    );
    assert!(
        e.description_ru()
            .starts_with("Недопустимый символ 'a' в позиции 5 КПП")
    );
}

proptest! {
    #[test]
    fn the_pattern_is_followed_exactly(s in "[0-9A-Za-z]{9}") {
        let b = s.as_bytes();
        let expected = b.iter().enumerate().all(|(i, c)| match i {
            4 | 5 => c.is_ascii_digit() || c.is_ascii_uppercase(),
            _ => c.is_ascii_digit(),
        }) && !s.starts_with("00");
        prop_assert_eq!(Kpp::parse(&s).is_ok(), expected);
    }
}
