use proptest::prelude::*;

use super::*;

/// `body` completed with the check digits it calls for.
fn complete(body: &str) -> String {
    let mut digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    let weights: &[&[u8]] = if digits.len() == 9 {
        &[&WEIGHTS_10]
    } else {
        &[&WEIGHTS_11, &WEIGHTS_12]
    };
    for w in weights {
        digits.push(check_digit(&digits, w));
    }
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

#[test]
fn organisation_and_person_inns_parse_with_their_kind() {
    let inn = Inn::parse("7703461103").unwrap();
    assert_eq!(inn.kind(), InnKind::LegalEntity);
    assert_eq!(inn.tax_office(), "7703");
    assert_eq!(inn.check_digits(), Ok(()));
    assert_eq!(inn.to_string(), "7703461103");

    // A person's INN: both check digits hold.
    let inn: Inn = "500100732259".parse().unwrap();
    assert_eq!(inn.kind(), InnKind::Individual);
    assert_eq!(inn.check_digits(), Ok(()));
}

#[test]
fn the_xsd_rules_are_refused_as_schema_errors() {
    assert_eq!(Inn::parse("770346110"), Err(InnError::Length { length: 9 }));
    assert_eq!(Inn::parse("77034611031"), Err(InnError::Length { length: 11 }));
    assert_eq!(
        Inn::parse("77034б1103"),
        Err(InnError::NonDigit {
            position: 6,
            found: 'б'
        })
    );
    assert_eq!(Inn::parse("0012345678"), Err(InnError::LeadingZeros));
    assert_eq!(Inn::parse("001234567890"), Err(InnError::LeadingZeros));
    // One zero is fine.
    assert!(Inn::parse("0112345678").is_ok());
    assert_eq!(
        Inn::parse_legal_entity("500100732259"),
        Err(InnError::NotLegalEntity { length: 12 })
    );
    assert!(Inn::parse_legal_entity("7703461103").is_ok());
    for e in [InnError::LeadingZeros, InnError::Length { length: 1 }] {
        assert_eq!(e.code(), Code::Schema);
    }
    assert_eq!(
        InnError::LeadingZeros.description_ru(),
        "Первые две цифры ИНН не могут одновременно быть равны нулю"
    );
}

#[test]
fn wrong_check_digits_are_found_but_unlisted() {
    // The payee of the official import-charges etalon: GIS GMP accepted it.
    let inn = Inn::parse("7705401341").unwrap();
    let e = inn.check_digits().unwrap_err();
    assert_eq!((e.position, e.expected, e.found), (10, 0, 1));
    assert_eq!(e.code(), Code::Unlisted);
    assert_eq!(
        e.to_string(),
        "INN 7705401341 has 1 at position 10, its check digit should be 0"
    );
    assert_eq!(
        e.description_ru(),
        "Контрольная цифра ИНН 7705401341 в позиции 10 равна 1, ожидается 0"
    );

    // A person's INN: the 11th digit is checked first, then the 12th.
    let e = Inn::parse("500100732269").unwrap().check_digits().unwrap_err();
    assert_eq!((e.position, e.expected, e.found), (11, 5, 6));
    let e = Inn::parse("500100732258").unwrap().check_digits().unwrap_err();
    assert_eq!((e.position, e.expected, e.found), (12, 9, 8));
}

proptest! {
    #[test]
    fn completed_inns_pass_and_a_changed_check_digit_fails(
        body in "[1-9][0-9]{8}|[1-9][0-9]{9}",
        delta in 1u8..=9,
    ) {
        let full = complete(&body);
        let inn = Inn::parse(&full).unwrap();
        prop_assert_eq!(inn.check_digits(), Ok(()));
        let mut bytes = full.into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = b'0' + (bytes[last] - b'0' + delta) % 10;
        let forged = Inn::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
        prop_assert!(forged.check_digits().is_err());
    }

    #[test]
    fn only_ten_or_twelve_digits_parse(s in "[0-9]{0,14}") {
        let expected = (s.len() == 10 || s.len() == 12) && !s.starts_with("00");
        prop_assert_eq!(Inn::parse(&s).is_ok(), expected);
    }
}
