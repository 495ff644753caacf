//! Write operations, run by the writer task inside the batch transaction (each in its own
//! savepoint). Every check these make sees every earlier operation of the same batch, because
//! there is only one writer.

use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use sqlx::Row;
use sqlx::sqlite::SqliteConnection;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::codec::{self, encode_id, encode_time, message_columns, message_from_row};
use crate::store::encoding::{NODE, queue_label};
use crate::store::{
    AcceptLimits, AcceptOutcome, AckTarget, Delivery, EventKind, Expiring, Leased, MessageKind, NewMessage,
    QueueKind, Rejection, StoreError, XsdSet,
};

type Conn = SqliteConnection;

async fn history(
    conn: &mut Conn,
    message_id: &str,
    at: &str,
    event: EventKind,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO history (message_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(message_id)
        .bind(at)
        .bind(event.as_str())
        .bind(actor)
        .bind(detail)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// [`crate::store::Store::accept`]; `limits: None` skips the quota check (node-generated
/// statuses must be delivered).
pub(super) async fn accept(
    conn: &mut Conn,
    msg: &NewMessage,
    deliveries: &[Delivery],
    limits: Option<AcceptLimits>,
    now: OffsetDateTime,
) -> Result<AcceptOutcome, StoreError> {
    let id = encode_id(msg.message_id);
    let known = sqlx::query("SELECT 1 FROM messages WHERE message_id = ?")
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_some() {
        return Ok(AcceptOutcome::Duplicate);
    }

    // One entry per queue: a second delivery to the same queue would only duplicate it.
    let mut targets: Vec<&Delivery> = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        if !targets.iter().any(|t| t.owner == d.owner && t.queue == d.queue) {
            targets.push(d);
        }
    }

    if let Some(limits) = limits {
        for d in &targets {
            // Counting stops at the quota: the check costs at most `queue_quota` index steps.
            let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM \
                 (SELECT 1 FROM queue_entries WHERE owner = ? AND queue = ? LIMIT ?)",
            )
            .bind(d.owner.as_str())
            .bind(d.queue.as_str())
            .bind(limits.queue_quota)
            .fetch_one(&mut *conn)
            .await?;
            if held >= i64::from(limits.queue_quota) {
                return Ok(AcceptOutcome::Overflow {
                    owner: d.owner.clone(),
                    queue: d.queue,
                });
            }
        }
    }

    let at = encode_time(now);
    let eol = msg.eol.map(encode_time);
    let actor = msg.sender.as_ref().map_or(NODE, Mnemonic::as_str);
    // Each statement is a round trip to the connection's worker thread, which costs more than
    // SQLite's work here: the fixed part of an accept goes as one multi-statement query. (Its
    // parameters are plain `?`, bound in order across the statements: sqlx binds numbered ones
    // wrongly when a later statement skips numbers.)
    let kind = msg.kind.as_str();
    sqlx::query(
        "INSERT INTO messages (message_id, kind, sender, qname_ns, qname_local, \
         original_message_id, reference_message_id, transaction_code, eol, content, \
         sender_signature, reply_to, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?); \
         INSERT INTO history (message_id, at, event, actor, detail) \
         VALUES (?, ?, ?, ?, ''), (?, ?, ?, ?, ?); \
         INSERT INTO usage_counters (day, participant, infotype, kind, count) VALUES (?, ?, ?, ?, 1) \
         ON CONFLICT (day, participant, infotype, kind) DO UPDATE SET count = count + 1",
    )
    .bind(&id)
    .bind(kind)
    .bind(msg.sender.as_ref().map(Mnemonic::as_str))
    .bind(msg.qname.as_ref().map(|q| q.namespace.as_str()))
    .bind(msg.qname.as_ref().map(|q| q.local_name.as_str()))
    .bind(msg.original_message_id.map(encode_id))
    .bind(msg.reference_message_id.map(encode_id))
    .bind(msg.transaction_code.as_deref())
    .bind(eol.as_deref())
    .bind(msg.content.as_str())
    .bind(msg.sender_signature.as_deref())
    .bind(msg.reply_to.as_deref())
    .bind(&at)
    // history: received, accepted
    .bind(&id)
    .bind(&at)
    .bind(EventKind::Received.as_str())
    .bind(actor)
    .bind(&id)
    .bind(&at)
    .bind(EventKind::Accepted.as_str())
    .bind(actor)
    .bind(kind)
    // usage
    .bind(codec::encode_day(codec::utc_day(now)))
    .bind(actor)
    .bind(codec::qname_key(msg.qname.as_ref()))
    .bind(kind)
    .execute(&mut *conn)
    .await?;

    for d in targets {
        sqlx::query(
            "INSERT INTO queue_entries (owner, queue, message_id, selector_ns, selector_local, \
             enqueued_at, eol) VALUES (?, ?, ?, ?, ?, ?, ?); \
             INSERT INTO history (message_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(d.owner.as_str())
        .bind(d.queue.as_str())
        .bind(&id)
        .bind(d.selector.as_ref().map(|q| q.namespace.as_str()))
        .bind(d.selector.as_ref().map(|q| q.local_name.as_str()))
        .bind(&at)
        .bind(eol.as_deref())
        .bind(&id)
        .bind(&at)
        .bind(EventKind::Queued.as_str())
        .bind(actor)
        .bind(queue_label(&d.owner, d.queue))
        .execute(&mut *conn)
        .await?;
    }
    if let (MessageKind::Response, Some(request)) = (msg.kind, msg.original_message_id) {
        history(
            conn,
            &encode_id(request),
            &at,
            EventKind::ResponseAccepted,
            actor,
            &id,
        )
        .await?;
    }

    Ok(AcceptOutcome::Accepted { received_at: now })
}

pub(super) async fn record_rejection(conn: &mut Conn, r: &Rejection) -> Result<(), StoreError> {
    let id = encode_id(r.message_id);
    let at = encode_time(r.at);
    history(conn, &id, &at, EventKind::Received, &r.actor, "").await?;
    history(conn, &id, &at, EventKind::Rejected, &r.actor, &r.fault).await
}

pub(super) async fn lease(
    conn: &mut Conn,
    owner: &Mnemonic,
    queue: QueueKind,
    selector: Option<&QName>,
    now: OffsetDateTime,
    lease_for: time::Duration,
) -> Result<Option<Leased>, StoreError> {
    let at = encode_time(now);
    // An entry is free when it was never leased or its lease has run out (`lease_until <= now`),
    // and deliverable while its EOL has not passed (`eol >= now`; `due_expirations` takes
    // `eol < now`).
    // `CROSS JOIN` keeps the entry as the outer loop: SQLite walks the queue's index in FIFO
    // order and looks each message up by its key, whatever its statistics suggest.
    let found = match selector {
        None => {
            sqlx::query(concat!(
                "SELECT e.seq, e.attempts, ",
                message_columns!(),
                " FROM queue_entries e CROSS JOIN messages m ON m.message_id = e.message_id \
                 WHERE e.owner = ?1 AND e.queue = ?2 \
                   AND (e.lease_until IS NULL OR e.lease_until <= ?3) \
                   AND (e.eol IS NULL OR e.eol >= ?3) \
                 ORDER BY e.seq LIMIT 1"
            ))
            .bind(owner.as_str())
            .bind(queue.as_str())
            .bind(&at)
            .fetch_optional(&mut *conn)
            .await?
        }
        Some(q) => {
            sqlx::query(concat!(
                "SELECT e.seq, e.attempts, ",
                message_columns!(),
                " FROM queue_entries e CROSS JOIN messages m ON m.message_id = e.message_id \
                 WHERE e.owner = ?1 AND e.queue = ?2 \
                   AND e.selector_ns = ?4 AND e.selector_local = ?5 \
                   AND (e.lease_until IS NULL OR e.lease_until <= ?3) \
                   AND (e.eol IS NULL OR e.eol >= ?3) \
                 ORDER BY e.seq LIMIT 1"
            ))
            .bind(owner.as_str())
            .bind(queue.as_str())
            .bind(&at)
            .bind(q.namespace.as_str())
            .bind(q.local_name.as_str())
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    let Some(row) = found else {
        return Ok(None);
    };
    let seq: i64 = row.try_get(0)?;
    let attempts: i64 = row.try_get(1)?;
    let message = message_from_row(&row, 2)?;
    let attempt = u32::try_from(attempts.saturating_add(1))
        .map_err(|_| StoreError::Corrupt(format!("entry {seq} has {attempts} attempts")))?;
    let lease_until = now
        .checked_add(lease_for)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_utc());
    let event = if attempt == 1 {
        EventKind::Leased
    } else {
        EventKind::Redelivered
    };

    sqlx::query(
        "UPDATE queue_entries SET lease_until = ?, attempts = ? WHERE seq = ?; \
         INSERT INTO history (message_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(encode_time(lease_until))
    .bind(attempt)
    .bind(seq)
    .bind(encode_id(message.message_id))
    .bind(&at)
    .bind(event.as_str())
    .bind(owner.as_str())
    .bind(format!("{} attempt {attempt}", queue_label(owner, queue)))
    .execute(&mut *conn)
    .await?;

    Ok(Some(Leased {
        message,
        owner: owner.clone(),
        queue,
        attempt,
        lease_until,
    }))
}

pub(super) async fn ack(
    conn: &mut Conn,
    owner: &Mnemonic,
    target: AckTarget,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = encode_id(target.message_id);
    let removed: Vec<String> =
        sqlx::query_scalar("DELETE FROM queue_entries WHERE message_id = ? AND owner = ? RETURNING queue")
            .bind(&id)
            .bind(owner.as_str())
            .fetch_all(&mut *conn)
            .await?;
    let at = encode_time(now);
    for queue in &removed {
        let queue = codec::decode_queue(queue)?;
        let mut detail = queue_label(owner, queue);
        if !target.accepted {
            detail.push_str(" not accepted: the recipient could not verify the node's signature");
        }
        history(conn, &id, &at, EventKind::Acked, owner.as_str(), &detail).await?;
    }
    Ok(!removed.is_empty())
}

pub(super) async fn expire(
    conn: &mut Conn,
    expiring: &Expiring,
    status: &NewMessage,
    status_delivery: &Delivery,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = encode_id(expiring.message.message_id);
    let removed = sqlx::query("DELETE FROM queue_entries WHERE owner = ? AND queue = ? AND message_id = ?")
        .bind(expiring.owner.as_str())
        .bind(expiring.queue.as_str())
        .bind(&id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if removed == 0 {
        return Ok(false);
    }
    let detail = queue_label(&expiring.owner, expiring.queue);
    history(conn, &id, &encode_time(now), EventKind::Expired, NODE, &detail).await?;
    match accept(conn, status, std::slice::from_ref(status_delivery), None, now).await? {
        AcceptOutcome::Accepted { .. } => Ok(true),
        // The savepoint rolls the removal back: the entry stays for another attempt.
        AcceptOutcome::Duplicate | AcceptOutcome::Overflow { .. } => Err(StoreError::Corrupt(format!(
            "the expiry status {} of {id} is already stored",
            status.message_id
        ))),
    }
}

// ---- registry ---------------------------------------------------------------------------------

async fn bump_registry_version(conn: &mut Conn) -> Result<(), StoreError> {
    sqlx::query("UPDATE registry_version SET version = version + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_participant(conn: &mut Conn, p: &Participant) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO participants (mnemonic, name, organisation, status) VALUES (?, ?, ?, ?) \
         ON CONFLICT (mnemonic) DO UPDATE SET name = excluded.name, \
         organisation = excluded.organisation, status = excluded.status",
    )
    .bind(p.mnemonic.as_str())
    .bind(p.name.as_str())
    .bind(p.organisation.as_str())
    .bind(codec::participant_status_str(p.status))
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM participant_certificates WHERE mnemonic = ?")
        .bind(p.mnemonic.as_str())
        .execute(&mut *conn)
        .await?;
    for (position, pem) in (0_i64..).zip(&p.certificates) {
        sqlx::query("INSERT INTO participant_certificates (mnemonic, position, pem) VALUES (?, ?, ?)")
            .bind(p.mnemonic.as_str())
            .bind(position)
            .bind(pem.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn insert_infotype(conn: &mut Conn, t: &InfoType) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO infotypes (namespace, local_name, version, kind, provider, xsd, \
         transaction_code_required, max_size, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (namespace, local_name) DO UPDATE SET version = excluded.version, \
         kind = excluded.kind, provider = excluded.provider, xsd = excluded.xsd, \
         transaction_code_required = excluded.transaction_code_required, \
         max_size = excluded.max_size, description = excluded.description",
    )
    .bind(t.qname.namespace.as_str())
    .bind(t.qname.local_name.as_str())
    .bind(t.version.as_str())
    .bind(t.kind.as_str())
    .bind(t.provider.as_str())
    .bind(t.xsd.as_deref())
    .bind(t.transaction_code_required)
    // Sizes beyond i64 mean "unlimited" in practice; store the largest the column holds.
    .bind(t.max_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)))
    .bind(t.description.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_service(conn: &mut Conn, s: &Service) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO services (code, provider, description) VALUES (?, ?, ?) \
         ON CONFLICT (code) DO UPDATE SET provider = excluded.provider, \
         description = excluded.description",
    )
    .bind(s.code.as_str())
    .bind(s.provider.as_str())
    .bind(s.description.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM service_infotypes WHERE code = ?")
        .bind(s.code.as_str())
        .execute(&mut *conn)
        .await?;
    for (position, q) in (0_i64..).zip(&s.infotypes) {
        sqlx::query(
            "INSERT INTO service_infotypes (code, position, namespace, local_name) VALUES (?, ?, ?, ?)",
        )
        .bind(s.code.as_str())
        .bind(position)
        .bind(q.namespace.as_str())
        .bind(q.local_name.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn insert_grant(conn: &mut Conn, g: &Grant) -> Result<(), StoreError> {
    sqlx::query("INSERT OR IGNORE INTO grants (consumer, namespace, local_name) VALUES (?, ?, ?)")
        .bind(g.consumer.as_str())
        .bind(g.infotype.namespace.as_str())
        .bind(g.infotype.local_name.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_xsd_set(conn: &mut Conn, set: &XsdSet) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM xsd_sets WHERE name = ?")
        .bind(set.name.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO xsd_sets (name) VALUES (?)")
        .bind(set.name.as_str())
        .execute(&mut *conn)
        .await?;
    for (path, content) in &set.files {
        sqlx::query("INSERT INTO xsd_files (set_name, path, content) VALUES (?, ?, ?)")
            .bind(set.name.as_str())
            .bind(path.as_str())
            .bind(content.as_slice())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn put_participant(conn: &mut Conn, p: &Participant) -> Result<(), StoreError> {
    insert_participant(conn, p).await?;
    bump_registry_version(conn).await
}

pub(super) async fn put_infotype(conn: &mut Conn, t: &InfoType) -> Result<(), StoreError> {
    insert_infotype(conn, t).await?;
    bump_registry_version(conn).await
}

pub(super) async fn put_service(conn: &mut Conn, s: &Service) -> Result<(), StoreError> {
    insert_service(conn, s).await?;
    bump_registry_version(conn).await
}

pub(super) async fn put_grant(conn: &mut Conn, g: &Grant) -> Result<(), StoreError> {
    insert_grant(conn, g).await?;
    bump_registry_version(conn).await
}

pub(super) async fn revoke_grant(conn: &mut Conn, g: &Grant) -> Result<bool, StoreError> {
    let removed = sqlx::query("DELETE FROM grants WHERE consumer = ? AND namespace = ? AND local_name = ?")
        .bind(g.consumer.as_str())
        .bind(g.infotype.namespace.as_str())
        .bind(g.infotype.local_name.as_str())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if removed > 0 {
        bump_registry_version(conn).await?;
    }
    Ok(removed > 0)
}

pub(super) async fn put_xsd_set(conn: &mut Conn, set: &XsdSet) -> Result<(), StoreError> {
    insert_xsd_set(conn, set).await?;
    bump_registry_version(conn).await
}

pub(super) async fn replace_registry(
    conn: &mut Conn,
    r: &Registry,
    xsd_sets: &[XsdSet],
) -> Result<(), StoreError> {
    for table in [
        "DELETE FROM participants",
        "DELETE FROM infotypes",
        "DELETE FROM services",
        "DELETE FROM grants",
        "DELETE FROM xsd_sets",
    ] {
        sqlx::query(table).execute(&mut *conn).await?;
    }
    for p in &r.participants {
        insert_participant(conn, p).await?;
    }
    for t in &r.infotypes {
        insert_infotype(conn, t).await?;
    }
    for s in &r.services {
        insert_service(conn, s).await?;
    }
    for g in &r.grants {
        insert_grant(conn, g).await?;
    }
    for set in xsd_sets {
        insert_xsd_set(conn, set).await?;
    }
    bump_registry_version(conn).await
}
