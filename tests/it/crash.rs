//! Durability across a crash: the real `rsmev serve` binary, killed with SIGKILL in the middle of
//! a stream of SendRequests and restarted on the same data directory. Nothing the node answered
//! "accepted" is lost, a request resent with the same MessageID after a lost answer is accepted
//! once (or refused as `MessageIsAlreadySent` when the first attempt had committed), every
//! request is delivered exactly once, and what was acked is never delivered again after another
//! restart.
//!
//! The binary: see [`crate::process`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsmev_broker::admin::Admin;
use rsmev_broker::dsig::Certificate;
use rsmev_broker::envelope::{Envelope, MessageId};
use rsmev_broker::node::open_store;
use rsmev_broker::store::EventKind;
use tokio::sync::watch;

use crate::harness::*;
use crate::process::{Server, rsmev_binary};

/// How many requests the stream sends, by how many concurrent senders, and after how many
/// accepted answers the node is killed.
const REQUESTS: usize = 60;
const SENDERS: usize = 4;
const KILL_AFTER_ACCEPTED: usize = 20;

/// What happened to one request of the stream.
#[derive(Debug, Default, Clone)]
struct Fate {
    /// Attempts that got no answer (connection refused or cut by the kill).
    unanswered: u32,
    /// The node answered SendRequestResponse.
    accepted: bool,
    /// The node answered MessageIsAlreadySent to a resend.
    already_sent: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_stream_loses_no_accepted_request_and_redelivers_no_acked_one() {
    let bin = tokio::task::block_in_place(rsmev_binary);
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let consumer = Participant::generate("MFC");
    let provider = Participant::generate("FNS");

    // The registry, written before the node process exists.
    {
        let config = node_config(&data, &NodeOptions::default());
        let store = open_store(&config).await.expect("store opens");
        let admin = Admin::new(store.as_ref(), data.join("xsd"));
        register_inn_pair(&admin, &consumer, &provider).await;
        store.close().await;
    }

    let server = tokio::task::block_in_place(|| Server::start(&bin, &data, dir.path(), 0));
    let node_cert = Certificate::from_pem_or_der(
        &std::fs::read(data.join("node-cert.pem")).expect("the node wrote its certificate"),
    )
    .expect("node certificate");
    let answers = Arc::new(Mutex::new(Vec::new()));
    // The node's key survives restarts: every answer must be signed with the first one.
    let sender = Client::new(
        &server.url,
        consumer.clone(),
        answers.clone(),
        Some(node_cert.clone()),
    );
    let reader = Client::new(&server.url, provider.clone(), answers, Some(node_cert));

    // Every request of the stream, signed once: a resend is the same bytes.
    let stream: Vec<(MessageId, String)> = (0..REQUESTS)
        .map(|i| {
            let id = new_message_id();
            let xml = sender.send_request_xml(&inn_request_payload(&i.to_string(), "1990-01-02"), |d| {
                d.message_id = id.clone();
            });
            (id, xml)
        })
        .collect();
    let fates: Arc<Mutex<BTreeMap<MessageId, Fate>>> = Arc::new(Mutex::new(BTreeMap::new()));
    let (url_tx, url_rx) = watch::channel(server.url.clone());
    // How many requests were accepted so far: the senders count, the test waits on it.
    let (accepted_tx, mut accepted_rx) = watch::channel(0usize);
    let accepted_tx = Arc::new(accepted_tx);

    let mut tasks = Vec::new();
    for k in 0..SENDERS {
        let mine: Vec<(MessageId, String)> = stream.iter().skip(k).step_by(SENDERS).cloned().collect();
        let sender = sender.clone();
        let fates = fates.clone();
        let mut url_rx = url_rx.clone();
        let accepted_tx = accepted_tx.clone();
        tasks.push(tokio::spawn(async move {
            for (id, xml) in mine {
                let mut fate = Fate::default();
                loop {
                    let url = url_rx.borrow_and_update().clone();
                    match sender.at(&url).try_post(&xml, None).await {
                        Ok(answer) => {
                            match &answer.envelope {
                                Envelope::SendRequestResponse(r) => {
                                    assert_eq!(r.metadata.message_id.as_ref(), Some(&id));
                                    fate.accepted = true;
                                }
                                Envelope::Fault(f)
                                    if f.detail.element_name() == Some("MessageIsAlreadySent") =>
                                {
                                    fate.already_sent = true;
                                }
                                _ => panic!("unexpected answer to {id}:\n{}", answer.body),
                            }
                            break;
                        }
                        Err(_) => {
                            // The node is down: wait for the restarted one, resend the same bytes.
                            fate.unanswered += 1;
                            if url_rx.borrow().as_str() == url {
                                // Bounded, so a failure that is not the kill cannot hang the test.
                                let _ = tokio::time::timeout(Duration::from_secs(30), url_rx.changed()).await;
                            }
                        }
                    }
                }
                if fate.accepted {
                    accepted_tx.send_modify(|n| *n += 1);
                }
                fates.lock().expect("fates").insert(id, fate);
            }
        }));
    }

    // Kill the node as soon as part of the stream is in (the other senders are mid-request),
    // then start it again on the same data.
    tokio::time::timeout(
        Duration::from_secs(60),
        accepted_rx.wait_for(|n| *n >= KILL_AFTER_ACCEPTED),
    )
    .await
    .unwrap_or_else(|_| panic!("the stream did not get {KILL_AFTER_ACCEPTED} answers"))
    .expect("senders running");
    server.kill();
    let accepted_before_kill = *accepted_rx.borrow();
    let server = tokio::task::block_in_place(|| Server::start(&bin, &data, dir.path(), 1));
    url_tx.send(server.url.clone()).expect("senders listen");
    for t in tasks {
        t.await.expect("sender task");
    }

    // Every request has an outcome, and a MessageIsAlreadySent only ever answers a resend
    // whose first attempt got no answer.
    let fates = fates.lock().expect("fates").clone();
    assert_eq!(fates.len(), REQUESTS);
    for (id, fate) in &fates {
        assert!(fate.accepted != fate.already_sent, "{id}: {fate:?}");
        if fate.already_sent {
            assert!(
                fate.unanswered > 0,
                "{id} refused as a duplicate on its first attempt"
            );
        }
    }
    assert!(
        accepted_before_kill < REQUESTS,
        "the node was killed after the stream ended, not in its middle"
    );
    let resent = fates.values().filter(|f| f.unanswered > 0).count();
    let committed_before_kill = fates.values().filter(|f| f.already_sent).count();
    eprintln!(
        "crash: {accepted_before_kill} accepted before the kill, {resent} resent after it \
         ({committed_before_kill} of them had committed before the kill)"
    );

    // The provider drains its queue: each request exactly once.
    let reader = reader.at(&server.url);
    let mut delivered_ids = Vec::new();
    loop {
        let got = reader.get_request(None).await;
        let Some(request) = got.request() else { break };
        let id = request.sender_provided.message_id.clone();
        reader.ack(&id).await.expect_ack();
        delivered_ids.push(id);
        assert!(delivered_ids.len() <= REQUESTS, "more deliveries than requests");
    }
    let unique: BTreeSet<&MessageId> = delivered_ids.iter().collect();
    assert_eq!(unique.len(), delivered_ids.len(), "a request was delivered twice");
    let sent: BTreeSet<&MessageId> = fates.keys().collect();
    assert_eq!(unique, sent, "delivered ≠ accepted");

    // Another crash and restart: nothing acked comes back.
    server.kill();
    let server = tokio::task::block_in_place(|| Server::start(&bin, &data, dir.path(), 2));
    let reader = reader.at(&server.url);
    let after = reader.get_request(None).await;
    assert!(
        after.request().is_none(),
        "an acked request was delivered again after a restart:\n{}",
        after.body
    );
    server.kill();

    // The history agrees: one acceptance and one Ack per request.
    let store = open_store(&node_config(&data, &NodeOptions::default()))
        .await
        .expect("store opens after the crash");
    for id in fates.keys() {
        let events = store.history(uuid(id.as_str())).await.expect("history");
        let count = |k: EventKind| events.iter().filter(|e| e.event == k).count();
        assert_eq!(count(EventKind::Accepted), 1, "{id}: {:?}", kinds(&events));
        assert_eq!(count(EventKind::Acked), 1, "{id}: {:?}", kinds(&events));
    }
    store.close().await;
}
