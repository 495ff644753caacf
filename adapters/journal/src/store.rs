//! The journal's store module: the only code that writes the journal's tables
//! (`journal_meta`, `journal_entries`, `journal_checkpoints`) and the only code of this crate
//! that reads the node's `history`, `messages` and `message_attachments` rows (read-only, to
//! hash them). Written once for both backends through [`AdapterDatabase`]; where the dialects
//! differ (types, PostgreSQL's `uuid` columns, SQLite's `rowid`) [`Backend`] picks the text.
//!
//! # Which rows are chained, and when (commit order)
//!
//! The chain takes history events by `seq` and messages by their arrival order (SQLite's
//! `rowid`, PostgreSQL's `arrival` identity), and a row only once every row with a smaller key
//! that will ever exist is already visible — otherwise a row committed late with a smaller key
//! would look inserted into the past.
//!
//! - **SQLite** has one writer: a row is visible only after its transaction committed, and
//!   every smaller key was written by that transaction or an earlier one. The visible rows are
//!   always a complete prefix, in any snapshot.
//! - **PostgreSQL** draws identity values in one order and commits in another. Before each
//!   round the chainer takes `LOCK TABLE history IN SHARE MODE` for a moment (then the same for
//!   `messages`, in a transaction of its own so it never holds one while waiting for the
//!   other): that lock waits for every transaction holding `ROW EXCLUSIVE` on the table — every
//!   one that has inserted, and so drawn a key, and not finished — and keeps new inserts out
//!   while it reads `max(seq)`. Every key up to that horizon then belongs to a finished
//!   transaction (committed, or aborted and never to appear); every key drawn later is larger.
//!   Chaining stops at the horizon, so the prefix it chains is complete: provably, not by a
//!   delay. The node's inserts queue behind the waiting lock, so it waits at most 200 ms
//!   (`lock_timeout`): a transaction that stays open longer (or a `VACUUM` holding the table)
//!   makes the round chain nothing of that kind, and the next round tries again.
//! - **Several chainers** on one database (several nodes) append under one lock: PostgreSQL's
//!   transaction-scoped advisory lock [`ADVISORY_LOCK`], SQLite's write lock (`BEGIN
//!   IMMEDIATE`). A chainer reads and hashes without the lock, then appends under it only if
//!   the head is still the one it chained from, so there is one chain; the primary key on
//!   `position` and the unique `(kind, source_order)` would refuse a fork or a duplicate anyway.

use rsmev_broker::store::{AdapterDatabase, AdapterMigration, Backend};
use sqlx::{Any, Row, Transaction};

use crate::hash::{self, Algorithm, Encoder, GENESIS, HASH_LEN, Hash};

/// The key of PostgreSQL's advisory lock the chainers append under ("RSMEVJNL").
pub const ADVISORY_LOCK: i64 = 0x5253_4d45_564a_4e4c;

const SQLITE: &str = "
CREATE TABLE journal_meta (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    algorithm TEXT NOT NULL
);
CREATE TABLE journal_entries (
    position     INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    source_order INTEGER NOT NULL,
    source_key   TEXT    NOT NULL,
    entry_hash   BLOB    NOT NULL,
    chain_hash   BLOB    NOT NULL,
    UNIQUE (kind, source_order)
);
CREATE TABLE journal_checkpoints (
    position            INTEGER PRIMARY KEY,
    chain_hash          BLOB NOT NULL,
    algorithm           TEXT NOT NULL,
    at                  TEXT NOT NULL,
    certificate         TEXT NOT NULL,
    signature_algorithm TEXT NOT NULL,
    signature           BLOB NOT NULL
);
";

const POSTGRES: &str = "
CREATE TABLE journal_meta (
    id        integer PRIMARY KEY CHECK (id = 1),
    algorithm text NOT NULL
);
CREATE TABLE journal_entries (
    position     bigint PRIMARY KEY,
    kind         text   COLLATE \"C\" NOT NULL,
    source_order bigint NOT NULL,
    source_key   text   COLLATE \"C\" NOT NULL,
    entry_hash   bytea  NOT NULL,
    chain_hash   bytea  NOT NULL,
    UNIQUE (kind, source_order)
);
CREATE TABLE journal_checkpoints (
    position            bigint PRIMARY KEY,
    chain_hash          bytea NOT NULL,
    algorithm           text  NOT NULL,
    at                  text  NOT NULL,
    certificate         text  NOT NULL,
    signature_algorithm text  NOT NULL,
    signature           bytea NOT NULL
);
";

/// The journal's tables.
pub static MIGRATIONS: &[AdapterMigration] = &[AdapterMigration {
    version: 1,
    description: "journal entries, checkpoints and the chain's algorithm",
    sql: SQLITE,
    postgres_sql: Some(POSTGRES),
}];

/// What a database error or an inconsistency of the journal's own tables is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The journal was begun with another algorithm than the one configured.
    #[error(
        "the journal is chained with {stored}, [journal] algorithm is {configured}: set it back to {stored}"
    )]
    AlgorithmMismatch {
        stored: String,
        configured: &'static str,
    },
    /// A stored value that cannot be what this build writes.
    #[error("journal table: {0}")]
    Corrupt(String),
    #[error("signing a checkpoint: {0}")]
    Signing(String),
}

/// The two kinds of row the chain binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A row of `history`: ordered by `seq`, keyed by its message id.
    History,
    /// A row of `messages` with its `message_attachments`: ordered by arrival, keyed by its id.
    Message,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::History => "history",
            Kind::Message => "message",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Kind> {
        match s {
            "history" => Some(Kind::History),
            "message" => Some(Kind::Message),
            _ => None,
        }
    }
}

/// One row of the node's tables as the chain sees it: its kind, order key, identity and the
/// hash of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub kind: Kind,
    /// `history.seq`, or the message's arrival order.
    pub order: i64,
    /// The message id (of the event, or of the message).
    pub key: String,
    /// For history: the event name, for messages: the kind; for reports.
    pub label: String,
    pub hash: Hash,
}

/// One row of `journal_entries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub position: i64,
    pub kind: Kind,
    pub order: i64,
    pub key: String,
    pub entry_hash: Hash,
    pub chain_hash: Hash,
}

/// One row of `journal_checkpoints`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub position: i64,
    pub chain_hash: Hash,
    pub algorithm: String,
    pub at: String,
    pub certificate: String,
    pub signature_algorithm: String,
    pub signature: Vec<u8>,
}

impl Checkpoint {
    /// The text the node signs for a checkpoint.
    pub fn signed_text(algorithm: &str, position: i64, chain_hash: &Hash, at: &str) -> String {
        format!(
            "rsmev-journal-checkpoint/1\nalgorithm={algorithm}\nposition={position}\nchain={}\nat={at}\n",
            hash::hex(chain_hash)
        )
    }
}

fn to_hash(bytes: Vec<u8>, what: &str) -> Result<Hash, JournalError> {
    <[u8; HASH_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| JournalError::Corrupt(format!("{what} is {} bytes, not {HASH_LEN}", bytes.len())))
}

// ---- reading the node's rows ------------------------------------------------------------------

/// History rows with `after < seq <= up_to`, in `seq` order, at most `limit`, hashed.
///
/// # Errors
/// [`JournalError::Database`].
pub async fn history_rows<'c, E>(
    conn: E,
    backend: Backend,
    algorithm: Algorithm,
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<SourceRow>, JournalError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT seq, message_id, at, event, actor, detail FROM history \
             WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        }
        Backend::Postgres => {
            "SELECT seq, message_id::text AS message_id, at, event, actor, detail FROM history \
             WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        }
    };
    let rows = sqlx::query(sql)
        .bind(after)
        .bind(up_to)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            let seq: i64 = r.try_get("seq")?;
            let message_id: String = r.try_get("message_id")?;
            let event: String = r.try_get("event")?;
            let mut e = Encoder::new("rsmev-journal/history/1");
            e.text(&message_id)
                .text(&r.try_get::<String, _>("at")?)
                .text(&event)
                .text(&r.try_get::<String, _>("actor")?)
                .text(&r.try_get::<String, _>("detail")?);
            Ok(SourceRow {
                kind: Kind::History,
                order: seq,
                key: message_id,
                label: event,
                hash: algorithm.hash(&e.finish()),
            })
        })
        .collect()
}

/// Message rows with `after < order <= up_to` (with their attachment contents), in arrival
/// order, at most `limit`, hashed.
///
/// # Errors
/// [`JournalError::Database`].
pub async fn message_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    algorithm: Algorithm,
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<SourceRow>, JournalError> {
    let (messages, attachments) = match backend {
        Backend::Sqlite => (
            "SELECT rowid AS ord, message_id, kind, sender, qname_ns, qname_local, original_message_id, \
             reference_message_id, transaction_code, eol, content, sender_signature, reply_to, received_at \
             FROM messages WHERE rowid > $1 AND rowid <= $2 ORDER BY rowid LIMIT $3",
            "SELECT a.message_id, a.position, a.content_id, a.content FROM message_attachments a \
             JOIN messages m ON m.message_id = a.message_id \
             WHERE m.rowid > $1 AND m.rowid <= $2 ORDER BY a.message_id, a.position",
        ),
        Backend::Postgres => (
            "SELECT arrival AS ord, message_id::text AS message_id, kind, sender, qname_ns, qname_local, \
             original_message_id::text AS original_message_id, reference_message_id::text AS reference_message_id, \
             transaction_code, eol, content, sender_signature, reply_to, received_at \
             FROM messages WHERE arrival > $1 AND arrival <= $2 ORDER BY arrival LIMIT $3",
            "SELECT a.message_id::text AS message_id, a.position::bigint AS position, a.content_id, a.content \
             FROM message_attachments a JOIN messages m ON m.message_id = a.message_id \
             WHERE m.arrival > $1 AND m.arrival <= $2 ORDER BY a.message_id, a.position",
        ),
    };
    let rows = sqlx::query(messages)
        .bind(after)
        .bind(up_to)
        .bind(limit)
        .fetch_all(&mut **tx)
        .await?;
    let Some(last) = rows.last() else {
        return Ok(Vec::new());
    };
    let last_order: i64 = last.try_get("ord")?;
    let mut contents: std::collections::HashMap<String, Vec<(i64, String, Vec<u8>)>> = Default::default();
    for a in sqlx::query(attachments)
        .bind(after)
        .bind(last_order)
        .fetch_all(&mut **tx)
        .await?
    {
        contents.entry(a.try_get("message_id")?).or_default().push((
            a.try_get("position")?,
            a.try_get("content_id")?,
            a.try_get("content")?,
        ));
    }
    rows.iter()
        .map(|r| {
            let message_id: String = r.try_get("message_id")?;
            let kind: String = r.try_get("kind")?;
            let opt = |c: &str| r.try_get::<Option<String>, _>(c);
            let mut e = Encoder::new("rsmev-journal/message/1");
            e.text(&message_id)
                .text(&kind)
                .optional(opt("sender")?.as_deref())
                .optional(opt("qname_ns")?.as_deref())
                .optional(opt("qname_local")?.as_deref())
                .optional(opt("original_message_id")?.as_deref())
                .optional(opt("reference_message_id")?.as_deref())
                .optional(opt("transaction_code")?.as_deref())
                .optional(opt("eol")?.as_deref())
                .text(&r.try_get::<String, _>("content")?)
                .optional(opt("sender_signature")?.as_deref())
                .optional(opt("reply_to")?.as_deref())
                .text(&r.try_get::<String, _>("received_at")?);
            let attached = contents.remove(&message_id).unwrap_or_default();
            e.integer(attached.len() as i64);
            for (position, id, content) in &attached {
                e.integer(*position).text(id).bytes(content);
            }
            Ok(SourceRow {
                kind: Kind::Message,
                order: r.try_get("ord")?,
                key: message_id,
                label: kind,
                hash: algorithm.hash(&e.finish()),
            })
        })
        .collect()
}

/// Rows of `kind` after `after` up to `up_to`, in order, at most `limit`.
///
/// # Errors
/// [`JournalError::Database`].
pub async fn source_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    algorithm: Algorithm,
    kind: Kind,
    after: i64,
    up_to: i64,
    limit: i64,
) -> Result<Vec<SourceRow>, JournalError> {
    match kind {
        Kind::History => history_rows(&mut **tx, backend, algorithm, after, up_to, limit).await,
        Kind::Message => message_rows(tx, backend, algorithm, after, up_to, limit).await,
    }
}

/// On PostgreSQL, the largest key of `kind` whose every smaller key belongs to a finished
/// transaction (see the [module docs](self)); on SQLite, `i64::MAX` (every visible row counts).
///
/// # Errors
/// [`JournalError::Database`].
pub async fn horizon(db: &AdapterDatabase, kind: Kind) -> Result<i64, JournalError> {
    if db.backend() == Backend::Sqlite {
        return Ok(i64::MAX);
    }
    let (lock, max) = match kind {
        Kind::History => (
            "LOCK TABLE history IN SHARE MODE",
            "SELECT COALESCE(max(seq), 0) FROM history",
        ),
        Kind::Message => (
            "LOCK TABLE messages IN SHARE MODE",
            "SELECT COALESCE(max(arrival), 0) FROM messages",
        ),
    };
    let mut tx = db.pool().begin().await?;
    sqlx::query(HORIZON_LOCK_TIMEOUT).execute(&mut *tx).await?;
    match sqlx::query(lock).execute(&mut *tx).await {
        Ok(_) => {}
        Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some(LOCK_NOT_AVAILABLE) => {
            // A long transaction (or a VACUUM, CREATE INDEX …) holds the table: chain nothing
            // of this kind this round rather than keep the node's writers queued behind us.
            tracing::debug!(table = kind.as_str(), "journal horizon: table busy, next round");
            return Ok(i64::MIN);
        }
        Err(e) => return Err(e.into()),
    }
    let up_to: i64 = sqlx::query_scalar(max).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(up_to)
}

/// How long the horizon's lock may wait: the longest the node's inserts can be held up behind
/// it (they queue behind a waiting `SHARE` request). Past it the round chains nothing of that
/// kind and the next one tries again.
const HORIZON_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '200ms'";
/// PostgreSQL's `lock_not_available`.
const LOCK_NOT_AVAILABLE: &str = "55P03";

// ---- the journal's own tables ---------------------------------------------------------------

/// Begins a transaction that appends to the journal: the one lock all chainers take.
///
/// # Errors
/// [`JournalError::Database`].
pub async fn begin_append(db: &AdapterDatabase) -> Result<Transaction<'static, Any>, JournalError> {
    Ok(match db.backend() {
        Backend::Sqlite => db.pool().begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => {
            let mut tx = db.pool().begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(ADVISORY_LOCK)
                .execute(&mut *tx)
                .await?;
            tx
        }
    })
}

/// The algorithm the journal is chained with, if it has begun.
///
/// # Errors
/// [`JournalError::Database`]; [`JournalError::Corrupt`] for a name this build does not know.
pub async fn stored_algorithm<'c, E>(conn: E) -> Result<Option<Algorithm>, JournalError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let name: Option<String> = sqlx::query_scalar("SELECT algorithm FROM journal_meta WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    name.map(|n| {
        Algorithm::parse(&n).ok_or_else(|| JournalError::Corrupt(format!("unknown algorithm {n:?}")))
    })
    .transpose()
}

/// Fixes the algorithm on the first round; refuses another one later.
///
/// # Errors
/// [`JournalError::AlgorithmMismatch`], [`JournalError::Database`].
pub async fn settle_algorithm(
    tx: &mut Transaction<'static, Any>,
    configured: Algorithm,
) -> Result<(), JournalError> {
    match stored_algorithm(&mut **tx).await? {
        Some(a) if a == configured => Ok(()),
        Some(a) => Err(JournalError::AlgorithmMismatch {
            stored: a.as_str().to_owned(),
            configured: configured.as_str(),
        }),
        None => {
            sqlx::query("INSERT INTO journal_meta (id, algorithm) VALUES (1, $1)")
                .bind(configured.as_str())
                .execute(&mut **tx)
                .await?;
            Ok(())
        }
    }
}

/// The chain's head: the last position and chain hash (0 and [`GENESIS`] when empty).
///
/// # Errors
/// [`JournalError::Database`], [`JournalError::Corrupt`].
pub async fn head(tx: &mut Transaction<'static, Any>) -> Result<(i64, Hash), JournalError> {
    let row = sqlx::query("SELECT position, chain_hash FROM journal_entries ORDER BY position DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        None => Ok((0, GENESIS)),
        Some(r) => Ok((
            r.try_get("position")?,
            to_hash(r.try_get("chain_hash")?, "chain_hash")?,
        )),
    }
}

/// The largest order key of `kind` in the journal (0 when none).
///
/// # Errors
/// [`JournalError::Database`].
pub async fn last_chained<'c, E>(conn: E, kind: Kind) -> Result<i64, JournalError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let last: Option<i64> =
        sqlx::query_scalar("SELECT max(source_order) FROM journal_entries WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_one(conn)
            .await?;
    Ok(last.unwrap_or(0))
}

/// Appends `entries` (already chained from the head).
///
/// # Errors
/// [`JournalError::Database`] (a duplicate position or source row included).
pub async fn append(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    entries: &[Entry],
) -> Result<(), JournalError> {
    if entries.is_empty() {
        return Ok(());
    }
    match backend {
        // One statement for the whole batch, its rows as one JSON parameter: sqlx's SQLite
        // driver hands every statement to its worker thread and back, and looks every `$N` up
        // by name among all of a statement's parameters, so row-per-statement and
        // many-parameter inserts both cost the node a share of its throughput under load
        // (BENCHMARKS.md, "The journal").
        Backend::Sqlite => {
            sqlx::query(
                "INSERT INTO journal_entries (position, kind, source_order, source_key, entry_hash, chain_hash) \
                 SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, \
                        unhex(j.value ->> 4), unhex(j.value ->> 5) \
                 FROM json_each($1) AS j",
            )
            .bind(json_rows(entries))
            .execute(&mut **tx)
            .await?;
        }
        // A hundred rows a statement: fewer round trips.
        Backend::Postgres => {
            for chunk in entries.chunks(100) {
                let mut sql = String::from(
                    "INSERT INTO journal_entries (position, kind, source_order, source_key, entry_hash, chain_hash) VALUES ",
                );
                for i in 0..chunk.len() {
                    let b = i * 6;
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    ));
                }
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for e in chunk {
                    q = q
                        .bind(e.position)
                        .bind(e.kind.as_str())
                        .bind(e.order)
                        .bind(e.key.clone())
                        .bind(e.entry_hash.to_vec())
                        .bind(e.chain_hash.to_vec());
                }
                q.execute(&mut **tx).await?;
            }
        }
    }
    Ok(())
}

/// `entries` as a JSON array of `[position, kind, order, key, entry hash hex, chain hash hex]`.
fn json_rows(entries: &[Entry]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(entries.len() * 200);
    out.push('[');
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "[{},\"{}\",{},{},\"{}\",\"{}\"]",
            e.position,
            e.kind.as_str(),
            e.order,
            json_string(&e.key),
            hash::hex(&e.entry_hash),
            hash::hex(&e.chain_hash)
        );
    }
    out.push(']');
    out
}

/// A JSON string literal of `s`.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Entries with `after < position`, in order, at most `limit`.
///
/// # Errors
/// [`JournalError::Database`], [`JournalError::Corrupt`].
pub async fn entries<'c, E>(conn: E, after: i64, limit: i64) -> Result<Vec<Entry>, JournalError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT position, kind, source_order, source_key, entry_hash, chain_hash FROM journal_entries \
         WHERE position > $1 ORDER BY position LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Entry {
                position: r.try_get("position")?,
                kind: Kind::parse(&kind)
                    .ok_or_else(|| JournalError::Corrupt(format!("unknown kind {kind:?}")))?,
                order: r.try_get("source_order")?,
                key: r.try_get("source_key")?,
                entry_hash: to_hash(r.try_get("entry_hash")?, "entry_hash")?,
                chain_hash: to_hash(r.try_get("chain_hash")?, "chain_hash")?,
            })
        })
        .collect()
}

/// The journal entry of `kind` whose content hash is `hash`, if any (for naming a reorder).
///
/// # Errors
/// [`JournalError::Database`].
pub async fn entry_with_hash<'c, E>(
    conn: E,
    kind: Kind,
    hash: &Hash,
) -> Result<Option<(i64, i64)>, JournalError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let row = sqlx::query(
        "SELECT position, source_order FROM journal_entries WHERE kind = $1 AND entry_hash = $2 \
         ORDER BY position LIMIT 1",
    )
    .bind(kind.as_str())
    .bind(hash.to_vec())
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("position")?, r.try_get("source_order")?)))
        .transpose()
}

/// The last checkpoint's position and time.
///
/// # Errors
/// [`JournalError::Database`].
pub async fn last_checkpoint(
    tx: &mut Transaction<'static, Any>,
) -> Result<Option<(i64, String)>, JournalError> {
    let row = sqlx::query("SELECT position, at FROM journal_checkpoints ORDER BY position DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((r.try_get("position")?, r.try_get("at")?)))
        .transpose()
}

/// Writes a checkpoint.
///
/// # Errors
/// [`JournalError::Database`].
pub async fn put_checkpoint(tx: &mut Transaction<'static, Any>, c: &Checkpoint) -> Result<(), JournalError> {
    sqlx::query(
        "INSERT INTO journal_checkpoints (position, chain_hash, algorithm, at, certificate, signature_algorithm, signature) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.position)
    .bind(c.chain_hash.to_vec())
    .bind(c.algorithm.clone())
    .bind(c.at.clone())
    .bind(c.certificate.clone())
    .bind(c.signature_algorithm.clone())
    .bind(c.signature.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every checkpoint, in position order.
///
/// # Errors
/// [`JournalError::Database`], [`JournalError::Corrupt`].
pub async fn checkpoints<'c, E>(conn: E) -> Result<Vec<Checkpoint>, JournalError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT position, chain_hash, algorithm, at, certificate, signature_algorithm, signature \
         FROM journal_checkpoints ORDER BY position",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Checkpoint {
                position: r.try_get("position")?,
                chain_hash: to_hash(r.try_get("chain_hash")?, "checkpoint chain_hash")?,
                algorithm: r.try_get("algorithm")?,
                at: r.try_get("at")?,
                certificate: r.try_get("certificate")?,
                signature_algorithm: r.try_get("signature_algorithm")?,
                signature: r.try_get("signature")?,
            })
        })
        .collect()
}

/// How many rows of `kind` have an order key above `after` (not chained yet).
///
/// # Errors
/// [`JournalError::Database`].
pub async fn count_after<'c, E>(
    conn: E,
    backend: Backend,
    kind: Kind,
    after: i64,
) -> Result<i64, JournalError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let sql = match (kind, backend) {
        (Kind::History, _) => "SELECT count(*) FROM history WHERE seq > $1",
        (Kind::Message, Backend::Sqlite) => "SELECT count(*) FROM messages WHERE rowid > $1",
        (Kind::Message, Backend::Postgres) => "SELECT count(*) FROM messages WHERE arrival > $1",
    };
    Ok(sqlx::query_scalar(sql).bind(after).fetch_one(conn).await?)
}
