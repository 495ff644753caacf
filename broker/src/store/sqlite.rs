//! [`SqliteStore`]: the embedded store, one SQLite file (`rsmev-data/rsmev.db` by default).
//!
//! # Group commit
//!
//! One writer thread owns the only connection that writes. Every write operation (accept,
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
//! The writer is a thread of its own that runs a whole batch, `BEGIN` to `COMMIT`, as one
//! blocking call on its connection (see [`writer`]): no statement crosses a thread.
//!
//! Reads (registry, messages, history, traces, usage, depths, due expirations) go through a
//! separate pool of read-only connections, each read one read transaction; in WAL mode they
//! read the last committed state without waiting for the writer. A read runs on a blocking
//! thread (`spawn_blocking`), except the point reads of the exchange's hot path (the registry
//! version, one message by its key, `ping`): each is a single statement by key (its own
//! snapshot, so it needs no `BEGIN`/`COMMIT`) taking a few microseconds of SQLite's time, less
//! than a hand-off to another thread costs, and never waits for the writer, so it runs on the
//! calling task's thread.
//!
//! # Schema
//!
//! The schema is applied by sqlx's migrator (`_sqlx_migrations`) on a connection used only for
//! that while opening; the store then works on `rusqlite` connections to the same file (both
//! link the same SQLite).
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
use rusqlite::Connection;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection as _, SqlSafeStr};
use time::{Date, OffsetDateTime};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{
    AcceptLimits, AcceptOutcome, AckTarget, Delivery, Expiring, HistoryEvent, Leased, NewMessage, Queries,
    QueueDepth, QueueKind, Rejection, Store, StoreError, StoredMessage, Trace, UsageRow, XsdSet,
};

mod codec;
mod connection;
mod ops;
mod reads;
mod writer;

use connection::{Access, Readers};
use writer::{ClosureOp, Job, WriterStats};

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

/// The writer thread, and how to learn that it has finished without blocking a task.
struct WriterThread {
    handle: std::thread::JoinHandle<()>,
    /// Closed (its sender dropped) when the thread's body returns or unwinds.
    finished: oneshot::Receiver<()>,
}

/// The embedded store: SQLite in WAL mode, one writer thread with group commit, a read-only
/// connection pool. See the [module docs](self).
pub struct SqliteStore {
    path: PathBuf,
    /// `None` once [`Store::close`] has begun; the writer stops when every clone is dropped.
    jobs: RwLock<Option<mpsc::Sender<Job>>>,
    /// Taken by the first `close`; held while waiting so a concurrent `close` waits too.
    writer: tokio::sync::Mutex<Option<WriterThread>>,
    readers: Readers,
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
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            "initial".into(),
            MigrationType::Simple,
            include_str!("../../migrations/sqlite/0001_initial.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "attachments".into(),
            MigrationType::Simple,
            include_str!("../../migrations/sqlite/0002_attachments.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            3,
            "federal".into(),
            MigrationType::Simple,
            include_str!("../../migrations/sqlite/0003_federal.sql").into_sql_str(),
            false,
        ),
    ])
}

impl SqliteStore {
    /// Opens (creating if absent, with its parent folders) the database at `path`, brings its
    /// schema up to date and starts the writer thread. Must be called inside a Tokio runtime.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the folder cannot be created, the file cannot be put in WAL
    /// mode or the writer thread cannot be started; [`StoreError::Database`] when SQLite cannot
    /// open it; [`StoreError::Migration`] when the schema cannot be applied (for instance a
    /// database written by a newer RSMEV).
    pub async fn open(path: &Path, config: SqliteConfig) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await?;
        }
        let mut conn = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(config.busy_timeout)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .connect()
            .await?;
        let migrated = migrator().run(&mut conn).await;
        conn.close().await?;
        migrated?;

        // Refuses the file unless it is in WAL mode with `synchronous=FULL` (see `open`).
        let busy_timeout = config.busy_timeout;
        let writer_conn = {
            let path = path.to_owned();
            tokio::task::spawn_blocking(move || connection::open(&path, Access::ReadWrite, busy_timeout))
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e)))??
        };
        let readers = Readers::new(path, config.read_connections, busy_timeout);

        let stats = Arc::new(WriterStats::default());
        let (jobs, queue) = mpsc::channel(config.write_queue.max(1));
        let (finished_tx, finished) = oneshot::channel::<()>();
        let handle = {
            let stats = Arc::clone(&stats);
            let max_batch = config.max_batch;
            std::thread::Builder::new()
                .name("rsmev-sqlite-writer".into())
                .spawn(move || {
                    // Dropped when the body returns or unwinds: `close` learns either way.
                    let _finished = finished_tx;
                    writer::run(writer_conn, queue, max_batch, stats);
                })?
        };
        Ok(SqliteStore {
            path: path.to_owned(),
            jobs: RwLock::new(Some(jobs)),
            writer: tokio::sync::Mutex::new(Some(WriterThread { handle, finished })),
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
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, answer) = ClosureOp::job(f);
        self.submit(job).await?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` in a read transaction on a read-only connection, on a blocking thread.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        let lent = self.readers.lend().await?;
        match tokio::task::spawn_blocking(move || lent.read(f)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(StoreError::Closed),
        }
    }

    /// Runs `f`, one statement reading by key, on a read-only connection on the calling thread:
    /// it costs less than a hand-off to a blocking thread (see the [module docs](self)).
    async fn read_one_here<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Closed);
        }
        self.readers.lend().await?.read_one(f)
    }

    /// Test hook: occupies the writer, inside a batch of its own, until `release` fires or is
    /// dropped. Returns once the writer is held, with the hold's own answer to await.
    #[cfg(test)]
    pub(crate) async fn hold_writer(
        &self,
        release: oneshot::Receiver<()>,
    ) -> Result<oneshot::Receiver<Result<(), StoreError>>, StoreError> {
        let (entered, is_held) = oneshot::channel();
        let (job, answer) = ClosureOp::job(move |_conn: &Connection| {
            let _ = entered.send(());
            let _ = release.blocking_recv();
            Ok(())
        });
        self.submit(job).await?;
        is_held.await.map_err(|_| StoreError::Closed)?;
        Ok(answer)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn registry(&self) -> Result<Registry, StoreError> {
        self.read(reads::registry).await
    }

    async fn registry_version(&self) -> Result<i64, StoreError> {
        self.read_one_here(reads::registry_version).await
    }

    async fn put_participant(&self, p: &Participant) -> Result<(), StoreError> {
        let p = p.clone();
        self.write(move |c| ops::put_participant(c, &p)).await
    }

    async fn put_infotype(&self, t: &InfoType) -> Result<(), StoreError> {
        let t = t.clone();
        self.write(move |c| ops::put_infotype(c, &t)).await
    }

    async fn put_service(&self, s: &Service) -> Result<(), StoreError> {
        let s = s.clone();
        self.write(move |c| ops::put_service(c, &s)).await
    }

    async fn put_grant(&self, g: &Grant) -> Result<(), StoreError> {
        let g = g.clone();
        self.write(move |c| ops::put_grant(c, &g)).await
    }

    async fn revoke_grant(&self, g: &Grant) -> Result<bool, StoreError> {
        let g = g.clone();
        self.write(move |c| ops::revoke_grant(c, &g)).await
    }

    async fn replace_registry(&self, r: &Registry, xsd_sets: &[XsdSet]) -> Result<(), StoreError> {
        let (r, sets) = (r.clone(), xsd_sets.to_vec());
        self.write(move |c| ops::replace_registry(c, &r, &sets)).await
    }

    async fn put_xsd_set(&self, set: &XsdSet) -> Result<(), StoreError> {
        let set = set.clone();
        self.write(move |c| ops::put_xsd_set(c, &set)).await
    }

    async fn xsd_set(&self, name: &str) -> Result<Option<XsdSet>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| reads::xsd_set(c, &name)).await
    }

    async fn xsd_set_names(&self) -> Result<Vec<String>, StoreError> {
        self.read(reads::xsd_set_names).await
    }

    async fn accept(
        &self,
        msg: &NewMessage,
        deliveries: &[Delivery],
        limits: AcceptLimits,
        now: OffsetDateTime,
    ) -> Result<AcceptOutcome, StoreError> {
        let (msg, deliveries) = (msg.clone(), deliveries.to_vec());
        self.write(move |c| ops::accept(c, &msg, &deliveries, Some(limits), now))
            .await
    }

    async fn record_rejection(&self, r: &Rejection) -> Result<(), StoreError> {
        let r = r.clone();
        self.write(move |c| ops::record_rejection(c, &r)).await
    }

    async fn record_event(&self, e: &HistoryEvent) -> Result<(), StoreError> {
        let e = e.clone();
        self.write(move |c| ops::record_event(c, &e)).await
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
        self.write(move |c| ops::lease(c, &owner, queue, selector.as_ref(), now, lease_for))
            .await
    }

    async fn ack(
        &self,
        owner: &Mnemonic,
        target: AckTarget,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let owner = owner.clone();
        self.write(move |c| ops::ack(c, &owner, target, now)).await
    }

    async fn due_expirations(&self, now: OffsetDateTime, limit: u32) -> Result<Vec<Expiring>, StoreError> {
        self.read(move |c| reads::due_expirations(c, now, limit)).await
    }

    async fn expire(
        &self,
        expiring: &Expiring,
        status: &NewMessage,
        status_delivery: &Delivery,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (expiring, status, delivery) = (expiring.clone(), status.clone(), status_delivery.clone());
        self.write(move |c| ops::expire(c, &expiring, &status, &delivery, now))
            .await
    }

    async fn message(&self, id: Uuid) -> Result<Option<StoredMessage>, StoreError> {
        self.read_one_here(|c| reads::message(c, id)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        if self.sender()?.is_closed() {
            // The writer thread is gone (it only stops on close, or if it panicked).
            return Err(StoreError::Closed);
        }
        self.read_one_here(|c| Ok(c.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?))
            .await
    }

    async fn close(&self) {
        let mut writer = self.writer.lock().await;
        self.closed.store(true, Ordering::Release);
        // Dropping the last sender lets the writer drain what is queued, then stop.
        self.jobs.write().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(WriterThread { handle, finished }) = writer.take() {
            // Resolves (with an error: the sender is dropped) once the thread's body is over.
            let _ = finished.await;
            match tokio::task::spawn_blocking(move || handle.join()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => tracing::error!("the SQLite writer thread panicked"),
                Err(e) => tracing::error!(error = %e, "could not wait for the SQLite writer thread"),
            }
        }
        self.readers.close().await;
    }
}

#[async_trait]
impl Queries for SqliteStore {
    async fn history(&self, id: Uuid) -> Result<Vec<HistoryEvent>, StoreError> {
        self.read(move |c| reads::history(c, id)).await
    }

    async fn trace(&self, id: Uuid) -> Result<Trace, StoreError> {
        self.read(move |c| reads::trace(c, id)).await
    }

    async fn usage(&self, from: Date, to: Date) -> Result<Vec<UsageRow>, StoreError> {
        self.read(move |c| reads::usage(c, from, to)).await
    }

    async fn queue_depths(
        &self,
        owner: Option<&Mnemonic>,
        now: OffsetDateTime,
    ) -> Result<Vec<QueueDepth>, StoreError> {
        let owner = owner.cloned();
        self.read(move |c| reads::queue_depths(c, owner.as_ref(), now))
            .await
    }
}
