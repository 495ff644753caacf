use super::*;

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
