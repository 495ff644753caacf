//! What a run creates on the servers it measures against: its own PostgreSQL database, and
//! with RabbitMQ the queues and exchanges its node declared; both are removed at the end.

use anyhow::Context as _;
use sqlx::Connection as _;

/// Deletes the RabbitMQ queues and exchanges the run's node declared (under `prefix`, for the
/// participants registered in `db`). Best effort: a failure is reported, not fatal.
pub(super) async fn delete_queues(db: &TempDatabase, amqp: &str, prefix: &str) {
    let cleaned = async {
        let mut conn = sqlx::PgConnection::connect(&db.url()).await?;
        let owners: Vec<String> = sqlx::query_scalar("SELECT mnemonic FROM participants")
            .fetch_all(&mut conn)
            .await?;
        let _ = conn.close().await;
        let owners: Vec<_> = owners
            .into_iter()
            .filter_map(|m| rsmev_registry::Mnemonic::new(m).ok())
            .collect();
        let topology = rsmev_broker::rabbit::Topology {
            prefix: prefix.to_owned(),
        };
        rsmev_broker::rabbit::delete_everything(amqp, &topology, &owners).await?;
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
