//! The AMQP gateway for agency systems: a participant exchanges SMEV 1.3 envelopes with the node
//! over RabbitMQ instead of HTTP. The first user of the [adapter contract](super): started by
//! the node when `[rabbitmq] url` is set and `ops` hands it over ([`AmqpGateway::from_config`]),
//! its participants kept in its own table ([`store`]).
//!
//! - **Intake.** The participant publishes signed `SendRequestRequest`, `SendResponseRequest` and
//!   `AckRequest` envelopes (any 1.3 request, in fact) to the fanout exchange `<prefix>.intake`,
//!   with the `user_id` property set to its RabbitMQ user (`<prefix>-<mnemonic>`; RabbitMQ
//!   refuses a `user_id` that is not the publishing connection's user, so it cannot be forged)
//!   and a `correlation_id` of its choice. The node consumes the quorum queue `<prefix>.intake`,
//!   runs the envelope through the same pipeline as `POST /ws` ([`Exchange::handle_from`]:
//!   signature, identity, rights, format, history, accounting) with the extra rule that the
//!   signer must be the participant the user belongs to, and publishes the answer
//!   (`SendRequestResponse` with the signed MessageMetadata, `AckResponse`, or the fault) to the
//!   participant's reply queue `<prefix>.<mnemonic>.replies` with the same `correlation_id`.
//!   The intake message is acked only after the answer is confirmed by RabbitMQ; should the node
//!   die in between, the envelope is processed again and answered as a resend is
//!   (`MessageIsAlreadySent`, `TargetMessageIsNotFound`).
//! - **Delivery.** For each participant set up with `rsmev participant amqp-setup` (which
//!   creates its inbox queue `<prefix>.<mnemonic>.inbox` and marks it in the database), the node leases messages from its requests,
//!   responses and statuses queues exactly as a GetRequest/GetResponse/GetStatus without selector
//!   would ([`Exchange::deliver`]) and publishes the signed answer envelope
//!   (`GetRequestResponse`, …) to the inbox, keeping at most `window` unread there. The
//!   participant consumes its inbox and sends an `AckRequest` through the intake, as over SOAP;
//!   without it the lease runs out and the message is delivered again.
//!
//! A participant's RabbitMQ user may read only its inbox and reply queues and write only to the
//! intake exchange (see `rsmev participant amqp-setup` and the README's production section).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use rsmev_registry::Mnemonic;
use tokio::sync::watch;

use super::{Adapter, AdapterContext, AdapterError, AdapterHealth, HealthCell};
use crate::amqp::{Topology, durable_exchange, durable_queue, quorum};
use crate::config::NodeConfig;
use crate::exchange::Exchange;
use crate::store::{AdapterDatabase, AdapterMigration, QueueKind, StoreError};

mod store;

/// How often the adapter looks for participants that have an inbox.
const DISCOVERY_INTERVAL: Duration = Duration::from_secs(5);
/// How long the delivery loop rests when no inbox got anything.
const IDLE_INTERVAL: Duration = Duration::from_millis(100);
/// How long a failed connection rests before the next attempt.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Settings of the gateway (`[rabbitmq]` in the node configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    pub url: String,
    pub topology: Topology,
    /// Most envelopes waiting unread in one inbox; the adapter delivers more as they are read.
    pub window: u32,
}

/// The RabbitMQ user of a participant: `<prefix>-<mnemonic>`.
pub fn amqp_user(topology: &Topology, participant: &Mnemonic) -> String {
    format!("{}-{}", topology.prefix, participant.as_str())
}

/// The participant a RabbitMQ user belongs to, by [`amqp_user`]'s convention.
fn participant_of(topology: &Topology, user: &str) -> Option<Mnemonic> {
    let mnemonic = user.strip_prefix(&topology.prefix)?.strip_prefix('-')?;
    Mnemonic::new(mnemonic).ok()
}

/// Declares the intake exchange and queue (idempotent).
async fn declare_intake(channel: &Channel, topology: &Topology) -> Result<(), lapin::Error> {
    channel
        .exchange_declare(
            topology.intake().as_str().into(),
            ExchangeKind::Fanout,
            durable_exchange(),
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(topology.intake().as_str().into(), durable_queue(), quorum())
        .await?;
    channel
        .queue_bind(
            topology.intake().as_str().into(),
            topology.intake().as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
}

/// Declares the intake and `participant`'s inbox and reply queues (idempotent): what
/// `rsmev participant amqp-setup` creates besides the user.
///
/// # Errors
/// RabbitMQ refuses or is unreachable.
pub async fn declare_participant(
    url: &str,
    topology: &Topology,
    participant: &Mnemonic,
) -> Result<(), lapin::Error> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    declare_intake(&channel, topology).await?;
    for queue in [topology.inbox(participant), topology.replies(participant)] {
        channel
            .queue_declare(queue.as_str().into(), durable_queue(), quorum())
            .await?;
    }
    let _ = connection.close(200, "declared".into()).await;
    Ok(())
}

/// The AMQP gateway. See the [module docs](self).
#[derive(Debug)]
pub struct AmqpGateway {
    config: Arc<GatewayConfig>,
    health: HealthCell,
}

impl AmqpGateway {
    pub fn new(config: GatewayConfig) -> AmqpGateway {
        AmqpGateway {
            config: Arc::new(config),
            health: HealthCell::default(),
        }
    }

    /// The gateway the configuration asks for: one when `[rabbitmq] url` is set.
    pub fn from_config(config: &NodeConfig) -> Option<AmqpGateway> {
        let url = config.rabbitmq.url.expose().trim();
        (!url.is_empty()).then(|| {
            AmqpGateway::new(GatewayConfig {
                url: url.to_owned(),
                topology: Topology {
                    prefix: config.rabbitmq.prefix.clone(),
                },
                window: config.rabbitmq.adapter_window.max(1),
            })
        })
    }
}

#[async_trait::async_trait]
impl Adapter for AmqpGateway {
    fn name(&self) -> &'static str {
        "amqp-gateway"
    }

    fn migrations(&self) -> &'static [AdapterMigration] {
        store::MIGRATIONS
    }

    async fn run(self: Arc<Self>, ctx: AdapterContext) -> Result<(), AdapterError> {
        run(
            &ctx.exchange,
            &ctx.database,
            Arc::clone(&self.config),
            ctx.stop_signal(),
            &self.health,
        )
        .await;
        Ok(())
    }

    fn health(&self) -> AdapterHealth {
        self.health.get()
    }
}

/// Marks `participant` as served by the gateway (what `rsmev participant amqp-setup` records),
/// applying the gateway's migrations first: the setup may run before any node has started the
/// gateway.
///
/// # Errors
/// The database failed.
pub async fn mark_participant(db: &AdapterDatabase, participant: &Mnemonic) -> Result<(), StoreError> {
    db.migrate("amqp-gateway", store::MIGRATIONS).await?;
    store::mark(db, participant).await
}

/// Runs the gateway until `stop` turns true, reconnecting after any failure.
async fn run(
    exchange: &Exchange,
    db: &AdapterDatabase,
    config: Arc<GatewayConfig>,
    mut stop: watch::Receiver<bool>,
    health: &HealthCell,
) {
    while !*stop.borrow() {
        let session = session(exchange.clone(), db, Arc::clone(&config), stop.clone(), health);
        tokio::select! {
            result = session => {
                if let Err(e) = result {
                    health.set(AdapterHealth::Degraded(format!("RabbitMQ: {e}")));
                    tracing::debug!(error = %e, "AMQP gateway: connection lost; reconnecting");
                }
            }
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY_INTERVAL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// One connection's worth of work: consume the intake, deliver to inboxes. Returns on the first
/// AMQP error.
async fn session(
    exchange: Exchange,
    db: &AdapterDatabase,
    config: Arc<GatewayConfig>,
    stop: watch::Receiver<bool>,
    health: &HealthCell,
) -> Result<(), lapin::Error> {
    let connection = Connection::connect(&config.url, ConnectionProperties::default()).await?;
    let intake = connection.create_channel().await?;
    declare_intake(&intake, &config.topology).await?;
    intake.basic_qos(16, BasicQosOptions::default()).await?;
    let replies = connection.create_channel().await?;
    replies.confirm_select(ConfirmSelectOptions::default()).await?;
    let consumer = intake
        .basic_consume(
            config.topology.intake().as_str().into(),
            "rsmev-node".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    {
        let (exchange, config, replies) = (exchange.clone(), Arc::clone(&config), replies.clone());
        consumer.set_delegate(move |delivery: lapin::message::DeliveryResult| {
            let (exchange, config, replies) = (exchange.clone(), Arc::clone(&config), replies.clone());
            async move {
                if let Ok(Some(delivery)) = delivery {
                    answer_intake(&exchange, &config.topology, &replies, delivery).await;
                }
            }
        });
    }
    tracing::info!(intake = %config.topology.intake(), "AMQP gateway connected");
    health.set(AdapterHealth::Up);
    let result = deliver_loop(&exchange, db, &config, &connection, stop).await;
    let _ = connection.close(200, "adapter stopping".into()).await;
    result
}

/// Answers one intake envelope on the sender's reply queue, then acks it.
async fn answer_intake(
    exchange: &Exchange,
    topology: &Topology,
    replies: &Channel,
    delivery: lapin::message::Delivery,
) {
    let props = &delivery.properties;
    let Some(peer) = props
        .user_id()
        .as_ref()
        .and_then(|u| participant_of(topology, u.as_str()))
    else {
        tracing::warn!(
            user = ?props.user_id(),
            "AMQP intake: message without the user_id property of a participant's user; dropped"
        );
        let _ = delivery.acker.ack(BasicAckOptions::default()).await;
        return;
    };
    let answer = exchange.handle_from(&delivery.data, &peer).await;
    let xml = answer.to_xml();
    let correlation = props
        .correlation_id()
        .clone()
        .or_else(|| props.message_id().clone())
        .unwrap_or_else(|| "".into());
    let published = async {
        replies
            .basic_publish(
                "".into(),
                topology.replies(&peer).as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                xml.as_bytes(),
                BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type("text/xml; charset=utf-8".into())
                    .with_correlation_id(correlation)
                    .with_type(answer.element_name().into()),
            )
            .await?
            .await
    };
    match published.await {
        Ok(lapin::Confirmation::Ack(None)) => {
            let _ = delivery.acker.ack(BasicAckOptions::default()).await;
        }
        other => {
            tracing::warn!(participant = %peer, outcome = ?other.map(|c| c.is_ack()), "AMQP intake: the answer could not be queued (no reply queue?); the envelope is kept for another attempt");
            tokio::time::sleep(RETRY_INTERVAL).await;
            let _ = delivery
                .acker
                .nack(BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                })
                .await;
        }
    }
}

/// Participants the adapter serves: marked in the store by `rsmev participant amqp-setup`, and
/// active in the registry.
async fn inboxes(exchange: &Exchange, db: &AdapterDatabase) -> BTreeSet<Mnemonic> {
    let (marked, view) = match (store::participants(db).await, exchange.registry_view().await) {
        (Ok(marked), Ok(view)) => (marked, view),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "AMQP gateway: cannot read its participants; will retry");
            return BTreeSet::new();
        }
    };
    marked.into_iter().filter(|m| view.is_active(m)).collect()
}

/// Fills the inboxes until `stop`.
async fn deliver_loop(
    exchange: &Exchange,
    db: &AdapterDatabase,
    config: &GatewayConfig,
    connection: &Connection,
    mut stop: watch::Receiver<bool>,
) -> Result<(), lapin::Error> {
    let channel = connection.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    let mut participants = BTreeSet::new();
    let mut discovered_at: Option<tokio::time::Instant> = None;
    loop {
        if *stop.borrow() || !connection.status().connected() {
            return Ok(());
        }
        if discovered_at.is_none_or(|t| t.elapsed() >= DISCOVERY_INTERVAL) {
            participants = inboxes(exchange, db).await;
            discovered_at = Some(tokio::time::Instant::now());
        }
        let mut delivered = 0;
        for p in &participants {
            delivered += fill_inbox(exchange, config, &channel, p).await?;
        }
        if delivered == 0 {
            tokio::select! {
                () = tokio::time::sleep(IDLE_INTERVAL) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Delivers to `participant`'s inbox until its queues are empty or the inbox holds `window`
/// unread envelopes. Returns how many were delivered.
async fn fill_inbox(
    exchange: &Exchange,
    config: &GatewayConfig,
    channel: &Channel,
    participant: &Mnemonic,
) -> Result<u32, lapin::Error> {
    let inbox = config.topology.inbox(participant);
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let waiting = channel
        .queue_declare(inbox.as_str().into(), passive, FieldTable::default())
        .await?
        .message_count();
    let mut room = config.window.saturating_sub(waiting);
    let mut delivered = 0;
    for queue in QueueKind::ALL {
        while room > 0 {
            let envelope = match exchange.deliver(participant, queue).await {
                Ok(Some(envelope)) => envelope,
                Ok(None) => break,
                Err(fault) => {
                    tracing::warn!(%participant, fault = %fault.string, "AMQP delivery: cannot lease");
                    return Ok(delivered);
                }
            };
            let confirmation = channel
                .basic_publish(
                    "".into(),
                    inbox.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..BasicPublishOptions::default()
                    },
                    envelope.to_xml().as_bytes(),
                    BasicProperties::default()
                        .with_delivery_mode(2)
                        .with_content_type("text/xml; charset=utf-8".into())
                        .with_type(envelope.element_name().into()),
                )
                .await?
                .await?;
            if !matches!(confirmation, lapin::Confirmation::Ack(None)) {
                // Not stored: the lease runs out and the message is delivered again.
                tracing::warn!(%participant, "AMQP delivery: the inbox refused a message");
                return Ok(delivered);
            }
            delivered += 1;
            room -= 1;
        }
    }
    Ok(delivered)
}
