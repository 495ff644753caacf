//! Tests of the 1.3 envelope codec: hand-written shapes of real messages, refusals, byte-exact
//! relay of signed blocks, fault mapping, snapshots of the writer, and a round-trip property over
//! every message kind.

use expect_test::{Expect, expect};
use proptest::prelude::*;
use time::macros::datetime;

use super::*;
use crate::xml::{Limits, RawElement};

const SOAP: &str = SOAP_ENV_NS;

fn raw(xml: &str) -> RawElement {
    RawElement::parse(xml, &Limits::default()).expect("test XML is well-formed")
}

fn id(s: &str) -> MessageId {
    MessageId::parse(s).expect("test id is a UUID")
}

fn parse(xml: &str) -> Result<ParsedEnvelope, EnvelopeError> {
    Envelope::parse(xml.as_bytes(), &Limits::default())
}

fn parse_ok(xml: &str) -> ParsedEnvelope {
    match parse(xml) {
        Ok(p) => p,
        Err(e) => panic!("refused: {e}\n{xml}"),
    }
}

/// Wraps an operation element in a SOAP envelope that declares `tns`/`basic` on the Envelope.
fn soap(body: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}" xmlns:tns="{TYPES_NS}" xmlns:basic="{BASIC_NS}"><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

fn signature_xml(value: &str) -> String {
    format!(
        r#"<ds:Signature xmlns:ds="{XMLDSIG_NS}"><ds:SignedInfo/><ds:SignatureValue>{value}</ds:SignatureValue></ds:Signature>"#
    )
}

mod fixtures {
    //! One complete message of every kind.
    use super::*;

    pub(super) fn time() -> DateTime {
        DateTime::new(datetime!(2024-03-01 10:15:30.125 +03:00)).expect("in range")
    }

    pub(super) fn payload() -> MessagePrimaryContent {
        MessagePrimaryContent::new(raw(
            r#"<req:Query xmlns:req="urn://example/query/1.0.0" Id="PERSONAL_SIGNATURE"><req:Inn>7707083893</req:Inn></req:Query>"#,
        ))
        .expect("qualified payload")
    }

    pub(super) fn signature() -> XmlSignature {
        XmlSignature::new(raw(&signature_xml("c2lnbmF0dXJl"))).expect("ds element")
    }

    pub(super) fn request_data() -> SenderProvidedRequestData {
        SenderProvidedRequestData {
            id: Some("SIGNED_BY_CONSUMER".into()),
            message_id: id("db0486d0-3c08-11e5-95e2-d4c9eff07b77"),
            reference_message_id: Some(id("db0486d0-3c08-11e5-95e2-d4c9eff07b77")),
            transaction_code: Some("ignore".into()),
            node_id: Some("node-1".into()),
            eol: Some(time()),
            primary_content: payload(),
            personal_signature: Some(signature()),
            attachment_headers: vec![AttachmentHeader {
                content_id: "att1".into(),
                namespace_uri: Some("urn://example/att".into()),
                mime_type: "application/pdf".into(),
                signature_pkcs7: Some(vec![1, 2, 3]),
                archive: vec![ArchiveFile {
                    name: "a.xml".into(),
                    namespace_uri: "urn://example/a".into(),
                }],
            }],
            ref_attachment_headers: vec![RefAttachmentHeader {
                uuid: "5e5c2e6c-3c08-11e5-95e2-d4c9eff07b77".into(),
                file_name: Some("scan.zip".into()),
                namespace_uri: None,
                hash: "q80tqyaqCRTEQ/2cXTaCdQ==".into(),
                mime_type: "application/zip".into(),
                signature_pkcs7: None,
                archive: Vec::new(),
            }],
            business_process_metadata: Some(vec![raw(r#"<bp:Step xmlns:bp="urn://example/bp">1</bp:Step>"#)]),
            test_message: true,
        }
    }

    pub(super) fn metadata() -> MessageMetadata {
        MessageMetadata {
            id: Some("SIGNED_BY_SMEV".into()),
            message_id: Some(id("db0486d0-3c08-11e5-95e2-d4c9eff07b77")),
            message_type: MessageType::Request,
            sender: Some(Party {
                mnemonic: Some("981601_3T".into()),
                human_readable_name: "ВКАБАНК".into(),
            }),
            sending_timestamp: time(),
            recipient: Some(Party {
                mnemonic: None,
                human_readable_name: "ФНС".into(),
            }),
            delivery_timestamp: Some(time()),
            status: Some(InteractionStatus::RequestIsQueued),
        }
    }

    pub(super) fn response_data(content: ResponseContent) -> SenderProvidedResponseData {
        SenderProvidedResponseData {
            id: Some("SIGNED_BY_CALLER".into()),
            message_id: id("661d07ef-a9ea-11e8-b37a-000c29a449ef"),
            to: "eyJzaWQiOjg5MjgzfQ==".into(),
            content,
        }
    }

    pub(super) fn async_status() -> AsyncProcessingStatus {
        AsyncProcessingStatus {
            original_message_id: id("db0486d0-3c08-11e5-95e2-d4c9eff07b77"),
            category: InteractionStatus::RequestIsRejectedBySmev,
            details: Some("Ошибка проверки ftp файлов вложения".into()),
            routing_status: None,
            smev_fault: Some(SmevFaultInfo {
                code: Some("RSMEV:ASYNC".into()),
                description: Some("hash mismatch".into()),
            }),
        }
    }

    pub(super) fn selector() -> MessageTypeSelector {
        MessageTypeSelector {
            id: Some("SIGNED_BY_CALLER".into()),
            info_type: Some(InfoTypeName {
                namespace_uri: "urn://example/query/1.0.0".into(),
                local_name: "Query".into(),
            }),
            timestamp: time(),
            node_id: None,
        }
    }

    /// Every message kind, each with its optional parts present.
    pub(super) fn all() -> Vec<Envelope> {
        let answer = ResponseContent::Answer {
            primary_content: payload(),
            personal_signature: None,
            attachment_headers: Vec::new(),
            ref_attachment_headers: Vec::new(),
        };
        vec![
            Envelope::SendRequestRequest(SendRequestRequest {
                sender_provided: Signed::new(request_data()),
                attachments: vec![AttachmentContent {
                    id: "att1".into(),
                    content: b"%PDF-1.4".to_vec(),
                }],
                caller_signature: Some(signature()),
                routing: None,
            }),
            Envelope::SendRequestResponse(SendRequestResponse {
                metadata: Signed::new(metadata()),
                smev_signature: Some(signature()),
            }),
            Envelope::SendResponseRequest(SendResponseRequest {
                sender_provided: Signed::new(response_data(answer.clone())),
                attachments: Vec::new(),
                caller_signature: Some(signature()),
            }),
            Envelope::SendResponseResponse(SendResponseResponse {
                metadata: Signed::new(MessageMetadata {
                    message_type: MessageType::Response,
                    ..metadata()
                }),
                smev_signature: None,
            }),
            Envelope::GetRequestRequest(GetRequestRequest {
                selector: Signed::new(selector()),
                caller_signature: Some(signature()),
            }),
            Envelope::GetRequestResponse(GetRequestResponse {
                message: Some(RequestMessage {
                    request: Signed::new(Request {
                        id: Some("SIGNED_BY_SMEV".into()),
                        sender_provided: Signed::new(request_data()),
                        metadata: metadata(),
                        fs_attachments: vec![FsAttachment {
                            uuid: "5e5c2e6c-3c08-11e5-95e2-d4c9eff07b77".into(),
                            user_name: "anonymous".into(),
                            password: "smev".into(),
                            file_name: "/scan.zip".into(),
                        }],
                        reply_to: Some("eyJzaWQiOjg5MjgzfQ==".into()),
                        sender_signature: Some(signature()),
                    }),
                    attachments: Vec::new(),
                    smev_signature: Some(signature()),
                }),
            }),
            Envelope::GetResponseRequest(GetResponseRequest {
                selector: Signed::new(MessageTypeSelector {
                    info_type: None,
                    node_id: Some("node-1".into()),
                    ..selector()
                }),
                caller_signature: None,
            }),
            Envelope::GetResponseResponse(GetResponseResponse {
                message: Some(ResponseMessage {
                    response: Signed::new(Response {
                        id: Some("SIGNED_BY_SMEV".into()),
                        original_message_id: Some(id("db0486d0-3c08-11e5-95e2-d4c9eff07b77")),
                        original_transaction_code: Some("ignore".into()),
                        reference_message_id: None,
                        sender_provided: Signed::new(response_data(ResponseContent::Rejected(vec![
                            RequestRejected {
                                code: RejectionReasonCode::NoData,
                                description: "нет данных".into(),
                            },
                        ]))),
                        metadata: MessageMetadata {
                            message_type: MessageType::Response,
                            ..metadata()
                        },
                        fs_attachments: Vec::new(),
                        sender_signature: Some(signature()),
                    }),
                    attachments: Vec::new(),
                    smev_signature: Some(signature()),
                }),
            }),
            Envelope::AckRequest(AckRequest {
                target: Signed::new(AckTargetMessage {
                    id: "SIGNED_BY_CALLER".into(),
                    accepted: Some(true),
                    message_id: id("1987131a-bcc2-11e8-a37c-fa163eb3792e"),
                }),
                caller_signature: Some(signature()),
            }),
            Envelope::AckResponse,
            Envelope::GetStatusRequest(GetStatusRequest {
                timestamp: Signed::new(Timestamp {
                    id: Some("SIGNED_BY_CALLER".into()),
                    value: time(),
                }),
                caller_signature: signature(),
            }),
            Envelope::GetStatusResponse(GetStatusResponse {
                message: Some(SmevAsyncProcessingMessage {
                    data: Signed::new(AsyncProcessingStatusData {
                        id: Some("SIGNED_BY_SMEV".into()),
                        status: async_status(),
                    }),
                    smev_signature: Some(signature()),
                }),
            }),
            Envelope::Fault(Fault::signature(
                SignatureFaultReason::CertificateIsExpired,
                "Срок действия сертификата ЭП-ОВ истёк",
            )),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written shapes of real traffic (1.2/1.1 samples moved to the 1.3 namespaces).

#[test]
fn ack_request_in_the_shape_of_the_1_2_sample_is_read() {
    let xml = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}">
    <soap:Body>
        <ns2:AckRequest xmlns="{BASIC_NS}"
                        xmlns:ns2="{TYPES_NS}">
            <AckTargetMessage Id="SIGNED" accepted="true">1987131a-bcc2-11e8-a37c-fa163eb3792e</AckTargetMessage>
        </ns2:AckRequest>
    </soap:Body>
</soap:Envelope>"#
    );
    let parsed = parse_ok(&xml);
    let Envelope::AckRequest(ack) = parsed.envelope() else {
        panic!("not an AckRequest: {:?}", parsed.envelope())
    };
    assert_eq!(ack.target.id, "SIGNED");
    assert_eq!(ack.target.accepted, Some(true));
    assert_eq!(
        ack.target.message_id.as_str(),
        "1987131a-bcc2-11e8-a37c-fa163eb3792e"
    );
    assert!(ack.caller_signature.is_none());
    let target = parsed.caller_signed_element().expect("Ack has a caller site");
    assert_eq!(
        parsed.document().element(target).map(|e| e.local.as_str()),
        Some("AckTargetMessage")
    );
    assert_eq!(parsed.caller_signature(), None);
    assert_eq!(parsed.envelope().operation(), Some(Operation::Ack));
    assert_eq!(parsed.envelope().direction(), Direction::Input);
}

#[test]
fn send_request_in_the_shape_of_the_esnsi_sample_keeps_its_payload() {
    let payload = r#"<CnsiRequest xmlns="urn://x-artefacts-smev-gov-ru/esnsi/smev-integration/read/1.0.0">
                        <Structure>
                            <revisionRef>
                                <id>281</id>
                                <revision>1</revision>
                            </revisionRef>
                        </Structure>
                    </CnsiRequest>"#;
    let xml = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}">
    <soap:Body>
        <ns2:SendRequestRequest xmlns="{BASIC_NS}"
                                xmlns:ns2="{TYPES_NS}">
            <ns2:SenderProvidedRequestData Id="SIGNED">
                <ns2:MessageID>1a77671a-bcc2-11e8-bb3a-6149e818f8fe</ns2:MessageID>
                <MessagePrimaryContent>
                    {payload}
                </MessagePrimaryContent>
            </ns2:SenderProvidedRequestData>
        </ns2:SendRequestRequest>
    </soap:Body>
</soap:Envelope>"#
    );
    let parsed = parse_ok(&xml);
    let Envelope::SendRequestRequest(m) = parsed.envelope() else {
        panic!("not a SendRequestRequest")
    };
    let content = &m.sender_provided.primary_content;
    assert_eq!(
        content.element().as_str(),
        payload,
        "the payload declares its own namespace"
    );
    assert_eq!(
        content.namespace(),
        "urn://x-artefacts-smev-gov-ru/esnsi/smev-integration/read/1.0.0"
    );
    assert_eq!(content.local_name(), "CnsiRequest");
    assert_eq!(m.sender_provided.id.as_deref(), Some("SIGNED"));
    // The received block declares the two namespaces it inherited from SendRequestRequest.
    let original = m.sender_provided.received_element().expect("received").as_str();
    assert!(
        original.starts_with(&format!(
            r#"<ns2:SenderProvidedRequestData xmlns:ns2="{TYPES_NS}" xmlns="{BASIC_NS}" Id="SIGNED">"#
        )) || original.starts_with(&format!(
            r#"<ns2:SenderProvidedRequestData xmlns="{BASIC_NS}" xmlns:ns2="{TYPES_NS}" Id="SIGNED">"#
        )),
        "{original}"
    );
}

#[test]
fn fault_in_the_shape_of_the_1_1_sample_is_typed_in_1_3() {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>Срок действия сертификата ЭП-ОВ истёк. Сертификат действителен до 2018-05-06 15:15</faultstring><detail><ns3:SignatureVerificationFault xmlns:ns3="{FAULTS_NS}" xmlns:ns2="{TYPES_NS}" xmlns="{BASIC_NS}"><Code>tsmev3:PRODUCTION_AREA:TSMEV3_CORE2 : TR:SYNC:SPS:4</Code><Description>SMEV-100:Срок действия сертификата ЭП-ОВ истёк. Сертификат действителен до 2018-05-06 15:15</Description><ns3:SignatureVerificationFault>CertificateIsExpired</ns3:SignatureVerificationFault></ns3:SignatureVerificationFault></detail></soap:Fault></soap:Body></soap:Envelope>"#
    );
    let parsed = parse_ok(&xml);
    let Envelope::Fault(fault) = parsed.envelope() else {
        panic!("not a fault")
    };
    assert_eq!(fault.code, SoapFaultCode::Server);
    assert_eq!(
        fault.detail,
        FaultDetail::SignatureVerificationFault {
            info: SmevFaultInfo {
                code: Some("tsmev3:PRODUCTION_AREA:TSMEV3_CORE2 : TR:SYNC:SPS:4".into()),
                description: Some(
                    "SMEV-100:Срок действия сертификата ЭП-ОВ истёк. Сертификат действителен до 2018-05-06 15:15"
                        .into()
                ),
            },
            reason: SignatureFaultReason::CertificateIsExpired,
        }
    );
    assert_eq!(fault.client_action(), ClientAction::ContactOperator);
    assert!(parsed.signature_sites().is_empty());
}

#[test]
fn fault_of_another_schema_version_is_kept_verbatim() {
    let detail = r#"<ns3:SignatureVerificationFault xmlns:ns3="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/faults/1.1"><ns3:SignatureVerificationFault>CertificateIsExpired</ns3:SignatureVerificationFault></ns3:SignatureVerificationFault>"#;
    let xml = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>x</faultstring><detail>{detail}</detail></soap:Fault></soap:Body></soap:Envelope>"#
    );
    let Envelope::Fault(fault) = parse_ok(&xml).into_envelope() else {
        panic!("not a fault")
    };
    assert_eq!(fault.detail, FaultDetail::Unrecognized(Some(raw(detail))));
    assert_eq!(
        fault.client_action(),
        ClientAction::Retry,
        "soap:Server without a known detail"
    );
}

#[test]
fn signed_get_request_response_records_every_signature_site() {
    let parsed = parse_ok(&fixtures_xml(5));
    let doc = parsed.document();
    let sites: Vec<(SignatureRole, String, Option<String>)> = parsed
        .signature_sites()
        .iter()
        .map(|s| {
            (
                s.role,
                doc.element(s.target).map(|e| e.local.clone()).unwrap_or_default(),
                s.signature.and_then(|n| doc.element(n)).map(|e| e.local.clone()),
            )
        })
        .collect();
    let sig = Some("Signature".to_owned());
    assert_eq!(
        sites,
        vec![
            (SignatureRole::Smev, "Request".into(), sig.clone()),
            (
                SignatureRole::Sender,
                "SenderProvidedRequestData".into(),
                sig.clone()
            ),
            (SignatureRole::Personal, "Query".into(), sig.clone()),
        ]
    );
    assert_eq!(
        parsed.caller_signed_element(),
        None,
        "the node's answer has no caller"
    );
}

#[test]
fn caller_site_points_at_the_signed_block_and_its_signature() {
    let parsed = parse_ok(&fixtures_xml(0));
    let doc = parsed.document();
    let target = parsed.caller_signed_element().expect("site");
    let el = doc.element(target).expect("element");
    assert!(el.is(TYPES_NS, "SenderProvidedRequestData"));
    assert_eq!(
        doc.element_by_id("SIGNED_BY_CONSUMER").expect("unique"),
        Some(target),
        "the Id the caller references resolves to the same node"
    );
    let sig = parsed.caller_signature().expect("signature present");
    assert!(doc.element(sig).expect("element").is(XMLDSIG_NS, "Signature"));
    let container = doc.parent(sig).and_then(|p| doc.element(p)).expect("container");
    assert_eq!(container.local, "CallerInformationSystemSignature");
}

fn fixtures_xml(index: usize) -> String {
    fixtures::all()[index].to_xml()
}

#[test]
fn header_comments_and_indentation_are_accepted() {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a client comment -->
<S:Envelope xmlns:S="{SOAP}">
  <S:Header><wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing">urn:GetRequest</wsa:Action></S:Header>
  <S:Body>
    <GetRequestRequest xmlns="{TYPES_NS}">
      <!-- selector -->
      <MessageTypeSelector xmlns="{BASIC_NS}" Id="SIGNED_BY_CALLER">
        <Timestamp>2024-03-01T10:15:30Z</Timestamp>
      </MessageTypeSelector>
    </GetRequestRequest>
  </S:Body>
</S:Envelope>"#
    );
    let Envelope::GetRequestRequest(m) = parse_ok(&xml).into_envelope() else {
        panic!("not a GetRequestRequest")
    };
    assert_eq!(m.selector.info_type, None);
    assert_eq!(m.selector.timestamp.to_string(), "2024-03-01T10:15:30Z");
}

#[test]
fn empty_queue_answers_are_read() {
    for (name, expected) in [
        (
            "GetRequestResponse",
            Envelope::GetRequestResponse(GetRequestResponse { message: None }),
        ),
        (
            "GetResponseResponse",
            Envelope::GetResponseResponse(GetResponseResponse { message: None }),
        ),
        (
            "GetStatusResponse",
            Envelope::GetStatusResponse(GetStatusResponse { message: None }),
        ),
        ("AckResponse", Envelope::AckResponse),
    ] {
        let parsed = parse_ok(&soap(&format!("<tns:{name}/>")));
        assert_eq!(parsed.envelope(), &expected);
        assert_eq!(parsed.envelope().element_name(), name);
        assert_eq!(parse_ok(&expected.to_xml()).envelope(), &expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Byte-exact content and relay.

#[test]
fn payload_using_prefixes_declared_on_the_soap_envelope_keeps_its_bytes() {
    // The client declares the payload's prefix (and a default namespace) on soap:Envelope.
    let xml = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}" xmlns:q="urn://example/query/1.0.0" xmlns:ns2="{TYPES_NS}" xmlns:b="{BASIC_NS}"><soap:Body><ns2:SendRequestRequest><ns2:SenderProvidedRequestData Id="S"><ns2:MessageID>1a77671a-bcc2-11e8-bb3a-6149e818f8fe</ns2:MessageID><b:MessagePrimaryContent><q:Query   a = 'x&amp;y' ><q:Name>Иван &lt;Грозный&gt; &#x41;</q:Name><!-- kept --><q:Empty/></q:Query></b:MessagePrimaryContent></ns2:SenderProvidedRequestData></ns2:SendRequestRequest></soap:Body></soap:Envelope>"#
    );
    let parsed = parse_ok(&xml);
    let Envelope::SendRequestRequest(m) = parsed.envelope() else {
        panic!("not a SendRequestRequest")
    };
    let expected = r#"<q:Query xmlns:q="urn://example/query/1.0.0"   a = 'x&amp;y' ><q:Name>Иван &lt;Грозный&gt; &#x41;</q:Name><!-- kept --><q:Empty/></q:Query>"#;
    assert_eq!(m.sender_provided.primary_content.element().as_str(), expected);

    // Written out and read again, the payload is the same bytes.
    let again = parse_ok(&parsed.envelope().to_xml());
    let Envelope::SendRequestRequest(m2) = again.envelope() else {
        panic!("not a SendRequestRequest")
    };
    assert_eq!(m2.sender_provided.primary_content.element().as_str(), expected);
}

#[test]
fn received_request_data_is_relayed_byte_for_byte_into_request() {
    // Odd but legal formatting that a re-serializer would change: attribute quotes, spacing,
    // character references, an empty-element tag, namespace declarations in the middle.
    let block = format!(
        r#"<ns2:SenderProvidedRequestData Id='SIGNED_BY_CONSUMER'  ><ns2:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns2:MessageID>
  <ns2:TransactionCode>a&#x20;b</ns2:TransactionCode>
  <MessagePrimaryContent xmlns="{BASIC_NS}"><r:Root xmlns:r="urn://example/r"><r:x/></r:Root></MessagePrimaryContent>
  <ns2:TestMessage></ns2:TestMessage></ns2:SenderProvidedRequestData>"#
    );
    let xml = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}" xmlns:ns2="{TYPES_NS}"><soap:Body><ns2:SendRequestRequest>{block}<ns2:CallerInformationSystemSignature>{}</ns2:CallerInformationSystemSignature></ns2:SendRequestRequest></soap:Body></soap:Envelope>"#,
        signature_xml("AAAA")
    );
    let parsed = parse_ok(&xml);
    let Envelope::SendRequestRequest(m) = parsed.into_envelope() else {
        panic!("not a SendRequestRequest")
    };
    assert_eq!(m.sender_provided.transaction_code.as_deref(), Some("a b"));
    assert!(m.sender_provided.test_message);
    let received = m.sender_provided.received_element().expect("received").clone();
    // The only change extract() makes: the inherited `ns2` is declared on the block itself.
    let self_contained = block.replacen(
        "<ns2:SenderProvidedRequestData",
        &format!(r#"<ns2:SenderProvidedRequestData xmlns:ns2="{TYPES_NS}""#),
        1,
    );
    assert_eq!(received.as_str(), self_contained);

    // The node moves the block into Request, and the sender's signature with it.
    let delivered = Envelope::GetRequestResponse(GetRequestResponse {
        message: Some(RequestMessage {
            request: Signed::new(Request {
                id: Some("SIGNED_BY_SMEV".into()),
                sender_provided: m.sender_provided.clone(),
                metadata: fixtures::metadata(),
                fs_attachments: Vec::new(),
                reply_to: Some("opaque".into()),
                sender_signature: m.caller_signature.clone(),
            }),
            attachments: Vec::new(),
            smev_signature: None,
        }),
    });
    let out = delivered.to_xml();
    assert!(
        out.contains(&self_contained),
        "the block is embedded verbatim:\n{out}"
    );

    // The provider reads exactly the bytes the requester signed, and the same values.
    let at_provider = parse_ok(&out);
    let Envelope::GetRequestResponse(GetRequestResponse { message: Some(msg) }) = at_provider.envelope()
    else {
        panic!("not a GetRequestResponse")
    };
    let relayed = &msg.request.sender_provided;
    assert_eq!(relayed.received_element(), Some(&received));
    assert_eq!(relayed.value(), m.sender_provided.value());
    assert_eq!(msg.request.sender_signature, m.caller_signature);

    // What a signature digests is the same at the provider as it was at the node: under plain
    // exclusive c14n and under the SMEV transform.
    let at_node = parse_ok(&xml);
    let (sent_doc, sent_node) = (at_node.document(), at_node.caller_signed_element().expect("site"));
    let relayed_node = at_provider
        .site(SignatureRole::Sender)
        .expect("sender site")
        .target;
    let relayed_doc = at_provider.document();
    assert_eq!(
        crate::xml::c14n::exclusive(sent_doc, sent_node, &[]),
        crate::xml::c14n::exclusive(relayed_doc, relayed_node, &[])
    );
    assert_eq!(
        crate::xml::transform::smev(sent_doc, sent_node).expect("qualified"),
        crate::xml::transform::smev(relayed_doc, relayed_node).expect("qualified")
    );

    // Re-serializing the fields instead would have changed the exc-c14n form (prefix `ns2`
    // becomes `tns`, `a&#x20;b` stays but the default namespace moves), breaking the signature.
    let rewritten = Envelope::SendRequestRequest(SendRequestRequest {
        sender_provided: Signed::new(m.sender_provided.value().clone()),
        attachments: Vec::new(),
        caller_signature: None,
        routing: None,
    });
    let rewritten = parse_ok(&rewritten.to_xml());
    let node = rewritten.caller_signed_element().expect("site");
    assert_ne!(
        crate::xml::c14n::exclusive(rewritten.document(), node, &[]),
        crate::xml::c14n::exclusive(sent_doc, sent_node, &[])
    );
}

#[test]
fn received_response_data_is_relayed_byte_for_byte_into_response() {
    let parsed = parse_ok(&fixtures_xml(2));
    let Envelope::SendResponseRequest(m) = parsed.into_envelope() else {
        panic!("not a SendResponseRequest")
    };
    let received = m.sender_provided.received_element().expect("received").clone();
    let delivered = Envelope::GetResponseResponse(GetResponseResponse {
        message: Some(ResponseMessage {
            response: Signed::new(Response {
                id: None,
                original_message_id: None,
                original_transaction_code: None,
                reference_message_id: None,
                sender_provided: m.sender_provided,
                metadata: fixtures::metadata(),
                fs_attachments: Vec::new(),
                sender_signature: m.caller_signature,
            }),
            attachments: Vec::new(),
            smev_signature: None,
        }),
    });
    let out = delivered.to_xml();
    assert!(out.contains(received.as_str()));
    let Envelope::GetResponseResponse(GetResponseResponse { message: Some(msg) }) =
        parse_ok(&out).into_envelope()
    else {
        panic!("not a GetResponseResponse")
    };
    assert_eq!(msg.response.sender_provided.received_element(), Some(&received));
}

#[test]
fn a_sealed_block_is_written_as_the_text_that_was_signed() {
    let sealed = Signed::sealed(fixtures::selector());
    let text = sealed.fixed_xml().expect("sealed").to_owned();
    assert_eq!(text, fixtures::selector().to_xml_element());
    assert!(text.starts_with(&format!(
        r#"<basic:MessageTypeSelector xmlns:tns="{TYPES_NS}" xmlns:basic="{BASIC_NS}" Id="SIGNED_BY_CALLER">"#
    )));
    let msg = Envelope::GetRequestRequest(GetRequestRequest {
        selector: sealed,
        caller_signature: None,
    });
    let out = msg.to_xml();
    assert!(out.contains(&text));
    let parsed = parse_ok(&out);
    let Envelope::GetRequestRequest(m) = parsed.envelope() else {
        panic!("not a GetRequestRequest")
    };
    assert_eq!(
        m.selector.received_element().map(RawElement::as_str),
        Some(text.as_str())
    );
    assert_eq!(parsed.envelope(), &msg);
}

#[test]
fn signed_equality_ignores_where_the_block_came_from() {
    let built = Signed::new(fixtures::selector());
    let sealed = Signed::sealed(fixtures::selector());
    assert_eq!(built, sealed);
    assert_eq!(built.fixed_xml(), None);
    assert_eq!(built.xml(), sealed.xml());
    let other = Signed::new(MessageTypeSelector {
        node_id: Some("n".into()),
        ..fixtures::selector()
    });
    assert_ne!(built, other);
}

// ---------------------------------------------------------------------------------------------
// Refusals.

fn refused(xml: &str) -> EnvelopeError {
    match parse(xml) {
        Ok(p) => panic!("accepted: {:?}", p.envelope()),
        Err(e) => e,
    }
}

#[test]
fn operation_of_another_version_is_refused_as_invalid_content() {
    let xml = format!(
        r#"<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><ns2:AckRequest xmlns:ns2="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.2"/></soap:Body></soap:Envelope>"#
    );
    let err = refused(&xml);
    assert!(matches!(err, EnvelopeError::UnknownOperation { .. }), "{err:?}");
    let fault = err.fault();
    let FaultDetail::InvalidContent { errors, .. } = &fault.detail else {
        panic!("{fault:?}")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].position,
        i32::try_from(xml.find("<ns2:AckRequest").expect("present")).expect("small")
    );
    assert!(
        errors[0].message.contains("types/1.2}AckRequest"),
        "{}",
        errors[0].message
    );
    assert_eq!(fault.code, SoapFaultCode::Client);
    assert_eq!(fault.client_action(), ClientAction::FixAndResend);
}

#[test]
fn soap_1_2_envelope_is_refused_as_poor_soap_envelope() {
    let err = refused(
        r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body/></env:Envelope>"#,
    );
    assert!(matches!(err, EnvelopeError::NotSoapEnvelope { .. }), "{err:?}");
    assert!(err.is_poor_soap_envelope());
    assert!(matches!(
        err.fault().detail,
        FaultDetail::SignatureVerificationFault {
            reason: SignatureFaultReason::PoorSoapEnvelopeFormat,
            ..
        }
    ));
}

#[test]
fn two_operation_elements_are_refused() {
    let xml = soap("<tns:AckResponse/><tns:AckResponse/>");
    assert_eq!(refused(&xml), EnvelopeError::BodyElementCount { count: 2 });
    assert_eq!(refused(&soap("")), EnvelopeError::BodyElementCount { count: 0 });
    assert!(refused(&soap("text")).is_poor_soap_envelope());
}

#[test]
fn envelope_without_body_or_with_extra_children_is_refused() {
    let no_body = format!(r#"<soap:Envelope xmlns:soap="{SOAP}"><soap:Header/></soap:Envelope>"#);
    assert_eq!(refused(&no_body), EnvelopeError::NoBody);
    let two_bodies =
        format!(r#"<soap:Envelope xmlns:soap="{SOAP}"><soap:Body/><soap:Body/></soap:Envelope>"#);
    assert!(matches!(
        refused(&two_bodies),
        EnvelopeError::UnexpectedSoapContent { .. }
    ));
    let after_body =
        format!(r#"<soap:Envelope xmlns:soap="{SOAP}"><soap:Body/><x:y xmlns:x="urn:x"/></soap:Envelope>"#);
    assert!(matches!(
        refused(&after_body),
        EnvelopeError::UnexpectedSoapContent { .. }
    ));
    for misplaced in [
        "<soap:Header/><soap:Header/><soap:Body/>",
        "<soap:Body/><soap:Header/>",
    ] {
        let xml = format!(r#"<soap:Envelope xmlns:soap="{SOAP}">{misplaced}</soap:Envelope>"#);
        assert!(
            matches!(refused(&xml), EnvelopeError::UnexpectedSoapContent { .. }),
            "{misplaced}"
        );
    }
}

#[test]
fn hostile_xml_is_refused_before_anything_else() {
    let xml = format!(
        r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><soap:Envelope xmlns:soap="{SOAP}"><soap:Body/></soap:Envelope>"#
    );
    let err = refused(&xml);
    assert!(
        matches!(
            err,
            EnvelopeError::Xml(crate::xml::XmlError::DoctypeForbidden { .. })
        ),
        "{err:?}"
    );
    assert!(err.is_poor_soap_envelope());
    let small = Limits {
        max_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        Envelope::parse(fixtures_xml(9).as_bytes(), &small),
        Err(EnvelopeError::Xml(crate::xml::XmlError::TooLarge { .. }))
    ));
}

#[test]
fn missing_mandatory_elements_are_named() {
    let cases = [
        (
            "<tns:SendRequestRequest/>",
            "SendRequestRequest",
            "SenderProvidedRequestData",
        ),
        (
            "<tns:SendRequestRequest><tns:SenderProvidedRequestData><tns:MessageID>1a77671a-bcc2-11e8-bb3a-6149e818f8fe</tns:MessageID></tns:SenderProvidedRequestData></tns:SendRequestRequest>",
            "SenderProvidedRequestData",
            "MessagePrimaryContent",
        ),
        (
            "<tns:SendRequestRequest><tns:SenderProvidedRequestData><basic:MessagePrimaryContent/></tns:SenderProvidedRequestData></tns:SendRequestRequest>",
            "SenderProvidedRequestData",
            "MessageID",
        ),
        (
            "<tns:GetRequestRequest><basic:MessageTypeSelector/></tns:GetRequestRequest>",
            "MessageTypeSelector",
            "Timestamp",
        ),
        (
            "<tns:GetRequestRequest><basic:MessageTypeSelector><basic:NamespaceURI>urn:x</basic:NamespaceURI><basic:Timestamp>2024-01-01T00:00:00Z</basic:Timestamp></basic:MessageTypeSelector></tns:GetRequestRequest>",
            "MessageTypeSelector",
            "RootElementLocalName",
        ),
        (
            "<tns:SendRequestResponse><tns:MessageMetadata><tns:SendingTimestamp>2024-01-01T00:00:00Z</tns:SendingTimestamp></tns:MessageMetadata></tns:SendRequestResponse>",
            "MessageMetadata",
            "MessageType",
        ),
        (
            "<tns:SendResponseRequest><tns:SenderProvidedResponseData><tns:MessageID>1a77671a-bcc2-11e8-bb3a-6149e818f8fe</tns:MessageID><tns:To>x</tns:To></tns:SenderProvidedResponseData></tns:SendResponseRequest>",
            "SenderProvidedResponseData",
            "MessagePrimaryContent, RequestRejected, RequestStatus or AsyncProcessingStatus",
        ),
    ];
    for (body, parent, element) in cases {
        let err = refused(&soap(body));
        let EnvelopeError::MissingElement {
            parent: p,
            element: e,
            ..
        } = &err
        else {
            panic!("{body}: {err:?}")
        };
        assert_eq!((*p, *e), (parent, element), "{body}");
        assert!(matches!(err.fault().detail, FaultDetail::InvalidContent { .. }));
    }
}

#[test]
fn ack_without_id_attribute_is_refused() {
    let err = refused(&soap(
        "<tns:AckRequest><basic:AckTargetMessage>1987131a-bcc2-11e8-a37c-fa163eb3792e</basic:AckTargetMessage></tns:AckRequest>",
    ));
    assert!(
        matches!(
            err,
            EnvelopeError::MissingAttribute {
                element: "AckTargetMessage",
                attribute: "Id",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn get_status_without_signature_is_refused_as_no_signature_found() {
    let err = refused(&soap(
        r#"<tns:GetStatusRequest><basic:Timestamp Id="T">2024-01-01T00:00:00Z</basic:Timestamp></tns:GetStatusRequest>"#,
    ));
    assert_eq!(
        err,
        EnvelopeError::MissingCallerSignature {
            operation: "GetStatusRequest"
        }
    );
    assert!(matches!(
        err.fault().detail,
        FaultDetail::SignatureVerificationFault {
            reason: SignatureFaultReason::NoSignatureFound,
            ..
        }
    ));
}

#[test]
fn misplaced_unknown_and_textual_content_is_refused() {
    // Order matters: NodeID before TransactionCode.
    let body = "<tns:SendRequestRequest><tns:SenderProvidedRequestData><tns:MessageID>1a77671a-bcc2-11e8-bb3a-6149e818f8fe</tns:MessageID><tns:NodeID>n</tns:NodeID><tns:TransactionCode>t</tns:TransactionCode></tns:SenderProvidedRequestData></tns:SendRequestRequest>";
    assert!(matches!(
        refused(&soap(body)),
        EnvelopeError::MissingElement {
            element: "MessagePrimaryContent",
            ..
        }
    ));
    let body = "<tns:AckResponse><tns:Extra/></tns:AckResponse>";
    assert!(matches!(
        refused(&soap(body)),
        EnvelopeError::UnexpectedElement {
            parent: "AckResponse",
            ..
        }
    ));
    let body = "<tns:AckResponse>text</tns:AckResponse>";
    assert!(matches!(
        refused(&soap(body)),
        EnvelopeError::UnexpectedText {
            element: "AckResponse",
            ..
        }
    ));
}

#[test]
fn bad_values_are_refused_with_their_element() {
    let spr = |inner: &str| {
        soap(&format!(
            "<tns:SendRequestRequest><tns:SenderProvidedRequestData>{inner}<basic:MessagePrimaryContent><x:a xmlns:x=\"urn:x\"/></basic:MessagePrimaryContent></tns:SenderProvidedRequestData></tns:SendRequestRequest>"
        ))
    };
    const ID: &str = "<tns:MessageID>1a77671a-bcc2-11e8-bb3a-6149e818f8fe</tns:MessageID>";
    // Upper-case UUID: not the basic:UUID pattern; the sender's MessageID maps to its own fault.
    let err = refused(&spr(
        "<tns:MessageID>1A77671A-BCC2-11E8-BB3A-6149E818F8FE</tns:MessageID>",
    ));
    assert!(
        matches!(err, EnvelopeError::InvalidSenderMessageId { .. }),
        "{err:?}"
    );
    assert_eq!(err.fault().detail, FaultDetail::InvalidMessageIdFormat);
    assert_eq!(err.fault().client_action(), ClientAction::FixAndResend);

    let err = refused(&spr(&format!(
        "{ID}<tns:ReferenceMessageID>nope</tns:ReferenceMessageID>"
    )));
    assert!(
        matches!(
            err,
            EnvelopeError::InvalidValue {
                element: "ReferenceMessageID",
                ..
            }
        ),
        "{err:?}"
    );
    let err = refused(&spr(&format!("{ID}<tns:EOL>2024-02-30T00:00:00Z</tns:EOL>")));
    assert!(
        matches!(err, EnvelopeError::InvalidValue { element: "EOL", .. }),
        "{err:?}"
    );
    let long = "n".repeat(51);
    let err = refused(&spr(&format!("{ID}<tns:NodeID>{long}</tns:NodeID>")));
    assert!(
        matches!(
            err,
            EnvelopeError::InvalidValue {
                element: "NodeID",
                ..
            }
        ),
        "{err:?}"
    );

    // The payload must be qualified, and not in the basic namespace.
    let err = refused(&soap(&format!(
        "<tns:SendRequestRequest><tns:SenderProvidedRequestData>{ID}<basic:MessagePrimaryContent><a/></basic:MessagePrimaryContent></tns:SenderProvidedRequestData></tns:SendRequestRequest>"
    )));
    assert!(
        matches!(
            err,
            EnvelopeError::InvalidValue {
                element: "MessagePrimaryContent",
                ..
            }
        ),
        "{err:?}"
    );
    let err = refused(&soap(&format!(
        "<tns:SendRequestRequest><tns:SenderProvidedRequestData>{ID}<basic:MessagePrimaryContent><basic:a/></basic:MessagePrimaryContent></tns:SenderProvidedRequestData></tns:SendRequestRequest>"
    )));
    assert!(matches!(err, EnvelopeError::InvalidValue { .. }), "{err:?}");

    // A signature container must hold an XMLDSig element.
    let err = refused(&soap(
        "<tns:AckRequest><basic:AckTargetMessage Id=\"A\">1a77671a-bcc2-11e8-bb3a-6149e818f8fe</basic:AckTargetMessage><tns:CallerInformationSystemSignature><x:Signature xmlns:x=\"urn:x\"/></tns:CallerInformationSystemSignature></tns:AckRequest>",
    ));
    assert!(matches!(err, EnvelopeError::InvalidValue { .. }), "{err:?}");

    let err = refused(&soap(
        "<tns:SendRequestResponse><tns:MessageMetadata><tns:MessageType>CANCEL</tns:MessageType><tns:SendingTimestamp>2024-01-01T00:00:00Z</tns:SendingTimestamp></tns:MessageMetadata></tns:SendRequestResponse>",
    ));
    assert!(
        matches!(
            err,
            EnvelopeError::InvalidValue {
                element: "MessageType",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn quoted_values_are_cut() {
    let long = "x".repeat(500);
    let err = refused(&soap(&format!(
        "<tns:AckRequest><basic:AckTargetMessage Id=\"A\">{long}</basic:AckTargetMessage></tns:AckRequest>"
    )));
    let EnvelopeError::InvalidValue { value, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(value.chars().count(), 101);
    assert!(err.to_string().len() < 300);
}

// ---------------------------------------------------------------------------------------------
// Faults.

fn all_fault_details() -> Vec<FaultDetail> {
    let info = || SmevFaultInfo {
        code: Some("RSMEV:TEST".into()),
        description: Some("описание".into()),
    };
    vec![
        FaultDetail::AccessDenied,
        FaultDetail::AttachmentContentMiscoordination,
        FaultDetail::AttachmentSizeLimitExceeded {
            info: info(),
            permitted_total_attachment_size: 5 * 1024 * 1024,
            real_total_attachment_size: i64::MAX,
        },
        FaultDetail::BusinessDataTypeIsNotSupported {
            info: info(),
            root_element_local_name: "Query".into(),
            root_element_namespace_uri: "urn://example/query/1.0.0".into(),
        },
        FaultDetail::DestinationOverflow {
            info: SmevFaultInfo::default(),
            message_broker_address: "amqp://broker".into(),
            destination_name: "fns.requests".into(),
        },
        FaultDetail::EndOfLifeReached(info()),
        FaultDetail::IncorrectResponseContentType,
        FaultDetail::InvalidContent {
            info: info(),
            errors: vec![
                ValidationError {
                    position: 12,
                    message: "element x: <not expected> & \"so\"".into(),
                },
                ValidationError {
                    position: -1,
                    message: String::new(),
                },
            ],
        },
        FaultDetail::InvalidMessageIdFormat,
        FaultDetail::MessageIsAlreadySent,
        FaultDetail::PersonalAccessDenied(SmevFaultInfo {
            code: None,
            description: Some("d".into()),
        }),
        FaultDetail::QuoteLimitExceeded {
            info: info(),
            remained_total_quote_size: 0,
            real_total_attachment_size: -5,
        },
        FaultDetail::RecipientIsNotFound,
        FaultDetail::RequestIsNotFound,
        FaultDetail::SenderIsNotRegistered,
        FaultDetail::SignatureVerificationFault {
            info: info(),
            reason: SignatureFaultReason::IncorrectSignatureTarget,
        },
        FaultDetail::SmevFailure,
        FaultDetail::StaleMessageId,
        FaultDetail::TargetMessageIsNotFound,
        FaultDetail::TransactionCodeInvalid(info()),
        FaultDetail::UnknownMessageType,
        FaultDetail::Unrecognized(None),
    ]
}

#[test]
fn every_fault_detail_round_trips() {
    let details = all_fault_details();
    let names: Vec<_> = details.iter().filter_map(FaultDetail::element_name).collect();
    assert_eq!(names.len(), 21, "every fault element of the 1.3 faults schema");
    for detail in details {
        let fault = Fault::new(detail, "описание & <причина>");
        let xml = Envelope::Fault(fault.clone()).to_xml();
        let back = parse_ok(&xml).into_envelope();
        assert_eq!(back, Envelope::Fault(fault), "{xml}");
    }
}

#[test]
fn client_actions_follow_the_wsdl_annotations() {
    let action = |d: FaultDetail| Fault::new(d, "x").client_action();
    assert_eq!(action(FaultDetail::SmevFailure), ClientAction::Retry);
    assert!(Fault::new(FaultDetail::SmevFailure, "x").is_retryable());
    assert_eq!(
        action(FaultDetail::DestinationOverflow {
            info: SmevFaultInfo::default(),
            message_broker_address: String::new(),
            destination_name: String::new()
        }),
        ClientAction::Retry
    );
    assert_eq!(action(FaultDetail::MessageIsAlreadySent), ClientAction::Stop);
    assert!(!Fault::new(FaultDetail::MessageIsAlreadySent, "x").is_retryable());
    assert_eq!(action(FaultDetail::StaleMessageId), ClientAction::NewMessageId);
    assert_eq!(
        action(FaultDetail::InvalidMessageIdFormat),
        ClientAction::FixAndResend
    );
    assert_eq!(
        action(FaultDetail::UnknownMessageType),
        ClientAction::FixAndResend
    );
    assert_eq!(
        action(FaultDetail::SenderIsNotRegistered),
        ClientAction::ContactOperator
    );
    assert_eq!(action(FaultDetail::TargetMessageIsNotFound), ClientAction::Stop);
    for reason in SignatureFaultReason::ALL {
        let expected = match reason {
            SignatureFaultReason::CertificateIsExpired | SignatureFaultReason::CertificateIsNotFound => {
                ClientAction::ContactOperator
            }
            _ => ClientAction::FixAndResend,
        };
        assert_eq!(
            Fault::signature(*reason, "x").client_action(),
            expected,
            "{reason}"
        );
    }
}

#[test]
fn fault_codes_separate_node_failures_from_bad_messages() {
    for detail in all_fault_details() {
        let server = matches!(
            detail,
            FaultDetail::SmevFailure
                | FaultDetail::DestinationOverflow { .. }
                | FaultDetail::QuoteLimitExceeded { .. }
                | FaultDetail::Unrecognized(_)
        );
        let expected = if server {
            SoapFaultCode::Server
        } else {
            SoapFaultCode::Client
        };
        assert_eq!(detail.soap_fault_code(), expected, "{detail:?}");
    }
}

#[test]
fn fault_new_copies_the_description_into_the_detail_and_with_code_sets_code() {
    let f = Fault::invalid_content("bad", 7).with_code("RSMEV:ENVELOPE");
    assert_eq!(f.string, "bad");
    assert_eq!(
        f.detail.info(),
        Some(&SmevFaultInfo {
            code: Some("RSMEV:ENVELOPE".into()),
            description: Some("bad".into())
        })
    );
    let kept = Fault::new(
        FaultDetail::EndOfLifeReached(SmevFaultInfo {
            code: None,
            description: Some("own".into()),
        }),
        "string",
    );
    assert_eq!(
        kept.detail.info().and_then(|i| i.description.as_deref()),
        Some("own")
    );
}

#[test]
fn fault_code_prefix_is_resolved() {
    let xml = format!(
        r#"<e:Envelope xmlns:e="{SOAP}"><e:Body><e:Fault><faultcode xmlns:s="{SOAP}">s:Client</faultcode><faultstring>x</faultstring></e:Fault></e:Body></e:Envelope>"#
    );
    let Envelope::Fault(f) = parse_ok(&xml).into_envelope() else {
        panic!("not a fault")
    };
    assert_eq!(f.code, SoapFaultCode::Client);
    assert_eq!(f.detail, FaultDetail::Unrecognized(None));
    let xml = format!(
        r#"<e:Envelope xmlns:e="{SOAP}"><e:Body><e:Fault><faultcode>x:Client</faultcode><faultstring>x</faultstring></e:Fault></e:Body></e:Envelope>"#
    );
    let Envelope::Fault(f) = parse_ok(&xml).into_envelope() else {
        panic!("not a fault")
    };
    assert_eq!(f.code, SoapFaultCode::Other("x:Client".into()));
}

// ---------------------------------------------------------------------------------------------
// Values.

#[test]
fn message_id_is_the_lower_case_uuid_pattern() {
    assert!(MessageId::parse("db0486d0-3c08-11e5-95e2-d4c9eff07b77").is_ok());
    for bad in [
        "DB0486D0-3C08-11E5-95E2-D4C9EFF07B77",
        " db0486d0-3c08-11e5-95e2-d4c9eff07b77",
        "db0486d03c0811e595e2d4c9eff07b77",
        "db0486d0-3c08-11e5-95e2-d4c9eff07b7",
        "db0486d0-3c08-11e5-95e2_d4c9eff07b77",
        "",
    ] {
        assert!(MessageId::parse(bad).is_err(), "{bad}");
    }
    let now = DateTime::now_utc();
    assert!(now.has_offset());
    assert_eq!(now.value().nanosecond() % 1_000_000, 0);
    let v1 = MessageId::new_v1(&[1, 2, 3, 4, 5, 6]);
    assert_eq!(v1.to_uuid().get_version_num(), 1);
    assert_eq!(MessageId::parse(v1.as_str()), Ok(v1));
}

#[test]
fn date_times_keep_their_offset_or_its_absence() {
    let cases = [
        ("2018-07-06T15:37:56.000+03:00", "2018-07-06T15:37:56+03:00"),
        ("2018-07-06T15:37:56.5Z", "2018-07-06T15:37:56.5Z"),
        (
            " 2018-07-06T15:37:56.123456789123-00:30\n",
            "2018-07-06T15:37:56.123456789-00:30",
        ),
        ("2018-12-31T24:00:00Z", "2019-01-01T00:00:00Z"),
        ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00+14:00"),
        // As a captured client template writes MessageTypeSelector/Timestamp.
        ("2018-07-24T16:06:49.623", "2018-07-24T16:06:49.623"),
    ];
    for (input, written) in cases {
        let t = DateTime::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(t.to_string(), written, "{input}");
        assert_eq!(DateTime::parse(written), Ok(t));
    }
    let local = DateTime::parse("2018-07-24T16:06:49").expect("no zone");
    assert!(!local.has_offset());
    assert_eq!(local.value(), datetime!(2018-07-24 16:06:49 UTC), "read as UTC");
    assert_ne!(local, DateTime::parse("2018-07-24T16:06:49Z").expect("UTC"));
    assert!(DateTime::parse("2018-07-24T16:06:49Z").expect("UTC").has_offset());
    assert_eq!(
        DateTime::parse("2018-07-24T19:06:49+03:00"),
        DateTime::parse("2018-07-24T16:06:49Z"),
        "the same instant"
    );
    for bad in [
        "2018-07-06 15:37:56Z",
        "2018-02-30T00:00:00Z",
        "2018-07-06T15:37:56.Z",
        "2018-07-06T15:37:56+15:00",
        "2018-07-06T25:00:00Z",
        "0000-01-01T00:00:00Z",
        "2018-07-06T15:37:56+0300",
        "2018-07-06T15:37:56 Z",
        "",
    ] {
        assert!(DateTime::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        DateTime::new(
            datetime!(2024-01-01 0:00 UTC)
                .replace_year(0)
                .expect("year 0 exists in `time`")
        ),
        Err(InvalidDateTime::YearOutOfRange(0))
    );
}

#[test]
fn writer_never_emits_characters_xml_cannot_carry() {
    let msg = Envelope::Fault(Fault::new(FaultDetail::SmevFailure, "a\u{1}b\u{FFFE}c\r\nd"));
    let xml = msg.to_xml();
    assert!(xml.contains("a\u{FFFD}b\u{FFFD}c&#xD;\nd"), "{xml}");
    let Envelope::Fault(f) = parse_ok(&xml).into_envelope() else {
        panic!("not a fault")
    };
    assert_eq!(f.string, "a\u{FFFD}b\u{FFFD}c\r\nd");
}

#[test]
fn wire_enums_spell_the_schema_values() {
    assert_eq!(InteractionStatus::ALL.len(), 13);
    for s in InteractionStatus::ALL {
        assert_eq!(InteractionStatus::from_wire(s.as_str()), Some(*s));
    }
    assert_eq!(MessageType::from_wire("BROADCAST"), Some(MessageType::Broadcast));
    assert_eq!(
        MessageType::from_wire("REQUEST "),
        None,
        "xs:string whitespace is significant"
    );
    assert_eq!(
        RejectionReasonCode::from_wire("UNKNOWN_REQUEST_DESCRIPTION"),
        Some(RejectionReasonCode::UnknownRequestDescription)
    );
    assert_eq!(
        SignatureFaultReason::PoorSoapEnvelopeFormat.as_str(),
        "PoorSOAPEnvelopeFormat"
    );
    assert_eq!(Operation::GetStatus.soap_action(), "urn:GetStatus");
}

// ---------------------------------------------------------------------------------------------
// Snapshots of the writer: one message of every kind.

/// One element per line, for readable snapshots.
fn lines(xml: &str) -> String {
    xml.replace("><", ">\n<")
}

fn check(index: usize, expect: Expect) {
    let msg = &fixtures::all()[index];
    let xml = msg.to_xml();
    expect.assert_eq(&lines(&xml));
    assert_eq!(parse_ok(&xml).envelope(), msg, "the snapshot reads back");
}

#[test]
fn fixtures_cover_every_kind_and_read_back() {
    let all = fixtures::all();
    let names: Vec<_> = all.iter().map(Envelope::element_name).collect();
    assert_eq!(
        names,
        [
            "SendRequestRequest",
            "SendRequestResponse",
            "SendResponseRequest",
            "SendResponseResponse",
            "GetRequestRequest",
            "GetRequestResponse",
            "GetResponseRequest",
            "GetResponseResponse",
            "AckRequest",
            "AckResponse",
            "GetStatusRequest",
            "GetStatusResponse",
            "Fault",
        ]
    );
    for msg in &all {
        assert_eq!(parse_ok(&msg.to_xml()).envelope(), msg);
    }
}

#[test]
fn snapshot_send_request_request() {
    check(
        0,
        expect![[r#"
            <?xml version="1.0" encoding="UTF-8"?>
            <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
            <soap:Header/>
            <soap:Body>
            <tns:SendRequestRequest xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
            <tns:SenderProvidedRequestData Id="SIGNED_BY_CONSUMER">
            <tns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:MessageID>
            <tns:ReferenceMessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:ReferenceMessageID>
            <tns:TransactionCode>ignore</tns:TransactionCode>
            <tns:NodeID>node-1</tns:NodeID>
            <tns:EOL>2024-03-01T10:15:30.125+03:00</tns:EOL>
            <basic:MessagePrimaryContent>
            <req:Query xmlns:req="urn://example/query/1.0.0" Id="PERSONAL_SIGNATURE">
            <req:Inn>7707083893</req:Inn>
            </req:Query>
            </basic:MessagePrimaryContent>
            <tns:PersonalSignature>
            <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
            <ds:SignedInfo/>
            <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
            </ds:Signature>
            </tns:PersonalSignature>
            <basic:AttachmentHeaderList>
            <basic:AttachmentHeader>
            <basic:contentId>att1</basic:contentId>
            <basic:NamespaceUri>urn://example/att</basic:NamespaceUri>
            <basic:MimeType>application/pdf</basic:MimeType>
            <basic:SignaturePKCS7>AQID</basic:SignaturePKCS7>
            <basic:Archive>
            <basic:File>
            <basic:Name>a.xml</basic:Name>
            <basic:NamespaceUri>urn://example/a</basic:NamespaceUri>
            </basic:File>
            </basic:Archive>
            </basic:AttachmentHeader>
            </basic:AttachmentHeaderList>
            <basic:RefAttachmentHeaderList>
            <basic:RefAttachmentHeader>
            <basic:uuid>5e5c2e6c-3c08-11e5-95e2-d4c9eff07b77</basic:uuid>
            <basic:FileName>scan.zip</basic:FileName>
            <basic:Hash>q80tqyaqCRTEQ/2cXTaCdQ==</basic:Hash>
            <basic:MimeType>application/zip</basic:MimeType>
            </basic:RefAttachmentHeader>
            </basic:RefAttachmentHeaderList>
            <tns:BusinessProcessMetadata>
            <bp:Step xmlns:bp="urn://example/bp">1</bp:Step>
            </tns:BusinessProcessMetadata>
            <tns:TestMessage/>
            </tns:SenderProvidedRequestData>
            <basic:AttachmentContentList>
            <basic:AttachmentContent>
            <basic:Id>att1</basic:Id>
            <basic:Content>JVBERi0xLjQ=</basic:Content>
            </basic:AttachmentContent>
            </basic:AttachmentContentList>
            <tns:CallerInformationSystemSignature>
            <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
            <ds:SignedInfo/>
            <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
            </ds:Signature>
            </tns:CallerInformationSystemSignature>
            </tns:SendRequestRequest>
            </soap:Body>
            </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_send_request_response() {
    check(
        1,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:SendRequestResponse xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <tns:MessageMetadata Id="SIGNED_BY_SMEV">
        <tns:MessageId>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:MessageId>
        <tns:MessageType>REQUEST</tns:MessageType>
        <tns:Sender>
        <tns:Mnemonic>981601_3T</tns:Mnemonic>
        <tns:HumanReadableName>ВКАБАНК</tns:HumanReadableName>
        </tns:Sender>
        <tns:SendingTimestamp>2024-03-01T10:15:30.125+03:00</tns:SendingTimestamp>
        <tns:Recipient>
        <tns:HumanReadableName>ФНС</tns:HumanReadableName>
        </tns:Recipient>
        <tns:DeliveryTimestamp>2024-03-01T10:15:30.125+03:00</tns:DeliveryTimestamp>
        <tns:Status>requestIsQueued</tns:Status>
        </tns:MessageMetadata>
        <tns:SMEVSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:SMEVSignature>
        </tns:SendRequestResponse>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_send_response_request() {
    check(
        2,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:SendResponseRequest xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <tns:SenderProvidedResponseData Id="SIGNED_BY_CALLER">
        <tns:MessageID>661d07ef-a9ea-11e8-b37a-000c29a449ef</tns:MessageID>
        <tns:To>eyJzaWQiOjg5MjgzfQ==</tns:To>
        <basic:MessagePrimaryContent>
        <req:Query xmlns:req="urn://example/query/1.0.0" Id="PERSONAL_SIGNATURE">
        <req:Inn>7707083893</req:Inn>
        </req:Query>
        </basic:MessagePrimaryContent>
        </tns:SenderProvidedResponseData>
        <tns:CallerInformationSystemSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:CallerInformationSystemSignature>
        </tns:SendResponseRequest>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_get_request_request() {
    check(
        4,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:GetRequestRequest xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <basic:MessageTypeSelector Id="SIGNED_BY_CALLER">
        <basic:NamespaceURI>urn://example/query/1.0.0</basic:NamespaceURI>
        <basic:RootElementLocalName>Query</basic:RootElementLocalName>
        <basic:Timestamp>2024-03-01T10:15:30.125+03:00</basic:Timestamp>
        </basic:MessageTypeSelector>
        <tns:CallerInformationSystemSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:CallerInformationSystemSignature>
        </tns:GetRequestRequest>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_get_request_response() {
    check(
        5,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:GetRequestResponse xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <tns:RequestMessage>
        <tns:Request Id="SIGNED_BY_SMEV">
        <tns:SenderProvidedRequestData Id="SIGNED_BY_CONSUMER">
        <tns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:MessageID>
        <tns:ReferenceMessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:ReferenceMessageID>
        <tns:TransactionCode>ignore</tns:TransactionCode>
        <tns:NodeID>node-1</tns:NodeID>
        <tns:EOL>2024-03-01T10:15:30.125+03:00</tns:EOL>
        <basic:MessagePrimaryContent>
        <req:Query xmlns:req="urn://example/query/1.0.0" Id="PERSONAL_SIGNATURE">
        <req:Inn>7707083893</req:Inn>
        </req:Query>
        </basic:MessagePrimaryContent>
        <tns:PersonalSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:PersonalSignature>
        <basic:AttachmentHeaderList>
        <basic:AttachmentHeader>
        <basic:contentId>att1</basic:contentId>
        <basic:NamespaceUri>urn://example/att</basic:NamespaceUri>
        <basic:MimeType>application/pdf</basic:MimeType>
        <basic:SignaturePKCS7>AQID</basic:SignaturePKCS7>
        <basic:Archive>
        <basic:File>
        <basic:Name>a.xml</basic:Name>
        <basic:NamespaceUri>urn://example/a</basic:NamespaceUri>
        </basic:File>
        </basic:Archive>
        </basic:AttachmentHeader>
        </basic:AttachmentHeaderList>
        <basic:RefAttachmentHeaderList>
        <basic:RefAttachmentHeader>
        <basic:uuid>5e5c2e6c-3c08-11e5-95e2-d4c9eff07b77</basic:uuid>
        <basic:FileName>scan.zip</basic:FileName>
        <basic:Hash>q80tqyaqCRTEQ/2cXTaCdQ==</basic:Hash>
        <basic:MimeType>application/zip</basic:MimeType>
        </basic:RefAttachmentHeader>
        </basic:RefAttachmentHeaderList>
        <tns:BusinessProcessMetadata>
        <bp:Step xmlns:bp="urn://example/bp">1</bp:Step>
        </tns:BusinessProcessMetadata>
        <tns:TestMessage/>
        </tns:SenderProvidedRequestData>
        <tns:MessageMetadata Id="SIGNED_BY_SMEV">
        <tns:MessageId>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:MessageId>
        <tns:MessageType>REQUEST</tns:MessageType>
        <tns:Sender>
        <tns:Mnemonic>981601_3T</tns:Mnemonic>
        <tns:HumanReadableName>ВКАБАНК</tns:HumanReadableName>
        </tns:Sender>
        <tns:SendingTimestamp>2024-03-01T10:15:30.125+03:00</tns:SendingTimestamp>
        <tns:Recipient>
        <tns:HumanReadableName>ФНС</tns:HumanReadableName>
        </tns:Recipient>
        <tns:DeliveryTimestamp>2024-03-01T10:15:30.125+03:00</tns:DeliveryTimestamp>
        <tns:Status>requestIsQueued</tns:Status>
        </tns:MessageMetadata>
        <basic:FSAttachmentsList>
        <basic:FSAttachment>
        <basic:uuid>5e5c2e6c-3c08-11e5-95e2-d4c9eff07b77</basic:uuid>
        <basic:UserName>anonymous</basic:UserName>
        <basic:Password>smev</basic:Password>
        <basic:FileName>/scan.zip</basic:FileName>
        </basic:FSAttachment>
        </basic:FSAttachmentsList>
        <tns:ReplyTo>eyJzaWQiOjg5MjgzfQ==</tns:ReplyTo>
        <tns:SenderInformationSystemSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:SenderInformationSystemSignature>
        </tns:Request>
        <tns:SMEVSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:SMEVSignature>
        </tns:RequestMessage>
        </tns:GetRequestResponse>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_get_response_response() {
    check(
        7,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:GetResponseResponse xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <tns:ResponseMessage>
        <tns:Response Id="SIGNED_BY_SMEV">
        <tns:OriginalMessageId>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:OriginalMessageId>
        <tns:OriginalTransactionCode>ignore</tns:OriginalTransactionCode>
        <tns:SenderProvidedResponseData Id="SIGNED_BY_CALLER">
        <tns:MessageID>661d07ef-a9ea-11e8-b37a-000c29a449ef</tns:MessageID>
        <tns:To>eyJzaWQiOjg5MjgzfQ==</tns:To>
        <tns:RequestRejected>
        <tns:RejectionReasonCode>NO_DATA</tns:RejectionReasonCode>
        <tns:RejectionReasonDescription>нет данных</tns:RejectionReasonDescription>
        </tns:RequestRejected>
        </tns:SenderProvidedResponseData>
        <tns:MessageMetadata Id="SIGNED_BY_SMEV">
        <tns:MessageId>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:MessageId>
        <tns:MessageType>RESPONSE</tns:MessageType>
        <tns:Sender>
        <tns:Mnemonic>981601_3T</tns:Mnemonic>
        <tns:HumanReadableName>ВКАБАНК</tns:HumanReadableName>
        </tns:Sender>
        <tns:SendingTimestamp>2024-03-01T10:15:30.125+03:00</tns:SendingTimestamp>
        <tns:Recipient>
        <tns:HumanReadableName>ФНС</tns:HumanReadableName>
        </tns:Recipient>
        <tns:DeliveryTimestamp>2024-03-01T10:15:30.125+03:00</tns:DeliveryTimestamp>
        <tns:Status>requestIsQueued</tns:Status>
        </tns:MessageMetadata>
        <tns:SenderInformationSystemSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:SenderInformationSystemSignature>
        </tns:Response>
        <tns:SMEVSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:SMEVSignature>
        </tns:ResponseMessage>
        </tns:GetResponseResponse>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_ack_request() {
    check(
        8,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:AckRequest xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <basic:AckTargetMessage Id="SIGNED_BY_CALLER" accepted="true">1987131a-bcc2-11e8-a37c-fa163eb3792e</basic:AckTargetMessage>
        <tns:CallerInformationSystemSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:CallerInformationSystemSignature>
        </tns:AckRequest>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_get_status_request() {
    check(
        10,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:GetStatusRequest xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <basic:Timestamp Id="SIGNED_BY_CALLER">2024-03-01T10:15:30.125+03:00</basic:Timestamp>
        <tns:CallerInformationSystemSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:CallerInformationSystemSignature>
        </tns:GetStatusRequest>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_get_status_response() {
    check(
        11,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <tns:GetStatusResponse xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <tns:SmevAsyncProcessingMessage>
        <tns:AsyncProcessingStatusData Id="SIGNED_BY_SMEV">
        <tns:AsyncProcessingStatus>
        <tns:OriginalMessageId>db0486d0-3c08-11e5-95e2-d4c9eff07b77</tns:OriginalMessageId>
        <tns:StatusCategory>requestIsRejectedBySmev</tns:StatusCategory>
        <tns:StatusDetails>Ошибка проверки ftp файлов вложения</tns:StatusDetails>
        <tns:SmevFault>
        <basic:Code>RSMEV:ASYNC</basic:Code>
        <basic:Description>hash mismatch</basic:Description>
        </tns:SmevFault>
        </tns:AsyncProcessingStatus>
        </tns:AsyncProcessingStatusData>
        <tns:SMEVSignature>
        <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:SignedInfo/>
        <ds:SignatureValue>c2lnbmF0dXJl</ds:SignatureValue>
        </ds:Signature>
        </tns:SMEVSignature>
        </tns:SmevAsyncProcessingMessage>
        </tns:GetStatusResponse>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

#[test]
fn snapshot_fault() {
    check(
        12,
        expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Header/>
        <soap:Body>
        <soap:Fault>
        <faultcode>soap:Client</faultcode>
        <faultstring>Срок действия сертификата ЭП-ОВ истёк</faultstring>
        <detail>
        <fault:SignatureVerificationFault xmlns:fault="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/faults/1.3" xmlns:basic="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.3">
        <basic:Description>Срок действия сертификата ЭП-ОВ истёк</basic:Description>
        <fault:SignatureVerificationFault>CertificateIsExpired</fault:SignatureVerificationFault>
        </fault:SignatureVerificationFault>
        </detail>
        </soap:Fault>
        </soap:Body>
        </soap:Envelope>"#]],
    );
}

// ---------------------------------------------------------------------------------------------
// Round trip over generated messages of every kind.

/// What the writer makes of text: characters XML 1.0 cannot carry become U+FFFD.
fn sanitized(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..) {
                c
            } else {
                '\u{FFFD}'
            }
        })
        .collect()
}

mod strategies {
    use super::*;
    use proptest::collection::vec;
    use proptest::option;

    fn is_xml_char(c: char) -> bool {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    }

    fn xml_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => prop::char::range('a', 'z'),
            2 => prop::sample::select(vec!['&', '<', '>', '"', '\'', '\r', '\n', '\t', ' ', ']', ';', '#']),
            1 => prop::char::range('а', 'я'),
            1 => any::<char>().prop_filter("an XML character", |c| is_xml_char(*c)),
        ]
    }

    /// Any text XML can carry, special characters and non-ASCII included.
    pub(super) fn text(max: usize) -> impl Strategy<Value = String> {
        vec(xml_char(), 0..=max).prop_map(|v| v.into_iter().collect())
    }

    /// Values of collapsing types (NCName, anyURI, xs:ID) in tests: no surrounding whitespace.
    pub(super) fn token() -> BoxedStrategy<String> {
        "[A-Za-z_][A-Za-z0-9_.-]{0,15}".boxed()
    }

    pub(super) fn message_id() -> impl Strategy<Value = MessageId> {
        any::<u128>().prop_map(|n| MessageId::from_uuid(uuid::Uuid::from_u128(n)))
    }

    pub(super) fn date_time() -> impl Strategy<Value = DateTime> {
        (
            1i32..=9999,
            1u8..=12,
            1u8..=28,
            0u8..24,
            0u8..60,
            0u8..60,
            prop_oneof![
                Just(0u32),
                (0u32..1000).prop_map(|m| m * 1_000_000),
                0u32..1_000_000_000
            ],
            prop_oneof![9 => -14 * 60..=14 * 60i32, 1 => Just(i32::MIN)],
        )
            .prop_map(|(y, mo, d, h, mi, s, nanos, offset)| {
                let date = time::Date::from_calendar_date(y, time::Month::try_from(mo).expect("1..=12"), d)
                    .expect("day ≤ 28");
                let t = time::Time::from_hms_nano(h, mi, s, nanos).expect("in range");
                if offset == i32::MIN {
                    return DateTime::without_offset(date.with_time(t)).expect("year in range");
                }
                let offset = time::UtcOffset::from_whole_seconds(offset * 60).expect("±14h");
                DateTime::new(date.with_time(t).assume_offset(offset)).expect("year in range")
            })
    }

    fn escape(s: &str) -> String {
        crate::xml::escape_text(s)
    }

    pub(super) fn payload() -> impl Strategy<Value = MessagePrimaryContent> {
        (token(), text(20), text(20), 0u8..3).prop_map(|(name, attr, body, style)| {
            let name = format!("n{name}");
            let xml = match style {
                0 => format!(
                    r#"<p:{name} xmlns:p="urn://test/{name}" a="{}"><p:x>{}</p:x><y/></p:{name}>"#,
                    crate::xml::escape_attr(&attr),
                    escape(&body)
                ),
                1 => format!(r#"<{name} xmlns="urn://test/default">{}</{name}>"#, escape(&body)),
                _ => format!(r#"<q:{name} xmlns:q="urn://test/q"/>"#),
            };
            MessagePrimaryContent::new(raw(&xml)).expect("qualified")
        })
    }

    pub(super) fn signature() -> impl Strategy<Value = XmlSignature> {
        "[A-Za-z0-9+/]{0,40}".prop_map(|v| XmlSignature::new(raw(&signature_xml(&v))).expect("ds"))
    }

    pub(super) fn raw_any() -> impl Strategy<Value = RawElement> {
        (token(), text(10)).prop_map(|(name, body)| {
            raw(&format!(
                r#"<m:{name} xmlns:m="urn://test/meta">{}</m:{name}>"#,
                escape(&body)
            ))
        })
    }

    fn mime() -> impl Strategy<Value = String> {
        ("(text|image|audio|video|application)", "[a-zA-Z0-9+.-]{0,10}").prop_map(|(a, b)| format!("{a}/{b}"))
    }

    fn archive() -> impl Strategy<Value = Vec<ArchiveFile>> {
        vec(
            (text(10), text(10)).prop_map(|(name, namespace_uri)| ArchiveFile { name, namespace_uri }),
            0..3,
        )
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        vec(any::<u8>(), 0..40)
    }

    fn headers() -> impl Strategy<Value = Vec<AttachmentHeader>> {
        vec(
            (
                text(10),
                option::of(text(10)),
                mime(),
                option::of(bytes()),
                archive(),
            )
                .prop_map(
                    |(content_id, namespace_uri, mime_type, signature_pkcs7, archive)| AttachmentHeader {
                        content_id,
                        namespace_uri,
                        mime_type,
                        signature_pkcs7,
                        archive,
                    },
                ),
            0..3,
        )
    }

    fn ref_headers() -> impl Strategy<Value = Vec<RefAttachmentHeader>> {
        vec(
            (
                text(10),
                option::of(text(10)),
                option::of(text(10)),
                text(10),
                mime(),
                option::of(bytes()),
                archive(),
            )
                .prop_map(
                    |(uuid, file_name, namespace_uri, hash, mime_type, signature_pkcs7, archive)| {
                        RefAttachmentHeader {
                            uuid,
                            file_name,
                            namespace_uri,
                            hash,
                            mime_type,
                            signature_pkcs7,
                            archive,
                        }
                    },
                ),
            0..3,
        )
    }

    pub(super) fn contents() -> impl Strategy<Value = Vec<AttachmentContent>> {
        vec(
            (token(), bytes()).prop_map(|(id, content)| AttachmentContent { id, content }),
            0..3,
        )
    }

    fn fs_attachments() -> impl Strategy<Value = Vec<FsAttachment>> {
        vec(
            (text(8), text(8), text(8), text(8)).prop_map(|(uuid, user_name, password, file_name)| {
                FsAttachment {
                    uuid,
                    user_name,
                    password,
                    file_name,
                }
            }),
            0..3,
        )
    }

    fn id_attr() -> impl Strategy<Value = Option<String>> {
        option::of(token())
    }

    pub(super) fn request_data() -> impl Strategy<Value = SenderProvidedRequestData> {
        (
            (
                id_attr(),
                message_id(),
                option::of(message_id()),
                option::of(text(30)),
            ),
            (
                option::of(text(50)),
                option::of(date_time()),
                payload(),
                option::of(signature()),
            ),
            (
                headers(),
                ref_headers(),
                option::of(vec(raw_any(), 0..3)),
                any::<bool>(),
            ),
        )
            .prop_map(
                |(
                    (id, message_id, reference_message_id, transaction_code),
                    (node_id, eol, primary_content, personal_signature),
                    (attachment_headers, ref_attachment_headers, business_process_metadata, test_message),
                )| SenderProvidedRequestData {
                    id,
                    message_id,
                    reference_message_id,
                    transaction_code,
                    node_id,
                    eol,
                    primary_content,
                    personal_signature,
                    attachment_headers,
                    ref_attachment_headers,
                    business_process_metadata,
                    test_message,
                },
            )
    }

    fn fault_info() -> impl Strategy<Value = SmevFaultInfo> {
        (option::of(text(100)), option::of(text(30)))
            .prop_map(|(code, description)| SmevFaultInfo { code, description })
    }

    fn async_status() -> impl Strategy<Value = AsyncProcessingStatus> {
        (
            message_id(),
            prop::sample::select(InteractionStatus::ALL),
            option::of(text(30)),
            option::of(token().prop_map(|n| {
                raw(&format!(
                    r#"<r:RoutingStatus xmlns:r="{ROUTING_NS}"><r:DynamicRoutingStatus><r:DynamicValue>{n}</r:DynamicValue><r:RoutingStatusCode>success</r:RoutingStatusCode></r:DynamicRoutingStatus></r:RoutingStatus>"#
                ))
            })),
            option::of(fault_info()),
        )
            .prop_map(
                |(original_message_id, category, details, routing_status, smev_fault)| AsyncProcessingStatus {
                    original_message_id,
                    category,
                    details,
                    routing_status,
                    smev_fault,
                },
            )
    }

    fn response_content() -> impl Strategy<Value = ResponseContent> {
        prop_oneof![
            (payload(), option::of(signature()), headers(), ref_headers()).prop_map(
                |(primary_content, personal_signature, attachment_headers, ref_attachment_headers)| {
                    ResponseContent::Answer {
                        primary_content,
                        personal_signature,
                        attachment_headers,
                        ref_attachment_headers,
                    }
                }
            ),
            vec(
                (prop::sample::select(RejectionReasonCode::ALL), text(40))
                    .prop_map(|(code, description)| RequestRejected { code, description }),
                1..4
            )
            .prop_map(ResponseContent::Rejected),
            (
                any::<i32>(),
                vec(
                    (text(10), text(10)).prop_map(|(key, value)| StatusParameter { key, value }),
                    0..3
                ),
                text(40)
            )
                .prop_map(|(code, parameters, description)| ResponseContent::Status(
                    RequestStatus {
                        code,
                        parameters,
                        description
                    }
                )),
            async_status().prop_map(ResponseContent::AsyncProcessingStatus),
        ]
    }

    pub(super) fn response_data() -> impl Strategy<Value = SenderProvidedResponseData> {
        (id_attr(), message_id(), text(60), response_content()).prop_map(|(id, message_id, to, content)| {
            SenderProvidedResponseData {
                id,
                message_id,
                to,
                content,
            }
        })
    }

    fn party() -> impl Strategy<Value = Party> {
        (option::of(text(50)), text(40)).prop_map(|(mnemonic, human_readable_name)| Party {
            mnemonic,
            human_readable_name,
        })
    }

    pub(super) fn metadata() -> impl Strategy<Value = MessageMetadata> {
        (
            id_attr(),
            option::of(message_id()),
            prop::sample::select(MessageType::ALL),
            option::of(party()),
            date_time(),
            option::of(party()),
            option::of(date_time()),
            option::of(prop::sample::select(InteractionStatus::ALL)),
        )
            .prop_map(
                |(
                    id,
                    message_id,
                    message_type,
                    sender,
                    sending_timestamp,
                    recipient,
                    delivery_timestamp,
                    status,
                )| {
                    MessageMetadata {
                        id,
                        message_id,
                        message_type,
                        sender,
                        sending_timestamp,
                        recipient,
                        delivery_timestamp,
                        status,
                    }
                },
            )
    }

    fn selector() -> impl Strategy<Value = MessageTypeSelector> {
        (
            id_attr(),
            option::of(
                (token(), token()).prop_map(|(namespace_uri, local_name)| InfoTypeName {
                    namespace_uri,
                    local_name,
                }),
            ),
            date_time(),
            option::of(text(50)),
        )
            .prop_map(|(id, info_type, timestamp, node_id)| MessageTypeSelector {
                id,
                info_type,
                timestamp,
                node_id,
            })
    }

    /// A block as code builds it, or sealed.
    fn signed<T: XmlBlock + std::fmt::Debug + Clone>(
        s: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = Signed<T>> {
        (s, any::<bool>()).prop_map(|(v, seal)| if seal { Signed::sealed(v) } else { Signed::new(v) })
    }

    pub(super) fn routing() -> impl Strategy<Value = RawElement> {
        (message_id(), token()).prop_map(|(mid, id)| {
            raw(&format!(
                r#"<rout:Routing xmlns:rout="{ROUTING_NS}"><rout:RoutingInformation Id="{id}"><rout:MessageID>{mid}</rout:MessageID></rout:RoutingInformation><rout:RoutingSignature>{}</rout:RoutingSignature></rout:Routing>"#,
                signature_xml("AA==")
            ))
        })
    }

    fn fault_detail() -> impl Strategy<Value = FaultDetail> {
        use FaultDetail as D;
        prop_oneof![
            prop::sample::select(vec![
                D::AccessDenied,
                D::AttachmentContentMiscoordination,
                D::IncorrectResponseContentType,
                D::InvalidMessageIdFormat,
                D::MessageIsAlreadySent,
                D::RecipientIsNotFound,
                D::RequestIsNotFound,
                D::SenderIsNotRegistered,
                D::SmevFailure,
                D::StaleMessageId,
                D::TargetMessageIsNotFound,
                D::UnknownMessageType,
                D::Unrecognized(None),
            ]),
            raw_any().prop_map(|r| D::Unrecognized(Some(r))),
            fault_info().prop_map(D::EndOfLifeReached),
            fault_info().prop_map(D::PersonalAccessDenied),
            fault_info().prop_map(D::TransactionCodeInvalid),
            (fault_info(), any::<i64>(), any::<i64>()).prop_map(|(info, p, r)| {
                D::AttachmentSizeLimitExceeded {
                    info,
                    permitted_total_attachment_size: p,
                    real_total_attachment_size: r,
                }
            }),
            (fault_info(), any::<i64>(), any::<i64>()).prop_map(|(info, q, r)| D::QuoteLimitExceeded {
                info,
                remained_total_quote_size: q,
                real_total_attachment_size: r,
            }),
            (fault_info(), text(20), text(20)).prop_map(|(info, l, n)| D::BusinessDataTypeIsNotSupported {
                info,
                root_element_local_name: l,
                root_element_namespace_uri: n,
            }),
            (fault_info(), text(20), text(20)).prop_map(|(info, a, d)| D::DestinationOverflow {
                info,
                message_broker_address: a,
                destination_name: d,
            }),
            (
                fault_info(),
                vec(
                    (any::<i32>(), text(30))
                        .prop_map(|(position, message)| ValidationError { position, message }),
                    1..4
                )
            )
                .prop_map(|(info, errors)| D::InvalidContent { info, errors }),
            (fault_info(), prop::sample::select(SignatureFaultReason::ALL))
                .prop_map(|(info, reason)| D::SignatureVerificationFault { info, reason }),
        ]
    }

    fn fault() -> impl Strategy<Value = Fault> {
        (
            prop_oneof![
                Just(SoapFaultCode::Client),
                Just(SoapFaultCode::Server),
                Just(SoapFaultCode::VersionMismatch),
                Just(SoapFaultCode::MustUnderstand),
                token().prop_map(|t| SoapFaultCode::Other(format!("x:{t}"))),
            ],
            text(40),
            fault_detail(),
        )
            .prop_map(|(code, string, detail)| Fault { code, string, detail })
    }

    pub(super) fn envelope() -> impl Strategy<Value = Envelope> {
        let request = (
            id_attr(),
            signed(request_data()),
            metadata(),
            fs_attachments(),
            option::of(text(60)),
            option::of(signature()),
        )
            .prop_map(
                |(id, sender_provided, metadata, fs_attachments, reply_to, sender_signature)| Request {
                    id,
                    sender_provided,
                    metadata,
                    fs_attachments,
                    reply_to,
                    sender_signature,
                },
            );
        let response = (
            (
                id_attr(),
                option::of(message_id()),
                option::of(text(30)),
                option::of(message_id()),
            ),
            (
                signed(response_data()),
                metadata(),
                fs_attachments(),
                option::of(signature()),
            ),
        )
            .prop_map(
                |(
                    (id, original_message_id, original_transaction_code, reference_message_id),
                    (sender_provided, metadata, fs_attachments, sender_signature),
                )| Response {
                    id,
                    original_message_id,
                    original_transaction_code,
                    reference_message_id,
                    sender_provided,
                    metadata,
                    fs_attachments,
                    sender_signature,
                },
            );
        prop_oneof![
            (
                signed(request_data()),
                contents(),
                option::of(signature()),
                option::of(routing())
            )
                .prop_map(|(sender_provided, attachments, caller_signature, routing)| {
                    Envelope::SendRequestRequest(SendRequestRequest {
                        sender_provided,
                        attachments,
                        caller_signature,
                        routing,
                    })
                }),
            (signed(metadata()), option::of(signature())).prop_map(|(metadata, smev_signature)| {
                Envelope::SendRequestResponse(SendRequestResponse {
                    metadata,
                    smev_signature,
                })
            }),
            (signed(response_data()), contents(), option::of(signature())).prop_map(
                |(sender_provided, attachments, caller_signature)| {
                    Envelope::SendResponseRequest(SendResponseRequest {
                        sender_provided,
                        attachments,
                        caller_signature,
                    })
                }
            ),
            (signed(metadata()), option::of(signature())).prop_map(|(metadata, smev_signature)| {
                Envelope::SendResponseResponse(SendResponseResponse {
                    metadata,
                    smev_signature,
                })
            }),
            (signed(selector()), option::of(signature())).prop_map(|(selector, caller_signature)| {
                Envelope::GetRequestRequest(GetRequestRequest {
                    selector,
                    caller_signature,
                })
            }),
            option::of((signed(request), contents(), option::of(signature())).prop_map(
                |(request, attachments, smev_signature)| RequestMessage {
                    request,
                    attachments,
                    smev_signature,
                }
            ))
            .prop_map(|message| Envelope::GetRequestResponse(GetRequestResponse { message })),
            (signed(selector()), option::of(signature())).prop_map(|(selector, caller_signature)| {
                Envelope::GetResponseRequest(GetResponseRequest {
                    selector,
                    caller_signature,
                })
            }),
            option::of((signed(response), contents(), option::of(signature())).prop_map(
                |(response, attachments, smev_signature)| ResponseMessage {
                    response,
                    attachments,
                    smev_signature,
                }
            ))
            .prop_map(|message| Envelope::GetResponseResponse(GetResponseResponse { message })),
            (
                signed((token(), option::of(any::<bool>()), message_id()).prop_map(
                    |(id, accepted, message_id)| {
                        AckTargetMessage {
                            id,
                            accepted,
                            message_id,
                        }
                    }
                )),
                option::of(signature())
            )
                .prop_map(|(target, caller_signature)| Envelope::AckRequest(AckRequest {
                    target,
                    caller_signature
                })),
            Just(Envelope::AckResponse),
            (
                signed((id_attr(), date_time()).prop_map(|(id, value)| Timestamp { id, value })),
                signature()
            )
                .prop_map(|(timestamp, caller_signature)| Envelope::GetStatusRequest(
                    GetStatusRequest {
                        timestamp,
                        caller_signature
                    }
                )),
            option::of(
                (
                    signed(
                        (id_attr(), async_status())
                            .prop_map(|(id, status)| AsyncProcessingStatusData { id, status })
                    ),
                    option::of(signature())
                )
                    .prop_map(|(data, smev_signature)| SmevAsyncProcessingMessage { data, smev_signature })
            )
            .prop_map(|message| Envelope::GetStatusResponse(GetStatusResponse { message })),
            fault().prop_map(Envelope::Fault),
        ]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_message_reads_back_as_written(msg in strategies::envelope()) {
        let xml = msg.to_xml();
        let parsed = match parse(&xml) {
            Ok(p) => p,
            Err(e) => return Err(TestCaseError::fail(format!("{e}\n{xml}"))),
        };
        prop_assert_eq!(parsed.envelope(), &msg);
        // Writing the parsed message again keeps every received block byte for byte, so a second
        // trip changes nothing.
        let again = parsed.envelope().to_xml();
        let reparsed = parse(&again).map_err(|e| TestCaseError::fail(format!("{e}\n{again}")))?;
        prop_assert_eq!(reparsed.envelope(), &msg);
        prop_assert_eq!(reparsed.envelope().to_xml(), again);
    }

    #[test]
    fn relayed_request_data_keeps_the_bytes_it_arrived_with(
        data in strategies::request_data(),
        metadata in strategies::metadata(),
    ) {
        let sent = Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided: Signed::new(data),
            attachments: Vec::new(),
            caller_signature: None,
            routing: None,
        }).to_xml();
        let Envelope::SendRequestRequest(m) = parse(&sent).map_err(|e| TestCaseError::fail(e.to_string()))?.into_envelope() else {
            return Err(TestCaseError::fail("not a SendRequestRequest"));
        };
        let received = m.sender_provided.received_element().cloned();
        prop_assert!(received.is_some());
        let delivered = Envelope::GetRequestResponse(GetRequestResponse {
            message: Some(RequestMessage {
                request: Signed::new(Request {
                    id: None,
                    sender_provided: m.sender_provided.clone(),
                    metadata,
                    fs_attachments: Vec::new(),
                    reply_to: None,
                    sender_signature: None,
                }),
                attachments: Vec::new(),
                smev_signature: None,
            }),
        }).to_xml();
        let Envelope::GetRequestResponse(GetRequestResponse { message: Some(msg) }) =
            parse(&delivered).map_err(|e| TestCaseError::fail(e.to_string()))?.into_envelope()
        else {
            return Err(TestCaseError::fail("not a GetRequestResponse"));
        };
        prop_assert_eq!(msg.request.sender_provided.received_element().cloned(), received);
        prop_assert_eq!(msg.request.sender_provided.value(), m.sender_provided.value());
    }

    #[test]
    fn relayed_request_data_has_the_canonical_form_that_was_signed(data in strategies::request_data()) {
        // The requester's message as a client would write it: prefixes of its own choosing,
        // declared on the envelope.
        let ours = Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided: Signed::new(data),
            attachments: Vec::new(),
            caller_signature: None,
            routing: None,
        }).to_xml();
        let theirs = ours
            .replace("tns:", "ns2:")
            .replace("xmlns:tns=", "xmlns:ns2=")
            .replacen("<soap:Envelope xmlns:soap", &format!("<soap:Envelope xmlns:ns2=\"{TYPES_NS}\" xmlns:soap"), 1);
        let sent = parse(&theirs).map_err(|e| TestCaseError::fail(format!("{e}\n{theirs}")))?;
        let Envelope::SendRequestRequest(m) = sent.envelope() else {
            return Err(TestCaseError::fail("not a SendRequestRequest"));
        };
        let delivered = Envelope::GetRequestResponse(GetRequestResponse {
            message: Some(RequestMessage {
                request: Signed::new(Request {
                    id: None,
                    sender_provided: m.sender_provided.clone(),
                    metadata: fixtures::metadata(),
                    fs_attachments: Vec::new(),
                    reply_to: None,
                    sender_signature: None,
                }),
                attachments: Vec::new(),
                smev_signature: None,
            }),
        }).to_xml();
        let at_provider = parse(&delivered).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let sent_node = sent.caller_signed_element().ok_or_else(|| TestCaseError::fail("no site"))?;
        let relayed_node = at_provider
            .site(SignatureRole::Sender)
            .ok_or_else(|| TestCaseError::fail("no sender site"))?
            .target;
        prop_assert_eq!(
            crate::xml::c14n::exclusive(sent.document(), sent_node, &[]),
            crate::xml::c14n::exclusive(at_provider.document(), relayed_node, &[])
        );
    }

    #[test]
    fn date_time_lexical_form_round_trips(t in strategies::date_time()) {
        let text = t.to_string();
        prop_assert_eq!(DateTime::parse(&text), Ok(t));
        prop_assert_eq!(DateTime::parse(&text).map(|p| p.value().offset()), Ok(t.value().offset()));
        prop_assert_eq!(DateTime::parse(&text).map(|p| p.has_offset()), Ok(t.has_offset()));
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_reader(input in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Envelope::parse(&input, &Limits::default());
    }

    #[test]
    fn mutated_messages_never_panic_the_reader(
        msg in strategies::envelope(),
        cut in any::<prop::sample::Index>(),
        insert in prop::sample::select(vec!["<", ">", "&", "\"", "</x>", "<x/>", "&#0;", "\u{0}", ""]),
    ) {
        let xml = msg.to_xml();
        let mut at = cut.index(xml.len() + 1);
        while !xml.is_char_boundary(at) {
            at -= 1;
        }
        let mutated = format!("{}{insert}{}", &xml[..at], &xml[at..]);
        if let Err(e) = Envelope::parse(mutated.as_bytes(), &Limits::default()) {
            // Every refusal converts to a fault that can be written and read back; characters
            // XML cannot carry (quoted from the input) arrive as U+FFFD.
            let fault = e.fault();
            let back = parse(&Envelope::Fault(fault.clone()).to_xml())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let Envelope::Fault(back) = back.into_envelope() else {
                return Err(TestCaseError::fail("not a fault"));
            };
            prop_assert_eq!(&back.string, &sanitized(&fault.string));
            prop_assert_eq!(back.detail.element_name(), fault.detail.element_name());
            prop_assert_eq!(back.code, fault.code);
        }
    }
}

#[test]
fn incoming_queue_statistics_round_trip() {
    let request = Envelope::GetIncomingQueueStatisticsRequest(GetIncomingQueueStatisticsRequest {
        node_id: Some("node-1".into()),
        timestamp: Signed::new(Timestamp {
            id: Some("T".into()),
            value: DateTime::parse("2024-01-01T00:00:00Z").unwrap(),
        }),
        caller_signature: None,
    });
    let response = Envelope::GetIncomingQueueStatisticsResponse(GetIncomingQueueStatisticsResponse {
        queues: vec![
            QueueStatistics {
                queue_name: "MFC/requests".into(),
                pending: 3,
            },
            QueueStatistics {
                queue_name: "MFC/\"responses\"".into(),
                pending: 0,
            },
        ],
    });
    let empty =
        Envelope::GetIncomingQueueStatisticsResponse(GetIncomingQueueStatisticsResponse { queues: vec![] });
    for e in [request, response, empty] {
        let xml = e.to_xml();
        let back = Envelope::parse(xml.as_bytes(), &Limits::default()).unwrap();
        assert_eq!(back.envelope(), &e, "{xml}");
    }
    let bad = r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><tns:GetIncomingQueueStatisticsResponse xmlns:tns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3"><tns:QueueStatistics queueName="q" pendingMessageNumber="many"/></tns:GetIncomingQueueStatisticsResponse></soap:Body></soap:Envelope>"#;
    assert!(matches!(
        Envelope::parse(bad.as_bytes(), &Limits::default()),
        Err(EnvelopeError::InvalidValue { .. })
    ));
}

// ---- XOP: attachment contents as MTOM parts --------------------------------------------------

/// The parts of [`Envelope::to_xop`] as a reader receives them.
fn xop_parts(parts: &[(String, &[u8])]) -> XopParts {
    let mut out = XopParts::new();
    for (id, content) in parts {
        assert!(out.insert(id.clone(), content.to_vec()), "part ids are unique");
    }
    out
}

#[test]
fn every_kind_reads_back_from_its_xop_form_with_the_contents_as_parts() {
    let mut all = fixtures::all();
    // Every byte value, line ends, something that looks like a MIME boundary, nothing at all.
    let binary = vec![
        AttachmentContent {
            id: "bin".into(),
            content: (0..=255).chain(*b"\r\n--uuid:boundary--\r\n").collect(),
        },
        AttachmentContent {
            id: "empty".into(),
            content: Vec::new(),
        },
    ];
    let Envelope::SendRequestRequest(sent) = &all[0] else {
        panic!("fixture 0 is a SendRequestRequest")
    };
    let pdf = sent.attachments.clone();
    if let Envelope::GetRequestResponse(GetRequestResponse { message: Some(m) }) = &mut all[5] {
        m.attachments = pdf;
    }
    if let Envelope::GetResponseResponse(GetResponseResponse { message: Some(m) }) = &mut all[7] {
        m.attachments = binary;
    }
    let mut with_parts = 0;
    for msg in &all {
        let (root, parts) = msg.to_xop();
        with_parts += usize::from(!parts.is_empty());
        // `%PDF-1.4` in base64: the contents are parts, not text of the root part.
        assert!(!root.contains("JVBERi0xLjQ"), "{root}");
        let back = Envelope::parse_with_parts(root.as_bytes(), xop_parts(&parts), &Limits::default())
            .unwrap_or_else(|e| panic!("refused: {e}\n{root}"));
        assert_eq!(back.envelope(), msg);
    }
    assert_eq!(with_parts, 3, "the fixtures carry contents in three kinds");
}

#[test]
fn an_xop_include_must_name_an_unused_part() {
    let include = |href: &str| {
        format!(
            r#"<basic:AttachmentContent><basic:Id>a{href}</basic:Id><basic:Content><xop:Include xmlns:xop="{XOP_NS}" href="{href}"/></basic:Content></basic:AttachmentContent>"#
        )
    };
    let request = |contents: &str| {
        let msg = &fixtures::all()[0];
        let xml = msg.to_xml();
        let start = xml.find("<basic:AttachmentContentList>").expect("a list");
        let end = xml.find("</basic:AttachmentContentList>").expect("its end");
        format!(
            "{}<basic:AttachmentContentList>{contents}{}",
            &xml[..start],
            &xml[end..]
        )
    };
    let parts = || {
        let mut p = XopParts::new();
        p.insert("part@1", b"one".to_vec());
        p
    };
    let read = |xml: &str| Envelope::parse_with_parts(xml.as_bytes(), parts(), &Limits::default());

    // The part named, percent-escaped as a cid: URL may be.
    let ok = read(&request(&include("cid:part%401"))).expect("named part");
    let Envelope::SendRequestRequest(r) = ok.envelope() else {
        panic!("a SendRequestRequest")
    };
    assert_eq!(r.attachments[0].content, b"one");

    for (contents, what) in [
        (include("cid:other@1"), "cid:other@1"),
        (include("http://example/part@1"), "http://example/part@1"),
        (
            format!("{}{}", include("cid:part@1"), include("cid:part%401")),
            "cid:part%401",
        ),
    ] {
        let e = read(&request(&contents)).expect_err(what);
        assert!(
            matches!(&e, EnvelopeError::InvalidValue { element: "xop:Include", value, .. } if value == what),
            "{e}"
        );
        assert_eq!(e.fault().detail.element_name(), Some("InvalidContent"));
    }
    // Without parts (a plain SOAP request) an include names nothing.
    let e = Envelope::parse(request(&include("cid:part@1")).as_bytes(), &Limits::default())
        .expect_err("no parts");
    assert!(matches!(e, EnvelopeError::InvalidValue { .. }), "{e}");
    // An include is the whole content: no text beside it, no href missing.
    let mixed = request(&include("cid:part@1").replace("<xop:Include", "AAAA<xop:Include"));
    assert!(matches!(read(&mixed), Err(EnvelopeError::UnexpectedText { .. })));
    let no_href = request(&include("cid:part@1").replace("href=", "ref="));
    assert!(matches!(
        read(&no_href),
        Err(EnvelopeError::MissingAttribute {
            attribute: "href",
            ..
        })
    ));
}
