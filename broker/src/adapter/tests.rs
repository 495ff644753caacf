//! The adapter contract on a real node (embedded store, port 0): an adapter's migrations are
//! applied before it runs, it works through the exchange like a participant, the node waits for
//! it on shutdown before closing the store, and a failing adapter fails alone.

use std::sync::atomic::{AtomicBool, Ordering};

use rsmev_registry::Mnemonic;

use super::*;
use crate::config::NodeConfig;
use crate::envelope::Envelope;
use crate::node::Node;
use crate::store::Location;

const MIGRATIONS: &[AdapterMigration] = &[AdapterMigration {
    version: 1,
    description: "what the probe saw",
    sql: "CREATE TABLE probe_events (event TEXT NOT NULL)",
    postgres_sql: None,
}];

/// An adapter that records what happens to it in its own table.
#[derive(Debug, Default)]
struct Probe {
    health: HealthCell,
    fail: bool,
    ran: AtomicBool,
}

async fn record(db: &AdapterDatabase, event: &str) {
    sqlx::query("INSERT INTO probe_events (event) VALUES ($1)")
        .bind(event)
        .execute(db.pool())
        .await
        .expect("the probe's own table exists (its migration ran first)");
}

#[async_trait]
impl Adapter for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        MIGRATIONS
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        self.ran.store(true, Ordering::SeqCst);
        if self.fail {
            return Err(AdapterError::Failed {
                adapter: "probe",
                problem: "upstream refused the credentials".into(),
            });
        }
        record(&ctx.database, "started").await;
        // Into the intake like any participant: an envelope that is not one is refused with a
        // fault, as it would be over SOAP. No way around the checks exists.
        let answer = ctx
            .exchange
            .handle_from(b"<not-an-envelope/>", &Mnemonic::new("PROBE").expect("mnemonic"))
            .await;
        if matches!(answer, Envelope::Fault(_)) {
            record(&ctx.database, "refused").await;
        }
        self.health.set(AdapterHealth::Up);
        ctx.stopped().await;
        // Still allowed to write after the stop signal: the store closes only after run returns.
        record(&ctx.database, "stopping").await;
        Ok(())
    }

    fn health(&self) -> AdapterHealth {
        self.health.get()
    }
}

fn config(dir: &std::path::Path) -> NodeConfig {
    let mut c = NodeConfig::default();
    c.storage.data_dir = dir.to_owned();
    c.server.listen = ([127, 0, 0, 1], 0).into();
    c
}

async fn events(dir: &std::path::Path) -> Vec<String> {
    let db = AdapterDatabase::open(&Location::Sqlite(dir.join("rsmev.db")))
        .await
        .expect("database");
    let events = sqlx::query_scalar("SELECT event FROM probe_events ORDER BY rowid")
        .fetch_all(db.pool())
        .await
        .expect("events");
    db.close().await;
    events
}

async fn wait_for_health(node: &crate::node::RunningNode, want: &str) {
    for _ in 0..200 {
        if node.adapters().health().iter().all(|(_, h)| h.as_str() == want) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("adapters never became {want}: {:?}", node.adapters().health());
}

#[tokio::test]
async fn an_adapter_runs_after_its_migrations_and_the_node_waits_for_it_before_closing_the_store() {
    // A data directory whose name a URL would misread.
    let base = tempfile::tempdir().expect("tempdir");
    let dir = base.path().join("data ?#%");
    let probe = Arc::new(Probe::default());
    let node = Node::start(config(&dir), vec![probe.clone()])
        .await
        .expect("node starts");
    wait_for_health(&node, "up").await;
    assert_eq!(node.adapters().health(), vec![("probe", AdapterHealth::Up)]);
    node.shutdown().await.expect("clean shutdown");

    assert_eq!(events(&dir).await, ["started", "refused", "stopping"]);
    assert_eq!(
        probe.health(),
        AdapterHealth::Up,
        "the adapter's own cell is untouched"
    );
}

#[tokio::test]
async fn a_failing_adapter_fails_alone_and_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let failing = Arc::new(Probe {
        fail: true,
        ..Probe::default()
    });
    let node = Node::start(config(dir.path()), vec![failing.clone()])
        .await
        .expect("node starts");
    wait_for_health(&node, "failed").await;
    let health = node.adapters().health();
    assert_eq!(
        health[0].1.detail(),
        Some("probe: upstream refused the credentials")
    );
    assert!(failing.ran.load(Ordering::SeqCst));
    // The node goes on.
    node.exchange
        .store()
        .ping()
        .await
        .expect("the store still answers");
    node.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_node_without_adapters_opens_no_adapter_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::start(config(dir.path()), Vec::new())
        .await
        .expect("node starts");
    assert!(node.adapters().is_empty());
    node.shutdown().await.expect("clean shutdown");
    // No adapter ran, so no adapter history was created.
    let db = AdapterDatabase::open(&Location::Sqlite(dir.path().join("rsmev.db")))
        .await
        .expect("database");
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'adapter_migrations'")
            .fetch_all(db.pool())
            .await
            .expect("catalogue");
    assert!(tables.is_empty());
    db.close().await;
}
