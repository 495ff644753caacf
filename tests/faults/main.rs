//! Fault tests of the production deployment (issue #4, point 5): a stream of signed requests,
//! read and acked by the provider while it is sent, survives
//!
//! - RabbitMQ restarting in the middle of it,
//! - PostgreSQL restarting in the middle of it,
//! - one of two `rsmev serve` processes (sharing PostgreSQL and RabbitMQ) killed with SIGKILL,
//!
//! and a node whose database is down answers SMEVFailure within its connection wait (not after
//! minutes), then accepts the client's resend once the database is back.
//!
//! Each ends with zero lost and zero delivered again after its Ack, counted from the history
//! (one `accepted` and one `acked` per request, no `leased`/`redelivered` after the `acked`), and
//! with every call answered: unavailability is a `SMEVFailure` the client retries with the same
//! MessageID (or, for the killed process, a refused connection), never a hang.
//!
//! This is a test binary of its own because it restarts the servers every other production test
//! uses; its tests take turns ([`SERIAL`]). The restarts are shell commands from
//! `RSMEV_TEST_RESTART_RABBITMQ`, `RSMEV_TEST_RESTART_POSTGRES`, `RSMEV_TEST_STOP_POSTGRES` and
//! `RSMEV_TEST_START_POSTGRES` (`.ci/run` sets them); a test whose command is unset is skipped
//! with a message. Servers: see `backend.rs`.

// Test code: unwrap and print freely (helpers outside #[test] are not covered by clippy.toml).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

#[path = "../it/backend.rs"]
mod backend;
#[allow(
    dead_code,
    unused_imports,
    reason = "the harness is shared with the `it` binary, which uses all of it"
)]
#[path = "../it/harness.rs"]
mod harness;
#[allow(dead_code, reason = "shared with the `it` binary")]
#[path = "../it/process.rs"]
mod process;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsmev_broker::admin::Admin;
use rsmev_broker::dsig::Certificate;
use rsmev_broker::envelope::{Envelope, MessageId};
use rsmev_broker::node::open_store;
use rsmev_broker::store::{EventKind, Store};

use crate::backend::Production;
use crate::harness::*;
use crate::process::{Server, rsmev_binary};

/// The tests of this binary take turns: each restarts or kills something the others use.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const REQUESTS: usize = 80;
const SENDERS: usize = 4;
/// The fault strikes once this many requests are accepted.
const FAULT_AFTER: usize = 25;
/// Longest a call may take before it counts as hung.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// Lease of the nodes under test: a delivery lost with a killed process comes again this soon.
const LEASE_SECS: u64 = 2;

/// What the stream saw.
#[derive(Debug, Default)]
struct Seen {
    /// Requests the node accepted (SendRequestResponse, or MessageIsAlreadySent to a resend).
    accepted: BTreeSet<MessageId>,
    /// Answers that were `SMEVFailure`.
    smev_failures: usize,
    /// Calls without an answer (connection refused or reset).
    unanswered: usize,
    /// Calls that took longer than [`CALL_TIMEOUT`].
    hung: usize,
    /// Every delivery to the provider, in order.
    delivered: Vec<MessageId>,
    acked: BTreeSet<MessageId>,
    /// Deliveries of a request the provider had already acked.
    delivered_after_ack: Vec<MessageId>,
}

enum Reply {
    Answer(Box<Answer>),
    /// SMEVFailure, no answer, or too slow: try again.
    Retry,
}

/// Posts `xml` to one of `urls` (the `attempt`-th, round robin), classifying the outcome.
async fn call(
    client: &Client,
    urls: &Mutex<Vec<String>>,
    attempt: usize,
    xml: &str,
    seen: &Mutex<Seen>,
) -> Reply {
    let url = {
        let urls = urls.lock().expect("urls");
        urls[attempt % urls.len()].clone()
    };
    match tokio::time::timeout(CALL_TIMEOUT, client.at(&url).try_post(xml, None)).await {
        Err(_) => {
            seen.lock().expect("seen").hung += 1;
            Reply::Retry
        }
        Ok(Err(_)) => {
            seen.lock().expect("seen").unanswered += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
            Reply::Retry
        }
        Ok(Ok(answer)) => {
            if let Envelope::Fault(f) = &answer.envelope
                && f.detail.element_name() == Some("SMEVFailure")
            {
                seen.lock().expect("seen").smev_failures += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Reply::Retry;
            }
            Reply::Answer(Box::new(answer))
        }
    }
}

/// Sends [`REQUESTS`] requests from `consumer` (resending the same bytes until answered) while
/// `provider` reads and acks; runs `fault` once [`FAULT_AFTER`] are accepted. Returns when every
/// accepted request is acked.
async fn stream<F: Future<Output = ()>>(
    consumer: &Client,
    provider: &Client,
    urls: Arc<Mutex<Vec<String>>>,
    fault: F,
) -> Seen {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let accepted_count = Arc::new(AtomicUsize::new(0));
    let requests: Vec<(MessageId, String)> = (0..REQUESTS)
        .map(|i| {
            let id = new_message_id();
            let xml =
                consumer.send_request_xml(&inn_request_payload(&format!("{i:011}"), "1990-01-02"), |d| {
                    d.message_id = id.clone();
                });
            (id, xml)
        })
        .collect();

    let mut senders = Vec::new();
    for k in 0..SENDERS {
        let mine: Vec<(MessageId, String)> = requests.iter().skip(k).step_by(SENDERS).cloned().collect();
        let (consumer, urls, seen, count) = (
            consumer.clone(),
            urls.clone(),
            seen.clone(),
            accepted_count.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut attempt = k;
            for (id, xml) in mine {
                for tries in 0.. {
                    assert!(tries < 600, "{id} was never answered");
                    attempt += 1;
                    let Reply::Answer(answer) = call(&consumer, &urls, attempt, &xml, &seen).await else {
                        continue;
                    };
                    match &answer.envelope {
                        Envelope::SendRequestResponse(_) => {}
                        Envelope::Fault(f) if f.detail.element_name() == Some("MessageIsAlreadySent") => {
                            assert!(tries > 0, "{id} refused as a duplicate on its first attempt");
                        }
                        _ => panic!("unexpected answer to {id}:\n{}", answer.body),
                    }
                    seen.lock().expect("seen").accepted.insert(id.clone());
                    count.fetch_add(1, Ordering::SeqCst);
                    break;
                }
            }
        }));
    }

    let reader = {
        let (provider, urls, seen, count) = (
            provider.clone(),
            urls.clone(),
            seen.clone(),
            accepted_count.clone(),
        );
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
            let mut attempt = 0;
            loop {
                let done = {
                    let s = seen.lock().expect("seen");
                    count.load(Ordering::SeqCst) == REQUESTS && s.acked.len() == REQUESTS
                };
                if done {
                    return;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the stream did not finish"
                );
                attempt += 1;
                let xml = provider.get_request_xml(None);
                let Reply::Answer(got) = call(&provider, &urls, attempt, &xml, &seen).await else {
                    continue;
                };
                let Some(request) = got.request() else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let id = request.sender_provided.message_id.clone();
                {
                    let mut s = seen.lock().expect("seen");
                    if s.acked.contains(&id) {
                        s.delivered_after_ack.push(id.clone());
                    }
                    s.delivered.push(id.clone());
                }
                let ack = provider.ack_xml(&id);
                for tries in 0.. {
                    assert!(tries < 600, "the Ack of {id} was never answered");
                    attempt += 1;
                    let Reply::Answer(answer) = call(&provider, &urls, attempt, &ack, &seen).await else {
                        continue;
                    };
                    match &answer.envelope {
                        Envelope::AckResponse => {}
                        // An earlier attempt committed, its answer was lost.
                        Envelope::Fault(f)
                            if f.detail.element_name() == Some("TargetMessageIsNotFound") && tries > 0 => {}
                        _ => panic!("unexpected answer to the Ack of {id}:\n{}", answer.body),
                    }
                    seen.lock().expect("seen").acked.insert(id.clone());
                    break;
                }
            }
        })
    };

    while accepted_count.load(Ordering::SeqCst) < FAULT_AFTER {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fault.await;
    for s in senders {
        s.await.expect("sender");
    }
    reader.await.expect("reader");
    Arc::try_unwrap(seen)
        .expect("tasks finished")
        .into_inner()
        .expect("seen")
}

/// Checks the outcome against the history in `store`; prints the figures.
async fn assert_exactly_once(name: &str, seen: &Seen, store: &dyn Store) {
    eprintln!(
        "{name}: {} accepted, {} deliveries, {} SMEVFailure answers retried, {} calls unanswered, {} hung",
        seen.accepted.len(),
        seen.delivered.len(),
        seen.smev_failures,
        seen.unanswered,
        seen.hung
    );
    assert_eq!(
        seen.accepted.len(),
        REQUESTS,
        "every request is accepted in the end"
    );
    assert_eq!(seen.acked, seen.accepted, "lost: accepted but never delivered");
    assert!(
        seen.delivered_after_ack.is_empty(),
        "delivered again after Ack: {:?}",
        seen.delivered_after_ack
    );
    assert_eq!(seen.hung, 0, "calls must be answered (SMEVFailure), not hang");
    for id in &seen.accepted {
        let events = store.history(uuid(id.as_str())).await.expect("history");
        let kinds = kinds(&events);
        let count = |k: EventKind| kinds.iter().filter(|e| **e == k).count();
        assert_eq!(count(EventKind::Accepted), 1, "{id}: {kinds:?}");
        assert_eq!(count(EventKind::Acked), 1, "{id}: {kinds:?}");
        let after_ack = kinds.iter().skip_while(|e| **e != EventKind::Acked).skip(1);
        assert!(
            after_ack
                .into_iter()
                .all(|e| !matches!(e, EventKind::Leased | EventKind::Redelivered)),
            "{id} delivered after its Ack: {kinds:?}"
        );
    }
}

/// Runs the shell command in `var`; `None` (after saying so) when it is unset.
fn restart_command(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(cmd) if !cmd.trim().is_empty() => Some(cmd),
        _ => {
            eprintln!("skipped: {var} is not set (a shell command that restarts the server)");
            None
        }
    }
}

async fn run_restart(cmd: &str) {
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .unwrap_or_else(|e| panic!("running `{cmd}`: {e}"));
    assert!(status.success(), "`{cmd}` failed: {status}");
}

/// A stream through one in-process node on the production backend while `restart` runs.
async fn restart_mid_stream(name: &str, restart_var: &str) {
    let _turn = SERIAL.lock().await;
    let Some(cmd) = restart_command(restart_var) else {
        return;
    };
    if !Backend::Production.available().await {
        return;
    }
    let w = World::start(NodeOptions {
        lease_secs: LEASE_SECS,
        ..NodeOptions::on(Backend::Production)
    })
    .await;
    let urls = Arc::new(Mutex::new(vec![w.node.url.clone()]));
    let seen = stream(&w.consumer, &w.provider, urls, async {
        eprintln!("{name}: running `{cmd}`");
        run_restart(&cmd).await;
    })
    .await;
    assert_exactly_once(name, &seen, w.node.store().as_ref()).await;
    w.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rabbitmq_restarting_mid_stream_loses_nothing_and_duplicates_nothing() {
    restart_mid_stream("RabbitMQ restart", "RSMEV_TEST_RESTART_RABBITMQ").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarting_mid_stream_loses_nothing_and_duplicates_nothing() {
    restart_mid_stream("PostgreSQL restart", "RSMEV_TEST_RESTART_POSTGRES").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_of_two_nodes_killed_mid_stream_loses_nothing_and_duplicates_nothing() {
    let _turn = SERIAL.lock().await;
    let Some(p) = Production::create().await else {
        return;
    };
    let bin = tokio::task::block_in_place(rsmev_binary);
    let dir = tempfile::tempdir().expect("temporary directory");
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    let consumer = Participant::generate("MFC");
    let provider = Participant::generate("FNS");

    // The registry, in the shared database, before the processes start.
    let mut config = node_config(&data_a, &NodeOptions::default());
    p.configure(&mut config);
    let store = open_store(&config).await.expect("store opens");
    register_inn_pair(
        &Admin::new(store.as_ref(), data_a.join("xsd")),
        &consumer,
        &provider,
    )
    .await;

    let env: Vec<(String, String)> = [
        ("RSMEV_STORAGE_DATABASE", p.database.url.clone()),
        ("RSMEV_STORAGE_MAX_CONNECTIONS", "4".to_owned()),
        ("RSMEV_RABBITMQ_URL", p.rabbitmq_url.clone()),
        ("RSMEV_RABBITMQ_PREFIX", p.prefix.clone()),
        ("RSMEV_RABBITMQ_SCAN_INTERVAL_MS", "200".to_owned()),
        ("RSMEV_LIMITS_LEASE_SECS", LEASE_SECS.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let a = tokio::task::block_in_place(|| Server::start_with_env(&bin, &data_a, dir.path(), 0, &env));
    // One node key for the deployment, as behind a load balancer: B gets A's (A writes it just
    // after it starts listening).
    for _ in 0..300 {
        if data_a.join("node-cert.pem").exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::create_dir_all(&data_b).expect("data directory");
    for f in ["node-key.pem", "node-cert.pem"] {
        std::fs::copy(data_a.join(f), data_b.join(f)).expect("node key");
    }
    let b = tokio::task::block_in_place(|| Server::start_with_env(&bin, &data_b, dir.path(), 1, &env));
    let node_cert = Certificate::from_pem_or_der(&std::fs::read(data_a.join("node-cert.pem")).expect("cert"))
        .expect("node certificate");
    let answers = Arc::new(Mutex::new(Vec::new()));
    let consumer_client = Client::new(&a.url, consumer, answers.clone(), Some(node_cert.clone()));
    let provider_client = Client::new(&a.url, provider, answers, Some(node_cert));

    let urls = Arc::new(Mutex::new(vec![a.url.clone(), b.url.clone()]));
    let survivor = b.url.clone();
    let seen = stream(&consumer_client, &provider_client, urls.clone(), async move {
        eprintln!("node kill: SIGKILL to node A");
        a.kill();
        // Clients keep calling the dead node for a while, as until a load balancer notices.
        tokio::time::sleep(Duration::from_secs(1)).await;
        *urls.lock().expect("urls") = vec![survivor];
    })
    .await;
    assert_exactly_once("node kill", &seen, store.as_ref()).await;
    store.close().await;
    b.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_is_answered_with_smev_failure_promptly_and_the_resend_is_accepted() {
    let _turn = SERIAL.lock().await;
    let (Some(stop), Some(start)) = (
        restart_command("RSMEV_TEST_STOP_POSTGRES"),
        restart_command("RSMEV_TEST_START_POSTGRES"),
    ) else {
        return;
    };
    if !Backend::Production.available().await {
        return;
    }
    let w = World::start(NodeOptions::on(Backend::Production)).await;
    let id = new_message_id();
    let xml = w
        .consumer
        .send_request_xml(&inn_request_payload("12345678901", "1990-01-02"), |d| {
            d.message_id = id.clone();
        });

    run_restart(&stop).await;
    // Started after the stop, so the server comes back even when an assertion fails.
    struct StartAgain(String);
    impl Drop for StartAgain {
        fn drop(&mut self) {
            let _ = std::process::Command::new("sh").arg("-c").arg(&self.0).status();
        }
    }
    let start_again = StartAgain(start.clone());

    let asked = std::time::Instant::now();
    let answer = tokio::time::timeout(CALL_TIMEOUT, w.consumer.try_post(&xml, None))
        .await
        .expect("answered while the database is down, not hung")
        .expect("an HTTP answer");
    let waited = asked.elapsed();
    answer.expect_fault("SMEVFailure");
    // The configured wait for a connection (5 s by default), and not much more.
    assert!(waited < Duration::from_secs(10), "answered after {waited:?}");
    let ready = reqwest::get(format!("{}/readyz", w.node.url))
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 503, "/readyz while the database is down");
    eprintln!("PostgreSQL down: SMEVFailure after {waited:?}, /readyz 503");

    run_restart(&start).await;
    drop(start_again);
    // The client retries with the same MessageID: accepted once, delivered once.
    let accepted = eventually(50, Duration::from_millis(200), || async {
        let a = w.consumer.try_post(&xml, None).await.ok()?;
        matches!(a.envelope, Envelope::SendRequestResponse(_)).then_some(())
    })
    .await;
    assert!(
        accepted.is_some(),
        "the resend was not accepted after the database came back"
    );
    let got = w.provider.get_request(None).await;
    assert_eq!(delivered(&got).sender_provided.message_id, id);
    w.provider.ack(&id).await.expect_ack();
    let events = w.node.store().history(uuid(id.as_str())).await.expect("history");
    assert_eq!(
        kinds(&events)
            .iter()
            .filter(|e| **e == EventKind::Accepted)
            .count(),
        1
    );
    w.node.shutdown().await;
}
