//! The node's connection to RabbitMQ: connect on demand, declare the topology, publish copies
//! with confirms, take copies with `basic.get`. Any AMQP error drops the connection; the next
//! call after [`RECONNECT_INTERVAL`] connects again, so a RabbitMQ restart heals by itself.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions, ConfirmSelectOptions,
    QueueBindOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use rsmev_registry::Mnemonic;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::amqp::{Topology, durable_exchange, durable_queue, quorum};
use crate::store::QueueKind;
use crate::store::postgres::{OutboxRow, TransportCopy};

/// Least time between two connection attempts.
pub(super) const RECONNECT_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait for RabbitMQ to accept a connection or confirm a batch.
pub(super) const AMQP_TIMEOUT: Duration = Duration::from_secs(5);
/// Channels used for `basic.get`, taken in turn.
const GET_CHANNELS: usize = 4;

/// The body of a copy (JSON): which entry it stands for.
#[derive(Debug, Serialize, Deserialize)]
struct CopyBody {
    message_id: String,
    owner: String,
    queue: String,
    generation: i64,
}

pub(super) fn encode_copy(copy: &TransportCopy) -> Vec<u8> {
    let body = CopyBody {
        message_id: copy.message_id.hyphenated().to_string(),
        owner: copy.owner.as_str().to_owned(),
        queue: copy.queue.as_str().to_owned(),
        generation: copy.generation,
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The copy a body names, when it is one of ours for `owner`'s `queue`.
pub(super) fn decode_copy(data: &[u8], owner: &Mnemonic, queue: QueueKind) -> Option<TransportCopy> {
    let body: CopyBody = serde_json::from_slice(data).ok()?;
    let message_id = Uuid::parse_str(&body.message_id).ok()?;
    (body.owner == owner.as_str() && body.queue == queue.as_str()).then(|| TransportCopy {
        owner: owner.clone(),
        queue,
        message_id,
        generation: body.generation,
    })
}

/// One open connection with its channels.
#[derive(Debug)]
struct Link {
    connection: Connection,
    publish: Channel,
    gets: Vec<Channel>,
    next_get: AtomicUsize,
    /// Queues declared on this connection.
    declared: std::sync::Mutex<HashSet<String>>,
}

impl Link {
    fn usable(&self) -> bool {
        self.connection.status().connected()
    }
}

/// A copy taken from a queue, not yet acknowledged to RabbitMQ.
#[derive(Debug)]
pub(super) struct Taken {
    pub data: Vec<u8>,
    acker: lapin::Acker,
}

impl Taken {
    /// Removes the copy from RabbitMQ. Failure is logged only: a copy that comes back is
    /// discarded or leases nothing new (see `store::postgres::transport`).
    pub(super) async fn ack(self) {
        if let Err(e) = self.acker.ack(BasicAckOptions::default()).await {
            tracing::debug!(error = %e, "acking a copy failed; it will come back and be discarded");
        }
    }

    /// Puts the copy back at the head of its queue (the database could not be asked).
    pub(super) async fn requeue(self) {
        let _ = self
            .acker
            .nack(BasicNackOptions {
                requeue: true,
                ..BasicNackOptions::default()
            })
            .await;
    }
}

/// Why an AMQP call did nothing.
#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("RabbitMQ is unavailable (next attempt within {RECONNECT_INTERVAL:?})")]
    Down,
    #[error("RabbitMQ: {0}")]
    Protocol(#[from] lapin::Error),
    #[error("RabbitMQ did not answer within {AMQP_TIMEOUT:?}")]
    Timeout,
}

/// The node's connection, re-opened on demand.
#[derive(Debug)]
pub(super) struct Amqp {
    url: String,
    pub topology: Topology,
    /// Per-message TTL of every copy (the `expiration` property, in milliseconds).
    copy_ttl: String,
    link: tokio::sync::Mutex<Option<Arc<Link>>>,
    last_attempt: std::sync::Mutex<Option<Instant>>,
}

async fn timed<T>(f: impl Future<Output = Result<T, lapin::Error>>) -> Result<T, AmqpError> {
    match tokio::time::timeout(AMQP_TIMEOUT, f).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(AmqpError::Timeout),
    }
}

impl Amqp {
    /// A connection to `url` (opened at first use) for `topology`, publishing copies that
    /// RabbitMQ drops when nobody took them within `copy_ttl`.
    pub(super) fn new(url: &str, topology: Topology, copy_ttl: Duration) -> Amqp {
        Amqp {
            url: url.to_owned(),
            topology,
            copy_ttl: copy_ttl.as_millis().clamp(1, u128::from(u32::MAX)).to_string(),
            link: tokio::sync::Mutex::new(None),
            last_attempt: std::sync::Mutex::new(None),
        }
    }

    /// The open link, connecting first when there is none and the last attempt is old enough.
    async fn link(&self) -> Result<Arc<Link>, AmqpError> {
        let mut slot = self.link.lock().await;
        if let Some(link) = slot.as_ref() {
            if link.usable() {
                return Ok(Arc::clone(link));
            }
            *slot = None;
        }
        {
            let mut last = self
                .last_attempt
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.is_some_and(|t| t.elapsed() < RECONNECT_INTERVAL) {
                return Err(AmqpError::Down);
            }
            *last = Some(Instant::now());
        }
        let link = Arc::new(self.connect().await?);
        tracing::info!(exchange = %self.topology.exchange(), "connected to RabbitMQ");
        *slot = Some(Arc::clone(&link));
        Ok(link)
    }

    async fn connect(&self) -> Result<Link, AmqpError> {
        let connection = timed(Connection::connect(&self.url, ConnectionProperties::default())).await?;
        let publish = timed(connection.create_channel()).await?;
        timed(publish.confirm_select(ConfirmSelectOptions::default())).await?;
        timed(publish.exchange_declare(
            self.topology.exchange().as_str().into(),
            ExchangeKind::Direct,
            durable_exchange(),
            FieldTable::default(),
        ))
        .await?;
        let mut gets = Vec::with_capacity(GET_CHANNELS);
        for _ in 0..GET_CHANNELS {
            gets.push(timed(connection.create_channel()).await?);
        }
        Ok(Link {
            connection,
            publish,
            gets,
            next_get: AtomicUsize::new(0),
            declared: std::sync::Mutex::new(HashSet::new()),
        })
    }

    /// Forgets `link` after an error, so the next call connects again.
    async fn drop_link(&self, link: &Arc<Link>) {
        let mut slot = self.link.lock().await;
        if slot.as_ref().is_some_and(|l| Arc::ptr_eq(l, link)) {
            *slot = None;
            tracing::warn!("RabbitMQ connection dropped after an error; reconnecting on demand");
        }
    }

    async fn with_link<T, F, Fut>(&self, f: F) -> Result<T, AmqpError>
    where
        F: FnOnce(Arc<Link>) -> Fut,
        Fut: Future<Output = Result<T, AmqpError>>,
    {
        let link = self.link().await?;
        let result = f(Arc::clone(&link)).await;
        if result.is_err() {
            self.drop_link(&link).await;
        }
        result
    }

    async fn declare_on(&self, link: &Link, owner: &Mnemonic, kind: QueueKind) -> Result<(), AmqpError> {
        let queue = self.topology.queue(owner, kind);
        if link
            .declared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&queue)
        {
            return Ok(());
        }
        timed(
            link.publish
                .queue_declare(queue.as_str().into(), durable_queue(), quorum()),
        )
        .await?;
        timed(link.publish.queue_bind(
            queue.as_str().into(),
            self.topology.exchange().as_str().into(),
            Topology::routing_key(owner, kind).as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        ))
        .await?;
        link.declared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(queue);
        Ok(())
    }

    /// Declares the three incoming queues of each participant (idempotent).
    pub(super) async fn declare(&self, owners: &[Mnemonic]) -> Result<(), AmqpError> {
        self.with_link(|link| async move {
            for owner in owners {
                for kind in QueueKind::ALL {
                    self.declare_on(&link, owner, kind).await?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Publishes `rows` (persistent, mandatory) and waits for RabbitMQ's confirms. Returns the
    /// ids of the rows RabbitMQ confirmed as stored in their queue, in order, stopping at the
    /// first that was not (so a queue keeps its order).
    pub(super) async fn publish(&self, rows: &[OutboxRow]) -> Result<Vec<i64>, AmqpError> {
        self.with_link(|link| async move {
            let mut confirms = Vec::with_capacity(rows.len());
            for row in rows {
                let c = &row.copy;
                self.declare_on(&link, &c.owner, c.queue).await?;
                let confirm = timed(link.publish.basic_publish(
                    self.topology.exchange().as_str().into(),
                    Topology::routing_key(&c.owner, c.queue).as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    &encode_copy(c),
                    BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_content_type("application/json".into())
                        .with_message_id(c.message_id.hyphenated().to_string().as_str().into())
                        .with_expiration(self.copy_ttl.as_str().into()),
                ))
                .await?;
                confirms.push((row, confirm));
            }
            let mut published = Vec::with_capacity(rows.len());
            let mut in_order = true;
            for (row, confirm) in confirms {
                let confirmation = match tokio::time::timeout(AMQP_TIMEOUT, confirm).await {
                    Ok(c) => c?,
                    Err(_) => return Err(AmqpError::Timeout),
                };
                let stored = matches!(confirmation, lapin::Confirmation::Ack(None));
                if !stored {
                    // Unroutable (the queue was deleted behind our back) or refused: declare
                    // again next time.
                    link.declared
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .remove(&self.topology.queue(&row.copy.owner, row.copy.queue));
                    tracing::warn!(message_id = %row.copy.message_id, "RabbitMQ did not store a copy; kept in the outbox");
                }
                in_order &= stored;
                if in_order {
                    published.push(row.id);
                }
            }
            Ok(published)
        })
        .await
    }

    /// Takes the first copy of `owner`'s `kind` queue, if any.
    pub(super) async fn take(&self, owner: &Mnemonic, kind: QueueKind) -> Result<Option<Taken>, AmqpError> {
        self.with_link(|link| async move {
            self.declare_on(&link, owner, kind).await?;
            let i = link.next_get.fetch_add(1, Ordering::Relaxed) % link.gets.len();
            let got = timed(link.gets[i].basic_get(
                self.topology.queue(owner, kind).as_str().into(),
                BasicGetOptions { no_ack: false },
            ))
            .await?;
            Ok(got.map(|m| Taken {
                data: m.delivery.data,
                acker: m.delivery.acker,
            }))
        })
        .await
    }

    /// Whether a connection is open now (for `/readyz` detail and the metrics).
    pub(super) async fn connected(&self) -> bool {
        self.link.lock().await.as_ref().is_some_and(|l| l.usable())
    }

    /// Closes the connection.
    pub(super) async fn close(&self) {
        if let Some(link) = self.link.lock().await.take() {
            let _ = link.connection.close(200, "node shutting down".into()).await;
        }
    }
}
