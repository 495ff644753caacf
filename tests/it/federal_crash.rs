//! The federal link across crashes, with real processes: a federal node (`rsmev serve`, embedded
//! store) behind a proxy that keeps its address, and a regional node on PostgreSQL run as
//! `rsmev serve` (with the link) next to `rsmev federal run` (the link alone) on the same
//! database. A stream of requests crosses up and their answers cross back while the regional
//! node and then the federal node are killed with SIGKILL and started again. Counted from both
//! nodes' histories: every request reached the federal provider and every answer the regional
//! requester (0 lost), and each was accepted exactly once on the other side (0 duplicated).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsmev_broker::admin::{Admin, Mode};
use rsmev_broker::envelope::{Envelope, MessageId};
use rsmev_broker::node::open_store;
use rsmev_broker::store::{EventKind, Store};
use rsmev_registry::InfoTypeKind;
use tokio::sync::watch;

use crate::backend::TestDatabase;
use crate::harness::*;
use crate::process::{Server, rsmev_binary};
use crate::proxy::RecordingProxy;

/// Requests in the stream; the regional node is killed after [`KILL_REGION_AFTER`] of them
/// reached the federal provider, the federal node after [`KILL_FEDERAL_AFTER`].
const REQUESTS: usize = 30;
const KILL_REGION_AFTER: usize = 8;
const KILL_FEDERAL_AFTER: usize = 16;
/// How long the whole stream may take to cross both ways.
const DEADLINE: Duration = Duration::from_secs(120);

/// The configuration both nodes' processes share, as environment variables.
fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn registry_on(store: &Arc<dyn Store>, xsd: &Path, f: impl AsyncFnOnce(&Admin<'_>)) {
    let admin = Admin::new(store.as_ref(), xsd.to_owned());
    f(&admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_answers_cross_the_link_once_while_both_nodes_are_killed() {
    let Some(db) = TestDatabase::create().await else {
        eprintln!("no PostgreSQL: the federal crash test needs the shared regional database");
        return;
    };
    let bin = tokio::task::block_in_place(rsmev_binary);
    let dir = tempfile::tempdir().expect("temporary directory");
    let federal_data = dir.path().join("federal");
    let region_data = dir.path().join("region");
    std::fs::create_dir_all(&region_data).expect("regional data directory");

    let link = Participant::generate("REGION");
    let fns = Participant::generate("FNS");
    let mfc = Participant::generate("MFC");
    let key = dir.path().join("link-key.pem");
    let cert = dir.path().join("link-cert.pem");
    std::fs::write(&key, &link.key_pem).expect("link key");
    std::fs::write(&cert, &link.cert_pem).expect("link certificate");

    // The registries, written before the processes exist.
    let federal_config = node_config(&federal_data, &NodeOptions::default());
    let federal_store = open_store(&federal_config).await.expect("federal store");
    registry_on(&federal_store, &federal_data.join("xsd"), async |admin| {
        register_inn_pair(admin, &link, &fns).await;
        admin
            .put_infotype(
                &infotype(&inn_response(), InfoTypeKind::Response, &fns),
                Mode::Add,
            )
            .await
            .expect("information type");
    })
    .await;
    federal_store.close().await;
    let mut region_config = node_config(&region_data, &NodeOptions::default());
    region_config.storage.database = db.url.clone();
    let region_store = open_store(&region_config).await.expect("regional store");
    let local_link = Participant {
        mnemonic: rsmev_registry::Mnemonic::new("SMEV3").expect("mnemonic"),
        ..link.clone()
    };
    registry_on(&region_store, &region_data.join("xsd"), async |admin| {
        register(admin, &local_link).await;
        register(admin, &mfc).await;
        for (q, kind) in [
            (inn_request(), InfoTypeKind::Request),
            (inn_response(), InfoTypeKind::Response),
        ] {
            let federal_type = rsmev_registry::InfoType {
                federal: true,
                ..infotype(&q, kind, &local_link)
            };
            admin
                .put_infotype(&federal_type, Mode::Add)
                .await
                .expect("information type");
        }
        grant(admin, &mfc, &inn_request()).await;
    })
    .await;

    // Short leases: what a killed process held is handed out again within seconds.
    let federal_env = env(&[("RSMEV_LIMITS_LEASE_SECS", "3")]);
    let start_federal = |generation| {
        tokio::task::block_in_place(|| {
            Server::start_with_env(&bin, &federal_data, dir.path(), generation, &federal_env)
        })
    };
    let mut federal = start_federal(0);
    let upstream = RecordingProxy::start(&federal.url).await;
    let endpoint = format!("{}/ws", upstream.url);
    let region_env = env(&[
        ("RSMEV_STORAGE_DATABASE", db.url.as_str()),
        ("RSMEV_LIMITS_LEASE_SECS", "3"),
        ("RSMEV_FEDERAL_ENDPOINT", endpoint.as_str()),
        ("RSMEV_FEDERAL_MNEMONIC", "REGION"),
        ("RSMEV_FEDERAL_PARTICIPANT", "SMEV3"),
        ("RSMEV_FEDERAL_KEY", key.to_str().expect("UTF-8 path")),
        ("RSMEV_FEDERAL_CERT", cert.to_str().expect("UTF-8 path")),
        ("RSMEV_FEDERAL_POLL_INTERVAL_MS", "50"),
        ("RSMEV_FEDERAL_MAX_BACKOFF_SECS", "1"),
    ]);
    let start_region = |generation| {
        tokio::task::block_in_place(|| {
            Server::start_with_env(&bin, &region_data, dir.path(), generation, &region_env)
        })
    };
    let mut region = start_region(0);
    // The link alone, in a process of its own beside the regional node: the two share the work.
    let _link_process = tokio::task::block_in_place(|| {
        Server::start_command(
            &bin,
            &["federal", "run"],
            &region_data,
            dir.path(),
            0,
            &region_env,
        )
    });

    // The stream, accepted by the regional node before anything is killed.
    let answers = Arc::new(Mutex::new(Vec::new()));
    let sender = Client::new(&region.url, mfc.clone(), answers.clone(), None);
    let mut sent = BTreeSet::new();
    for i in 0..REQUESTS {
        let a = sender
            .send_request(&inn_request_payload(&format!("{i:011}"), "1990-01-02"))
            .await;
        sent.insert(a.accepted().message_id.clone().expect("MessageId"));
    }

    let (federal_url, federal_rx) = watch::channel(federal.url.clone());
    let (region_url, region_rx) = watch::channel(region.url.clone());
    let (stop, stopped) = watch::channel(false);
    let provider = Client::new(&federal.url, fns.clone(), answers.clone(), None);
    let requester = Client::new(&region.url, mfc.clone(), answers, None);
    let received = Arc::new(Mutex::new(Vec::<MessageId>::new()));
    let answered = Arc::new(Mutex::new(BTreeMap::<MessageId, BTreeSet<MessageId>>::new()));
    let provider_task = tokio::spawn(provide(
        provider,
        federal_rx,
        stopped.clone(),
        Arc::clone(&received),
    ));
    let requester_task = tokio::spawn(collect(requester, region_rx, stopped, Arc::clone(&answered)));

    let distinct = |seen: &Mutex<Vec<MessageId>>| {
        seen.lock()
            .expect("received")
            .iter()
            .collect::<BTreeSet<_>>()
            .len()
    };
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let wait = async |what: &str, done: &dyn Fn() -> bool| {
        while !done() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {DEADLINE:?}; logs in {}",
                dir.path().display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };

    wait("requests upstream before the regional kill", &|| {
        distinct(&received) >= KILL_REGION_AFTER
    })
    .await;
    eprintln!(
        "killing the regional node: {} requests upstream, {} answers back",
        distinct(&received),
        answered.lock().expect("answered").len()
    );
    region.kill();
    region = start_region(1);
    region_url.send_replace(region.url.clone());

    wait("requests upstream before the federal kill", &|| {
        distinct(&received) >= KILL_FEDERAL_AFTER
    })
    .await;
    eprintln!(
        "killing the federal node: {} requests upstream, {} answers back",
        distinct(&received),
        answered.lock().expect("answered").len()
    );
    federal.kill();
    federal = start_federal(1);
    upstream.retarget(&federal.url);
    federal_url.send_replace(federal.url.clone());

    wait("every answer back on the regional node", &|| {
        answered.lock().expect("answered").len() >= REQUESTS
    })
    .await;
    stop.send_replace(true);
    provider_task.await.expect("provider task");
    requester_task.await.expect("requester task");
    region.kill();
    federal.kill();

    // 0 lost: every request reached the federal provider, every answer came back to its requester.
    let reached: BTreeSet<MessageId> = received.lock().expect("received").iter().cloned().collect();
    assert_eq!(reached, sent, "requests lost upstream");
    let answered = answered.lock().expect("answered").clone();
    assert_eq!(
        answered.keys().cloned().collect::<BTreeSet<_>>(),
        sent,
        "answers lost on the way back"
    );

    // 0 duplicated: accepted once upstream (requests) and once here (answers).
    let federal_store = open_store(&federal_config).await.expect("federal store");
    for id in &sent {
        let events = kinds(&federal_store.history(id.to_uuid()).await.expect("history"));
        let accepted = events.iter().filter(|e| **e == EventKind::Accepted).count();
        assert_eq!(accepted, 1, "request {id} upstream: {events:?}");
    }
    federal_store.close().await;
    let region_store = open_store(&region_config).await.expect("regional store");
    for (request, responses) in &answered {
        assert_eq!(
            responses.len(),
            1,
            "request {request} answered here by {responses:?}"
        );
        let response = responses.first().expect("one answer");
        let events = kinds(&region_store.history(request.to_uuid()).await.expect("history"));
        assert!(
            events.contains(&EventKind::Forwarded),
            "request {request} here: {events:?}"
        );
        let events = kinds(&region_store.history(response.to_uuid()).await.expect("history"));
        let accepted = events.iter().filter(|e| **e == EventKind::Accepted).count();
        assert_eq!(accepted, 1, "answer {response} here: {events:?}");
    }
    region_store.close().await;
}

/// The federal provider: takes each request, answers it (a resend after a lost answer is the same
/// bytes, so it counts once) and acks it, following the node to its current address.
async fn provide(
    client: Client,
    mut url: watch::Receiver<String>,
    stop: watch::Receiver<bool>,
    received: Arc<Mutex<Vec<MessageId>>>,
) {
    let mut replies: BTreeMap<MessageId, String> = BTreeMap::new();
    while !*stop.borrow() {
        let at = client.at(&url.borrow_and_update().clone());
        let Ok(got) = at.try_post(&at.get_request_xml(Some(&inn_request())), None).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Some(request) = got.request() else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let id = request.sender_provided.message_id.clone();
        received.lock().expect("received").push(id.clone());
        let reply_to = request.reply_to.clone().expect("ReplyTo");
        let xml = replies
            .entry(id.clone())
            .or_insert_with(|| {
                at.send_response_xml(&reply_to, answer(&inn_response_payload("7701234567")), |_| {})
            })
            .clone();
        // Until the node has the answer (or says it has had it) and the request is acked; a
        // node killed meanwhile hands the request out again and the loop comes back here.
        let Ok(sent) = at.try_post(&xml, None).await else {
            continue;
        };
        match &sent.envelope {
            Envelope::SendResponseResponse(_) => {}
            Envelope::Fault(f) if f.detail.element_name() == Some("MessageIsAlreadySent") => {}
            _ => panic!("unexpected answer to the response for {id}:\n{}", sent.body),
        }
        let _ = at.try_post(&at.ack_xml(&id), None).await;
    }
}

/// The regional requester: takes each answer and acks it, recording which request it answers.
async fn collect(
    client: Client,
    mut url: watch::Receiver<String>,
    stop: watch::Receiver<bool>,
    answered: Arc<Mutex<BTreeMap<MessageId, BTreeSet<MessageId>>>>,
) {
    while !*stop.borrow() {
        let at = client.at(&url.borrow_and_update().clone());
        let poll = at.poll_envelope(true).to_xml();
        let Ok(got) = at.try_post(&poll, None).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Some(response) = got.response() else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let id = response.sender_provided.message_id.clone();
        let original = response.original_message_id.clone().expect("OriginalMessageId");
        answered
            .lock()
            .expect("answered")
            .entry(original)
            .or_default()
            .insert(id.clone());
        let _ = at.try_post(&at.ack_xml(&id), None).await;
    }
}
