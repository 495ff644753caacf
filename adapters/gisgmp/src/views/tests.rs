use time::macros::{date, datetime};

use super::*;

#[test]
fn days_are_moscow_days_inclusive_and_refused_the_wrong_way_round() {
    let (from, to) = day_range(Some(date!(2021 - 06 - 30)), Some(date!(2021 - 06 - 30))).unwrap();
    assert_eq!(from.as_deref(), Some("2021-06-29T21:00:00.000000Z"));
    assert_eq!(to.as_deref(), Some("2021-06-30T20:59:59.999999Z"));
    assert_eq!(day_range(None, None).unwrap(), (None, None));
    assert_eq!(
        day_range(Some(date!(2021 - 07 - 02)), Some(date!(2021 - 07 - 01))),
        Err(FilterError::DaysReversed {
            from: date!(2021 - 07 - 02),
            to: date!(2021 - 07 - 01)
        })
    );
}

#[test]
fn a_charge_filter_becomes_the_ledgers_query_and_refuses_what_matches_nothing() {
    let filter = ChargeFilter {
        administrator: Some(Urn::parse("3eb5fa").unwrap()),
        uins: vec![Uin::parse("32100000000000000018").unwrap()],
        statuses: vec![3, 4],
        from: Some(date!(2026 - 11 - 01)),
        min_amount: Some(100),
        max_amount: Some(5000),
        annulled: true,
        ..ChargeFilter::default()
    };
    let q = filter.query().unwrap();
    assert_eq!(q.administrator.as_deref(), Some("3eb5fa"));
    assert_eq!(q.uins, ["32100000000000000018"]);
    assert_eq!(q.statuses, [3, 4]);
    assert_eq!(q.from.as_deref(), Some("2026-10-31T21:00:00.000000Z"));
    assert_eq!(q.to, None);
    assert_eq!((q.min_amount, q.max_amount), (Some(100), Some(5000)));
    assert!(q.include_annulled);

    let reversed = ChargeFilter {
        min_amount: Some(5001),
        max_amount: Some(5000),
        ..ChargeFilter::default()
    };
    assert_eq!(
        reversed.query().unwrap_err(),
        FilterError::AmountsReversed { min: 5001, max: 5000 }
    );
    let huge = ChargeFilter {
        max_amount: Some(u64::MAX),
        ..ChargeFilter::default()
    };
    assert_eq!(
        huge.query().unwrap_err(),
        FilterError::AmountTooLarge { kopecks: u64::MAX }
    );
}

#[test]
fn a_sort_asked_for_runs_ascending_unless_desc_and_none_is_newest_first() {
    let asked = order(Some(ChargeSort::Amount), ChargeSort::BillDate, false);
    assert_eq!(
        (asked.by, asked.direction),
        (ChargeSort::Amount, Direction::Ascending)
    );
    assert_eq!(
        order(Some(ChargeSort::Amount), ChargeSort::BillDate, true).direction,
        Direction::Descending
    );
    let default = order(None, ChargeSort::BillDate, false);
    assert_eq!(
        (default.by, default.direction),
        (ChargeSort::BillDate, Direction::Descending)
    );
    assert_eq!(sort_key(CHARGE_SORTS, "to-pay"), Some(ChargeSort::AmountToPay));
    assert_eq!(
        sort_key(PAYMENT_SORTS, "payment-id"),
        Some(PaymentSort::PaymentId)
    );
    assert_eq!(sort_key(QUITTANCE_SORTS, "balance"), Some(QuittanceSort::Balance));
    assert_eq!(sort_key(CHARGE_SORTS, "bill_date; DROP TABLE x"), None);
}

#[test]
fn pages_are_bounded() {
    assert_eq!(
        page(2, 1000),
        Ok(Page {
            number: 2,
            length: 1000
        })
    );
    assert!(matches!(
        page(1, 1001),
        Err(FilterError::PageOutOfRange {
            what: "page size",
            ..
        })
    ));
    assert!(matches!(
        page(0, 10),
        Err(FilterError::PageOutOfRange { what: "page", .. })
    ));
    assert!(page(1, 0).is_err());
}

#[test]
fn values_in_json_are_integer_kopecks_moscow_moments_and_nulls() {
    let row = [
        Value::text("x"),
        Value::Kopecks(-5),
        Value::Moment(datetime!(2021-06-30 21:30 UTC)),
        Value::Flag(true),
        Value::Absent,
    ];
    assert_eq!(
        json_object(&["a", "b", "c", "d", "e"], &row),
        serde_json::json!({"a": "x", "b": -5, "c": "2021-07-01T00:30:00.000+03:00", "d": true, "e": null})
    );
}
