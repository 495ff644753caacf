//! The hook through which a queue transport rides on a store.
//!
//! A store stays the system of record; a transport only carries *copies* of queue entries to
//! where participants read them faster (RabbitMQ, [`super::rabbit`]). The store tells the
//! transport when a transaction that wrote copies has committed, and asks it first when a
//! participant polls; whatever the transport answers, leases, Acks and expiry are the store's
//! transactions, so a transport can delay a delivery but never lose or repeat one.

use async_trait::async_trait;
use rsmev_registry::{Mnemonic, QName};
use time::OffsetDateTime;

use super::{Leased, QueueKind, StoreError};

/// A queue transport attached to a store (today: [`super::rabbit::RabbitTransport`] on
/// [`super::postgres::PostgresStore`]).
#[async_trait]
pub trait QueueTransport: Send + Sync + std::fmt::Debug + 'static {
    /// A transaction that wrote copies (an accept, an expiry status) has committed: publish soon.
    fn committed(&self);

    /// Participants were registered or replaced: make their queues ready. Failures are the
    /// transport's to log and heal (queues are declared again on first use).
    async fn participants_changed(&self, owners: &[Mnemonic]);

    /// Leases an entry of `owner`'s `queue` through a copy the transport holds. `Ok(None)`:
    /// nothing to take (no copy, a selector the transport cannot apply, the transport is down);
    /// the store then leases from its own tables.
    async fn try_lease(
        &self,
        owner: &Mnemonic,
        queue: QueueKind,
        selector: Option<&QName>,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Option<Leased>, StoreError>;

    /// The store leased from its own tables instead (for the statistics).
    fn leased_from_database(&self);

    /// The transport's state, for `/metrics` and tests.
    async fn stats(&self) -> TransportStats;

    /// Stops the transport's background work and closes its connections. Called by the store's
    /// `close`, before the store's own connections close.
    async fn close(&self);
}

/// The state of a queue transport, for `/metrics` and tests. Counters are this node's since it
/// started.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportStats {
    /// Whether this node has a connection to RabbitMQ now.
    pub connected: bool,
    /// Copies waiting in the outbox (all nodes').
    pub outbox: u64,
    /// Age of the oldest of them, in seconds.
    pub oldest_outbox_age_secs: Option<f64>,
    /// Copies this node published and RabbitMQ confirmed.
    pub published: u64,
    /// Leases made from a copy taken from a RabbitMQ queue.
    pub leased_from_queue: u64,
    /// Leases made from the database directly (selector, empty queue, RabbitMQ down).
    pub leased_from_database: u64,
    /// Copies taken and discarded (the entry was acked, expired, leased, or copied again).
    pub stale_copies: u64,
}
