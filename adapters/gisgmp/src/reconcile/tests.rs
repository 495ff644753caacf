use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::reference;

/// The payee, KBK, OKTMO and payer of the official import-charges etalon.
fn requisites() -> Requisites {
    Requisites {
        kbk: Some(Kbk::parse("32111301031016000130").unwrap()),
        oktmo: Some(Oktmo::parse("45348000").unwrap()),
        payee_inn: Inn::parse("7705401341").unwrap(),
        payee_kpp: Some(Kpp::parse("770542151").unwrap()),
        account_number: AccountNumber::parse("03100643000000019500").unwrap(),
        bik: Bik::parse("024501901").unwrap(),
        payer_identifier: Some(PayerIdentifier::parse("1220000000007712579832").unwrap()),
    }
}

fn charge(uin: &str, total: u64) -> ChargeReconciliation {
    ChargeReconciliation::new(Charge {
        uin: Uin::parse(uin).unwrap(),
        total_amount: Kopecks(total),
        requisites: requisites(),
    })
}

/// A payment of `amount` carrying `uin` ("0" for none), with the charge's parameters.
fn payment(id: &str, uin: &str, amount: u64) -> Payment {
    Payment {
        payment_id: PaymentId::parse_new(id).unwrap(),
        uin: Uin::parse(uin).ok(),
        amount: Kopecks(amount),
        refunded: Kopecks(0),
        requisites: requisites(),
        state: PaymentState::Active,
    }
}

fn id(s: &str) -> PaymentId {
    PaymentId::parse(s).unwrap()
}

const UIN: &str = "32117072411021588933";
const P1: &str = "10471020010005233009202000000001";
const P2: &str = "10471020010005233009202000000002";
const P3: &str = "10471020010005233009202000000003";

fn reconcile_id(s: &str) -> ReconcileId {
    ReconcileId::parse(s).unwrap()
}

#[test]
fn the_export_quittances_etalon_a_full_payment_with_matching_parameters_is_status_1() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 500_000)).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::Reconciled);
    assert_eq!(outcome.amount_to_pay, 0);
    // The etalon: billStatus="1" balance="0" paymentId=… amountPayment="500000" isRevoked="false".
    assert_eq!(
        outcome.quittances,
        vec![Quittance {
            uin: Uin::parse(UIN).unwrap(),
            total_amount: Kopecks(500_000),
            bill_status: BillStatus::Reconciled,
            balance: 0,
            payment: Settlement::Payment(id(P1)),
            amount_payment: Some(Kopecks(500_000)),
            differences: vec![],
            is_revoked: false,
            reconcile_id: None,
        }]
    );
    assert_eq!(outcome.quittances[0].bill_status.code(), 1);
    assert_eq!(outcome.quittances[0].payment.as_str(), P1);
}

#[test]
fn no_payment_is_status_3_with_the_whole_amount_to_pay() {
    let outcome = charge(UIN, 500_000).outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::NotReconciled);
    assert_eq!(outcome.status.code(), 3);
    assert_eq!(outcome.amount_to_pay, 500_000);
    assert!(outcome.quittances.is_empty());
}

#[test]
fn a_differing_parameter_is_status_2_and_the_quittance_carries_the_payments_value() {
    let mut r = charge(UIN, 500_000);
    let mut p = payment(P1, UIN, 500_000);
    p.requisites.kbk = Some(Kbk::parse("32111301031016000999").unwrap());
    p.requisites.oktmo = None;
    p.requisites.payee_kpp = Some(Kpp::parse("770501001").unwrap());
    r.receive(p).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::Preliminary);
    assert_eq!(outcome.amount_to_pay, 0);
    let q = &outcome.quittances[0];
    assert_eq!(q.bill_status.code(), 2);
    let shown: Vec<(&str, &str)> = q.differences.iter().map(|d| (d.attribute(), d.value())).collect();
    assert_eq!(
        shown,
        [
            ("payeeKPP", "770501001"),
            ("kbk", "32111301031016000999"),
            ("oktmo", "0")
        ]
    );
}

#[test]
fn every_parameter_is_compared_and_named() {
    let charge = requisites();
    let payment = Requisites {
        kbk: None,
        oktmo: Some(Oktmo::parse("45348000001").unwrap()),
        payee_inn: Inn::parse("7705401340").unwrap(),
        payee_kpp: None,
        account_number: AccountNumber::parse("03100643000000019501").unwrap(),
        bik: Bik::parse("024501902").unwrap(),
        payer_identifier: None,
    };
    let differences = charge.differences(&payment);
    let shown: Vec<(&str, &str)> = differences.iter().map(|d| (d.attribute(), d.value())).collect();
    assert_eq!(
        shown,
        [
            ("payeeINN", "7705401340"),
            ("payeeKPP", "0"),
            ("kbk", "0"),
            ("oktmo", "45348000001"),
            ("payerIdentifier", "0"),
            ("accountNumber", "03100643000000019501"),
            ("bik", "024501902"),
        ]
    );
    assert_eq!(charge.differences(&charge), vec![]);
}

#[test]
fn partial_payments_keep_status_1_and_each_quittance_shows_what_remained() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 200_000)).unwrap();
    assert_eq!(r.amount_to_pay(), Ok(300_000));
    r.receive(payment(P2, UIN, 300_000)).unwrap();
    r.receive(payment(P3, UIN, 150_000)).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::Reconciled);
    assert_eq!(outcome.amount_to_pay, -150_000, "overpaid");
    let balances: Vec<i64> = outcome.quittances.iter().map(|q| q.balance).collect();
    assert_eq!(balances, [300_000, 0, -150_000]);
}

#[test]
fn refunds_are_netted_out_of_the_balance() {
    let mut r = charge(UIN, 500_000);
    let mut p = payment(P1, UIN, 500_000);
    p.refunded = Kopecks(120_000);
    r.receive(p).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.amount_to_pay, 120_000);
    assert_eq!(outcome.quittances[0].balance, 120_000);
    assert_eq!(outcome.quittances[0].amount_payment, Some(Kopecks(500_000)));
}

#[test]
fn one_mismatching_payment_makes_the_charge_status_2() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 250_000)).unwrap();
    let mut p = payment(P2, UIN, 250_000);
    p.requisites.payer_identifier = None;
    r.receive(p).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::Preliminary);
    let statuses: Vec<u8> = outcome.quittances.iter().map(|q| q.bill_status.code()).collect();
    assert_eq!(statuses, [1, 2]);
}

#[test]
fn an_annulled_payment_is_revoked_and_counts_for_nothing() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 200_000)).unwrap();
    r.receive(payment(P2, UIN, 100_000)).unwrap();
    let mut annulled = payment(P1, UIN, 200_000);
    annulled.state = PaymentState::Annulled;
    r.receive(annulled).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.amount_to_pay, 400_000);
    let shown: Vec<(bool, i64)> = outcome
        .quittances
        .iter()
        .map(|q| (q.is_revoked, q.balance))
        .collect();
    // The revoked one shows the balance before it; the next one no longer counts it.
    assert_eq!(shown, [(true, 500_000), (false, 400_000)]);
    assert_eq!(outcome.status, BillStatus::Reconciled);

    let mut annulled = payment(P2, UIN, 100_000);
    annulled.state = PaymentState::Annulled;
    r.receive(annulled).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::NotReconciled);
    assert_eq!(outcome.amount_to_pay, 500_000);
    assert_eq!(outcome.quittances.len(), 2);
}

#[test]
fn a_clarified_payment_replaces_its_earlier_version_in_place() {
    let mut r = charge(UIN, 500_000);
    let mut p = payment(P1, UIN, 500_000);
    p.requisites.bik = Bik::parse("044525225").unwrap();
    r.receive(p).unwrap();
    r.receive(payment(P2, UIN, 1)).unwrap();
    assert_eq!(r.outcome().unwrap().status, BillStatus::Preliminary);
    r.receive(payment(P1, UIN, 500_000)).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::Reconciled);
    let ids: Vec<&str> = outcome.quittances.iter().map(|q| q.payment.as_str()).collect();
    assert_eq!(ids, [P1, P2]);
    // Clarified to another UIN, it leaves this charge.
    r.receive(payment(P1, "18817072711544879499", 500_000)).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.quittances.len(), 1);
    assert_eq!(outcome.amount_to_pay, 499_999);
}

#[test]
fn a_payment_for_another_uin_is_not_received() {
    let mut r = charge(UIN, 500_000);
    let e = r.receive(payment(P1, "0", 500_000)).unwrap_err();
    assert_eq!(e.found, None);
    assert_eq!(
        e.to_string(),
        format!("payment {P1} carries the UIN 0, not {UIN}")
    );
    assert_eq!(e.code(), Code::Unlisted);
    let e = r.receive(payment(P1, "18817072711544879499", 1)).unwrap_err();
    assert_eq!(e.found, Uin::parse("18817072711544879499").ok());
    assert_eq!(r.outcome().unwrap().status, BillStatus::NotReconciled);
}

#[test]
fn the_forced_acknowledgement_etalon_forcing_with_a_payment_is_status_5() {
    // Etalon 19/1: Reconcile 18817072711544879499 with …00000001 → billStatus="5" balance="0"
    // amountPayment="50000".
    let uin = "18817072711544879499";
    let mut r = charge(uin, 50_000);
    let p = payment("10471020010005233009202100000001", "0", 50_000);
    let answer = r.force(ForcedReconcile::WithPayments(vec![p])).unwrap();
    assert_eq!(
        answer,
        vec![Quittance {
            uin: Uin::parse(uin).unwrap(),
            total_amount: Kopecks(50_000),
            bill_status: BillStatus::Forced,
            balance: 0,
            payment: Settlement::Payment(id("10471020010005233009202100000001")),
            amount_payment: Some(Kopecks(50_000)),
            differences: vec![],
            is_revoked: false,
            reconcile_id: None,
        }]
    );
    let outcome = r.outcome().unwrap();
    assert_eq!((outcome.status.code(), outcome.amount_to_pay), (5, 0));
}

#[test]
fn forcing_an_automatic_payment_turns_it_to_5_and_annulling_returns_it_to_automatic() {
    let mut r = charge(UIN, 500_000);
    let mut p = payment(P1, UIN, 300_000);
    p.requisites.kbk = None;
    r.receive(p.clone()).unwrap();
    let other = payment(P2, "0", 200_000);
    let answer = r.force(ForcedReconcile::WithPayments(vec![p, other])).unwrap();
    let shown: Vec<(u8, i64, usize)> = answer
        .iter()
        .map(|q| (q.bill_status.code(), q.balance, q.differences.len()))
        .collect();
    assert_eq!(shown, [(5, 200_000, 1), (5, 0, 0)]);
    assert_eq!(r.outcome().unwrap().status, BillStatus::Forced);

    // Back to the automatic result: P1 carries the UIN (status 2 again), P2 does not (detached).
    r.annul(Annulment::Payments(vec![id(P1), id(P2)])).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(outcome.status, BillStatus::Preliminary);
    assert_eq!(outcome.amount_to_pay, 200_000);
    assert_eq!(outcome.quittances.len(), 1);
    assert_eq!(outcome.quittances[0].payment.as_str(), P1);
}

#[test]
fn forcing_with_an_annulled_payment_is_refused_whole_with_code_4() {
    let mut r = charge(UIN, 500_000);
    let mut annulled = payment(P2, "0", 1);
    annulled.state = PaymentState::Annulled;
    let before = r.clone();
    let e = r
        .force(ForcedReconcile::WithPayments(vec![payment(P1, "0", 1), annulled]))
        .unwrap_err();
    assert_eq!(e, ForcedError::PaymentNotFound { payment_id: id(P2) });
    assert_eq!(e.code(), Code::Status(4));
    assert_eq!(
        e.description_ru(),
        format!("Платеж с УПНО {P2} не найден в системе")
    );
    assert_eq!(r, before, "nothing applied");
}

#[test]
fn annulling_a_payment_that_was_not_forced_is_325_and_changes_nothing() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 500_000)).unwrap();
    r.force(ForcedReconcile::WithPayments(vec![payment(P2, "0", 1)]))
        .unwrap();
    let before = r.clone();
    let e = r.annul(Annulment::Payments(vec![id(P2), id(P1)])).unwrap_err();
    assert_eq!(e, ForcedError::NotForced { payment_id: id(P1) });
    assert_eq!(e.code(), Code::Status(325));
    assert_eq!(
        e.description_ru(),
        "Отсутствует факт принудительного квитирования начисления и факта оплаты по инициативе АН/ГАН"
    );
    assert_eq!(r, before);
}

#[test]
fn repayment_without_a_payment_is_status_4_and_writes_off_what_remains() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 100_000)).unwrap();
    let answer = r.force(ForcedReconcile::WithoutPayment).unwrap();
    assert_eq!(answer.len(), 1);
    let q = &answer[0];
    assert_eq!(
        (
            q.bill_status.code(),
            q.balance,
            q.payment.as_str(),
            q.amount_payment
        ),
        (4, 0, "PaymentNotLoaded", None)
    );
    assert_eq!(q.reconcile_id, None);
    let outcome = r.outcome().unwrap();
    assert_eq!(
        (outcome.status, outcome.amount_to_pay),
        (BillStatus::WithoutPayment, 0)
    );

    // Once more: 322. Then a late payment is an overpayment.
    let e = r.force(ForcedReconcile::WithoutPayment).unwrap_err();
    assert_eq!(e, ForcedError::AlreadyWithoutPayment);
    assert_eq!(e.code(), Code::Status(322));
    assert_eq!(
        e.description_ru(),
        "Начисление ранее было сквитировано с отсутствующим платежом"
    );
    r.receive(payment(P2, UIN, 30_000)).unwrap();
    assert_eq!(r.amount_to_pay(), Ok(-30_000));
    assert_eq!(r.outcome().unwrap().status, BillStatus::WithoutPayment);

    // Annulled: back to the automatic result.
    r.annul(Annulment::WithoutPayment).unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(
        (outcome.status, outcome.amount_to_pay),
        (BillStatus::Reconciled, 370_000)
    );
    let e = r.annul(Annulment::WithoutPayment).unwrap_err();
    assert_eq!(e, ForcedError::NoRepaymentWithoutPayment);
    assert_eq!(e.code(), Code::Status(326));
}

#[test]
fn a_paid_charge_cannot_be_repaid_without_a_payment_317() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 600_000)).unwrap();
    let e = r.force(ForcedReconcile::WithoutPayment).unwrap_err();
    assert_eq!(
        e,
        ForcedError::AlreadyPaid {
            amount_to_pay: -100_000
        }
    );
    assert_eq!(e.code(), Code::Status(317));
    assert_eq!(
        e.description_ru(),
        "Начисление уже сквитировано с платежом в системе"
    );
    let e = r
        .force(ForcedReconcile::ForAmount {
            amount: Kopecks(1),
            reconcile_id: reconcile_id("N3eb55101072021181351"),
        })
        .unwrap_err();
    assert_eq!(e.code(), Code::Status(317));
}

#[test]
fn a_charge_paid_exactly_is_already_paid_317() {
    let mut r = charge(UIN, 500_000);
    r.receive(payment(P1, UIN, 500_000)).unwrap();
    let before = r.clone();
    assert_eq!(
        r.force(ForcedReconcile::WithoutPayment),
        Err(ForcedError::AlreadyPaid { amount_to_pay: 0 })
    );
    assert_eq!(
        r.force(ForcedReconcile::ForAmount {
            amount: Kopecks(1),
            reconcile_id: reconcile_id("N3eb55101072021181351"),
        }),
        Err(ForcedError::AlreadyPaid { amount_to_pay: 0 })
    );
    assert_eq!(r, before);
}

#[test]
fn repayment_for_an_amount_is_status_6_with_its_reconcile_id() {
    let mut r = charge(UIN, 500_000);
    let first = reconcile_id("N3eb55101072021181351");
    let second = reconcile_id("N3eb55101072021181400");
    let answer = r
        .force(ForcedReconcile::ForAmount {
            amount: Kopecks(200_000),
            reconcile_id: first.clone(),
        })
        .unwrap();
    assert_eq!(
        answer,
        vec![Quittance {
            uin: Uin::parse(UIN).unwrap(),
            total_amount: Kopecks(500_000),
            bill_status: BillStatus::ForAmount,
            balance: 300_000,
            payment: Settlement::NotLoaded,
            amount_payment: Some(Kopecks(200_000)),
            differences: vec![],
            is_revoked: false,
            reconcile_id: Some(first.clone()),
        }]
    );

    // 372: more than remains; 370: nothing; the same id twice; 371: a full repayment now.
    let e = r
        .force(ForcedReconcile::ForAmount {
            amount: Kopecks(300_001),
            reconcile_id: second.clone(),
        })
        .unwrap_err();
    assert_eq!(
        e,
        ForcedError::AmountExceeds {
            amount: Kopecks(300_001),
            amount_to_pay: 300_000
        }
    );
    assert_eq!(e.code(), Code::Status(372));
    let e = r
        .force(ForcedReconcile::ForAmount {
            amount: Kopecks(0),
            reconcile_id: second.clone(),
        })
        .unwrap_err();
    assert_eq!(
        (e.clone(), e.code()),
        (ForcedError::AmountNotAllowed, Code::Status(370))
    );
    let e = r
        .force(ForcedReconcile::ForAmount {
            amount: Kopecks(1),
            reconcile_id: first.clone(),
        })
        .unwrap_err();
    assert_eq!(e.code(), Code::Unlisted);
    let e = r.force(ForcedReconcile::WithoutPayment).unwrap_err();
    assert_eq!(
        (e.clone(), e.code()),
        (ForcedError::AmountRequired, Code::Status(371))
    );
    assert_eq!(
        e.description_ru(),
        "Отсутствует информация о сумме погашения начисления"
    );

    // The rest, exactly.
    r.force(ForcedReconcile::ForAmount {
        amount: Kopecks(300_000),
        reconcile_id: second.clone(),
    })
    .unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!((outcome.status.code(), outcome.amount_to_pay), (6, 0));

    // Annulling needs the id (373); an unknown id is 326; the right one undoes that one only.
    let e = r.annul(Annulment::WithoutPayment).unwrap_err();
    assert_eq!(
        (e.clone(), e.code()),
        (ForcedError::ReconcileIdRequired, Code::Status(373))
    );
    let unknown = reconcile_id("N3eb55101072021000000");
    assert_eq!(
        r.annul(Annulment::ForAmount(unknown)),
        Err(ForcedError::NoRepaymentWithoutPayment)
    );
    r.annul(Annulment::ForAmount(first)).unwrap();
    assert_eq!(r.amount_to_pay(), Ok(200_000));
    r.annul(Annulment::ForAmount(second)).unwrap();
    assert_eq!(r.outcome().unwrap().status, BillStatus::NotReconciled);
}

#[test]
fn a_full_repayment_refuses_later_partial_ones_with_322() {
    let mut r = charge(UIN, 500_000);
    r.force(ForcedReconcile::WithoutPayment).unwrap();
    let e = r
        .force(ForcedReconcile::ForAmount {
            amount: Kopecks(1),
            reconcile_id: reconcile_id("N3eb55101072021181400"),
        })
        .unwrap_err();
    assert_eq!(e, ForcedError::AlreadyWithoutPayment);
}

#[test]
fn balances_beyond_xsd_long_are_an_error_not_a_wrap() {
    let r = charge(UIN, u64::MAX);
    assert_eq!(
        r.amount_to_pay(),
        Err(BalanceError {
            uin: Uin::parse(UIN).unwrap()
        })
    );
    let mut r = charge(UIN, i64::MAX as u64);
    assert_eq!(r.amount_to_pay(), Ok(i64::MAX));
    r.receive(payment(P1, UIN, u64::MAX)).unwrap();
    // i64::MAX − u64::MAX = −(2^63), exactly i64::MIN.
    assert_eq!(r.amount_to_pay(), Ok(i64::MIN));
    r.receive(payment(P2, UIN, 1)).unwrap();
    let e = r.outcome().unwrap_err();
    assert_eq!(e.code(), Code::Unlisted);
    let e = r.force(ForcedReconcile::WithoutPayment).unwrap_err();
    assert!(matches!(e, ForcedError::Balance(_)), "{e:?}");
}

#[test]
fn reconcile_ids_read_and_write_the_administrator_and_the_moment() {
    let urn = Urn::parse("3EB551").unwrap();
    let id = ReconcileId::new(&urn, datetime!(2021-07-01 18:13:51)).unwrap();
    assert_eq!(id.as_str(), "N3eb55101072021181351");
    assert_eq!(ReconcileId::parse(id.as_str()), Ok(id.clone()));
    assert_eq!(id.urn(), Some(urn));
    assert_eq!(id.moment(), Some(datetime!(2021-07-01 18:13:51)));
    assert_eq!(id.to_string(), "N3eb55101072021181351");
}

#[test]
fn malformed_reconcile_ids_are_refused() {
    let cases = [
        ("N3eb5510107202118135", ReconcileIdError::Length { length: 20 }),
        (
            "P3eb55101072021181351",
            ReconcileIdError::Character {
                position: 1,
                found: 'P',
            },
        ),
        (
            "N3eb5g101072021181351",
            ReconcileIdError::Character {
                position: 6,
                found: 'g',
            },
        ),
        (
            "N3eb55131022021181351",
            ReconcileIdError::Date {
                date: "31022021".into(),
            },
        ),
        (
            "N3eb55101072021241351",
            ReconcileIdError::Time {
                time: "241351".into(),
            },
        ),
        (
            "N3eb55101072021186051",
            ReconcileIdError::Time {
                time: "186051".into(),
            },
        ),
    ];
    for (s, e) in cases {
        assert_eq!(ReconcileId::parse(s), Err(e.clone()), "{s}");
        assert_eq!(e.code(), Code::Schema);
    }
    assert_eq!(
        ReconcileId::new(&Urn::parse("3eb551").unwrap(), datetime!(-0001-01-01 0:00)),
        Err(ReconcileIdError::Year { year: -1 })
    );
}

#[test]
fn each_forced_error_carries_gis_gmps_status_and_text() {
    let cases: [(ForcedError, u16, &str); 4] = [
        (
            ForcedError::NoRepaymentWithoutPayment,
            326,
            "Отсутствует факт принудительного квитирования начисления с отсутствующим в ГИС ГМП извещением о приеме к исполнению рапоряжения",
        ),
        (
            ForcedError::AmountNotAllowed,
            370,
            "Не соблюдены условия направления информации о сумме частичного погашения",
        ),
        (
            ForcedError::AmountExceeds {
                amount: Kopecks(2),
                amount_to_pay: 1,
            },
            372,
            "Указанная сумма превышает сумму (остаток от суммы), подлежащую оплате",
        ),
        (
            ForcedError::ReconcileIdRequired,
            373,
            "Не указан номер операции частичного погашения",
        ),
    ];
    for (e, status, ru) in cases {
        assert_eq!(e.code(), Code::Status(status), "{e}");
        assert_eq!(e.description_ru(), ru, "{e}");
    }
}

/// The one quittance of an official response sample, as `name=value` pairs of the attributes this
/// module computes.
fn etalon_quittance(xml: &str) -> Vec<(&'static str, String)> {
    let one = |name: &str| {
        let values = reference::attributes(xml, name);
        assert_eq!(values.len(), 1, "{name} in {xml}");
        values[0].to_owned()
    };
    [
        "supplierBillID",
        "totalAmount",
        "billStatus",
        "balance",
        "paymentId",
        "amountPayment",
    ]
    .into_iter()
    .map(|name| (name, one(name)))
    .collect()
}

/// The same attributes of a computed quittance.
fn attributes(q: &Quittance) -> Vec<(&'static str, String)> {
    vec![
        ("supplierBillID", q.uin.to_string()),
        ("totalAmount", q.total_amount.to_string()),
        ("billStatus", q.bill_status.to_string()),
        ("balance", q.balance.to_string()),
        ("paymentId", q.payment.as_str().to_owned()),
        (
            "amountPayment",
            q.amount_payment.map(|a| a.to_string()).unwrap_or_default(),
        ),
    ]
}

#[test]
fn the_official_etalons_quittances_are_what_this_module_computes() {
    let test = "the_official_etalons_quittances_are_what_this_module_computes";
    let Some(export) = reference::official_sample(test, "06-export-quittances/Response.xml") else {
        return;
    };
    // ExportQuittances, kind QUITTANCE: one full payment with matching parameters.
    let mut r = charge(UIN, 500_000);
    r.receive(payment("10471020010005233009202000000001", UIN, 500_000))
        .unwrap();
    let outcome = r.outcome().unwrap();
    assert_eq!(attributes(&outcome.quittances[0]), etalon_quittance(&export));
    assert_eq!(reference::attributes(&export, "isRevoked"), ["false"]);

    // ForcedAcknowledgement Reconcile: the listed payment forced onto the charge.
    let forced = reference::official_sample(test, "19-forced-acknowledgement/1-Reconcile/Response.xml")
        .expect("the reference is set");
    let request = reference::official_sample(test, "19-forced-acknowledgement/1-Reconcile/Request.xml")
        .expect("the reference is set");
    let uin = reference::attributes(&request, "supplierBillId")[0];
    let mut r = charge(uin, 50_000);
    let listed = request
        .split("<ns0:PaymentId>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("a PaymentId");
    let answer = r
        .force(ForcedReconcile::WithPayments(vec![payment(listed, "0", 50_000)]))
        .unwrap();
    assert_eq!(answer.len(), 1);
    assert_eq!(attributes(&answer[0]), etalon_quittance(&forced));
}

/// Payments of random amounts, each possibly annulled and possibly refunded in part.
fn payments() -> impl Strategy<Value = Vec<(u64, u64, bool)>> {
    prop::collection::vec((1u64..=10_000_000, 0u64..=100, any::<bool>()), 0..12)
}

proptest! {
    #[test]
    fn the_balance_is_the_amount_minus_the_active_payments_net_of_refunds(
        total in 1u64..=100_000_000,
        list in payments(),
    ) {
        let mut r = charge(UIN, total);
        let mut expected = i128::from(total);
        for (i, &(amount, refund_percent, annulled)) in list.iter().enumerate() {
            let mut p = payment(&format!("1047102001000523300920200000{i:04}"), UIN, amount);
            p.refunded = Kopecks(amount * refund_percent / 100);
            if annulled {
                p.state = PaymentState::Annulled;
            } else {
                expected -= i128::from(amount - p.refunded.get());
            }
            r.receive(p).unwrap();
        }
        let outcome = r.outcome().unwrap();
        prop_assert_eq!(i128::from(outcome.amount_to_pay), expected);
        prop_assert_eq!(outcome.quittances.len(), list.len());
        let active: Vec<&Quittance> = outcome.quittances.iter().filter(|q| !q.is_revoked).collect();
        match active.last() {
            Some(last) => {
                prop_assert_eq!(last.balance, outcome.amount_to_pay);
                prop_assert_eq!(outcome.status, BillStatus::Reconciled);
            }
            None => prop_assert_eq!(outcome.status, BillStatus::NotReconciled),
        }
    }

    #[test]
    fn forcing_then_annulling_restores_the_automatic_result(
        total in 1u64..=100_000_000,
        list in payments(),
        partial in 1u64..=100,
    ) {
        let mut r = charge(UIN, total);
        for (i, &(amount, _, annulled)) in list.iter().enumerate() {
            let mut p = payment(&format!("1047102001000523300920200000{i:04}"), UIN, amount);
            if annulled {
                p.state = PaymentState::Annulled;
            }
            r.receive(p).unwrap();
        }
        let automatic = r.clone();
        let before = r.amount_to_pay().unwrap();
        let amount = Kopecks(u64::try_from(before.max(0)).unwrap() * partial / 100);
        let reconcile_id = reconcile_id("N3eb55101072021181351");
        match r.force(ForcedReconcile::ForAmount { amount, reconcile_id: reconcile_id.clone() }) {
            Ok(answer) => {
                prop_assert!(before > 0 && !amount.is_zero());
                prop_assert_eq!(answer[0].balance, before - i64::try_from(amount.get()).unwrap());
                r.annul(Annulment::ForAmount(reconcile_id)).unwrap();
            }
            Err(e) => prop_assert!(
                matches!(e, ForcedError::AlreadyPaid { .. } | ForcedError::AmountNotAllowed),
                "{e:?}"
            ),
        }
        match r.force(ForcedReconcile::WithoutPayment) {
            Ok(answer) => {
                prop_assert!(before > 0);
                prop_assert_eq!(answer[0].balance, 0);
                prop_assert_eq!(r.amount_to_pay().unwrap(), 0);
                r.annul(Annulment::WithoutPayment).unwrap();
            }
            Err(e) => {
                prop_assert!(before <= 0);
                prop_assert_eq!(e, ForcedError::AlreadyPaid { amount_to_pay: before });
            }
        }
        prop_assert_eq!(r, automatic);
    }
}
