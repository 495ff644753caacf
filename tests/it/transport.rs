//! The RabbitMQ transport (issue #4, point 2) where it differs from the database-only backends:
//! the outbox holds accepted messages while RabbitMQ is unreachable and drains when it returns;
//! leases take copies from the quorum queues; a copy whose entry was acked, or that is older
//! than the entry's newest copy, delivers nothing; a lease that runs out gets a new copy.
//!
//! Production backend only; skipped, with a message, without PostgreSQL and RabbitMQ (see
//! [`crate::backend`]).

use std::sync::Arc;
use std::time::Duration;

use rsmev_broker::config::Secret;
use rsmev_broker::store::{EventKind, TransportStats};

use crate::harness::*;

/// Nothing listens here.
const UNREACHABLE_RABBITMQ: &str = "amqp://guest:guest@127.0.0.1:1/%2f";

async fn production() -> Option<Arc<Production>> {
    if !Backend::Production.available().await {
        return None;
    }
    Some(Arc::new(Production::create().await?))
}

async fn stats(node: &TestNode) -> TransportStats {
    node.store()
        .transport_stats()
        .await
        .expect("a production node reports its transport")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_messages_wait_in_the_outbox_while_rabbitmq_is_unreachable_and_drain_when_it_returns() {
    let Some(p) = production().await else { return };
    let (consumer, provider) = (Participant::generate("MFC"), Participant::generate("FNS"));

    // A node whose RabbitMQ does not answer still accepts: each message waits in the outbox.
    let down = TestNode::start_with(NodeOptions::on(Backend::Production), Some(p.clone()), |c| {
        c.rabbitmq.url = Secret::new(UNREACHABLE_RABBITMQ);
    })
    .await;
    let w = World::around(down, consumer.clone(), provider.clone()).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(w.request().await);
    }
    let s = stats(&w.node).await;
    assert!(!s.connected, "{s:?}");
    assert_eq!(s.outbox, 5, "{s:?}");
    assert_eq!(s.published, 0, "{s:?}");

    // Delivery goes on from the database meanwhile; the copy of what it delivered is cancelled
    // in the outbox (it could only be discarded later).
    let first = w.provider_takes().await;
    assert_eq!(delivered(&first).sender_provided.message_id, ids[0]);
    w.provider.ack(&ids[0]).await.expect_ack();
    let s = stats(&w.node).await;
    assert_eq!((s.leased_from_database, s.outbox), (1, 4), "{s:?}");
    w.node.shutdown().await;

    // The same database with RabbitMQ back: the outbox drains into the quorum queues.
    let up = TestNode::start_with(NodeOptions::on(Backend::Production), Some(p.clone()), |_| {}).await;
    up.settle_transport().await;
    let s = stats(&up).await;
    assert!(s.connected, "{s:?}");
    assert_eq!((s.outbox, s.published), (0, 4), "{s:?}");

    // The four not yet delivered come from their copies, in order.
    let provider_client = up.client(&provider);
    for id in &ids[1..] {
        let got = provider_client.get_request(None).await;
        assert_eq!(&delivered(&got).sender_provided.message_id, id);
        provider_client.ack(id).await.expect_ack();
    }
    assert!(provider_client.get_request(None).await.request().is_none());
    let s = stats(&up).await;
    assert_eq!(
        (s.leased_from_queue, s.leased_from_database, s.stale_copies),
        (4, 0, 0),
        "{s:?}"
    );
    for id in &ids {
        let history = up.history(id.as_str()).await;
        assert_eq!(
            history.iter().filter(|e| **e == EventKind::Leased).count(),
            1,
            "{id:?}: {history:?}"
        );
        assert_eq!(history.last(), Some(&EventKind::Acked), "{id:?}: {history:?}");
    }
    up.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_that_runs_out_gets_a_new_copy_and_an_acked_entry_none() {
    let Some(p) = production().await else { return };
    let node = TestNode::start_with(
        NodeOptions {
            lease_secs: 1,
            ..NodeOptions::on(Backend::Production)
        },
        Some(p),
        |_| {},
    )
    .await;
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;
    let id = w.request().await;
    w.node.settle_transport().await;
    let first = w.provider.get_request(None).await;
    assert_eq!(delivered(&first).sender_provided.message_id, id);
    assert_eq!(stats(&w.node).await.leased_from_queue, 1);

    // No Ack: after the lease the redelivery scan writes a second copy, which delivers it again.
    eventually(50, Duration::from_millis(100), || async {
        (stats(&w.node).await.published >= 2).then_some(())
    })
    .await
    .expect("a second copy is published after the lease runs out");
    let again = w.provider.get_request(None).await;
    assert_eq!(delivered(&again).sender_provided.message_id, id);
    let s = stats(&w.node).await;
    assert_eq!((s.leased_from_queue, s.leased_from_database), (2, 0), "{s:?}");
    w.provider.ack(&id).await.expect_ack();

    // Acked: no copy is made any more, and none delivers it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    w.node.settle_transport().await;
    assert!(w.provider.get_request(None).await.request().is_none());
    let history = w.node.history(id.as_str()).await;
    assert_eq!(
        kinds_after(&history, EventKind::Queued),
        [EventKind::Leased, EventKind::Redelivered, EventKind::Acked],
        "{history:?}"
    );
    w.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_of_a_message_delivered_by_selector_and_acked_delivers_nothing() {
    let Some(p) = production().await else { return };
    let node = TestNode::start_with(NodeOptions::on(Backend::Production), Some(p), |_| {}).await;
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;
    let id = w.request().await;
    w.node.settle_transport().await;
    // A selector: RabbitMQ cannot pick by content, the database does; the copy stays queued.
    let got = w.provider.get_request(Some(&inn_request())).await;
    assert_eq!(delivered(&got).sender_provided.message_id, id);
    w.provider.ack(&id).await.expect_ack();
    assert!(w.provider.get_request(None).await.request().is_none());
    let s = stats(&w.node).await;
    assert_eq!(
        (s.leased_from_queue, s.leased_from_database, s.stale_copies),
        (0, 1, 1),
        "{s:?}"
    );
    w.node.shutdown().await;
}

/// Copies in the RabbitMQ queue `queue`, as RabbitMQ counts them.
async fn copies_in(p: &Production, queue: &str) -> u32 {
    let connection = lapin::Connection::connect(&p.rabbitmq_url, lapin::ConnectionProperties::default())
        .await
        .expect("RabbitMQ connection");
    let channel = connection.create_channel().await.expect("channel");
    let declared = channel
        .queue_declare(
            queue.into(),
            lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            lapin::types::FieldTable::default(),
        )
        .await
        .expect("the queue exists");
    let _ = connection.close(200, "done".into()).await;
    declared.message_count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_nobody_takes_leaves_its_queue_at_the_republish_age() {
    let Some(p) = production().await else { return };
    let node = TestNode::start_with(NodeOptions::on(Backend::Production), Some(p.clone()), |c| {
        c.rabbitmq.republish_after_secs = 2;
    })
    .await;
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;
    let queue = rsmev_broker::amqp::Topology {
        prefix: p.prefix.clone(),
    }
    .queue(&w.provider.who.mnemonic, rsmev_broker::store::QueueKind::Requests);
    let id = w.request().await;
    w.node.settle_transport().await;
    assert_eq!(copies_in(&p, &queue).await, 1, "the copy was published");
    // Delivered by selector from the database and acked: nobody will take the copy. It must not
    // stay in RabbitMQ for good (a provider that always uses selectors would pile them up).
    let got = w.provider.get_request(Some(&inn_request())).await;
    assert_eq!(delivered(&got).sender_provided.message_id, id);
    w.provider.ack(&id).await.expect_ack();
    eventually(80, Duration::from_millis(100), || async {
        (copies_in(&p, &queue).await == 0).then_some(())
    })
    .await
    .expect("RabbitMQ drops the copy once it is older than republish_after");
    let s = stats(&w.node).await;
    assert_eq!((s.leased_from_database, s.stale_copies), (1, 0), "{s:?}");
    w.node.shutdown().await;
}

/// The events after the first `from`.
fn kinds_after(history: &[EventKind], from: EventKind) -> Vec<EventKind> {
    history
        .iter()
        .skip_while(|e| **e != from)
        .skip(1)
        .copied()
        .collect()
}
