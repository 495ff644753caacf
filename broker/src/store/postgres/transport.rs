//! The PostgreSQL half of the RabbitMQ transport: the transactional outbox and the conditional
//! lease of a transport copy. The migration `0002_transport.sql` explains the columns; the
//! RabbitMQ half is [`crate::store::rabbit`].
//!
//! Why a copy never delivers anything twice or after its Ack: taking a copy locks its entry's
//! row (`FOR UPDATE`) and leases the entry only when the row still exists, the copy's generation
//! is the entry's newest, the entry is not leased, and its EOL has not passed. Those are the
//! rules of the plain lease ([`super::ops::lease`]), checked on one named row instead of the
//! first free row of the queue; an Ack deletes the row, so every later copy finds nothing.

use rsmev_registry::Mnemonic;
use sqlx::Row;
use sqlx::postgres::PgConnection;
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use super::codec::{attachment_columns, message_columns};
use super::ops::lease_history;
use crate::store::encoding::{decode_mnemonic, decode_queue, decode_time, encode_time, queue_label};
use crate::store::{EventKind, Leased, QueueKind, StoreError};

type Conn = PgConnection;

/// One copy of a queue entry on its way to (or in) RabbitMQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportCopy {
    pub owner: Mnemonic,
    pub queue: QueueKind,
    pub message_id: Uuid,
    /// The entry's copy generation when this copy was made.
    pub generation: i64,
}

/// A copy waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub copy: TransportCopy,
}

/// What taking a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOutcome {
    /// The entry is leased to the caller: deliver it.
    Leased(Box<Leased>),
    /// The entry is currently leased (it was handed out from the database while its copy waited
    /// in RabbitMQ): the copy is used up, the redelivery scan makes a new one if the lease runs out.
    Busy,
    /// Nothing to deliver: the entry was acked or expired, its EOL has passed, or a newer copy
    /// exists. Discard the copy.
    Stale,
}

/// After a lease straight from the database: the entry's copy, if it still waits in the outbox
/// (and no relay is publishing it right now), is deleted and the entry marked as having no live
/// copy, so RabbitMQ never carries a copy that could only be discarded; the redelivery scan makes
/// a new one if this lease runs out. A copy already published stays and is discarded when taken.
pub(super) async fn cancel_unpublished_copy(
    conn: &mut Conn,
    owner: &Mnemonic,
    queue: QueueKind,
    message_id: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "WITH gone AS ( \
             DELETE FROM outbox WHERE id IN ( \
                 SELECT id FROM outbox WHERE message_id = $3 AND owner = $1 AND queue = $2 \
                 FOR UPDATE SKIP LOCKED) \
             RETURNING transport \
         ) \
         UPDATE queue_entries e SET transport_live = false \
         FROM gone WHERE e.owner = $1 AND e.queue = $2 AND e.message_id = $3 \
           AND e.transport = gone.transport",
    )
    .bind(owner.as_str())
    .bind(queue.as_str())
    .bind(message_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Leases the entry `copy` names, if the copy may still deliver it (see the module docs).
pub(super) async fn take_copy(
    conn: &mut Conn,
    copy: &TransportCopy,
    now: OffsetDateTime,
    lease_for: time::Duration,
) -> Result<CopyOutcome, StoreError> {
    let at = encode_time(now);
    let row = sqlx::query(
        "SELECT seq, transport, lease_until, eol FROM queue_entries \
         WHERE owner = $1 AND queue = $2 AND message_id = $3 FOR UPDATE",
    )
    .bind(copy.owner.as_str())
    .bind(copy.queue.as_str())
    .bind(copy.message_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(CopyOutcome::Stale);
    };
    let seq: i64 = row.try_get(0)?;
    let generation: i64 = row.try_get(1)?;
    let lease_until: Option<String> = row.try_get(2)?;
    let eol: Option<String> = row.try_get(3)?;
    if generation != copy.generation || eol.as_deref().is_some_and(|eol| eol < at.as_str()) {
        return Ok(CopyOutcome::Stale);
    }
    if lease_until.as_deref().is_some_and(|until| until > at.as_str()) {
        sqlx::query("UPDATE queue_entries SET transport_live = false WHERE seq = $1")
            .bind(seq)
            .execute(&mut *conn)
            .await?;
        return Ok(CopyOutcome::Busy);
    }

    let lease_until = now
        .checked_add(lease_for)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_utc());
    let row = sqlx::query(concat!(
        "WITH leased AS ( \
             UPDATE queue_entries SET lease_until = $2, attempts = attempts + 1, transport_live = false \
             WHERE seq = $1 RETURNING message_id, attempts \
         )",
        lease_history!("$3", "$4", "$5", "$6", "$7"),
        "SELECT leased.attempts, ",
        message_columns!(),
        ", ",
        attachment_columns!(),
        " FROM leased JOIN messages m ON m.message_id = leased.message_id"
    ))
    .bind(seq)
    .bind(encode_time(lease_until))
    .bind(&at)
    .bind(copy.owner.as_str())
    .bind(queue_label(&copy.owner, copy.queue))
    .bind(EventKind::Leased.as_str())
    .bind(EventKind::Redelivered.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let leased = super::ops::leased_from_row(&row, &copy.owner, copy.queue, lease_until)?;
    Ok(CopyOutcome::Leased(Box::new(leased)))
}

/// Makes new copies, through the outbox, of at most `limit` entries that need one: entries whose
/// copy was taken and whose lease has run out by `now` (redelivery), entries that never had a
/// copy (queued before the transport was switched on), and live copies made
/// before `republish_before` (a copy RabbitMQ may have lost). Rows other nodes are scanning are
/// skipped, so every node may run this at once. Returns how many copies were made.
pub(super) async fn schedule_copies(
    conn: &mut Conn,
    now: OffsetDateTime,
    republish_before: OffsetDateTime,
    limit: u32,
) -> Result<u64, StoreError> {
    let at = encode_time(now);
    let made = sqlx::query(
        "WITH due AS ( \
             SELECT seq FROM queue_entries \
             WHERE (NOT transport_live AND (lease_until IS NULL OR lease_until <= $1)) \
                OR (transport_live AND transport_at < $2 AND (lease_until IS NULL OR lease_until <= $1)) \
             ORDER BY seq LIMIT $3 \
             FOR UPDATE SKIP LOCKED \
         ), copied AS ( \
             UPDATE queue_entries e \
             SET transport = e.transport + 1, transport_live = true, transport_at = $1 \
             FROM due WHERE e.seq = due.seq \
             RETURNING e.seq, e.owner, e.queue, e.message_id, e.transport \
         ) \
         INSERT INTO outbox (owner, queue, message_id, transport, created_at) \
         SELECT owner, queue, message_id, transport, $1 FROM copied ORDER BY seq",
    )
    .bind(&at)
    .bind(encode_time(republish_before))
    .bind(i64::from(limit))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(made)
}

/// The first key of the relay's advisory lock (the second is 0), apart from the queue locks'
/// class (`ops::QUEUE_LOCK_CLASS`). "RSMO".
const RELAY_LOCK_CLASS: i32 = 0x5253_4d4f;

/// Takes the relay's transaction-scoped advisory lock if no other transaction holds it.
pub(super) async fn take_relay_lock(conn: &mut Conn) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1, 0)")
        .bind(RELAY_LOCK_CLASS)
        .fetch_one(&mut *conn)
        .await?)
}

/// The oldest outbox rows, at most `limit`, locked until the end of the transaction; rows
/// another node is publishing are skipped.
pub(super) async fn outbox_rows(conn: &mut Conn, limit: u32) -> Result<Vec<OutboxRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, owner, queue, message_id, transport FROM outbox \
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(OutboxRow {
                id: row.try_get(0)?,
                copy: TransportCopy {
                    owner: decode_mnemonic(row.try_get(1)?)?,
                    queue: decode_queue(&row.try_get::<String, _>(2)?)?,
                    message_id: row.try_get(3)?,
                    generation: row.try_get(4)?,
                },
            })
        })
        .collect()
}

/// Deletes published outbox rows.
pub(super) async fn delete_outbox_rows(conn: &mut Conn, ids: &[i64]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many copies wait in the outbox, and when the oldest was written.
pub(super) async fn outbox_depth(conn: &mut Conn) -> Result<(u64, Option<OffsetDateTime>), StoreError> {
    let row = sqlx::query("SELECT COUNT(*), MIN(created_at) FROM outbox")
        .fetch_one(&mut *conn)
        .await?;
    let n: i64 = row.try_get(0)?;
    let oldest: Option<String> = row.try_get(1)?;
    Ok((
        super::codec::count(n, "outbox rows")?,
        oldest.as_deref().map(decode_time).transpose()?,
    ))
}
