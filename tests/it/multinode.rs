//! Several nodes on one PostgreSQL database (issue #4, point 4), black-box over HTTP: two
//! in-process nodes, each with its own directory, key and port, share the queues of one fresh
//! database — and, in the `rabbitmq::` variants, the same RabbitMQ quorum queues. What one node
//! accepts the other delivers, exactly once; a MessageID known to one is a duplicate on the
//! other; a lease that runs out on one is redelivered by the other.
//!
//! Servers: see [`crate::backend`] (skipped, with a message, when absent and not required).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsmev_broker::admin::Admin;
use rsmev_broker::dsig::Certificate;
use rsmev_broker::envelope::MessageId;
use rsmev_broker::node::{Node, RunningNode};
use rsmev_broker::store::{EventKind, Store};
use rsmev_registry::{InfoType, InfoTypeKind};

use crate::harness::*;

/// One node of the cluster: its own directory, key and port, the shared database.
struct Peer {
    node: RunningNode,
    dir: tempfile::TempDir,
    certificate: Certificate,
    answers: Arc<Mutex<Vec<String>>>,
}

/// What the nodes of a test share: a database, and on the production backend RabbitMQ queues.
enum Cluster {
    Database(TestDatabase),
    Production(Production),
}

impl Cluster {
    /// `None` (the test is skipped) when a server is missing.
    async fn create(backend: Backend) -> Option<Cluster> {
        match backend {
            Backend::Embedded => Some(Cluster::Database(TestDatabase::create().await?)),
            Backend::Production => Some(Cluster::Production(Production::create().await?)),
        }
    }

    fn configure(&self, config: &mut rsmev_broker::config::NodeConfig) {
        match self {
            Cluster::Database(db) => config.storage.database = db.url.clone(),
            Cluster::Production(p) => p.configure(config),
        }
    }
}

/// Runs a test of this file on PostgreSQL alone (`postgres_…`) and on PostgreSQL + RabbitMQ
/// (`rabbitmq_…`). (`Backend::Embedded` stands for "no RabbitMQ" here: SQLite cannot be shared.)
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(crate::backend::Backend::Embedded).await;
                }
            )*
        }
        mod rabbitmq {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(crate::backend::Backend::Production).await;
                }
            )*
        }
    };
}

on_both_backends! {
    two_nodes_on_one_database_deliver_every_request_exactly_once,
    a_lease_that_runs_out_on_one_node_is_redelivered_by_the_other,
}

impl Peer {
    async fn start(cluster: &Cluster, lease_secs: u64) -> Peer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        let mut config = node_config(
            &data,
            &NodeOptions {
                lease_secs,
                ..NodeOptions::default()
            },
        );
        cluster.configure(&mut config);
        config.storage.max_connections = 4;
        let adapters = crate::harness::wired_adapters(&config);
        let node = Node::start(config, adapters).await.expect("the node starts");
        let pem = std::fs::read(data.join("node-cert.pem")).expect("the node wrote its certificate");
        Peer {
            node,
            dir,
            certificate: Certificate::from_pem_or_der(&pem).expect("node certificate"),
            answers: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.node.exchange.store()
    }

    fn admin(&self) -> Admin<'_> {
        Admin::new(self.store().as_ref(), self.dir.path().join("data").join("xsd"))
    }

    /// A client of this node signing as `who`; every answer must carry this node's signature.
    fn client(&self, who: &Participant) -> Client {
        Client::new(
            &self.node.url,
            who.clone(),
            self.answers.clone(),
            Some(self.certificate.clone()),
        )
    }

    async fn history(&self, id: &MessageId) -> Vec<EventKind> {
        let events = self
            .store()
            .history(uuid(id.as_str()))
            .await
            .expect("history readable");
        kinds(&events)
    }
}

/// Registers, through `peer`, the provider `FNS` of `InnRequest` and `InnResponse` under format
/// control (the XSD set `inn`, stored in the shared database) and the `consumers` granted
/// `InnRequest`.
async fn registry(peer: &Peer, provider: &Participant, consumers: &[Participant]) {
    let admin = peer.admin();
    let source = peer.dir.path().join("xsd-src");
    std::fs::create_dir_all(&source).expect("xsd folder");
    std::fs::write(source.join("inn.xsd"), INN_XSD).expect("xsd file");
    admin.put_xsd_set("inn", &source).await.expect("XSD set");
    register(&admin, provider).await;
    admin
        .put_infotype(
            &InfoType {
                xsd: Some("inn".into()),
                ..infotype(&inn_request(), InfoTypeKind::Request, provider)
            },
            rsmev_broker::admin::Mode::Add,
        )
        .await
        .expect("request type");
    admin
        .put_infotype(
            &InfoType {
                xsd: Some("inn".into()),
                ..infotype(&inn_response(), InfoTypeKind::Response, provider)
            },
            rsmev_broker::admin::Mode::Add,
        )
        .await
        .expect("response type");
    for c in consumers {
        register(&admin, c).await;
        grant(&admin, c, &inn_request()).await;
    }
}

/// Requests sent in all, by [`CONSUMERS`] concurrent consumers.
const REQUESTS: usize = 60;
const CONSUMERS: usize = 3;

async fn two_nodes_on_one_database_deliver_every_request_exactly_once(backend: Backend) {
    let Some(db) = Cluster::create(backend).await else {
        return;
    };
    let a = Peer::start(&db, 60).await;
    let b = Peer::start(&db, 60).await;
    // Registered through A while B runs: B reads the shared registry and XSD set.
    let provider = Participant::generate("FNS");
    let consumers: Vec<Participant> = (0..CONSUMERS)
        .map(|i| Participant::generate(&format!("MFC{i}")))
        .collect();
    registry(&a, &provider, &consumers).await;
    let nodes = [&a, &b];

    // B enforces the format control registered through A.
    b.client(&consumers[0])
        .send_request(&inn_request_payload("A-1", "1990-01-02"))
        .await
        .expect_fault("InvalidContent");

    // The consumers send concurrently, each alternating between the nodes.
    let mut senders = tokio::task::JoinSet::new();
    for (c, consumer) in consumers.iter().enumerate() {
        let clients = [a.client(consumer), b.client(consumer)];
        senders.spawn(async move {
            let mut sent = Vec::new();
            for i in 0..REQUESTS / CONSUMERS {
                let payload = inn_request_payload(&format!("{c}{i:04}"), "1990-01-02");
                let answer = clients[(c + i) % 2].send_request(&payload).await;
                sent.push(answer.accepted().message_id.clone().expect("MessageId"));
            }
            (c, sent)
        });
    }
    // Which consumer sent each request.
    let mut sender_of: HashMap<MessageId, usize> = HashMap::new();
    while let Some(done) = senders.join_next().await {
        let (c, sent) = done.expect("a consumer task");
        for id in sent {
            assert!(sender_of.insert(id, c).is_none(), "a MessageID accepted twice");
        }
    }
    assert_eq!(sender_of.len(), REQUESTS);

    // A MessageID accepted by one node is a duplicate on the other.
    let xml = a
        .client(&consumers[0])
        .send_request_xml(&inn_request_payload("1", "2000-01-01"), |_| {});
    let first = a.client(&consumers[0]).post(&xml).await;
    let duplicate_id = first.accepted().message_id.clone().expect("MessageId");
    b.client(&consumers[0])
        .post(&xml)
        .await
        .expect_fault("MessageIsAlreadySent");
    sender_of.insert(duplicate_id.clone(), 0);

    // The provider drains both nodes at once, one task per node, acking every other message
    // through the other node.
    let delivered_ids = Arc::new(Mutex::new(Vec::<(MessageId, String)>::new()));
    let mut drainers = tokio::task::JoinSet::new();
    for n in 0..2 {
        let here = nodes[n].client(&provider);
        let there = nodes[1 - n].client(&provider);
        let delivered_ids = delivered_ids.clone();
        drainers.spawn(async move {
            let mut k = 0usize;
            loop {
                let got = here.get_request(None).await;
                let Some(request) = got.request() else {
                    break;
                };
                let id = request.sender_provided.message_id.clone();
                let reply_to = request.reply_to.clone().expect("a request carries ReplyTo");
                delivered_ids
                    .lock()
                    .expect("not poisoned")
                    .push((id.clone(), reply_to));
                let acker = if k.is_multiple_of(2) { &here } else { &there };
                acker.ack(&id).await.expect_ack();
                k += 1;
            }
        });
    }
    while let Some(done) = drainers.join_next().await {
        done.expect("a provider task");
    }
    let delivered_ids = std::mem::take(&mut *delivered_ids.lock().expect("not poisoned"));
    let unique: BTreeSet<&MessageId> = delivered_ids.iter().map(|(id, _)| id).collect();
    assert_eq!(unique.len(), delivered_ids.len(), "a request was delivered twice");
    let accepted: BTreeSet<&MessageId> = sender_of.keys().collect();
    assert_eq!(unique, accepted, "delivered ≠ accepted");
    for node in nodes {
        assert!(
            node.client(&provider).get_request(None).await.request().is_none(),
            "a node still hands out a request after everything was acked"
        );
    }
    let history = a.history(&duplicate_id).await;
    assert_eq!(
        history.iter().filter(|e| **e == EventKind::Accepted).count(),
        1,
        "{history:?}"
    );

    // The answers: half sent through A and collected through B, then the other half the other
    // way round; each exactly once, to the consumer that asked.
    for (from, to) in [(0usize, 1usize), (1, 0)] {
        let half: Vec<&(MessageId, String)> = delivered_ids
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == from)
            .map(|(_, d)| d)
            .collect();
        for (id, reply_to) in &half {
            nodes[from]
                .client(&provider)
                .send_response(
                    reply_to,
                    answer(&inn_response_payload(&format!("77{}", id.as_str().len()))),
                )
                .await
                .accepted();
        }
        let mut collected: Vec<MessageId> = Vec::new();
        for consumer in &consumers {
            let client = nodes[to].client(consumer);
            loop {
                let got = client.get_response(None).await;
                let Some(response) = got.response() else {
                    break;
                };
                let original = response.original_message_id.clone().expect("OriginalMessageId");
                assert_eq!(
                    sender_of.get(&original).map(|c| consumers[*c].mnemonic.clone()),
                    Some(consumer.mnemonic.clone()),
                    "the response reached another consumer than the requester"
                );
                client
                    .ack(&response.sender_provided.message_id)
                    .await
                    .expect_ack();
                collected.push(original);
            }
        }
        let expected: BTreeSet<&MessageId> = half.iter().map(|(id, _)| id).collect();
        let got: BTreeSet<&MessageId> = collected.iter().collect();
        assert_eq!(got.len(), collected.len(), "a response was delivered twice");
        assert_eq!(got, expected, "collected responses ≠ sent responses");
    }
    for node in nodes {
        for consumer in &consumers {
            assert!(
                node.client(consumer)
                    .get_response(None)
                    .await
                    .response()
                    .is_none()
            );
        }
    }

    a.node.shutdown().await.expect("clean shutdown");
    b.node.shutdown().await.expect("clean shutdown");
    drop(db);
}

async fn a_lease_that_runs_out_on_one_node_is_redelivered_by_the_other(backend: Backend) {
    let Some(db) = Cluster::create(backend).await else {
        return;
    };
    // A leases for one second, B for the default minute.
    let a = Peer::start(&db, 1).await;
    let provider = Participant::generate("FNS");
    let consumer = Participant::generate("MFC");
    registry(&a, &provider, std::slice::from_ref(&consumer)).await;
    let b = Peer::start(&db, 60).await;

    let sent = a
        .client(&consumer)
        .send_request(&inn_request_payload("12345678901", "1990-01-02"))
        .await;
    let id = sent.accepted().message_id.clone().expect("MessageId");
    let first = a.client(&provider).get_request(None).await;
    assert_eq!(delivered(&first).sender_provided.message_id, id);

    // No Ack: once A's lease runs out B hands out the same message.
    let on_b = b.client(&provider);
    let again = eventually(40, Duration::from_millis(250), || async {
        let got = on_b.get_request(None).await;
        got.request().map(|r| r.sender_provided.message_id.clone())
    })
    .await
    .expect("the unacknowledged request is delivered again by the other node");
    assert_eq!(again, id);
    let history = b.history(&id).await;
    assert!(history.contains(&EventKind::Redelivered), "{history:?}");

    // Acked through A; neither node hands it out again.
    a.client(&provider).ack(&id).await.expect_ack();
    for node in [&a, &b] {
        assert!(node.client(&provider).get_request(None).await.request().is_none());
    }

    a.node.shutdown().await.expect("clean shutdown");
    b.node.shutdown().await.expect("clean shutdown");
    drop(db);
}
