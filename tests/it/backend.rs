//! The backends the end-to-end tests run on, and the servers they need.
//!
//! - [`Backend::Embedded`]: SQLite in the node's data directory. Always available.
//! - [`Backend::Production`]: a fresh PostgreSQL database per node group and RabbitMQ queues
//!   under a name prefix of their own, both removed afterwards.
//!
//! `RSMEV_TEST_POSTGRES` (server URL, used to create and drop the test databases) and
//! `RSMEV_TEST_RABBITMQ` (AMQP URL) name the servers. When a variable is set, the tests that need
//! that server must reach it; when it is unset they try [`DEFAULT_POSTGRES`] /
//! [`DEFAULT_RABBITMQ`] and are skipped, with a message, if nothing answers there.

use std::time::Duration;

use rsmev_broker::amqp::{Topology, delete_everything};
use rsmev_broker::config::NodeConfig;
use rsmev_broker::node::open_store;
use rsmev_broker::store::postgres::scratch::ScratchDatabase;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// Where the tests look for PostgreSQL when `RSMEV_TEST_POSTGRES` is unset.
pub(crate) const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Where the tests look for RabbitMQ when `RSMEV_TEST_RABBITMQ` is unset.
pub(crate) const DEFAULT_RABBITMQ: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Which store and queues a test node runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Embedded,
    Production,
}

impl Backend {
    /// Whether the servers this backend needs answer. Panics when they were named in the
    /// environment and do not answer; prints why when the test is skipped.
    pub(crate) async fn available(self) -> bool {
        match self {
            Backend::Embedded => true,
            Backend::Production => postgres_server().await.is_some() && rabbitmq_server().await.is_some(),
        }
    }
}

/// The PostgreSQL server URL, if one answers (see the module docs).
pub(crate) async fn postgres_server() -> Option<String> {
    let (url, required) = match std::env::var("RSMEV_TEST_POSTGRES") {
        Ok(url) => (url, true),
        Err(_) => (DEFAULT_POSTGRES.to_owned(), false),
    };
    match PgConnection::connect(&url).await {
        Ok(conn) => {
            let _ = conn.close().await;
            Some(url)
        }
        Err(e) if !required => {
            eprintln!("skipped: no PostgreSQL at {url} ({e}); set RSMEV_TEST_POSTGRES to run this test");
            None
        }
        Err(e) => panic!("RSMEV_TEST_POSTGRES={url}: cannot connect: {e}"),
    }
}

/// The RabbitMQ URL, if one answers (see the module docs).
pub(crate) async fn rabbitmq_server() -> Option<String> {
    let (url, required) = match std::env::var("RSMEV_TEST_RABBITMQ") {
        Ok(url) => (url, true),
        Err(_) => (DEFAULT_RABBITMQ.to_owned(), false),
    };
    let connected = tokio::time::timeout(
        Duration::from_secs(5),
        lapin::Connection::connect(&url, lapin::ConnectionProperties::default()),
    )
    .await;
    match connected {
        Ok(Ok(conn)) => {
            let _ = conn.close(200, "probe".into()).await;
            Some(url)
        }
        Ok(Err(e)) if !required => {
            eprintln!("skipped: no RabbitMQ at {url} ({e}); set RSMEV_TEST_RABBITMQ to run this test");
            None
        }
        Err(_) if !required => {
            eprintln!("skipped: RabbitMQ at {url} did not answer; set RSMEV_TEST_RABBITMQ to run this test");
            None
        }
        Ok(Err(e)) => panic!("RSMEV_TEST_RABBITMQ={url}: cannot connect: {e}"),
        Err(_) => panic!("RSMEV_TEST_RABBITMQ={url}: no answer within 5 s"),
    }
}

/// Runs `f` on a runtime of its own on a thread of its own: drops may run inside a test's
/// runtime, or while a failed test unwinds.
fn on_own_runtime<F, Fut>(f: F) -> Result<(), String>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>>,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(f())
    })
    .join()
    .unwrap_or_else(|_| Err("clean-up thread panicked".to_owned()))
}

/// A database created for one test, dropped (its connections closed first) when this is dropped,
/// also when the test panics.
#[derive(Debug)]
pub(crate) struct TestDatabase {
    _scratch: ScratchDatabase,
    pub url: String,
}

impl TestDatabase {
    /// Creates `rsmev_test_<random>`. `None`, after saying so, when no server answers and
    /// `RSMEV_TEST_POSTGRES` is unset.
    pub(crate) async fn create() -> Option<TestDatabase> {
        let admin_url = postgres_server().await?;
        let scratch = ScratchDatabase::create(&admin_url, "rsmev_test")
            .await
            .unwrap_or_else(|e| panic!("creating a test database on {admin_url}: {e}"));
        Some(TestDatabase {
            url: scratch.url().to_owned(),
            _scratch: scratch,
        })
    }
}

/// The servers of one production-backed test: a database and a RabbitMQ name prefix. Dropping
/// it deletes the queues of every participant registered in the database, then the database.
#[derive(Debug)]
pub(crate) struct Production {
    pub rabbitmq_url: String,
    pub prefix: String,
    // Dropped last (after the queues, whose names it lists).
    pub database: TestDatabase,
}

impl Production {
    /// `None` when a server is missing and the test is skipped.
    pub(crate) async fn create() -> Option<Production> {
        let rabbitmq_url = rabbitmq_server().await?;
        let database = TestDatabase::create().await?;
        let prefix = format!("rsmev-test-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        Some(Production {
            rabbitmq_url,
            prefix,
            database,
        })
    }

    /// Points `config` at this database and RabbitMQ.
    pub(crate) fn configure(&self, config: &mut NodeConfig) {
        config.storage.database = self.database.url.clone();
        config.storage.max_connections = 4;
        config.rabbitmq.url = rsmev_broker::config::Secret::new(self.rabbitmq_url.clone());
        config.rabbitmq.prefix = self.prefix.clone();
        // Redelivery copies soon after a lease runs out (tests use leases of a few seconds).
        config.rabbitmq.scan_interval_ms = 200;
        config.rabbitmq.relay_interval_ms = 50;
    }
}

impl Drop for Production {
    fn drop(&mut self) {
        let (db, amqp, prefix) = (
            self.database.url.clone(),
            self.rabbitmq_url.clone(),
            self.prefix.clone(),
        );
        let cleaned = on_own_runtime(move || async move {
            // The participants, read through the store (PostgreSQL alone: no relay to start).
            let mut config = NodeConfig::default();
            config.storage.database = db;
            let store = open_store(&config).await.map_err(|e| e.to_string())?;
            let owners: Vec<_> = store
                .registry()
                .await
                .map(|r| r.participants.into_iter().map(|p| p.mnemonic).collect())
                .unwrap_or_default();
            store.close().await;
            delete_everything(&amqp, &Topology { prefix }, &owners)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        });
        if let Err(e) = cleaned {
            eprintln!("could not delete the test queues under {}: {e}", self.prefix);
        }
    }
}
