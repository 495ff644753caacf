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

// ---- the admin API seam ------------------------------------------------------------------------

const TOKEN: &str = "seam-admin-token";

/// An adapter whose only work is an admin route answering from its own table.
#[derive(Debug)]
struct Counter {
    /// Up once its migrations ran (set in `run`).
    health: HealthCell,
    name: &'static str,
    /// A schema name for its OpenAPI fragment (the node's own `Error` to provoke a collision).
    schema: &'static str,
}

impl Default for Counter {
    fn default() -> Counter {
        Counter {
            health: HealthCell::default(),
            name: "counter",
            schema: "CounterReading",
        }
    }
}

#[async_trait]
impl Adapter for Counter {
    fn name(&self) -> &'static str {
        self.name
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        MIGRATIONS
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        self.health.set(AdapterHealth::Up);
        ctx.stopped().await;
        Ok(())
    }

    fn health(&self) -> AdapterHealth {
        self.health.get()
    }

    fn admin_api(&self, database: &AdapterDatabase) -> Option<AdminApi> {
        use axum::extract::{Query, State};
        async fn reading(
            State(db): State<AdapterDatabase>,
            Query(q): Query<std::collections::HashMap<String, String>>,
        ) -> axum::Json<serde_json::Value> {
            let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM probe_events")
                .fetch_one(db.pool())
                .await
                .unwrap_or(-1);
            axum::Json(serde_json::json!({"events": events, "echo": q.get("echo")}))
        }
        let routes = axum::Router::new()
            .route("/reading", axum::routing::get(reading))
            .with_state(database.clone());
        let openapi = serde_json::json!({
            "paths": {"/reading": {"get": {
                "operationId": "counterReading",
                "responses": {"200": {"description": "the reading", "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{}", self.schema)}}}}}
            }}},
            "components": {"schemas": {self.schema: {"type": "object", "properties": {
                "events": {"type": "integer"}, "echo": {"type": ["string", "null"]}}}}}
        });
        Some(AdminApi { routes, openapi })
    }
}

fn admin_config(dir: &std::path::Path) -> NodeConfig {
    let mut c = config(dir);
    c.server.admin_token = crate::config::Secret::new(TOKEN);
    c
}

#[tokio::test]
async fn an_adapters_admin_routes_are_mounted_under_its_name_behind_the_admin_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::start(admin_config(dir.path()), vec![Arc::new(Counter::default())])
        .await
        .expect("node starts");
    wait_for_health(&node, "up").await;
    let http = reqwest::Client::new();
    let url = format!("{}/admin/v1/counter/reading?echo=hi", node.url);

    let anonymous = http.get(&url).send().await.expect("answer");
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);
    let wrong = http.get(&url).bearer_auth("guess").send().await.expect("answer");
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);

    let ok = http.get(&url).bearer_auth(TOKEN).send().await.expect("answer");
    assert_eq!(ok.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = ok.json().await.expect("JSON");
    assert_eq!(body, serde_json::json!({"events": 0, "echo": "hi"}));

    // Not at the root, nor under another name.
    for elsewhere in ["/reading", "/admin/v1/reading", "/admin/v1/other/reading"] {
        let res = http
            .get(format!("{}{elsewhere}", node.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("answer");
        assert_eq!(res.status(), reqwest::StatusCode::NOT_FOUND, "{elsewhere}");
    }

    let doc: serde_json::Value = http
        .get(format!("{}/api/v1/openapi.json", node.url))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("the document is JSON");
    let op = &doc["paths"]["/admin/v1/counter/reading"]["get"];
    assert_eq!(op["operationId"], "counterReading");
    assert_eq!(op["security"], serde_json::json!([{"adminToken": []}]));
    assert_eq!(op["tags"], serde_json::json!(["counter"]));
    assert_eq!(
        op["responses"]["401"]["$ref"],
        "#/components/responses/Unauthorized"
    );
    assert!(doc["components"]["schemas"]["CounterReading"].is_object());
    // The node's own document is still whole.
    assert!(doc["paths"]["/admin/v1/participants"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Error"].is_object());
    node.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_admin_api_that_would_shadow_the_nodes_own_stops_the_start() {
    for (counter, expected) in [
        (
            Counter {
                name: "participants",
                ..Counter::default()
            },
            "the node's own admin routes are there",
        ),
        (
            Counter {
                schema: "Error",
                ..Counter::default()
            },
            "schema `Error` is already in the document",
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let Err(refused) = Node::start(admin_config(dir.path()), vec![Arc::new(counter)]).await else {
            panic!("the node started with an admin API shadowing `{expected}`");
        };
        assert!(
            refused.to_string().contains(expected),
            "{refused} does not say `{expected}`"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let twice: Vec<Arc<dyn Adapter>> = vec![
        Arc::new(Counter::default()),
        Arc::new(Counter {
            schema: "OtherReading",
            ..Counter::default()
        }),
    ];
    let Err(refused) = Node::start(admin_config(dir.path()), twice).await else {
        panic!("the node started with two admin APIs under one prefix");
    };
    assert!(
        refused
            .to_string()
            .contains("another adapter's admin API is there"),
        "{refused}"
    );
}
