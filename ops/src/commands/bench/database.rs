//! What a run creates on the servers it measures against: its own PostgreSQL database, and
//! with RabbitMQ the queues and exchanges its node declared; both are removed at the end.

use anyhow::Context as _;
use rsmev_broker::config::{NodeConfig, Secret};
use rsmev_broker::node::open_store;
use rsmev_broker::store::postgres::scratch::ScratchDatabase;

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
        let topology = rsmev_broker::amqp::Topology {
            prefix: prefix.to_owned(),
        };
        rsmev_broker::amqp::delete_everything(config.rabbitmq.url.expose(), &topology, &owners).await?;
        anyhow::Ok(())
    };
    if let Err(e) = cleaned.await {
        eprintln!("warning: could not delete the run's RabbitMQ queues under {prefix}: {e:#}");
    }
}

/// A database created for one run on a PostgreSQL server, dropped at the end.
#[derive(Debug)]
pub(super) struct TempDatabase(ScratchDatabase);

impl TempDatabase {
    /// `rsmev_bench_<random>` on `server` (`postgres://user@host:port`, no database).
    pub(super) async fn create(server: &str) -> anyhow::Result<TempDatabase> {
        let server = server.trim_end_matches('/');
        ScratchDatabase::create(&format!("{server}/postgres"), "rsmev_bench")
            .await
            .map(TempDatabase)
            .with_context(|| format!("creating a database on PostgreSQL at {server}"))
    }

    pub(super) fn url(&self) -> String {
        self.0.url().to_owned()
    }

    pub(super) async fn drop_database(self) {
        let name = self.0.name().to_owned();
        if let Err(e) = self.0.drop_now().await {
            eprintln!("warning: could not drop the database {name}: {e}");
        }
    }
}
