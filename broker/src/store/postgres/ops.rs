//! Write operations, each run inside the caller's `READ COMMITTED` transaction. The module docs
//! of [`super`] explain the locking; the comments here point at where each rule is enforced.

use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use sqlx::Row;
use sqlx::postgres::PgConnection;
use time::{OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use super::codec::{
    MESSAGE_COLUMNS, attachment_columns, attachments_from_row, message_columns, message_from_row,
};
use crate::store::encoding::{NODE, encode_time, participant_status_str, qname_key, queue_label, utc_day};
use crate::store::{
    AcceptLimits, AcceptOutcome, AckTarget, Delivery, EventKind, Expiring, HistoryEvent, Leased, MessageKind,
    NewMessage, QueueKind, Rejection, StoreError, XsdSet,
};

type Conn = PgConnection;

/// The first key of every queue lock (`pg_advisory_xact_lock(class, queue)`): keeps RSMEV's
/// advisory locks apart from any other application's two-key locks on the same server. "RSMQ".
const QUEUE_LOCK_CLASS: i32 = 0x5253_4d51;

/// The second key of a queue's lock: FNV-1a over `owner NUL queue`. Stable across builds and
/// platforms (every node of a deployment, whatever its version, must compute the same key).
fn queue_lock_key(owner: &Mnemonic, queue: QueueKind) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in owner.as_str().bytes().chain([0]).chain(queue.as_str().bytes()) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i32::from_be_bytes(hash.to_be_bytes())
}

/// Takes the lock of every queue in `targets`, in ascending key order (no wait cycles between
/// two accepts), until the end of the transaction.
async fn lock_queues(conn: &mut Conn, targets: &[&Delivery]) -> Result<(), StoreError> {
    let mut keys: Vec<i32> = targets
        .iter()
        .map(|d| queue_lock_key(&d.owner, d.queue))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(QUEUE_LOCK_CLASS)
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn history(
    conn: &mut Conn,
    message_id: Uuid,
    at: &str,
    event: EventKind,
    actor: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO history (message_id, at, event, actor, detail) VALUES ($1, $2, $3, $4, $5)")
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
///
/// On [`AcceptOutcome::Overflow`] the message row has been inserted: the caller must roll the
/// transaction back.
pub(super) async fn accept(
    conn: &mut Conn,
    msg: &NewMessage,
    deliveries: &[Delivery],
    limits: Option<AcceptLimits>,
    transport: bool,
    now: OffsetDateTime,
) -> Result<AcceptOutcome, StoreError> {
    let at = encode_time(now);
    let eol = msg.eol.map(encode_time);
    let actor = msg.sender.as_ref().map_or(NODE, Mnemonic::as_str);
    let kind = msg.kind.as_str();

    // The primary key decides duplicates, also against an accept of the same MessageID still
    // running on another node: this insert waits for it and then inserts nothing.
    let inserted = sqlx::query(
        "INSERT INTO messages (message_id, kind, sender, qname_ns, qname_local, \
         original_message_id, reference_message_id, transaction_code, eol, content, \
         sender_signature, reply_to, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(msg.message_id)
    .bind(kind)
    .bind(msg.sender.as_ref().map(Mnemonic::as_str))
    .bind(msg.qname.as_ref().map(|q| q.namespace.as_str()))
    .bind(msg.qname.as_ref().map(|q| q.local_name.as_str()))
    .bind(msg.original_message_id)
    .bind(msg.reference_message_id)
    .bind(msg.transaction_code.as_deref())
    .bind(eol.as_deref())
    .bind(msg.content.as_str())
    .bind(msg.sender_signature.as_deref())
    .bind(msg.reply_to.as_deref())
    .bind(&at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(AcceptOutcome::Duplicate);
    }

    // One entry per queue: a second delivery to the same queue would only duplicate it.
    let mut targets: Vec<&Delivery> = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        if !targets.iter().any(|t| t.owner == d.owner && t.queue == d.queue) {
            targets.push(d);
        }
    }

    lock_queues(conn, &targets).await?;
    if let Some(limits) = limits {
        for d in &targets {
            // A statement of its own, after the lock: its snapshot holds every entry the
            // previous holder of the lock committed. Counting stops at the quota.
            let held: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM \
                 (SELECT 1 FROM queue_entries WHERE owner = $1 AND queue = $2 LIMIT $3) AS held",
            )
            .bind(d.owner.as_str())
            .bind(d.queue.as_str())
            .bind(i64::from(limits.queue_quota))
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

    if !msg.attachments.is_empty() {
        // A statement of its own, only for messages that have attachments: the others pay
        // nothing for them.
        let ids: Vec<&str> = msg.attachments.iter().map(|a| a.id.as_str()).collect();
        let contents: Vec<&[u8]> = msg.attachments.iter().map(|a| a.content.as_slice()).collect();
        sqlx::query(
            "INSERT INTO message_attachments (message_id, position, content_id, content) \
             SELECT $1, a.n - 1, a.id, a.content \
             FROM unnest($2::text[], $3::bytea[]) WITH ORDINALITY AS a (id, content, n)",
        )
        .bind(msg.message_id)
        .bind(&ids)
        .bind(&contents)
        .execute(&mut *conn)
        .await?;
    }

    let owners: Vec<&str> = targets.iter().map(|d| d.owner.as_str()).collect();
    let queues: Vec<&str> = targets.iter().map(|d| d.queue.as_str()).collect();
    let selector_ns: Vec<Option<&str>> = targets
        .iter()
        .map(|d| d.selector.as_ref().map(|q| q.namespace.as_str()))
        .collect();
    let selector_local: Vec<Option<&str>> = targets
        .iter()
        .map(|d| d.selector.as_ref().map(|q| q.local_name.as_str()))
        .collect();
    // received, accepted, one queued per queue, and for a response `response-accepted` on the
    // request, in this order.
    let mut ids = vec![msg.message_id, msg.message_id];
    let mut events = vec![EventKind::Received.as_str(), EventKind::Accepted.as_str()];
    let mut details = vec![String::new(), kind.to_owned()];
    for d in &targets {
        ids.push(msg.message_id);
        events.push(EventKind::Queued.as_str());
        details.push(queue_label(&d.owner, d.queue));
    }
    if let (MessageKind::Response, Some(request)) = (msg.kind, msg.original_message_id) {
        ids.push(request);
        events.push(EventKind::ResponseAccepted.as_str());
        details.push(msg.message_id.hyphenated().to_string());
    }

    // The entries, their copies for RabbitMQ (with the transport: accepted means queued here and
    // on its way there, whether or not RabbitMQ is up right now; copy generation 1, live), the
    // history and the usage counter: one statement, one round trip.
    sqlx::query(
        "WITH entries AS ( \
             INSERT INTO queue_entries (owner, queue, message_id, selector_ns, selector_local, \
                 enqueued_at, eol, transport, transport_live, transport_at) \
             SELECT d.owner, d.queue, $5, d.ns, d.local, $6, $7, \
                 CASE WHEN $8 THEN 1 ELSE 0 END, $8, CASE WHEN $8 THEN $6 END \
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) \
                  WITH ORDINALITY AS d (owner, queue, ns, local, n) \
             ORDER BY d.n \
             RETURNING seq, owner, queue, message_id, transport \
         ), copies AS ( \
             INSERT INTO outbox (owner, queue, message_id, transport, created_at) \
             SELECT owner, queue, message_id, transport, $6 FROM entries WHERE $8 ORDER BY seq \
         ), recorded AS ( \
             INSERT INTO history (message_id, at, event, actor, detail) \
             SELECT h.message_id, $6, h.event, $12, h.detail \
             FROM unnest($9::uuid[], $10::text[], $11::text[]) \
                  WITH ORDINALITY AS h (message_id, event, detail, n) \
             ORDER BY h.n \
         ), counted AS ( \
             INSERT INTO usage_counters (day, participant, infotype, kind, count) \
             VALUES ($13, $12, $14, $15, 1) \
             ON CONFLICT (day, participant, infotype, kind) \
             DO UPDATE SET count = usage_counters.count + 1 \
         ) \
         SELECT COUNT(*) FROM entries",
    )
    .bind(&owners)
    .bind(&queues)
    .bind(&selector_ns)
    .bind(&selector_local)
    .bind(msg.message_id)
    .bind(&at)
    .bind(eol.as_deref())
    .bind(transport)
    .bind(&ids)
    .bind(&events)
    .bind(&details)
    .bind(actor)
    .bind(utc_day(now))
    .bind(qname_key(msg.qname.as_ref()))
    .bind(kind)
    .execute(&mut *conn)
    .await?;

    Ok(AcceptOutcome::Accepted { received_at: now })
}

pub(super) async fn record_event(conn: &mut Conn, e: &HistoryEvent) -> Result<(), StoreError> {
    let at = encode_time(e.at);
    history(conn, e.message_id, &at, e.event, &e.actor, &e.detail).await
}

pub(super) async fn record_rejection(conn: &mut Conn, r: &Rejection) -> Result<(), StoreError> {
    let at = encode_time(r.at);
    history(conn, r.message_id, &at, EventKind::Received, &r.actor, "").await?;
    history(conn, r.message_id, &at, EventKind::Rejected, &r.actor, &r.fault).await
}

/// The lease statement: pick the first free, live, matching entry in FIFO order, skipping rows
/// another transaction holds (`SKIP LOCKED`), take it, and return it with its message.
/// `$1` owner, `$2` queue, `$3` now, `$4` the new `lease_until`; `$5`/`$6` the selector.
///
/// An entry is free when it was never leased or its lease has run out (`lease_until <= now`),
/// and deliverable while its EOL has not passed (`eol >= now`; `due_expirations` takes
/// `eol < now`).
macro_rules! lease_sql {
    ($selector:literal) => {
        concat!(
            "WITH picked AS ( \
                 SELECT seq FROM queue_entries \
                 WHERE owner = $1 AND queue = $2 \
                   AND (lease_until IS NULL OR lease_until <= $3) \
                   AND (eol IS NULL OR eol >= $3) ",
            $selector,
            "    ORDER BY seq LIMIT 1 \
                 FOR UPDATE SKIP LOCKED \
             ), leased AS ( \
                 UPDATE queue_entries e SET lease_until = $4, attempts = e.attempts + 1 \
                 FROM picked WHERE e.seq = picked.seq \
                 RETURNING e.message_id, e.attempts \
             )",
            lease_history!("$3", "$1", "$5", "$6", "$7"),
            "SELECT leased.attempts, ",
            message_columns!(),
            ", ",
            attachment_columns!(),
            " FROM leased JOIN messages m ON m.message_id = leased.message_id"
        )
    };
}

/// The `recorded` step every lease statement ends with, after its `leased` step (`message_id`,
/// `attempts`): the `leased` event for a first attempt, `redelivered` after that, with the
/// detail `<owner>/<queue> attempt N` (`label` is `queue_label`). Recording it in the leasing
/// statement saves a round trip per lease. Arguments: the placeholders of the time, the owner,
/// the label, and the two event names (bound from [`EventKind::as_str`]).
macro_rules! lease_history {
    ($at:literal, $owner:literal, $label:literal, $leased:literal, $redelivered:literal) => {
        concat!(
            ", recorded AS ( \
                 INSERT INTO history (message_id, at, event, actor, detail) \
                 SELECT message_id, ",
            $at,
            ", CASE WHEN attempts = 1 THEN ",
            $leased,
            "::text ELSE ",
            $redelivered,
            "::text END, ",
            $owner,
            ", ",
            $label,
            "::text || ' attempt ' || attempts FROM leased \
             ) "
        )
    };
}
pub(super) use lease_history;

pub(super) async fn lease(
    conn: &mut Conn,
    owner: &Mnemonic,
    queue: QueueKind,
    selector: Option<&QName>,
    now: OffsetDateTime,
    lease_for: time::Duration,
) -> Result<Option<Leased>, StoreError> {
    let at = encode_time(now);
    let lease_until = now
        .checked_add(lease_for)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_utc());
    let sql = match selector {
        None => lease_sql!(""),
        Some(_) => lease_sql!("AND selector_ns = $8 AND selector_local = $9"),
    };
    let query = sqlx::query(sql)
        .bind(owner.as_str())
        .bind(queue.as_str())
        .bind(&at)
        .bind(encode_time(lease_until))
        .bind(queue_label(owner, queue))
        .bind(EventKind::Leased.as_str())
        .bind(EventKind::Redelivered.as_str());
    let query = match selector {
        None => query,
        Some(q) => query.bind(q.namespace.as_str()).bind(q.local_name.as_str()),
    };
    let found = query.fetch_optional(&mut *conn).await?;
    let Some(row) = found else {
        return Ok(None);
    };
    leased_from_row(&row, owner, queue, lease_until).map(Some)
}

/// The end of every lease: reads `attempts` and the message from `row` (as the lease statements
/// return them, having recorded the event with [`lease_history`]) and builds the [`Leased`].
pub(super) fn leased_from_row(
    row: &sqlx::postgres::PgRow,
    owner: &Mnemonic,
    queue: QueueKind,
    lease_until: OffsetDateTime,
) -> Result<Leased, StoreError> {
    let attempts: i32 = row.try_get(0)?;
    let message = message_from_row(row, 1)?;
    let attachments = attachments_from_row(row, 1 + MESSAGE_COLUMNS)?;
    let attempt = u32::try_from(attempts)
        .map_err(|_| StoreError::Corrupt(format!("{} has {attempts} attempts", message.message_id)))?;
    Ok(Leased {
        message,
        owner: owner.clone(),
        queue,
        attempt,
        lease_until,
        attachments,
    })
}

pub(super) async fn ack(
    conn: &mut Conn,
    owner: &Mnemonic,
    target: AckTarget,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    // The owner's entries of one message (one per queue it went to) are locked in `seq` order,
    // so two Acks of the same message never hold one entry each while waiting for the other.
    // The `acked` events (detail `<owner>/<queue>`, as `queue_label` writes it) are recorded by
    // the same statement, in queue-name order: one round trip per Ack.
    let suffix = if target.accepted {
        ""
    } else {
        " not accepted: the recipient could not verify the node's signature"
    };
    let removed: i64 = sqlx::query_scalar(
        "WITH removed AS ( \
             DELETE FROM queue_entries WHERE seq IN \
             (SELECT seq FROM queue_entries WHERE message_id = $1 AND owner = $2 ORDER BY seq FOR UPDATE) \
             RETURNING queue \
         ), recorded AS ( \
             INSERT INTO history (message_id, at, event, actor, detail) \
             SELECT $1, $3, $4, $2, $2 || '/' || queue || $5::text FROM removed ORDER BY queue \
         ) \
         SELECT COUNT(*) FROM removed",
    )
    .bind(target.message_id)
    .bind(owner.as_str())
    .bind(encode_time(now))
    .bind(EventKind::Acked.as_str())
    .bind(suffix)
    .fetch_one(&mut *conn)
    .await?;
    Ok(removed > 0)
}

pub(super) async fn expire(
    conn: &mut Conn,
    expiring: &Expiring,
    status: &NewMessage,
    status_delivery: &Delivery,
    transport: bool,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = expiring.message.message_id;
    // Of several nodes expiring this entry, one deletes it; the others wait for its row lock,
    // then find it gone.
    let removed =
        sqlx::query("DELETE FROM queue_entries WHERE owner = $1 AND queue = $2 AND message_id = $3")
            .bind(expiring.owner.as_str())
            .bind(expiring.queue.as_str())
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if removed == 0 {
        return Ok(false);
    }
    let detail = queue_label(&expiring.owner, expiring.queue);
    history(conn, id, &encode_time(now), EventKind::Expired, NODE, &detail).await?;
    match accept(
        conn,
        status,
        std::slice::from_ref(status_delivery),
        None,
        transport,
        now,
    )
    .await?
    {
        AcceptOutcome::Accepted { .. } => Ok(true),
        // The error rolls the removal back: the entry stays for another attempt.
        AcceptOutcome::Duplicate | AcceptOutcome::Overflow { .. } => Err(StoreError::Corrupt(format!(
            "the expiry status {} of {id} is already stored",
            status.message_id
        ))),
    }
}

// ---- registry ---------------------------------------------------------------------------------

/// Bumps the registry version. Called *first* by every registry write: the row lock it takes
/// makes registry writes take turns, also across nodes.
async fn bump_registry_version(conn: &mut Conn) -> Result<(), StoreError> {
    sqlx::query("UPDATE registry_version SET version = version + 1 WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn insert_participant(conn: &mut Conn, p: &Participant) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO participants (mnemonic, name, organisation, status) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (mnemonic) DO UPDATE SET name = excluded.name, \
         organisation = excluded.organisation, status = excluded.status",
    )
    .bind(p.mnemonic.as_str())
    .bind(p.name.as_str())
    .bind(p.organisation.as_str())
    .bind(participant_status_str(p.status))
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM participant_certificates WHERE mnemonic = $1")
        .bind(p.mnemonic.as_str())
        .execute(&mut *conn)
        .await?;
    for (position, pem) in (0_i64..).zip(&p.certificates) {
        sqlx::query("INSERT INTO participant_certificates (mnemonic, position, pem) VALUES ($1, $2, $3)")
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
         transaction_code_required, max_size, description, federal) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (namespace, local_name) DO UPDATE SET version = excluded.version, \
         kind = excluded.kind, provider = excluded.provider, xsd = excluded.xsd, \
         transaction_code_required = excluded.transaction_code_required, \
         max_size = excluded.max_size, description = excluded.description, \
         federal = excluded.federal",
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
    .bind(t.federal)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_service(conn: &mut Conn, s: &Service) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO services (code, provider, description) VALUES ($1, $2, $3) \
         ON CONFLICT (code) DO UPDATE SET provider = excluded.provider, \
         description = excluded.description",
    )
    .bind(s.code.as_str())
    .bind(s.provider.as_str())
    .bind(s.description.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM service_infotypes WHERE code = $1")
        .bind(s.code.as_str())
        .execute(&mut *conn)
        .await?;
    for (position, q) in (0_i64..).zip(&s.infotypes) {
        sqlx::query(
            "INSERT INTO service_infotypes (code, position, namespace, local_name) \
             VALUES ($1, $2, $3, $4)",
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
    sqlx::query(
        "INSERT INTO grants (consumer, namespace, local_name) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(g.consumer.as_str())
    .bind(g.infotype.namespace.as_str())
    .bind(g.infotype.local_name.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_xsd_set(conn: &mut Conn, set: &XsdSet) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM xsd_sets WHERE name = $1")
        .bind(set.name.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO xsd_sets (name) VALUES ($1)")
        .bind(set.name.as_str())
        .execute(&mut *conn)
        .await?;
    for (path, content) in &set.files {
        sqlx::query("INSERT INTO xsd_files (set_name, path, content) VALUES ($1, $2, $3)")
            .bind(set.name.as_str())
            .bind(path.as_str())
            .bind(content.as_slice())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn put_participant(conn: &mut Conn, p: &Participant) -> Result<(), StoreError> {
    bump_registry_version(conn).await?;
    insert_participant(conn, p).await
}

pub(super) async fn put_infotype(conn: &mut Conn, t: &InfoType) -> Result<(), StoreError> {
    bump_registry_version(conn).await?;
    insert_infotype(conn, t).await
}

pub(super) async fn put_service(conn: &mut Conn, s: &Service) -> Result<(), StoreError> {
    bump_registry_version(conn).await?;
    insert_service(conn, s).await
}

pub(super) async fn put_grant(conn: &mut Conn, g: &Grant) -> Result<(), StoreError> {
    bump_registry_version(conn).await?;
    insert_grant(conn, g).await
}

pub(super) async fn revoke_grant(conn: &mut Conn, g: &Grant) -> Result<bool, StoreError> {
    // Take the registry's turn first, but bump the version only if a grant was removed.
    sqlx::query("SELECT version FROM registry_version WHERE id = 1 FOR UPDATE")
        .execute(&mut *conn)
        .await?;
    let removed =
        sqlx::query("DELETE FROM grants WHERE consumer = $1 AND namespace = $2 AND local_name = $3")
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
    bump_registry_version(conn).await?;
    insert_xsd_set(conn, set).await
}

pub(super) async fn replace_registry(
    conn: &mut Conn,
    r: &Registry,
    xsd_sets: &[XsdSet],
) -> Result<(), StoreError> {
    bump_registry_version(conn).await?;
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
    Ok(())
}
