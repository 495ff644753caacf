//! The services over a ledger on both backends: what an administrator, a payment acceptor and a
//! portal see when they talk to the module, request after request, and the official 2.4.0
//! requests (when `RSMEV_REFERENCE` is set) answered in their own namespace.

use time::macros::datetime;

use super::*;
use crate::fixtures::{
    KBK_CHAPTER, change, charge, export, forced, import_charges, import_payments, import_refunds, payment,
    refund, refund_id,
};
use crate::issue::KbkChapter;
use crate::test_db::{Database, on_both_backends};

const COMMON: &str = "http://roskazna.ru/gisgmp/xsd/Common/2.4.0";
const NOW: OffsetDateTime = datetime!(2021-07-01 12:00 UTC);

async fn service(database: &Database) -> Service {
    Service::new(Ledger::new(database.open().await), Urn::parse("aa11b4").unwrap())
}

/// Fresh UINs of KBK chapter 321 (the charges' KBK below).
async fn uins(s: &Service, count: u64) -> Vec<String> {
    let chapter = UinPrefix::KbkChapter(KbkChapter::parse(KBK_CHAPTER).unwrap());
    crate::sequence::next_uins(s.ledger().database(), &chapter, count)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.as_str().to_owned())
        .collect()
}

fn import_payment(payment_id: &str, uin: &str, amount: u64) -> String {
    import_payments(&payment("I_p", payment_id, uin, amount))
}

/// The answer to `xml` arriving in a message of its own.
async fn answer(s: &Service, xml: &str) -> Answer {
    let message_id = format!("9f0c3d9e-{}", uuid::Uuid::new_v4());
    s.answer(xml, &message_id, NOW).await.unwrap()
}

async fn response(s: &Service, xml: &str) -> El {
    match answer(s, xml).await {
        Answer::Response(el) => el,
        other => panic!("not a response: {other:?}\n{xml}"),
    }
}

/// The codes of the `ImportProtocol`s of an import's response, in order.
async fn codes(s: &Service, xml: &str) -> Vec<String> {
    let el = response(s, xml).await;
    el.children
        .iter()
        .map(|p| {
            assert_eq!(
                (p.ns.as_str(), p.local.as_str()),
                (COMMON, "ImportProtocol"),
                "{}",
                el.to_xml()
            );
            p.attr("code").unwrap().to_owned()
        })
        .collect()
}

/// The quittances (`billStatus`, `balance`, `paymentId`) exported for `uin`: the active one
/// (`QUITTANCE`).
async fn quittances(s: &Service, uin: &str) -> Vec<(String, String, String)> {
    quittances_of_kind(s, uin, "QUITTANCE").await
}

async fn quittances_of_kind(s: &Service, uin: &str, kind: &str) -> Vec<(String, String, String)> {
    let el = response(
        s,
        &export(
            "export-quittances",
            "ExportQuittancesRequest",
            "QuittancesExportConditions",
            kind,
            uin,
        ),
    )
    .await;
    el.children_named("Quittance")
        .map(|q| {
            (
                q.attr("billStatus").unwrap().to_owned(),
                q.attr("balance").unwrap().to_owned(),
                q.attr("paymentId").unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The exported charge `uin`: its `totalAmount`, `amountToPay` and `acknowledgmentStatus`.
async fn exported_charge(s: &Service, uin: &str) -> Option<(String, String, String)> {
    let el = response(
        s,
        &export(
            "export-charges",
            "ExportChargesRequest",
            "ChargesExportConditions",
            "CHARGESTATUS",
            uin,
        ),
    )
    .await;
    let charges: Vec<&El> = el.children_named("ChargeInfo").collect();
    assert!(charges.len() <= 1, "{}", el.to_xml());
    charges.first().map(|c| {
        (
            c.attr("totalAmount").unwrap().to_owned(),
            c.attr("amountToPay").unwrap().to_owned(),
            c.attr("acknowledgmentStatus").unwrap().to_owned(),
        )
    })
}

const PAYMENT_1: &str = "10471020010005230107202100000001";
const PAYMENT_2: &str = "10471020010005230107202100000002";

async fn a_charge_then_its_payment(database: Database) {
    let s = service(&database).await;
    let [uin, unknown] = <[String; 2]>::try_from(uins(&s, 2).await).unwrap();
    assert_eq!(
        codes(&s, &import_charges(&charge("I_c1", &uin, 500_000))).await,
        ["0"]
    );
    // The same UIN again is refused, once per entity; the first charge stands.
    assert_eq!(
        codes(
            &s,
            &import_charges(&(charge("I_c2", &uin, 100) + &charge("I_c3", &unknown, 100)))
        )
        .await,
        ["5", "0"]
    );
    assert_eq!(
        exported_charge(&s, &uin).await,
        Some(("500000".into(), "500000".into(), "3".into()))
    );

    // A payment of part of it: reconciled, 300 000 kopecks still to pay.
    assert_eq!(codes(&s, &import_payment(PAYMENT_1, &uin, 200_000)).await, ["0"]);
    assert_eq!(
        quittances(&s, &uin).await,
        [("1".into(), "300000".into(), PAYMENT_1.into())]
    );
    assert_eq!(codes(&s, &import_payment(PAYMENT_1, &uin, 200_000)).await, ["5"]);
    // The rest: the charge is paid.
    assert_eq!(codes(&s, &import_payment(PAYMENT_2, &uin, 300_000)).await, ["0"]);
    // QUITTANCE: the quittance of the latest payment; ALLQUITTANCE: one per payment.
    assert_eq!(
        quittances(&s, &uin).await,
        [("1".into(), "0".into(), PAYMENT_2.into())]
    );
    let all = quittances_of_kind(&s, &uin, "ALLQUITTANCE").await;
    let payments: Vec<&str> = all.iter().map(|(_, _, p)| p.as_str()).collect();
    assert_eq!(payments, [PAYMENT_1, PAYMENT_2], "{all:?}");
    assert!(all.iter().all(|(status, _, _)| status == "1"), "{all:?}");
    assert_eq!(
        exported_charge(&s, &uin).await,
        Some(("500000".into(), "0".into(), "1".into()))
    );
    let record = s.ledger().payment(PAYMENT_2).await.unwrap().unwrap();
    assert_eq!(record.reconciled_uin.as_deref(), Some(uin.as_str()));
    s.ledger().database().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_is_paid_in_two_payments_and_a_duplicate_is_code_5() {
    on_both_backends!(a_charge_then_its_payment);
}

async fn changes_of_a_charge(database: Database) {
    let s = service(&database).await;
    let [uin, absent] = <[String; 2]>::try_from(uins(&s, 2).await).unwrap();
    assert_eq!(
        codes(&s, &import_charges(&charge("I_c1", &uin, 500_000))).await,
        ["0"]
    );

    // 2 уточнение of the amount (field 7), then a field that cannot be changed.
    let amount =
        r#"<com:Change fieldNum="7"><com:ChangeValue name="totalAmount" value="400000"/></com:Change>"#;
    assert_eq!(
        codes(&s, &import_charges(&change("I_u1", &uin, 2, amount))).await,
        ["0"]
    );
    assert_eq!(exported_charge(&s, &uin).await.unwrap().0, "400000");
    let bad = r#"<com:Change fieldNum="999"><com:ChangeValue name="x" value="1"/></com:Change>"#;
    assert_eq!(
        codes(&s, &import_charges(&change("I_u2", &uin, 2, bad))).await,
        ["111"]
    );
    // A value the charge cannot take is refused by the charge's own checks; nothing changes.
    let kbk = r#"<com:Change fieldNum="104"><com:ChangeValue name="kbk" value="12"/></com:Change>"#;
    assert_ne!(
        codes(&s, &import_charges(&change("I_u3", &uin, 2, kbk))).await,
        ["0"]
    );
    assert_eq!(exported_charge(&s, &uin).await.unwrap().0, "400000");

    // 3 аннулирование, twice; 4 деаннулирование, twice; a change of a charge that is not there.
    assert_eq!(
        codes(&s, &import_charges(&change("I_a1", &uin, 3, ""))).await,
        ["0"]
    );
    assert_eq!(
        codes(&s, &import_charges(&change("I_a2", &uin, 3, ""))).await,
        ["7"]
    );
    assert_eq!(
        codes(&s, &import_charges(&change("I_r1", &uin, 4, ""))).await,
        ["0"]
    );
    assert_eq!(
        codes(&s, &import_charges(&change("I_r2", &uin, 4, ""))).await,
        ["7"]
    );
    assert_eq!(
        codes(&s, &import_charges(&change("I_x1", &absent, 3, ""))).await,
        ["7"]
    );

    // The event log: new, clarified, annulled, restored, each linked to its message.
    let events = s.ledger().charge_events(&uin).await.unwrap();
    assert!(
        events.iter().all(|e| e.message_id.starts_with("9f0c3d9e")),
        "{events:?}"
    );
    let meanings: Vec<Meaning> = events.iter().map(|e| e.meaning).collect();
    assert_eq!(
        meanings,
        [
            Meaning::New,
            Meaning::Clarified,
            Meaning::Annulled,
            Meaning::Restored
        ]
    );
    s.ledger().database().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_is_clarified_annulled_and_restored_and_wrong_changes_are_refused() {
    on_both_backends!(changes_of_a_charge);
}

async fn forced_acknowledgement(database: Database) {
    let s = service(&database).await;
    let [paid, unpaid] = <[String; 2]>::try_from(uins(&s, 2).await).unwrap();
    let both = charge("I_c1", &paid, 500_000) + &charge("I_c2", &unpaid, 70_000);
    assert_eq!(codes(&s, &import_charges(&both)).await, ["0", "0"]);
    assert_eq!(codes(&s, &import_payment(PAYMENT_1, &paid, 500_000)).await, ["0"]);

    // Reconciled by the administrator with no payment at all: quittance 4.
    let reconcile =
        format!(r#"<req:Reconcile supplierBillId="{unpaid}"><req:PaymentNotLoaded/></req:Reconcile>"#);
    let el = response(&s, &forced(&reconcile)).await;
    assert!(el.to_xml().contains(r#"billStatus="4""#), "{}", el.to_xml());
    assert_eq!(quittances(&s, &unpaid).await[0].0, "4");
    // Its annulment: the charge is back to not reconciled.
    let annul = format!(
        r#"<req:AnnulmentReconcile supplierBillId="{unpaid}"><req:PaymentNotLoaded/></req:AnnulmentReconcile>"#
    );
    // Naming nothing to annul is no request at all.
    let nothing = format!(r#"<req:AnnulmentReconcile supplierBillId="{unpaid}"/>"#);
    assert!(matches!(answer(&s, &forced(&nothing)).await, Answer::Rejected(_)));
    response(&s, &forced(&annul)).await;
    assert_eq!(exported_charge(&s, &unpaid).await.unwrap().2, "3");

    // «Услуга предоставлена» on a payment: once; a second time 324; annulled once, then 328.
    let provided = format!(
        r#"<req:ServiceProvided><req:PaymentDataInfo paymentId="{PAYMENT_1}"/></req:ServiceProvided>"#
    );
    let annul_provided = format!(
        r#"<req:AnnulmentServiceProvided><req:PaymentDataID paymentId="{PAYMENT_1}"/></req:AnnulmentServiceProvided>"#
    );
    assert!(response(&s, &forced(&provided)).await.child("Done").is_some());
    assert!(matches!(
        answer(&s, &forced(&provided)).await,
        Answer::Status { code: 324, .. }
    ));
    assert!(
        response(&s, &forced(&annul_provided))
            .await
            .child("Done")
            .is_some()
    );
    assert!(matches!(
        answer(&s, &forced(&annul_provided)).await,
        Answer::Status { code: 328, .. }
    ));
    // A payment that is not there.
    let missing = provided.replace(PAYMENT_1, PAYMENT_2);
    assert!(matches!(
        answer(&s, &forced(&missing)).await,
        Answer::Status { code: 4, .. }
    ));
    s.ledger().database().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_acknowledgement_reconciles_without_payment_and_marks_a_service_provided_once() {
    on_both_backends!(forced_acknowledgement);
}

#[tokio::test]
async fn what_is_not_a_served_request_is_rejected_whole() {
    let database = Database::sqlite().await;
    let s = service(&database).await;
    for xml in [
        "not xml",
        r#"<x:ImportChargesRequest xmlns:x="urn:example" Id="G_1" senderIdentifier="3eacb7"/>"#,
        r#"<req:ImportRefundsRequest xmlns:req="urn://roskazna.ru/gisgmp/xsd/services/import-refunds/2.4.0" Id="G_1" senderIdentifier="3eacb7"/>"#,
        r#"<req:ImportChargesRequest xmlns:req="urn://roskazna.ru/gisgmp/xsd/services/import-charges/2.4.0" senderIdentifier="3eacb7"/>"#,
    ] {
        assert!(matches!(answer(&s, xml).await, Answer::Rejected(_)), "{xml}");
    }
}

/// Each official request is answered in its own service namespace with `RqId` naming it; the
/// official charge is taken (code 0) and the portal's prior charge gets a UIN of the module's URN.
#[tokio::test]
async fn official_requests_are_answered_in_their_own_namespace() {
    let Some(_) = crate::reference::dir() else {
        eprintln!("official_requests_are_answered_in_their_own_namespace: RSMEV_REFERENCE is not set");
        return;
    };
    let database = Database::sqlite().await;
    let s = service(&database).await;
    for path in [
        "16-import-charges",
        "17-import-payments",
        "07-export-charges",
        "09-export-payments",
        "06-export-quittances",
        "02-charge-creation-prior",
    ] {
        let test = "official_requests_are_answered_in_their_own_namespace";
        let request =
            El::parse(&crate::reference::official_sample(test, &format!("{path}/Request.xml")).unwrap())
                .unwrap();
        let expected =
            El::parse(&crate::reference::official_sample(test, &format!("{path}/Response.xml")).unwrap())
                .unwrap();
        let got = response(&s, &request.to_xml()).await;
        assert_eq!((&got.ns, &got.local), (&expected.ns, &expected.local), "{path}");
        assert_eq!(got.attr("RqId"), request.attr("Id"), "{path}");
        assert_eq!(
            got.attr("recipientIdentifier"),
            request.attr("senderIdentifier"),
            "{path}"
        );
        if path == "16-import-charges" || path == "17-import-payments" {
            let protocol = got.child("ImportProtocol").unwrap();
            assert_eq!(protocol.attr("code"), Some("0"), "{path}: {}", got.to_xml());
        }
        if path == "02-charge-creation-prior" {
            let uin = got
                .child("Charge")
                .and_then(|c| c.attr("supplierBillID"))
                .unwrap();
            let uin = crate::Uin::parse(uin).unwrap();
            assert_eq!(uin.as_str().len(), 25);
            assert!(uin.as_str().starts_with("11145652"), "{}", uin.as_str());
        }
    }
}

/// Two processes (two pools) taking the payments of one charge at the same moment: both are
/// reconciled, neither quittance is lost and the charge ends paid, round after round.
async fn concurrent_payments(database: Database) {
    let a = service(&database).await;
    let b = service(&database).await;
    const ROUNDS: usize = 5;
    let charges = uins(&a, ROUNDS as u64).await;
    for (round, uin) in charges.iter().enumerate() {
        assert_eq!(
            codes(&a, &import_charges(&charge("I_c", uin, 100_000))).await,
            ["0"]
        );
        let first = format!("1047102001000523010720210000{:02}01", round);
        let second = format!("1047102001000523010720210000{:02}02", round);
        let (pa, pb) = (
            import_payment(&first, uin, 60_000),
            import_payment(&second, uin, 40_000),
        );
        let (sa, sb) = (a.clone(), b.clone());
        let x = tokio::spawn(async move { codes(&sa, &pa).await });
        let y = tokio::spawn(async move { codes(&sb, &pb).await });
        let (x, y) = (x.await.unwrap(), y.await.unwrap());
        assert_eq!((x, y), (vec!["0".to_owned()], vec!["0".to_owned()]));
        assert_eq!(
            exported_charge(&a, uin).await,
            Some(("100000".into(), "0".into(), "1".into())),
            "round {round}"
        );
        assert_eq!(
            quittances_of_kind(&b, uin, "ALLQUITTANCE").await.len(),
            2,
            "round {round}"
        );
    }
    a.ledger().database().close().await;
    b.ledger().database().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_taking_payments_of_one_charge_lose_no_quittance() {
    on_both_backends!(concurrent_payments);
}

async fn a_message_answered_again(database: Database) {
    let s = service(&database).await;
    let [uin] = <[String; 1]>::try_from(uins(&s, 1).await).unwrap();
    let charges = import_charges(&charge("I_c1", &uin, 500_000));
    let payment = import_payment(PAYMENT_1, &uin, 500_000);
    let protocol_codes = |a: Answer| match a {
        Answer::Response(el) => el
            .children
            .iter()
            .map(|p| p.attr("code").unwrap().to_owned())
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    // The same message again (its answer lost on the way) gets the same answer, code 0 …
    for _ in 0..2 {
        let a = s.answer(&charges, "m-charge", NOW).await.unwrap();
        assert_eq!(protocol_codes(a), ["0"]);
        let a = s.answer(&payment, "m-payment", NOW).await.unwrap();
        assert_eq!(protocol_codes(a), ["0"]);
    }
    // … and nothing twice: one charge event, one quittance.
    assert_eq!(s.ledger().charge_events(&uin).await.unwrap().len(), 1);
    assert_eq!(quittances_of_kind(&s, &uin, "ALLQUITTANCE").await.len(), 1);
    // Another message with the same charge or payment is a duplicate.
    assert_eq!(codes(&s, &charges).await, ["5"]);
    assert_eq!(codes(&s, &payment).await, ["5"]);
    s.ledger().database().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_answered_again_gets_the_same_answer_and_changes_nothing_twice() {
    on_both_backends!(a_message_answered_again);
}

/// The `Refund`s (`refundId`, `amount`) of the active quittance of `uin`.
async fn quittance_refunds(s: &Service, uin: &str) -> Vec<(String, String)> {
    let el = response(
        s,
        &export(
            "export-quittances",
            "ExportQuittancesRequest",
            "QuittancesExportConditions",
            "QUITTANCE",
            uin,
        ),
    )
    .await;
    el.children_named("Quittance")
        .flat_map(|q| q.children_named("Refund"))
        .map(|r| {
            (
                r.attr("refundId").unwrap().to_owned(),
                r.attr("amount").unwrap().to_owned(),
            )
        })
        .collect()
}

/// The `refundId`s ExportRefunds answers for payment `payment_id`.
async fn exported_refunds(s: &Service, payment_id: &str) -> Vec<String> {
    let xml = crate::fixtures::request(
        "export-refunds",
        "ExportRefundsRequest",
        "3eacb7",
        &format!(
            r#"<com:Paging pageNumber="1" pageLength="100"/><sc:RefundsExportConditions kind="REFUND"><sc:PaymentsConditions><sc:PaymentId>{payment_id}</sc:PaymentId></sc:PaymentsConditions></sc:RefundsExportConditions>"#
        ),
    );
    let el = response(s, &xml).await;
    assert_eq!(el.attr("hasMore"), Some("false"), "{}", el.to_xml());
    el.children_named("Refund")
        .map(|r| r.attr("refundId").unwrap().to_owned())
        .collect()
}

async fn refunds(database: Database) {
    let s = service(&database).await;
    let [uin, later] = <[String; 2]>::try_from(uins(&s, 2).await).unwrap();
    let charges = charge("I_c1", &uin, 100_000) + &charge("I_c2", &later, 50_000);
    assert_eq!(codes(&s, &import_charges(&charges)).await, ["0", "0"]);
    assert_eq!(codes(&s, &import_payment(PAYMENT_1, &uin, 100_000)).await, ["0"]);
    assert_eq!(
        quittances(&s, &uin).await,
        [("1".into(), "0".into(), PAYMENT_1.into())]
    );

    // 30 000 kopecks go back: the balance grows by them and the quittance lists the refund.
    let first = refund_id(1);
    assert_eq!(
        codes(&s, &import_refunds(&refund("I_r1", &first, PAYMENT_1, 30_000))).await,
        ["0"]
    );
    assert_eq!(
        quittances(&s, &uin).await,
        [("1".into(), "30000".into(), PAYMENT_1.into())]
    );
    assert_eq!(
        quittance_refunds(&s, &uin).await,
        [(first.clone(), "30000".to_owned())]
    );
    assert_eq!(
        exported_charge(&s, &uin).await,
        Some(("100000".into(), "30000".into(), "1".into()))
    );
    // The same УИВ again is code 5; more than the 70 000 left is code 40; a zero amount and a
    // malformed УИВ are refused as the XSD would; each entity on its own.
    let package = refund("I_r2", &first, PAYMENT_1, 10)
        + &refund("I_r3", &refund_id(2), PAYMENT_1, 70_001)
        + &refund("I_r4", &refund_id(3), PAYMENT_1, 70_000);
    assert_eq!(codes(&s, &import_refunds(&package)).await, ["5", "40", "0"]);
    assert_eq!(
        quittances(&s, &uin).await,
        [("1".into(), "100000".into(), PAYMENT_1.into())]
    );
    assert_eq!(exported_refunds(&s, PAYMENT_1).await.len(), 2);
    // A zero amount is refused as the XSD would (111 with the reason), a УИВ dated 31.02 with
    // GIS GMP's 321; nothing is recorded.
    let package = refund("I_r5", &refund_id(4), PAYMENT_1, 0)
        + &refund("I_r6", "1047102031022021000000001", PAYMENT_1, 1);
    assert_eq!(codes(&s, &import_refunds(&package)).await, ["111", "321"]);
    assert_eq!(exported_refunds(&s, PAYMENT_1).await.len(), 2);

    // A refund before its payment is kept, and counts when the payment comes.
    assert_eq!(
        codes(
            &s,
            &import_refunds(&refund("I_r7", &refund_id(5), PAYMENT_2, 5_000))
        )
        .await,
        ["0"]
    );
    assert_eq!(codes(&s, &import_payment(PAYMENT_2, &later, 50_000)).await, ["0"]);
    assert_eq!(
        quittances(&s, &later).await,
        [("1".into(), "5000".into(), PAYMENT_2.into())]
    );
    assert_eq!(exported_refunds(&s, PAYMENT_2).await, [refund_id(5)]);
    s.ledger().database().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_raise_the_balance_list_in_the_quittance_and_never_exceed_their_payment() {
    on_both_backends!(refunds);
}

/// An `ExportNoticeRequest` to `3eacb7` carrying `notices` (elements of the ExportNotice
/// namespace).
fn export_notice(notices: &[El]) -> String {
    let ns = Version::V2_4_0.service("ExportNotice");
    let mut request = El::new(ns.clone(), "ExportNoticeRequest")
        .with("Id", format!("G_{}", uuid::Uuid::new_v4()))
        .with("timestamp", "2021-07-01T19:44:47.032+03:00")
        .child_el(
            El::new(ns.clone(), "Destination")
                .with("recipientIdentifier", "3eacb7")
                .child_el(El::new(ns, "RoutingCode").with_text("45348000")),
        );
    request.children.extend(notices.iter().cloned());
    request.to_xml()
}

/// A `NoticePayment` of the fixtures' payment.
fn notice_payment(payment_id: &str, uin: &str, amount: u64) -> El {
    let package = El::parse(&import_payments(&payment("I_n", payment_id, uin, amount))).unwrap();
    let mut p = package.child("PaymentsPackage").unwrap().children[0].clone();
    p.ns = Version::V2_4_0.service("ExportNotice");
    p.local = "NoticePayment".into();
    p.remove("Id");
    p.children
        .push(change_status_info(Version::V2_4_0, Meaning::New, None, None));
    p
}

async fn notices(database: Database) {
    let s = service(&database).await;
    let [uin] = <[String; 1]>::try_from(uins(&s, 1).await).unwrap();
    assert_eq!(
        codes(&s, &import_charges(&charge("I_c", &uin, 1_000))).await,
        ["0"]
    );
    let quittance = El::new(Version::V2_4_0.service("ExportNotice"), "NoticeQuittance")
        .with("supplierBillID", uin.clone())
        .with("totalAmount", "1000")
        .with("balance", "0")
        .with("billStatus", "1");
    let xml = export_notice(&[notice_payment(PAYMENT_1, &uin, 1_000), quittance]);
    let confirmation = |el: &El| {
        (
            el.local.clone(),
            el.child("RoutingCode").map(|r| r.text.clone()),
            el.child("ExportNoticeConfirmation").map(|c| c.text.clone()),
            el.attr("recipientIdentifier").map(str::to_owned),
        )
    };
    let expected = (
        "ExportNoticeResponse".to_owned(),
        Some("45348000".to_owned()),
        Some("true".to_owned()),
        Some("3eacb7".to_owned()),
    );
    for _ in 0..2 {
        // Answered again under the same message: the same, nothing twice.
        let Answer::Response(el) = s.answer(&xml, "notice-1", NOW).await.unwrap() else {
            panic!("no response")
        };
        assert_eq!(confirmation(&el), expected, "{}", el.to_xml());
        assert_eq!(el.attr("RqId"), El::parse(&xml).unwrap().attr("Id"));
    }
    let kept = notices_of(&s, "notice-1").await.unwrap();
    let kinds: Vec<&str> = kept.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["NoticePayment", "NoticeQuittance"]);
    // The payment went into the ledger and reconciled the charge.
    assert_eq!(
        quittances(&s, &uin).await,
        [("1".into(), "0".into(), PAYMENT_1.into())]
    );
    // A payment that does not read is not confirmed: GIS GMP sends it again.
    let mut broken = notice_payment(PAYMENT_2, &uin, 10);
    broken.remove("paymentId");
    let Answer::Response(el) = s
        .answer(&export_notice(&[broken]), "notice-2", NOW)
        .await
        .unwrap()
    else {
        panic!("no response")
    };
    assert_eq!(
        el.child("ExportNoticeConfirmation").map(|c| c.text.as_str()),
        Some("false")
    );
    assert!(s.ledger().payment(PAYMENT_2).await.unwrap().is_none());
    s.ledger().database().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_are_kept_their_payments_reconciled_and_confirmed() {
    on_both_backends!(notices);
}
