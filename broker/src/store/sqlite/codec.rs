//! Conversions between the store's types and their SQLite columns (see the migration's header
//! for the conventions). What both backends share lives in [`crate::store::encoding`].

use rusqlite::Row;
use time::{Date, Month};
use uuid::Uuid;

use crate::store::encoding::MessageColumns;
pub(super) use crate::store::encoding::{
    decode_infotype_kind, decode_kind, decode_mnemonic, decode_participant_status, decode_queue, decode_time,
    encode_time, participant_status_str, qname_key, utc_day,
};
use crate::store::{StoreError, StoredMessage};

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

pub(super) fn encode_id(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(super) fn decode_id(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("message id `{s}`: {e}")))
}

/// Reads the columns of [`message_columns!`], starting at column `at`.
pub(super) fn message_from_row(row: &Row<'_>, at: usize) -> Result<StoredMessage, StoreError> {
    let text = |i: usize| row.get::<_, String>(at + i);
    let opt = |i: usize| row.get::<_, Option<String>>(at + i);
    let opt_id =
        |i: usize| -> Result<Option<Uuid>, StoreError> { opt(i)?.as_deref().map(decode_id).transpose() };
    MessageColumns {
        message_id: decode_id(&text(0)?)?,
        kind: text(1)?,
        sender: opt(2)?,
        qname_namespace: opt(3)?,
        qname_local: opt(4)?,
        original_message_id: opt_id(5)?,
        reference_message_id: opt_id(6)?,
        transaction_code: opt(7)?,
        eol: opt(8)?,
        content: text(9)?,
        sender_signature: opt(10)?,
        reply_to: opt(11)?,
        received_at: text(12)?,
    }
    .decode()
}
