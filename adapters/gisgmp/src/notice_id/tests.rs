use time::macros::date;

use super::*;
use crate::reference;

#[test]
fn a_refund_id_reads_the_urn_date_and_number() {
    let id = RefundId::parse("0410964930092020000000013").unwrap();
    assert_eq!(id.urn(), Urn::parse("3eb551").ok());
    assert_eq!(id.urn().unwrap().decimal8(), "04109649");
    assert_eq!(id.date(), date!(2020 - 09 - 30));
    assert_eq!(id.number(), "000000013");
    assert_eq!(id.to_string(), "0410964930092020000000013");
    // First 8 digits beyond ffffff name no URN.
    assert_eq!(RefundId::parse("9999999930092020000000013").unwrap().urn(), None);
}

#[test]
fn income_and_clarification_ids_read_the_tofk_code() {
    let id: IncomeId = "45100110320210000000000000000004".parse().unwrap();
    assert_eq!(id.tofk_code(), "5100");
    assert_eq!(id.date(), date!(2021 - 03 - 11));
    assert_eq!(id.number(), "0000000000000000004");
    let id = ClarificationId::parse("55100120320210000000000000000008").unwrap();
    assert_eq!(id.tofk_code(), "5100");
    assert_eq!(id.date(), date!(2021 - 03 - 12));
}

#[test]
fn a_renouncement_id_reads_its_urn() {
    let id = RenouncementId::parse("F304A7C290420210000005894").unwrap();
    assert_eq!(id.urn(), Urn::parse("304a7c").ok());
    assert_eq!(id.date(), date!(2021 - 04 - 29));
    assert_eq!(id.number(), "0000005894");
}

#[test]
fn the_2_4_0_schema_refuses_the_tofk_refund_id() {
    let e = RefundId::parse("64999010720210000000000000000001").unwrap_err();
    assert_eq!(e, NoticeIdError::TofkRefund);
    assert_eq!(e.code(), Code::Schema);
}

#[test]
fn layouts_are_enforced_as_the_xsd_does() {
    let cases: [(Result<(), NoticeIdError>, NoticeIdError); 6] = [
        (
            RefundId::parse("041096493009202000000001").map(drop),
            NoticeIdError::Length {
                notice: NoticeKind::Refund,
                expected: 25,
                length: 24,
            },
        ),
        (
            IncomeId::parse("55100110320210000000000000000004").map(drop),
            NoticeIdError::Character {
                notice: NoticeKind::Income,
                position: 1,
                found: '5',
            },
        ),
        (
            ClarificationId::parse("5510012032021000000000000000000x").map(drop),
            NoticeIdError::Character {
                notice: NoticeKind::Clarification,
                position: 32,
                found: 'x',
            },
        ),
        (
            RenouncementId::parse("F304A7G290420210000005894").map(drop),
            NoticeIdError::Character {
                notice: NoticeKind::Renouncement,
                position: 7,
                found: 'G',
            },
        ),
        (
            RefundId::parse("0410964932092020000000013").map(drop),
            NoticeIdError::DateMask {
                notice: NoticeKind::Refund,
                date: "32092020".into(),
            },
        ),
        (
            IncomeId::parse("45100300220210000000000000000004").map(drop),
            NoticeIdError::NoSuchDate {
                notice: NoticeKind::Income,
                date: "30022021".into(),
            },
        ),
    ];
    for (got, e) in cases {
        assert_eq!(got, Err(e));
    }
}

#[test]
fn impossible_dates_get_the_format_codes_where_listed() {
    let e = RefundId::parse("0410964931022020000000013").unwrap_err();
    assert_eq!(e.code(), Code::Protocol(321));
    assert_eq!(e.description_ru(), "Некорректный формат УИВ");
    let e = ClarificationId::parse("55100310220210000000000000000008").unwrap_err();
    assert_eq!(e.code(), Code::Protocol(350));
    assert_eq!(e.description_ru(), "Некорректный формат УВПП");
    let e = RenouncementId::parse("F304A7C310420210000005894").unwrap_err();
    assert_eq!(e.code(), Code::Unlisted);
    assert_eq!(e.description_ru(), "Дата 31042021 в УИВИП не существует");
    let e = RefundId::parse("1").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(
        e.description_ru(),
        "УИВ состоит из 25 символов, указано символов: 1"
    );
}

#[test]
fn reference_other_ids_parse_by_kind() {
    let Some(vectors) = reference::vectors("notice_id reference_other_ids_parse_by_kind") else {
        return;
    };
    let list = reference::category(&vectors, "other_ids");
    assert_eq!(list.len(), 5);
    for v in list {
        let value = reference::text(v, "value");
        let kind = reference::text(v, "kind");
        let parsed = match kind {
            "RefundId (УИВ) 25" => RefundId::parse(value).map(|id| id.date()),
            // The 2.5.x TOFK form: the 2.4.0 pattern's literal '^' refuses it (SOURCES.md).
            "RefundId 32 (TOFK)" => {
                assert_eq!(RefundId::parse(value), Err(NoticeIdError::TofkRefund));
                continue;
            }
            "IncomeId (УИЗ)" => IncomeId::parse(value).map(|id| id.date()),
            "ClarificationId (УВПП)" => ClarificationId::parse(value).map(|id| id.date()),
            "RenouncementID" => RenouncementId::parse(value).map(|id| id.date()),
            other => panic!("a new kind of id in the vectors: {other}"),
        };
        assert!(parsed.is_ok(), "{kind} {value}: {parsed:?}");
    }
}
