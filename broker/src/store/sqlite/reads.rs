//! Read operations, run on a read-only pooled connection inside one read transaction, so each
//! sees a single committed snapshot (WAL lets them run beside the writer).

use std::collections::BTreeMap;

use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use rusqlite::{Connection, params};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::codec::{
    self, decode_mnemonic, decode_queue, decode_time, encode_id, encode_time, message_columns,
    message_from_row,
};
use crate::store::encoding::{queue_depth, with_every_queue};
use crate::store::{
    EventKind, Expiring, HistoryEvent, QueueDepth, StoreError, StoredMessage, Trace, UsageRow, XsdSet,
};

type Conn = Connection;

pub(super) fn registry(conn: &Conn) -> Result<Registry, StoreError> {
    let mut certificates: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut stmt = conn
        .prepare_cached("SELECT mnemonic, pem FROM participant_certificates ORDER BY mnemonic, position")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        certificates.entry(row.get(0)?).or_default().push(row.get(1)?);
    }

    let mut participants = Vec::new();
    let mut stmt = conn
        .prepare_cached("SELECT mnemonic, name, organisation, status FROM participants ORDER BY mnemonic")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let mnemonic: String = row.get(0)?;
        participants.push(Participant {
            certificates: certificates.remove(&mnemonic).unwrap_or_default(),
            mnemonic: decode_mnemonic(mnemonic)?,
            name: row.get(1)?,
            organisation: row.get(2)?,
            status: codec::decode_participant_status(&row.get::<_, String>(3)?)?,
        });
    }

    let mut infotypes = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT namespace, local_name, version, kind, provider, xsd, transaction_code_required, \
         max_size, description, federal FROM infotypes ORDER BY namespace, local_name",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let max_size: Option<i64> = row.get(7)?;
        infotypes.push(InfoType {
            qname: QName::new(row.get::<_, String>(0)?, row.get::<_, String>(1)?),
            version: row.get(2)?,
            kind: codec::decode_infotype_kind(&row.get::<_, String>(3)?)?,
            provider: decode_mnemonic(row.get(4)?)?,
            xsd: row.get(5)?,
            transaction_code_required: row.get(6)?,
            max_size: max_size
                .map(|s| u64::try_from(s).map_err(|_| StoreError::Corrupt(format!("max_size {s}"))))
                .transpose()?,
            description: row.get(8)?,
            federal: row.get(9)?,
        });
    }

    let mut listed: BTreeMap<String, Vec<QName>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT code, namespace, local_name FROM service_infotypes ORDER BY code, position",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        listed
            .entry(row.get(0)?)
            .or_default()
            .push(QName::new(row.get::<_, String>(1)?, row.get::<_, String>(2)?));
    }
    let mut services = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT code, provider, description FROM services ORDER BY code")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let code: String = row.get(0)?;
        services.push(Service {
            infotypes: listed.remove(&code).unwrap_or_default(),
            code,
            provider: decode_mnemonic(row.get(1)?)?,
            description: row.get(2)?,
        });
    }

    let mut grants = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT consumer, namespace, local_name FROM grants ORDER BY consumer, namespace, local_name",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        grants.push(Grant {
            consumer: decode_mnemonic(row.get(0)?)?,
            infotype: QName::new(row.get::<_, String>(1)?, row.get::<_, String>(2)?),
        });
    }

    Ok(Registry {
        participants,
        infotypes,
        services,
        grants,
    })
}

pub(super) fn registry_version(conn: &Conn) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT version FROM registry_version WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

pub(super) fn xsd_set(conn: &Conn, name: &str) -> Result<Option<XsdSet>, StoreError> {
    let known = conn
        .prepare_cached("SELECT 1 FROM xsd_sets WHERE name = ?")?
        .exists([name])?;
    if !known {
        return Ok(None);
    }
    let files = conn
        .prepare_cached("SELECT path, content FROM xsd_files WHERE set_name = ? ORDER BY path")?
        .query_map([name], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Some(XsdSet {
        name: name.to_owned(),
        files,
    }))
}

pub(super) fn xsd_set_names(conn: &Conn) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name FROM xsd_sets ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

pub(super) fn message(conn: &Conn, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages m WHERE m.message_id = ?"
    ))?;
    let mut rows = stmt.query([encode_id(id)])?;
    rows.next()?.map(|row| message_from_row(row, 0)).transpose()
}

pub(super) fn history(conn: &Conn, id: Uuid) -> Result<Vec<HistoryEvent>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT at, event, actor, detail FROM history WHERE message_id = ? ORDER BY seq")?;
    let mut rows = stmt.query([encode_id(id)])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(HistoryEvent {
            message_id: id,
            at: decode_time(&row.get::<_, String>(0)?)?,
            event: EventKind::parse(&row.get::<_, String>(1)?)
                .map_err(|e| StoreError::Corrupt(format!("history event `{e}`")))?,
            actor: row.get(2)?,
            detail: row.get(3)?,
        });
    }
    Ok(events)
}

pub(super) fn trace(conn: &Conn, id: Uuid) -> Result<Trace, StoreError> {
    let message = message(conn, id)?;
    let events = history(conn, id)?;
    let mut responses = Vec::new();
    {
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages m WHERE m.original_message_id = ? ORDER BY m.received_at, m.rowid"
        ))?;
        let mut rows = stmt.query([encode_id(id)])?;
        while let Some(row) = rows.next()? {
            responses.push(message_from_row(row, 0)?);
        }
    }
    let responses = responses
        .into_iter()
        .map(|response| {
            let events = history(conn, response.message_id)?;
            Ok((response, events))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Trace {
        message,
        events,
        responses,
    })
}

pub(super) fn usage(conn: &Conn, from: Date, to: Date) -> Result<Vec<UsageRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT day, participant, infotype, kind, count FROM usage_counters \
         WHERE day BETWEEN ? AND ? ORDER BY day, participant, infotype, kind",
    )?;
    let mut rows = stmt.query(params![codec::encode_day(from), codec::encode_day(to)])?;
    let mut usage = Vec::new();
    while let Some(row) = rows.next()? {
        let count: i64 = row.get(4)?;
        usage.push(UsageRow {
            day: codec::decode_day(&row.get::<_, String>(0)?)?,
            participant: row.get(1)?,
            infotype: row.get(2)?,
            kind: codec::decode_kind(&row.get::<_, String>(3)?)?,
            count: u64::try_from(count).map_err(|_| StoreError::Corrupt(format!("usage count {count}")))?,
        });
    }
    Ok(usage)
}

pub(super) fn queue_depths(
    conn: &Conn,
    owner: Option<&Mnemonic>,
    now: OffsetDateTime,
) -> Result<Vec<QueueDepth>, StoreError> {
    let at = encode_time(now);
    let read = |row: &rusqlite::Row<'_>| -> Result<QueueDepth, StoreError> {
        // SUM over no leased rows is NULL.
        let leased: Option<i64> = row.get(3)?;
        queue_depth(
            row.get(0)?,
            &row.get::<_, String>(1)?,
            row.get(2)?,
            leased.unwrap_or(0),
        )
    };
    let mut depths = Vec::new();
    // `queue` text order (requests < responses < statuses) is `QueueKind` order.
    match owner {
        None => {
            let mut stmt = conn.prepare_cached(
                "SELECT owner, queue, COUNT(*), SUM(lease_until IS NOT NULL AND lease_until > ?) \
                 FROM queue_entries GROUP BY owner, queue ORDER BY owner, queue",
            )?;
            let mut rows = stmt.query([&at])?;
            while let Some(row) = rows.next()? {
                depths.push(read(row)?);
            }
        }
        Some(owner) => {
            let mut stmt = conn.prepare_cached(
                "SELECT owner, queue, COUNT(*), SUM(lease_until IS NOT NULL AND lease_until > ?) \
                 FROM queue_entries WHERE owner = ? GROUP BY owner, queue ORDER BY owner, queue",
            )?;
            let mut rows = stmt.query(params![at, owner.as_str()])?;
            while let Some(row) = rows.next()? {
                depths.push(read(row)?);
            }
        }
    }
    Ok(match owner {
        Some(owner) => with_every_queue(depths, owner),
        None => depths,
    })
}

pub(super) fn due_expirations(
    conn: &Conn,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Expiring>, StoreError> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT e.owner, e.queue, ",
        message_columns!(),
        " FROM queue_entries e CROSS JOIN messages m ON m.message_id = e.message_id \
         WHERE e.eol IS NOT NULL AND e.eol < ? ORDER BY e.eol, e.seq LIMIT ?"
    ))?;
    let mut rows = stmt.query(params![encode_time(now), limit])?;
    let mut due = Vec::new();
    while let Some(row) = rows.next()? {
        due.push(Expiring {
            owner: decode_mnemonic(row.get(0)?)?,
            queue: decode_queue(&row.get::<_, String>(1)?)?,
            message: message_from_row(row, 2)?,
        });
    }
    Ok(due)
}
