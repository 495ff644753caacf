use time::macros::datetime;

use super::*;
use crate::fixtures::{KBK_CHAPTER, charge, export, import_charges};
use crate::issue::{KbkChapter, UinPrefix};
use crate::ledger::Ledger;
use crate::test_db::Database;

const NOW: OffsetDateTime = datetime!(2021-07-01 12:00 UTC);

async fn service(database: &Database) -> Service {
    Service::new(Ledger::new(database.open().await), Urn::parse("aa11b4").unwrap())
}

/// A fresh UIN of the fixtures' KBK chapter, and the same with a wrong check digit.
async fn uin_and_broken(s: &Service) -> (String, String) {
    let chapter = UinPrefix::KbkChapter(KbkChapter::parse(KBK_CHAPTER).unwrap());
    let uin = crate::sequence::next_uins(s.ledger().database(), &chapter, 1)
        .await
        .unwrap()
        .remove(0)
        .as_str()
        .to_owned();
    let last = uin.chars().last().unwrap().to_digit(10).unwrap();
    let broken = format!("{}{}", &uin[..uin.len() - 1], (last + 1) % 10);
    (uin, broken)
}

fn forwarded(p: Precheck) -> Forwarded {
    match p {
        Precheck::Forward(f) => f,
        Precheck::Local(a) => panic!("answered here: {a:?}"),
    }
}

fn codes(answer: &Answer) -> Vec<(String, String)> {
    let Answer::Response(el) = answer else {
        panic!("not a response: {answer:?}")
    };
    el.children_named("ImportProtocol")
        .map(|p| {
            (
                p.attr("entityID").unwrap().to_owned(),
                p.attr("code").unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn entities_refused_here_stay_here_and_come_back_in_the_requests_order() {
    let database = Database::sqlite().await;
    let s = service(&database).await;
    let (good, broken) = uin_and_broken(&s).await;
    let request = import_charges(&(charge("I_bad", &broken, 100) + &charge("I_good", &good, 100)));
    let f = forwarded(s.precheck(&request, NOW));
    // Only the good charge goes up, under its own Id.
    let up = El::parse(&f.request).unwrap();
    let package = up.child("ChargesPackage").unwrap();
    let ids: Vec<&str> = package.children.iter().map(|c| c.attr("Id").unwrap()).collect();
    assert_eq!(ids, ["I_good"]);
    assert_eq!(up.attr("Id"), El::parse(&request).unwrap().attr("Id"));
    assert_eq!(f.order, ["I_bad", "I_good"]);
    // The federal answer for the good one, merged with the refusal made here: request order.
    let mut federal = El::new(up.ns.clone(), "ImportChargesResponse").with("RqId", up.attr("Id").unwrap());
    federal.children.push(protocol_el(
        Version::V2_4_0,
        crate::package::check_package(["I_good"]).unwrap().remove(0),
        Ok(()),
    ));
    let merged = f.merge(Answer::Response(federal), Version::V2_4_0);
    assert_eq!(
        codes(&merged),
        [("I_bad".into(), "234".into()), ("I_good".into(), "0".into())]
    );
    // A status or a rejection from upstream is the answer as it is.
    let status = Answer::Status {
        code: 30,
        description: "нет прав".into(),
    };
    assert_eq!(f.merge(status.clone(), Version::V2_4_0), status);
    database.open().await.close().await;
}

#[tokio::test]
async fn a_request_refused_whole_here_never_goes_up() {
    let database = Database::sqlite().await;
    let s = service(&database).await;
    let (_, broken) = uin_and_broken(&s).await;
    match s.precheck(&import_charges(&charge("I_bad", &broken, 100)), NOW) {
        Precheck::Local(answer) => assert_eq!(codes(&answer), [("I_bad".into(), "234".into())]),
        other => panic!("{other:?}"),
    }
    for not_served in [
        "<a/>".to_owned(),
        r#"<req:ImportRenouncementRequest xmlns:req="urn://roskazna.ru/gisgmp/xsd/services/import-Renouncement/2.4.0" Id="G_1" senderIdentifier="3eacb7"/>"#.to_owned(),
        import_charges("").replace("ChargesPackage", "PaymentsPackage"),
    ] {
        assert!(
            matches!(s.precheck(&not_served, NOW), Precheck::Local(Answer::Rejected(_))),
            "{not_served}"
        );
    }
    // An export goes up as it came.
    let x = export(
        "export-charges",
        "ExportChargesRequest",
        "ChargesExportConditions",
        "CHARGE",
        "0",
    );
    let f = forwarded(s.precheck(&x, NOW));
    assert_eq!(f.request, x);
    assert!(f.refused.is_empty() && f.order.is_empty());
}

#[tokio::test]
async fn the_ledger_takes_what_the_federal_gis_gmp_accepted_only() {
    let database = Database::sqlite().await;
    let s = service(&database).await;
    let (a, _) = uin_and_broken(&s).await;
    let (b, _) = uin_and_broken(&s).await;
    let request = import_charges(&(charge("I_a", &a, 100) + &charge("I_b", &b, 200)));
    let f = forwarded(s.precheck(&request, NOW));
    let up = El::parse(&f.request).unwrap();
    let mut federal = El::new(up.ns.clone(), "ImportChargesResponse");
    let ids = crate::package::check_package(["I_a", "I_b"]).unwrap();
    federal
        .children
        .push(protocol_el(Version::V2_4_0, ids[0].clone(), Ok(())));
    federal.children.push(protocol_el(
        Version::V2_4_0,
        ids[1].clone(),
        Err(own(5, text::DUPLICATE, "there upstream")),
    ));
    s.mirror(&f.request, &Answer::Response(federal), "forward-1", NOW)
        .await
        .unwrap();
    assert!(s.ledger().charge(&a).await.unwrap().is_some());
    assert!(s.ledger().charge(&b).await.unwrap().is_none());
    // A refusal upstream changes nothing here.
    let (c, _) = uin_and_broken(&s).await;
    let f = forwarded(s.precheck(&import_charges(&charge("I_c", &c, 100)), NOW));
    let refused = Answer::Status {
        code: 30,
        description: "нет прав".into(),
    };
    s.mirror(&f.request, &refused, "forward-2", NOW).await.unwrap();
    assert!(s.ledger().charge(&c).await.unwrap().is_none());
    s.ledger().database().close().await;
}
