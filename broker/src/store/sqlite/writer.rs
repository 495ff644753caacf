//! The writer thread: the one connection that writes, and group commit.
//!
//! Callers hand the writer a [`Job`] over a bounded channel and wait on a oneshot. The writer
//! takes every job already queued (up to `max_batch`), runs them in one `BEGIN IMMEDIATE`
//! transaction, each inside its own `SAVEPOINT` so a failing operation rolls back alone, and
//! answers the callers only after `COMMIT` has returned. With `synchronous=FULL` in WAL mode,
//! `COMMIT` returns after the WAL has been fsynced, so an answer means the write is on disk; the
//! cost of that fsync is shared by every operation of the batch.
//!
//! The writer is a thread of its own, not a task: a batch is one blocking call from `BEGIN` to
//! `COMMIT`, every statement running on the thread that owns the connection. Handing each
//! statement to a connection thread and back (what an async driver does) cost two context
//! switches per statement, more than SQLite's own work.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::connection::exec;
use crate::store::StoreError;

/// One write operation waiting for the writer.
pub(super) type Job = Box<dyn WriteOp>;

/// A write operation with its caller's reply channel.
pub(super) trait WriteOp: Send {
    /// Runs the operation on the writer's connection (inside the batch's transaction) and
    /// returns what to tell the caller once the transaction's fate is known.
    fn run(self: Box<Self>, conn: &Connection) -> Done;
    /// Tells the caller its operation was not run because the batch failed.
    fn fail(self: Box<Self>, why: &str);
}

/// A job built from a closure over the writer's connection.
pub(super) struct ClosureOp<T, F> {
    f: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> ClosureOp<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    pub(super) fn job(f: F) -> (Job, oneshot::Receiver<Result<T, StoreError>>) {
        let (reply, rx) = oneshot::channel();
        (Box::new(ClosureOp { f, reply }), rx)
    }
}

impl<T, F> WriteOp for ClosureOp<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> Done {
        let ClosureOp { f, reply } = *self;
        let result = f(conn);
        let ok = result.is_ok();
        let finish: Finish = Box::new(move |failure| {
            let result = match (failure, result) {
                (Some(why), Ok(_)) => Err(batch_failed(why)),
                (_, result) => result,
            };
            // A caller that went away (cancelled) has nobody to tell; the work stands.
            let _ = reply.send(result);
        });
        Done { ok, finish }
    }

    fn fail(self: Box<Self>, why: &str) {
        let _ = self.reply.send(Err(batch_failed(why)));
    }
}

/// Called once the batch's transaction has committed (`None`) or failed (`Some(why)`).
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

/// An operation that has run, with its reply held until the commit.
pub(super) struct Done {
    /// Whether the operation succeeded (its savepoint is released rather than rolled back).
    ok: bool,
    finish: Finish,
}

/// The error each caller of a failed batch gets. Transient: retrying may succeed.
fn batch_failed(why: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(format!(
        "the write transaction failed: {why}"
    ))))
}

/// What the writer has done since the store opened.
#[derive(Debug, Default)]
pub(super) struct WriterStats {
    pub(super) transactions: AtomicU64,
    pub(super) operations: AtomicU64,
    pub(super) largest_batch: AtomicU64,
    pub(super) failed_batches: AtomicU64,
}

/// The writer thread's body: runs until every sender is dropped and the channel is empty, then
/// closes the connection.
pub(super) fn run(
    conn: Connection,
    mut jobs: mpsc::Receiver<Job>,
    max_batch: usize,
    stats: Arc<WriterStats>,
) {
    let max_batch = max_batch.max(1);
    let mut batch = Vec::with_capacity(max_batch);
    while jobs.blocking_recv_many(&mut batch, max_batch) > 0 {
        run_batch(&conn, batch.drain(..), &stats);
    }
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the SQLite writer connection failed");
    }
}

fn run_batch(conn: &Connection, mut jobs: impl ExactSizeIterator<Item = Job>, stats: &WriterStats) {
    let size = jobs.len() as u64;
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        stats.failed_batches.fetch_add(1, Ordering::Relaxed);
        let why = e.to_string();
        tracing::error!(error = %why, operations = size, "could not begin a write transaction");
        jobs.for_each(|job| job.fail(&why));
        // Should a transaction have been left open (a failed rollback earlier), end it so the
        // next batch can begin; nothing in it was reported as committed.
        if !conn.is_autocommit()
            && let Err(e) = exec(conn, "ROLLBACK")
        {
            tracing::debug!(error = %e, "rollback after a failed begin");
        }
        return;
    }

    let mut done = Vec::with_capacity(jobs.len());
    let mut broken = None;
    for job in jobs.by_ref() {
        match run_in_savepoint(conn, job) {
            Ok(d) => done.push(d),
            Err((d, why)) => {
                done.extend(d);
                broken = Some(why);
                break;
            }
        }
    }

    let failure = match broken {
        Some(why) => Some(why),
        None => exec(conn, "COMMIT").err().map(|e| e.to_string()),
    };
    match failure {
        None => {
            stats.transactions.fetch_add(1, Ordering::Relaxed);
            stats.operations.fetch_add(size, Ordering::Relaxed);
            stats.largest_batch.fetch_max(size, Ordering::Relaxed);
            done.into_iter().for_each(|d| (d.finish)(None));
        }
        Some(why) => {
            stats.failed_batches.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %why, operations = size, "a write transaction failed");
            // SQLite may already have rolled back on its own (I/O error, disk full).
            if !conn.is_autocommit()
                && let Err(e) = exec(conn, "ROLLBACK")
            {
                tracing::debug!(error = %e, "rollback after a failed batch");
            }
            done.into_iter().for_each(|d| (d.finish)(Some(&why)));
            jobs.for_each(|job| job.fail(&why));
        }
    }
}

/// Runs one job in a savepoint: released when it succeeded, rolled back when it failed.
///
/// # Errors
/// When the savepoint itself cannot be managed the transaction is unusable: the error carries
/// the job's outcome (if it ran) and why, and the whole batch fails.
fn run_in_savepoint(conn: &Connection, job: Job) -> Result<Done, (Option<Done>, String)> {
    if let Err(e) = exec(conn, "SAVEPOINT op") {
        let why = e.to_string();
        job.fail(&why);
        return Err((None, why));
    }
    let done = job.run(conn);
    let end = if done.ok {
        exec(conn, "RELEASE op")
    } else {
        exec(conn, "ROLLBACK TO op").and_then(|()| exec(conn, "RELEASE op"))
    };
    match end {
        Ok(()) => Ok(done),
        Err(e) => Err((Some(done), e.to_string())),
    }
}
