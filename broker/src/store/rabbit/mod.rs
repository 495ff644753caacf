//! The production queue transport: PostgreSQL as the system of record, RabbitMQ quorum queues
//! carrying the deliveries.
//!
//! [`RabbitTransport`] is a [`QueueTransport`] attached to the [`PostgresStore`]
//! ([`PostgresStore::attach_transport`]): the exchange cannot tell the store from the others,
//! and neither can participants. Everything but the lease is the PostgreSQL store's; what this
//! module adds:
//!
//! - **Outbox.** An accepting transaction writes, besides the queue entry, one *copy* per entry
//!   to the `outbox` table ([`PostgresConfig::transport`]). A message the node has answered
//!   "accepted" for is therefore durable in PostgreSQL whether or not RabbitMQ is up.
//! - **Relay.** A background task publishes outbox rows in order (persistent, mandatory, with
//!   publisher confirms) to the direct exchange `<prefix>.deliver`, routed to the participant's
//!   quorum queue `<prefix>.<mnemonic>.<requests|responses|statuses>`, and deletes the rows
//!   RabbitMQ confirmed. While RabbitMQ is down the rows wait; they drain when it returns. Every
//!   node runs a relay; a transaction-scoped advisory lock lets one publish at a time, so a
//!   queue's copies keep their order across nodes.
//! - **Lease.** GetRequest/GetResponse/GetStatus without a selector take the first copy of the
//!   caller's queue with `basic.get` and lease the entry it names with a conditional update
//!   ([`Outbox::take_copy`]): a stale copy (entry acked, expired, or copied again since) is
//!   discarded and the next one taken. The copy is acked to RabbitMQ only after the lease has
//!   committed. When the queue has no copy (the relay has not caught up, or RabbitMQ is down),
//!   or the call has a selector (RabbitMQ cannot pick by content), the entry is leased from the
//!   database directly, as on the other stores — so delivery goes on during a RabbitMQ outage.
//! - **Redelivery.** A taken entry whose lease runs out gets a new copy (generation + 1) through
//!   the outbox, written by a scan every node runs (`FOR UPDATE SKIP LOCKED`). A live copy older
//!   than `republish_after` is made again, in case RabbitMQ lost it; the older one becomes stale.
//! - **Copies expire.** Every copy is published with a per-message TTL of `republish_after`
//!   (quorum queues honour it since RabbitMQ 3.10). A copy whose entry was leased from the
//!   database instead (a participant that always asks with a selector, or a relay that lagged)
//!   is never taken from its queue; without the TTL such copies would pile up in RabbitMQ for
//!   good. A live copy that expires is made again by the scan above, as a lost one would be.
//!
//! Ack, EOL expiry, quotas, queue statistics, history and accounting are the database's, so they
//! behave exactly as without RabbitMQ. A copy is a hint, never the record: RabbitMQ losing,
//! duplicating or delaying one can delay a delivery, never duplicate one after its Ack or lose it.

mod link;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rsmev_registry::{Mnemonic, QName};
use time::OffsetDateTime;
use tokio::sync::Notify;

pub use link::AmqpError;

#[cfg(doc)]
use super::postgres::PostgresStore;
use super::postgres::{CopyOutcome, Outbox};
use super::{Leased, QueueKind, QueueTransport, StoreError, TransportStats};
use crate::amqp::Topology;

/// Most stale copies one lease discards before it leases from the database instead.
const MAX_STALE_PER_LEASE: usize = 64;
/// Tuning of the transport (`[rabbitmq]` in the node configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RabbitConfig {
    /// `amqp://user:password@host:5672/vhost`.
    pub url: String,
    /// First part of every exchange and queue name. Default `rsmev`.
    pub prefix: String,
    /// Most outbox rows published per confirm round. Default 256.
    pub relay_batch: u32,
    /// How often the relay looks at the outbox when nothing woke it. Default 200 ms.
    pub relay_interval: Duration,
    /// How often the redelivery scan runs. Default 1 s.
    pub scan_interval: Duration,
    /// A copy not taken for this long is published again; RabbitMQ drops the old one at the same
    /// age (its per-message TTL). Default 1 h.
    pub republish_after: Duration,
}

impl Default for RabbitConfig {
    fn default() -> RabbitConfig {
        RabbitConfig {
            url: String::new(),
            prefix: "rsmev".to_owned(),
            relay_batch: 256,
            relay_interval: Duration::from_millis(200),
            scan_interval: Duration::from_secs(1),
            republish_after: Duration::from_secs(3600),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    published: AtomicU64,
    from_queue: AtomicU64,
    from_database: AtomicU64,
    discarded: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    outbox: Outbox,
    amqp: link::Amqp,
    config: RabbitConfig,
    counters: Counters,
    /// Wakes the relay (a local accept wrote to the outbox).
    relay_wake: Notify,
    stopping: AtomicBool,
    stop: Notify,
}

/// The RabbitMQ queue transport. See the [module docs](self).
#[derive(Debug)]
pub struct RabbitTransport {
    shared: Arc<Shared>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl RabbitTransport {
    /// Declares the exchange and the queues of `owners` (every registered participant) when
    /// RabbitMQ answers (a node starts without it and connects later), and starts the relay of
    /// `outbox` and the redelivery scan. Attach the result to the store the outbox came from.
    pub async fn start(outbox: Outbox, owners: &[Mnemonic], config: RabbitConfig) -> RabbitTransport {
        let topology = Topology {
            prefix: config.prefix.clone(),
        };
        let shared = Arc::new(Shared {
            amqp: link::Amqp::new(&config.url, topology, config.republish_after),
            outbox,
            config,
            counters: Counters::default(),
            relay_wake: Notify::new(),
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
        });
        if let Err(e) = shared.amqp.declare(owners).await {
            tracing::warn!(error = %e, "RabbitMQ is not available at start; accepting into the outbox until it is");
        }
        let tasks = vec![
            tokio::spawn(relay(Arc::clone(&shared))),
            tokio::spawn(scan(Arc::clone(&shared))),
        ];
        RabbitTransport {
            shared,
            tasks: std::sync::Mutex::new(tasks),
        }
    }

    /// The exchange and queue names in use.
    pub fn topology(&self) -> &Topology {
        &self.shared.amqp.topology
    }
}

/// Publishes the outbox until the node stops.
async fn relay(shared: Arc<Shared>) {
    while !shared.stopping.load(Ordering::Acquire) {
        let batch = shared.config.relay_batch.max(1);
        let amqp = &shared.amqp;
        let round = shared
            .outbox
            .relay_outbox(batch, |rows| async move {
                match amqp.publish(&rows).await {
                    Ok(ids) => ids,
                    Err(e) => {
                        tracing::debug!(error = %e, waiting = rows.len(), "outbox not relayed");
                        Vec::new()
                    }
                }
            })
            .await;
        match round {
            Ok(n) => {
                shared.counters.published.fetch_add(n as u64, Ordering::Relaxed);
                if n as u64 == u64::from(batch) {
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "outbox relay: database error"),
        }
        tokio::select! {
            () = shared.relay_wake.notified() => {}
            () = tokio::time::sleep(shared.config.relay_interval) => {}
            () = shared.stop.notified() => {}
        }
    }
}

/// Makes copies for redelivery until the node stops.
async fn scan(shared: Arc<Shared>) {
    while !shared.stopping.load(Ordering::Acquire) {
        let now = OffsetDateTime::now_utc();
        let republish_before = now - shared.config.republish_after;
        match shared.outbox.schedule_copies(now, republish_before, 1000).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::debug!(copies = n, "redelivery copies written to the outbox");
                shared.relay_wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "redelivery scan: database error"),
        }
        tokio::select! {
            () = tokio::time::sleep(shared.config.scan_interval) => {}
            () = shared.stop.notified() => {}
        }
    }
}

#[async_trait]
impl QueueTransport for RabbitTransport {
    fn committed(&self) {
        self.shared.relay_wake.notify_one();
    }

    async fn participants_changed(&self, owners: &[Mnemonic]) {
        if let Err(e) = self.shared.amqp.declare(owners).await {
            tracing::warn!(error = %e, "declaring participants' queues failed; they are declared on first use");
        }
    }

    async fn try_lease(
        &self,
        owner: &Mnemonic,
        queue: QueueKind,
        selector: Option<&QName>,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Option<Leased>, StoreError> {
        // RabbitMQ cannot pick by content: a selector is served from the database.
        if selector.is_some() {
            return Ok(None);
        }
        for _ in 0..MAX_STALE_PER_LEASE {
            let taken = match self.shared.amqp.take(owner, queue).await {
                Ok(Some(taken)) => taken,
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "leasing from the database instead of RabbitMQ");
                    break;
                }
            };
            let Some(copy) = link::decode_copy(&taken.data, owner, queue) else {
                tracing::warn!(owner = %owner, queue = queue.as_str(), "discarding a message that is not a copy");
                taken.ack().await;
                continue;
            };
            match self.shared.outbox.take_copy(&copy, now, lease_for).await {
                Ok(CopyOutcome::Leased(leased)) => {
                    taken.ack().await;
                    self.shared.counters.from_queue.fetch_add(1, Ordering::Relaxed);
                    return Ok(Some(*leased));
                }
                Ok(CopyOutcome::Busy | CopyOutcome::Stale) => {
                    taken.ack().await;
                    self.shared.counters.discarded.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    taken.requeue().await;
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    fn leased_from_database(&self) {
        self.shared.counters.from_database.fetch_add(1, Ordering::Relaxed);
    }

    async fn stats(&self) -> TransportStats {
        let c = &self.shared.counters;
        let (outbox, oldest) = self.shared.outbox.outbox_depth().await.unwrap_or((0, None));
        TransportStats {
            connected: self.shared.amqp.connected().await,
            outbox,
            oldest_outbox_age_secs: oldest.map(|t| (OffsetDateTime::now_utc() - t).as_seconds_f64().max(0.0)),
            published: c.published.load(Ordering::Relaxed),
            leased_from_queue: c.from_queue.load(Ordering::Relaxed),
            leased_from_database: c.from_database.load(Ordering::Relaxed),
            stale_copies: c.discarded.load(Ordering::Relaxed),
        }
    }

    async fn close(&self) {
        self.shared.stopping.store(true, Ordering::Release);
        self.shared.stop.notify_waiters();
        let tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for task in tasks {
            let _ = task.await;
        }
        self.shared.amqp.close().await;
    }
}
