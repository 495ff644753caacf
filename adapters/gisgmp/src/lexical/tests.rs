use super::*;

#[test]
fn dates_must_pass_the_mask_and_exist() {
    assert_eq!(
        ddmmyyyy("01072021"),
        Date::from_calendar_date(2021, Month::July, 1).ok()
    );
    assert!(ddmmyyyy_mask("31022021"));
    assert_eq!(ddmmyyyy("31022021"), None);
    assert_eq!(ddmmyyyy("29022020").map(|d| d.day()), Some(29));
    assert_eq!(ddmmyyyy("29022021"), None);
    for bad in [
        "00012021", "32012021", "01002021", "01132021", "0107202", "0107202x", "01-07-21",
    ] {
        assert!(!ddmmyyyy_mask(bad), "{bad}");
        assert_eq!(ddmmyyyy(bad), None, "{bad}");
    }
}

#[test]
fn word_characters_follow_the_xsd_class() {
    for c in ['a', 'Z', '0', 'ж', 'Ё', '+', '$', '٣'] {
        assert!(is_xsd_word(c), "{c:?}");
    }
    for c in [' ', '_', '-', '.', ',', '"', '\t', '\u{0}', '\u{a0}'] {
        assert!(!is_xsd_word(c), "{c:?}");
    }
}

#[test]
fn collapse_trims_only_xml_whitespace() {
    assert_eq!(collapse(" \t\r\n12\n"), "12");
    assert_eq!(collapse("\u{a0}12"), "\u{a0}12");
}
