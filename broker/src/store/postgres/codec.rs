//! Reading the store's types from PostgreSQL rows (see the migration's header for the column
//! conventions; the encodings shared with SQLite are in [`crate::store::encoding`]).

use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use crate::store::encoding::MessageColumns;
use crate::store::{StoreError, StoredAttachment, StoredMessage};

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

/// How many columns [`message_columns!`] names.
pub(super) const MESSAGE_COLUMNS: usize = 13;

/// The attachment contents of the message aliased `m`, as two arrays in list order (`NULL` when
/// it has none), for [`attachments_from_row`]. Part of the leasing statements, so that a lease
/// stays one round trip.
macro_rules! attachment_columns {
    () => {
        "(SELECT array_agg(a.content_id ORDER BY a.position) FROM message_attachments a \
           WHERE a.message_id = m.message_id), \
         (SELECT array_agg(a.content ORDER BY a.position) FROM message_attachments a \
           WHERE a.message_id = m.message_id)"
    };
}
pub(super) use attachment_columns;

/// Reads the two columns of [`attachment_columns!`], starting at column `at`.
pub(super) fn attachments_from_row(row: &PgRow, at: usize) -> Result<Vec<StoredAttachment>, StoreError> {
    let ids: Option<Vec<String>> = row.try_get(at)?;
    let contents: Option<Vec<Vec<u8>>> = row.try_get(at + 1)?;
    let (ids, contents) = (ids.unwrap_or_default(), contents.unwrap_or_default());
    if ids.len() != contents.len() {
        return Err(StoreError::Corrupt(format!(
            "{} attachment ids for {} contents",
            ids.len(),
            contents.len()
        )));
    }
    Ok(ids
        .into_iter()
        .zip(contents)
        .map(|(id, content)| StoredAttachment { id, content })
        .collect())
}

/// Reads the columns of [`message_columns!`], starting at column `at`.
pub(super) fn message_from_row(row: &PgRow, at: usize) -> Result<StoredMessage, StoreError> {
    let text = |i: usize| row.try_get::<String, _>(at + i);
    let opt = |i: usize| row.try_get::<Option<String>, _>(at + i);
    let opt_id = |i: usize| row.try_get::<Option<Uuid>, _>(at + i);
    MessageColumns {
        message_id: row.try_get(at)?,
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

/// A non-negative count from a `bigint` column.
pub(super) fn count(n: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n}")))
}
