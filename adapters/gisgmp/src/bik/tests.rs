use proptest::prelude::*;

use super::*;

#[test]
fn biks_parse_with_their_conditional_numbers() {
    let bik = Bik::parse("044525225").unwrap();
    assert_eq!(bik.institution_number(), "225");
    assert_eq!(bik.settlement_centre_number(), "25");
    assert_eq!(bik.to_string(), "044525225");
    let tofk: Bik = "024501901".parse().unwrap();
    assert_eq!(tofk.settlement_centre_number(), "01");
}

#[test]
fn anything_but_nine_digits_is_a_schema_refusal() {
    assert_eq!(Bik::parse("04452522"), Err(BikError::Length { length: 8 }));
    assert_eq!(Bik::parse("0445252250"), Err(BikError::Length { length: 10 }));
    assert_eq!(
        Bik::parse("04452522O"),
        Err(BikError::NonDigit {
            position: 9,
            found: 'O'
        })
    );
    let e = Bik::parse("").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(e.to_string(), "a BIK has 9 digits, this one has 0 characters");
    assert_eq!(e.description_ru(), "БИК состоит из 9 цифр, указано символов: 0");
}

proptest! {
    #[test]
    fn nine_digits_always_parse(s in "[0-9]{9}") {
        prop_assert_eq!(Bik::parse(&s).map(|b| b.0), Ok(s));
    }
}
