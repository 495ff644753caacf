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
    // The days themselves are the gisgmp crate's (`views::day_range`, tested there); here, that
    // the flags say so in their own words.
    let args = ChargeFilterArgs {
        administrator: None,
        payers: Vec::new(),
        uins: Vec::new(),
        statuses: Vec::new(),
        from: Some(date!(2021 - 06 - 30)),
        to: Some(date!(2021 - 06 - 30)),
        min_amount: None,
        max_amount: None,
        annulled: false,
    };
    let q = charge_query(&args).unwrap();
    assert_eq!(q.from.as_deref(), Some("2021-06-29T21:00:00.000000Z"));
    assert_eq!(q.to.as_deref(), Some("2021-06-30T20:59:59.999999Z"));
    let reversed = ChargeFilterArgs {
        from: Some(date!(2021 - 07 - 02)),
        to: Some(date!(2021 - 07 - 01)),
        ..args
    };
    assert_eq!(
        charge_query(&reversed).unwrap_err().to_string(),
        "--from 2021-07-02 is after --to 2021-07-01: no day is between them"
    );
    let amounts = ChargeFilterArgs {
        from: None,
        to: None,
        min_amount: Some(5),
        max_amount: Some(4),
        ..reversed
    };
    assert_eq!(
        charge_query(&amounts).unwrap_err().to_string(),
        "--min-amount 5 is above --max-amount 4: no charge can match"
    );
}

#[test]
fn the_columns_are_the_fields_of_the_shared_rows() {
    use rsmev_gisgmp::views::{CHARGE_FIELDS, PAYMENT_FIELDS, QUITTANCE_FIELDS};
    for (columns, fields) in [
        (CHARGE_COLUMNS, CHARGE_FIELDS),
        (PAYMENT_COLUMNS, PAYMENT_FIELDS),
        (QUITTANCE_COLUMNS, QUITTANCE_FIELDS),
    ] {
        let names: Vec<&str> = columns.iter().map(|c| c.field).collect();
        assert_eq!(names, fields);
    }
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
