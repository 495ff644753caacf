//! Read operations, each run in one `REPEATABLE READ READ ONLY` transaction, so a call sees a
//! single committed snapshot however many statements it takes.

use std::collections::BTreeMap;

use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use sqlx::Row;
use sqlx::postgres::PgConnection;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::codec::{count, message_columns, message_from_row};
use crate::store::encoding::{
    decode_infotype_kind, decode_kind, decode_mnemonic, decode_participant_status, decode_queue, decode_time,
    encode_time,
};
use crate::store::encoding::{queue_depth, with_every_queue};
use crate::store::{
    EventKind, Expiring, HistoryEvent, QueueDepth, StoreError, StoredMessage, Trace, UsageRow, XsdSet,
};

type Conn = PgConnection;

pub(super) async fn registry(conn: &mut Conn) -> Result<Registry, StoreError> {
    let mut certificates: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in sqlx::query("SELECT mnemonic, pem FROM participant_certificates ORDER BY mnemonic, position")
        .fetch_all(&mut *conn)
        .await?
    {
        certificates
            .entry(row.try_get(0)?)
            .or_default()
            .push(row.try_get(1)?);
    }
    let mut participants = Vec::new();
    for row in sqlx::query("SELECT mnemonic, name, organisation, status FROM participants ORDER BY mnemonic")
        .fetch_all(&mut *conn)
        .await?
    {
        let mnemonic: String = row.try_get(0)?;
        participants.push(Participant {
            certificates: certificates.remove(&mnemonic).unwrap_or_default(),
            mnemonic: decode_mnemonic(mnemonic)?,
            name: row.try_get(1)?,
            organisation: row.try_get(2)?,
            status: decode_participant_status(&row.try_get::<String, _>(3)?)?,
        });
    }

    let mut infotypes = Vec::new();
    for row in sqlx::query(
        "SELECT namespace, local_name, version, kind, provider, xsd, transaction_code_required, \
         max_size, description, federal FROM infotypes ORDER BY namespace, local_name",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let max_size: Option<i64> = row.try_get(7)?;
        infotypes.push(InfoType {
            qname: QName::new(row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?),
            version: row.try_get(2)?,
            kind: decode_infotype_kind(&row.try_get::<String, _>(3)?)?,
            provider: decode_mnemonic(row.try_get(4)?)?,
            xsd: row.try_get(5)?,
            transaction_code_required: row.try_get(6)?,
            max_size: max_size.map(|s| count(s, "max_size")).transpose()?,
            description: row.try_get(8)?,
            federal: row.try_get(9)?,
        });
    }

    let mut listed: BTreeMap<String, Vec<QName>> = BTreeMap::new();
    for row in
        sqlx::query("SELECT code, namespace, local_name FROM service_infotypes ORDER BY code, position")
            .fetch_all(&mut *conn)
            .await?
    {
        listed.entry(row.try_get(0)?).or_default().push(QName::new(
            row.try_get::<String, _>(1)?,
            row.try_get::<String, _>(2)?,
        ));
    }
    let mut services = Vec::new();
    for row in sqlx::query("SELECT code, provider, description FROM services ORDER BY code")
        .fetch_all(&mut *conn)
        .await?
    {
        let code: String = row.try_get(0)?;
        services.push(Service {
            infotypes: listed.remove(&code).unwrap_or_default(),
            code,
            provider: decode_mnemonic(row.try_get(1)?)?,
            description: row.try_get(2)?,
        });
    }

    let mut grants = Vec::new();
    for row in sqlx::query(
        "SELECT consumer, namespace, local_name FROM grants ORDER BY consumer, namespace, local_name",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        grants.push(Grant {
            consumer: decode_mnemonic(row.try_get(0)?)?,
            infotype: QName::new(row.try_get::<String, _>(1)?, row.try_get::<String, _>(2)?),
        });
    }

    Ok(Registry {
        participants,
        infotypes,
        services,
        grants,
    })
}

pub(super) async fn registry_version(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM registry_version WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?,
    )
}

pub(super) async fn xsd_set(conn: &mut Conn, name: &str) -> Result<Option<XsdSet>, StoreError> {
    let known = sqlx::query("SELECT 1 FROM xsd_sets WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_none() {
        return Ok(None);
    }
    let files = sqlx::query("SELECT path, content FROM xsd_files WHERE set_name = $1 ORDER BY path")
        .bind(name)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some(XsdSet {
        name: name.to_owned(),
        files,
    }))
}

pub(super) async fn xsd_set_names(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT name FROM xsd_sets ORDER BY name")
        .fetch_all(&mut *conn)
        .await?)
}

pub(super) async fn message(conn: &mut Conn, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages m WHERE m.message_id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| message_from_row(&row, 0))
    .transpose()
}

pub(super) async fn history(conn: &mut Conn, id: Uuid) -> Result<Vec<HistoryEvent>, StoreError> {
    sqlx::query("SELECT at, event, actor, detail FROM history WHERE message_id = $1 ORDER BY seq")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(HistoryEvent {
                message_id: id,
                at: decode_time(&row.try_get::<String, _>(0)?)?,
                event: EventKind::parse(&row.try_get::<String, _>(1)?)
                    .map_err(|e| StoreError::Corrupt(format!("history event `{e}`")))?,
                actor: row.try_get(2)?,
                detail: row.try_get(3)?,
            })
        })
        .collect()
}

pub(super) async fn trace(conn: &mut Conn, id: Uuid) -> Result<Trace, StoreError> {
    let message = message(conn, id).await?;
    let events = history(conn, id).await?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages m WHERE m.original_message_id = $1 ORDER BY m.received_at, m.arrival"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut responses = Vec::with_capacity(rows.len());
    for row in &rows {
        let response = message_from_row(row, 0)?;
        let events = history(conn, response.message_id).await?;
        responses.push((response, events));
    }
    Ok(Trace {
        message,
        events,
        responses,
    })
}

pub(super) async fn usage(conn: &mut Conn, from: Date, to: Date) -> Result<Vec<UsageRow>, StoreError> {
    sqlx::query(
        "SELECT day, participant, infotype, kind, count FROM usage_counters \
         WHERE day BETWEEN $1 AND $2 ORDER BY day, participant, infotype, kind",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(UsageRow {
            day: row.try_get(0)?,
            participant: row.try_get(1)?,
            infotype: row.try_get(2)?,
            kind: decode_kind(&row.try_get::<String, _>(3)?)?,
            count: count(row.try_get(4)?, "usage count")?,
        })
    })
    .collect()
}

pub(super) async fn queue_depths(
    conn: &mut Conn,
    owner: Option<&Mnemonic>,
    now: OffsetDateTime,
) -> Result<Vec<QueueDepth>, StoreError> {
    // `queue` text order (requests < responses < statuses) is `QueueKind` order; the "C"
    // collation makes `owner` order bytewise, as `Mnemonic`'s `Ord`.
    let at = encode_time(now);
    let rows = match owner {
        None => {
            sqlx::query(
                "SELECT owner, queue, COUNT(*), COUNT(*) FILTER (WHERE lease_until > $1) \
                 FROM queue_entries GROUP BY owner, queue ORDER BY owner, queue",
            )
            .bind(&at)
            .fetch_all(&mut *conn)
            .await?
        }
        Some(owner) => {
            sqlx::query(
                "SELECT owner, queue, COUNT(*), COUNT(*) FILTER (WHERE lease_until > $1) \
                 FROM queue_entries WHERE owner = $2 GROUP BY owner, queue ORDER BY owner, queue",
            )
            .bind(&at)
            .bind(owner.as_str())
            .fetch_all(&mut *conn)
            .await?
        }
    };
    let depths = rows
        .iter()
        .map(|row| {
            queue_depth(
                row.try_get(0)?,
                &row.try_get::<String, _>(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
            )
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(match owner {
        Some(owner) => with_every_queue(depths, owner),
        None => depths,
    })
}

pub(super) async fn due_expirations(
    conn: &mut Conn,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Expiring>, StoreError> {
    sqlx::query(concat!(
        "SELECT e.owner, e.queue, ",
        message_columns!(),
        " FROM queue_entries e JOIN messages m ON m.message_id = e.message_id \
         WHERE e.eol IS NOT NULL AND e.eol < $1 ORDER BY e.eol, e.seq LIMIT $2"
    ))
    .bind(encode_time(now))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| {
        Ok(Expiring {
            owner: decode_mnemonic(row.try_get(0)?)?,
            queue: decode_queue(&row.try_get::<String, _>(1)?)?,
            message: message_from_row(row, 2)?,
        })
    })
    .collect()
}
