//! Requests forwarded to the federal GIS GMP (table `gisgmp_forwards`): for each request a
//! regional participant sent, the MessageID it went up under, where its answer goes (its
//! `ReplyTo`), the document that went up and the refusals made here
//! ([`crate::service::Forwarded`]). The row is written before the request goes up and is what
//! ties the federal answer (whose `OriginalMessageId` is the forwarded MessageID) back to the
//! request; it is the module's obligation to answer once the original request is acked.

use rsmev_broker::store::{AdapterDatabase, AdapterMigration, StoreError};
use sqlx::Row as _;
use time::OffsetDateTime;

use crate::doc::El;
use crate::ledger::moment_key;
use crate::service::Forwarded;

/// The forwards' table (migration 5 of the module).
pub const MIGRATION: AdapterMigration = AdapterMigration {
    version: 5,
    description: "the GIS GMP module's requests forwarded to the federal GIS GMP",
    sql: "CREATE TABLE gisgmp_forwards (\
              request_id   TEXT PRIMARY KEY, \
              forward_id   TEXT NOT NULL UNIQUE, \
              reply_to     TEXT NOT NULL, \
              request      TEXT NOT NULL, \
              refused      TEXT NOT NULL, \
              entity_order TEXT NOT NULL, \
              sent_at      TEXT NOT NULL, \
              answered_at  TEXT)",
    postgres_sql: None,
};

/// A forwarded request as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The original request's MessageID on this node.
    pub request_id: String,
    /// The MessageID it went up under.
    pub forward_id: String,
    /// The original request's `ReplyTo`.
    pub reply_to: String,
    pub forwarded: Forwarded,
}

/// Why a forward cannot be recorded or read.
#[derive(Debug, thiserror::Error)]
pub enum ForwardsError {
    #[error("the GIS GMP forwards: {0}")]
    Store(#[from] StoreError),
    #[error("the GIS GMP forward {forward_id} no longer reads: {problem}")]
    Corrupt { forward_id: String, problem: String },
}

impl From<sqlx::Error> for ForwardsError {
    fn from(e: sqlx::Error) -> ForwardsError {
        ForwardsError::Store(StoreError::Database(e))
    }
}

/// The element the refusals are kept in.
const REFUSED: &str = "Refused";

/// Records that `request_id` goes up as `forward_id` (a request recorded before keeps its first
/// forward), and returns the forward as recorded.
///
/// # Errors
/// [`ForwardsError`].
pub async fn record(
    db: &AdapterDatabase,
    request_id: &str,
    forward_id: &str,
    reply_to: &str,
    forwarded: &Forwarded,
    now: OffsetDateTime,
) -> Result<Forward, ForwardsError> {
    let mut refused = El::new("urn://rsmev/gisgmp/forward", REFUSED);
    refused.children = forwarded.refused.clone();
    sqlx::query(
        "INSERT INTO gisgmp_forwards (request_id, forward_id, reply_to, request, refused, entity_order, sent_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(request_id.to_owned())
    .bind(forward_id.to_owned())
    .bind(reply_to.to_owned())
    .bind(forwarded.request.clone())
    .bind(refused.to_xml())
    .bind(forwarded.order.join("\n"))
    .bind(moment_key(now))
    .execute(db.pool())
    .await?;
    find(db, By::Request, request_id)
        .await?
        .ok_or_else(|| ForwardsError::Corrupt {
            forward_id: forward_id.to_owned(),
            problem: "recorded and not found".into(),
        })
}

/// The forward that went up as `forward_id`.
///
/// # Errors
/// [`ForwardsError`].
pub async fn by_forward_id(db: &AdapterDatabase, forward_id: &str) -> Result<Option<Forward>, ForwardsError> {
    find(db, By::Forward, forward_id).await
}

/// Marks the forward `forward_id` answered (kept for the record).
///
/// # Errors
/// [`ForwardsError`].
pub async fn answered(
    db: &AdapterDatabase,
    forward_id: &str,
    now: OffsetDateTime,
) -> Result<(), ForwardsError> {
    sqlx::query("UPDATE gisgmp_forwards SET answered_at = $2 WHERE forward_id = $1 AND answered_at IS NULL")
        .bind(forward_id.to_owned())
        .bind(moment_key(now))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Forwards sent and not answered yet.
///
/// # Errors
/// [`ForwardsError`].
pub async fn waiting(db: &AdapterDatabase) -> Result<i64, ForwardsError> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM gisgmp_forwards WHERE answered_at IS NULL")
            .fetch_one(db.pool())
            .await?
            .get(0),
    )
}

/// Which MessageID a forward is found by.
#[derive(Clone, Copy)]
enum By {
    Request,
    Forward,
}

async fn find(db: &AdapterDatabase, by: By, key: &str) -> Result<Option<Forward>, ForwardsError> {
    let sql = match by {
        By::Request => {
            "SELECT request_id, forward_id, reply_to, request, refused, entity_order FROM gisgmp_forwards WHERE request_id = $1"
        }
        By::Forward => {
            "SELECT request_id, forward_id, reply_to, request, refused, entity_order FROM gisgmp_forwards WHERE forward_id = $1"
        }
    };
    let Some(row) = sqlx::query(sql)
        .bind(key.to_owned())
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let forward_id: String = row.get(1);
    let refused = El::parse(&row.get::<String, _>(4)).map_err(|e| ForwardsError::Corrupt {
        forward_id: forward_id.clone(),
        problem: e.to_string(),
    })?;
    let order: String = row.get(5);
    Ok(Some(Forward {
        request_id: row.get(0),
        reply_to: row.get(2),
        forwarded: Forwarded {
            request: row.get(3),
            refused: refused.children,
            order: order
                .lines()
                .map(str::to_owned)
                .filter(|l| !l.is_empty())
                .collect(),
        },
        forward_id,
    }))
}
