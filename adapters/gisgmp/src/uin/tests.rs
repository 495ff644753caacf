use std::path::PathBuf;

use super::*;

#[test]
fn valid_uins_parse_with_their_structure() {
    let uin = Uin::parse("32116102414550976332").unwrap();
    assert_eq!(uin.kind(), UinKind::KbkChapter);
    assert_eq!(uin.kbk_chapter(), Some("321"));
    assert_eq!(uin.control(), 2);
    assert_eq!(uin.urn(), None);
    assert_eq!(uin.to_string(), "32116102414550976332");

    let uin: Uin = "0355431000000000011629713".parse().unwrap();
    assert_eq!(uin.kind(), UinKind::Urn);
    assert_eq!(uin.kbk_chapter(), None);
    assert_eq!(uin.urn().as_deref(), Some("363c06"));
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
        Err(UinError::NonDigit {
            position: 20,
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
    assert_eq!(
        Uin::parse("٣2116102414550976332"),
        Err(UinError::NonDigit {
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
    assert_eq!(uin.urn().as_deref(), Some("ffffff"));
    let uin = Uin::with_check_digit(&format!("{:08}{}", 0x100_0000, "0".repeat(16))).unwrap();
    assert_eq!(uin.urn(), None);
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

/// `RSMEV_REFERENCE`, resolved against the workspace root when relative; `None` when unset.
///
/// # Panics
/// When it is set but unreadable: a conformance run that checks nothing must not pass.
fn reference_dir() -> Option<PathBuf> {
    let value = std::env::var_os("RSMEV_REFERENCE")?;
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = workspace.join(value);
    match std::fs::read_dir(&dir) {
        Ok(_) => Some(dir),
        Err(e) => panic!("RSMEV_REFERENCE={} is set but unreadable: {e}", dir.display()),
    }
}

#[test]
fn reference_test_vectors_agree() {
    let Some(reference) = reference_dir() else {
        eprintln!("reference_test_vectors_agree: RSMEV_REFERENCE is not set; vectors not checked");
        return;
    };
    let text = std::fs::read_to_string(reference.join("gisgmp/test-vectors.json"))
        .expect("gisgmp/test-vectors.json is readable");
    let vectors: serde_json::Value = serde_json::from_str(&text).expect("test vectors are JSON");
    let list = |key: &str| {
        vectors[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is a list"))
            .clone()
    };
    let text_of = |v: &serde_json::Value, key: &str| {
        v[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {v}"))
            .to_owned()
    };
    let number = |v: &serde_json::Value, key: &str| v[key].as_u64().map(|n| u8::try_from(n).expect("small"));

    let valid = list("uin_valid");
    assert_eq!(valid.len(), 11);
    for v in &valid {
        let s = text_of(v, "uin");
        let uin = Uin::parse(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
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

    let invalid = list("uin_invalid");
    assert_eq!(invalid.len(), 4);
    for v in &invalid {
        let s = text_of(v, "uin");
        let expected = number(v, "expected_control").expect("expected_control");
        let found = number(v, "actual_control").expect("actual_control");
        assert_eq!(
            Uin::parse(&s),
            Err(UinError::CheckDigit { expected, found }),
            "{s}"
        );
    }

    let urns = list("urn_to_uin_prefix");
    assert_eq!(urns.len(), 2);
    for v in &urns {
        let prefix = text_of(v, "decimal8");
        let uin = Uin::with_check_digit(&format!("{prefix}{}", "0".repeat(16))).unwrap();
        assert_eq!(uin.urn(), Some(text_of(v, "urn")), "{prefix}");
    }
}
