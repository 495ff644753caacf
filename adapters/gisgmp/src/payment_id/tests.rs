use proptest::prelude::*;
use time::macros::date;

use super::*;
use crate::reference;

#[test]
fn a_credit_institutions_id_reads_bik_branch_date_and_number() {
    // The example of §5.3: BIK 047102001, branch 000523, 01.07.2021, number 1.
    let id = PaymentId::parse_new("10471020010005230107202100000001").unwrap();
    assert_eq!(id.kind(), PaymentIdKind::CreditInstitution);
    assert_eq!(id.bik().unwrap().as_str(), "047102001");
    assert_eq!(id.branch(), Some("000523"));
    assert_eq!(id.date(), Some(date!(2021 - 07 - 01)));
    assert_eq!(id.sequence(), Some("00000001"));
    assert_eq!((id.tofk_code(), id.urn()), (None, None));
    assert_eq!(id.to_string(), "10471020010005230107202100000001");
}

#[test]
fn a_treasury_id_reads_its_tofk_code() {
    let id: PaymentId = "24500000000000003009202012345678".parse().unwrap();
    assert_eq!(id.kind(), PaymentIdKind::Treasury);
    assert_eq!(id.tofk_code(), Some("4500"));
    assert_eq!(id.date(), Some(date!(2020 - 09 - 30)));
    assert_eq!(id.sequence(), Some("12345678"));
    assert_eq!(id.bik(), None);
    // The reserve between code and date is eleven zeros.
    assert_eq!(
        PaymentId::parse("24500000000000103009202012345678")
            .unwrap()
            .kind(),
        PaymentIdKind::Legacy
    );
}

#[test]
fn another_participants_id_reads_its_urn() {
    let id = PaymentId::parse_new("33EB6E50107202100000000000000042").unwrap();
    assert_eq!(id.kind(), PaymentIdKind::Other);
    assert_eq!(id.urn(), Urn::parse("3eb6e5").ok());
    assert_eq!(id.date(), Some(date!(2021 - 07 - 01)));
    assert_eq!(id.sequence(), Some("00000000000000042"));
}

#[test]
fn any_other_word_string_is_a_legacy_id_the_xsd_admits_but_a_new_payment_cannot_carry() {
    for legacy in [
        "ID000000000000000000000000000001",
        "10471020010005233202202100000001", // no 32nd day
        "1047102001000523010720210000000A",
        "5047102001000523010720210000000ж",
    ] {
        let id = PaymentId::parse(legacy).unwrap();
        assert_eq!(id.kind(), PaymentIdKind::Legacy, "{legacy}");
        assert_eq!((id.date(), id.sequence()), (None, None));
        let e = PaymentId::parse_new(legacy).unwrap_err();
        assert_eq!(e.code(), Code::Protocol(336), "{legacy}");
        assert_eq!(e.description_ru(), "Недопустимый формат УПНО (УИП)");
    }
    // The mask admits 31 February; the calendar does not.
    let e = PaymentId::parse_new("10471020010005233102202100000001").unwrap_err();
    assert_eq!(
        e,
        PaymentIdError::NoSuchDate {
            value: "10471020010005233102202100000001".into(),
            date: "31022021".into()
        }
    );
    assert_eq!(e.code(), Code::Protocol(336));
    assert_eq!(
        PaymentId::parse("10471020010005233102202100000001")
            .unwrap()
            .kind(),
        PaymentIdKind::Legacy
    );
}

#[test]
fn what_the_xsd_refuses_is_a_schema_refusal() {
    assert_eq!(
        PaymentId::parse("1047102001000523010720210000001"),
        Err(PaymentIdError::Length { length: 31 })
    );
    assert_eq!(
        PaymentId::parse("10471020010005230107202100000-01"),
        Err(PaymentIdError::NotWord {
            position: 30,
            found: '-'
        })
    );
    assert_eq!(
        PaymentId::parse_new("1047102001000523_107202100000001"),
        Err(PaymentIdError::NotWord {
            position: 17,
            found: '_'
        })
    );
    let e = PaymentId::parse("").unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert_eq!(
        e.description_ru(),
        "УПНО (УИП) состоит из 32 символов, указано символов: 0"
    );
}

#[test]
fn the_date_must_be_the_payments() {
    let id = PaymentId::parse_new("10471020010005230107202100000001").unwrap();
    assert_eq!(id.check_payment_date(date!(2021 - 07 - 01)), Ok(()));
    let e = id.check_payment_date(date!(2021 - 07 - 02)).unwrap_err();
    assert_eq!(e.code(), Code::Protocol(55));
    assert_eq!(
        e.description_ru(),
        "Дата в УПНО (УИП) не равна дате приема к исполнению распоряжения плательщика"
    );
    assert_eq!(
        e.to_string(),
        "payment id 10471020010005230107202100000001 is dated 2021-07-01, the payment 2021-07-02"
    );
    let legacy = PaymentId::parse("ID000000000000000000000000000001").unwrap();
    assert_eq!(legacy.check_payment_date(date!(2021 - 07 - 02)), Ok(()));
}

#[test]
fn the_acceptor_part_must_be_the_acceptors() {
    let tofk = PaymentId::parse_new("24500000000000003009202012345678").unwrap();
    assert_eq!(tofk.check_tofk("4500024501901"), Ok(()));
    let e = tofk.check_tofk("9500").unwrap_err();
    assert_eq!((e.expected.as_str(), e.found.as_str()), ("9500", "4500"));
    assert_eq!(e.code(), Code::Protocol(235));
    assert_eq!(e.description_ru(), "УПНО (УИП) имеет некорректный формат");

    let other = PaymentId::parse_new("33EB6E50107202100000000000000042").unwrap();
    assert_eq!(other.check_urn(&Urn::parse("3eb6e5").unwrap()), Ok(()));
    let e = other.check_urn(&Urn::parse("3eb5fa").unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "payment id 33EB6E50107202100000000000000042 names the acceptor 3eb6e5, not 3eb5fa"
    );

    // Each check applies to its own kind only.
    let bank = PaymentId::parse_new("10471020010005230107202100000001").unwrap();
    assert_eq!(bank.check_tofk("9500"), Ok(()));
    assert_eq!(bank.check_urn(&Urn::parse("3eb5fa").unwrap()), Ok(()));
}

#[test]
fn reference_payment_ids_parse_as_listed() {
    let Some(vectors) = reference::vectors("payment_id reference_payment_ids_parse_as_listed") else {
        return;
    };
    let list = reference::category(&vectors, "upno");
    assert_eq!(list.len(), 5);
    for v in list {
        let s = reference::text(v, "upno");
        let parsed = &v["parsed"];
        let id = PaymentId::parse_new(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(reference::text(parsed, "kind"), "credit-org", "{s}");
        assert_eq!(id.kind(), PaymentIdKind::CreditInstitution, "{s}");
        assert_eq!(
            id.bik().map(|b| b.to_string()).as_deref(),
            Some(reference::text(parsed, "bik"))
        );
        assert_eq!(id.branch(), Some(reference::text(parsed, "branch")));
        assert_eq!(
            id.date(),
            lexical::ddmmyyyy(reference::text(parsed, "date")),
            "{s}"
        );
        assert!(id.date().is_some());
        assert_eq!(id.sequence(), Some(reference::text(parsed, "seq")));
        // upno_note: the date must equal paymentDate's (code 55).
        let date = id.date().expect("dated");
        assert_eq!(id.check_payment_date(date), Ok(()));
        assert!(
            id.check_payment_date(date.next_day().expect("a next day"))
                .is_err()
        );
    }
}

proptest! {
    #[test]
    fn credit_institution_ids_round_trip_their_parts(
        bik in "[0-9]{9}",
        branch in "[0-9]{6}",
        day in 1u8..=28,
        month in 1u8..=12,
        year in 1993i32..=2099,
        seq in "[0-9]{8}",
    ) {
        let s = format!("1{bik}{branch}{day:02}{month:02}{year}{seq}");
        let id = PaymentId::parse_new(&s).unwrap();
        prop_assert_eq!(id.bik().map(|b| b.to_string()), Some(bik));
        prop_assert_eq!(id.branch(), Some(branch.as_str()));
        let d = id.date().unwrap();
        prop_assert_eq!((d.year(), u8::from(d.month()), d.day()), (year, month, day));
        prop_assert_eq!(id.sequence(), Some(seq.as_str()));
    }

    #[test]
    fn parsing_never_panics(s in "\\PC{0,40}") {
        let _ = PaymentId::parse_new(&s);
    }
}
