use time::macros::{date, datetime};

use super::*;

const COLUMNS: &[Column] = &[
    shown("uin", "UIN"),
    shown("amount", "AMOUNT"),
    hidden("when"),
    shown("note", "NOTE"),
];

fn listing() -> Listing {
    Listing {
        columns: COLUMNS,
        rows: vec![
            vec![
                Value::text("32100000000000000018"),
                Value::Kopecks(120_050),
                Value::Moment(datetime!(2021-06-30 21:30 UTC)),
                Value::text("Плата, \"срочно\"\nвторая строка"),
            ],
            vec![
                Value::text("32100000000000000026"),
                Value::Kopecks(-5),
                Value::Absent,
                Value::Flag(true),
            ],
        ],
    }
}

#[test]
fn the_table_shows_roubles_and_its_columns_only_one_line_a_record() {
    assert_eq!(
        listing().render(ListFormat::Table),
        "UIN                   AMOUNT   NOTE\n\
         --------------------  -------  -----------------------------\n\
         32100000000000000018  1200.50  Плата, \"срочно\" вторая строка\n\
         32100000000000000026  -0.05    yes\n"
    );
}

#[test]
fn csv_is_rfc_4180_with_every_field_and_kopecks() {
    assert_eq!(
        listing().render(ListFormat::Csv),
        "uin,amount,when,note\r\n\
         32100000000000000018,120050,2021-07-01T00:30:00.000+03:00,\"Плата, \"\"срочно\"\"\nвторая строка\"\r\n\
         32100000000000000026,-5,,true\r\n"
    );
}

#[test]
fn json_is_an_array_of_objects_with_integer_kopecks_and_nulls() {
    let json = listing().render(ListFormat::Json);
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        parsed,
        serde_json::json!([
            {"uin": "32100000000000000018", "amount": 120050, "when": "2021-07-01T00:30:00.000+03:00",
             "note": "Плата, \"срочно\"\nвторая строка"},
            {"uin": "32100000000000000026", "amount": -5, "when": null, "note": true},
        ])
    );
    // The keys in the columns' order.
    assert!(json.find("\"uin\"") < json.find("\"amount\""), "{json}");
    let empty = Listing {
        columns: COLUMNS,
        rows: Vec::new(),
    };
    assert_eq!(empty.render(ListFormat::Json), "[]\n");
    assert_eq!(empty.render(ListFormat::Csv), "uin,amount,when,note\r\n");
}

#[test]
fn days_are_moscow_days_inclusive_and_refused_the_wrong_way_round() {
    let (from, to) = day_range(Some(date!(2021 - 06 - 30)), Some(date!(2021 - 06 - 30))).unwrap();
    assert_eq!(from.as_deref(), Some("2021-06-29T21:00:00.000000Z"));
    assert_eq!(to.as_deref(), Some("2021-06-30T20:59:59.999999Z"));
    assert_eq!(day_range(None, None).unwrap(), (None, None));
    let e = day_range(Some(date!(2021 - 07 - 02)), Some(date!(2021 - 07 - 01))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--from 2021-07-02 is after --to 2021-07-01: no day is between them"
    );
}

#[test]
fn a_sort_asked_for_runs_ascending_unless_desc_and_none_is_newest_first() {
    let asked = order(Some(ChargeSort::Amount), ChargeSort::BillDate, false);
    assert_eq!(
        (asked.by, asked.direction),
        (ChargeSort::Amount, Direction::Ascending)
    );
    let asked = order(Some(ChargeSort::Amount), ChargeSort::BillDate, true);
    assert_eq!(asked.direction, Direction::Descending);
    let default = order(None, ChargeSort::BillDate, false);
    assert_eq!(
        (default.by, default.direction),
        (ChargeSort::BillDate, Direction::Descending)
    );
}
