//! Write operations, run by the writer thread inside the batch transaction (each in its own
//! savepoint). Every check these make sees every earlier operation of the same batch, because
//! there is only one writer.

use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use rusqlite::{Connection, params};
use time::{OffsetDateTime, PrimitiveDateTime};

use super::codec::{self, encode_id, encode_time, message_columns, message_from_row};
use crate::store::encoding::{NODE, queue_label};
use crate::store::{
    AcceptLimits, AcceptOutcome, AckTarget, Delivery, EventKind, Expiring, HistoryEvent, Leased, MessageKind,
    NewMessage, QueueKind, Rejection, StoreError, StoredAttachment, XsdSet,
};

type Conn = Connection;

fn history(
    conn: &Conn,
    message_id: &str,
    at: &str,
    event: EventKind,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO history (message_id, at, event, actor, detail) VALUES (?, ?, ?, ?, ?)")?
        .execute(params![message_id, at, event.as_str(), actor, detail])?;
    Ok(())
}

/// [`crate::store::Store::accept`]; `limits: None` skips the quota check (node-generated
/// statuses must be delivered).
pub(super) fn accept(
    conn: &Conn,
    msg: &NewMessage,
    deliveries: &[Delivery],
    limits: Option<AcceptLimits>,
    now: OffsetDateTime,
) -> Result<AcceptOutcome, StoreError> {
    let id = encode_id(msg.message_id);
    let known = conn
        .prepare_cached("SELECT 1 FROM messages WHERE message_id = ?")?
        .exists([&id])?;
    if known {
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
        let mut count = conn.prepare_cached(
            "SELECT COUNT(*) FROM (SELECT 1 FROM queue_entries WHERE owner = ? AND queue = ? LIMIT ?)",
        )?;
        for d in &targets {
            // Counting stops at the quota: the check costs at most `queue_quota` index steps.
            let held: i64 = count.query_row(
                params![d.owner.as_str(), d.queue.as_str(), limits.queue_quota],
                |r| r.get(0),
            )?;
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
    let kind = msg.kind.as_str();
    conn.prepare_cached(
        "INSERT INTO messages (message_id, kind, sender, qname_ns, qname_local, \
         original_message_id, reference_message_id, transaction_code, eol, content, \
         sender_signature, reply_to, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        id,
        kind,
        msg.sender.as_ref().map(Mnemonic::as_str),
        msg.qname.as_ref().map(|q| q.namespace.as_str()),
        msg.qname.as_ref().map(|q| q.local_name.as_str()),
        msg.original_message_id.map(encode_id),
        msg.reference_message_id.map(encode_id),
        msg.transaction_code.as_deref(),
        eol.as_deref(),
        msg.content.as_str(),
        msg.sender_signature.as_deref(),
        msg.reply_to.as_deref(),
        at,
    ])?;
    let mut attach = conn.prepare_cached(
        "INSERT INTO message_attachments (message_id, position, content_id, content) VALUES (?, ?, ?, ?)",
    )?;
    for (position, a) in (0_i64..).zip(&msg.attachments) {
        attach.execute(params![id, position, a.id.as_str(), a.content.as_slice()])?;
    }
    history(conn, &id, &at, EventKind::Received, actor, "")?;
    history(conn, &id, &at, EventKind::Accepted, actor, kind)?;
    conn.prepare_cached(
        "INSERT INTO usage_counters (day, participant, infotype, kind, count) VALUES (?, ?, ?, ?, 1) \
         ON CONFLICT (day, participant, infotype, kind) DO UPDATE SET count = count + 1",
    )?
    .execute(params![
        codec::encode_day(codec::utc_day(now)),
        actor,
        codec::qname_key(msg.qname.as_ref()),
        kind,
    ])?;

    let mut enqueue = conn.prepare_cached(
        "INSERT INTO queue_entries (owner, queue, message_id, selector_ns, selector_local, \
         enqueued_at, eol) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?;
    for d in targets {
        enqueue.execute(params![
            d.owner.as_str(),
            d.queue.as_str(),
            id,
            d.selector.as_ref().map(|q| q.namespace.as_str()),
            d.selector.as_ref().map(|q| q.local_name.as_str()),
            at,
            eol.as_deref(),
        ])?;
        history(
            conn,
            &id,
            &at,
            EventKind::Queued,
            actor,
            &queue_label(&d.owner, d.queue),
        )?;
    }
    if let (MessageKind::Response, Some(request)) = (msg.kind, msg.original_message_id) {
        history(
            conn,
            &encode_id(request),
            &at,
            EventKind::ResponseAccepted,
            actor,
            &id,
        )?;
    }

    Ok(AcceptOutcome::Accepted { received_at: now })
}

pub(super) fn record_event(conn: &Conn, e: &HistoryEvent) -> Result<(), StoreError> {
    history(
        conn,
        &encode_id(e.message_id),
        &encode_time(e.at),
        e.event,
        &e.actor,
        &e.detail,
    )
}

pub(super) fn record_rejection(conn: &Conn, r: &Rejection) -> Result<(), StoreError> {
    let id = encode_id(r.message_id);
    let at = encode_time(r.at);
    history(conn, &id, &at, EventKind::Received, &r.actor, "")?;
    history(conn, &id, &at, EventKind::Rejected, &r.actor, &r.fault)
}

pub(super) fn lease(
    conn: &Conn,
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
    let read = |row: &rusqlite::Row<'_>| -> Result<_, StoreError> {
        let seq: i64 = row.get(0)?;
        let attempts: i64 = row.get(1)?;
        Ok((seq, attempts, message_from_row(row, 2)?))
    };
    let found = match selector {
        None => {
            let mut stmt = conn.prepare_cached(concat!(
                "SELECT e.seq, e.attempts, ",
                message_columns!(),
                " FROM queue_entries e CROSS JOIN messages m ON m.message_id = e.message_id \
                 WHERE e.owner = ?1 AND e.queue = ?2 \
                   AND (e.lease_until IS NULL OR e.lease_until <= ?3) \
                   AND (e.eol IS NULL OR e.eol >= ?3) \
                 ORDER BY e.seq LIMIT 1"
            ))?;
            let mut rows = stmt.query(params![owner.as_str(), queue.as_str(), at])?;
            rows.next()?.map(read).transpose()?
        }
        Some(q) => {
            let mut stmt = conn.prepare_cached(concat!(
                "SELECT e.seq, e.attempts, ",
                message_columns!(),
                " FROM queue_entries e CROSS JOIN messages m ON m.message_id = e.message_id \
                 WHERE e.owner = ?1 AND e.queue = ?2 \
                   AND e.selector_ns = ?4 AND e.selector_local = ?5 \
                   AND (e.lease_until IS NULL OR e.lease_until <= ?3) \
                   AND (e.eol IS NULL OR e.eol >= ?3) \
                 ORDER BY e.seq LIMIT 1"
            ))?;
            let mut rows = stmt.query(params![
                owner.as_str(),
                queue.as_str(),
                at,
                q.namespace.as_str(),
                q.local_name.as_str(),
            ])?;
            rows.next()?.map(read).transpose()?
        }
    };
    let Some((seq, attempts, message)) = found else {
        return Ok(None);
    };
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

    conn.prepare_cached("UPDATE queue_entries SET lease_until = ?, attempts = ? WHERE seq = ?")?
        .execute(params![encode_time(lease_until), attempt, seq])?;
    history(
        conn,
        &encode_id(message.message_id),
        &at,
        event,
        owner.as_str(),
        &format!("{} attempt {attempt}", queue_label(owner, queue)),
    )?;

    let attachments = conn
        .prepare_cached(
            "SELECT content_id, content FROM message_attachments WHERE message_id = ? ORDER BY position",
        )?
        .query_map([encode_id(message.message_id)], |r| {
            Ok(StoredAttachment {
                id: r.get(0)?,
                content: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;

    Ok(Some(Leased {
        message,
        owner: owner.clone(),
        queue,
        attempt,
        lease_until,
        attachments,
    }))
}

pub(super) fn ack(
    conn: &Conn,
    owner: &Mnemonic,
    target: AckTarget,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = encode_id(target.message_id);
    let removed: Vec<String> = conn
        .prepare_cached("DELETE FROM queue_entries WHERE message_id = ? AND owner = ? RETURNING queue")?
        .query_map(params![id, owner.as_str()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let at = encode_time(now);
    for queue in &removed {
        let queue = codec::decode_queue(queue)?;
        let mut detail = queue_label(owner, queue);
        if !target.accepted {
            detail.push_str(" not accepted: the recipient could not verify the node's signature");
        }
        history(conn, &id, &at, EventKind::Acked, owner.as_str(), &detail)?;
    }
    Ok(!removed.is_empty())
}

pub(super) fn expire(
    conn: &Conn,
    expiring: &Expiring,
    status: &NewMessage,
    status_delivery: &Delivery,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = encode_id(expiring.message.message_id);
    let removed = conn
        .prepare_cached("DELETE FROM queue_entries WHERE owner = ? AND queue = ? AND message_id = ?")?
        .execute(params![expiring.owner.as_str(), expiring.queue.as_str(), id])?;
    if removed == 0 {
        return Ok(false);
    }
    let detail = queue_label(&expiring.owner, expiring.queue);
    history(conn, &id, &encode_time(now), EventKind::Expired, NODE, &detail)?;
    match accept(conn, status, std::slice::from_ref(status_delivery), None, now)? {
        AcceptOutcome::Accepted { .. } => Ok(true),
        // The savepoint rolls the removal back: the entry stays for another attempt.
        AcceptOutcome::Duplicate | AcceptOutcome::Overflow { .. } => Err(StoreError::Corrupt(format!(
            "the expiry status {} of {id} is already stored",
            status.message_id
        ))),
    }
}

// ---- registry ---------------------------------------------------------------------------------

fn bump_registry_version(conn: &Conn) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE registry_version SET version = version + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

fn insert_participant(conn: &Conn, p: &Participant) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO participants (mnemonic, name, organisation, status) VALUES (?, ?, ?, ?) \
         ON CONFLICT (mnemonic) DO UPDATE SET name = excluded.name, \
         organisation = excluded.organisation, status = excluded.status",
    )?
    .execute(params![
        p.mnemonic.as_str(),
        p.name.as_str(),
        p.organisation.as_str(),
        codec::participant_status_str(p.status),
    ])?;
    conn.prepare_cached("DELETE FROM participant_certificates WHERE mnemonic = ?")?
        .execute([p.mnemonic.as_str()])?;
    let mut insert = conn
        .prepare_cached("INSERT INTO participant_certificates (mnemonic, position, pem) VALUES (?, ?, ?)")?;
    for (position, pem) in (0_i64..).zip(&p.certificates) {
        insert.execute(params![p.mnemonic.as_str(), position, pem.as_str()])?;
    }
    Ok(())
}

fn insert_infotype(conn: &Conn, t: &InfoType) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO infotypes (namespace, local_name, version, kind, provider, xsd, \
         transaction_code_required, max_size, description, federal) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (namespace, local_name) DO UPDATE SET version = excluded.version, \
         kind = excluded.kind, provider = excluded.provider, xsd = excluded.xsd, \
         transaction_code_required = excluded.transaction_code_required, \
         max_size = excluded.max_size, description = excluded.description, \
         federal = excluded.federal",
    )?
    .execute(params![
        t.qname.namespace.as_str(),
        t.qname.local_name.as_str(),
        t.version.as_str(),
        t.kind.as_str(),
        t.provider.as_str(),
        t.xsd.as_deref(),
        t.transaction_code_required,
        // Sizes beyond i64 mean "unlimited" in practice; store the largest the column holds.
        t.max_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        t.description.as_str(),
        t.federal,
    ])?;
    Ok(())
}

fn insert_service(conn: &Conn, s: &Service) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO services (code, provider, description) VALUES (?, ?, ?) \
         ON CONFLICT (code) DO UPDATE SET provider = excluded.provider, \
         description = excluded.description",
    )?
    .execute(params![
        s.code.as_str(),
        s.provider.as_str(),
        s.description.as_str()
    ])?;
    conn.prepare_cached("DELETE FROM service_infotypes WHERE code = ?")?
        .execute([s.code.as_str()])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO service_infotypes (code, position, namespace, local_name) VALUES (?, ?, ?, ?)",
    )?;
    for (position, q) in (0_i64..).zip(&s.infotypes) {
        insert.execute(params![
            s.code.as_str(),
            position,
            q.namespace.as_str(),
            q.local_name.as_str(),
        ])?;
    }
    Ok(())
}

fn insert_grant(conn: &Conn, g: &Grant) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT OR IGNORE INTO grants (consumer, namespace, local_name) VALUES (?, ?, ?)")?
        .execute(params![
            g.consumer.as_str(),
            g.infotype.namespace.as_str(),
            g.infotype.local_name.as_str(),
        ])?;
    Ok(())
}

fn insert_xsd_set(conn: &Conn, set: &XsdSet) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM xsd_sets WHERE name = ?")?
        .execute([set.name.as_str()])?;
    conn.prepare_cached("INSERT INTO xsd_sets (name) VALUES (?)")?
        .execute([set.name.as_str()])?;
    let mut insert =
        conn.prepare_cached("INSERT INTO xsd_files (set_name, path, content) VALUES (?, ?, ?)")?;
    for (path, content) in &set.files {
        insert.execute(params![set.name.as_str(), path.as_str(), content.as_slice()])?;
    }
    Ok(())
}

pub(super) fn put_participant(conn: &Conn, p: &Participant) -> Result<(), StoreError> {
    insert_participant(conn, p)?;
    bump_registry_version(conn)
}

pub(super) fn put_infotype(conn: &Conn, t: &InfoType) -> Result<(), StoreError> {
    insert_infotype(conn, t)?;
    bump_registry_version(conn)
}

pub(super) fn put_service(conn: &Conn, s: &Service) -> Result<(), StoreError> {
    insert_service(conn, s)?;
    bump_registry_version(conn)
}

pub(super) fn put_grant(conn: &Conn, g: &Grant) -> Result<(), StoreError> {
    insert_grant(conn, g)?;
    bump_registry_version(conn)
}

pub(super) fn revoke_grant(conn: &Conn, g: &Grant) -> Result<bool, StoreError> {
    let removed = conn
        .prepare_cached("DELETE FROM grants WHERE consumer = ? AND namespace = ? AND local_name = ?")?
        .execute(params![
            g.consumer.as_str(),
            g.infotype.namespace.as_str(),
            g.infotype.local_name.as_str(),
        ])?;
    if removed > 0 {
        bump_registry_version(conn)?;
    }
    Ok(removed > 0)
}

pub(super) fn put_xsd_set(conn: &Conn, set: &XsdSet) -> Result<(), StoreError> {
    insert_xsd_set(conn, set)?;
    bump_registry_version(conn)
}

pub(super) fn replace_registry(conn: &Conn, r: &Registry, xsd_sets: &[XsdSet]) -> Result<(), StoreError> {
    for table in [
        "DELETE FROM participants",
        "DELETE FROM infotypes",
        "DELETE FROM services",
        "DELETE FROM grants",
        "DELETE FROM xsd_sets",
    ] {
        conn.prepare_cached(table)?.execute([])?;
    }
    for p in &r.participants {
        insert_participant(conn, p)?;
    }
    for t in &r.infotypes {
        insert_infotype(conn, t)?;
    }
    for s in &r.services {
        insert_service(conn, s)?;
    }
    for g in &r.grants {
        insert_grant(conn, g)?;
    }
    for set in xsd_sets {
        insert_xsd_set(conn, set)?;
    }
    bump_registry_version(conn)
}
