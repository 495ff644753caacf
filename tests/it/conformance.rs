//! Conformance of the envelope codec to the real SMEV 3 message exchange 1.3 schemas and samples.
//!
//! - Every message kind the node writes (requests, responses, the empty-queue answers, every
//!   branch of `SenderProvidedResponseData`, every fault detail) is valid against
//!   `smev3/smev-message-exchange-types-1.3.xsd` / `-faults-1.3.xsd`, through the node's own
//!   format control ([`rsmev_broker::schema::SchemaSet`], libxml2).
//! - The captured 1.1/1.2 messages in `smev3/samples/`, moved to the 1.3 namespaces, are read,
//!   and their operation element is valid 1.3.

use std::path::Path;

use rsmev_broker::envelope::*;
use rsmev_broker::schema::SchemaSet;
use rsmev_broker::xml::{Document, Limits, RawElement};
use time::macros::datetime;

use crate::reference_or_skip;

/// The 1.3 operation schema (with what it imports) and the faults schema.
pub(crate) struct Schemas {
    types: SchemaSet,
    faults: SchemaSet,
}

impl Schemas {
    pub(crate) fn load(reference: &Path) -> Schemas {
        let dir = reference.join("smev3");
        let load = |file: &str| {
            SchemaSet::load_file(&dir.join(file)).unwrap_or_else(|e| panic!("{file} does not compile: {e}"))
        };
        Schemas {
            types: load("smev-message-exchange-types-1.3.xsd"),
            faults: load("smev-message-exchange-faults-1.3.xsd"),
        }
    }

    /// Violations of the schema-typed element of a SOAP message: the operation element, or the
    /// fault's detail element. `None` when there is nothing schema-typed (a fault without
    /// detail). Reads the message with the plain XML reader, not the envelope codec, so the
    /// schemas judge what the codec writes independently of what it accepts.
    pub(crate) fn check(&self, soap: &str) -> Option<Vec<String>> {
        let doc = Document::parse(soap.as_bytes(), &Limits::default()).expect("well-formed");
        let body = doc.child(doc.root(), SOAP_ENV_NS, "Body")?;
        let first = doc.child_elements(body).next()?;
        let (set, element) = if doc.element(first)?.is(SOAP_ENV_NS, "Fault") {
            let detail = doc
                .child_elements(first)
                .find(|c| doc.element(*c).is_some_and(|e| e.local == "detail"))?;
            (&self.faults, doc.child_elements(detail).next()?)
        } else {
            (&self.types, first)
        };
        let xml = doc.extract(element);
        Some(
            set.validate(xml.as_str())
                .iter()
                .map(ToString::to_string)
                .collect(),
        )
    }
}

fn raw(xml: &str) -> RawElement {
    RawElement::parse(xml, &Limits::default()).expect("well-formed test XML")
}

fn id(s: &str) -> MessageId {
    MessageId::parse(s).expect("UUID")
}

fn time() -> DateTime {
    DateTime::new(datetime!(2024-03-01 10:15:30.125 +03:00)).expect("in range")
}

fn signature() -> XmlSignature {
    XmlSignature::new(raw(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256"/><ds:Reference URI="#SIGNED_BY_CALLER"><ds:DigestMethod Algorithm="urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>"##,
    ))
    .expect("XMLDSig element")
}

fn payload() -> MessagePrimaryContent {
    MessagePrimaryContent::new(raw(
        r#"<req:Query xmlns:req="urn://example/query/1.0.0" Id="PERSONAL_SIGNATURE"><req:Inn>7707083893</req:Inn></req:Query>"#,
    ))
    .expect("qualified payload")
}

fn archive() -> Vec<ArchiveFile> {
    vec![ArchiveFile {
        name: "a.xml".into(),
        namespace_uri: "urn://example/a".into(),
    }]
}

fn request_data(id_attr: &str) -> SenderProvidedRequestData {
    SenderProvidedRequestData {
        id: Some(id_attr.into()),
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
            mime_type: "application/vnd.ms-excel".into(),
            signature_pkcs7: Some(vec![0x30, 0x82, 0x01]),
            archive: archive(),
        }],
        ref_attachment_headers: vec![RefAttachmentHeader {
            uuid: "5e5c2e6c-3c08-11e5-95e2-d4c9eff07b77".into(),
            file_name: Some("scan.zip".into()),
            namespace_uri: Some("urn://example/att".into()),
            hash: "q80tqyaqCRTEQ/2cXTaCdQ==".into(),
            mime_type: "application/zip".into(),
            signature_pkcs7: Some(vec![1]),
            archive: archive(),
        }],
        business_process_metadata: Some(vec![raw(r#"<bp:Step xmlns:bp="urn://example/bp">1</bp:Step>"#)]),
        test_message: true,
    }
}

fn minimal_request_data() -> SenderProvidedRequestData {
    SenderProvidedRequestData {
        id: None,
        message_id: id("1a77671a-bcc2-11e8-bb3a-6149e818f8fe"),
        reference_message_id: None,
        transaction_code: None,
        node_id: None,
        eol: None,
        primary_content: payload(),
        personal_signature: None,
        attachment_headers: Vec::new(),
        ref_attachment_headers: Vec::new(),
        business_process_metadata: None,
        test_message: false,
    }
}

/// `id_attr`: xs:ID values must be unique in a document, so blocks nested in one another get
/// their own.
fn metadata(id_attr: Option<&str>, message_type: MessageType) -> MessageMetadata {
    MessageMetadata {
        id: id_attr.map(str::to_owned),
        message_id: Some(id("db0486d0-3c08-11e5-95e2-d4c9eff07b77")),
        message_type,
        sender: Some(Party {
            mnemonic: Some("981601_3T".into()),
            human_readable_name: "ВКАБАНК".into(),
        }),
        sending_timestamp: time(),
        recipient: Some(Party {
            mnemonic: Some("FNS001".into()),
            human_readable_name: "ФНС".into(),
        }),
        delivery_timestamp: Some(time()),
        status: Some(InteractionStatus::MessageIsDelivered),
    }
}

fn async_status() -> AsyncProcessingStatus {
    AsyncProcessingStatus {
        original_message_id: id("db0486d0-3c08-11e5-95e2-d4c9eff07b77"),
        category: InteractionStatus::RequestIsRejectedBySmev,
        details: Some("Ошибка проверки ftp файлов вложения".into()),
        routing_status: Some(raw(&format!(
            r#"<r:RoutingStatus xmlns:r="{ROUTING_NS}"><r:DynamicRoutingStatus><r:DynamicValue>77</r:DynamicValue><r:RoutingStatusCode>recipientNotFound</r:RoutingStatusCode></r:DynamicRoutingStatus></r:RoutingStatus>"#
        ))),
        smev_fault: Some(SmevFaultInfo {
            code: Some("RSMEV:ASYNC".into()),
            description: Some("hash mismatch".into()),
        }),
    }
}

fn response_data(content: ResponseContent) -> SenderProvidedResponseData {
    SenderProvidedResponseData {
        id: Some("SIGNED_BY_CALLER".into()),
        message_id: id("661d07ef-a9ea-11e8-b37a-000c29a449ef"),
        to: "eyJzaWQiOjg5MjgzfQ==".into(),
        content,
    }
}

fn response_contents() -> Vec<ResponseContent> {
    vec![
        ResponseContent::Answer {
            primary_content: payload(),
            personal_signature: Some(signature()),
            attachment_headers: vec![AttachmentHeader {
                content_id: "att1".into(),
                namespace_uri: None,
                mime_type: "text/plain".into(),
                signature_pkcs7: None,
                archive: Vec::new(),
            }],
            ref_attachment_headers: Vec::new(),
        },
        ResponseContent::Rejected(vec![
            RequestRejected {
                code: RejectionReasonCode::NoData,
                description: "нет данных".into(),
            },
            RequestRejected {
                code: RejectionReasonCode::AccessDenied,
                description: "<&>".into(),
            },
        ]),
        ResponseContent::Status(RequestStatus {
            code: -7,
            parameters: vec![StatusParameter {
                key: "k".into(),
                value: "v".into(),
            }],
            description: "в работе".into(),
        }),
        ResponseContent::AsyncProcessingStatus(async_status()),
    ]
}

fn selector(info_type: bool) -> MessageTypeSelector {
    MessageTypeSelector {
        id: Some("SIGNED_BY_CALLER".into()),
        info_type: info_type.then(|| InfoTypeName {
            namespace_uri: "urn://example/query/1.0.0".into(),
            local_name: "Query".into(),
        }),
        timestamp: time(),
        node_id: Some("node-1".into()),
    }
}

fn fault_details() -> Vec<FaultDetail> {
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
            real_total_attachment_size: 6 * 1024 * 1024,
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
                    message: "element x: not expected".into(),
                },
                ValidationError {
                    position: 40,
                    message: "<&>".into(),
                },
            ],
        },
        FaultDetail::InvalidMessageIdFormat,
        FaultDetail::MessageIsAlreadySent,
        FaultDetail::PersonalAccessDenied(info()),
        FaultDetail::QuoteLimitExceeded {
            info: info(),
            remained_total_quote_size: 0,
            real_total_attachment_size: 1024,
        },
        FaultDetail::RecipientIsNotFound,
        FaultDetail::RequestIsNotFound,
        FaultDetail::SenderIsNotRegistered,
        FaultDetail::SignatureVerificationFault {
            info: info(),
            reason: SignatureFaultReason::CertificateIsExpired,
        },
        FaultDetail::SmevFailure,
        FaultDetail::StaleMessageId,
        FaultDetail::TargetMessageIsNotFound,
        FaultDetail::TransactionCodeInvalid(info()),
        FaultDetail::UnknownMessageType,
    ]
}

/// Every message kind the node writes, with its optional parts present and absent.
fn messages() -> Vec<Envelope> {
    let mut all = vec![
        Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided: Signed::new(request_data("SIGNED_BY_CALLER")),
            attachments: vec![AttachmentContent {
                id: "att1".into(),
                content: b"%PDF-1.4".to_vec(),
            }],
            caller_signature: Some(signature()),
            routing: Some(raw(&format!(
                r#"<rout:Routing xmlns:rout="{ROUTING_NS}"><rout:RoutingInformation Id="ROUTING"><rout:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</rout:MessageID><rout:DynamicRouting><rout:DynamicValue>77</rout:DynamicValue></rout:DynamicRouting></rout:RoutingInformation><rout:RoutingSignature>{}</rout:RoutingSignature></rout:Routing>"#,
                signature().element().as_str()
            ))),
        }),
        Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided: Signed::sealed(minimal_request_data()),
            attachments: Vec::new(),
            caller_signature: None,
            routing: None,
        }),
        Envelope::SendRequestResponse(SendRequestResponse {
            metadata: Signed::new(metadata(Some("SIGNED_BY_SMEV"), MessageType::Request)),
            smev_signature: Some(signature()),
        }),
        Envelope::SendRequestResponse(SendRequestResponse {
            metadata: Signed::new(MessageMetadata {
                id: None,
                message_id: None,
                message_type: MessageType::Broadcast,
                sender: None,
                sending_timestamp: time(),
                recipient: None,
                delivery_timestamp: None,
                status: None,
            }),
            smev_signature: None,
        }),
        Envelope::SendResponseResponse(SendResponseResponse {
            metadata: Signed::sealed(metadata(Some("SIGNED_BY_SMEV"), MessageType::Response)),
            smev_signature: Some(signature()),
        }),
        Envelope::GetRequestRequest(GetRequestRequest {
            selector: Signed::new(selector(true)),
            caller_signature: Some(signature()),
        }),
        Envelope::GetResponseRequest(GetResponseRequest {
            selector: Signed::sealed(selector(false)),
            caller_signature: None,
        }),
        Envelope::GetRequestResponse(GetRequestResponse { message: None }),
        Envelope::GetRequestResponse(GetRequestResponse {
            message: Some(RequestMessage {
                request: Signed::new(Request {
                    id: Some("SIGNED_BY_SMEV".into()),
                    sender_provided: Signed::new(request_data("SIGNED_BY_CONSUMER")),
                    metadata: metadata(None, MessageType::Request),
                    fs_attachments: vec![FsAttachment {
                        uuid: "5e5c2e6c-3c08-11e5-95e2-d4c9eff07b77".into(),
                        user_name: "anonymous".into(),
                        password: "smev".into(),
                        file_name: "/scan.zip".into(),
                    }],
                    reply_to: Some("eyJzaWQiOjg5MjgzfQ==".into()),
                    sender_signature: Some(signature()),
                }),
                attachments: vec![AttachmentContent {
                    id: "att1".into(),
                    content: vec![0; 10],
                }],
                smev_signature: Some(signature()),
            }),
        }),
        Envelope::GetResponseResponse(GetResponseResponse { message: None }),
        Envelope::AckRequest(AckRequest {
            target: Signed::new(AckTargetMessage {
                id: "SIGNED_BY_CALLER".into(),
                accepted: Some(false),
                message_id: id("1987131a-bcc2-11e8-a37c-fa163eb3792e"),
            }),
            caller_signature: Some(signature()),
        }),
        Envelope::AckRequest(AckRequest {
            target: Signed::sealed(AckTargetMessage {
                id: "A".into(),
                accepted: None,
                message_id: id("1987131a-bcc2-11e8-a37c-fa163eb3792e"),
            }),
            caller_signature: None,
        }),
        Envelope::AckResponse,
        Envelope::GetStatusRequest(GetStatusRequest {
            timestamp: Signed::new(Timestamp {
                id: Some("SIGNED_BY_CALLER".into()),
                value: time(),
            }),
            caller_signature: signature(),
        }),
        Envelope::GetStatusResponse(GetStatusResponse { message: None }),
        Envelope::GetStatusResponse(GetStatusResponse {
            message: Some(SmevAsyncProcessingMessage {
                data: Signed::new(AsyncProcessingStatusData {
                    id: Some("SIGNED_BY_SMEV".into()),
                    status: async_status(),
                }),
                smev_signature: Some(signature()),
            }),
        }),
    ];
    for content in response_contents() {
        all.push(Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided: Signed::new(response_data(content.clone())),
            attachments: Vec::new(),
            caller_signature: Some(signature()),
        }));
        all.push(Envelope::GetResponseResponse(GetResponseResponse {
            message: Some(ResponseMessage {
                response: Signed::new(Response {
                    id: Some("SIGNED_BY_SMEV".into()),
                    original_message_id: Some(id("db0486d0-3c08-11e5-95e2-d4c9eff07b77")),
                    original_transaction_code: Some("ignore".into()),
                    reference_message_id: Some(id("db0486d0-3c08-11e5-95e2-d4c9eff07b77")),
                    sender_provided: Signed::new(response_data(content)),
                    metadata: metadata(None, MessageType::Response),
                    fs_attachments: Vec::new(),
                    sender_signature: Some(signature()),
                }),
                attachments: Vec::new(),
                smev_signature: Some(signature()),
            }),
        }));
    }
    for detail in fault_details() {
        all.push(Envelope::Fault(Fault::new(detail, "описание & <причина>")));
    }
    all
}

#[test]
fn every_message_the_node_writes_is_valid_against_the_1_3_schemas() {
    let Some(reference) = reference_or_skip("every_message_the_node_writes_is_valid_against_the_1_3_schemas")
    else {
        return;
    };
    let schemas = Schemas::load(&reference);
    let all = messages();
    let kinds: std::collections::BTreeSet<_> = all.iter().map(Envelope::element_name).collect();
    assert_eq!(
        kinds.len(),
        13,
        "every operation message and the fault: {kinds:?}"
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for msg in &all {
        let xml = msg.to_xml();
        let back = Envelope::parse(xml.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("the node's own output is refused: {e}\n{xml}"));
        assert_eq!(back.envelope(), msg);
        let violations = schemas
            .check(&xml)
            .unwrap_or_else(|| panic!("nothing to validate in {xml}"));
        checked += 1;
        if !violations.is_empty() {
            failures.push(format!(
                "{}:\n  {}\n{xml}",
                msg.element_name(),
                violations.join("\n  ")
            ));
        }
    }
    assert_eq!(checked, all.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_schemas_refuse_what_the_1_3_envelope_forbids() {
    // The check above must be able to fail: messages that break the schema are caught.
    let Some(reference) = reference_or_skip("the_schemas_refuse_what_the_1_3_envelope_forbids") else {
        return;
    };
    let schemas = Schemas::load(&reference);
    let ack = Envelope::AckRequest(AckRequest {
        target: Signed::new(AckTargetMessage {
            id: "A".into(),
            accepted: None,
            message_id: id("1987131a-bcc2-11e8-a37c-fa163eb3792e"),
        }),
        caller_signature: None,
    })
    .to_xml();
    let without_id = ack.replace(r#" Id="A""#, "");
    assert_ne!(ack, without_id);
    let violations = schemas.check(&without_id).expect("an operation element");
    assert!(
        violations.iter().any(|v| v.contains("Id")),
        "AckTargetMessage/@Id is required: {violations:?}"
    );
    // Two blocks with the same xs:ID: the node must give `Request` an Id of its own.
    let duplicate = Envelope::GetRequestResponse(GetRequestResponse {
        message: Some(RequestMessage {
            request: Signed::new(Request {
                id: Some("X".into()),
                sender_provided: Signed::new(minimal_request_data()),
                metadata: metadata(Some("X"), MessageType::Request),
                fs_attachments: Vec::new(),
                reply_to: None,
                sender_signature: None,
            }),
            attachments: Vec::new(),
            smev_signature: None,
        }),
    })
    .to_xml();
    let violations = schemas.check(&duplicate).expect("an operation element");
    assert!(violations.iter().any(|v| v.contains("'X'")), "{violations:?}");
    // InvalidContent needs at least one ValidationError.
    let empty = Envelope::Fault(Fault::new(
        FaultDetail::InvalidContent {
            info: SmevFaultInfo::default(),
            errors: Vec::new(),
        },
        "x",
    ))
    .to_xml();
    assert!(!schemas.check(&empty).expect("a fault detail").is_empty());
}

/// A captured 1.1/1.2 message with the message-exchange namespaces moved to 1.3.
fn sample_as_1_3(reference: &Path, file: &str) -> String {
    let path = reference.join("smev3/samples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = text.trim_start_matches('\u{FEFF}').to_owned();
    for version in ["1.1", "1.2"] {
        for part in ["types/", "types/basic/", "types/faults/"] {
            text = text.replace(
                &format!("message-exchange/{part}{version}\""),
                &format!("message-exchange/{part}1.3\""),
            );
        }
    }
    text
}

fn read(xml: &str) -> ParsedEnvelope {
    Envelope::parse(xml.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("refused: {e}\n{xml}"))
}

#[test]
fn captured_messages_moved_to_1_3_are_read_and_valid() {
    let Some(reference) = reference_or_skip("captured_messages_moved_to_1_3_are_read_and_valid") else {
        return;
    };
    let schemas = Schemas::load(&reference);

    let ack = sample_as_1_3(&reference, "AckRequest_1.2_unsigned.xml");
    let parsed = read(&ack);
    let Envelope::AckRequest(m) = parsed.envelope() else {
        panic!("not an AckRequest")
    };
    assert_eq!(
        m.target.message_id.as_str(),
        "1987131a-bcc2-11e8-a37c-fa163eb3792e"
    );
    assert_eq!(m.target.accepted, Some(true));
    assert_eq!(schemas.check(&ack), Some(Vec::new()));

    let esnsi = sample_as_1_3(&reference, "SendRequestRequest_1.2_unsigned_esnsi.xml");
    let parsed = read(&esnsi);
    let Envelope::SendRequestRequest(m) = parsed.envelope() else {
        panic!("not a SendRequestRequest")
    };
    assert_eq!(m.sender_provided.primary_content.local_name(), "CnsiRequest");
    assert!(
        m.sender_provided
            .primary_content
            .element()
            .as_str()
            .contains("<id>281</id>")
    );
    assert_eq!(schemas.check(&esnsi), Some(Vec::new()));

    // A signed request: the caller site is the element its Reference names.
    for (file, local) in [
        (
            "SendRequestRequest_1.1_signed_gost94_gibdd-breach.xml",
            "BreachRequest",
        ),
        (
            "SendRequestRequest_1.1_signed_gost2012_gisgmp-importpayments.xml",
            "ImportPaymentsRequest",
        ),
    ] {
        let xml = sample_as_1_3(&reference, file);
        let parsed = read(&xml);
        let Envelope::SendRequestRequest(m) = parsed.envelope() else {
            panic!("{file}: not a SendRequestRequest")
        };
        assert_eq!(m.sender_provided.primary_content.local_name(), local, "{file}");
        let doc = parsed.document();
        let target = parsed.caller_signed_element().expect("caller site");
        assert_eq!(
            doc.element_by_id("SIGNED_BY_CONSUMER").expect("unique Id"),
            Some(target),
            "{file}"
        );
        let signature = parsed.caller_signature().expect("signed sample");
        assert!(
            doc.element(signature)
                .is_some_and(|e| e.is(XMLDSIG_NS, "Signature"))
        );
        assert!(
            m.caller_signature
                .as_ref()
                .is_some_and(|s| s.element().as_str().contains(r##"URI="#SIGNED_BY_CONSUMER""##)),
            "{file}"
        );
        assert_eq!(schemas.check(&xml), Some(Vec::new()), "{file}");
    }

    // A client template whose selector Timestamp has no time zone.
    let poll = sample_as_1_3(
        &reference,
        "GetResponseRequest_1.1_template_placeholder-signature.xml",
    );
    let parsed = read(&poll);
    let Envelope::GetResponseRequest(m) = parsed.envelope() else {
        panic!("not a GetResponseRequest")
    };
    assert!(!m.selector.timestamp.has_offset());
    assert_eq!(m.selector.timestamp.to_string(), "2018-07-24T16:06:49.623");
    assert_eq!(
        m.selector.info_type.as_ref().map(|t| t.local_name.as_str()),
        Some("request")
    );
    assert_eq!(schemas.check(&poll), Some(Vec::new()));

    let fault = sample_as_1_3(
        &reference,
        "Fault_1.1_SignatureVerificationFault_CertificateIsExpired.xml",
    );
    let parsed = read(&fault);
    let Envelope::Fault(f) = parsed.envelope() else {
        panic!("not a fault")
    };
    assert!(matches!(
        f.detail,
        FaultDetail::SignatureVerificationFault {
            reason: SignatureFaultReason::CertificateIsExpired,
            ..
        }
    ));
    assert_eq!(f.client_action(), ClientAction::ContactOperator);
    assert_eq!(schemas.check(&fault), Some(Vec::new()));
}
