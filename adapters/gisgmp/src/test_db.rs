//! Test databases of the module on both backends: a test body runs on an SQLite file made by the node's own
//! store (WAL, as in production) and, on PostgreSQL, on a scratch database of the server named
//! by `RSMEV_TEST_POSTGRES` (a URL such as `postgres://postgres@127.0.0.1:5432/postgres`). When
//! that variable is set the server must answer; when it is unset the default server is tried and
//! the PostgreSQL half is skipped, saying so, if nothing answers.

use std::path::PathBuf;

use rsmev_broker::store::postgres::scratch::ScratchDatabase;
use rsmev_broker::store::sqlite::{SqliteConfig, SqliteStore};
use rsmev_broker::store::{AdapterDatabase, Location};

use crate::sequence::migrate;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A node's database for one test: the location, and what keeps it alive.
pub(crate) enum Database {
    /// The directory is removed when this is dropped.
    Sqlite(
        #[allow(dead_code, reason = "kept for its Drop")] tempfile::TempDir,
        PathBuf,
    ),
    Postgres(ScratchDatabase),
}

impl Database {
    /// An SQLite file made by the node's store, as `rsmev serve` makes it.
    pub(crate) async fn sqlite() -> Database {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rsmev.db");
        let store = SqliteStore::open(&path, SqliteConfig::default()).await.unwrap();
        rsmev_broker::store::Store::close(&store).await;
        Database::Sqlite(dir, path)
    }

    /// A scratch PostgreSQL database, or `None` when no server is there and none is required.
    pub(crate) async fn postgres() -> Option<Database> {
        let (admin, required) = match std::env::var("RSMEV_TEST_POSTGRES") {
            Ok(url) => (url, true),
            Err(_) => (DEFAULT_SERVER.to_owned(), false),
        };
        match ScratchDatabase::create(&admin, "rsmev_gisgmp_test").await {
            Ok(scratch) => Some(Database::Postgres(scratch)),
            Err(e) if !required => {
                eprintln!("skipped on PostgreSQL: no server at {admin} ({e}); set RSMEV_TEST_POSTGRES");
                None
            }
            Err(e) => panic!("RSMEV_TEST_POSTGRES={admin}: cannot create a test database: {e}"),
        }
    }

    pub(crate) fn location(&self) -> Location {
        match self {
            Database::Sqlite(_, path) => Location::Sqlite(path.clone()),
            Database::Postgres(scratch) => Location::Postgres(scratch.url().to_owned()),
        }
    }

    /// A new handle (its own pool, as another process would have), migrated.
    pub(crate) async fn open(&self) -> AdapterDatabase {
        let db = AdapterDatabase::open(&self.location()).await.unwrap();
        migrate(&db).await.unwrap();
        db
    }
}

/// Runs `body` on SQLite, then on PostgreSQL when there is one.
macro_rules! on_both_backends {
    ($body:ident) => {
        $body($crate::test_db::Database::sqlite().await).await;
        if let Some(pg) = $crate::test_db::Database::postgres().await {
            $body(pg).await;
        }
    };
}
pub(crate) use on_both_backends;
