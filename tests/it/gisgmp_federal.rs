//! The GIS GMP module forwarding to the federal GIS GMP (`[gisgmp] forward = true`): the
//! regional node's module checks each request, sends it through the node's pipeline to the
//! federal link, which carries it to a second node playing the federal SMEV 3 with its own GIS
//! GMP module (the emulator); the federal answer comes back the same way and the regional
//! participant gets it, with the entities refused in the region merged in, in its queue.

use rsmev_gisgmp::doc::Version;
use rsmev_gisgmp::fixtures;
use rsmev_registry::{InfoTypeKind, QName};

use crate::backend::Backend;
use crate::federal::Federation;
use crate::gisgmp_module::{ask, ask_from, document, key_files, register_types};
use crate::harness::{NodeOptions, Participant, infotype};

/// The request root of GIS GMP's pushes.
const NOTICE: &str = "ExportNoticeRequest";

on_every_backend! {
    requests_are_checked_in_the_region_forwarded_to_the_federal_gis_gmp_and_answered_from_it,
}

/// A charge of the fixtures' chapter (321) with a valid check digit, and one with a wrong one.
const UIN: &str = "32116102414550976332";
const BROKEN_UIN: &str = "32116102414550976333";

/// `(entityID, code)` of each `ImportProtocol` of an answer.
fn protocols(content: &rsmev_broker::envelope::ResponseContent) -> Vec<(String, String)> {
    document(content)
        .children_named("ImportProtocol")
        .map(|p| {
            (
                p.attr("entityID").unwrap_or_default().to_owned(),
                p.attr("code").unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn requests_are_checked_in_the_region_forwarded_to_the_federal_gis_gmp_and_answered_from_it(
    backend: Backend,
) {
    let federal_module = Participant::generate("GISGMP");
    let regional_module = Participant::generate("GISGMP");
    let (_federal_keys, f_key, f_cert) = key_files(&federal_module);
    let (_regional_keys, r_key, r_cert) = key_files(&regional_module);
    let f = Federation::start_tweaked(
        backend,
        &[],
        NodeOptions::default(),
        |c| {
            c.gisgmp.participant = "GISGMP".into();
            c.gisgmp.key = f_key;
            c.gisgmp.cert = f_cert;
            c.gisgmp.urn = "aa11b4".into();
            c.gisgmp.poll_interval_ms = 50;
        },
        |c| {
            c.gisgmp.participant = "GISGMP".into();
            c.gisgmp.key = r_key;
            c.gisgmp.cert = r_cert;
            c.gisgmp.urn = "bb22c5".into();
            c.gisgmp.poll_interval_ms = 50;
            c.gisgmp.forward = true;
        },
    )
    .await;
    // Federal: the emulator provides the types; the region (the link, `REGION`) and a federal
    // portal may ask.
    f.federal.register(&federal_module).await;
    let region = Participant::generate("REGION");
    register_types(&f.federal, &federal_module, false, &[&region, &f.epgu], &[NOTICE]).await;
    // Federal: the region (`REGION`) subscribes to the notices GIS GMP pushes.
    let notice = QName::new(Version::V2_4_0.service("ExportNotice"), NOTICE);
    let notice_response = QName::new(Version::V2_4_0.service("ExportNotice"), "ExportNoticeResponse");
    f.federal
        .infotype(infotype(&notice, InfoTypeKind::Request, &region))
        .await;
    f.federal
        .infotype(infotype(&notice_response, InfoTypeKind::Response, &region))
        .await;
    f.federal.grant(&federal_module, &notice).await;
    // Regional: the module provides them, marked federal; the МФЦ may ask, the link brings the
    // notices in.
    f.region.register(&regional_module).await;
    let link = Participant::generate("SMEV3");
    register_types(&f.region, &regional_module, true, &[&f.mfc], &[]).await;
    f.region.grant(&link, &notice).await;
    let mfc = f.region.client(&f.mfc);

    // The broken UIN is refused here (234) and never leaves the region; the other charge is
    // taken by the federal GIS GMP. One answer, in the request's order.
    let charges = fixtures::import_charges(
        &(fixtures::charge("I_bad", BROKEN_UIN, 100) + &fixtures::charge("I_good", UIN, 500_000)),
    );
    assert_eq!(
        protocols(&ask(&mfc, &charges).await),
        [("I_bad".into(), "234".into()), ("I_good".into(), "0".into())]
    );
    // The same charge again: the federal GIS GMP's "already there".
    let again = fixtures::import_charges(&fixtures::charge("I_again", UIN, 500_000));
    assert_eq!(
        protocols(&ask(&mfc, &again).await),
        [("I_again".into(), "5".into())]
    );

    // The payment goes up too; the federal GIS GMP reconciles it; its quittance comes back.
    let payment_id = fixtures::payment_id(1);
    let payment = fixtures::import_payments(&fixtures::payment("I_p", &payment_id, UIN, 500_000));
    assert_eq!(
        protocols(&ask(&mfc, &payment).await),
        [("I_p".into(), "0".into())]
    );
    let quittances = fixtures::export(
        "export-quittances",
        "ExportQuittancesRequest",
        "QuittancesExportConditions",
        "QUITTANCE",
        UIN,
    );
    let regional = document(&ask(&mfc, &quittances).await);
    let q = regional
        .child("Quittance")
        .unwrap_or_else(|| panic!("no quittance: {}", regional.to_xml()));
    assert_eq!(
        (q.attr("billStatus"), q.attr("balance"), q.attr("paymentId")),
        (Some("1"), Some("0"), Some(payment_id.as_str()))
    );

    // The federal GIS GMP has the charge and its payment: a federal portal asking it directly
    // sees the same quittance.
    let epgu = f.federal.client(&f.epgu);
    let federal = document(&ask(&epgu, &quittances).await);
    assert_eq!(
        federal.child("Quittance").and_then(|q| q.attr("billStatus")),
        Some("1"),
        "{}",
        federal.to_xml()
    );

    // A notice GIS GMP pushes to the region crosses the link down, is taken by the regional
    // module and confirmed back up to the federal GIS GMP.
    let gisgmp = f.federal.client(&federal_module);
    let push = format!(
        r#"<nt:ExportNoticeRequest xmlns:nt="{}" Id="G_push1" timestamp="2021-07-01T19:44:47.032+03:00"><nt:Destination recipientIdentifier="3eacb7"><nt:RoutingCode>45348000</nt:RoutingCode></nt:Destination><nt:NoticeQuittance supplierBillID="{UIN}" totalAmount="500000" balance="0" billStatus="1" isRevoked="false" paymentId="{payment_id}" amountPayment="500000" creationDate="2021-07-01T19:26:49+03:00"/></nt:ExportNoticeRequest>"#,
        Version::V2_4_0.service("ExportNotice")
    );
    // Upstream, the region's system answers: the link's `REGION`.
    let confirmation = document(&ask_from(&gisgmp, &push, "REGION").await);
    assert_eq!(
        (
            confirmation.local.as_str(),
            confirmation.attr("RqId"),
            confirmation
                .child("ExportNoticeConfirmation")
                .map(|c| c.text.as_str())
        ),
        ("ExportNoticeResponse", Some("G_push1"), Some("true")),
        "{}",
        confirmation.to_xml()
    );
    f.shutdown().await;
}
