//! The link's own tables (through the node's [`AdapterDatabase`]; SQL written once for both
//! backends).
//!
//! - `smev3_outbound`: a request of this node sent upstream, by its MessageID (the same
//!   upstream and here): who asked and the local `ReplyTo` its answers go to; the MessageID of
//!   the `RequestRejected` the link answers with if the upstream refuses it (fixed before it is
//!   sent, so a resend after a crash is recognised as `MessageIsAlreadySent`); its state.
//! - `smev3_inbound`: a request from upstream injected here, by its MessageID: the upstream
//!   `ReplyTo` its answer goes back to.
//! - `smev3_status`: the link's last known state (for `rsmev federal status`, which may run in
//!   another process).
//!
//! A row is written before the call it prepares, so whatever the link finds after a crash is
//! enough to finish the job: the calls themselves are idempotent by MessageID.

use rsmev_broker::store::{AdapterDatabase, AdapterMigration, StoreError};
use sqlx::Row;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) const MIGRATIONS: &[AdapterMigration] = &[AdapterMigration {
    version: 1,
    description: "correlation of requests across the link, and its state",
    sql: "CREATE TABLE smev3_outbound (\
              message_id   TEXT PRIMARY KEY, \
              requester    TEXT NOT NULL, \
              reply_to     TEXT NOT NULL, \
              rejection_id TEXT, \
              state        TEXT NOT NULL, \
              detail       TEXT NOT NULL, \
              updated_at   TEXT NOT NULL); \
          CREATE TABLE smev3_inbound (\
              message_id   TEXT PRIMARY KEY, \
              reply_to     TEXT NOT NULL, \
              rejection_id TEXT, \
              state        TEXT NOT NULL, \
              detail       TEXT NOT NULL, \
              updated_at   TEXT NOT NULL); \
          CREATE TABLE smev3_status (\
              name       TEXT PRIMARY KEY, \
              value      TEXT NOT NULL, \
              updated_at TEXT NOT NULL)",
    postgres_sql: None,
}];

/// Which way a request crossed the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a participant of this node to the federal SMEV 3.
    Outbound,
    /// From the federal SMEV 3 to a provider of this node.
    Inbound,
}

impl Direction {
    /// The table of this direction. Statements name it by `format!`: it is one of two constants,
    /// never input (hence `AssertSqlSafe`).
    fn table(self) -> &'static str {
        match self {
            Direction::Outbound => "smev3_outbound",
            Direction::Inbound => "smev3_inbound",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

/// What the link knows of a request that crossed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Crossing {
    pub message_id: String,
    /// Outbound: the local requester. Inbound: empty.
    pub requester: String,
    /// Where its answers go: the local `ReplyTo` (outbound) or the upstream one (inbound).
    pub reply_to: String,
    pub rejection_id: Option<String>,
    pub state: String,
}

/// States of a crossing, in order.
pub(crate) mod state {
    /// Taken from one side, not yet placed on the other.
    pub(crate) const PENDING: &str = "pending";
    /// Placed on the other side.
    pub(crate) const SENT: &str = "sent";
    /// Refused by the other side; the requester was told.
    pub(crate) const REFUSED: &str = "refused";
}

fn now() -> String {
    OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default()
}

/// Records a request about to cross (kept as it is if already there) and returns what is known.
pub(crate) async fn begin(
    db: &AdapterDatabase,
    direction: Direction,
    message_id: &str,
    requester: &str,
    reply_to: &str,
) -> Result<Crossing, StoreError> {
    let q = match direction {
        Direction::Outbound => sqlx::query(
            "INSERT INTO smev3_outbound (message_id, requester, reply_to, state, detail, updated_at) \
             VALUES ($1, $2, $3, 'pending', '', $4) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(requester)
        .bind(reply_to)
        .bind(now()),
        Direction::Inbound => sqlx::query(
            "INSERT INTO smev3_inbound (message_id, reply_to, state, detail, updated_at) \
             VALUES ($1, $2, 'pending', '', $3) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(message_id)
        .bind(reply_to)
        .bind(now()),
    };
    q.execute(db.pool()).await?;
    find(db, direction, message_id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("{} row {message_id} vanished", direction.table())))
}

/// The crossing of `message_id`, if the link handled it.
pub(crate) async fn find(
    db: &AdapterDatabase,
    direction: Direction,
    message_id: &str,
) -> Result<Option<Crossing>, StoreError> {
    let sql = match direction {
        Direction::Outbound => {
            "SELECT message_id, requester, reply_to, rejection_id, state FROM smev3_outbound \
             WHERE message_id = $1"
        }
        Direction::Inbound => {
            "SELECT message_id, '' AS requester, reply_to, rejection_id, state FROM smev3_inbound \
             WHERE message_id = $1"
        }
    };
    let row = sqlx::query(sql)
        .bind(message_id)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| {
        Ok(Crossing {
            message_id: r.try_get(0)?,
            requester: r.try_get(1)?,
            reply_to: r.try_get(2)?,
            rejection_id: r.try_get(3)?,
            state: r.try_get(4)?,
        })
    })
    .transpose()
}

/// Fixes the MessageID of the rejection the link answers with (the first one set wins) and
/// returns it.
pub(crate) async fn rejection_id(
    db: &AdapterDatabase,
    direction: Direction,
    message_id: &str,
    candidate: &str,
) -> Result<String, StoreError> {
    let sql = format!(
        "UPDATE {} SET rejection_id = $1 WHERE message_id = $2 AND rejection_id IS NULL",
        direction.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(candidate)
        .bind(message_id)
        .execute(db.pool())
        .await?;
    find(db, direction, message_id)
        .await?
        .and_then(|c| c.rejection_id)
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{} row {message_id} has no rejection id",
                direction.table()
            ))
        })
}

/// Moves a crossing to `state` with a word on what happened.
pub(crate) async fn set_state(
    db: &AdapterDatabase,
    direction: Direction,
    message_id: &str,
    state: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE {} SET state = $1, detail = $2, updated_at = $3 WHERE message_id = $4",
        direction.table()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(state)
        .bind(detail)
        .bind(now())
        .bind(message_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// How many crossings of `direction` are in each state.
pub async fn counts(db: &AdapterDatabase, direction: Direction) -> Result<Vec<(String, i64)>, StoreError> {
    let sql = format!(
        "SELECT state, COUNT(*) FROM {} GROUP BY state ORDER BY state",
        direction.table()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?)))
        .collect()
}

/// Records a value of the link's state (`link`, `last_error`, …).
pub(crate) async fn put_status(db: &AdapterDatabase, name: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO smev3_status (name, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Every recorded value of the link's state: name, value, when it was recorded.
pub async fn status(db: &AdapterDatabase) -> Result<Vec<(String, String, String)>, StoreError> {
    let rows = sqlx::query("SELECT name, value, updated_at FROM smev3_status ORDER BY name")
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}
