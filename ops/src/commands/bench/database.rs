//! What a run creates on the servers it measures against: its own PostgreSQL database, and
//! with RabbitMQ the queues and exchanges its node declared; both are removed at the end.

use anyhow::Context as _;
use rsmev_broker::config::{NodeConfig, Secret};
use rsmev_broker::node::open_store;

/// Deletes the RabbitMQ queues and exchanges the run's node declared (under the configured
/// prefix, for the participants registered in the configured database, read through the store).
/// Best effort: a failure is reported, not fatal.
pub(super) async fn delete_queues(config: &NodeConfig) {
    let prefix = &config.rabbitmq.prefix;
    let cleaned = async {
        // PostgreSQL alone: the node that relayed to RabbitMQ has stopped.
        let mut database_only = config.clone();
        database_only.rabbitmq.url = Secret::default();
        let store = open_store(&database_only).await?;
        let registry = store.registry().await;
        store.close().await;
        let owners: Vec<_> = registry?.participants.into_iter().map(|p| p.mnemonic).collect();
        let topology = rsmev_broker::rabbit::Topology {
            prefix: prefix.to_owned(),
        };
        rsmev_broker::rabbit::delete_everything(config.rabbitmq.url.expose(), &topology, &owners).await?;
        anyhow::Ok(())
    };
    if let Err(e) = cleaned.await {
        eprintln!("warning: could not delete the run's RabbitMQ queues under {prefix}: {e:#}");
    }
}

/// A database created for one run on a PostgreSQL server, dropped at the end.
#[derive(Debug)]
pub(super) struct TempDatabase {
    server: String,
    name: String,
}

impl TempDatabase {
    pub(super) async fn create(server: &str) -> anyhow::Result<TempDatabase> {
        use sqlx::Connection as _;
        let server = server.trim_end_matches('/').to_owned();
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let name = format!("rsmev_bench_{}_{stamp}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .with_context(|| format!("connecting to PostgreSQL at {server}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating the database {name}"))?;
        let _ = conn.close().await;
        Ok(TempDatabase { server, name })
    }

    pub(super) fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    pub(super) async fn drop_database(self) {
        use sqlx::Connection as _;
        let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{}/postgres", self.server)).await else {
            eprintln!("warning: could not drop the database {}", self.name);
            return;
        };
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await {
            eprintln!("warning: could not drop the database {}: {e}", self.name);
        }
        let _ = conn.close().await;
    }
}
