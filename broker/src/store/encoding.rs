//! How the store's values are written in columns, the same on every backend: instants as
//! fixed-width UTC text, enumerations as their `as_str()` text, qualified names as two columns.
//! Keeping one encoding means one set of ordering rules (text order is time order) and the same
//! clamping of absurd instants, whichever database holds them.

use rsmev_registry::{InfoTypeKind, Mnemonic, ParticipantStatus, QName};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

use super::{MessageKind, QueueKind, StoreError};

/// The actor of the node's own work in the history and the usage counters.
pub(super) const NODE: &str = "node";

/// Fixed-width UTC text: lexicographic order is time order.
///
/// Instants whose UTC form falls outside years 0000..=9999 (only a peer's absurd EOL can) are
/// clamped to the nearest representable instant, which compares the same way with any real
/// clock reading.
pub(super) fn encode_time(t: OffsetDateTime) -> String {
    match t.checked_to_offset(UtcOffset::UTC) {
        Some(u) if u.year() >= 0 => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
            u.year(),
            u8::from(u.month()),
            u.day(),
            u.hour(),
            u.minute(),
            u.second(),
            u.nanosecond()
        ),
        // Before year 0, or after 9999 in UTC.
        _ if t.year() < 0 => "0000-01-01T00:00:00.000000000Z".to_owned(),
        _ => "9999-12-31T23:59:59.999999999Z".to_owned(),
    }
}

pub(super) fn decode_time(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| StoreError::Corrupt(format!("time `{s}`: {e}")))
}

/// The UTC day an instant falls on (the accounting day).
pub(super) fn utc_day(t: OffsetDateTime) -> Date {
    t.checked_to_offset(UtcOffset::UTC).map_or(t.date(), |u| u.date())
}

/// `owner/queue`, how history details and logs name a queue.
pub(super) fn queue_label(owner: &Mnemonic, queue: QueueKind) -> String {
    format!("{owner}/{}", queue.as_str())
}

pub(super) fn decode_mnemonic(s: String) -> Result<Mnemonic, StoreError> {
    Mnemonic::new(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn decode_kind(s: &str) -> Result<MessageKind, StoreError> {
    MessageKind::parse(s).map_err(|k| StoreError::Corrupt(format!("message kind `{k}`")))
}

pub(super) fn decode_queue(s: &str) -> Result<QueueKind, StoreError> {
    QueueKind::parse(s).map_err(|q| StoreError::Corrupt(format!("queue `{q}`")))
}

/// A qualified name from its two nullable columns.
pub(super) fn decode_qname(ns: Option<String>, local: Option<String>) -> Option<QName> {
    match (ns, local) {
        (Some(ns), Some(local)) => Some(QName::new(ns, local)),
        _ => None,
    }
}

/// `{namespace}local`, the infotype key of the usage counters.
pub(super) fn qname_key(q: Option<&QName>) -> String {
    q.map(QName::to_string).unwrap_or_default()
}

pub(super) fn participant_status_str(s: ParticipantStatus) -> &'static str {
    match s {
        ParticipantStatus::Active => "active",
        ParticipantStatus::Blocked => "blocked",
    }
}

pub(super) fn decode_participant_status(s: &str) -> Result<ParticipantStatus, StoreError> {
    match s {
        "active" => Ok(ParticipantStatus::Active),
        "blocked" => Ok(ParticipantStatus::Blocked),
        other => Err(StoreError::Corrupt(format!("participant status `{other}`"))),
    }
}

pub(super) fn decode_infotype_kind(s: &str) -> Result<InfoTypeKind, StoreError> {
    [
        InfoTypeKind::Request,
        InfoTypeKind::Response,
        InfoTypeKind::Broadcast,
    ]
    .into_iter()
    .find(|k| k.as_str() == s)
    .ok_or_else(|| StoreError::Corrupt(format!("information type kind `{s}`")))
}

/// The columns of a stored message as every backend reads them (`message_columns!` in each
/// backend's codec, in this order), before decoding. A backend only takes the values out of
/// its row type; what they mean is decided here, once.
pub(super) struct MessageColumns {
    pub message_id: uuid::Uuid,
    pub kind: String,
    pub sender: Option<String>,
    pub qname_namespace: Option<String>,
    pub qname_local: Option<String>,
    pub original_message_id: Option<uuid::Uuid>,
    pub reference_message_id: Option<uuid::Uuid>,
    pub transaction_code: Option<String>,
    pub eol: Option<String>,
    pub content: String,
    pub sender_signature: Option<String>,
    pub reply_to: Option<String>,
    pub received_at: String,
}

impl MessageColumns {
    pub(super) fn decode(self) -> Result<super::StoredMessage, StoreError> {
        Ok(super::StoredMessage {
            message_id: self.message_id,
            kind: decode_kind(&self.kind)?,
            sender: self.sender.map(decode_mnemonic).transpose()?,
            qname: decode_qname(self.qname_namespace, self.qname_local),
            original_message_id: self.original_message_id,
            reference_message_id: self.reference_message_id,
            transaction_code: self.transaction_code,
            eol: self.eol.as_deref().map(decode_time).transpose()?,
            content: self.content,
            sender_signature: self.sender_signature,
            reply_to: self.reply_to,
            received_at: decode_time(&self.received_at)?,
        })
    }
}

/// One row of a queue-depth query (owner, queue, entries, leased entries), decoded.
pub(super) fn queue_depth(
    owner: String,
    queue: &str,
    pending: i64,
    leased: i64,
) -> Result<super::QueueDepth, StoreError> {
    let count = |n: i64| u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("queue depth {n}")));
    Ok(super::QueueDepth {
        owner: decode_mnemonic(owner)?,
        queue: decode_queue(queue)?,
        pending: count(pending)?,
        leased: count(leased)?,
    })
}

/// `owner`'s queue depths with every queue kind present (empty ones as zero), in kind order:
/// what [`super::Queries::queue_depths`] promises when asked for one participant.
pub(super) fn with_every_queue(
    mut depths: Vec<super::QueueDepth>,
    owner: &Mnemonic,
) -> Vec<super::QueueDepth> {
    for queue in QueueKind::ALL {
        if !depths.iter().any(|d| d.queue == queue) {
            depths.push(super::QueueDepth {
                owner: owner.clone(),
                queue,
                pending: 0,
                leased: 0,
            });
        }
    }
    depths.sort_by_key(|d| d.queue);
    depths
}
