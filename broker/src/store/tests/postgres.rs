//! The PostgreSQL backend: the contract suite on a fresh database per test, and what only a
//! shared server has: several nodes (here, several [`PostgresStore`]s, each with its own pool)
//! on one database at once, concurrent migrations, the server's durability settings.
//!
//! The server is `RSMEV_TEST_POSTGRES` (a URL such as `postgres://postgres@127.0.0.1:5432/postgres`;
//! its database is only used to create and drop the test databases). When that variable is set
//! the tests must reach it and fail otherwise; when it is unset they try
//! [`DEFAULT_SERVER`] and are skipped, with a message, if nothing answers there.

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

use super::*;
use crate::store::postgres::scratch::{ScratchDatabase, with_database};
use crate::store::postgres::{PostgresConfig, PostgresStore};

/// Where the tests look for a server when `RSMEV_TEST_POSTGRES` is unset.
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A small pool: tests run in parallel, and each node of a multi-node test has its own.
fn config() -> PostgresConfig {
    PostgresConfig {
        max_connections: 4,
        ..PostgresConfig::default()
    }
}

/// A database created for one test, dropped when this is dropped, also when the test panics.
pub(super) struct TestDatabase {
    scratch: ScratchDatabase,
    admin_url: String,
    /// The URL of the new database.
    url: String,
}

impl TestDatabase {
    /// Creates `rsmev_test_<random>`. `None`, after saying so, when no server answers and
    /// `RSMEV_TEST_POSTGRES` is unset.
    ///
    /// # Panics
    /// When `RSMEV_TEST_POSTGRES` is set and its server cannot be used.
    pub(super) async fn create() -> Option<TestDatabase> {
        let (admin_url, required) = match std::env::var("RSMEV_TEST_POSTGRES") {
            Ok(url) => (url, true),
            Err(_) => (DEFAULT_SERVER.to_owned(), false),
        };
        match ScratchDatabase::create(&admin_url, "rsmev_test").await {
            Ok(scratch) => Some(TestDatabase {
                url: scratch.url().to_owned(),
                scratch,
                admin_url,
            }),
            Err(e) if !required => {
                eprintln!(
                    "skipped: no PostgreSQL at {admin_url} ({e}); set RSMEV_TEST_POSTGRES to a \
                     server URL to run the PostgreSQL store tests"
                );
                None
            }
            Err(e) => panic!("RSMEV_TEST_POSTGRES={admin_url}: cannot create a test database: {e}"),
        }
    }

    /// A connection to the server's administrative database.
    async fn admin(&self) -> PgConnection {
        PgConnection::connect(&self.admin_url).await.unwrap()
    }

    /// A node: a store with its own pool on this database.
    async fn node(&self) -> PostgresStore {
        PostgresStore::connect(&self.url, config()).await.unwrap()
    }
}

/// A store on a new database (dropped with the fixture), or `None` when no server is available
/// and none is required.
pub(super) async fn fresh() -> Option<Fixture> {
    let db = TestDatabase::create().await?;
    let store = db.node().await;
    Some(Fixture {
        store: Arc::new(store),
        _keep: Box::new(db),
    })
}

contract_tests!(fresh);

// ---- several nodes on one database ----------------------------------------------------------------

/// Two nodes on one fresh database.
async fn two_nodes() -> Option<(TestDatabase, [Arc<dyn Store>; 2])> {
    let db = TestDatabase::create().await?;
    let a: Arc<dyn Store> = Arc::new(db.node().await);
    let b: Arc<dyn Store> = Arc::new(db.node().await);
    Some((db, [a, b]))
}

#[test]
fn with_database_replaces_only_the_database() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
        "postgres://u:p@h:5432/x?sslmode=disable"
    );
    assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_leasing_one_queue_deliver_every_entry_exactly_once() {
    let Some((_db, nodes)) = two_nodes().await else {
        return;
    };
    const N: u128 = 120;
    for n in 1..=N {
        send(&*nodes[(n % 2) as usize], &request(n, "MFC", None), t(0)).await;
    }

    // Four consumers per node, each leasing and acking until the queue looks empty to it. The
    // lease runs far longer than the test, so a second delivery can only be a double lease.
    let consumers: Vec<_> = (0..8)
        .map(|i| {
            let node = Arc::clone(&nodes[i % 2]);
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(leased) = node
                    .lease(&m("FNS"), QueueKind::Requests, None, t(1), LEASE)
                    .await
                    .unwrap()
                {
                    let target = AckTarget {
                        message_id: leased.message.message_id,
                        accepted: true,
                    };
                    assert!(node.ack(&m("FNS"), target, t(2)).await.unwrap());
                    got.push((leased.message.message_id, leased.attempt));
                }
                got
            })
        })
        .collect();
    let mut delivered = Vec::new();
    for c in consumers {
        delivered.extend(c.await.unwrap());
    }
    delivered.sort();
    let expected: Vec<_> = (1..=N).map(|n| (id(n), 1)).collect();
    assert_eq!(
        delivered, expected,
        "each entry delivered once, on its first attempt"
    );

    // Acked entries are gone for good, on both nodes, long after any lease would have run out.
    for node in &nodes {
        assert_eq!(lease_id(&**node, "FNS", None, t(10_000)).await, None);
        assert_eq!(node.queue_depths(None, t(10_000)).await.unwrap(), []);
    }
    for n in 1..=N {
        assert_eq!(
            events(&nodes[0].history(id(n)).await.unwrap()),
            ["received", "accepted", "queued", "leased", "acked"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_accepting_at_once_keep_the_quota_and_accept_a_message_id_once() {
    let Some((_db, nodes)) = two_nodes().await else {
        return;
    };
    let quota = AcceptLimits { queue_quota: 5 };
    let senders: Vec<_> = (1..=40u128)
        .map(|n| {
            let node = Arc::clone(&nodes[(n % 2) as usize]);
            tokio::spawn(async move {
                let to_fns = [to("FNS", QueueKind::Requests, None)];
                node.accept(&request(n, "MFC", None), &to_fns, quota, t(0))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut accepted = 0;
    for s in senders {
        match s.await.unwrap() {
            AcceptOutcome::Accepted { .. } => accepted += 1,
            AcceptOutcome::Overflow { owner, queue } => {
                assert_eq!((owner, queue), (m("FNS"), QueueKind::Requests));
            }
            AcceptOutcome::Duplicate => panic!("every MessageID here is new"),
        }
    }
    assert_eq!(accepted, 5);
    assert_eq!(
        nodes[1].queue_depths(None, t(0)).await.unwrap(),
        [depth("FNS", QueueKind::Requests, 5, 0)]
    );

    // The same MessageID sent to both nodes at once, many times: stored once.
    let copies: Vec<_> = (0..10)
        .map(|i| {
            let node = Arc::clone(&nodes[i % 2]);
            tokio::spawn(async move {
                let to_mvd = [to("MVD", QueueKind::Requests, None)];
                node.accept(&request(100, "MFC", None), &to_mvd, LIMITS, t(1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for c in copies {
        outcomes.push(c.await.unwrap());
    }
    let stored = outcomes
        .iter()
        .filter(|o| matches!(o, AcceptOutcome::Accepted { .. }))
        .count();
    assert_eq!(stored, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, AcceptOutcome::Accepted { .. } | AcceptOutcome::Duplicate))
    );
    assert_eq!(
        events(&nodes[0].history(id(100)).await.unwrap()),
        ["received", "accepted", "queued"]
    );
    let usage = nodes[0]
        .usage(date!(2025 - 03 - 01), date!(2025 - 03 - 01))
        .await
        .unwrap();
    assert_eq!(usage.iter().map(|u| u.count).sum::<u64>(), 5 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_expiring_one_entry_notify_the_sender_once() {
    let Some((_db, nodes)) = two_nodes().await else {
        return;
    };
    let mut msg = request(1, "MFC", None);
    msg.eol = Some(t(30));
    send(&*nodes[0], &msg, t(0)).await;
    let due = nodes[1].due_expirations(t(31), 10).await.unwrap().pop().unwrap();

    let workers: Vec<_> = (10..18u128)
        .map(|n| {
            let (node, due) = (Arc::clone(&nodes[(n % 2) as usize]), due.clone());
            tokio::spawn(async move {
                let status_to = to("MFC", QueueKind::Responses, None);
                node.expire(&due, &eol_status(n, 1), &status_to, t(31))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for w in workers {
        wins += usize::from(w.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert_eq!(
        nodes[0].queue_depths(None, t(31)).await.unwrap(),
        [depth("MFC", QueueKind::Responses, 1, 0)]
    );
    let history = nodes[1].history(id(1)).await.unwrap();
    assert_eq!(
        events(&history),
        ["received", "accepted", "queued", "expired", "response-accepted"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_acking_one_message_remove_it_once() {
    let Some((_db, nodes)) = two_nodes().await else {
        return;
    };
    // The message sits in two queues of the same owner: an Ack removes both entries.
    let both = [
        to("FNS", QueueKind::Requests, None),
        to("FNS", QueueKind::Responses, None),
    ];
    let outcome = nodes[0]
        .accept(&request(1, "MFC", None), &both, LIMITS, t(0))
        .await
        .unwrap();
    assert!(matches!(outcome, AcceptOutcome::Accepted { .. }));

    let acks: Vec<_> = (0..8)
        .map(|i| {
            let node = Arc::clone(&nodes[i % 2]);
            tokio::spawn(async move {
                let target = AckTarget {
                    message_id: id(1),
                    accepted: true,
                };
                node.ack(&m("FNS"), target, t(1)).await.unwrap()
            })
        })
        .collect();
    let mut removed = 0;
    for a in acks {
        removed += usize::from(a.await.unwrap());
    }
    assert_eq!(removed, 1);
    assert_eq!(nodes[1].queue_depths(None, t(1)).await.unwrap(), []);
    let history = nodes[0].history(id(1)).await.unwrap();
    let acked: Vec<_> = history
        .iter()
        .filter(|e| e.event == EventKind::Acked)
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(acked, ["FNS/requests", "FNS/responses"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_apply_the_schema_once() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let url = Arc::new(db.url.clone());
    let starting: Vec<_> = (0..4)
        .map(|_| {
            let url = Arc::clone(&url);
            tokio::spawn(async move { PostgresStore::connect(&url, config()).await })
        })
        .collect();
    let mut nodes = Vec::new();
    for s in starting {
        nodes.push(s.await.unwrap().unwrap());
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(nodes[3].pool())
        .await
        .unwrap();
    let schema: Vec<i64> = crate::store::postgres::migrator()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(applied, schema, "every migration applied exactly once");
    for node in &nodes {
        node.ping().await.unwrap();
    }
}

// ---- the server's side ----------------------------------------------------------------------------

#[tokio::test]
async fn sessions_commit_durably_even_on_an_asynchronous_database_and_never_idle_in_a_transaction() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let mut admin = db.admin().await;
    sqlx::query(AssertSqlSafe(format!(
        "ALTER DATABASE {} SET synchronous_commit = off",
        db.scratch.name()
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let node = db.node().await;
    let mut conn = node.pool().acquire().await.unwrap();
    let setting: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(setting, "on");
    let idle: String = sqlx::query_scalar("SHOW idle_in_transaction_session_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(idle, "1min");
}

#[tokio::test]
async fn history_cannot_be_changed_or_removed_in_the_database() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let node = db.node().await;
    send(&node, &request(1, "MFC", None), t(0)).await;
    for sql in [
        "UPDATE history SET actor = 'someone else'",
        "DELETE FROM history",
        "TRUNCATE history",
    ] {
        let refused = sqlx::query(sql).execute(node.pool()).await;
        let message = refused.expect_err(sql).to_string();
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    assert_eq!(
        events(&node.history(id(1)).await.unwrap()),
        ["received", "accepted", "queued"]
    );
}

// ---- configuration ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_node_opens_postgres_when_its_database_url_says_so() {
    use crate::config::NodeConfig;
    use crate::node::{NodeError, open_store};

    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let mut config = NodeConfig::default();
    config.storage.max_connections = 2;
    // Both spellings of the scheme name the same server.
    let spelled = db.url.replacen("postgres://", "postgresql://", 1);
    for url in [db.url.clone(), spelled] {
        config.storage.database = url;
        let store = open_store(&config).await.unwrap();
        assert!(format!("{store:?}").starts_with("PostgresStore"), "{store:?}");
        store.ping().await.unwrap();
        store.close().await;
    }
    // What the node wrote is in the test database, where another node sees it.
    config.storage.database = db.url.clone();
    let store = open_store(&config).await.unwrap();
    send(&*store, &request(1, "MFC", None), t(0)).await;
    assert!(db.node().await.message(id(1)).await.unwrap().is_some());

    config.storage.database = "mysql://localhost/rsmev".into();
    let refused = open_store(&config).await;
    assert!(
        matches!(refused, Err(NodeError::UnsupportedDatabase(_))),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapters_migrating_a_fresh_database_at_once_all_succeed_on_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    adapters_migrating_a_fresh_database_at_once_all_succeed(Location::Postgres(db.url.clone())).await;
}

#[tokio::test]
async fn adapter_migrations_apply_once_and_refuse_changes_on_postgres() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let store = db.node().await;
    adapter_migrations_apply_once_and_refuse_changes(Location::Postgres(db.url.clone())).await;
    store.close().await;
}
