//! Every SOAP message a running node emits is valid 1.3: a representative exchange over HTTP
//! (all six operations, with and without a message to hand out, the node's own EOL status, a
//! broadcast, and the faults of intake and delivery), then each recorded answer's operation
//! element — or, for a fault, its detail element — is validated against the real
//! `smev-message-exchange-types-1.3.xsd` / `-faults-1.3.xsd` with the node's XSD engine.

use std::collections::BTreeSet;
use std::time::Duration;

use rsmev_broker::envelope::{
    DateTime, Envelope, Fault, RejectionReasonCode, RequestRejected, RequestStatus, ResponseContent,
    SignatureFaultReason,
};
use rsmev_broker::xml::Limits;
use rsmev_registry::{InfoType, InfoTypeKind, QName};
use time::OffsetDateTime;

use crate::conformance::Schemas;
use crate::harness::*;
use crate::reference_or_skip;

/// What an answer is, for the coverage check: the Body child, or `Fault/<detail element>`.
fn kind_of(body: &str) -> String {
    let parsed = Envelope::parse(body.as_bytes(), &Limits::default()).expect("answers parse");
    match parsed.envelope() {
        Envelope::Fault(Fault { detail, .. }) => {
            format!("Fault/{}", detail.element_name().unwrap_or("?"))
        }
        other => other.element_name().to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_of_a_running_node_is_valid_against_the_1_3_schemas() {
    let Some(reference) =
        reference_or_skip("every_answer_of_a_running_node_is_valid_against_the_1_3_schemas")
    else {
        return;
    };
    let schemas = Schemas::load(&reference);
    let opts = NodeOptions {
        queue_quota: 2,
        expiry_interval_secs: 1,
        ..NodeOptions::default()
    };
    let node = TestNode::start_tweaked(opts, |c| {
        c.limits.max_attachment_bytes = ATTACHMENT_LIMIT;
    })
    .await;
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;
    exercise(&w).await;

    let answers = w.node.answers.lock().expect("answer log").clone();
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for body in &answers {
        seen.insert(kind_of(body));
        match schemas.check(body) {
            None => failures.push(format!("nothing schema-typed in the answer:\n{body}")),
            Some(v) if !v.is_empty() => failures.push(format!("{}\n{body}", v.join("\n"))),
            Some(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} answers are not valid 1.3:\n\n{}",
        failures.len(),
        answers.len(),
        failures.join("\n\n")
    );
    let expected = [
        "AckResponse",
        "GetRequestResponse",
        "GetResponseResponse",
        "GetStatusResponse",
        "SendRequestResponse",
        "SendResponseResponse",
        "Fault/AccessDenied",
        "Fault/AttachmentContentMiscoordination",
        "Fault/AttachmentSizeLimitExceeded",
        "Fault/BusinessDataTypeIsNotSupported",
        "Fault/DestinationOverflow",
        "Fault/EndOfLifeReached",
        "Fault/IncorrectResponseContentType",
        "Fault/InvalidContent",
        "Fault/InvalidMessageIdFormat",
        "Fault/MessageIsAlreadySent",
        "Fault/RecipientIsNotFound",
        "Fault/SenderIsNotRegistered",
        "Fault/SignatureVerificationFault",
        "Fault/StaleMessageId",
        "Fault/TargetMessageIsNotFound",
        "Fault/TransactionCodeInvalid",
        "Fault/UnknownMessageType",
    ];
    let missing: Vec<_> = expected.iter().filter(|k| !seen.contains(**k)).collect();
    assert!(
        missing.is_empty(),
        "the exchange did not produce {missing:?}; saw {seen:?}"
    );
    w.node.shutdown().await;
}

/// `limits.max_attachment_bytes` of the node under test.
const ATTACHMENT_LIMIT: u64 = 64 * 1024;

/// Drives the node through every operation and the faults listed in the test.
async fn exercise(w: &World) {
    let provider = w.provider.who.clone();
    let payload = inn_request_payload("12345678901", "1990-01-02");

    // Empty queues first.
    assert!(w.provider.get_request(None).await.request().is_none());
    assert!(w.consumer.get_response(None).await.response().is_none());
    assert!(w.consumer.get_status().await.status().is_none());

    // A request with every optional part the consumer fills, delivered, answered three ways.
    let code = "2f3c0a2e-0c4d-11ef-8d6a-0242ac120002";
    let eol = DateTime::new(OffsetDateTime::now_utc() + time::Duration::hours(1)).expect("time");
    let sent = w
        .consumer
        .send_request_with(&payload, |d| {
            d.transaction_code = Some(code.into());
            d.eol = Some(eol);
            d.node_id = Some("node-1".into());
            d.reference_message_id = Some(d.message_id.clone());
            d.test_message = true;
        })
        .await;
    let id = sent.accepted().message_id.clone().expect("MessageId");
    let got = w.provider.get_request(Some(&inn_request())).await;
    let reply_to = delivered(&got).reply_to.clone().expect("ReplyTo");
    w.provider.ack(&id).await.expect_ack();
    for content in [
        ResponseContent::Status(RequestStatus {
            code: 2,
            parameters: Vec::new(),
            description: "в работе".into(),
        }),
        ResponseContent::Rejected(vec![RequestRejected {
            code: RejectionReasonCode::NoData,
            description: "нет сведений".into(),
        }]),
        answer(&inn_response_payload("7707083893")),
    ] {
        w.provider.send_response(&reply_to, content).await.accepted();
        let got = w.consumer.get_response(None).await;
        let response = delivered_response(&got);
        w.consumer
            .ack(&response.sender_provided.message_id)
            .await
            .expect_ack();
    }

    // Attachments both ways: AttachmentContentList where the schema puts it, inline and as MTOM.
    let scan: Vec<u8> = (0..=255).collect();
    let request = w.consumer.attached_request(
        &payload,
        vec![attachment_header("scan", "application/pdf")],
        vec![attachment_content("scan", &scan)],
    );
    let id = w
        .consumer
        .post_framed(&request, Framing::Mtom)
        .await
        .accepted()
        .message_id
        .clone()
        .expect("MessageId");
    let got = w
        .provider
        .post_framed(&w.provider.poll_envelope(false), Framing::Plain)
        .await;
    assert_eq!(delivered_attachments(&got), [attachment_content("scan", &scan)]);
    w.provider.ack(&id).await.expect_ack();
    let response = w.provider.attached_response(
        &reply_to,
        &inn_response_payload("7707083893"),
        vec![attachment_header("receipt", "application/pdf")],
        vec![attachment_content("receipt", b"receipt")],
    );
    let response_id = w
        .provider
        .post_framed(&response, Framing::Plain)
        .await
        .accepted()
        .message_id
        .clone()
        .expect("MessageId");
    let got = w
        .consumer
        .post_framed(&w.consumer.poll_envelope(true), Framing::Mtom)
        .await;
    assert_eq!(
        delivered_attachments(&got),
        [attachment_content("receipt", b"receipt")]
    );
    w.consumer.ack(&response_id).await.expect_ack();
    let unannounced = w
        .consumer
        .attached_request(&payload, vec![], vec![attachment_content("scan", &scan)]);
    w.consumer
        .post_framed(&unannounced, Framing::Mtom)
        .await
        .expect_fault("AttachmentContentMiscoordination");
    let large = vec![0_u8; ATTACHMENT_LIMIT as usize + 1];
    let too_large = w.consumer.attached_request(
        &payload,
        vec![attachment_header("scan", "application/pdf")],
        vec![attachment_content("scan", &large)],
    );
    w.consumer
        .post_framed(&too_large, Framing::Mtom)
        .await
        .expect_fault("AttachmentSizeLimitExceeded");

    // Intake faults.
    for how in [
        Breakage::NoSignature,
        Breakage::SignatureOverAnotherElement,
        Breakage::TamperedContent,
        Breakage::NoCertificate,
    ] {
        w.consumer
            .post(&w.consumer.broken_send_request(&payload, how))
            .await
            .expect_fault("SignatureVerificationFault");
    }
    let poor = w.consumer.post("<not-soap/>").await;
    assert!(matches!(
        poor.expect_fault("SignatureVerificationFault").detail,
        rsmev_broker::envelope::FaultDetail::SignatureVerificationFault {
            reason: SignatureFaultReason::PoorSoapEnvelopeFormat,
            ..
        }
    ));
    let expired = Participant::with_expired_certificate("OLD");
    w.node.register(&expired).await;
    w.consumer
        .as_participant(&expired)
        .send_request(&payload)
        .await
        .expect_fault("SignatureVerificationFault");
    w.consumer
        .as_participant(&Participant::generate("STRANGER"))
        .send_request(&payload)
        .await
        .expect_fault("SenderIsNotRegistered");
    w.consumer
        .send_request_with(&payload, |d| {
            d.message_id = rsmev_broker::envelope::MessageId::from_uuid(uuid::Uuid::new_v4());
        })
        .await
        .expect_fault("InvalidMessageIdFormat");
    w.consumer
        .send_request_with(&payload, |d| {
            d.message_id = message_id_of_age(time::Duration::days(3));
        })
        .await
        .expect_fault("StaleMessageId");
    w.consumer
        .send_request_with(&payload, |d| d.message_id = id.clone())
        .await
        .expect_fault("MessageIsAlreadySent");
    w.consumer
        .send_request(r#"<u:Unknown xmlns:u="urn://rsmev/test/unknown/1.0.0"/>"#)
        .await
        .expect_fault("BusinessDataTypeIsNotSupported");
    let outsider = w.node.participant("OUTSIDER").await;
    w.consumer
        .as_participant(&outsider)
        .send_request(&payload)
        .await
        .expect_fault("AccessDenied");
    w.consumer
        .send_request(&inn_request_payload("A-1", "02.01.1990"))
        .await
        .expect_fault("InvalidContent");
    let past = DateTime::new(OffsetDateTime::now_utc() - time::Duration::minutes(1)).expect("time");
    w.consumer
        .send_request_with(&payload, |d| d.eol = Some(past))
        .await
        .expect_fault("EndOfLifeReached");
    let application = QName::new("urn://rsmev/test/application/1.0.0", "Application");
    w.node
        .infotype(InfoType {
            transaction_code_required: true,
            federal: false,
            ..infotype(&application, InfoTypeKind::Request, &provider)
        })
        .await;
    w.node.grant(&w.consumer.who, &application).await;
    w.consumer
        .send_request(r#"<a:Application xmlns:a="urn://rsmev/test/application/1.0.0"/>"#)
        .await
        .expect_fault("TransactionCodeInvalid");

    // Delivery faults.
    w.consumer
        .ack(&new_message_id())
        .await
        .expect_fault("TargetMessageIsNotFound");
    w.consumer
        .get_request(Some(&inn_request()))
        .await
        .expect_fault("UnknownMessageType");
    w.provider
        .send_response("not-a-reply-to", answer(&inn_response_payload("1")))
        .await
        .expect_fault("RecipientIsNotFound");
    w.provider
        .send_response(&reply_to, answer(&payload))
        .await
        .expect_fault("IncorrectResponseContentType");

    // The provider's queue holds two (the quota): a third is refused. Then it is drained.
    let queued = [w.request().await, w.request().await];
    w.consumer
        .send_request(&payload)
        .await
        .expect_fault("DestinationOverflow");
    for id in &queued {
        w.provider_takes().await;
        w.provider.ack(id).await.expect_ack();
    }

    // The node's own message: the EOL status in the sender's response queue.
    let soon = DateTime::new(OffsetDateTime::now_utc() + time::Duration::seconds(3)).expect("time");
    let expiring = w
        .consumer
        .send_request_with(&payload, |d| d.eol = Some(soon))
        .await
        .accepted()
        .message_id
        .clone()
        .expect("MessageId");
    let status = eventually(10, Duration::ZERO, || async {
        let got = w.consumer.get_response_waiting(None, Some(3)).await;
        got.response().cloned()
    })
    .await
    .expect("the expiry status arrives");
    assert_eq!(status.original_message_id.as_ref(), Some(&expiring));
    w.consumer
        .ack(&status.sender_provided.message_id)
        .await
        .expect_ack();

    // A broadcast, sent and delivered.
    let notice = QName::new("urn://rsmev/test/notice/1.0.0", "Notice");
    w.node
        .infotype(infotype(&notice, InfoTypeKind::Broadcast, &provider))
        .await;
    w.node.grant(&w.consumer.who, &notice).await;
    let broadcast = w
        .provider
        .send_request(r#"<n:Notice xmlns:n="urn://rsmev/test/notice/1.0.0"><n:Text>x</n:Text></n:Notice>"#)
        .await
        .accepted()
        .message_id
        .clone()
        .expect("MessageId");
    let got = w.consumer.get_request(Some(&notice)).await;
    assert_eq!(delivered(&got).sender_provided.message_id, broadcast);
    w.consumer.ack(&broadcast).await.expect_ack();
}
