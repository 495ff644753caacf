//! Adapter state: an adapter's own tables in the node's database.
//!
//! The decision (ARCHITECTURE.md, "Adapter state"): an adapter keeps its records (the GIS GMP
//! ledger, the federal link's correlation table, the AMQP gateway's participants) in the same
//! database as the node — one backup, one transaction log, nothing else to run — but in tables
//! that only the adapter's own store module touches. `broker` never names them.
//!
//! - **One handle for both backends.** [`AdapterDatabase`] is an `sqlx::AnyPool` on the node's
//!   SQLite file or PostgreSQL database, so an adapter writes its SQL once wherever the two
//!   dialects agree (`$1` placeholders work on both; types are limited to integers, floats,
//!   text, blobs and booleans — times as RFC 3339 text, money as integer kopecks, ids as text).
//!   Where they differ, [`AdapterDatabase::backend`] tells which to use.
//! - **Own migrations, own history.** [`AdapterDatabase::migrate`] applies an adapter's
//!   [`AdapterMigration`]s in version order, each in a transaction with its record in
//!   `adapter_migrations (adapter, version, …)`; an applied migration whose text has changed is
//!   refused (checksum), as sqlx refuses the node's own. Several nodes starting at once take
//!   turns: a transaction-scoped advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite.
//! - **Table names carry the adapter's name** (`gisgmp_charges`, `smev3_links`) so two adapters
//!   never collide; the node's own tables have no such prefix.
//! - **Durability as the node's.** PostgreSQL sessions get `synchronous_commit` at least `on`;
//!   the SQLite file is in WAL mode with `synchronous=FULL`, its writes wait for the node's
//!   writer thread (busy timeout) rather than failing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool};
use sqlx::{Executor as _, Row as _};

use super::StoreError;

/// Where the node's database is: what `[storage] database` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file (embedded).
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Location {
    /// Reads `[storage] database`: empty is `data_dir/rsmev.db`, `sqlite:PATH` a file,
    /// `postgres://…` a server. `None` for anything else.
    pub fn parse(database: &str, data_dir: &Path) -> Option<Location> {
        let db = database.trim();
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            return Some(Location::Postgres(db.to_owned()));
        }
        if db.is_empty() {
            return Some(Location::Sqlite(data_dir.join("rsmev.db")));
        }
        db.strip_prefix("sqlite://")
            .or_else(|| db.strip_prefix("sqlite:"))
            .map(|p| Location::Sqlite(PathBuf::from(p)))
    }
}

/// The SQL dialect of an [`AdapterDatabase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One migration of an adapter's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterMigration {
    /// 1, 2, 3…: applied in this order, each once.
    pub version: i64,
    pub description: &'static str,
    /// The statements (several, separated by `;`), for both backends…
    pub sql: &'static str,
    /// …unless PostgreSQL needs other text.
    pub postgres_sql: Option<&'static str>,
}

impl AdapterMigration {
    fn sql_for(&self, backend: Backend) -> &'static str {
        match (backend, self.postgres_sql) {
            (Backend::Postgres, Some(sql)) => sql,
            _ => self.sql,
        }
    }
}

/// Most connections an adapter pool opens (adapters do bookkeeping, not the exchange's load).
const MAX_CONNECTIONS: u32 = 4;
/// How long an adapter's SQLite write waits for the node's writer before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An adapter's handle on the node's database. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct AdapterDatabase {
    pool: AnyPool,
    backend: Backend,
}

impl AdapterDatabase {
    /// Opens a small pool on the node's database. The node's own store must have been opened
    /// first (it creates the file and applies the node's schema).
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database cannot be reached.
    pub async fn open(location: &Location) -> Result<AdapterDatabase, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = match location {
            Location::Sqlite(path) => (
                format!("sqlite://{}?mode=rw", percent_encoded(&path.to_string_lossy())),
                Backend::Sqlite,
            ),
            Location::Postgres(url) => (url.clone(), Backend::Postgres),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| Box::pin(session_setup(conn, backend)))
            .connect(&url)
            .await?;
        Ok(AdapterDatabase { pool, backend })
    }

    /// The pool, for the adapter's own store module (its SQL, its tables).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies `adapter`'s migrations that are not applied yet, in version order, each in its
    /// own transaction together with its record. Safe when several nodes start at once.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when an applied migration's text changed, the versions are not
    /// increasing, or the database has versions this build does not know (a newer RSMEV);
    /// [`StoreError::Database`] when a statement fails (that migration is rolled back).
    pub async fn migrate(&self, adapter: &str, migrations: &[AdapterMigration]) -> Result<(), StoreError> {
        if migrations.windows(2).any(|w| w[0].version >= w[1].version) {
            return Err(StoreError::Corrupt(format!(
                "{adapter}: migration versions must increase"
            )));
        }
        let mut conn = self.pool.acquire().await?;
        // Under the same lock as the migrations: PostgreSQL's CREATE TABLE IF NOT EXISTS is not
        // safe against a concurrent one (two adapters of one node, or two nodes, starting at
        // once: "duplicate key value violates unique constraint pg_type_typname_nsp_index").
        self.begin_locked(&mut conn).await?;
        let created = conn
            .execute(
                "CREATE TABLE IF NOT EXISTS adapter_migrations (\
                    adapter     TEXT   NOT NULL, \
                    version     BIGINT NOT NULL, \
                    description TEXT   NOT NULL, \
                    checksum    TEXT   NOT NULL, \
                    applied_at  TEXT   NOT NULL, \
                    PRIMARY KEY (adapter, version))",
            )
            .await;
        match created {
            Ok(_) => conn.execute("COMMIT").await?,
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                return Err(e.into());
            }
        };
        for m in migrations {
            self.apply(&mut conn, adapter, m).await?;
        }
        let newest: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM adapter_migrations WHERE adapter = $1")
                .bind(adapter)
                .fetch_one(&mut *conn)
                .await?;
        let known = migrations.last().map_or(0, |m| m.version);
        if newest.unwrap_or(0) > known {
            return Err(StoreError::Corrupt(format!(
                "{adapter}: the database has migration {} but this build knows only up to {known} \
                 (migrated by a newer RSMEV?)",
                newest.unwrap_or(0)
            )));
        }
        Ok(())
    }

    /// Begins a transaction that no other migration of any adapter on any node runs beside: a
    /// transaction-scoped advisory lock on PostgreSQL, the write lock on SQLite.
    async fn begin_locked(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => conn.execute("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                conn.execute("BEGIN").await?;
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('rsmev adapter migrations'))::text")
                    .await?
            }
        };
        Ok(())
    }

    /// Applies one migration unless its record exists; checks the checksum if it does.
    async fn apply(
        &self,
        conn: &mut AnyConnection,
        adapter: &str,
        m: &AdapterMigration,
    ) -> Result<(), StoreError> {
        let sql = m.sql_for(self.backend);
        let checksum = checksum(sql);
        self.begin_locked(conn).await?;
        let applied = async {
            let row =
                sqlx::query("SELECT checksum FROM adapter_migrations WHERE adapter = $1 AND version = $2")
                    .bind(adapter)
                    .bind(m.version)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some(row) = row {
                let stored: String = row.try_get(0)?;
                if stored != checksum {
                    return Err(StoreError::Corrupt(format!(
                        "{adapter}: migration {} ({}) was applied with other text; a migration \
                         must never change once released",
                        m.version, m.description
                    )));
                }
                return Ok(false);
            }
            conn.execute(sqlx::raw_sql(sql)).await?;
            sqlx::query(
                "INSERT INTO adapter_migrations (adapter, version, description, checksum, applied_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(adapter)
            .bind(m.version)
            .bind(m.description)
            .bind(&checksum)
            .bind(super::encoding::encode_time(time::OffsetDateTime::now_utc()))
            .execute(&mut *conn)
            .await?;
            Ok(true)
        }
        .await;
        match applied {
            Ok(fresh) => {
                conn.execute("COMMIT").await?;
                if fresh {
                    tracing::info!(
                        adapter,
                        version = m.version,
                        description = m.description,
                        "adapter migration applied"
                    );
                }
                Ok(())
            }
            Err(e) => {
                let _ = conn.execute("ROLLBACK").await;
                Err(e)
            }
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The same durability as the node's own sessions.
async fn session_setup(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    match backend {
        Backend::Postgres => {
            conn.execute(
                "SELECT set_config('synchronous_commit', 'on', false) \
                 WHERE current_setting('synchronous_commit') = 'off'",
            )
            .await?;
        }
        Backend::Sqlite => {
            conn.execute(sqlx::AssertSqlSafe(format!(
                "PRAGMA busy_timeout = {}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
                SQLITE_BUSY_TIMEOUT.as_millis()
            )))
            .await?;
        }
    }
    Ok(())
}

/// A file path as an `sqlite://` URL's path: everything but unreserved characters and `/`
/// percent-encoded (sqlx decodes it), so `?`, `#`, `%` and spaces in a data directory are safe.
fn percent_encoded(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SHA-256 of a migration's text, hex.
fn checksum(sql: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, sql.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
