//! Interoperability with an independent client: `tests/interop/smev_client.py`, a consumer built
//! with Python zeep (SOAP, from the node's WSDL at `/ws?wsdl`) and signxml (XMLDSig), sends a
//! signed request; this test, as the provider, takes it, checks the Python signature survived the
//! relay, and answers; the Python client takes the response, Acks it and reports what it got as
//! JSON.
//!
//! The interpreter is `RSMEV_PYTHON` (a virtual environment with zeep and signxml; `.ci/run`
//! creates one). Without it the test says so and passes, unless `RSMEV_REQUIRE_INTEROP` is set
//! (CI sets it), when it fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rsmev_broker::dsig::Certificate;
use rsmev_broker::store::EventKind;

use crate::harness::*;

fn python_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("RSMEV_PYTHON") {
        return Some(PathBuf::from(python));
    }
    if std::env::var_os("RSMEV_REQUIRE_INTEROP").is_some() {
        panic!(
            "{test}: RSMEV_REQUIRE_INTEROP is set but RSMEV_PYTHON is not; create a virtual \
             environment with `pip install zeep==4.3.3 signxml==5.2.0` and point RSMEV_PYTHON at \
             its python"
        );
    }
    eprintln!("{test}: RSMEV_PYTHON is not set; the Python zeep/signxml client was not run");
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_zeep_and_signxml_consumer_completes_a_signed_exchange_from_the_wsdl() {
    let Some(python) =
        python_or_skip("a_python_zeep_and_signxml_consumer_completes_a_signed_exchange_from_the_wsdl")
    else {
        return;
    };
    let w = World::start(NodeOptions::default()).await;
    // One consumer signing with ECDSA P-256, one with RSA-2048.
    for consumer in [
        Participant::generate("PYCLIENT"),
        Participant::with_rsa_key("PYCLIENT-RSA"),
    ] {
        w.node.register(&consumer).await;
        w.node.grant(&consumer, &inn_request()).await;
        exchange_with(&w, &python, &consumer).await;
    }
    w.node.shutdown().await;
}

/// One request → response exchange between the Python client signing as `consumer` and the
/// world's provider.
async fn exchange_with(w: &World, python: &Path, consumer: &Participant) {
    let name = consumer.mnemonic.as_str();
    let files = w.node.dir.path();
    let key = files.join(format!("{name}-key.pem"));
    let cert = files.join(format!("{name}-cert.pem"));
    let payload_file = files.join(format!("{name}-payload.xml"));
    let payload = inn_request_payload("98765432109", "1985-07-14");
    std::fs::write(&key, &consumer.key_pem).expect("key file");
    std::fs::write(&cert, &consumer.cert_pem).expect("certificate file");
    std::fs::write(&payload_file, &payload).expect("payload file");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop/smev_client.py");

    let child = tokio::process::Command::new(python)
        .arg(&script)
        .arg("--wsdl")
        .arg(format!("{}/ws?wsdl", w.node.url))
        .arg("--key")
        .arg(&key)
        .arg("--cert")
        .arg(&cert)
        .arg("--payload")
        .arg(&payload_file)
        .arg("--timeout")
        .arg("60")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let mut output = tokio::spawn(child.wait_with_output());

    // The provider's side: take the request, check whose signature it carries, answer it.
    let polled = eventually(6, Duration::ZERO, || async {
        let got = w.provider.get_request_waiting(None, Some(10)).await;
        got.request().is_some().then_some(got)
    });
    let got = tokio::select! {
        got = polled => got,
        // The client gave up (or could not even read the WSDL) before sending.
        out = &mut output => {
            let out = out.expect("python task").expect("python output");
            panic!(
                "{name}: the Python client exited ({}) before its request reached the provider:\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    };
    let got = got.unwrap_or_else(|| panic!("{name}: the Python client's request never reached the provider"));
    let request = delivered(&got);
    let request_id = request.sender_provided.message_id.clone();
    assert_eq!(
        request.sender_provided.primary_content.element().as_str(),
        payload,
        "the business document travels byte for byte"
    );
    assert_eq!(
        request
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.as_deref()),
        Some(name),
        "the node attributed the signxml signature to the Python client's certificate"
    );
    assert_eq!(
        got.relayed_sender_certificate(),
        Certificate::from_pem(&consumer.cert_pem).expect("certificate"),
        "the signxml signature still verifies in the relayed request"
    );
    w.provider.ack(&request_id).await.expect_ack();
    let reply_to = request.reply_to.clone().expect("ReplyTo");
    let response_payload = inn_response_payload("500100732259");
    let sent = w
        .provider
        .send_response(&reply_to, answer(&response_payload))
        .await;
    let response_id = sent.accepted().message_id.clone().expect("MessageId");

    // The Python side finishes: GetResponse, Ack, and its report.
    let out = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the Python client finishes")
        .expect("python task")
        .expect("python output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python client failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the Python client's report is not JSON ({e}):\n{stdout}\n{stderr}"));
    let field = |path: &[&str]| -> String {
        let mut v = &report;
        for p in path {
            v = &v[p];
        }
        v.as_str()
            .unwrap_or_else(|| panic!("report lacks {path:?}:\n{report:#}"))
            .to_owned()
    };
    assert_eq!(field(&["request_message_id"]), request_id.as_str());
    assert_eq!(field(&["send_request", "message_id"]), request_id.as_str());
    assert_eq!(field(&["send_request", "message_type"]), "REQUEST");
    assert_eq!(field(&["send_request", "recipient"]), "FNS");
    assert_eq!(field(&["send_request", "status"]), "requestIsAcceptedBySmev");
    assert_eq!(field(&["response", "original_message_id"]), request_id.as_str());
    assert_eq!(field(&["response", "message_id"]), response_id.as_str());
    assert_eq!(field(&["response", "metadata_message_id"]), response_id.as_str());
    assert_eq!(field(&["response", "sender"]), "FNS");
    assert_eq!(field(&["response", "message_type"]), "RESPONSE");
    assert_eq!(
        field(&["response", "content_root"]),
        format!("{{{INN_NS}}}InnResponse")
    );
    assert!(
        field(&["response", "content"]).contains("<t:Inn>500100732259</t:Inn>"),
        "{report:#}"
    );
    assert_eq!(report["response"]["has_node_signature"], serde_json::json!(true));
    assert_eq!(report["ack"], serde_json::json!(true), "{report:#}");

    // The node saw the Python client's Ack: the response left its queue.
    let history = w.node.history(response_id.as_str()).await;
    assert!(history.contains(&EventKind::Acked), "{history:?}");
    eprintln!("{name}: {report}");
}
