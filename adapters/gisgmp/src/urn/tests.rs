use proptest::prelude::*;

use super::*;

#[test]
fn urns_are_six_hex_digits_kept_in_lowercase() {
    let urn = Urn::parse("304A7C").unwrap();
    assert_eq!(urn.as_str(), "304a7c");
    assert_eq!(urn, "304a7c".parse().unwrap());
    assert_eq!(urn.to_string(), "304a7c");
    assert_eq!(Urn::parse("3eb6e5").unwrap().value(), 0x3e_b6e5);
}

#[test]
fn the_official_example_converts_both_ways() {
    // РП ВС «Прием начисления» §5.2.2: aa11b4 → 11145652.
    let urn = Urn::parse("aa11b4").unwrap();
    assert_eq!(urn.decimal8(), "11145652");
    assert_eq!(Urn::from_decimal8("11145652"), Some(urn));
    assert_eq!(Urn::parse("000001").unwrap().decimal8(), "00000001");
    assert_eq!(Urn::from_decimal8("16777215").unwrap().as_str(), "ffffff");
    assert_eq!(Urn::from_decimal8("16777216"), None);
    assert_eq!(Urn::from_decimal8("1114565"), None);
    assert_eq!(Urn::from_decimal8("1114565x"), None);
}

#[test]
fn malformed_urns_are_schema_refusals() {
    assert_eq!(Urn::parse("3eb6e"), Err(UrnError::Length { length: 5 }));
    assert_eq!(Urn::parse("3eb6e5a"), Err(UrnError::Length { length: 7 }));
    assert_eq!(
        Urn::parse("ж3eb6e"),
        Err(UrnError::NotHex {
            position: 1,
            found: 'ж'
        })
    );
    assert_eq!(
        Urn::parse("3eb6eg"),
        Err(UrnError::NotHex {
            position: 6,
            found: 'g'
        })
    );
    let e = Urn::parse("3eb6eg").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(e.to_string(), "URN character 6 is 'g', not a hexadecimal digit");
    assert_eq!(
        e.description_ru(),
        "Символ 'g' в позиции 6 УРН не является шестнадцатеричной цифрой"
    );
}

proptest! {
    #[test]
    fn decimal8_round_trips(value in 0u32..=0xff_ffff) {
        let urn = Urn::parse(&format!("{value:06X}")).unwrap();
        prop_assert_eq!(urn.value(), value);
        prop_assert_eq!(Urn::from_decimal8(&urn.decimal8()), Some(urn));
    }
}
