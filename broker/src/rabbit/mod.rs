//! The production queue transport: PostgreSQL as the system of record, RabbitMQ quorum queues
//! carrying the deliveries.
//!
//! [`RabbitStore`] is a [`Store`]: the exchange cannot tell it from the others, and neither can
//! participants. Everything but the lease is the PostgreSQL store's; what this module adds:
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
//!   ([`PostgresStore::take_copy`]): a stale copy (entry acked, expired, or copied again since) is
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

pub mod adapter;
mod link;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use time::{Date, OffsetDateTime};
use tokio::sync::Notify;
use uuid::Uuid;

pub use link::{AmqpError, Topology};

use crate::store::postgres::{CopyOutcome, PostgresStore};
use crate::store::{
    AcceptLimits, AcceptOutcome, AckTarget, Delivery, Expiring, HistoryEvent, Leased, NewMessage, QueueDepth,
    QueueKind, Rejection, Store, StoreError, StoredMessage, Trace, TransportStats, UsageRow, XsdSet,
};

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
    pg: Arc<PostgresStore>,
    amqp: link::Amqp,
    config: RabbitConfig,
    counters: Counters,
    /// Wakes the relay (a local accept wrote to the outbox).
    relay_wake: Notify,
    stopping: AtomicBool,
    stop: Notify,
}

/// PostgreSQL + RabbitMQ. See the [module docs](self).
#[derive(Debug)]
pub struct RabbitStore {
    shared: Arc<Shared>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl RabbitStore {
    /// Wraps `pg` (opened with [`PostgresConfig::transport`] set), declares the exchange and the
    /// queues of every registered participant when RabbitMQ answers (a node starts without it
    /// and connects later), and starts the relay and the redelivery scan.
    ///
    /// # Errors
    /// The registry cannot be read.
    ///
    /// [`PostgresConfig::transport`]: crate::store::postgres::PostgresConfig::transport
    pub async fn start(pg: PostgresStore, config: RabbitConfig) -> Result<RabbitStore, StoreError> {
        let topology = Topology {
            prefix: config.prefix.clone(),
        };
        let shared = Arc::new(Shared {
            amqp: link::Amqp::new(&config.url, topology, config.republish_after),
            pg: Arc::new(pg),
            config,
            counters: Counters::default(),
            relay_wake: Notify::new(),
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
        });
        let owners = participants(&shared.pg.registry().await?);
        if let Err(e) = shared.amqp.declare(&owners).await {
            tracing::warn!(error = %e, "RabbitMQ is not available at start; accepting into the outbox until it is");
        }
        let tasks = vec![
            tokio::spawn(relay(Arc::clone(&shared))),
            tokio::spawn(scan(Arc::clone(&shared))),
        ];
        Ok(RabbitStore {
            shared,
            tasks: std::sync::Mutex::new(tasks),
        })
    }

    /// The exchange and queue names in use.
    pub fn topology(&self) -> &Topology {
        &self.shared.amqp.topology
    }

    async fn declare_for(&self, owners: Vec<Mnemonic>) {
        if let Err(e) = self.shared.amqp.declare(&owners).await {
            tracing::warn!(error = %e, "declaring participants' queues failed; they are declared on first use");
        }
    }
}

/// Deletes every queue and exchange under `topology` for `owners`
/// ([`Topology::everything_for`]): the clean-up of a test or benchmark run. Queues that do not
/// exist are no error.
///
/// # Errors
/// RabbitMQ is unreachable or refuses.
pub async fn delete_everything(
    url: &str,
    topology: &Topology,
    owners: &[Mnemonic],
) -> Result<(), lapin::Error> {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let connection = lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let (queues, exchanges) = topology.everything_for(owners);
    for queue in queues {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await?;
    }
    for exchange in exchanges {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await?;
    }
    let _ = connection.close(200, "deleted".into()).await;
    Ok(())
}

fn participants(r: &Registry) -> Vec<Mnemonic> {
    r.participants.iter().map(|p| p.mnemonic.clone()).collect()
}

/// Publishes the outbox until the node stops.
async fn relay(shared: Arc<Shared>) {
    while !shared.stopping.load(Ordering::Acquire) {
        let batch = shared.config.relay_batch.max(1);
        let amqp = &shared.amqp;
        let round = shared
            .pg
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
        match shared.pg.schedule_copies(now, republish_before, 1000).await {
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
impl Store for RabbitStore {
    async fn registry(&self) -> Result<Registry, StoreError> {
        self.shared.pg.registry().await
    }
    async fn registry_version(&self) -> Result<i64, StoreError> {
        self.shared.pg.registry_version().await
    }
    async fn put_participant(&self, p: &Participant) -> Result<(), StoreError> {
        self.shared.pg.put_participant(p).await?;
        self.declare_for(vec![p.mnemonic.clone()]).await;
        Ok(())
    }
    async fn put_infotype(&self, t: &InfoType) -> Result<(), StoreError> {
        self.shared.pg.put_infotype(t).await
    }
    async fn put_service(&self, s: &Service) -> Result<(), StoreError> {
        self.shared.pg.put_service(s).await
    }
    async fn put_grant(&self, g: &Grant) -> Result<(), StoreError> {
        self.shared.pg.put_grant(g).await
    }
    async fn revoke_grant(&self, g: &Grant) -> Result<bool, StoreError> {
        self.shared.pg.revoke_grant(g).await
    }
    async fn replace_registry(&self, r: &Registry, xsd_sets: &[XsdSet]) -> Result<(), StoreError> {
        self.shared.pg.replace_registry(r, xsd_sets).await?;
        self.declare_for(participants(r)).await;
        Ok(())
    }
    async fn put_xsd_set(&self, set: &XsdSet) -> Result<(), StoreError> {
        self.shared.pg.put_xsd_set(set).await
    }
    async fn xsd_set(&self, name: &str) -> Result<Option<XsdSet>, StoreError> {
        self.shared.pg.xsd_set(name).await
    }
    async fn xsd_set_names(&self) -> Result<Vec<String>, StoreError> {
        self.shared.pg.xsd_set_names().await
    }

    async fn accept(
        &self,
        msg: &NewMessage,
        deliveries: &[Delivery],
        limits: AcceptLimits,
        now: OffsetDateTime,
    ) -> Result<AcceptOutcome, StoreError> {
        let outcome = self.shared.pg.accept(msg, deliveries, limits, now).await?;
        if matches!(outcome, AcceptOutcome::Accepted { .. }) {
            self.shared.relay_wake.notify_one();
        }
        Ok(outcome)
    }

    async fn record_rejection(&self, r: &Rejection) -> Result<(), StoreError> {
        self.shared.pg.record_rejection(r).await
    }

    async fn lease(
        &self,
        owner: &Mnemonic,
        queue: QueueKind,
        selector: Option<&QName>,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Option<Leased>, StoreError> {
        if selector.is_none() {
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
                match self.shared.pg.take_copy(&copy, now, lease_for).await {
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
        }
        let leased = self
            .shared
            .pg
            .lease(owner, queue, selector, now, lease_for)
            .await?;
        if leased.is_some() {
            self.shared.counters.from_database.fetch_add(1, Ordering::Relaxed);
        }
        Ok(leased)
    }

    async fn ack(
        &self,
        owner: &Mnemonic,
        target: AckTarget,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.shared.pg.ack(owner, target, now).await
    }
    async fn due_expirations(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Expiring>, StoreError> {
        self.shared.pg.due_expirations(now, limit).await
    }
    async fn expire(
        &self,
        expiring: &Expiring,
        status: &NewMessage,
        status_delivery: &Delivery,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let expired = self
            .shared
            .pg
            .expire(expiring, status, status_delivery, now)
            .await?;
        if expired {
            self.shared.relay_wake.notify_one();
        }
        Ok(expired)
    }
    async fn message(&self, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
        self.shared.pg.message(id).await
    }
    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEvent>, StoreError> {
        self.shared.pg.history(id).await
    }
    async fn trace(&self, id: Uuid) -> Result<Trace, StoreError> {
        self.shared.pg.trace(id).await
    }
    async fn usage(&self, from: Date, to: Date) -> Result<Vec<UsageRow>, StoreError> {
        self.shared.pg.usage(from, to).await
    }
    async fn queue_depths(
        &self,
        owner: Option<&Mnemonic>,
        now: OffsetDateTime,
    ) -> Result<Vec<QueueDepth>, StoreError> {
        self.shared.pg.queue_depths(owner, now).await
    }
    async fn amqp_participants(&self) -> Result<Vec<Mnemonic>, StoreError> {
        self.shared.pg.amqp_participants().await
    }
    async fn set_amqp_participant(&self, participant: &Mnemonic) -> Result<(), StoreError> {
        self.shared.pg.set_amqp_participant(participant).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        // Ready means able to accept: the database. RabbitMQ being down only delays copies.
        self.shared.pg.ping().await
    }

    async fn transport_stats(&self) -> Option<TransportStats> {
        let c = &self.shared.counters;
        let (outbox, oldest) = self.shared.pg.outbox_depth().await.unwrap_or((0, None));
        Some(TransportStats {
            connected: self.shared.amqp.connected().await,
            outbox,
            oldest_outbox_age_secs: oldest.map(|t| (OffsetDateTime::now_utc() - t).as_seconds_f64().max(0.0)),
            published: c.published.load(Ordering::Relaxed),
            leased_from_queue: c.from_queue.load(Ordering::Relaxed),
            leased_from_database: c.from_database.load(Ordering::Relaxed),
            stale_copies: c.discarded.load(Ordering::Relaxed),
        })
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
        self.shared.pg.close().await;
    }
}
