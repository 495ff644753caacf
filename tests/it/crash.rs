//! Durability across a crash: the real `rsmev serve` binary, killed with SIGKILL in the middle of
//! a stream of SendRequests and restarted on the same data directory. Nothing the node answered
//! "accepted" is lost, a request resent with the same MessageID after a lost answer is accepted
//! once (or refused as `MessageIsAlreadySent` when the first attempt had committed), every
//! request is delivered exactly once, and what was acked is never delivered again after another
//! restart.
//!
//! The binary is the one next to this test executable (`target/<profile>/rsmev`), built with
//! `$CARGO build -p rsmev-ops --bin rsmev` when it is missing or has no `serve` command;
//! `RSMEV_BIN` names another one.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsmev_broker::admin::{Admin, Mode};
use rsmev_broker::dsig::Certificate;
use rsmev_broker::envelope::{Envelope, MessageId};
use rsmev_broker::node::open_store;
use rsmev_broker::store::EventKind;
use rsmev_registry::InfoTypeKind;
use tokio::sync::watch;

use crate::harness::*;

/// How many requests the stream sends, by how many concurrent senders, and after how many
/// accepted answers the node is killed.
const REQUESTS: usize = 60;
const SENDERS: usize = 4;
const KILL_AFTER_ACCEPTED: usize = 20;

/// The `rsmev` binary to run.
fn rsmev_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("RSMEV_BIN") {
        let bin = PathBuf::from(bin);
        assert!(serves(&bin), "RSMEV_BIN={} cannot run `serve`", bin.display());
        return bin;
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/it-… → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test executable lies in target/<profile>/deps");
    let bin = profile_dir.join(format!("rsmev{}", std::env::consts::EXE_SUFFIX));
    if serves(&bin) {
        return bin;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| {
        panic!(
            "{} is missing or has no `serve` command, and CARGO is not set to build it; \
             run `cargo build -p rsmev-ops --bin rsmev` or set RSMEV_BIN",
            bin.display()
        )
    });
    let mut build = Command::new(cargo);
    build.args(["build", "-p", "rsmev-ops", "--bin", "rsmev"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    if let Some(target_dir) = profile_dir.parent() {
        build.arg("--target-dir").arg(target_dir);
    }
    let status = build
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build rsmev: {e}"));
    assert!(
        status.success(),
        "`cargo build -p rsmev-ops --bin rsmev` failed ({status})"
    );
    assert!(
        serves(&bin),
        "{} was built but `rsmev serve --help` fails: the binary has no `serve` command",
        bin.display()
    );
    bin
}

fn serves(bin: &Path) -> bool {
    bin.is_file()
        && Command::new(bin)
            .args(["serve", "--help"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// A running `rsmev serve` child. Dropping it kills it, so a failing test leaves no server
/// behind.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    /// Starts `bin serve` on a free port over `data` and waits until it accepts connections.
    fn start(bin: &Path, data: &Path, log_dir: &Path, generation: u32) -> Server {
        for attempt in 0..3 {
            // A port the system just handed out and released; if another process takes it
            // first, the child fails to bind and we try another.
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let log = log_dir.join(format!("node-{generation}-{attempt}.log"));
            let out = std::fs::File::create(&log).expect("log file");
            let err = out.try_clone().expect("log file");
            let child = Command::new(bin)
                .arg("serve")
                .arg("--listen")
                .arg(addr.to_string())
                .arg("--data")
                .arg(data)
                .env("RSMEV_LOG_LEVEL", "warn")
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut server = Server {
                child,
                url: format!("http://{addr}"),
                log,
            };
            if server.wait_until_listening(addr) {
                return server;
            }
        }
        panic!(
            "rsmev serve did not start on three ports; see the logs in {}",
            log_dir.display()
        );
    }

    /// Whether the child accepts connections on `addr` (false if it exited first).
    fn wait_until_listening(&mut self, addr: SocketAddr) -> bool {
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!(
                    "rsmev serve exited ({status}) before listening:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
                return false;
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "rsmev serve is not listening on {addr}:\n{}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown, no flush.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL the node");
        self.child.wait().expect("reap the node");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
        register(&admin, &consumer).await;
        register(&admin, &provider).await;
        admin
            .put_infotype(
                &infotype(&inn_request(), InfoTypeKind::Request, &provider),
                Mode::Add,
            )
            .await
            .expect("information type");
        grant(&admin, &consumer, &inn_request()).await;
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
