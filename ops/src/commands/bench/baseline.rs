//! What the node is compared with: the crypto+XML floor and raw RabbitMQ.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use rsmev_broker::dsig::VerifierRegistry;
use rsmev_broker::xml::Limits;
use serde::Serialize;

/// The crypto+XML floor: [`rsmev_ops::workload::hop`] (parse a signed SendRequestRequest, verify its
/// signature, build and sign the answer's `MessageMetadata`) on every core.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Floor {
    pub threads: usize,
    pub messages: u64,
    pub messages_per_sec: f64,
    /// Process CPU seconds over the run ÷ messages.
    pub cpu_seconds_per_message: f64,
}

/// Runs the floor for `time` on `available_parallelism` threads.
///
/// # Errors
/// `/proc/self/stat` is unreadable.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
pub(super) fn floor(size: usize, time: Duration) -> anyhow::Result<Floor> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let consumer = rsmev_ops::workload::p256_signer("BENCH-FLOOR-CONSUMER");
    let node = rsmev_ops::workload::p256_signer("BENCH-FLOOR-NODE");
    let message = rsmev_ops::workload::signed_send_request(size, &consumer);
    let count = AtomicU64::new(0);
    let cpu_before = super::proc::cpu_seconds_self()?;
    let start = Instant::now();
    let deadline = start + time;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let (limits, verifiers) = (Limits::default(), VerifierRegistry::default());
                let mut n = 0;
                while Instant::now() < deadline {
                    let now = time::OffsetDateTime::now_utc();
                    std::hint::black_box(rsmev_ops::workload::hop(
                        &message, &limits, now, &verifiers, &node,
                    ));
                    n += 1;
                }
                count.fetch_add(n, Ordering::Relaxed);
            });
        }
    });
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = super::proc::cpu_seconds_self()? - cpu_before;
    let messages = count.into_inner();
    Ok(Floor {
        threads,
        messages,
        messages_per_sec: messages as f64 / elapsed,
        cpu_seconds_per_message: if messages > 0 { cpu / messages as f64 } else { 0.0 },
    })
}

/// Raw RabbitMQ: persistent messages through a quorum queue, with publisher confirms and
/// manual acks.
#[derive(Debug, Clone, Serialize)]
pub(super) struct RabbitMq {
    /// Publishers, and consumers, each on its own channel.
    pub concurrency: u16,
    pub published: u64,
    pub consumed: u64,
    /// Consumed and acked messages per second.
    pub messages_per_sec: f64,
}

/// `concurrency` publishers, each publishing a message of `size` bytes and waiting for its
/// confirm before the next (as a SendRequest waits for the node), and as many consumers
/// acking each delivery, for `time`, through a new quorum queue deleted afterwards.
///
/// # Errors
/// RabbitMQ is unreachable or refuses.
#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
pub(super) async fn rabbitmq(
    url: &str,
    concurrency: u16,
    size: usize,
    time: Duration,
) -> anyhow::Result<RabbitMq> {
    let connection = tokio::time::timeout(
        Duration::from_secs(3),
        Connection::connect(url, ConnectionProperties::default()),
    )
    .await
    .context("RabbitMQ did not answer within 3 s")?
    .context("RabbitMQ is unreachable")?;
    let queue = format!("rsmev-bench-{}", std::process::id());
    let setup = connection.create_channel().await?;
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    setup
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await
        .context("declaring a quorum queue")?;

    let consumed = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(AtomicBool::new(true));
    let mut consumer_channels = Vec::new();
    for i in 0..concurrency {
        let channel = connection.create_channel().await?;
        channel.basic_qos(64, BasicQosOptions::default()).await?;
        let consumer = channel
            .basic_consume(
                queue.as_str().into(),
                format!("rsmev-bench-{i}").as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .context("consuming")?;
        let (consumed, measuring) = (consumed.clone(), measuring.clone());
        consumer.set_delegate(move |delivery: lapin::message::DeliveryResult| {
            let (consumed, measuring) = (consumed.clone(), measuring.clone());
            async move {
                if let Ok(Some(delivery)) = delivery
                    && delivery.ack(BasicAckOptions::default()).await.is_ok()
                    && measuring.load(Ordering::Relaxed)
                {
                    consumed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        consumer_channels.push(channel);
    }

    let payload = Arc::new(vec![b'x'; size]);
    let start = Instant::now();
    let deadline = start + time;
    let mut publishers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let channel = connection.create_channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        let (queue, payload) = (queue.clone(), payload.clone());
        publishers.spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                let confirm = channel
                    .basic_publish(
                        "".into(),
                        queue.as_str().into(),
                        BasicPublishOptions::default(),
                        &payload,
                        BasicProperties::default().with_delivery_mode(2),
                    )
                    .await?
                    .await?;
                if confirm.is_ack() {
                    n += 1;
                }
            }
            anyhow::Ok(n)
        });
    }
    let mut published = 0;
    while let Some(joined) = publishers.join_next().await {
        published += joined.context("a publisher")?.context("publishing")?;
    }
    let consumed_now = consumed.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    measuring.store(false, Ordering::Relaxed);
    for channel in consumer_channels {
        let _ = channel.close(200, "done".into()).await;
    }
    let _ = setup
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    let _ = connection.close(200, "done".into()).await;
    Ok(RabbitMq {
        concurrency,
        published,
        consumed: consumed_now,
        messages_per_sec: consumed_now as f64 / elapsed,
    })
}
