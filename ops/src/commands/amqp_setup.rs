//! `rsmev participant amqp-setup`: a participant's RabbitMQ user, permissions and queues for the
//! AMQP gateway (see `rsmev_broker::adapter::amqp_gateway`).
//!
//! Users and permissions go through the RabbitMQ management HTTP API (`PUT /api/users/…`,
//! `PUT /api/permissions/…`); the queues are declared over AMQP with the node's own RabbitMQ
//! URL; last, the participant is marked in the database, and from then on the nodes deliver
//! its messages to its inbox instead of waiting for GetRequest. Running it again is harmless: the user's password is reset (to the given or a new one),
//! permissions and queues stay as they are.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use rsmev_broker::adapter::amqp_gateway::{amqp_user, declare_participant, mark_participant};
use rsmev_broker::amqp::Topology;
use rsmev_broker::store::{AdapterDatabase, Location};

use super::store::{LocalStore, Open};
use crate::cli::AmqpSetupArgs;

/// `^…$` around `name` with the regex metacharacters RabbitMQ permissions would see escaped.
fn exactly(names: &[String]) -> String {
    let escaped: Vec<String> = names
        .iter()
        .map(|n| {
            n.chars()
                .flat_map(|c| {
                    let special = ".^$*+?()[]{}|\\".contains(c);
                    special.then_some('\\').into_iter().chain([c])
                })
                .collect()
        })
        .collect();
    format!("^({})$", escaped.join("|"))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) async fn run(args: AmqpSetupArgs) -> anyhow::Result<ExitCode> {
    LocalStore::with(&args.data, Open::Existing, async |local| {
        let url = local.config.rabbitmq.url.expose().trim().to_owned();
        if url.is_empty() {
            bail!("the node has no RabbitMQ: set [rabbitmq] url (or pass --rabbitmq URL)");
        }
        let registry = local.store.registry().await?;
        if registry.participant(&args.mnemonic).is_none() {
            bail!("participant `{}` is not registered on this node", args.mnemonic);
        }
        let topology = Topology {
            prefix: local.config.rabbitmq.prefix.clone(),
        };
        let user = amqp_user(&topology, &args.mnemonic);
        let password = args
            .password
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let api = args.management_url.trim_end_matches('/');
        let http = reqwest::Client::new();
        let put = async |path: String, body: serde_json::Value| -> anyhow::Result<()> {
            let response = http
                .put(format!("{api}{path}"))
                .basic_auth(&args.management_user, Some(&args.management_password))
                .json(&body)
                .send()
                .await
                .with_context(|| format!("the RabbitMQ management API at {api} does not answer"))?;
            let status = response.status();
            if !status.is_success() {
                let text = response.text().await.unwrap_or_default();
                bail!("RabbitMQ management API: PUT {path}: {status}: {text}");
            }
            Ok(())
        };
        put(
            format!("/api/users/{}", percent_encode(&user)),
            serde_json::json!({ "password": password, "tags": "" }),
        )
        .await?;
        let read = exactly(&[topology.inbox(&args.mnemonic), topology.replies(&args.mnemonic)]);
        let write = exactly(&[topology.intake()]);
        put(
            format!(
                "/api/permissions/{}/{}",
                percent_encode(&args.vhost),
                percent_encode(&user)
            ),
            serde_json::json!({ "configure": "^$", "write": write, "read": read }),
        )
        .await?;
        declare_participant(&url, &topology, &args.mnemonic)
            .await
            .context("declaring the participant's queues")?;
        // Last: from now on the nodes fill the inbox.
        let location = Location::parse(&local.config.storage.database, &local.config.storage.data_dir)
            .context("the configured database")?;
        if matches!(location, Location::Sqlite(_)) {
            bail!("the AMQP gateway needs the PostgreSQL store (and RabbitMQ): set [storage] database");
        }
        let db = AdapterDatabase::open(&location).await?;
        let marked = mark_participant(&db, &args.mnemonic).await;
        db.close().await;
        marked?;

        outln!("AMQP gateway ready for {}:", args.mnemonic);
        outln!("  user         {user}");
        if args.password.is_none() {
            outln!("  password     {password}   (shown once; run again to set a new one)");
        }
        outln!("  vhost        {}", args.vhost);
        outln!(
            "  publish to   exchange {}  (set user_id={user} and a correlation_id)",
            topology.intake()
        );
        outln!("  answers in   queue {}", topology.replies(&args.mnemonic));
        outln!("  messages in  queue {}", topology.inbox(&args.mnemonic));
        outln!("  permissions  configure ^$  write {write}  read {read}");
        Ok(ExitCode::SUCCESS)
    })
    .await
}
