//! The federal link (`adapters/smev3`) between two real nodes: a second node started in this
//! process plays the federal SMEV 3 (the node is wire-compatible with it, so this is a real peer,
//! not a mock), the regional node runs the link from `[federal]` exactly as `rsmev serve` wires it.
//!
//! Upstream, the regional node is the participant `REGION` (the link's key); on the regional
//! node the link is the participant `SMEV3` with the same certificate. The link reaches the
//! federal node through a recording proxy: every message it sent upstream, and every answer it
//! got, is validated against the real 1.3 XSD when a test ends.

use std::future::Future;
use std::time::Duration;

use rsmev_broker::adapter::AdapterHealth;
use rsmev_broker::config::NodeConfig;
use rsmev_broker::envelope::{RejectionReasonCode, ResponseContent};
use rsmev_broker::store::{EventKind, QueueKind};
use rsmev_registry::{InfoTypeKind, Mnemonic, QName};

use crate::backend::Backend;
use crate::conformance::Schemas;
use crate::harness::{
    INN_XSD, NodeOptions, Participant, TestNode, answer, delivered, delivered_response, infotype,
    inn_request, inn_request_payload, inn_response, inn_response_payload,
};
use crate::proxy::RecordingProxy;

on_every_backend! {
    a_federal_request_goes_upstream_on_behalf_of_the_node_and_its_answer_comes_back,
    an_upstream_refusal_reaches_the_regional_sender_as_request_rejected_with_the_federal_fault,
    a_relayed_request_reaches_upstream_byte_for_byte_with_its_senders_signature,
    a_federal_request_to_a_regional_provider_is_injected_once_and_answered_upstream,
    while_the_upstream_is_down_requests_wait_visibly_and_cross_once_when_it_is_back,
    content_refused_upstream_and_a_full_upstream_queue_reach_the_sender_as_rejections,
}

/// Steps each direction of the link runs at once in these tests.
const WORKERS: u32 = 2;

/// How long a message may take to cross the link in these tests (it polls every 50 ms).
const CROSSING: Duration = Duration::from_secs(20);

/// Calls `probe` until it returns `Some`, for at most [`CROSSING`].
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + CROSSING;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: nothing after {CROSSING:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A type the regional providers serve to the federal level.
pub(crate) fn registry_request() -> QName {
    QName::new("urn://rsmev/test/region/1.0.0", "RegistryRequest")
}

pub(crate) fn registry_response() -> QName {
    QName::new("urn://rsmev/test/region/1.0.0", "RegistryResponse")
}

pub(crate) fn registry_request_payload(n: &str) -> String {
    format!(
        r#"<r:RegistryRequest xmlns:r="urn://rsmev/test/region/1.0.0"><r:N>{n}</r:N></r:RegistryRequest>"#
    )
}

pub(crate) fn registry_response_payload(n: &str) -> String {
    format!(
        r#"<r:RegistryResponse xmlns:r="urn://rsmev/test/region/1.0.0"><r:N>{n}</r:N></r:RegistryResponse>"#
    )
}

/// The two nodes and their participants.
pub(crate) struct Federation {
    pub(crate) federal: TestNode,
    pub(crate) region: TestNode,
    /// Federal provider of `InnRequest`.
    pub(crate) fns: Participant,
    /// Federal consumer of `RegistryRequest`.
    pub(crate) epgu: Participant,
    /// Regional consumer of `InnRequest` (federal).
    pub(crate) mfc: Participant,
    /// Regional provider of `RegistryRequest`.
    pub(crate) agency: Participant,
    /// Between the link and the federal node.
    upstream: RecordingProxy,
    /// The regional node's `[federal]`.
    link_config: rsmev_broker::config::FederalConfig,
    /// Kept for the key files the link reads.
    _keys: tempfile::TempDir,
}

impl Federation {
    /// Starts both nodes, the regional one on `backend` (the federal one embedded); `relay` lists the regional participants relayed byte for byte.
    async fn start(backend: Backend, relay: &[&str]) -> Federation {
        Federation::start_with(backend, relay, NodeOptions::default()).await
    }

    /// [`Federation::start`] with the federal node started with `federal`.
    async fn start_with(backend: Backend, relay: &[&str], federal: NodeOptions) -> Federation {
        Federation::start_tweaked(backend, relay, federal, |_| {}, |_| {}).await
    }

    /// [`Federation::start_with`], each node's configuration changed by its `tweak` (the
    /// regional one after its `[federal]` is set).
    pub(crate) async fn start_tweaked(
        backend: Backend,
        relay: &[&str],
        federal: NodeOptions,
        federal_tweak: impl FnOnce(&mut NodeConfig),
        region_tweak: impl FnOnce(&mut NodeConfig),
    ) -> Federation {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let federal = TestNode::start_tweaked(federal, federal_tweak).await;
        let link = Participant::generate("REGION");
        federal.register(&link).await;
        let fns = federal.participant("FNS").await;
        let epgu = federal.participant("EPGU").await;
        let mfc_key = Participant::generate("MFC");
        federal
            .infotype(infotype(&inn_request(), InfoTypeKind::Request, &fns))
            .await;
        federal
            .infotype(infotype(&inn_response(), InfoTypeKind::Response, &fns))
            .await;
        federal.grant(&link, &inn_request()).await;
        federal
            .infotype(infotype(&registry_request(), InfoTypeKind::Request, &link))
            .await;
        federal
            .infotype(infotype(&registry_response(), InfoTypeKind::Response, &link))
            .await;
        federal.grant(&epgu, &registry_request()).await;
        if relay.contains(&"MFC") {
            // Registered federally under its own mnemonic, as relay mode requires.
            federal.register(&mfc_key).await;
            federal.grant(&mfc_key, &inn_request()).await;
        }

        let keys = tempfile::tempdir().expect("temporary directory");
        let key = keys.path().join("link-key.pem");
        let cert = keys.path().join("link-cert.pem");
        std::fs::write(&key, &link.key_pem).expect("link key");
        std::fs::write(&cert, &link.cert_pem).expect("link certificate");
        let upstream = RecordingProxy::start(&federal.url).await;
        let endpoint = format!("{}/ws", upstream.url);
        let relay: Vec<String> = relay.iter().map(|m| (*m).to_owned()).collect();
        let mut link_config = None;
        let region = TestNode::start_tweaked(NodeOptions::on(backend), |c| {
            c.federal.endpoint = endpoint;
            c.federal.mnemonic = "REGION".into();
            c.federal.participant = "SMEV3".into();
            c.federal.key = key.display().to_string();
            c.federal.cert = cert.display().to_string();
            c.federal.poll_interval_ms = 50;
            c.federal.max_backoff_secs = 1;
            c.federal.workers = WORKERS;
            c.federal.relay = relay;
            region_tweak(c);
            link_config = Some(c.federal.clone());
        })
        .await;
        let link_config = link_config.expect("the regional node's [federal]");
        let local_link = Participant {
            mnemonic: Mnemonic::new("SMEV3").expect("mnemonic"),
            ..link
        };
        region.register(&local_link).await;
        region.register(&mfc_key).await;
        let mfc = mfc_key;
        let agency = region.participant("AGENCY").await;
        let federal_type = |q: &QName, kind| rsmev_registry::InfoType {
            federal: true,
            ..infotype(q, kind, &local_link)
        };
        region
            .infotype(federal_type(&inn_request(), InfoTypeKind::Request))
            .await;
        region
            .infotype(federal_type(&inn_response(), InfoTypeKind::Response))
            .await;
        region.grant(&mfc, &inn_request()).await;
        region
            .infotype(infotype(&registry_request(), InfoTypeKind::Request, &agency))
            .await;
        region
            .infotype(infotype(&registry_response(), InfoTypeKind::Response, &agency))
            .await;
        region.grant(&local_link, &registry_request()).await;
        Federation {
            federal,
            region,
            fns,
            epgu,
            mfc,
            agency,
            upstream,
            link_config,
            _keys: keys,
        }
    }

    /// Stops both nodes, then checks what crossed the link: every request the link sent upstream
    /// and every SOAP answer it got is valid 1.3 (when `RSMEV_REFERENCE` names the schemas).
    pub(crate) async fn shutdown(self) {
        self.region.shutdown().await;
        self.federal.shutdown().await;
        let traffic = self.upstream.log();
        assert!(!traffic.is_empty(), "nothing crossed the link");
        let Some(reference) = crate::reference_or_skip("federal link traffic against the 1.3 XSD") else {
            return;
        };
        let schemas = Schemas::load(&reference);
        let mut failures = Vec::new();
        for (i, exchanged) in traffic.iter().enumerate() {
            if exchanged.action == "urn:GetIncomingQueueStatistics" {
                // Not 1.3 and never sent by the link's directions: `rsmev federal status` asks
                // for it as an extension some nodes answer (and says so when one refuses).
                continue;
            }
            for (what, body) in [("request", &exchanged.request), ("answer", &exchanged.answer)] {
                if body.is_empty() {
                    continue; // the proxy's own 503: nothing reached the node
                }
                match schemas.check(body) {
                    None => failures.push(format!(
                        "#{i} {what} ({}): nothing schema-typed\n{body}",
                        exchanged.action
                    )),
                    Some(v) if !v.is_empty() => {
                        failures.push(format!(
                            "#{i} {what} ({}): {}\n{body}",
                            exchanged.action,
                            v.join("\n")
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} messages across the link are not valid 1.3:\n\n{}",
            failures.len(),
            traffic.len() * 2,
            failures.join("\n\n")
        );
    }
}

async fn a_federal_request_goes_upstream_on_behalf_of_the_node_and_its_answer_comes_back(backend: Backend) {
    let f = Federation::start(backend, &[]).await;
    let mfc = f.region.client(&f.mfc);
    let fns = f.federal.client(&f.fns);

    let sent = mfc
        .send_request_with(&inn_request_payload("12345678901", "1990-01-02"), |d| {
            d.test_message = true;
        })
        .await;
    let meta = sent.accepted();
    let id = meta.message_id.clone().expect("MessageId");
    assert_eq!(
        meta.recipient.as_ref().and_then(|p| p.mnemonic.as_deref()),
        Some("SMEV3"),
        "locally, a federal type is addressed to the link"
    );

    // Upstream: the federal provider gets it under the same MessageID, from REGION, re-signed.
    let got = eventually("the request upstream", || async {
        let a = fns.get_request(Some(&inn_request())).await;
        a.request().is_some().then_some(a)
    })
    .await;
    let request = delivered(&got);
    assert_eq!(request.sender_provided.message_id, id);
    assert!(request.sender_provided.test_message, "TestMessage kept upstream");
    assert_eq!(
        request
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.as_deref()),
        Some("REGION")
    );
    let reply_to = request.reply_to.clone().expect("ReplyTo");

    // The upstream receipt time is in the message's history on the regional node, and the
    // request was acked there only after the upstream accepted it.
    let events = eventually("the local ack of the forwarded request", || async {
        let events = f.region.store().history(id.to_uuid()).await.expect("history");
        events
            .iter()
            .any(|e| e.event == EventKind::Acked)
            .then_some(events)
    })
    .await;
    let forwarded = events
        .iter()
        .position(|e| e.event == EventKind::Forwarded)
        .unwrap_or_else(|| panic!("no forwarded event: {events:?}"));
    let detail = &events[forwarded].detail;
    assert!(
        detail.contains("SendingTimestamp") && detail.contains("on behalf"),
        "{detail}"
    );
    let acked = events.iter().position(|e| e.event == EventKind::Acked);
    assert!(
        acked > Some(forwarded),
        "acked before it was forwarded: {events:?}"
    );

    // The federal answer reaches the regional requester.
    let answered = fns
        .send_response(&reply_to, answer(&inn_response_payload("7701234567")))
        .await;
    let response_id = answered.accepted().message_id.clone().expect("MessageId");
    fns.ack(&id).await.expect_ack();
    let back = eventually("the answer on the regional node", || async {
        let a = mfc.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&back);
    assert_eq!(response.original_message_id.as_ref(), Some(&id));
    assert_eq!(
        response.sender_provided.message_id, response_id,
        "the same MessageID on both nodes"
    );
    match &response.sender_provided.content {
        ResponseContent::Answer { primary_content, .. } => {
            assert_eq!(
                primary_content.element().as_str(),
                inn_response_payload("7701234567")
            );
        }
        other => panic!("not an answer: {other:?}"),
    }
    mfc.ack(&response_id).await.expect_ack();

    // Acked upstream after the regional commit: nothing is left in REGION's upstream queue.
    let upstream_history = eventually("the upstream ack", || async {
        let events = f.federal.history(response_id.as_str()).await;
        events.contains(&EventKind::Acked).then_some(events)
    })
    .await;
    assert_eq!(
        upstream_history
            .iter()
            .filter(|e| **e == EventKind::Acked)
            .count(),
        1,
        "{upstream_history:?}"
    );
    f.shutdown().await;
}

async fn an_upstream_refusal_reaches_the_regional_sender_as_request_rejected_with_the_federal_fault(
    backend: Backend,
) {
    let f = Federation::start(backend, &[]).await;
    // A federal type the upstream does not grant REGION: upstream answers AccessDenied.
    let denied = QName::new("urn://rsmev/test/inn/1.0.0", "InnRequest");
    f.federal
        .admin()
        .revoke(&rsmev_registry::Grant {
            consumer: Mnemonic::new("REGION").expect("mnemonic"),
            infotype: denied,
        })
        .await
        .expect("revoke");
    let mfc = f.region.client(&f.mfc);
    let sent = mfc
        .send_request(&inn_request_payload("12345678901", "1990-01-02"))
        .await;
    let id = sent.accepted().message_id.clone().expect("MessageId");

    let back = eventually("the rejection on the regional node", || async {
        let a = mfc.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&back);
    assert_eq!(response.original_message_id.as_ref(), Some(&id));
    match &response.sender_provided.content {
        ResponseContent::Rejected(reasons) => {
            assert_eq!(reasons[0].code, RejectionReasonCode::AccessDenied);
            assert!(
                reasons[0].description.contains("AccessDenied"),
                "{}",
                reasons[0].description
            );
        }
        other => panic!("not a rejection: {other:?}"),
    }
    let events = eventually("the refusal in the history", || async {
        let events = f.region.history(id.as_str()).await;
        events.contains(&EventKind::Acked).then_some(events)
    })
    .await;
    assert!(events.contains(&EventKind::Upstream), "{events:?}");
    assert!(!events.contains(&EventKind::Forwarded), "{events:?}");
    f.shutdown().await;
}

async fn a_relayed_request_reaches_upstream_byte_for_byte_with_its_senders_signature(backend: Backend) {
    let f = Federation::start(backend, &["MFC"]).await;
    let mfc = f.region.client(&f.mfc);
    let fns = f.federal.client(&f.fns);
    let sent = mfc
        .send_request(&inn_request_payload("12345678901", "1990-01-02"))
        .await;
    let id = sent.accepted().message_id.clone().expect("MessageId");
    let got = eventually("the relayed request upstream", || async {
        let a = fns.get_request(Some(&inn_request())).await;
        a.request().is_some().then_some(a)
    })
    .await;
    let request = delivered(&got);
    assert_eq!(request.sender_provided.message_id, id);
    assert_eq!(
        request
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.as_deref()),
        Some("MFC"),
        "upstream, the sender is the relayed system itself"
    );
    assert_eq!(
        got.relayed_sender_certificate().to_pem(),
        rsmev_broker::dsig::Certificate::from_pem(&f.mfc.cert_pem)
            .expect("certificate")
            .to_pem(),
        "the ЭП-ОВ is the MFC's own"
    );
    let events = eventually("the forwarded event", || async {
        let events = f.region.store().history(id.to_uuid()).await.expect("history");
        events
            .iter()
            .any(|e| e.event == EventKind::Forwarded)
            .then_some(events)
    })
    .await;
    assert!(
        events
            .iter()
            .any(|e| e.event == EventKind::Forwarded && e.detail.contains("relayed")),
        "{events:?}"
    );
    f.shutdown().await;
}

async fn a_federal_request_to_a_regional_provider_is_injected_once_and_answered_upstream(backend: Backend) {
    let f = Federation::start(backend, &[]).await;
    let epgu = f.federal.client(&f.epgu);
    let agency = f.region.client(&f.agency);

    let sent = epgu
        .send_request_with(&registry_request_payload("1"), |d| d.test_message = true)
        .await;
    let id = sent.accepted().message_id.clone().expect("MessageId");

    let got = eventually("the federal request on the regional node", || async {
        let a = agency.get_request(None).await;
        a.request().is_some().then_some(a)
    })
    .await;
    let request = delivered(&got);
    assert_eq!(
        request.sender_provided.message_id, id,
        "the upstream MessageID, kept"
    );
    assert!(
        request.sender_provided.test_message,
        "TestMessage kept from upstream"
    );
    assert_eq!(
        request
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.as_deref()),
        Some("SMEV3")
    );
    let reply_to = request.reply_to.clone().expect("ReplyTo");
    let answered = agency
        .send_response(&reply_to, answer(&registry_response_payload("1")))
        .await;
    let response_id = answered.accepted().message_id.clone().expect("MessageId");
    agency.ack(&id).await.expect_ack();

    let back = eventually("the regional answer upstream", || async {
        let a = epgu.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&back);
    assert_eq!(response.original_message_id.as_ref(), Some(&id));
    assert_eq!(response.sender_provided.message_id, response_id);
    epgu.ack(&response_id).await.expect_ack();

    // Injected once: one accepted request on the regional node, acked once upstream.
    let regional = f.region.history(id.as_str()).await;
    assert_eq!(
        regional.iter().filter(|e| **e == EventKind::Accepted).count(),
        1,
        "{regional:?}"
    );
    let upstream = eventually("the upstream ack of the request", || async {
        let events = f.federal.history(id.as_str()).await;
        events.contains(&EventKind::Acked).then_some(events)
    })
    .await;
    assert_eq!(
        upstream.iter().filter(|e| **e == EventKind::Acked).count(),
        1,
        "{upstream:?}"
    );
    // The link acked the provider's answer locally after the upstream accepted it.
    let local_answer = eventually("the local ack of the answer", || async {
        let events = f.region.history(response_id.as_str()).await;
        events.contains(&EventKind::Acked).then_some(events)
    })
    .await;
    assert!(local_answer.contains(&EventKind::Forwarded), "{local_answer:?}");
    f.shutdown().await;
}

async fn while_the_upstream_is_down_requests_wait_visibly_and_cross_once_when_it_is_back(backend: Backend) {
    let f = Federation::start(backend, &[]).await;
    let mfc = f.region.client(&f.mfc);
    let fns = f.federal.client(&f.fns);
    f.upstream.set_down(true);

    // Accepted locally while the upstream is unreachable: the link is degraded, naming why, and
    // the request waits in the link's queue on this node.
    let mut ids = Vec::new();
    for n in 0..3 {
        let sent = mfc
            .send_request(&inn_request_payload(&format!("1234567890{n}"), "1990-01-02"))
            .await;
        ids.push(sent.accepted().message_id.clone().expect("MessageId"));
    }
    let why = eventually("the link degraded", || async {
        f.region
            .node
            .adapters()
            .health()
            .into_iter()
            .find_map(|(name, health)| match health {
                AdapterHealth::Degraded(why) if name == "smev3" && why.contains("requests-out") => Some(why),
                _ => None,
            })
    })
    .await;
    assert!(why.contains("503"), "{why}");
    let unreachable = rsmev_smev3::upstream_queues(&f.link_config)
        .await
        .expect_err("no upstream statistics while it is down");
    assert!(unreachable.contains("503"), "{unreachable}");
    let link = Mnemonic::new("SMEV3").expect("mnemonic");
    let depths = f
        .region
        .store()
        .queue_depths(Some(&link), time::OffsetDateTime::now_utc())
        .await
        .expect("queue depths");
    let waiting = depths
        .iter()
        .find(|d| d.queue == QueueKind::Requests)
        .map_or(0, |d| d.pending);
    assert_eq!(waiting, 3, "the backlog is the link's queue here: {depths:?}");
    // The rest doubles from 50 ms to max_backoff (1 s) in under 2 s; then each worker of the
    // three directions that call upstream tries about once a second (at 50 ms it would be 40
    // calls each in 2 s).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attempts = f.upstream.log().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = f.upstream.log().len() - attempts;
    let most = 3 * WORKERS as usize * 3;
    assert!(
        during <= most,
        "the link backs off while the upstream is down: {during} calls in 2 s (at most {most})"
    );

    // Back: every request crosses, each once, without waiting for its lease to expire.
    f.upstream.set_down(false);
    let mut upstream_ids = Vec::new();
    while upstream_ids.len() < ids.len() {
        let got = eventually("the requests upstream", || async {
            let a = fns.get_request(Some(&inn_request())).await;
            a.request().is_some().then_some(a)
        })
        .await;
        let id = delivered(&got).sender_provided.message_id.clone();
        fns.ack(&id).await.expect_ack();
        upstream_ids.push(id);
    }
    upstream_ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(upstream_ids, ids);
    assert!(
        fns.get_request(Some(&inn_request())).await.request().is_none(),
        "nothing crossed twice"
    );
    eventually("the link up again", || async {
        f.region
            .node
            .adapters()
            .health()
            .into_iter()
            .any(|(name, health)| name == "smev3" && health == AdapterHealth::Up)
            .then_some(())
    })
    .await;
    for id in &ids {
        let events = f.region.history(id.as_str()).await;
        assert_eq!(
            events.iter().filter(|e| **e == EventKind::Forwarded).count(),
            1,
            "{events:?}"
        );
    }
    // The link's queues upstream, as the upstream counts them: all drained.
    let queues = rsmev_smev3::upstream_queues(&f.link_config)
        .await
        .expect("upstream statistics");
    assert_eq!(
        queues,
        [
            ("REGION/requests".to_owned(), 0),
            ("REGION/responses".to_owned(), 0),
            ("REGION/statuses".to_owned(), 0)
        ],
    );
    f.shutdown().await;
}

async fn content_refused_upstream_and_a_full_upstream_queue_reach_the_sender_as_rejections(backend: Backend) {
    // Upstream queues hold one message; upstream format control the region does not have.
    let federal = NodeOptions {
        queue_quota: 1,
        ..NodeOptions::default()
    };
    let f = Federation::start_with(backend, &[], federal).await;
    f.federal.xsd_set("inn", &[("inn.xsd", INN_XSD)]).await;
    f.federal
        .admin()
        .put_infotype(
            &rsmev_registry::InfoType {
                xsd: Some("inn".into()),
                ..infotype(&inn_request(), InfoTypeKind::Request, &f.fns)
            },
            rsmev_broker::admin::Mode::Upsert,
        )
        .await
        .expect("format control upstream");
    let mfc = f.region.client(&f.mfc);
    let fns = f.federal.client(&f.fns);

    // The first request crosses and fills the federal provider's queue (nobody reads it yet).
    let first = mfc
        .send_request(&inn_request_payload("12345678901", "1990-01-02"))
        .await;
    let first = first.accepted().message_id.clone().expect("MessageId");
    eventually("the first request forwarded", || async {
        let events = f.region.history(first.as_str()).await;
        events.contains(&EventKind::Forwarded).then_some(())
    })
    .await;

    // Content only the upstream checks: accepted here, refused there as InvalidContent.
    let invalid = mfc
        .send_request(&inn_request_payload("not-a-number", "1990-01-02"))
        .await;
    let invalid = invalid.accepted().message_id.clone().expect("MessageId");
    let (code, text) = rejection_of(&mfc, &invalid).await;
    assert_eq!(code, RejectionReasonCode::UnknownRequestDescription, "{text}");
    assert!(text.contains("InvalidContent"), "{text}");

    // A valid request to the full queue: refused there as DestinationOverflow.
    let overflow = mfc
        .send_request(&inn_request_payload("12345678902", "1990-01-02"))
        .await;
    let overflow = overflow.accepted().message_id.clone().expect("MessageId");
    let (code, text) = rejection_of(&mfc, &overflow).await;
    assert_eq!(code, RejectionReasonCode::Failure, "{text}");
    assert!(text.contains("DestinationOverflow"), "{text}");

    // The first one is untouched by the others' refusals.
    let got = fns.get_request(Some(&inn_request())).await;
    assert_eq!(delivered(&got).sender_provided.message_id, first);
    for id in [&invalid, &overflow] {
        let events = f.region.history(id.as_str()).await;
        assert!(events.contains(&EventKind::Upstream), "{events:?}");
        assert!(!events.contains(&EventKind::Forwarded), "{events:?}");
    }
    f.shutdown().await;
}

/// The RequestRejected answering `id` in the requester's response queue (acked once read).
pub(crate) async fn rejection_of(
    client: &crate::harness::Client,
    id: &rsmev_broker::envelope::MessageId,
) -> (RejectionReasonCode, String) {
    let back = eventually("the rejection on the regional node", || async {
        let a = client.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&back);
    assert_eq!(response.original_message_id.as_ref(), Some(id));
    let answer_id = response.sender_provided.message_id.clone();
    let rejected = match &response.sender_provided.content {
        ResponseContent::Rejected(reasons) => (reasons[0].code, reasons[0].description.clone()),
        other => panic!("not a rejection: {other:?}"),
    };
    client.ack(&answer_id).await.expect_ack();
    rejected
}
