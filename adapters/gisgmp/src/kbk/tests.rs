use proptest::prelude::*;

use super::*;

#[test]
fn kbks_parse_with_their_chapter() {
    let kbk = Kbk::parse("32111301031016000130").unwrap();
    assert_eq!(kbk.chapter(), "321");
    assert_eq!(kbk.to_string(), "32111301031016000130");
    // Letters of both alphabets are allowed; the chapter counts characters, not bytes.
    let kbk: Kbk = "ЖЖЖ1130103101600013Z".parse().unwrap();
    assert_eq!(kbk.chapter(), "ЖЖЖ");
    assert_eq!(Kbk::parse_or_zero("0"), Ok(None));
    assert!(Kbk::parse_or_zero("18811630020016000140").unwrap().is_some());
}

#[test]
fn twenty_zeros_get_code_233() {
    let e = Kbk::parse(&"0".repeat(20)).unwrap_err();
    assert_eq!(e, KbkError::AllZeros);
    assert_eq!(e.code(), Code::Protocol(233));
    assert_eq!(e.description_ru(), "Некорректное значение КБК");
}

#[test]
fn other_shapes_are_schema_refusals() {
    assert_eq!(
        Kbk::parse("3211130103101600013"),
        Err(KbkError::Length { length: 19 })
    );
    assert_eq!(Kbk::parse("00"), Err(KbkError::Length { length: 2 }));
    for (s, position, found) in [
        ("321113010310160001-0", 19, '-'),
        ("Ё2111301031016000130", 1, 'Ё'),
        ("32111301031016000 30", 18, ' '),
    ] {
        assert_eq!(Kbk::parse(s), Err(KbkError::Character { position, found }), "{s}");
    }
    let e = Kbk::parse("1").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(
        e.description_ru(),
        "КБК состоит из 20 символов либо равен 0, указано символов: 1"
    );
}

proptest! {
    #[test]
    fn twenty_pattern_characters_parse_unless_all_zeros(s in "[0-9a-zA-Zа-я]{20}") {
        prop_assert_eq!(Kbk::parse(&s).is_ok(), s.bytes().any(|b| b != b'0'));
    }
}
