//! [`SqliteStore`]: the embedded store, one SQLite file (`rsmev-data/rsmev.db` by default).
//!
//! # Group commit
//!
//! One writer task owns the only connection that writes. Every write operation (accept,
//! rejection, lease, ack, expire, registry writes) is sent to it over a bounded channel with a
//! oneshot for the answer. The writer takes everything already queued (at most
//! [`SqliteConfig::max_batch`] operations) and runs it as one transaction:
//!
//! ```text
//! BEGIN IMMEDIATE
//!   SAVEPOINT op … RELEASE op            -- operation 1 succeeded
//!   SAVEPOINT op … ROLLBACK TO op; RELEASE op  -- operation 2 failed: only its writes undone
//!   …
//! COMMIT                                 -- then every caller gets its answer
//! ```
//!
//! While one batch commits, the next one gathers in the channel, so under load the cost of a
//! commit (one fsync of the WAL) is shared by up to `max_batch` operations; a lone operation is
//! committed at once, without waiting for company. Operations of a batch run one after another
//! on the one connection, so each sees the effects of the earlier ones (a duplicate MessageID
//! within one batch is still a duplicate, two leases never get the same entry).
//!
//! Reads (registry, messages, history, traces, usage, depths, due expirations) go through a
//! separate pool of read-only connections; in WAL mode they read the last committed state
//! without waiting for the writer.
//!
//! # Durability
//!
//! The database runs in WAL mode with `synchronous=FULL`: `COMMIT` returns only after the WAL
//! has been fsynced. A caller is answered only after the `COMMIT` of the batch holding its
//! operation has returned, so every success the store reports survives a crash or power loss;
//! if the commit fails, every operation of the batch reports an error and none of it persists
//! (SQLite's atomic commit). Nothing here trades durability for speed: the speed is the batching.
//!
//! A caller that stops waiting (its future dropped) does not cancel an operation already sent:
//! it commits like any other, and the history shows it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, QName, Registry, Service};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, SqlSafeStr};
use time::{Date, OffsetDateTime};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{
    AcceptLimits, AcceptOutcome, AckTarget, Delivery, Expiring, HistoryEvent, Leased, NewMessage, QueueDepth,
    QueueKind, Rejection, Store, StoreError, StoredMessage, Trace, UsageRow, XsdSet,
};

mod codec;
mod ops;
mod reads;
mod writer;

use writer::{BoxFuture, ClosureOp, Job, WriterStats};

/// Tuning of [`SqliteStore`]. Durability settings are not configurable: they are always WAL and
/// `synchronous=FULL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    /// Most write operations committed in one transaction. Default 256.
    pub max_batch: usize,
    /// Write operations that may wait for the writer before callers wait to hand theirs over.
    /// Default 4096.
    pub write_queue: usize,
    /// Read-only connections in the read pool. Default 4.
    pub read_connections: u32,
    /// How long a connection waits for a lock held by another process before failing.
    /// Default 5 s.
    pub busy_timeout: Duration,
}

impl Default for SqliteConfig {
    fn default() -> SqliteConfig {
        SqliteConfig {
            max_batch: 256,
            write_queue: 4096,
            read_connections: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// What the writer has done since the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SqliteStats {
    /// Write transactions committed.
    pub transactions: u64,
    /// Write operations in those transactions (failed operations rolled back to their savepoint
    /// included: they were answered after the commit too).
    pub operations: u64,
    /// Most operations committed in one transaction.
    pub largest_batch: u64,
    /// Transactions that failed as a whole (every operation in them got an error).
    pub failed_batches: u64,
    /// Write operations waiting for the writer right now.
    pub queued: u64,
}

/// The embedded store: SQLite in WAL mode, one writer task with group commit, a read-only
/// connection pool. See the [module docs](self).
pub struct SqliteStore {
    path: PathBuf,
    /// `None` once [`Store::close`] has begun; the writer stops when every clone is dropped.
    jobs: RwLock<Option<mpsc::Sender<Job>>>,
    /// Taken by the first `close`; held while waiting so a concurrent `close` waits too.
    writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    readers: SqlitePool,
    closed: AtomicBool,
    stats: Arc<WriterStats>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// The schema, embedded at compile time; applied and recorded by sqlx's migrator
/// (`_sqlx_migrations`).
fn migrator() -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        "initial".into(),
        MigrationType::Simple,
        include_str!("../../migrations/sqlite/0001_initial.sql").into_sql_str(),
        false,
    )])
}

impl SqliteStore {
    /// Opens (creating if absent, with its parent folders) the database at `path`, brings its
    /// schema up to date and starts the writer task. Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the folder cannot be created or the file cannot be put in WAL
    /// mode; [`StoreError::Database`] when SQLite cannot open it; [`StoreError::Migration`] when
    /// the schema cannot be applied (for instance a database written by a newer RSMEV).
    pub async fn open(path: &Path, config: SqliteConfig) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(config.busy_timeout);
        let mut conn = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .connect()
            .await?;
        // A file system without shared memory silently keeps the rollback journal; refuse it
        // rather than run with other concurrency and durability than documented.
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut conn)
            .await?;
        if !mode.eq_ignore_ascii_case("wal") || synchronous != 2 {
            return Err(StoreError::Io(std::io::Error::other(format!(
                "{}: expected journal_mode=wal and synchronous=FULL, got journal_mode={mode} and \
                 synchronous={synchronous}",
                path.display()
            ))));
        }
        migrator().run(&mut conn).await?;

        let readers = SqlitePoolOptions::new()
            .max_connections(config.read_connections.max(1))
            .connect_with(base.read_only(true))
            .await?;

        let stats = Arc::new(WriterStats::default());
        let (jobs, queue) = mpsc::channel(config.write_queue.max(1));
        let writer = tokio::spawn(writer::run(conn, queue, config.max_batch, Arc::clone(&stats)));
        Ok(SqliteStore {
            path: path.to_owned(),
            jobs: RwLock::new(Some(jobs)),
            writer: tokio::sync::Mutex::new(Some(writer)),
            readers,
            closed: AtomicBool::new(false),
            stats,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Counters of the writer (for metrics, and to see group commit at work).
    pub fn stats(&self) -> SqliteStats {
        let queued = self
            .jobs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map_or(0, |s| (s.max_capacity() - s.capacity()) as u64);
        SqliteStats {
            transactions: self.stats.transactions.load(Ordering::Relaxed),
            operations: self.stats.operations.load(Ordering::Relaxed),
            largest_batch: self.stats.largest_batch.load(Ordering::Relaxed),
            failed_batches: self.stats.failed_batches.load(Ordering::Relaxed),
            queued,
        }
    }

    fn sender(&self) -> Result<mpsc::Sender<Job>, StoreError> {
        self.jobs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(StoreError::Closed)
    }

    /// Hands `job` to the writer (waiting for room in the queue).
    async fn submit(&self, job: Job) -> Result<(), StoreError> {
        let sender = self.sender()?;
        sender.send(job).await.map_err(|_| StoreError::Closed)
        // `sender` is dropped here, before the answer is awaited, so `close` is never kept
        // waiting by a caller that has already handed its operation over.
    }

    /// Runs `f` on the writer's connection inside the next batch, and returns its result once
    /// that batch has committed.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let (job, answer) = ClosureOp::job(f);
        self.submit(job).await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` in a read transaction on a read-only connection.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>,
    {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let mut tx = self.readers.begin().await.map_err(|e| match e {
            sqlx::Error::PoolClosed => StoreError::Closed,
            e => StoreError::Database(e),
        })?;
        let result = f(&mut tx).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// Test hook: occupies the writer, inside a batch of its own, until `release` fires or is
    /// dropped. Returns once the writer is held, with the hold's own answer to await.
    #[cfg(test)]
    pub(crate) async fn hold_writer(
        &self,
        release: tokio::sync::oneshot::Receiver<()>,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<(), StoreError>>, StoreError> {
        let (entered, is_held) = tokio::sync::oneshot::channel();
        let (job, answer) = ClosureOp::job(move |_conn: &mut SqliteConnection| {
            Box::pin(async move {
                let _ = entered.send(());
                let _ = release.await;
                Ok(())
            }) as BoxFuture<'_, Result<(), StoreError>>
        });
        self.submit(job).await?;
        is_held.await.map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn registry(&self) -> Result<Registry, StoreError> {
        self.read(|c| Box::pin(reads::registry(c))).await
    }

    async fn registry_version(&self) -> Result<i64, StoreError> {
        self.read(|c| Box::pin(reads::registry_version(c))).await
    }

    async fn put_participant(&self, p: &Participant) -> Result<(), StoreError> {
        let p = p.clone();
        self.write(move |c| Box::pin(async move { ops::put_participant(c, &p).await }))
            .await
    }

    async fn put_infotype(&self, t: &InfoType) -> Result<(), StoreError> {
        let t = t.clone();
        self.write(move |c| Box::pin(async move { ops::put_infotype(c, &t).await }))
            .await
    }

    async fn put_service(&self, s: &Service) -> Result<(), StoreError> {
        let s = s.clone();
        self.write(move |c| Box::pin(async move { ops::put_service(c, &s).await }))
            .await
    }

    async fn put_grant(&self, g: &Grant) -> Result<(), StoreError> {
        let g = g.clone();
        self.write(move |c| Box::pin(async move { ops::put_grant(c, &g).await }))
            .await
    }

    async fn revoke_grant(&self, g: &Grant) -> Result<bool, StoreError> {
        let g = g.clone();
        self.write(move |c| Box::pin(async move { ops::revoke_grant(c, &g).await }))
            .await
    }

    async fn replace_registry(&self, r: &Registry, xsd_sets: &[XsdSet]) -> Result<(), StoreError> {
        let (r, sets) = (r.clone(), xsd_sets.to_vec());
        self.write(move |c| Box::pin(async move { ops::replace_registry(c, &r, &sets).await }))
            .await
    }

    async fn put_xsd_set(&self, set: &XsdSet) -> Result<(), StoreError> {
        let set = set.clone();
        self.write(move |c| Box::pin(async move { ops::put_xsd_set(c, &set).await }))
            .await
    }

    async fn xsd_set(&self, name: &str) -> Result<Option<XsdSet>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| Box::pin(async move { reads::xsd_set(c, &name).await }))
            .await
    }

    async fn xsd_set_names(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| Box::pin(reads::xsd_set_names(c))).await
    }

    async fn accept(
        &self,
        msg: &NewMessage,
        deliveries: &[Delivery],
        limits: AcceptLimits,
        now: OffsetDateTime,
    ) -> Result<AcceptOutcome, StoreError> {
        let (msg, deliveries) = (msg.clone(), deliveries.to_vec());
        self.write(move |c| {
            Box::pin(async move { ops::accept(c, &msg, &deliveries, Some(limits), now).await })
        })
        .await
    }

    async fn record_rejection(&self, r: &Rejection) -> Result<(), StoreError> {
        let r = r.clone();
        self.write(move |c| Box::pin(async move { ops::record_rejection(c, &r).await }))
            .await
    }

    async fn lease(
        &self,
        owner: &Mnemonic,
        queue: QueueKind,
        selector: Option<&QName>,
        now: OffsetDateTime,
        lease_for: time::Duration,
    ) -> Result<Option<Leased>, StoreError> {
        let (owner, selector) = (owner.clone(), selector.cloned());
        self.write(move |c| {
            Box::pin(async move { ops::lease(c, &owner, queue, selector.as_ref(), now, lease_for).await })
        })
        .await
    }

    async fn ack(
        &self,
        owner: &Mnemonic,
        target: AckTarget,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let owner = owner.clone();
        self.write(move |c| Box::pin(async move { ops::ack(c, &owner, target, now).await }))
            .await
    }

    async fn due_expirations(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Expiring>, StoreError> {
        self.read(|c| Box::pin(reads::due_expirations(c, now, limit)))
            .await
    }

    async fn expire(
        &self,
        expiring: &Expiring,
        status: &NewMessage,
        status_delivery: &Delivery,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (expiring, status, delivery) = (expiring.clone(), status.clone(), status_delivery.clone());
        self.write(move |c| Box::pin(async move { ops::expire(c, &expiring, &status, &delivery, now).await }))
            .await
    }

    async fn message(&self, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
        self.read(|c| Box::pin(reads::message(c, id))).await
    }

    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEvent>, StoreError> {
        self.read(|c| Box::pin(reads::history(c, id))).await
    }

    async fn trace(&self, id: Uuid) -> Result<Trace, StoreError> {
        self.read(|c| Box::pin(reads::trace(c, id))).await
    }

    async fn usage(&self, from: Date, to: Date) -> Result<Vec<UsageRow>, StoreError> {
        self.read(|c| Box::pin(reads::usage(c, from, to))).await
    }

    async fn queue_depths(
        &self,
        owner: Option<&Mnemonic>,
        now: OffsetDateTime,
    ) -> Result<Vec<QueueDepth>, StoreError> {
        let owner = owner.cloned();
        self.read(move |c| Box::pin(async move { reads::queue_depths(c, owner.as_ref(), now).await }))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.sender()?.is_closed() {
            // The writer task is gone (it only stops on close, or if it panicked).
            return Err(StoreError::Closed);
        }
        self.read(|c| {
            Box::pin(async move {
                sqlx::query("SELECT 1").execute(&mut *c).await?;
                Ok(())
            })
        })
        .await
    }

    async fn close(&self) {
        let mut writer = self.writer.lock().await;
        self.closed.store(true, Ordering::Release);
        // Dropping the last sender lets the writer drain what is queued, then stop.
        self.jobs.write().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(task) = writer.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "the SQLite writer task failed");
        }
        self.readers.close().await;
    }
}
