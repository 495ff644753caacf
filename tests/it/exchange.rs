//! The exchange, black-box over HTTP: the happy path, every fault of intake and delivery, the
//! lease/Ack/redelivery cycle, EOL expiry, broadcast, idempotent resend and long-poll. Each test
//! starts its own node on port 0 and asserts the exact 1.3 fault element it expects.

use std::time::Duration;

use base64::Engine as _;
use rsmev_broker::envelope::{
    DateTime, Envelope, FaultDetail, InteractionStatus, MessageId, MessageType, RejectionReasonCode,
    RequestRejected, RequestStatus, ResponseContent, SignatureFaultReason, StatusParameter,
};
use rsmev_broker::store::EventKind;
use rsmev_registry::{InfoType, InfoTypeKind, QName};
use time::OffsetDateTime;

use crate::harness::*;

on_every_backend! {
    a_request_and_its_response_travel_with_acks_and_leave_a_complete_trace,
    each_broken_caller_signature_is_refused_with_its_own_reason,
    a_message_that_is_not_a_soap_envelope_is_refused_as_poor_soap_envelope_format,
    an_expired_certificate_is_refused_as_certificate_is_expired,
    a_certificate_of_no_participant_is_refused_as_sender_is_not_registered,
    a_request_to_a_blocked_provider_is_refused_as_recipient_is_not_found,
    a_message_id_that_is_not_a_lower_case_uuid_v1_is_refused_as_invalid_format,
    a_message_id_older_than_two_days_is_refused_as_stale,
    resending_an_accepted_message_id_is_refused_and_creates_no_second_message,
    an_unregistered_information_type_is_refused_as_not_supported,
    a_participant_without_a_grant_is_refused_with_access_denied,
    invalid_business_content_is_refused_listing_every_violation,
    a_request_past_its_eol_is_refused_with_end_of_life_reached,
    a_full_provider_queue_refuses_with_destination_overflow_until_a_message_is_acked,
    a_request_without_a_required_transaction_code_is_refused_as_invalid,
    acking_an_unknown_or_already_acked_message_is_refused_as_target_message_is_not_found,
    acking_a_message_delivered_to_someone_else_is_refused_and_leaves_it_queued,
    a_response_to_an_unknown_or_forged_reply_to_is_refused_as_recipient_is_not_found,
    a_response_carrying_a_request_type_is_refused_as_incorrect_response_content_type,
    a_selector_naming_an_unknown_or_foreign_type_is_refused_as_unknown_message_type,
    rejections_and_statuses_reach_the_requester_like_responses_in_order,
    a_broadcast_reaches_every_granted_consumer_and_nobody_else,
    a_request_nobody_reads_before_its_eol_expires_and_its_sender_is_told,
    an_unacknowledged_request_is_redelivered_after_its_lease_and_never_after_ack,
    a_long_poll_returns_a_request_sent_while_it_waits,
    incoming_queue_statistics_count_the_callers_pending_messages_until_acked,
    attachments_reach_the_provider_and_the_consumer_byte_for_byte_as_mtom_or_inline,
    an_attachment_header_without_its_content_or_a_content_without_its_header_is_refused,
    a_7_mib_mtom_attachment_under_the_configured_limit_is_delivered_and_one_over_it_is_refused,
}

fn signature_reason(answer: &Answer) -> SignatureFaultReason {
    match &answer.expect_fault("SignatureVerificationFault").detail {
        FaultDetail::SignatureVerificationFault { reason, .. } => *reason,
        other => panic!("{other:?}"),
    }
}

fn valid_payload() -> String {
    inn_request_payload("12345678901", "1990-01-02")
}

// ---- the happy path ------------------------------------------------------------------------------

async fn a_request_and_its_response_travel_with_acks_and_leave_a_complete_trace(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let payload = valid_payload();

    // SendRequest: accepted, addressed to the provider.
    let sent = w.consumer.send_request(&payload).await;
    let meta = sent.accepted();
    let request_id = meta.message_id.clone().expect("MessageId");
    assert_eq!(meta.message_type, MessageType::Request);
    assert_eq!(
        meta.sender.as_ref().and_then(|p| p.mnemonic.as_deref()),
        Some("MFC")
    );
    assert_eq!(
        meta.recipient.as_ref().and_then(|p| p.mnemonic.as_deref()),
        Some("FNS")
    );
    assert_eq!(meta.status, Some(InteractionStatus::RequestIsAcceptedBySmev));

    // GetRequest: the provider gets the request as signed, with the consumer's signature.
    let got = w.provider.get_request(Some(&inn_request())).await;
    let request = delivered(&got);
    assert_eq!(request.sender_provided.message_id, request_id);
    assert_eq!(
        request.sender_provided.primary_content.element().as_str(),
        payload
    );
    assert_eq!(request.metadata.message_id.as_ref(), Some(&request_id));
    assert_eq!(request.metadata.message_type, MessageType::Request);
    assert_eq!(
        request
            .metadata
            .sender
            .as_ref()
            .and_then(|p| p.mnemonic.as_deref()),
        Some("MFC")
    );
    assert_eq!(
        got.relayed_sender_certificate().to_pem(),
        rsmev_broker::dsig::Certificate::from_pem(&w.consumer.who.cert_pem)
            .expect("certificate")
            .to_pem(),
        "the consumer's own signature reaches the provider intact"
    );
    let reply_to = request.reply_to.clone().expect("a request carries ReplyTo");
    w.provider.ack(&request_id).await.expect_ack();
    assert!(
        w.provider.get_request(None).await.request().is_none(),
        "acked: the queue is empty"
    );

    // SendResponse to ReplyTo, GetResponse by the consumer, Ack.
    let answered = w
        .provider
        .send_response(&reply_to, answer(&inn_response_payload("7707083893")))
        .await;
    let response_meta = answered.accepted();
    let response_id = response_meta.message_id.clone().expect("MessageId");
    assert_eq!(response_meta.message_type, MessageType::Response);
    assert_eq!(
        response_meta
            .recipient
            .as_ref()
            .and_then(|p| p.mnemonic.as_deref()),
        Some("MFC")
    );
    // (On the production backend: once the response's copy is in RabbitMQ, GetResponse takes
    // it from there; the GetRequest above, with a selector, was served from the database.)
    w.node.settle_transport().await;
    let got = w.consumer.get_response(None).await;
    let response = delivered_response(&got);
    assert_eq!(response.original_message_id.as_ref(), Some(&request_id));
    assert_eq!(response.sender_provided.message_id, response_id);
    if let Some(t) = w.node.store().transport_stats().await {
        assert_eq!(
            t.leased_from_queue, 1,
            "the response came through its quorum queue: {t:?}"
        );
        assert_eq!(
            t.leased_from_database, 1,
            "the request was leased by selector: {t:?}"
        );
    }
    assert_eq!(response.sender_provided.to, reply_to);
    match &response.sender_provided.content {
        ResponseContent::Answer { primary_content, .. } => {
            assert_eq!(
                primary_content.element().as_str(),
                inn_response_payload("7707083893")
            );
        }
        other => panic!("expected the business answer, got {other:?}"),
    }
    w.consumer.ack(&response_id).await.expect_ack();
    assert!(w.consumer.get_response(None).await.response().is_none());

    // The history of the request and of its response.
    let trace = w
        .node
        .store()
        .trace(uuid(request_id.as_str()))
        .await
        .expect("trace");
    assert_eq!(
        kinds(&trace.events),
        [
            EventKind::Received,
            EventKind::Accepted,
            EventKind::Queued,
            EventKind::Leased,
            EventKind::Acked,
            EventKind::ResponseAccepted,
        ]
    );
    assert_eq!(trace.responses.len(), 1);
    let (stored, events) = &trace.responses[0];
    assert_eq!(stored.message_id, uuid(response_id.as_str()));
    assert_eq!(
        kinds(events),
        [
            EventKind::Received,
            EventKind::Accepted,
            EventKind::Queued,
            EventKind::Leased,
            EventKind::Acked,
        ]
    );
    w.node.shutdown().await;
}

// ---- signature and sender (intake steps 2 and 3) --------------------------------------------

async fn each_broken_caller_signature_is_refused_with_its_own_reason(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let payload = valid_payload();
    for (how, reason) in [
        (Breakage::NoSignature, SignatureFaultReason::NoSignatureFound),
        (
            Breakage::SignatureOverAnotherElement,
            SignatureFaultReason::IncorrectSignatureTarget,
        ),
        (
            Breakage::TamperedContent,
            SignatureFaultReason::SignatureIsInvalid,
        ),
        (
            Breakage::NoCertificate,
            SignatureFaultReason::CertificateIsNotFound,
        ),
    ] {
        let answer = w
            .consumer
            .post(&w.consumer.broken_send_request(&payload, how))
            .await;
        assert_eq!(signature_reason(&answer), reason, "{how:?}:\n{}", answer.body);
    }
    assert!(
        w.provider.get_request(None).await.request().is_none(),
        "nothing refused was queued"
    );
    w.node.shutdown().await;
}

async fn a_message_that_is_not_a_soap_envelope_is_refused_as_poor_soap_envelope_format(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    for body in [
        "this is not XML",
        r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>"#,
        r#"<Envelope xmlns="urn:not-soap"><Body/></Envelope>"#,
    ] {
        let answer = w.consumer.post(body).await;
        assert_eq!(
            signature_reason(&answer),
            SignatureFaultReason::PoorSoapEnvelopeFormat,
            "{body}"
        );
    }
    w.node.shutdown().await;
}

async fn an_expired_certificate_is_refused_as_certificate_is_expired(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let expired = Participant::with_expired_certificate("OLD");
    w.node.register(&expired).await;
    w.node.grant(&expired, &inn_request()).await;
    let answer = w
        .consumer
        .as_participant(&expired)
        .send_request(&valid_payload())
        .await;
    assert_eq!(
        signature_reason(&answer),
        SignatureFaultReason::CertificateIsExpired
    );
    w.node.shutdown().await;
}

async fn a_certificate_of_no_participant_is_refused_as_sender_is_not_registered(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let stranger = w.consumer.as_participant(&Participant::generate("STRANGER"));
    stranger
        .send_request(&valid_payload())
        .await
        .expect_fault("SenderIsNotRegistered");
    // The same holds for every operation, not only sends.
    stranger
        .get_request(None)
        .await
        .expect_fault("SenderIsNotRegistered");
    stranger
        .ack(&new_message_id())
        .await
        .expect_fault("SenderIsNotRegistered");
    // A blocked participant is refused as if it were not registered.
    w.consumer.send_request(&valid_payload()).await.accepted();
    w.node.block(&w.consumer.who).await;
    w.consumer
        .send_request(&valid_payload())
        .await
        .expect_fault("SenderIsNotRegistered");
    w.node.shutdown().await;
}

async fn a_request_to_a_blocked_provider_is_refused_as_recipient_is_not_found(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    w.node.block(&w.provider.who).await;
    w.consumer
        .send_request(&valid_payload())
        .await
        .expect_fault("RecipientIsNotFound");
    w.node.shutdown().await;
}

// ---- MessageID -------------------------------------------------------------------------------

async fn a_message_id_that_is_not_a_lower_case_uuid_v1_is_refused_as_invalid_format(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    // A well-formed UUID of the wrong version: refused after the signature was checked.
    let v4 = MessageId::from_uuid(uuid::Uuid::new_v4());
    w.consumer
        .send_request_with(&valid_payload(), |d| d.message_id = v4)
        .await
        .expect_fault("InvalidMessageIdFormat");
    // Upper-case digits break the schema's pattern: refused while reading the envelope.
    let id = new_message_id();
    let xml = w
        .consumer
        .send_request_xml(&valid_payload(), |d| d.message_id = id.clone());
    let upper = xml.replace(id.as_str(), &id.as_str().to_uppercase());
    assert_ne!(upper, xml);
    w.consumer
        .post(&upper)
        .await
        .expect_fault("InvalidMessageIdFormat");
    assert!(w.provider.get_request(None).await.request().is_none());
    w.node.shutdown().await;
}

async fn a_message_id_older_than_two_days_is_refused_as_stale(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let old = message_id_of_age(time::Duration::days(3));
    w.consumer
        .send_request_with(&valid_payload(), |d| d.message_id = old)
        .await
        .expect_fault("StaleMessageId");
    // A day old is still fresh.
    let day_old = message_id_of_age(time::Duration::days(1));
    let accepted = w
        .consumer
        .send_request_with(&valid_payload(), |d| d.message_id = day_old.clone())
        .await;
    assert_eq!(accepted.accepted().message_id.as_ref(), Some(&day_old));
    w.node.shutdown().await;
}

async fn resending_an_accepted_message_id_is_refused_and_creates_no_second_message(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let xml = w.consumer.send_request_xml(&valid_payload(), |_| {});
    let first = w.consumer.post(&xml).await;
    let id = first.accepted().message_id.clone().expect("MessageId");
    // The same bytes again (a client retrying after a lost answer), then the same MessageID
    // with another body.
    let again = w.consumer.post(&xml).await;
    again.expect_fault("MessageIsAlreadySent");
    w.consumer
        .send_request_with(&inn_request_payload("1", "2000-01-01"), |d| {
            d.message_id = id.clone();
        })
        .await
        .expect_fault("MessageIsAlreadySent");

    let got = w.provider.get_request(None).await;
    assert_eq!(delivered(&got).sender_provided.message_id, id);
    assert_eq!(
        delivered(&got).sender_provided.primary_content.element().as_str(),
        valid_payload(),
        "the first message is the one kept"
    );
    w.provider.ack(&id).await.expect_ack();
    assert!(
        w.provider.get_request(None).await.request().is_none(),
        "exactly one message was queued"
    );
    let history = w.node.history(id.as_str()).await;
    assert_eq!(history.iter().filter(|e| **e == EventKind::Accepted).count(), 1);
    assert_eq!(history.iter().filter(|e| **e == EventKind::Rejected).count(), 2);
    w.node.shutdown().await;
}

// ---- information type, access, content ---------------------------------------------------------

async fn an_unregistered_information_type_is_refused_as_not_supported(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let answer = w
        .consumer
        .send_request(r#"<u:Unknown xmlns:u="urn://rsmev/test/unknown/1.0.0"><u:X>1</u:X></u:Unknown>"#)
        .await;
    match &answer.expect_fault("BusinessDataTypeIsNotSupported").detail {
        FaultDetail::BusinessDataTypeIsNotSupported {
            root_element_local_name,
            root_element_namespace_uri,
            ..
        } => {
            assert_eq!(root_element_local_name, "Unknown");
            assert_eq!(root_element_namespace_uri, "urn://rsmev/test/unknown/1.0.0");
        }
        other => panic!("{other:?}"),
    }
    // A response type sent as a request is not a request type either.
    w.consumer
        .send_request(&inn_response_payload("7707083893"))
        .await
        .expect_fault("BusinessDataTypeIsNotSupported");
    w.node.shutdown().await;
}

async fn a_participant_without_a_grant_is_refused_with_access_denied(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let outsider = w.node.participant("OUTSIDER").await;
    w.node
        .client(&outsider)
        .send_request(&valid_payload())
        .await
        .expect_fault("AccessDenied");
    assert!(w.provider.get_request(None).await.request().is_none());
    w.node.shutdown().await;
}

async fn invalid_business_content_is_refused_listing_every_violation(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let answer = w
        .consumer
        .send_request(&inn_request_payload("A-1", "02.01.1990"))
        .await;
    let FaultDetail::InvalidContent { errors, .. } = &answer.expect_fault("InvalidContent").detail else {
        unreachable!("expect_fault checked the element")
    };
    assert_eq!(errors.len(), 2, "one ValidationError per bad field: {errors:#?}");
    assert!(errors[0].message.contains("PersonId"), "{errors:#?}");
    assert!(errors[1].message.contains("BirthDate"), "{errors:#?}");
    // One bad field, one error.
    let answer = w
        .consumer
        .send_request(&inn_request_payload("12345678901", "soon"))
        .await;
    let FaultDetail::InvalidContent { errors, .. } = &answer.expect_fault("InvalidContent").detail else {
        unreachable!("expect_fault checked the element")
    };
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(w.provider.get_request(None).await.request().is_none());
    w.node.shutdown().await;
}

async fn a_request_past_its_eol_is_refused_with_end_of_life_reached(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let past = DateTime::new(OffsetDateTime::now_utc() - time::Duration::minutes(1)).expect("time");
    w.consumer
        .send_request_with(&valid_payload(), |d| d.eol = Some(past))
        .await
        .expect_fault("EndOfLifeReached");
    assert!(w.provider.get_request(None).await.request().is_none());
    w.node.shutdown().await;
}

async fn a_full_provider_queue_refuses_with_destination_overflow_until_a_message_is_acked(backend: Backend) {
    let w = World::start(NodeOptions {
        queue_quota: 2,
        ..NodeOptions::on(backend)
    })
    .await;
    let first = w.request().await;
    w.request().await;
    let third = w.consumer.send_request_xml(&valid_payload(), |_| {});
    let refused = w.consumer.post(&third).await;
    match &refused.expect_fault("DestinationOverflow").detail {
        FaultDetail::DestinationOverflow { destination_name, .. } => {
            assert!(destination_name.contains("FNS"), "{destination_name}");
        }
        other => panic!("{other:?}"),
    }
    assert!(refused.fault().is_retryable());
    // A leased message still counts; an acked one frees its place, and the retry with the same
    // MessageID goes through.
    let got = w.provider_takes().await;
    assert_eq!(delivered(&got).sender_provided.message_id, first);
    w.consumer.post(&third).await.expect_fault("DestinationOverflow");
    w.provider.ack(&first).await.expect_ack();
    w.consumer.post(&third).await.accepted();
    w.node.shutdown().await;
}

async fn a_request_without_a_required_transaction_code_is_refused_as_invalid(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let application = QName::new("urn://rsmev/test/application/1.0.0", "Application");
    let provider = w.provider.who.clone();
    w.node
        .infotype(InfoType {
            transaction_code_required: true,
            federal: false,
            ..infotype(&application, InfoTypeKind::Request, &provider)
        })
        .await;
    w.node.grant(&w.consumer.who, &application).await;
    let payload =
        r#"<a:Application xmlns:a="urn://rsmev/test/application/1.0.0"><a:No>42</a:No></a:Application>"#;
    w.consumer
        .send_request(payload)
        .await
        .expect_fault("TransactionCodeInvalid");
    w.consumer
        .send_request_with(payload, |d| d.transaction_code = Some(String::new()))
        .await
        .expect_fault("TransactionCodeInvalid");
    let code = "2f3c0a2e-0c4d-11ef-8d6a-0242ac120002";
    w.consumer
        .send_request_with(payload, |d| d.transaction_code = Some(code.into()))
        .await
        .accepted();
    // The code travels back with the answer.
    let got = w.provider_takes().await;
    let request = delivered(&got);
    w.provider
        .ack(&request.sender_provided.message_id)
        .await
        .expect_ack();
    let reply_to = request.reply_to.clone().expect("ReplyTo");
    w.provider
        .send_response(
            &reply_to,
            ResponseContent::Status(RequestStatus {
                code: 1,
                parameters: Vec::new(),
                description: "принято".into(),
            }),
        )
        .await
        .accepted();
    let got = w.consumer.get_response(None).await;
    assert_eq!(
        delivered_response(&got).original_transaction_code.as_deref(),
        Some(code)
    );
    w.node.shutdown().await;
}

// ---- delivery faults -----------------------------------------------------------------------------

async fn acking_an_unknown_or_already_acked_message_is_refused_as_target_message_is_not_found(
    backend: Backend,
) {
    let w = World::start(NodeOptions::on(backend)).await;
    w.consumer
        .ack(&new_message_id())
        .await
        .expect_fault("TargetMessageIsNotFound");
    let id = w.request().await;
    w.provider_takes().await;
    w.provider.ack(&id).await.expect_ack();
    w.provider.ack(&id).await.expect_fault("TargetMessageIsNotFound");
    w.node.shutdown().await;
}

async fn acking_a_message_delivered_to_someone_else_is_refused_and_leaves_it_queued(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let id = w.request().await;
    w.provider_takes().await;
    // The sender is not the recipient: its Ack cannot remove the provider's message.
    w.consumer.ack(&id).await.expect_fault("TargetMessageIsNotFound");
    let history = w.node.history(id.as_str()).await;
    assert!(!history.contains(&EventKind::Acked), "{history:?}");
    w.provider.ack(&id).await.expect_ack();
    w.node.shutdown().await;
}

async fn a_response_to_an_unknown_or_forged_reply_to_is_refused_as_recipient_is_not_found(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let id = w.request().await;
    let got = w.provider_takes().await;
    let reply_to = delivered(&got).reply_to.clone().expect("ReplyTo");
    let content = || answer(&inn_response_payload("7707083893"));

    // Garbage, and a token naming the right request with a guessed secret part.
    w.provider
        .send_response("not-a-reply-to", content())
        .await
        .expect_fault("RecipientIsNotFound");
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = engine.decode(&reply_to).expect("the node's token is base64url");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let forged = engine.encode(&bytes);
    assert_ne!(forged, reply_to);
    w.provider
        .send_response(&forged, content())
        .await
        .expect_fault("RecipientIsNotFound");
    // Another participant with the genuine token: it did not receive the request.
    let other = w.node.participant("OTHER").await;
    w.node
        .client(&other)
        .send_response(&reply_to, content())
        .await
        .expect_fault("RecipientIsNotFound");

    assert!(
        w.consumer.get_response(None).await.response().is_none(),
        "nothing reached the requester"
    );
    w.provider.send_response(&reply_to, content()).await.accepted();
    let got = w.consumer.get_response(None).await;
    assert_eq!(delivered_response(&got).original_message_id.as_ref(), Some(&id));
    w.node.shutdown().await;
}

async fn a_response_carrying_a_request_type_is_refused_as_incorrect_response_content_type(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    w.request().await;
    let got = w.provider_takes().await;
    let reply_to = delivered(&got).reply_to.clone().expect("ReplyTo");
    w.provider
        .send_response(&reply_to, answer(&valid_payload()))
        .await
        .expect_fault("IncorrectResponseContentType");
    // A response type with content that breaks its XSD: every violation, as for requests.
    let answer_ = w
        .provider
        .send_response(&reply_to, answer(&inn_response_payload("seven")))
        .await;
    let FaultDetail::InvalidContent { errors, .. } = &answer_.expect_fault("InvalidContent").detail else {
        unreachable!("expect_fault checked the element")
    };
    assert_eq!(errors.len(), 1, "{errors:#?}");
    w.node.shutdown().await;
}

async fn a_selector_naming_an_unknown_or_foreign_type_is_refused_as_unknown_message_type(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let unknown = QName::new("urn://rsmev/test/unknown/1.0.0", "Unknown");
    w.provider
        .get_request(Some(&unknown))
        .await
        .expect_fault("UnknownMessageType");
    w.consumer
        .get_response(Some(&unknown))
        .await
        .expect_fault("UnknownMessageType");
    // The consumer does not provide InnRequest: it cannot read requests of it.
    w.consumer
        .get_request(Some(&inn_request()))
        .await
        .expect_fault("UnknownMessageType");
    // The provider's own type is fine, and so is the empty selector.
    assert!(
        w.provider
            .get_request(Some(&inn_request()))
            .await
            .request()
            .is_none()
    );
    assert!(w.provider.get_request(None).await.request().is_none());
    w.node.shutdown().await;
}

// ---- responses, broadcast, expiry, redelivery, long-poll -----------------------------------

async fn rejections_and_statuses_reach_the_requester_like_responses_in_order(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let id = w.request().await;
    let got = w.provider_takes().await;
    let reply_to = delivered(&got).reply_to.clone().expect("ReplyTo");
    w.provider.ack(&id).await.expect_ack();

    let status = RequestStatus {
        code: 3,
        parameters: vec![StatusParameter {
            key: "stage".into(),
            value: "проверка".into(),
        }],
        description: "запрос в работе".into(),
    };
    let rejection = RequestRejected {
        code: RejectionReasonCode::NoData,
        description: "сведения не найдены".into(),
    };
    w.provider
        .send_response(&reply_to, ResponseContent::Status(status.clone()))
        .await
        .accepted();
    w.provider
        .send_response(&reply_to, ResponseContent::Rejected(vec![rejection.clone()]))
        .await
        .accepted();

    let first = w.consumer.get_response(Some(&inn_request())).await;
    let response = delivered_response(&first);
    assert_eq!(response.original_message_id.as_ref(), Some(&id));
    assert_eq!(response.sender_provided.content, ResponseContent::Status(status));
    assert_eq!(response.metadata.message_type, MessageType::Response);
    w.consumer
        .ack(&response.sender_provided.message_id)
        .await
        .expect_ack();

    let second = w.consumer.get_response(None).await;
    let response = delivered_response(&second);
    assert_eq!(response.original_message_id.as_ref(), Some(&id));
    assert_eq!(
        response.sender_provided.content,
        ResponseContent::Rejected(vec![rejection])
    );
    w.consumer
        .ack(&response.sender_provided.message_id)
        .await
        .expect_ack();

    let trace = w.node.store().trace(uuid(id.as_str())).await.expect("trace");
    assert_eq!(trace.responses.len(), 2);
    assert_eq!(
        trace
            .events
            .iter()
            .filter(|e| e.event == EventKind::ResponseAccepted)
            .count(),
        2
    );
    w.node.shutdown().await;
}

async fn a_broadcast_reaches_every_granted_consumer_and_nobody_else(backend: Backend) {
    let node = TestNode::start(NodeOptions::on(backend)).await;
    let publisher = node.participant("MINJUST").await;
    let first = node.participant("FIRST").await;
    let second = node.participant("SECOND").await;
    let bystander = node.participant("BYSTANDER").await;
    let notice = QName::new("urn://rsmev/test/notice/1.0.0", "Notice");
    node.infotype(infotype(&notice, InfoTypeKind::Broadcast, &publisher))
        .await;
    node.grant(&first, &notice).await;
    node.grant(&second, &notice).await;

    let payload =
        r#"<n:Notice xmlns:n="urn://rsmev/test/notice/1.0.0"><n:Text>реестр обновлён</n:Text></n:Notice>"#;
    let sent = node.client(&publisher).send_request(payload).await;
    let meta = sent.accepted();
    assert_eq!(meta.message_type, MessageType::Broadcast);
    assert!(meta.recipient.is_none(), "a broadcast names no recipient");
    let id = meta.message_id.clone().expect("MessageId");

    for consumer in [&first, &second] {
        let client = node.client(consumer);
        let got = client.get_request(Some(&notice)).await;
        let request = delivered(&got);
        assert_eq!(request.sender_provided.message_id, id, "{}", consumer.mnemonic);
        assert_eq!(request.metadata.message_type, MessageType::Broadcast);
        assert!(request.metadata.recipient.is_none());
        assert_eq!(
            request.sender_provided.primary_content.element().as_str(),
            payload
        );
        client.ack(&id).await.expect_ack();
        assert!(client.get_request(None).await.request().is_none());
    }
    assert!(
        node.client(&bystander)
            .get_request(None)
            .await
            .request()
            .is_none(),
        "not granted, not delivered"
    );
    let history = node.history(id.as_str()).await;
    assert_eq!(history.iter().filter(|e| **e == EventKind::Queued).count(), 2);
    assert_eq!(history.iter().filter(|e| **e == EventKind::Acked).count(), 2);
    // Only the registered publisher may broadcast the type.
    node.client(&first)
        .send_request(payload)
        .await
        .expect_fault("AccessDenied");
    node.shutdown().await;
}

async fn a_request_nobody_reads_before_its_eol_expires_and_its_sender_is_told(backend: Backend) {
    let w = World::start(NodeOptions {
        expiry_interval_secs: 1,
        ..NodeOptions::on(backend)
    })
    .await;
    // Far enough ahead for the send to be accepted on a busy machine.
    let eol = DateTime::new(OffsetDateTime::now_utc() + time::Duration::seconds(3)).expect("time");
    let sent = w
        .consumer
        .send_request_with(&valid_payload(), |d| d.eol = Some(eol))
        .await;
    let id = sent.accepted().message_id.clone().expect("MessageId");

    // Nobody reads; the sender's response queue gets an AsyncProcessingStatus about it.
    let status = eventually(10, Duration::ZERO, || async {
        let got = w.consumer.get_response_waiting(None, Some(3)).await;
        got.response().cloned()
    })
    .await
    .expect("the expiry status reaches the sender's response queue");
    assert_eq!(status.original_message_id.as_ref(), Some(&id));
    let ResponseContent::AsyncProcessingStatus(s) = &status.sender_provided.content else {
        panic!(
            "expected an AsyncProcessingStatus, got {:?}",
            status.sender_provided.content
        );
    };
    assert_eq!(s.original_message_id, id);
    assert_eq!(s.category, InteractionStatus::RequestIsRejectedBySmev);
    assert_eq!(
        s.smev_fault.as_ref().and_then(|f| f.code.as_deref()),
        Some("EndOfLifeReached")
    );
    w.consumer
        .ack(&status.sender_provided.message_id)
        .await
        .expect_ack();

    assert!(
        w.provider.get_request(None).await.request().is_none(),
        "an expired request is not delivered"
    );
    let history = w.node.history(id.as_str()).await;
    assert!(history.contains(&EventKind::Expired), "{history:?}");
    assert!(!history.contains(&EventKind::Leased), "{history:?}");
    w.node.shutdown().await;
}

async fn an_unacknowledged_request_is_redelivered_after_its_lease_and_never_after_ack(backend: Backend) {
    let w = World::start(NodeOptions {
        lease_secs: 1,
        ..NodeOptions::on(backend)
    })
    .await;
    let id = w.request().await;
    let first = w.provider_takes().await;
    assert_eq!(delivered(&first).sender_provided.message_id, id);

    // No Ack: once the lease runs out the same message comes again.
    let again = eventually(20, Duration::from_millis(250), || async {
        let got = w.provider.get_request(None).await;
        got.request().map(|r| r.sender_provided.message_id.clone())
    })
    .await
    .expect("the unacknowledged request is delivered again");
    assert_eq!(again, id);
    let history = w.node.history(id.as_str()).await;
    assert_eq!(
        history.iter().filter(|e| **e == EventKind::Leased).count(),
        1,
        "{history:?}"
    );
    assert!(history.contains(&EventKind::Redelivered), "{history:?}");

    w.provider.ack(&id).await.expect_ack();
    // Waiting longer than the lease (the long-poll looks at the queue again while it waits):
    // nothing comes back.
    let after = w.provider.get_request_waiting(None, Some(3)).await;
    assert!(
        after.request().is_none(),
        "redelivered after Ack:\n{}",
        after.body
    );
    w.node.shutdown().await;
}

async fn a_long_poll_returns_a_request_sent_while_it_waits(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let provider = w.provider.clone();
    let poll = tokio::spawn(async move { provider.get_request_waiting(None, Some(5)).await });
    // Give the poll a head start so it is waiting when the request arrives (not asserted).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let id = w.request().await;
    let got = poll.await.expect("poll task");
    let request = delivered(&got);
    assert_eq!(request.sender_provided.message_id, id);
    assert_eq!(
        request.sender_provided.primary_content.element().as_str(),
        valid_payload()
    );
    w.provider.ack(&id).await.expect_ack();
    w.node.shutdown().await;
}

async fn incoming_queue_statistics_count_the_callers_pending_messages_until_acked(backend: Backend) {
    let w = World::start(NodeOptions::on(backend)).await;
    let pending = |a: &Answer| -> Vec<(String, i64)> {
        match &a.envelope {
            rsmev_broker::envelope::Envelope::GetIncomingQueueStatisticsResponse(r) => r
                .queues
                .iter()
                .map(|q| (q.queue_name.clone(), q.pending))
                .collect(),
            other => panic!("not a statistics answer: {other:?}"),
        }
    };
    let empty = w.provider.queue_statistics().await;
    assert_eq!(
        pending(&empty),
        vec![
            ("FNS/requests".into(), 0),
            ("FNS/responses".into(), 0),
            ("FNS/statuses".into(), 0)
        ]
    );
    let first = w.consumer.send_request(&valid_payload()).await.accepted().clone();
    w.consumer.send_request(&valid_payload()).await.accepted();
    // A leased message still counts: it is not gone until acked.
    let got = w.provider.get_request(None).await;
    assert_eq!(delivered(&got).metadata.message_id, first.message_id);
    assert_eq!(
        pending(&w.provider.queue_statistics().await)[0],
        ("FNS/requests".into(), 2)
    );
    w.provider
        .ack(first.message_id.as_ref().expect("id"))
        .await
        .expect_ack();
    assert_eq!(
        pending(&w.provider.queue_statistics().await)[0],
        ("FNS/requests".into(), 1)
    );
    // Each participant sees only its own queues.
    assert_eq!(
        pending(&w.consumer.queue_statistics().await)[0],
        ("MFC/requests".into(), 0)
    );
}

// ---- attachments ---------------------------------------------------------------------------------

/// Bytes a text-minded transport would damage: every byte value, bare and paired line ends, NUL,
/// and MIME boundary look-alikes in the middle of a line.
fn awkward_bytes(len: usize) -> Vec<u8> {
    let mut b: Vec<u8> = (0..=255).collect();
    b.extend_from_slice(b"\r\n\n\r\0 x--uuid:5b3e0a1c-client-boundary-- x--MIME\r");
    b.iter().copied().cycle().take(len).collect()
}

fn content_ids(r: &rsmev_broker::envelope::Request) -> Vec<&str> {
    r.sender_provided
        .attachment_headers
        .iter()
        .map(|h| h.content_id.as_str())
        .collect()
}

fn same_certificate(answer: &Answer, who: &Client) -> bool {
    answer.relayed_sender_certificate().to_pem()
        == rsmev_broker::dsig::Certificate::from_pem(&who.who.cert_pem)
            .expect("certificate")
            .to_pem()
}

async fn attachments_reach_the_provider_and_the_consumer_byte_for_byte_as_mtom_or_inline(backend: Backend) {
    let w = World::start(NodeOptions {
        lease_secs: 1,
        ..NodeOptions::on(backend)
    })
    .await;
    let scan = awkward_bytes(300 * 1024);
    let note = "примечание к заявлению".as_bytes().to_vec();

    // The consumer sends MTOM, as CXF does: the contents in an order of their own.
    let request = w.consumer.attached_request(
        &valid_payload(),
        vec![
            attachment_header("scan", "application/pdf"),
            attachment_header("note", "text/plain"),
        ],
        vec![
            attachment_content("note", &note),
            attachment_content("scan", &scan),
        ],
    );
    let sent = w.consumer.post_framed(&request, Framing::Mtom).await;
    let request_id = sent.accepted().message_id.clone().expect("MessageId");

    // A provider polling with MTOM gets MTOM: every content, byte for byte, in the order sent,
    // beside the signed headers naming them; the consumer's signature over those headers and
    // the node's over the Request both verify (read_answer checks the node's).
    let got = w
        .provider
        .post_framed(&w.provider.poll_envelope(false), Framing::Mtom)
        .await;
    assert!(got.mtom, "an MTOM caller gets attachments as MTOM parts");
    let delivered_request = delivered(&got);
    assert_eq!(delivered_request.sender_provided.message_id, request_id);
    assert_eq!(content_ids(delivered_request), ["scan", "note"]);
    assert_eq!(
        delivered_attachments(&got),
        [
            attachment_content("note", &note),
            attachment_content("scan", &scan)
        ]
    );
    assert!(same_certificate(&got, &w.consumer));

    // Not acked: once the lease runs out it is delivered again, to a plain SOAP poll this time,
    // with the same contents inline as base64.
    let reply_to = delivered_request.reply_to.clone().expect("ReplyTo");
    let again = eventually(20, Duration::from_millis(250), || async {
        let got = w.provider.get_request(None).await;
        got.request().is_some().then_some(got)
    })
    .await
    .expect("the unacknowledged request is delivered again");
    assert!(!again.mtom, "a plain caller gets contents inline");
    assert_eq!(delivered(&again).sender_provided.message_id, request_id);
    assert_eq!(delivered_attachments(&again), delivered_attachments(&got));
    assert!(same_certificate(&again, &w.consumer));
    assert!(
        w.node
            .history(request_id.as_str())
            .await
            .contains(&EventKind::Redelivered)
    );
    w.provider.ack(&request_id).await.expect_ack();

    // The provider answers with an attachment of its own, inline (plain SOAP).
    let receipt = awkward_bytes(4096);
    let response = w.provider.attached_response(
        &reply_to,
        &inn_response_payload("7707083893"),
        vec![attachment_header("receipt", "application/pdf")],
        vec![attachment_content("receipt", &receipt)],
    );
    let response_id = w
        .provider
        .post_framed(&response, Framing::Plain)
        .await
        .accepted()
        .message_id
        .clone()
        .expect("MessageId");
    w.node.settle_transport().await;
    // The consumer polls with plain SOAP: the content comes inline, base64.
    let got = w
        .consumer
        .post_framed(&w.consumer.poll_envelope(true), Framing::Plain)
        .await;
    assert!(!got.mtom);
    let delivered = delivered_response(&got);
    assert_eq!(delivered.sender_provided.message_id, response_id);
    assert_eq!(
        delivered_attachments(&got),
        [attachment_content("receipt", &receipt)]
    );
    assert!(same_certificate(&got, &w.provider));
    w.consumer.ack(&response_id).await.expect_ack();
    w.node.shutdown().await;
}

async fn an_attachment_header_without_its_content_or_a_content_without_its_header_is_refused(
    backend: Backend,
) {
    let w = World::start(NodeOptions::on(backend)).await;
    let scan = awkward_bytes(1024);
    let cases = [
        // Announced, not sent.
        (
            vec![
                attachment_header("scan", "application/pdf"),
                attachment_header("photo", "image/jpeg"),
            ],
            vec![attachment_content("scan", &scan)],
            Framing::Mtom,
        ),
        // Sent, not announced (the headers are signed; contents cannot be added to them).
        (
            vec![attachment_header("scan", "application/pdf")],
            vec![
                attachment_content("scan", &scan),
                attachment_content("extra", b"unsigned"),
            ],
            Framing::Mtom,
        ),
        // The same inline.
        (
            vec![attachment_header("scan", "application/pdf")],
            vec![],
            Framing::Plain,
        ),
        (vec![], vec![attachment_content("scan", &scan)], Framing::Plain),
    ];
    for (headers, contents, framing) in cases {
        let request = w.consumer.attached_request(&valid_payload(), headers, contents);
        let Envelope::SendRequestRequest(r) = &request else {
            unreachable!("a SendRequestRequest")
        };
        let id = r.sender_provided.message_id.clone();
        w.consumer
            .post_framed(&request, framing)
            .await
            .expect_fault("AttachmentContentMiscoordination");
        assert_eq!(
            w.node.history(id.as_str()).await,
            [EventKind::Received, EventKind::Rejected],
            "recorded as a rejection"
        );
        let events = w.node.store().history(uuid(id.as_str())).await.expect("history");
        assert!(
            events[1].detail.starts_with("AttachmentContentMiscoordination"),
            "{events:?}"
        );
    }
    // Nothing was queued.
    assert!(w.provider.get_request(None).await.request().is_none());
    w.node.shutdown().await;
}

async fn a_7_mib_mtom_attachment_under_the_configured_limit_is_delivered_and_one_over_it_is_refused(
    backend: Backend,
) {
    const LIMIT: u64 = 8 * 1024 * 1024;
    let node = TestNode::start_tweaked(NodeOptions::on(backend), |c| {
        c.limits.max_attachment_bytes = LIMIT;
    })
    .await;
    let w = World::around(node, Participant::generate("MFC"), Participant::generate("FNS")).await;

    // 7 MiB of binary: over the envelope limit (8 MiB) as base64, well under it as a part.
    let large: Vec<u8> = (0..=255).cycle().take(7 * 1024 * 1024).collect();
    let request = w.consumer.attached_request(
        &valid_payload(),
        vec![attachment_header("archive", "application/zip")],
        vec![attachment_content("archive", &large)],
    );
    let sent = w.consumer.post_framed(&request, Framing::Mtom).await;
    let request_id = sent.accepted().message_id.clone().expect("MessageId");
    let got = w
        .provider
        .post_framed(&w.provider.poll_envelope(false), Framing::Mtom)
        .await;
    assert!(got.mtom);
    assert_eq!(delivered(&got).sender_provided.message_id, request_id);
    let contents = delivered_attachments(&got);
    assert_eq!(contents.len(), 1);
    assert!(contents[0].content == large, "the 7 MiB arrive byte for byte");
    w.provider.ack(&request_id).await.expect_ack();

    // Over the limit in total (two parts), refused with the permitted and the real size.
    let half: Vec<u8> = (0..=255).cycle().take(4 * 1024 * 1024 + 1).collect();
    let request = w.consumer.attached_request(
        &valid_payload(),
        vec![
            attachment_header("a", "application/zip"),
            attachment_header("b", "application/zip"),
        ],
        vec![attachment_content("a", &half), attachment_content("b", &half)],
    );
    let answer = w.consumer.post_framed(&request, Framing::Mtom).await;
    let fault = answer.expect_fault("AttachmentSizeLimitExceeded");
    let FaultDetail::AttachmentSizeLimitExceeded {
        permitted_total_attachment_size,
        real_total_attachment_size,
        ..
    } = &fault.detail
    else {
        unreachable!("expect_fault checked the element")
    };
    assert_eq!(*permitted_total_attachment_size, LIMIT as i64);
    assert_eq!(*real_total_attachment_size, 2 * half.len() as i64);
    assert!(w.provider.get_request(None).await.request().is_none());
    w.node.shutdown().await;
}
