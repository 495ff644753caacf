//! Conversions between the store's types and their SQLite columns (see the migration's header
//! for the conventions).

use rsmev_registry::{InfoTypeKind, Mnemonic, ParticipantStatus, QName};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::store::{MessageKind, QueueKind, StoreError, StoredMessage};

/// The columns of a stored message, read from `messages` aliased as `m`, in the order
/// [`message_from_row`] reads them.
macro_rules! message_columns {
    () => {
        "m.message_id, m.kind, m.sender, m.qname_ns, m.qname_local, m.original_message_id, \
         m.reference_message_id, m.transaction_code, m.eol, m.content, m.sender_signature, \
         m.reply_to, m.received_at"
    };
}
pub(super) use message_columns;

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

pub(super) fn encode_day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(super) fn decode_day(s: &str) -> Result<Date, StoreError> {
    let bad = || StoreError::Corrupt(format!("day `{s}`"));
    let mut parts = s.splitn(3, '-');
    let mut next = || parts.next().and_then(|p| p.parse::<i32>().ok()).ok_or_else(bad);
    let (year, month, day) = (next()?, next()?, next()?);
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(bad)?;
    let day = u8::try_from(day).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

/// The UTC day an instant falls on (the accounting day).
pub(super) fn utc_day(t: OffsetDateTime) -> Date {
    t.checked_to_offset(UtcOffset::UTC).map_or(t.date(), |u| u.date())
}

pub(super) fn encode_id(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(super) fn decode_id(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("message id `{s}`: {e}")))
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

/// Reads the columns of [`message_columns!`], starting at column `at`.
pub(super) fn message_from_row(row: &SqliteRow, at: usize) -> Result<StoredMessage, StoreError> {
    let text = |i: usize| row.try_get::<String, _>(at + i);
    let opt = |i: usize| row.try_get::<Option<String>, _>(at + i);
    let opt_id =
        |i: usize| -> Result<Option<Uuid>, StoreError> { opt(i)?.as_deref().map(decode_id).transpose() };
    Ok(StoredMessage {
        message_id: decode_id(&text(0)?)?,
        kind: decode_kind(&text(1)?)?,
        sender: opt(2)?.map(decode_mnemonic).transpose()?,
        qname: decode_qname(opt(3)?, opt(4)?),
        original_message_id: opt_id(5)?,
        reference_message_id: opt_id(6)?,
        transaction_code: opt(7)?,
        eol: opt(8)?.as_deref().map(decode_time).transpose()?,
        content: text(9)?,
        sender_signature: opt(10)?,
        reply_to: opt(11)?,
        received_at: decode_time(&text(12)?)?,
    })
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
