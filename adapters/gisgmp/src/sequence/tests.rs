use std::collections::HashSet;

use time::macros::date;

use super::*;
use crate::bik::Bik;
use crate::issue::KbkChapter;
use crate::test_db::{Database, on_both_backends};
use crate::urn::Urn;

fn chapter(s: &str) -> UinPrefix {
    UinPrefix::KbkChapter(KbkChapter::parse(s).unwrap())
}

fn urn(s: &str) -> UinPrefix {
    UinPrefix::Urn(Urn::parse(s).unwrap())
}

/// The unique numbers of `uins`, each checked to be a UIN GIS GMP accepts.
fn numbers(uins: &[Uin]) -> Vec<u64> {
    uins.iter()
        .map(|u| {
            let parsed = Uin::parse(u.as_str()).unwrap();
            parsed.unique_number().parse().unwrap()
        })
        .collect()
}

async fn uins_follow_each_other_per_prefix(database: Database) {
    let db = database.open().await;
    let first = next_uins(&db, &chapter("188"), 3).await.unwrap();
    assert_eq!(numbers(&first), [1, 2, 3]);
    assert!(first.iter().all(|u| u.kbk_chapter() == Some("188")), "{first:?}");
    // The sequence is in the database, not in the handle.
    db.close().await;
    let db = database.open().await;
    assert_eq!(
        numbers(&next_uins(&db, &chapter("188"), 2).await.unwrap()),
        [4, 5]
    );
    // Other prefixes have their own sequences.
    let regional = next_uins(&db, &urn("aa11b4"), 2).await.unwrap();
    assert_eq!(numbers(&regional), [1, 2]);
    // 1·1 + 1·2 + 1·3 + 4·4 + 5·5 + 6·6 + 5·7 + 2·8 + 1·4 (the 24th digit) = 138 ≡ 6 (mod 11).
    assert_eq!(regional[0].as_str(), "1114565200000000000000016");
    assert_eq!(numbers(&next_uins(&db, &chapter("321"), 1).await.unwrap()), [1]);
    assert_eq!(next_uins(&db, &chapter("188"), 0).await.unwrap(), []);
    assert_eq!(numbers(&next_uins(&db, &chapter("188"), 1).await.unwrap()), [6]);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uins_follow_each_other_from_one_with_a_sequence_per_prefix() {
    on_both_backends!(uins_follow_each_other_per_prefix);
}

async fn exhaustion_takes_nothing(database: Database) {
    let db = database.open().await;
    let prefix = urn("363c06");
    next_uins(&db, &prefix, 10).await.unwrap();
    // Skipping moves forward only.
    skip_uins_to(&db, &prefix, UniqueNumber::new(5).unwrap())
        .await
        .unwrap();
    assert_eq!(numbers(&next_uins(&db, &prefix, 1).await.unwrap()), [11]);
    skip_uins_to(&db, &prefix, UniqueNumber::new(MAX_UNIQUE_NUMBER - 1).unwrap())
        .await
        .unwrap();
    let e = next_uins(&db, &prefix, 3).await.unwrap_err();
    assert!(
        matches!(&e, SequenceError::UinExhausted { prefix, requested: 3, left: 2 } if prefix == "03554310"),
        "{e}"
    );
    assert_eq!(e.code(), Code::Unlisted);
    assert!(e.description_ru().contains("исчерпаны"), "{}", e.description_ru());
    // The refusal took nothing: the last two numbers are still there, then none.
    let last = next_uins(&db, &prefix, 2).await.unwrap();
    assert_eq!(numbers(&last), [MAX_UNIQUE_NUMBER - 1, MAX_UNIQUE_NUMBER]);
    let e = next_uins(&db, &prefix, 1).await.unwrap_err();
    assert!(matches!(e, SequenceError::UinExhausted { left: 0, .. }), "{e}");
    // More than the whole space at once.
    let e = next_uins(&db, &chapter("182"), MAX_UNIQUE_NUMBER + 1)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            SequenceError::UinExhausted {
                left: MAX_UNIQUE_NUMBER,
                ..
            }
        ),
        "{e}"
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allocation_beyond_the_16_digits_takes_nothing_and_is_refused() {
    on_both_backends!(exhaustion_takes_nothing);
}

async fn payment_ids_per_acceptor_and_day(database: Database) {
    let db = database.open().await;
    let bank = Acceptor::credit_institution(Bik::parse("047102001").unwrap(), 523).unwrap();
    let day = date!(2021 - 07 - 01);
    let ids = next_payment_ids(&db, &bank, day, 2).await.unwrap();
    let values: Vec<&str> = ids.iter().map(PaymentId::as_str).collect();
    assert_eq!(
        values,
        [
            "10471020010005230107202100000001",
            "10471020010005230107202100000002"
        ]
    );
    for id in &ids {
        let parsed = PaymentId::parse_new(id.as_str()).unwrap();
        assert_eq!(parsed.date(), Some(day));
    }
    // The next day starts again; so do other acceptors, each with its own numbers.
    let next_day = next_payment_ids(&db, &bank, date!(2021 - 07 - 02), 1)
        .await
        .unwrap();
    assert_eq!(next_day[0].sequence(), Some("00000001"));
    let other_branch = Acceptor::credit_institution(Bik::parse("047102001").unwrap(), 524).unwrap();
    let ids = next_payment_ids(&db, &other_branch, day, 1).await.unwrap();
    assert_eq!(ids[0].sequence(), Some("00000001"));
    let other = Acceptor::Other {
        urn: Urn::parse("3EACB7").unwrap(),
    };
    let ids = next_payment_ids(&db, &other, day, 1).await.unwrap();
    assert_eq!(ids[0].as_str(), "33eacb70107202100000000000000001");
    assert_eq!(
        next_payment_ids(&db, &bank, day, 1).await.unwrap()[0].sequence(),
        Some("00000003")
    );

    // A TOFK has 8 digits a day: asking for more than that is refused and takes nothing.
    let tofk = Acceptor::treasury("1000").unwrap();
    let e = next_payment_ids(&db, &tofk, day, 100_000_000).await.unwrap_err();
    assert!(
        matches!(&e, SequenceError::DailyExhausted { acceptor, left: 99_999_999, .. } if acceptor == "21000"),
        "{e}"
    );
    let ids = next_payment_ids(&db, &tofk, day, 1).await.unwrap();
    assert_eq!(ids[0].as_str(), "21000000000000000107202100000001");
    // A day whose year the УПНО cannot hold is refused before anything is taken.
    let year_minus_one = time::Date::from_calendar_date(-1, time::Month::January, 1).unwrap();
    let e = next_payment_ids(&db, &tofk, year_minus_one, 1).await.unwrap_err();
    assert!(matches!(e, SequenceError::Issue { .. }), "{e}");
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_ids_are_numbered_per_acceptor_and_day_from_one() {
    on_both_backends!(payment_ids_per_acceptor_and_day);
}

/// Allocators per handle, and allocations per allocator, in [`concurrent_allocators`].
const TASKS: usize = 8;
const ROUNDS: usize = 15;

async fn concurrent_allocators(database: Database) {
    // Two handles with pools of their own, as two processes have, migrating at the same time.
    let (a, b) = tokio::join!(database.open(), database.open());
    let prefix = chapter("188");
    let bank = Acceptor::treasury("4500").unwrap();
    let day = date!(2026 - 12 - 05);
    let mut tasks = Vec::new();
    for i in 0..2 * TASKS {
        let db = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (prefix, bank) = (prefix.clone(), bank.clone());
        tasks.push(tokio::spawn(async move {
            let mut uins = Vec::new();
            let mut ids = Vec::new();
            for round in 0..ROUNDS {
                // Different sizes, so the ranges interleave.
                let count = 1 + (i + round) as u64 % 3;
                uins.extend(next_uins(&db, &prefix, count).await.unwrap());
                ids.extend(next_payment_ids(&db, &bank, day, count).await.unwrap());
            }
            (uins, ids)
        }));
    }
    let (mut uins, mut ids) = (Vec::new(), Vec::new());
    for task in tasks {
        let (u, p) = task.await.unwrap();
        uins.extend(u);
        ids.extend(p);
    }
    let expected: u64 = (0..2 * TASKS)
        .flat_map(|i| (0..ROUNDS).map(move |round| 1 + (i + round) as u64 % 3))
        .sum();
    let mut issued = numbers(&uins);
    issued.sort_unstable();
    // Every number handed out once, none skipped.
    assert_eq!(issued, (1..=expected).collect::<Vec<_>>());
    let distinct: HashSet<&str> = ids.iter().map(PaymentId::as_str).collect();
    assert_eq!(distinct.len() as u64, expected);
    assert_eq!(
        next_uins(&a, &prefix, 1).await.unwrap()[0].unique_number(),
        format!("{:016}", expected + 1)
    );
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_allocators_on_two_pools_never_share_a_number() {
    on_both_backends!(concurrent_allocators);
}
