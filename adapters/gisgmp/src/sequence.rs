//! The persistent sequences UINs and УПНО are issued from: the crate's one module that does IO,
//! its store module (the node's database through broker's [`AdapterDatabase`], SQL written once
//! for both backends).
//!
//! - `gisgmp_uin_sequence (prefix, next_number)`: per UIN prefix (the 3 digits of a KBK chapter
//!   or the 8 decimal digits of a URN, as they lead the UIN), the unique number the next UIN
//!   carries.
//! - `gisgmp_upno_sequence (acceptor, day, next_number)`: per acceptor (the part of the УПНО
//!   before its date: `1` + BIK + branch, `2` + TOFK code, `3` + URN) and acceptance day
//!   (`YYYY-MM-DD`), the number the next payment of that day carries.
//!
//! Both start at 1. Numbers are allocated by one statement, `UPDATE … SET next_number =
//! next_number + n WHERE … AND next_number <= limit RETURNING next_number`: PostgreSQL locks the
//! row and re-checks the guard on the row a concurrent allocation left, SQLite runs it under its
//! write lock. So two allocations, from any processes on the same database, never share a
//! number, and an allocation that does not fit in what is left takes nothing and is refused. A
//! sequence never goes back: [`skip_uins_to`] only moves it forward (a participant continuing a
//! numbering it began elsewhere).

use std::borrow::Cow;
use std::ops::Range;

use rsmev_broker::store::{AdapterDatabase, AdapterMigration, StoreError};
use time::Date;

use crate::issue::{Acceptor, MAX_UNIQUE_NUMBER, UinPrefix, UniqueNumber};
use crate::payment_id::PaymentId;
use crate::protocol::{Code, Refusal};
use crate::uin::Uin;

/// The adapter name the tables and migrations go by.
pub const ADAPTER: &str = "gisgmp";

/// The sequences' tables (migration 1 of the module; the module's list is [`crate::MIGRATIONS`]).
pub const MIGRATION: AdapterMigration = AdapterMigration {
    version: 1,
    description: "sequences of UIN unique numbers and of УПНО numbers within the day",
    sql: "CREATE TABLE gisgmp_uin_sequence (\
              prefix      TEXT PRIMARY KEY, \
              next_number BIGINT NOT NULL); \
          CREATE TABLE gisgmp_upno_sequence (\
              acceptor    TEXT NOT NULL, \
              day         TEXT NOT NULL, \
              next_number BIGINT NOT NULL, \
              PRIMARY KEY (acceptor, day))",
    postgres_sql: None,
};

/// The first number of every sequence.
const FIRST: u64 = 1;

/// Why numbers could not be allocated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SequenceError {
    #[error(
        "the UIN sequence of prefix {prefix} cannot give {requested} more numbers: {left} left \
         (numbers are never reused)"
    )]
    UinExhausted {
        prefix: String,
        requested: u64,
        left: u64,
    },
    #[error("the УПНО numbers of {acceptor} on {day} cannot give {requested} more: {left} left in the day")]
    DailyExhausted {
        acceptor: String,
        day: Date,
        requested: u64,
        left: u64,
    },
    #[error("the УПНО of the payments of {day} cannot be issued: {source}")]
    Issue {
        day: Date,
        #[source]
        source: crate::issue::IssueError,
    },
    #[error("the GIS GMP sequences in the node's database: {0}")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for SequenceError {
    fn from(e: sqlx::Error) -> SequenceError {
        SequenceError::Store(StoreError::Database(e))
    }
}

/// Applies the module's migrations ([`crate::MIGRATIONS`]) not applied yet.
///
/// # Errors
/// As [`AdapterDatabase::migrate`].
pub async fn migrate(db: &AdapterDatabase) -> Result<(), StoreError> {
    db.migrate(ADAPTER, crate::MIGRATIONS).await
}

/// The prefix's key in `gisgmp_uin_sequence`: the digits that lead its UINs.
fn uin_key(prefix: &UinPrefix) -> String {
    match prefix {
        UinPrefix::KbkChapter(chapter) => chapter.as_str().to_owned(),
        UinPrefix::Urn(urn) => urn.decimal8(),
    }
}

/// The acceptor's key in `gisgmp_upno_sequence`: what its УПНО hold before the date.
fn acceptor_key(acceptor: &Acceptor) -> String {
    match acceptor {
        Acceptor::CreditInstitution { bik, branch } => format!("1{bik}{branch:06}"),
        Acceptor::Treasury { code } => format!("2{code}"),
        Acceptor::Other { urn } => format!("3{urn}"),
    }
}

/// Issues the next `count` UINs of `prefix`, in order, none ever issued before on this database.
/// `count` 0 issues none.
///
/// # Errors
/// [`SequenceError::UinExhausted`] when fewer than `count` unique numbers are left (nothing is
/// taken); [`SequenceError::Store`] when the database fails.
pub async fn next_uins(
    db: &AdapterDatabase,
    prefix: &UinPrefix,
    count: u64,
) -> Result<Vec<Uin>, SequenceError> {
    let key = uin_key(prefix);
    let range = allocate(db, Table::Uin, &key, None, count, MAX_UNIQUE_NUMBER)
        .await?
        .map_err(|left| SequenceError::UinExhausted {
            prefix: key.clone(),
            requested: count,
            left,
        })?;
    range
        .map(|n| {
            UniqueNumber::new(n).map(|n| prefix.uin(n)).map_err(|_| {
                StoreError::Corrupt(format!("gisgmp_uin_sequence {key}: {n} is beyond 16 digits")).into()
            })
        })
        .collect()
}

/// Moves the UIN sequence of `prefix` forward so that its next UIN carries at least `next`: for
/// a participant whose earlier UINs were issued elsewhere. Never moves it back.
///
/// # Errors
/// [`SequenceError::Store`] when the database fails.
pub async fn skip_uins_to(
    db: &AdapterDatabase,
    prefix: &UinPrefix,
    next: UniqueNumber,
) -> Result<(), SequenceError> {
    let key = uin_key(prefix);
    ensure_row(db, Table::Uin, &key, None).await?;
    sqlx::query("UPDATE gisgmp_uin_sequence SET next_number = $2 WHERE prefix = $1 AND next_number < $2")
        .bind(&key)
        .bind(as_i64(next.get())?)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Issues the УПНО of the next `count` payments `acceptor` accepts on `day`, in order, none ever
/// issued before on this database. `count` 0 issues none.
///
/// # Errors
/// [`SequenceError::DailyExhausted`] when fewer than `count` numbers are left in the day
/// (nothing is taken), [`SequenceError::Issue`] for a day whose year a УПНО cannot hold,
/// [`SequenceError::Store`] when the database fails.
pub async fn next_payment_ids(
    db: &AdapterDatabase,
    acceptor: &Acceptor,
    day: Date,
    count: u64,
) -> Result<Vec<PaymentId>, SequenceError> {
    // Refused before anything is taken: a day the УПНО cannot carry.
    acceptor
        .payment_id(day, FIRST)
        .map_err(|source| SequenceError::Issue { day, source })?;
    let key = acceptor_key(acceptor);
    let range = allocate(
        db,
        Table::Upno,
        &key,
        Some(&day.to_string()),
        count,
        acceptor.max_daily_number(),
    )
    .await?
    .map_err(|left| SequenceError::DailyExhausted {
        acceptor: key.clone(),
        day,
        requested: count,
        left,
    })?;
    range
        .map(|n| {
            acceptor
                .payment_id(day, n)
                .map_err(|source| SequenceError::Issue { day, source })
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Table {
    Uin,
    Upno,
}

/// Creates the sequence's row at [`FIRST`] unless it exists.
async fn ensure_row(
    db: &AdapterDatabase,
    table: Table,
    key: &str,
    day: Option<&str>,
) -> Result<(), SequenceError> {
    let first = as_i64(FIRST)?;
    match table {
        Table::Uin => {
            sqlx::query(
                "INSERT INTO gisgmp_uin_sequence (prefix, next_number) VALUES ($1, $2) \
                 ON CONFLICT (prefix) DO NOTHING",
            )
            .bind(key)
            .bind(first)
            .execute(db.pool())
            .await?;
        }
        Table::Upno => {
            sqlx::query(
                "INSERT INTO gisgmp_upno_sequence (acceptor, day, next_number) VALUES ($1, $2, $3) \
                 ON CONFLICT (acceptor, day) DO NOTHING",
            )
            .bind(key)
            .bind(day.unwrap_or_default())
            .bind(first)
            .execute(db.pool())
            .await?;
        }
    }
    Ok(())
}

/// Takes `count` numbers, at most `max`, from a sequence: `Ok(Ok(range))`, or `Ok(Err(left))`
/// when fewer than `count` are left (then nothing is taken).
async fn allocate(
    db: &AdapterDatabase,
    table: Table,
    key: &str,
    day: Option<&str>,
    count: u64,
    max: u64,
) -> Result<Result<Range<u64>, u64>, SequenceError> {
    if count == 0 {
        return Ok(Ok(FIRST..FIRST));
    }
    ensure_row(db, table, key, day).await?;
    // `next + count <= max + 1`, written so that nothing overflows: max < i64::MAX here.
    let Some(highest_next) = (max + 1).checked_sub(count) else {
        return Ok(Err(left(db, table, key, day, max).await?));
    };
    let (count, highest_next) = (as_i64(count)?, as_i64(highest_next)?);
    let after: Option<i64> = match table {
        Table::Uin => {
            sqlx::query_scalar(
                "UPDATE gisgmp_uin_sequence SET next_number = next_number + $2 \
                 WHERE prefix = $1 AND next_number <= $3 RETURNING next_number",
            )
            .bind(key)
            .bind(count)
            .bind(highest_next)
            .fetch_optional(db.pool())
            .await?
        }
        Table::Upno => {
            sqlx::query_scalar(
                "UPDATE gisgmp_upno_sequence SET next_number = next_number + $3 \
                 WHERE acceptor = $1 AND day = $2 AND next_number <= $4 RETURNING next_number",
            )
            .bind(key)
            .bind(day.unwrap_or_default())
            .bind(count)
            .bind(highest_next)
            .fetch_optional(db.pool())
            .await?
        }
    };
    match after {
        Some(after) => {
            let after = u64::try_from(after)
                .map_err(|_| StoreError::Corrupt(format!("GIS GMP sequence {key}: negative next {after}")))?;
            let count = count.unsigned_abs();
            Ok(Ok(after - count..after))
        }
        None => Ok(Err(left(db, table, key, day, max).await?)),
    }
}

/// How many numbers a sequence has left.
async fn left(
    db: &AdapterDatabase,
    table: Table,
    key: &str,
    day: Option<&str>,
    max: u64,
) -> Result<u64, SequenceError> {
    let next: Option<i64> = match table {
        Table::Uin => {
            sqlx::query_scalar("SELECT next_number FROM gisgmp_uin_sequence WHERE prefix = $1")
                .bind(key)
                .fetch_optional(db.pool())
                .await?
        }
        Table::Upno => {
            sqlx::query_scalar(
                "SELECT next_number FROM gisgmp_upno_sequence WHERE acceptor = $1 AND day = $2",
            )
            .bind(key)
            .bind(day.unwrap_or_default())
            .fetch_optional(db.pool())
            .await?
        }
    };
    let next = next.map_or(FIRST, i64::unsigned_abs);
    Ok((max + 1).saturating_sub(next))
}

fn as_i64(n: u64) -> Result<i64, SequenceError> {
    i64::try_from(n)
        .map_err(|_| StoreError::Corrupt(format!("GIS GMP sequence number {n} beyond BIGINT")).into())
}

impl Refusal for SequenceError {
    fn code(&self) -> Code {
        match self {
            SequenceError::Issue { source, .. } => source.code(),
            SequenceError::UinExhausted { .. }
            | SequenceError::DailyExhausted { .. }
            | SequenceError::Store(_) => Code::Unlisted,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            SequenceError::UinExhausted {
                prefix,
                requested,
                left,
            } => format!(
                "Уникальные номера для формирования УИН с префиксом {prefix} исчерпаны: запрошено \
                 {requested}, осталось {left}"
            )
            .into(),
            SequenceError::DailyExhausted {
                acceptor,
                day,
                requested,
                left,
            } => format!(
                "Порядковые номера УПНО {acceptor} за {day} исчерпаны: запрошено {requested}, \
                 осталось {left}"
            )
            .into(),
            SequenceError::Issue { source, .. } => source.description_ru(),
            SequenceError::Store(_) => "Ошибка базы данных при выделении номеров".into(),
        }
    }
}

#[cfg(test)]
mod tests;
