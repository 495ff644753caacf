//! The AMQP queue adapter (issue #4, point 3), black-box: `rsmev participant amqp-setup` creates
//! each participant's RabbitMQ user and queues; the consumer publishes a signed SendRequest to
//! the intake exchange and finds the node's signed answer on its reply queue; the provider finds
//! the request, signed by the node, in its inbox and acks it through the intake. Same pipeline,
//! history and accounting as SOAP. A user reads only its own queues, and an envelope signed by
//! another participant than the user's is refused with AccessDenied.
//!
//! Needs PostgreSQL, RabbitMQ and its management API (`RSMEV_TEST_RABBITMQ_MANAGEMENT`, default
//! `http://guest:guest@127.0.0.1:15672`); skipped, with a message, when they are absent and not
//! required.

use std::sync::Arc;
use std::time::Duration;

use lapin::options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use rsmev_broker::amqp::Topology;
use rsmev_broker::envelope::MessageType;
use rsmev_broker::store::EventKind;

use crate::harness::*;
use crate::process::rsmev_binary;

const DEFAULT_MANAGEMENT: &str = "http://127.0.0.1:15672";

/// The management API's URL, if it answers.
async fn management() -> Option<String> {
    let (url, required) = match std::env::var("RSMEV_TEST_RABBITMQ_MANAGEMENT") {
        Ok(url) => (url, true),
        Err(_) => (DEFAULT_MANAGEMENT.to_owned(), false),
    };
    let ok = reqwest::Client::new()
        .get(format!("{url}/api/overview"))
        .basic_auth("guest", Some("guest"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    match (ok, required) {
        (true, _) => Some(url),
        (false, false) => {
            eprintln!("skipped: no RabbitMQ management API at {url}; set RSMEV_TEST_RABBITMQ_MANAGEMENT");
            None
        }
        (false, true) => panic!("RSMEV_TEST_RABBITMQ_MANAGEMENT={url} does not answer"),
    }
}

/// `amqp-setup` for `mnemonic` through the real binary; returns the user's AMQP URL.
fn amqp_setup(node: &TestNode, p: &Production, management: &str, mnemonic: &str) -> String {
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let output = std::process::Command::new(rsmev_binary())
        .args(["participant", "amqp-setup", mnemonic])
        .arg("--data")
        .arg(node.data_dir())
        .args(["--database", &p.database.url, "--rabbitmq", &p.rabbitmq_url])
        .args(["--management-url", management, "--password", &password])
        .env("RSMEV_RABBITMQ_PREFIX", &p.prefix)
        .env("RSMEV_LOG_LEVEL", "warn")
        .output()
        .expect("rsmev runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "amqp-setup failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let user = format!("{}-{mnemonic}", p.prefix);
    assert!(stdout.contains(&user), "{stdout}");
    let (scheme_host, vhost) = p.rabbitmq_url.rsplit_once('/').expect("vhost in the URL");
    let host = scheme_host
        .rsplit_once('@')
        .map_or(scheme_host.trim_start_matches("amqp://"), |(_, h)| h);
    format!("amqp://{user}:{password}@{host}/{vhost}")
}

/// Deletes the users the test made, also when it fails.
struct Users(String, Vec<String>);

impl Drop for Users {
    fn drop(&mut self) {
        let (api, users) = (self.0.clone(), self.1.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                for user in users {
                    let _ = reqwest::Client::new()
                        .delete(format!("{api}/api/users/{user}"))
                        .basic_auth("guest", Some("guest"))
                        .send()
                        .await;
                }
            });
        })
        .join();
    }
}

/// The next message of `queue`, waiting up to 15 s.
async fn next(channel: &lapin::Channel, queue: &str) -> lapin::message::BasicGetMessage {
    for _ in 0..150 {
        if let Some(m) = channel
            .basic_get(queue.into(), BasicGetOptions { no_ack: false })
            .await
            .unwrap_or_else(|e| panic!("basic.get {queue}: {e}"))
        {
            m.delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .expect("ack");
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing arrived in {queue}");
}

async fn publish(channel: &lapin::Channel, topology: &Topology, user: &str, correlation: &str, xml: &str) {
    channel
        .basic_publish(
            topology.intake().as_str().into(),
            "".into(),
            BasicPublishOptions::default(),
            xml.as_bytes(),
            BasicProperties::default()
                .with_delivery_mode(2)
                .with_user_id(user.into())
                .with_correlation_id(correlation.into()),
        )
        .await
        .expect("publish")
        .await
        .expect("confirm");
}

/// The answer in `m` as the harness reads HTTP answers (node signature checked).
fn answer(client: &Client, m: &lapin::message::BasicGetMessage) -> Answer {
    let body = String::from_utf8(m.delivery.data.clone()).expect("UTF-8");
    let status = if body.contains(":Fault>") { 500 } else { 200 };
    client.read_answer(status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn participants_exchange_over_amqp_through_the_same_pipeline_as_soap() {
    if !Backend::Production.available().await {
        return;
    }
    let Some(api) = management().await else { return };
    let p = Arc::new(Production::create().await.expect("servers"));
    let node = TestNode::start_with(NodeOptions::on(Backend::Production), Some(p.clone()), |_| {}).await;
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;
    let topology = Topology {
        prefix: p.prefix.clone(),
    };
    let _users = Users(
        api.clone(),
        vec![format!("{}-MFC", p.prefix), format!("{}-FNS", p.prefix)],
    );
    let (mfc_url, fns_url) = tokio::task::block_in_place(|| {
        (
            amqp_setup(&w.node, &p, &api, "MFC"),
            amqp_setup(&w.node, &p, &api, "FNS"),
        )
    });
    let mfc = Connection::connect(&mfc_url, ConnectionProperties::default())
        .await
        .expect("MFC's user logs in");
    let fns = Connection::connect(&fns_url, ConnectionProperties::default())
        .await
        .expect("FNS's user logs in");
    let (mfc_ch, fns_ch) = (
        mfc.create_channel().await.expect("channel"),
        fns.create_channel().await.expect("channel"),
    );
    for ch in [&mfc_ch, &fns_ch] {
        ch.confirm_select(Default::default()).await.expect("confirms");
    }
    let mfc_user = format!("{}-MFC", p.prefix);
    let fns_user = format!("{}-FNS", p.prefix);
    let mfc_q = |what: &str| format!("{}.MFC.{what}", p.prefix);
    let fns_q = |what: &str| format!("{}.FNS.{what}", p.prefix);

    // SendRequest through the intake: the answer is the signed MessageMetadata.
    let id = new_message_id();
    let xml = w
        .consumer
        .send_request_xml(&inn_request_payload("12345678901", "1990-01-02"), |d| {
            d.message_id = id.clone();
        });
    publish(&mfc_ch, &topology, &mfc_user, "send-1", &xml).await;
    let reply = next(&mfc_ch, &mfc_q("replies")).await;
    assert_eq!(
        reply
            .delivery
            .properties
            .correlation_id()
            .as_ref()
            .map(|c| c.as_str()),
        Some("send-1")
    );
    let meta = answer(&w.consumer, &reply).accepted().clone();
    assert_eq!(meta.message_id.as_ref(), Some(&id));
    assert_eq!(meta.message_type, MessageType::Request);

    // The provider finds it in its inbox, signed by the node, and acks through the intake.
    let delivered_msg = next(&fns_ch, &fns_q("inbox")).await;
    let got = answer(&w.provider, &delivered_msg);
    assert_eq!(delivered(&got).sender_provided.message_id, id);
    publish(&fns_ch, &topology, &fns_user, "ack-1", &w.provider.ack_xml(&id)).await;
    let acked = next(&fns_ch, &fns_q("replies")).await;
    answer(&w.provider, &acked).expect_ack();

    // The same history and accounting as over SOAP.
    let history = w.node.history(id.as_str()).await;
    assert_eq!(
        history,
        [
            EventKind::Received,
            EventKind::Accepted,
            EventKind::Queued,
            EventKind::Leased,
            EventKind::Acked
        ]
    );
    let usage = w
        .node
        .store()
        .usage(
            time::OffsetDateTime::now_utc()
                .date()
                .previous_day()
                .expect("a day"),
            time::OffsetDateTime::now_utc().date().next_day().expect("a day"),
        )
        .await
        .expect("usage");
    assert!(
        usage.iter().any(|u| u.participant == "MFC" && u.count == 1),
        "{usage:?}"
    );

    // An envelope signed by FNS, published by MFC's user: refused, nothing done.
    publish(
        &mfc_ch,
        &topology,
        &mfc_user,
        "forged",
        &w.provider.get_request_xml(None),
    )
    .await;
    let refused = next(&mfc_ch, &mfc_q("replies")).await;
    answer(&w.consumer, &refused).expect_fault("AccessDenied");

    // A user reads only its own queues.
    let other = fns.create_channel().await.expect("channel");
    let denied = other
        .basic_get(mfc_q("inbox").as_str().into(), BasicGetOptions { no_ack: false })
        .await;
    assert!(denied.is_err(), "FNS read MFC's inbox");

    let _ = mfc.close(200, "done".into()).await;
    let _ = fns.close(200, "done".into()).await;
    w.node.shutdown().await;
}
