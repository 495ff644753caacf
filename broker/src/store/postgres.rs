//! [`PostgresStore`]: the production store, one PostgreSQL database shared by every `rsmev serve`
//! process of a deployment.
//!
//! Each [`Store`] call is one transaction on a pooled connection (the pool is sized by
//! [`PostgresConfig::max_connections`], `[storage] max_connections` in the node configuration).
//! There is no group commit as on SQLite: PostgreSQL commits concurrent transactions
//! concurrently and shares WAL flushes between them by itself, so a plain pool already gives
//! throughput without trading durability.
//!
//! # Durability
//!
//! A call reports success only after `COMMIT` has returned. Every connection runs with
//! `synchronous_commit` at least `on`: a server or database configured with `off` is overridden
//! for the node's sessions (stronger settings such as `remote_apply` are kept), so a commit has
//! been flushed to the WAL on disk before the caller answers "accepted".
//!
//! # Several nodes at once
//!
//! Writes run at `READ COMMITTED` (set explicitly in each `BEGIN`, whatever the server's
//! default): every statement sees what was committed before it started, and row locks decide
//! races. Reads run at `REPEATABLE READ READ ONLY`, one snapshot per call. Why nothing is
//! delivered twice and nothing is lost when several nodes work on the same queues:
//!
//! - **Lease.** One statement selects the first free, matching entry of the queue in `seq` order
//!   `FOR UPDATE SKIP LOCKED` and sets its `lease_until` in the same transaction. A second leaser
//!   running at the same time skips the row while the first holds its lock; once the first has
//!   committed, PostgreSQL re-checks the row's new version against the `WHERE` clause, finds the
//!   lease running, and moves on to the next entry. So an entry is handed to one caller per lease
//!   period, on whichever node. (Leases compare `lease_until` with the caller's clock: nodes'
//!   clocks must agree to within a small fraction of the lease time, as NTP gives.)
//! - **Ack.** `DELETE … RETURNING`: the row is gone at commit, and every later lease, on any
//!   node, cannot see it. An Ack racing a lease of the same entry waits for the lease's row lock,
//!   then deletes; the lease it waited for was a delivery *before* the Ack, never after.
//! - **Accept, duplicates.** The message row is inserted `ON CONFLICT (message_id) DO NOTHING`
//!   first: of two nodes accepting the same MessageID at once, the second waits on the primary
//!   key until the first commits, then inserts nothing and answers `Duplicate`. If the first
//!   rolls back, the second goes on and stores it: exactly one of them is ever accepted.
//! - **Accept, quotas and FIFO.** Before counting, the accepting transaction takes a
//!   transaction-scoped advisory lock per destination queue (`pg_advisory_xact_lock`, keyed by a
//!   stable hash of owner and queue, taken in ascending key order so two transactions never wait
//!   on each other in a cycle). The count is a *separate, later* statement, so its snapshot
//!   includes every entry committed by the previous holder of the lock: concurrent accepts to
//!   one queue are counted one after the other and never exceed the quota together. The lock is
//!   held until commit, so within a queue `seq` (drawn from the identity sequence while holding
//!   the lock) follows commit order: FIFO holds across nodes. Node-generated statuses take the
//!   same lock (without a quota) for the same reason. A hash collision only makes two unrelated
//!   queues take turns.
//! - **Expiry.** `DELETE` of the one entry, then the `expired` event and the status in the same
//!   transaction. Of several nodes expiring the same entry, the later ones wait on its row lock
//!   and then delete nothing: only the deleter records `expired` and enqueues the status; the
//!   others return `false` and write nothing.
//! - **Registry.** Every registry write first bumps the single `registry_version` row; its row
//!   lock makes registry writes take turns across nodes (a whole-registry replace never
//!   interleaves with a put), and the new version tells every node's cache to reload.
//! - **Migrations** run on connect on a dedicated connection under sqlx's migrator, which holds a
//!   session advisory lock (keyed by the database name) while it checks and applies them: nodes
//!   starting together apply each migration once; the others wait, then find nothing to do.
//! - **A node that dies** in the middle of a call leaves a transaction that never committed: the
//!   server rolls it back when the connection closes, or after 60 s of silence inside the
//!   transaction (`idle_in_transaction_session_timeout`, set for every session), releasing its
//!   locks. Its caller got no answer, so nothing reported as done is lost; a lease it had
//!   committed runs out and the entry is delivered again, as after any lost answer.
//!
//! Lock order, to show there is no deadlock: accept takes the new message's key, then the queue
//! locks in ascending order, then inserts rows of its own, and upserts its usage counter last
//! (after which it waits for nothing); lease and ack lock existing entries and nothing else;
//! expire locks one entry, then behaves as an accept of a new message. No transaction holding a
//! queue lock or a usage counter ever waits for an entry's row lock.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, SqlSafeStr, Transaction};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    AcceptLimits, AcceptOutcome, AckTarget, Delivery, Expiring, HistoryEvent, Leased, NewMessage, Queries,
    QueueDepth, QueueKind, QueueTransport, Rejection, Store, StoreError, StoredMessage, Trace,
    TransportStats, UsageRow, XsdSet,
};

mod codec;
mod ops;
mod reads;
pub mod scratch;
mod transport;

pub use transport::{CopyOutcome, OutboxRow, TransportCopy};

/// Runs `$op(transaction, $args…)` in a transaction begun with `$begin` and commits it; an
/// error rolls it back (the transaction is dropped unfinished).
macro_rules! transaction {
    ($store:expr, $begin:expr, $op:path $(, $arg:expr)* $(,)?) => {{
        let mut tx = $store.begin($begin).await?;
        let result = $op(&mut tx $(, $arg)*).await?;
        tx.commit().await?;
        Ok(result)
    }};
}

/// Every write transaction: row locks and per-statement snapshots decide races (see the module
/// docs). Named explicitly so a server default of `serializable` or `repeatable read` cannot
/// change the reasoning (a quota count must see what the previous lock holder committed).
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";
/// Every read call: one consistent snapshot (a trace reads several tables).
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// How long the server lets a session of this node sit idle inside a transaction before ending
/// it (and releasing its locks): see [`PostgresStore::connect`].
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "60s";

/// Tuning of [`PostgresStore`]. Durability and isolation are not configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// Most connections the pool opens; each runs one call's transaction at a time. Default 16.
    /// Summed over every node, it must stay below the server's `max_connections`.
    pub max_connections: u32,
    /// How long a call waits for a free connection — all busy, or the server unreachable — before
    /// failing (a transient error: the peer is told to retry). Default 5 s
    /// (`[storage] acquire_timeout_secs`).
    pub acquire_timeout: Duration,
    /// Write a transport copy of every new queue entry to the outbox (the RabbitMQ transport,
    /// [`super::rabbit`], attached with [`PostgresStore::attach_transport`], publishes and
    /// deletes them). Default false: without RabbitMQ nothing would ever empty the outbox.
    pub transport: bool,
}

impl Default for PostgresConfig {
    fn default() -> PostgresConfig {
        PostgresConfig {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            transport: false,
        }
    }
}

/// The production store: a connection pool to a PostgreSQL database that other nodes may share.
/// See the [module docs](self).
pub struct PostgresStore {
    db: Db,
    /// Host and database, for logs (never the password).
    target: String,
    /// Outbox rows are written with every new queue entry ([`PostgresConfig::transport`]).
    outbox: bool,
    /// The transport that publishes them and is asked first on leases, once attached.
    transport: OnceLock<Arc<dyn QueueTransport>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("target", &self.target)
            .field("closed", &self.db.closed.load(Ordering::Relaxed))
            .field("connections", &self.db.pool.size())
            .field("transport", &self.transport.get())
            .finish_non_exhaustive()
    }
}

/// The pool and the closed flag, shared by the store and its [`Outbox`].
#[derive(Debug, Clone)]
struct Db {
    pool: PgPool,
    closed: Arc<AtomicBool>,
}

impl Db {
    /// A pooled connection for a read that is a single statement: it runs in autocommit mode,
    /// with a snapshot of its own, so it needs no transaction (and saves two round trips).
    async fn single_statement(&self) -> Result<sqlx::pool::PoolConnection<Postgres>, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        self.pool.acquire().await.map_err(pool_error)
    }

    /// Opens a transaction with `statement` (the isolation level is always explicit).
    async fn begin(&self, statement: &'static str) -> Result<Transaction<'static, Postgres>, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        self.pool.begin_with(statement).await.map_err(pool_error)
    }
}

/// The outbox side of a [`PostgresStore`], handed to its queue transport
/// ([`PostgresStore::outbox`]): take a copy's entry, schedule redelivery copies, relay and
/// count the outbox. It shares the store's pool, so the transport holds no reference to the
/// store that holds it.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
}

/// The schema, embedded at compile time; applied and recorded by sqlx's migrator
/// (`_sqlx_migrations`).
pub(in crate::store) fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            "initial".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0001_initial.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "transport".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0002_transport.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            3,
            "attachments".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0003_attachments.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            4,
            "federal".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0004_federal.sql").into_sql_str(),
            false,
        ),
    ])
}

/// Makes a fresh session durable: `synchronous_commit=off` (server, database or role default)
/// becomes `on`; `local`, `on`, `remote_write` and `remote_apply` are kept.
async fn ensure_durable_commit(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('synchronous_commit', 'on', false) \
         WHERE current_setting('synchronous_commit') = 'off'",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn pool_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolClosed => StoreError::Closed,
        e => StoreError::Database(e),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database?…`),
    /// brings its schema up to date (safe when several nodes start at once) and opens the pool.
    /// The database must exist.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL is malformed or the server cannot be reached or
    /// refuses the login; [`StoreError::Migration`] when the schema cannot be applied (for
    /// instance a database migrated by a newer RSMEV).
    pub async fn connect(url: &str, config: PostgresConfig) -> Result<PostgresStore, StoreError> {
        let options = PgConnectOptions::from_str(url)?
            .application_name("rsmev")
            // A node that dies in the middle of a transaction must not keep its locks (an entry
            // being leased, a queue's accept lock) until the server notices the dead socket,
            // which can take hours: the server ends such a session after this much silence.
            // The node's own transactions never pause between statements for anything but
            // the round trip.
            .options([("idle_in_transaction_session_timeout", IDLE_IN_TRANSACTION_TIMEOUT)]);
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );

        // Migrations run on a connection of their own, closed afterwards: should one fail, the
        // migrator's session lock goes with that connection instead of staying in the pool.
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| Box::pin(ensure_durable_commit(conn)))
            .connect_with(options.clone())
            .await?;
        let migrated = migrator().run(&migrating).await;
        migrating.close().await;
        migrated?;

        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.acquire_timeout)
            .after_connect(|conn, _| Box::pin(ensure_durable_commit(conn)))
            .connect_with(options)
            .await?;
        Ok(PostgresStore {
            db: Db {
                pool,
                closed: Arc::new(AtomicBool::new(false)),
            },
            target,
            outbox: config.transport,
            transport: OnceLock::new(),
        })
    }

    /// The outbox, for the queue transport that will publish it.
    pub fn outbox(&self) -> Outbox {
        Outbox { db: self.db.clone() }
    }

    /// Attaches the queue transport: told after every commit that wrote copies, asked first on
    /// leases, closed with the store. Only one transport may be attached; a second is refused.
    ///
    /// # Errors
    /// [`StoreError::Unsupported`] when the store was opened without
    /// [`PostgresConfig::transport`] (no copies would be written) or already has a transport.
    pub fn attach_transport(&self, transport: Arc<dyn QueueTransport>) -> Result<(), StoreError> {
        if !self.outbox {
            return Err(StoreError::Unsupported(
                "the store was opened without an outbox (PostgresConfig::transport)",
            ));
        }
        self.transport
            .set(transport)
            .map_err(|_| StoreError::Unsupported("the store already has a queue transport"))
    }

    /// Tells the transport that a transaction which wrote copies has committed.
    fn copies_committed(&self) {
        if let Some(t) = self.transport.get() {
            t.committed();
        }
    }

    async fn participants_changed(&self, owners: &[Mnemonic]) {
        if let Some(t) = self.transport.get() {
            t.participants_changed(owners).await;
        }
    }

    /// The pool, for tests that look at the server's side of things.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &PgPool {
        &self.db.pool
    }
}

/// What the RabbitMQ transport ([`super::rabbit`]) does on the database; the SQL is in
/// `postgres/transport.rs`.
impl Outbox {
    /// Leases the entry a transport copy names, if the copy may still deliver it.
    ///
    /// # Errors
    /// The database failed; nothing was changed.
    pub async fn take_copy(
        &self,
        copy: &TransportCopy,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<CopyOutcome, StoreError> {
        transaction!(self.db, BEGIN_WRITE, transport::take_copy, copy, now, lease_for)
    }

    /// Writes new copies of at most `limit` entries that need one (redelivery after a lease,
    /// entries without a copy, live copies made before `republish_before`) to the outbox.
    ///
    /// # Errors
    /// The database failed; nothing was changed.
    pub async fn schedule_copies(
        &self,
        now: OffsetDateTime,
        republish_before: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, StoreError> {
        transaction!(
            self.db,
            BEGIN_WRITE,
            transport::schedule_copies,
            now,
            republish_before,
            limit
        )
    }

    /// Publishes the oldest outbox rows (at most `limit`) with `publish`, which returns the ids
    /// of the rows RabbitMQ has confirmed; those are deleted. The rows stay locked while
    /// `publish` runs, so no other node publishes them at the same time. Returns how many rows
    /// were published.
    ///
    /// # Errors
    /// The database failed (what `publish` published stays in the outbox and is published
    /// again: copies are idempotent).
    pub async fn relay_outbox<F, Fut>(&self, limit: u32, publish: F) -> Result<usize, StoreError>
    where
        F: FnOnce(Vec<OutboxRow>) -> Fut + Send,
        Fut: std::future::Future<Output = Vec<i64>> + Send,
    {
        let mut tx = self.db.begin(BEGIN_WRITE).await?;
        // One relay publishes at a time across the nodes, so a queue's copies reach RabbitMQ in
        // outbox order; the others find the lock taken and try again at their next round.
        if !transport::take_relay_lock(&mut tx).await? {
            tx.rollback().await?;
            return Ok(0);
        }
        let rows = transport::outbox_rows(&mut tx, limit).await?;
        if rows.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        let published = publish(rows).await;
        if !published.is_empty() {
            transport::delete_outbox_rows(&mut tx, &published).await?;
        }
        tx.commit().await?;
        Ok(published.len())
    }

    /// How many copies wait in the outbox, and when the oldest was written.
    ///
    /// # Errors
    /// The database failed.
    pub async fn outbox_depth(&self) -> Result<(u64, Option<OffsetDateTime>), StoreError> {
        transaction!(self.db, BEGIN_READ, transport::outbox_depth)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn registry(&self) -> Result<Registry, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::registry)
    }

    async fn registry_version(&self) -> Result<i64, StoreError> {
        // Asked on every API call: one statement, its own snapshot, no BEGIN/COMMIT round trips.
        reads::registry_version(&mut *self.db.single_statement().await?).await
    }

    async fn put_participant(&self, p: &Participant) -> Result<(), StoreError> {
        let put: Result<(), StoreError> = transaction!(self.db, BEGIN_WRITE, ops::put_participant, p);
        put?;
        self.participants_changed(std::slice::from_ref(&p.mnemonic)).await;
        Ok(())
    }

    async fn put_infotype(&self, t: &InfoType) -> Result<(), StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::put_infotype, t)
    }

    async fn put_service(&self, s: &Service) -> Result<(), StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::put_service, s)
    }

    async fn put_grant(&self, g: &Grant) -> Result<(), StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::put_grant, g)
    }

    async fn revoke_grant(&self, g: &Grant) -> Result<bool, StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::revoke_grant, g)
    }

    async fn replace_registry(&self, r: &Registry, xsd_sets: &[XsdSet]) -> Result<(), StoreError> {
        let replaced: Result<(), StoreError> =
            transaction!(self.db, BEGIN_WRITE, ops::replace_registry, r, xsd_sets);
        replaced?;
        let owners: Vec<Mnemonic> = r.participants.iter().map(|p| p.mnemonic.clone()).collect();
        self.participants_changed(&owners).await;
        Ok(())
    }

    async fn put_xsd_set(&self, set: &XsdSet) -> Result<(), StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::put_xsd_set, set)
    }

    async fn xsd_set(&self, name: &str) -> Result<Option<XsdSet>, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::xsd_set, name)
    }

    async fn xsd_set_names(&self) -> Result<Vec<String>, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::xsd_set_names)
    }

    async fn accept(
        &self,
        msg: &NewMessage,
        deliveries: &[Delivery],
        limits: AcceptLimits,
        now: OffsetDateTime,
    ) -> Result<AcceptOutcome, StoreError> {
        let mut tx = self.db.begin(BEGIN_WRITE).await?;
        let outcome = ops::accept(&mut tx, msg, deliveries, Some(limits), self.outbox, now).await?;
        if matches!(outcome, AcceptOutcome::Accepted { .. }) {
            tx.commit().await?;
            self.copies_committed();
        } else {
            // An overflow has already inserted the message row: undo it. (A duplicate wrote
            // nothing; rolling back releases the locks all the same.)
            tx.rollback().await?;
        }
        Ok(outcome)
    }

    async fn record_rejection(&self, r: &Rejection) -> Result<(), StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::record_rejection, r)
    }

    async fn record_event(&self, e: &HistoryEvent) -> Result<(), StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::record_event, e)
    }

    async fn lease(
        &self,
        owner: &Mnemonic,
        queue: QueueKind,
        selector: Option<&QName>,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Option<Leased>, StoreError> {
        let transport = self.transport.get();
        if let Some(t) = transport
            && let Some(leased) = t.try_lease(owner, queue, selector, now, lease_for).await?
        {
            return Ok(Some(leased));
        }
        let mut tx = self.db.begin(BEGIN_WRITE).await?;
        let leased = ops::lease(&mut tx, owner, queue, selector, now, lease_for).await?;
        if self.outbox
            && let Some(l) = &leased
        {
            transport::cancel_unpublished_copy(&mut tx, owner, queue, l.message.message_id).await?;
        }
        tx.commit().await?;
        if let (Some(t), Some(_)) = (transport, &leased) {
            t.leased_from_database();
        }
        Ok(leased)
    }

    async fn ack(
        &self,
        owner: &Mnemonic,
        target: AckTarget,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        transaction!(self.db, BEGIN_WRITE, ops::ack, owner, target, now)
    }

    async fn due_expirations(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Expiring>, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::due_expirations, now, limit)
    }

    async fn expire(
        &self,
        expiring: &Expiring,
        status: &NewMessage,
        status_delivery: &Delivery,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let expired: Result<bool, StoreError> = transaction!(
            self.db,
            BEGIN_WRITE,
            ops::expire,
            expiring,
            status,
            status_delivery,
            self.outbox,
            now
        );
        if matches!(expired, Ok(true)) {
            self.copies_committed();
        }
        expired
    }

    async fn message(&self, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
        // Asked on every send (duplicate check): one statement, as `registry_version`.
        reads::message(&mut *self.db.single_statement().await?, id).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Ready means able to accept: the database. A transport being down only delays copies.
        if self.db.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        sqlx::query("SELECT 1")
            .execute(&self.db.pool)
            .await
            .map_err(pool_error)?;
        Ok(())
    }

    async fn close(&self) {
        // The transport first: its relay and scan use the pool.
        if let Some(t) = self.transport.get() {
            t.close().await;
        }
        self.db.closed.store(true, Ordering::Release);
        // Waits for the connections in use: transactions already running finish (commit or
        // roll back) before the pool is gone.
        self.db.pool.close().await;
        tracing::debug!(target = %self.target, "PostgreSQL store closed");
    }
}

#[async_trait]
impl Queries for PostgresStore {
    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEvent>, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::history, id)
    }

    async fn trace(&self, id: Uuid) -> Result<Trace, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::trace, id)
    }

    async fn usage(&self, from: Date, to: Date) -> Result<Vec<UsageRow>, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::usage, from, to)
    }

    async fn queue_depths(
        &self,
        owner: Option<&Mnemonic>,
        now: OffsetDateTime,
    ) -> Result<Vec<QueueDepth>, StoreError> {
        transaction!(self.db, BEGIN_READ, reads::queue_depths, owner, now)
    }

    async fn transport_stats(&self) -> Option<TransportStats> {
        match self.transport.get() {
            Some(t) => Some(t.stats().await),
            None => None,
        }
    }
}
