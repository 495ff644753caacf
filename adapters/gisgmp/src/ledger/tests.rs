use time::macros::datetime;

use super::*;

#[test]
fn every_operation_reads_back_as_stored() {
    for op in [
        Operation::Payment("10471020010005230107202100000001".into()),
        Operation::Force(ForcedReconcileOp::WithPayments(vec![
            "10471020010005230107202100000001".into(),
            "10471020010005230107202100000002".into(),
        ])),
        Operation::Force(ForcedReconcileOp::WithoutPayment),
        Operation::Force(ForcedReconcileOp::ForAmount {
            amount: 12_345,
            reconcile_id: "3eb5fa01072021000000001".into(),
        }),
        Operation::Annul(AnnulmentOp::Payments(vec![
            "10471020010005230107202100000001".into(),
        ])),
        Operation::Annul(AnnulmentOp::WithoutPayment),
        Operation::Annul(AnnulmentOp::ForAmount("3eb5fa01072021000000001".into())),
    ] {
        assert_eq!(
            Operation::decode(&op.encode()),
            Some(op.clone()),
            "{}",
            op.encode()
        );
    }
    for bad in ["", "refund 1", "force-amount x y", "force-amount 12"] {
        assert_eq!(Operation::decode(bad), None, "{bad}");
    }
}

#[test]
fn moment_keys_sort_as_the_moments_and_read_back() {
    let moments = [
        datetime!(2021-07-01 23:59:59.999 +03:00),
        datetime!(2021-07-01 21:00:00 UTC),
        datetime!(2021-07-02 00:00:00.001 +03:00),
        datetime!(2021-07-02 12:00:00 -05:00),
    ];
    let keys: Vec<String> = moments.iter().map(|m| moment_key(*m)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    for (m, k) in moments.iter().zip(&keys) {
        assert_eq!(moment_of_key(k), Some(*m), "{k}");
    }
    assert_eq!(moment_of_key("yesterday"), None);
}

#[test]
fn meanings_are_the_codes_of_change_status() {
    for m in [
        Meaning::New,
        Meaning::Clarified,
        Meaning::Annulled,
        Meaning::Restored,
    ] {
        assert_eq!(Meaning::from_code(i64::from(m.code())), Some(m));
    }
    assert_eq!(Meaning::from_code(0), None);
    assert_eq!(Meaning::from_code(5), None);
}
