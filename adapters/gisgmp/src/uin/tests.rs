use proptest::prelude::*;

use super::*;
use crate::kbk::Kbk;
use crate::reference;

#[test]
fn valid_uins_parse_with_their_structure() {
    let uin = Uin::parse("32116102414550976332").unwrap();
    assert_eq!(uin.kind(), UinKind::KbkChapter);
    assert_eq!(uin.kbk_chapter(), Some("321"));
    assert_eq!(uin.control(), 2);
    assert_eq!(uin.urn(), None);
    assert_eq!(uin.unique_number(), "1610241455097633");
    assert_eq!(uin.to_string(), "32116102414550976332");

    let uin: Uin = "0355431000000000011629713".parse().unwrap();
    assert_eq!(uin.kind(), UinKind::Urn);
    assert_eq!(uin.kbk_chapter(), None);
    assert_eq!(uin.urn(), Urn::parse("363c06").ok());
    assert_eq!(uin.unique_number(), "0000000001162971");
    assert_eq!(uin.control(), 3);
}

#[test]
fn first_pass_remainder_of_ten_uses_the_shifted_weights() {
    // First pass 208 mod 11 = 10, second pass 234 mod 11 = 3.
    let body = "035543100000000001162971";
    assert_eq!(Uin::check_digit(body), Ok(3));
    assert_eq!(
        Uin::with_check_digit(body).unwrap().as_str(),
        "0355431000000000011629713"
    );
}

#[test]
fn two_remainders_of_ten_give_zero() {
    assert_eq!(Uin::check_digit("1881906200951265097"), Ok(0));
    assert!(Uin::parse("18819062009512650970").is_ok());
    assert_eq!(
        Uin::parse("18819062009512650975"),
        Err(UinError::CheckDigit {
            expected: 0,
            found: 5
        })
    );
}

#[test]
fn wrong_lengths_are_refused_before_anything_else() {
    for (s, length) in [
        ("", 0),
        ("1234567890123456789", 19),
        ("123456789012345678901", 21),
        ("1".repeat(24).as_str(), 24),
        ("1".repeat(26).as_str(), 26),
    ] {
        assert_eq!(Uin::parse(s), Err(UinError::Length { length }), "{s}");
    }
    // Length counts characters, not bytes.
    assert_eq!(
        Uin::parse("УИН45678901234567"),
        Err(UinError::Length { length: 17 })
    );
}

#[test]
fn a_letter_in_a_new_uin_is_refused_with_its_position() {
    assert_eq!(
        Uin::parse("3211610241455097633A"),
        Err(UinError::Letter {
            position: 20,
            found: 'A'
        })
    );
    assert_eq!(
        Uin::parse("З2116102414550976332"),
        Err(UinError::Letter {
            position: 1,
            found: 'З'
        })
    );
    // What the XSD's \w{20} refuses is no letter but a schema error.
    assert_eq!(
        Uin::parse("32116102414550976-32"),
        Err(UinError::NonDigit {
            position: 18,
            found: '-'
        })
    );
    // Any non-digit in 25 characters breaks the XSD's \d{25}.
    assert_eq!(
        Uin::parse("035543100000000001162971A"),
        Err(UinError::NonDigit {
            position: 25,
            found: 'A'
        })
    );
    assert_eq!(
        Uin::parse("03554310000000000116297 3"),
        Err(UinError::NonDigit {
            position: 24,
            found: ' '
        })
    );
    // XSD's \w admits other scripts' digits; a new UIN holds ASCII digits only.
    assert_eq!(
        Uin::parse("٣2116102414550976332"),
        Err(UinError::Letter {
            position: 1,
            found: '٣'
        })
    );
}

#[test]
fn check_digit_needs_a_body_of_19_or_24_digits() {
    assert_eq!(Uin::check_digit("12345"), Err(UinError::BodyLength { length: 5 }));
    assert_eq!(
        Uin::check_digit("32116102414550976332"),
        Err(UinError::BodyLength { length: 20 })
    );
    assert_eq!(
        Uin::with_check_digit("3211610241455097633x"),
        Err(UinError::BodyLength { length: 20 })
    );
    assert_eq!(
        Uin::with_check_digit("321161024145509763x"),
        Err(UinError::NonDigit {
            position: 19,
            found: 'x'
        })
    );
}

#[test]
fn every_issued_uin_parses_and_every_other_last_digit_does_not() {
    for body in [
        "1881017071234567890",
        "000000000000000000000000",
        "999999999999999999999999",
        "3211610241455097633",
    ] {
        let uin = Uin::with_check_digit(body).unwrap();
        assert_eq!(Uin::parse(uin.as_str()).as_ref(), Ok(&uin));
        let good = uin.control();
        for d in (0..=9u8).filter(|&d| d != good) {
            assert_eq!(
                Uin::parse(&format!("{body}{d}")),
                Err(UinError::CheckDigit {
                    expected: good,
                    found: d
                })
            );
        }
    }
}

#[test]
fn urn_is_decoded_only_when_it_fits_six_hex_digits() {
    let uin = Uin::with_check_digit(&format!("{:08}{}", 0xff_ffff, "0".repeat(16))).unwrap();
    assert_eq!(uin.urn(), Urn::parse("ffffff").ok());
    let uin = Uin::with_check_digit(&format!("{:08}{}", 0x100_0000, "0".repeat(16))).unwrap();
    assert_eq!(uin.urn(), None);
}

#[test]
fn a_25_digit_uin_must_start_with_the_forming_participants_urn() {
    let uin = Uin::parse("0355431000000000011629713").unwrap();
    let gis_gmp = Urn::parse("363C06").unwrap();
    assert_eq!(uin.check_urn(&gis_gmp), Ok(()));
    let other = Urn::parse("aa11b4").unwrap();
    let e = uin.check_urn(&other).unwrap_err();
    assert_eq!(e.found, Some(gis_gmp));
    assert_eq!(e.code(), Code::Protocol(10));
    assert_eq!(e.description_ru(), "Некорректный УРН в УИН");
    assert_eq!(
        e.to_string(),
        "UIN 0355431000000000011629713 starts with the URN 363c06, not with the URN aa11b4 (11145652)"
    );

    // First 8 digits beyond ffffff name no URN at all.
    let uin = Uin::with_check_digit(&format!("{:08}{}", 0x100_0000, "0".repeat(16))).unwrap();
    let e = uin.check_urn(&other).unwrap_err();
    assert_eq!(e.found, None);
    assert!(
        e.to_string().contains("starts with digits that name no URN"),
        "{e}"
    );

    // A 20-digit UIN carries a KBK chapter, no URN: nothing to compare.
    assert_eq!(
        Uin::parse("32116102414550976332").unwrap().check_urn(&other),
        Ok(())
    );
}

#[test]
fn a_20_digit_uin_must_start_with_the_administrators_chapter_and_not_be_the_kbk() {
    let uin = Uin::parse("18817072711544879499").unwrap();
    uin.check_chapter(&KbkChapter::parse("188").unwrap()).unwrap();
    let e = uin.check_chapter(&KbkChapter::parse("182").unwrap()).unwrap_err();
    assert_eq!(
        e,
        UinKbkError::Chapter {
            uin: uin.clone(),
            expected: "182".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "UIN 18817072711544879499 starts with the KBK chapter 188, not with 182"
    );
    assert_eq!(e.code(), Code::Unlisted);
    assert!(e.description_ru().contains("188"), "{}", e.description_ru());

    uin.check_kbk(&Kbk::parse("18811601121010001140").unwrap())
        .unwrap();
    let e = uin
        .check_kbk(&Kbk::parse("32111601121010001140").unwrap())
        .unwrap_err();
    assert!(
        matches!(&e, UinKbkError::Chapter { expected, .. } if expected == "321"),
        "{e}"
    );
    // A KBK of digits only whose last digit happens to be the check digit.
    let same = Uin::with_check_digit("1881160112101000114").unwrap();
    let e = same.check_kbk(&Kbk::parse(same.as_str()).unwrap()).unwrap_err();
    assert_eq!(e, UinKbkError::SameAsKbk { uin: same.clone() });
    assert_eq!(e.description_ru(), "УИН совпадает с КБК начисления");

    // A 25-digit UIN carries no chapter: these checks are not its.
    let regional = Uin::parse("0355431000000000011629713").unwrap();
    regional
        .check_chapter(&KbkChapter::parse("188").unwrap())
        .unwrap();
    regional
        .check_kbk(&Kbk::parse("18811601121010001140").unwrap())
        .unwrap();
}

#[test]
fn the_structure_must_be_the_participants() {
    let federal = Uin::parse("18817072416285972102").unwrap();
    let regional = Uin::parse("0355431000000000011629713").unwrap();
    assert_eq!(federal.check_kind(UinKind::KbkChapter), Ok(()));
    assert_eq!(regional.check_kind(UinKind::Urn), Ok(()));
    let e = federal.check_kind(UinKind::Urn).unwrap_err();
    assert_eq!(e.code(), Code::Protocol(51));
    assert_eq!(
        e.description_ru(),
        "Длина УИН не соответствует требованиям к порядку его формирования"
    );
    assert_eq!(
        e.to_string(),
        "UIN 18817072416285972102 has 20 digits; this participant forms UINs of 25 digits"
    );
    assert!(regional.check_kind(UinKind::KbkChapter).is_err());
}

#[test]
fn each_uin_error_carries_the_formats_code() {
    let cases: [(UinError, Code, &str); 5] = [
        (
            UinError::CheckDigit {
                expected: 0,
                found: 5,
            },
            Code::Protocol(234),
            "Контрольный разряд УИН имеет некорректное значение",
        ),
        (
            UinError::Letter {
                position: 1,
                found: 'A',
            },
            Code::Protocol(238),
            "Наличие букв в УИН недопустимо",
        ),
        (
            UinError::Length { length: 21 },
            Code::Schema,
            "УИН состоит из 20 или 25 цифр, указано символов: 21",
        ),
        (
            UinError::NonDigit {
                position: 2,
                found: '-',
            },
            Code::Schema,
            "Символ '-' в позиции 2 УИН не является цифрой",
        ),
        (
            UinError::BodyLength { length: 5 },
            Code::Schema,
            "Для расчета контрольного разряда нужны 19 или 24 цифры, указано символов: 5",
        ),
    ];
    for (e, code, ru) in cases {
        assert_eq!(e.code(), code, "{e}");
        assert_eq!(e.description_ru(), ru, "{e}");
    }
}

#[test]
fn errors_read_well() {
    assert_eq!(
        UinError::CheckDigit {
            expected: 0,
            found: 5
        }
        .to_string(),
        "UIN check digit is 5, expected 0"
    );
    assert_eq!(
        UinError::NonDigit {
            position: 3,
            found: 'Z'
        }
        .to_string(),
        "UIN character 3 is 'Z'; a UIN holds digits only"
    );
}

#[test]
fn reference_test_vectors_agree() {
    let Some(vectors) = reference::vectors("uin reference_test_vectors_agree") else {
        return;
    };
    let number = |v: &serde_json::Value, key: &str| v[key].as_u64().map(|n| u8::try_from(n).expect("small"));

    let valid = reference::category(&vectors, "uin_valid");
    assert_eq!(valid.len(), 11);
    for v in valid {
        let s = reference::text(v, "uin");
        let uin = Uin::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(Some(uin.control()), number(v, "control"), "{s}");
        assert_eq!(Some(uin.as_str().len() as u64), v["length"].as_u64(), "{s}");
        let body = digits(&s[..s.len() - 1]).unwrap();
        assert_eq!(Some(remainder(&body, 1)), number(v, "rem1"), "{s}");
        assert_eq!(
            v["rem2"].as_u64().map(|_| remainder(&body, 3)),
            number(v, "rem2"),
            "{s}"
        );
    }

    let invalid = reference::category(&vectors, "uin_invalid");
    assert_eq!(invalid.len(), 4);
    for v in invalid {
        let s = reference::text(v, "uin");
        let expected = number(v, "expected_control").expect("expected_control");
        let found = number(v, "actual_control").expect("actual_control");
        let e = Uin::parse(s).unwrap_err();
        assert_eq!(e, UinError::CheckDigit { expected, found }, "{s}");
        assert_eq!(e.code(), Code::Protocol(234), "{s}");
    }

    let urns = reference::category(&vectors, "urn_to_uin_prefix");
    assert_eq!(urns.len(), 2);
    for v in urns {
        let prefix = reference::text(v, "decimal8");
        let urn = Urn::parse(reference::text(v, "urn")).unwrap();
        assert_eq!(urn.decimal8(), prefix);
        let uin = Uin::with_check_digit(&format!("{prefix}{}", "0".repeat(16))).unwrap();
        assert_eq!(uin.urn().as_ref(), Some(&urn), "{prefix}");
        assert_eq!(uin.check_urn(&urn), Ok(()));
    }
}

proptest! {
    #[test]
    fn every_body_gets_exactly_one_accepted_check_digit(body in "[0-9]{19}|[0-9]{24}") {
        let uin = Uin::with_check_digit(&body).unwrap();
        prop_assert_eq!(Uin::parse(uin.as_str()), Ok(uin.clone()));
        let accepted = (0..=9u8)
            .filter(|d| Uin::parse(&format!("{body}{d}")).is_ok())
            .collect::<Vec<_>>();
        prop_assert_eq!(accepted, vec![uin.control()]);
    }

    #[test]
    fn one_changed_digit_is_caught_when_no_remainder_is_ten(
        body in "[0-9]{19}",
        position in 0usize..19,
        delta in 1u8..=9,
    ) {
        // Weights 1..=10 are all prime to 11, so changing one digit changes the first remainder;
        // only a remainder of 10 (which falls back to the second pass) can hide the change.
        let digits = digits(&body).unwrap();
        let mut changed = digits.clone();
        changed[position] = (changed[position] + delta) % 10;
        prop_assume!(remainder(&digits, 1) != 10 && remainder(&changed, 1) != 10);
        let changed: String = changed.iter().map(|d| char::from(b'0' + d)).collect();
        let uin = Uin::with_check_digit(&body).unwrap();
        let forged = format!("{changed}{}", uin.control());
        let caught = matches!(Uin::parse(&forged), Err(UinError::CheckDigit { .. }));
        prop_assert!(caught, "{} was accepted", forged);
    }

    #[test]
    fn urn_uins_name_their_urn(value in 0u32..=0xff_ffff, rest in "[0-9]{16}") {
        let urn = Urn::parse(&format!("{value:06x}")).unwrap();
        let uin = Uin::with_check_digit(&format!("{}{rest}", urn.decimal8())).unwrap();
        prop_assert_eq!(uin.kind(), UinKind::Urn);
        prop_assert_eq!(uin.check_urn(&urn), Ok(()));
        prop_assert_eq!(uin.unique_number(), rest.as_str());
    }
}
