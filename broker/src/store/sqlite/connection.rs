//! SQLite connections as the store uses them: opening one with the store's settings, the pool
//! of read-only connections, and how SQLite's errors become [`StoreError`]s.
//!
//! The connections are `rusqlite` ones, used synchronously: a caller runs a whole unit of work
//! (a read transaction, a group-commit batch) as one call on the thread that holds the
//! connection, instead of handing every statement to a connection thread and back.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use sqlx::error::{DatabaseError, ErrorKind};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::StoreError;

/// Prepared statements kept per connection: every statement the store runs, with room to spare.
const STATEMENT_CACHE: usize = 64;

/// Whether a connection may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    ReadWrite,
    ReadOnly,
}

/// Opens a connection to the existing database at `path`. A writing connection gets
/// `synchronous=FULL` and foreign keys, and is refused unless the file is in WAL mode and the
/// setting took: the store never runs with other durability than documented.
///
/// # Errors
/// [`StoreError::Database`] when SQLite cannot open the file; [`StoreError::Io`] when a writing
/// connection is not in WAL mode with `synchronous=FULL`.
pub(super) fn open(path: &Path, access: Access, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = match access {
        Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans never depend on bound values: otherwise SQLite re-prepares a cached statement
    // whenever a value it looked at while planning (a `LIMIT ?`) is bound anew, on every call.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    if access == Access::ReadWrite {
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")?;
        // A file system without shared memory silently keeps the rollback journal; refuse it
        // rather than run with other concurrency and durability than documented.
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        let synchronous: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") || synchronous != 2 {
            return Err(StoreError::Io(std::io::Error::other(format!(
                "{}: expected journal_mode=wal and synchronous=FULL, got journal_mode={mode} and \
                 synchronous={synchronous}",
                path.display()
            ))));
        }
    }
    Ok(conn)
}

/// Runs a prepared (cached) statement that takes no parameters and returns no rows.
pub(super) fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

// ---- the read pool ------------------------------------------------------------------------------

/// Read-only connections, opened on first need, at most `size` at a time. Each read runs in one
/// read transaction on one connection, so it sees a single committed snapshot; in WAL mode it
/// never waits for the writer.
#[derive(Debug)]
pub(super) struct Readers {
    path: PathBuf,
    busy_timeout: Duration,
    size: u32,
    /// One permit per connection; closed (every acquire fails) once the store closes.
    permits: Arc<Semaphore>,
    idle: Arc<Mutex<Idle>>,
}

#[derive(Default)]
struct Idle {
    connections: Vec<Connection>,
    closed: bool,
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle")
            .field("connections", &self.connections.len())
            .field("closed", &self.closed)
            .finish()
    }
}

/// A connection taken from the pool, with its permit; given back when dropped.
pub(super) struct Lent {
    conn: Option<Connection>,
    idle: Arc<Mutex<Idle>>,
    _permit: OwnedSemaphorePermit,
}

impl Lent {
    /// Runs `f`, which must run a single statement, on the connection: one statement reads one
    /// snapshot on its own, without `BEGIN` and `COMMIT` around it.
    ///
    /// # Errors
    /// What `f` returns.
    pub(super) fn read_one<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.conn.as_ref() {
            Some(conn) => f(conn),
            None => Err(StoreError::Closed),
        }
    }

    /// Runs `f` in a read transaction on the connection.
    ///
    /// # Errors
    /// What `f` returns, or the error of beginning or ending the transaction.
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(conn) = self.conn.as_ref() else {
            return Err(StoreError::Closed);
        };
        exec(conn, "BEGIN")?;
        let result = f(conn);
        // A read transaction holds only a snapshot: ending it cannot lose anything, and it must
        // end whatever `f` returned, so the connection goes back to the pool clean.
        let end = exec(conn, "COMMIT");
        let value = result?;
        end?;
        Ok(value)
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if !idle.closed && conn.is_autocommit() {
                idle.connections.push(conn);
            }
            // Otherwise the connection is closed here (store closing, or a transaction that
            // could not be ended).
        }
    }
}

impl Readers {
    pub(super) fn new(path: &Path, size: u32, busy_timeout: Duration) -> Readers {
        let size = size.max(1);
        Readers {
            path: path.to_owned(),
            busy_timeout,
            size,
            permits: Arc::new(Semaphore::new(size as usize)),
            idle: Arc::default(),
        }
    }

    /// Takes a connection, waiting while all `size` are in use, opening one if none is idle.
    ///
    /// # Errors
    /// [`StoreError::Closed`] once [`Readers::close`] has begun; the error of opening a new
    /// connection.
    pub(super) async fn lend(&self) -> Result<Lent, StoreError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        let idle = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            if idle.closed {
                return Err(StoreError::Closed);
            }
            idle.connections.pop()
        };
        let conn = match idle {
            Some(conn) => conn,
            None => open(&self.path, Access::ReadOnly, self.busy_timeout)?,
        };
        Ok(Lent {
            conn: Some(conn),
            idle: Arc::clone(&self.idle),
            _permit: permit,
        })
    }

    /// Waits for the reads in progress, then closes every connection; later reads fail with
    /// [`StoreError::Closed`].
    pub(super) async fn close(&self) {
        // Every permit back means no read is running; reads that were waiting went first.
        let all = self.permits.acquire_many(self.size).await;
        let connections = {
            let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
            idle.closed = true;
            std::mem::take(&mut idle.connections)
        };
        self.permits.close();
        drop(all);
        for conn in connections {
            if let Err((_, e)) = conn.close() {
                tracing::warn!(error = %e, "closing an SQLite read connection failed");
            }
        }
    }
}

// ---- errors -------------------------------------------------------------------------------------

/// An error from SQLite, carried as sqlx's database error so that [`StoreError::Database`] means
/// the same on both backends.
#[derive(Debug)]
pub(super) struct SqliteError {
    message: String,
    error: rusqlite::Error,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqliteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        self.error
            .sqlite_error()
            .map(|e| Cow::Owned(e.extended_code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.error.sqlite_error().map(|e| e.extended_code) {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
                ErrorKind::UniqueViolation
            }
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => ErrorKind::ForeignKeyViolation,
            Some(ffi::SQLITE_CONSTRAINT_NOTNULL) => ErrorKind::NotNullViolation,
            Some(ffi::SQLITE_CONSTRAINT_CHECK) => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Database(sqlx::Error::Database(Box::new(SqliteError {
            message: error.to_string(),
            error,
        })))
    }
}
