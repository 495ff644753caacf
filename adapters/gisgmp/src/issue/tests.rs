use proptest::prelude::*;
use time::macros::date;

use super::*;

fn chapter(s: &str) -> UinPrefix {
    UinPrefix::KbkChapter(KbkChapter::parse(s).unwrap())
}

fn urn(s: &str) -> UinPrefix {
    UinPrefix::Urn(Urn::parse(s).unwrap())
}

fn number(n: u64) -> UniqueNumber {
    UniqueNumber::new(n).unwrap()
}

#[test]
fn a_federal_uin_is_the_chapter_the_number_and_the_check_digit() {
    // The official ForcedAcknowledgement etalon's UIN: 188 (MVD), 1707271154487949, digit 9.
    let uin = chapter("188").uin(number(1_707_271_154_487_949));
    assert_eq!(uin.as_str(), "18817072711544879499");
    assert_eq!(uin.kind(), UinKind::KbkChapter);
    // Small numbers are zero-padded to 16 digits: 3·1 + 2·2 + 1·3 + 1·9 (the 19th digit's
    // weight) = 19, and 19 mod 11 = 8.
    assert_eq!(chapter("321").uin(number(1)).as_str(), "32100000000000000018");
}

#[test]
fn a_regional_uin_is_the_urn_in_decimal_the_number_and_the_check_digit() {
    // The official ChargeCreation etalon: GIS GMP's own URN 363c06 (03554310), a second pass.
    let uin = urn("363C06").uin(number(1_162_971));
    assert_eq!(uin.as_str(), "0355431000000000011629713");
    assert_eq!(uin.kind(), UinKind::Urn);
    // The official example of §5.2.2: aa11b4 → 11145652.
    let uin = urn("aa11b4").uin(number(MAX_UNIQUE_NUMBER));
    assert_eq!(uin.as_str(), "1114565299999999999999990");
}

#[test]
fn a_sequence_issues_consecutive_numbers_and_never_wraps() {
    let mut sequence = UinSequence::new(chapter("188"), number(1_707_271_154_487_948));
    let first = sequence.issue().unwrap();
    let second = sequence.issue().unwrap();
    assert_eq!(first.as_str(), "18817072711544879480");
    assert_eq!(second.as_str(), "18817072711544879499");
    assert_eq!(sequence.next_number(), Some(number(1_707_271_154_487_950)));
    assert_eq!(sequence.prefix().kind(), UinKind::KbkChapter);

    let mut last = UinSequence::new(urn("3eacb7"), number(MAX_UNIQUE_NUMBER - 1));
    assert!(last.issue().is_ok());
    assert_eq!(last.issue().unwrap().unique_number(), "9999999999999999");
    assert_eq!(last.next_number(), None);
    assert_eq!(last.issue(), Err(IssueError::SequenceExhausted));
    assert_eq!(last.issue(), Err(IssueError::SequenceExhausted));
}

#[test]
fn bad_uin_inputs_are_refused() {
    assert_eq!(
        UniqueNumber::new(MAX_UNIQUE_NUMBER + 1),
        Err(IssueError::UniqueNumber {
            number: 10_000_000_000_000_000
        })
    );
    for bad in ["18", "1888", "18A", "", "１８８"] {
        assert_eq!(
            KbkChapter::parse(bad),
            Err(IssueError::KbkChapter { found: bad.into() }),
            "{bad}"
        );
    }
}

#[test]
fn payment_ids_of_the_three_structures() {
    // §5.3's example: BIK 047102001, branch 000523, 01.07.2021, number 1.
    let bank = Acceptor::credit_institution(Bik::parse("047102001").unwrap(), 523).unwrap();
    let id = bank.payment_id(date!(2021 - 07 - 01), 1).unwrap();
    assert_eq!(id.as_str(), "10471020010005230107202100000001");
    assert_eq!(PaymentId::parse_new(id.as_str()), Ok(id.clone()));

    let tofk = Acceptor::treasury("4500").unwrap();
    let id = tofk.payment_id(date!(2020 - 09 - 30), 12_345_678).unwrap();
    assert_eq!(id.as_str(), "24500000000000003009202012345678");
    assert_eq!(PaymentId::parse_new(id.as_str()), Ok(id.clone()));

    let other = Acceptor::Other {
        urn: Urn::parse("3EB6E5").unwrap(),
    };
    let id = other.payment_id(date!(2021 - 07 - 01), 42).unwrap();
    assert_eq!(id.as_str(), "33eb6e50107202100000000000000042");
    assert_eq!(PaymentId::parse_new(id.as_str()), Ok(id.clone()));
    let id = other
        .payment_id(date!(2021 - 12 - 31), MAX_OTHER_DAILY_NUMBER)
        .unwrap();
    assert_eq!(id.as_str(), "33eb6e53112202199999999999999999");
}

#[test]
fn bad_payment_id_inputs_are_refused() {
    let bik = Bik::parse("047102001").unwrap();
    assert_eq!(
        Acceptor::credit_institution(bik.clone(), 1_000_000),
        Err(IssueError::Branch { branch: 1_000_000 })
    );
    for bad in ["450", "45000", "45a0"] {
        assert_eq!(
            Acceptor::treasury(bad),
            Err(IssueError::TofkCode { found: bad.into() })
        );
    }
    let bank = Acceptor::credit_institution(bik, 0).unwrap();
    let e = bank.payment_id(date!(2021 - 07 - 01), 100_000_000).unwrap_err();
    assert_eq!(
        e,
        IssueError::DailyNumber {
            number: 100_000_000,
            max: MAX_DAILY_NUMBER
        }
    );
    assert_eq!(
        e.to_string(),
        "the number within the day has at most 8 digits here, 100000000 has more"
    );
    assert_eq!(
        bank.payment_id(date!(-0001 - 12 - 31), 1),
        Err(IssueError::Year { year: -1 })
    );
    assert_eq!(e.code(), Code::Unlisted);
    assert_eq!(
        e.description_ru(),
        "Порядковый номер 100000000 в течение дня превышает 99999999"
    );
}

fn any_date() -> impl Strategy<Value = Date> {
    (0i32..=9999, 1u16..=366).prop_filter_map("a day of that year", |(year, ordinal)| {
        Date::from_ordinal_date(year, ordinal).ok()
    })
}

proptest! {
    #[test]
    fn every_issued_federal_uin_parses_and_carries_its_inputs(
        chapter_digits in "[0-9]{3}",
        n in 0..=MAX_UNIQUE_NUMBER,
    ) {
        let uin = chapter(&chapter_digits).uin(number(n));
        prop_assert_eq!(Uin::parse(uin.as_str()), Ok(uin.clone()));
        prop_assert_eq!(uin.kbk_chapter(), Some(chapter_digits.as_str()));
        prop_assert_eq!(uin.unique_number(), format!("{n:016}"));
        prop_assert_eq!(uin.check_kind(UinKind::KbkChapter), Ok(()));
    }

    #[test]
    fn every_issued_regional_uin_parses_and_carries_its_inputs(
        value in 0u32..=0xff_ffff,
        n in 0..=MAX_UNIQUE_NUMBER,
    ) {
        let owner = Urn::parse(&format!("{value:06X}")).unwrap();
        let uin = UinPrefix::Urn(owner.clone()).uin(number(n));
        prop_assert_eq!(Uin::parse(uin.as_str()), Ok(uin.clone()));
        prop_assert_eq!(uin.urn(), Some(owner.clone()));
        prop_assert_eq!(uin.check_urn(&owner), Ok(()));
        prop_assert_eq!(uin.unique_number(), format!("{n:016}"));
    }

    #[test]
    fn every_issued_credit_institution_id_parses_and_carries_its_inputs(
        bik in "[0-9]{9}",
        branch in 0..=MAX_BRANCH,
        date in any_date(),
        n in 0..=MAX_DAILY_NUMBER,
    ) {
        let bik = Bik::parse(&bik).unwrap();
        let id = Acceptor::credit_institution(bik.clone(), branch).unwrap().payment_id(date, n).unwrap();
        prop_assert_eq!(PaymentId::parse_new(id.as_str()), Ok(id.clone()));
        prop_assert_eq!(id.kind(), PaymentIdKind::CreditInstitution);
        prop_assert_eq!(id.bik(), Some(bik));
        prop_assert_eq!(id.branch().map(str::to_owned), Some(format!("{branch:06}")));
        prop_assert_eq!(id.date(), Some(date));
        prop_assert_eq!(id.check_payment_date(date), Ok(()));
        prop_assert_eq!(id.sequence().map(str::to_owned), Some(format!("{n:08}")));
    }

    #[test]
    fn every_issued_treasury_id_parses_and_carries_its_inputs(
        code in "[0-9]{4}",
        date in any_date(),
        n in 0..=MAX_DAILY_NUMBER,
    ) {
        let id = Acceptor::treasury(&code).unwrap().payment_id(date, n).unwrap();
        prop_assert_eq!(PaymentId::parse_new(id.as_str()), Ok(id.clone()));
        prop_assert_eq!(id.kind(), PaymentIdKind::Treasury);
        prop_assert_eq!(id.tofk_code(), Some(code.as_str()));
        prop_assert_eq!(id.check_tofk(&code), Ok(()));
        prop_assert_eq!(id.date(), Some(date));
        prop_assert_eq!(id.sequence().map(str::to_owned), Some(format!("{n:08}")));
    }

    #[test]
    fn every_issued_other_id_parses_and_carries_its_inputs(
        value in 0u32..=0xff_ffff,
        date in any_date(),
        n in 0..=MAX_OTHER_DAILY_NUMBER,
    ) {
        let owner = Urn::parse(&format!("{value:06x}")).unwrap();
        let id = Acceptor::Other { urn: owner.clone() }.payment_id(date, n).unwrap();
        prop_assert_eq!(PaymentId::parse_new(id.as_str()), Ok(id.clone()));
        prop_assert_eq!(id.kind(), PaymentIdKind::Other);
        prop_assert_eq!(id.urn(), Some(owner.clone()));
        prop_assert_eq!(id.check_urn(&owner), Ok(()));
        prop_assert_eq!(id.date(), Some(date));
        prop_assert_eq!(id.sequence().map(str::to_owned), Some(format!("{n:017}")));
    }
}
