//! Tests of the HTTP layer's own behaviour: the router driven in process (`oneshot`), and a real
//! TLS listener on port 0. The exchange's decisions are tested where they are made; here, that
//! requests reach it framed right and its answers come back in the promised shape.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use rsmev_registry::{Grant, InfoType, InfoTypeKind, Mnemonic, Participant, ParticipantStatus, QName};
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt as _;

use super::*;
use crate::admin::{Admin, Mode};
use crate::config::Secret;
use crate::dsig::{self, Certificate, RingSigner, SignOptions, TransformChain, VerifierRegistry};
use crate::envelope::{BASIC_NS, DateTime, TYPES_NS};
use crate::exchange::{ExchangeSettings, NodeIdentity};
use crate::store::Store;
use crate::store::sqlite::{SqliteConfig, SqliteStore};
use crate::xml::Document;

const PUBLIC_URL: &str = "http://rsmev.test:7575";
const TOKEN: &str = "test-admin-token";
const REQ_NS: &str = "urn://rsmev-test/request/1.0";

/// A node's HTTP layer over a fresh SQLite store.
struct Harness {
    _dir: TempDir,
    state: ApiState,
    router: Router,
    store: Arc<dyn Store>,
    xsd_dir: std::path::PathBuf,
}

async fn harness_with(tweak: impl FnOnce(&mut NodeConfig)) -> Harness {
    harness_with_trust(tweak, None).await
}

async fn harness_with_trust(
    tweak: impl FnOnce(&mut NodeConfig),
    trust: Option<Arc<crate::dsig::TrustStore>>,
) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = NodeConfig::default();
    config.storage.data_dir = dir.path().to_owned();
    config.server.admin_token = Secret::new(TOKEN);
    tweak(&mut config);
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&dir.path().join("rsmev.db"), SqliteConfig::default())
            .await
            .expect("store"),
    );
    let (key, cert) = crate::node::generate_self_signed("RSMEV", "test node", 30).expect("node key");
    let cert = Certificate::from_pem_or_der(cert.as_bytes()).expect("node cert");
    let identity = NodeIdentity {
        mnemonic: "RSMEV".into(),
        name: "test node".into(),
        signer: Arc::new(RingSigner::from_pem(&key, cert).expect("node signer")),
    };
    let mut settings = ExchangeSettings::from_config(&config);
    settings.trust = trust;
    let xsd_dir = settings.xsd_dir.clone();
    let exchange = Exchange::new(store.clone(), settings, identity, VerifierRegistry::default())
        .await
        .expect("exchange");
    let state = ApiState::new(exchange, Arc::new(config), PUBLIC_URL.to_owned());
    Harness {
        _dir: dir,
        router: router(state.clone()),
        state,
        store,
        xsd_dir,
    }
}

async fn harness() -> Harness {
    harness_with(|_| {}).await
}

impl Harness {
    async fn call(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, headers, body.to_vec())
    }

    async fn get(&self, uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.call(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    /// A JSON request (with the admin token when `admin`), answered as JSON.
    async fn json(&self, method: Method, uri: &str, body: Option<Value>, admin: bool) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if admin {
            req = req.header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let (status, _, bytes) = self.call(req.body(body).expect("request")).await;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        (status, value)
    }

    async fn post_soap(&self, content_type: &str, body: impl Into<Body>) -> (StatusCode, HeaderMap, String) {
        let req = Request::post("/ws")
            .header(header::CONTENT_TYPE, content_type)
            .header("SOAPAction", "urn:GetRequest")
            .body(body.into())
            .expect("request");
        let (status, headers, body) = self.call(req).await;
        (status, headers, String::from_utf8(body).expect("utf-8"))
    }

    fn admin(&self) -> Admin<'_> {
        Admin::new(self.store.as_ref(), self.xsd_dir.clone())
    }
}

/// A participant's key and certificate (ECDSA P-256, self-signed).
struct Identity {
    signer: RingSigner,
    cert_pem: String,
}

fn identity(cn: &str) -> Identity {
    let (key, cert_pem) = crate::node::generate_self_signed(cn, "test agency", 30).expect("key");
    let cert = Certificate::from_pem_or_der(cert_pem.as_bytes()).expect("cert");
    Identity {
        signer: RingSigner::from_pem(&key, cert).expect("signer"),
        cert_pem,
    }
}

/// The caller's signature over the element `Id="<id>"` of `xml` (signed standalone, as a JSON
/// client does).
fn sign(xml: &str, id: &str, who: &Identity) -> String {
    let doc = Document::parse_str(xml).expect("block parses");
    let target = doc.element_by_id(id).expect("unique").expect("present");
    let options = SignOptions {
        transforms: TransformChain::ExcC14nThenSmev,
        ..SignOptions::default()
    };
    dsig::sign(&doc, target, &who.signer, &options)
        .expect("sign")
        .as_str()
        .to_owned()
}

fn participant(m: &str, who: &Identity) -> Participant {
    Participant {
        mnemonic: Mnemonic::new(m).expect("mnemonic"),
        name: format!("ИС {m}"),
        organisation: String::new(),
        status: ParticipantStatus::Active,
        certificates: vec![who.cert_pem.clone()],
    }
}

fn selector(id: &str) -> String {
    format!(
        "<b:MessageTypeSelector xmlns:b=\"{BASIC_NS}\" Id=\"{id}\"><b:Timestamp>{}</b:Timestamp></b:MessageTypeSelector>",
        DateTime::now_utc()
    )
}

/// Whether `signature` verifies over `block`, the element it covers, both as a JSON answer gives
/// them: a client needs nothing else to check the node's (or the relayed sender's) signature.
fn signature_verifies(block: &str, signature: &str) -> bool {
    let doc = Document::parse_str(&format!("<w>{block}{signature}</w>")).expect("parses");
    let mut children = doc.child_elements(doc.root());
    let (Some(target), Some(sig)) = (children.next(), children.next()) else {
        return false;
    };
    dsig::verify(
        &doc,
        sig,
        target,
        time::OffsetDateTime::now_utc(),
        &VerifierRegistry::default(),
    )
    .is_ok()
}

fn json_str<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {v}"))
}

// ---- /ws ---------------------------------------------------------------------------------------

/// `schemaLocation` values of a document.
fn schema_locations(text: &str) -> Vec<String> {
    text.match_indices("schemaLocation=\"")
        .filter_map(|(i, m)| {
            let rest = &text[i + m.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn served_wsdl_names_this_node_and_every_schema_it_references_is_served() {
    let h = harness().await;
    let (status, headers, body) = h.get("/ws?wsdl").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/xml; charset=utf-8");
    let wsdl = String::from_utf8(body).expect("utf-8");
    assert!(wsdl.contains(&format!("<soap:address location=\"{PUBLIC_URL}/ws\"/>")));
    assert!(!wsdl.contains("localhost:7575"));
    // Follow every reference, transitively, as a client resolving the WSDL does.
    let mut pending = schema_locations(&wsdl);
    let mut seen = std::collections::BTreeSet::new();
    while let Some(url) = pending.pop() {
        if !seen.insert(url.clone()) {
            continue;
        }
        let path = url
            .strip_prefix(PUBLIC_URL)
            .unwrap_or_else(|| panic!("{url} does not point at this node"));
        assert!(path.starts_with("/ws?xsd="), "{url}");
        let (status, _, body) = h.get(path).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        let text = String::from_utf8(body).expect("utf-8");
        assert!(text.contains("<schema") || text.contains("<xs:schema"), "{url}");
        pending.extend(schema_locations(&text));
    }
    assert_eq!(seen.len(), 5, "the five XSDs are reachable: {seen:?}");
    let (status, _, _) = h.get("/ws?xsd=../../Cargo.toml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = h.get("/ws").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn oversized_soap_body_is_413_with_an_invalid_content_fault() {
    let h = harness_with(|c| c.server.max_request_bytes = 1024).await;
    let body = format!("<x>{}</x>", "a".repeat(2000));
    let (status, headers, text) = h.post_soap("text/xml; charset=utf-8", body.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(headers[header::CONTENT_TYPE], "text/xml; charset=utf-8");
    assert!(text.contains("InvalidContent") && text.contains("1024"), "{text}");
    // Without a Content-Length (chunked), the limit holds all the same.
    let (status, _, text) = h.post_soap("text/xml", chunked(body.into_bytes())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text.contains("InvalidContent"), "{text}");
}

/// A body sent in 100-byte chunks, its length not known up front.
fn chunked(bytes: Vec<u8>) -> Body {
    let (mut tx, channel) =
        http_body_util::channel::Channel::<axum::body::Bytes, std::convert::Infallible>::new(4);
    tokio::spawn(async move {
        for chunk in bytes.chunks(100) {
            if tx
                .send_data(axum::body::Bytes::copy_from_slice(chunk))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    Body::new(channel)
}

fn unsigned_get_request() -> String {
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
         <tns:GetRequestRequest xmlns:tns=\"{TYPES_NS}\">{}</tns:GetRequestRequest></soap:Body></soap:Envelope>",
        selector("SIGNED_BY_CALLER")
    )
}

#[tokio::test]
async fn soap_faults_travel_as_500_text_xml() {
    let h = harness().await;
    let (status, headers, text) = h
        .post_soap("text/xml; charset=utf-8", unsigned_get_request())
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers[header::CONTENT_TYPE], "text/xml; charset=utf-8");
    assert!(text.contains("NoSignatureFound"), "{text}");
    let (status, _, text) = h.post_soap("application/json", "{}").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        text.contains("InvalidContent") && text.contains("application/json"),
        "{text}"
    );
}

#[tokio::test]
async fn mtom_root_part_is_the_envelope() {
    let h = harness().await;
    let ct = "multipart/related; type=\"application/xop+xml\"; boundary=\"uuid:b1\"; \
              start=\"<root.message@cxf.apache.org>\"; start-info=\"text/xml\"";
    let body = format!(
        "--uuid:b1\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\n\
         Content-ID: <root.message@cxf.apache.org>\r\n\r\n{}\r\n--uuid:b1--\r\n",
        unsigned_get_request()
    );
    let (status, _, text) = h.post_soap(ct, body).await;
    // The exchange read the envelope: it got as far as the signature check.
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(text.contains("NoSignatureFound"), "{text}");
    let (status, _, text) = h
        .post_soap("multipart/related; boundary=\"nope\"", "--other--")
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(text.contains("InvalidContent") && text.contains("MTOM"), "{text}");
}

// ---- JSON API ----------------------------------------------------------------------------------

#[tokio::test]
async fn json_faults_carry_code_action_details_and_a_fitting_status() {
    let h = harness().await;
    let (status, v) = h
        .json(
            Method::POST,
            routes::GET_REQUEST,
            Some(json!({"messageTypeSelector": selector("S1")})),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(json_str(&v, "/fault/code"), "SignatureVerificationFault");
    assert_eq!(json_str(&v, "/fault/clientAction"), "fixAndResend");
    assert_eq!(json_str(&v, "/fault/details/reason"), "NoSignatureFound");

    let (status, v) = h
        .json(
            Method::POST,
            routes::GET_REQUEST,
            Some(json!({"messageTypeSelector": "<unclosed>", "callerSignature": "<x/>"})),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(json_str(&v, "/fault/code"), "InvalidContent");
    assert!(
        json_str(&v, "/fault/description").contains("messageTypeSelector"),
        "{v}"
    );

    // A block may not smuggle in a second element.
    let (status, v) = h
        .json(
            Method::POST,
            routes::ACK,
            Some(json!({"ackTargetMessage": "<a/><b/>"})),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        json_str(&v, "/fault/description").contains("ackTargetMessage"),
        "{v}"
    );

    let (status, v) = h
        .json(Method::POST, routes::GET_STATUS, Some(json!({"nope": 1})), false)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(json_str(&v, "/fault/code"), "InvalidContent");

    let req = Request::post(routes::SEND_REQUEST)
        .header(header::CONTENT_TYPE, "text/xml")
        .body(Body::from("<a/>"))
        .expect("request");
    let (status, _, _) = h.call(req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[test]
fn retryable_faults_are_503_with_retry_after() {
    use crate::envelope::{Fault, FaultDetail, SmevFaultInfo};
    let failure = json::fault_response(&Fault::new(FaultDetail::SmevFailure, "down"));
    assert_eq!(failure.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failure.headers()[header::RETRY_AFTER], "5");
    let overflow = json::fault_response(&Fault::new(
        FaultDetail::DestinationOverflow {
            info: SmevFaultInfo::default(),
            message_broker_address: "node".into(),
            destination_name: "P/requests".into(),
        },
        "full",
    ));
    assert_eq!(overflow.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(overflow.headers()[header::RETRY_AFTER], "30");
    let dup = json::fault_response(&Fault::new(FaultDetail::MessageIsAlreadySent, "dup"));
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    assert!(dup.headers().get(header::RETRY_AFTER).is_none());
    let v = json::fault_json(&Fault::new(FaultDetail::MessageIsAlreadySent, "dup"));
    assert_eq!(v["fault"]["clientAction"], "stop");
    assert_eq!(
        json::fault_status(&Fault::invalid_content("bad", 3)),
        StatusCode::BAD_REQUEST
    );
}

/// The whole exchange over JSON: send, poll, ack, answer, read the answer, trace it.
#[tokio::test]
async fn json_exchange_round_trip_through_the_same_pipeline() {
    let h = harness().await;
    let consumer = identity("consumer IS");
    let provider = identity("provider IS");
    let admin = h.admin();
    admin
        .put_participant(&participant("CONSUMER", &consumer), Mode::Add)
        .await
        .expect("consumer");
    admin
        .put_participant(&participant("PROVIDER", &provider), Mode::Add)
        .await
        .expect("provider");
    let qname = QName::new(REQ_NS, "Req");
    admin
        .put_infotype(
            &InfoType {
                qname: qname.clone(),
                version: "1.0".into(),
                kind: InfoTypeKind::Request,
                provider: Mnemonic::new("PROVIDER").expect("m"),
                xsd: None,
                transaction_code_required: false,
                federal: false,
                max_size: None,
                description: String::new(),
            },
            Mode::Add,
        )
        .await
        .expect("infotype");
    admin
        .grant(&Grant {
            consumer: Mnemonic::new("CONSUMER").expect("m"),
            infotype: qname,
        })
        .await
        .expect("grant");

    // SendRequest.
    let message_id = uuid::Uuid::now_v1(&[1, 2, 3, 4, 5, 6]).to_string();
    let sprd = format!(
        "<tns:SenderProvidedRequestData xmlns:tns=\"{TYPES_NS}\" Id=\"SIGNED_BY_CONSUMER\">\
         <tns:MessageID>{message_id}</tns:MessageID>\
         <b:MessagePrimaryContent xmlns:b=\"{BASIC_NS}\"><r:Req xmlns:r=\"{REQ_NS}\">хочу справку</r:Req></b:MessagePrimaryContent>\
         </tns:SenderProvidedRequestData>"
    );
    let send = json!({
        "senderProvidedRequestData": sprd,
        "callerSignature": sign(&sprd, "SIGNED_BY_CONSUMER", &consumer),
    });
    let (status, v) = h
        .json(Method::POST, routes::SEND_REQUEST, Some(send.clone()), false)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/messageMetadata/messageId"), message_id);
    assert_eq!(json_str(&v, "/messageMetadata/messageType"), "REQUEST");
    assert_eq!(json_str(&v, "/messageMetadata/sender/mnemonic"), "CONSUMER");
    assert_eq!(json_str(&v, "/messageMetadata/recipient/mnemonic"), "PROVIDER");
    assert!(json_str(&v, "/messageMetadataXml").contains("MessageMetadata"));
    assert!(signature_verifies(
        json_str(&v, "/messageMetadataXml"),
        json_str(&v, "/smevSignature")
    ));
    assert!(!signature_verifies(
        &json_str(&v, "/messageMetadataXml").replace("CONSUMER", "INTRUDER"),
        json_str(&v, "/smevSignature")
    ));

    // The same MessageID again: accepted once.
    let (status, v) = h
        .json(Method::POST, routes::SEND_REQUEST, Some(send), false)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(json_str(&v, "/fault/code"), "MessageIsAlreadySent");

    // GetRequest by the provider, then Ack.
    let sel = selector("SIGNED_BY_PROVIDER");
    let get =
        json!({"messageTypeSelector": sel, "callerSignature": sign(&sel, "SIGNED_BY_PROVIDER", &provider)});
    let (status, v) = h.json(Method::POST, routes::GET_REQUEST, Some(get), false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/message/messageMetadata/messageId"), message_id);
    assert!(json_str(&v, "/message/primaryContent").contains("хочу справку"));
    assert!(json_str(&v, "/message/senderProvidedRequestData").contains("SIGNED_BY_CONSUMER"));
    assert!(signature_verifies(
        json_str(&v, "/message/request"),
        json_str(&v, "/message/smevSignature")
    ));
    assert!(signature_verifies(
        json_str(&v, "/message/senderProvidedRequestData"),
        json_str(&v, "/message/senderSignature")
    ));
    let reply_to = json_str(&v, "/message/replyTo").to_owned();
    let ack = format!(
        "<b:AckTargetMessage xmlns:b=\"{BASIC_NS}\" Id=\"ACK\" accepted=\"true\">{message_id}</b:AckTargetMessage>"
    );
    let (status, v) = h
        .json(
            Method::POST,
            routes::ACK,
            Some(json!({"ackTargetMessage": ack, "callerSignature": sign(&ack, "ACK", &provider)})),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"acknowledged": true}));

    // SendResponse (a rejection: no response type needed), then GetResponse by the consumer.
    let response_id = uuid::Uuid::now_v1(&[1, 2, 3, 4, 5, 6]).to_string();
    let spresd = format!(
        "<tns:SenderProvidedResponseData xmlns:tns=\"{TYPES_NS}\" Id=\"SIGNED_BY_PROVIDER\">\
         <tns:MessageID>{response_id}</tns:MessageID><tns:To>{reply_to}</tns:To>\
         <tns:RequestRejected><tns:RejectionReasonCode>NO_DATA</tns:RejectionReasonCode>\
         <tns:RejectionReasonDescription>нет сведений</tns:RejectionReasonDescription></tns:RequestRejected>\
         </tns:SenderProvidedResponseData>"
    );
    let (status, v) = h
        .json(
            Method::POST,
            routes::SEND_RESPONSE,
            Some(json!({
                "senderProvidedResponseData": spresd,
                "callerSignature": sign(&spresd, "SIGNED_BY_PROVIDER", &provider),
            })),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/messageMetadata/messageType"), "RESPONSE");
    let sel = selector("SIGNED_BY_CONSUMER");
    let (status, v) = h
        .json(
            Method::POST,
            routes::GET_RESPONSE,
            Some(json!({"messageTypeSelector": sel, "callerSignature": sign(&sel, "SIGNED_BY_CONSUMER", &consumer)})),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/message/originalMessageId"), message_id);
    assert_eq!(json_str(&v, "/message/content/type"), "rejected");
    assert_eq!(json_str(&v, "/message/content/reasons/0/code"), "NO_DATA");

    // The operator views.
    let uri = format!("/api/v1/messages/{message_id}/history");
    let (status, _) = h.json(Method::GET, &uri, None, false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, v) = h.json(Method::GET, &uri, None, true).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/message/sender"), "CONSUMER");
    assert_eq!(json_str(&v, "/message/infotype/localName"), "Req");
    let events: Vec<&str> = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default())
        .collect();
    for expected in ["accepted", "queued", "leased", "acked", "response-accepted"] {
        assert!(events.contains(&expected), "{expected} missing from {events:?}");
    }
    assert!(
        v.to_string().contains("MessageIsAlreadySent"),
        "the refused duplicate is in the history: {v}"
    );
    assert_eq!(v["responses"].as_array().map(Vec::len), Some(1));
    assert!(
        !v.to_string().contains("хочу справку"),
        "no business content in the history"
    );
    let (status, _) = h
        .json(Method::GET, "/api/v1/messages/not-a-uuid/history", None, true)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let unknown = format!("/api/v1/messages/{}/history", uuid::Uuid::nil());
    let (status, _) = h.json(Method::GET, &unknown, None, true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The response was leased by GetResponse and not acked yet.
    let (status, v) = h.json(Method::GET, "/api/v1/queues/CONSUMER", None, true).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["queues"],
        json!([
            {"queue": "requests", "pending": 0, "leased": 0},
            {"queue": "responses", "pending": 1, "leased": 1},
            {"queue": "statuses", "pending": 0, "leased": 0},
        ])
    );
    let (status, _) = h.json(Method::GET, "/api/v1/queues/NOBODY", None, true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The queue gauges see the same.
    let (_, _, body) = h.get("/metrics").await;
    let text = String::from_utf8(body).expect("utf-8");
    assert!(
        text.contains("rsmev_queue_messages{queue=\"responses\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("rsmev_queue_leased_messages{queue=\"responses\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("rsmev_participant_queue_messages{participant=\"CONSUMER\",queue=\"responses\"} 1"),
        "{text}"
    );
}

/// Registers `CONSUMER` and `PROVIDER` with the request type `{REQ_NS}Req`, granted.
async fn json_pair(h: &Harness) -> (Identity, Identity) {
    let consumer = identity("consumer IS");
    let provider = identity("provider IS");
    let admin = h.admin();
    for (m, who) in [("CONSUMER", &consumer), ("PROVIDER", &provider)] {
        admin
            .put_participant(&participant(m, who), Mode::Add)
            .await
            .expect("participant");
    }
    let qname = QName::new(REQ_NS, "Req");
    admin
        .put_infotype(
            &InfoType {
                qname: qname.clone(),
                version: "1.0".into(),
                kind: InfoTypeKind::Request,
                provider: Mnemonic::new("PROVIDER").expect("m"),
                xsd: None,
                transaction_code_required: false,
                federal: false,
                max_size: None,
                description: String::new(),
            },
            Mode::Add,
        )
        .await
        .expect("infotype");
    admin
        .grant(&Grant {
            consumer: Mnemonic::new("CONSUMER").expect("m"),
            infotype: qname,
        })
        .await
        .expect("grant");
    (consumer, provider)
}

/// JSON attachments: base64 in, the same bytes out to the provider; a header without its
/// content is refused; attachments are measured as bytes, not as the envelope.
#[tokio::test]
async fn json_attachments_reach_the_provider_as_sent_and_must_match_their_headers() {
    use base64::Engine as _;
    // An envelope limit smaller than the attachment's base64: it does not apply to attachments.
    let h = harness_with(|c| c.limits.max_envelope_bytes = 32 * 1024).await;
    let (consumer, provider) = json_pair(&h).await;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let scan: Vec<u8> = (0..64 * 1024_u32).map(|i| (i * 7 % 256) as u8).collect();
    let sprd = |message_id: &str, headers: &[&str]| {
        let headers: String = headers
            .iter()
            .map(|id| {
                format!("<b:AttachmentHeader><b:contentId>{id}</b:contentId><b:MimeType>application/pdf</b:MimeType></b:AttachmentHeader>")
            })
            .collect();
        format!(
            "<tns:SenderProvidedRequestData xmlns:tns=\"{TYPES_NS}\" xmlns:b=\"{BASIC_NS}\" Id=\"SIGNED_BY_CONSUMER\">\
             <tns:MessageID>{message_id}</tns:MessageID>\
             <b:MessagePrimaryContent><r:Req xmlns:r=\"{REQ_NS}\">скан</r:Req></b:MessagePrimaryContent>\
             <b:AttachmentHeaderList>{headers}</b:AttachmentHeaderList>\
             </tns:SenderProvidedRequestData>"
        )
    };
    let send = |data: String, attachments: Value| {
        json!({
            "senderProvidedRequestData": data,
            "callerSignature": sign(&data, "SIGNED_BY_CONSUMER", &consumer),
            "attachments": attachments,
        })
    };

    // A header without its content, and a content without its header.
    for (headers, attachments) in [
        (
            &["scan", "photo"][..],
            json!([{"id": "scan", "content": b64(&scan)}]),
        ),
        (
            &["scan"][..],
            json!([{"id": "scan", "content": b64(&scan)}, {"id": "extra", "content": "AA=="}]),
        ),
    ] {
        let id = uuid::Uuid::now_v1(&[1, 2, 3, 4, 5, 6]).to_string();
        let (status, v) = h
            .json(
                Method::POST,
                routes::SEND_REQUEST,
                Some(send(sprd(&id, headers), attachments)),
                false,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(json_str(&v, "/fault/code"), "AttachmentContentMiscoordination");
    }
    // Content that is not base64.
    let id = uuid::Uuid::now_v1(&[1, 2, 3, 4, 5, 6]).to_string();
    let (status, v) = h
        .json(
            Method::POST,
            routes::SEND_REQUEST,
            Some(send(
                sprd(&id, &["scan"]),
                json!([{"id": "scan", "content": "not base64!"}]),
            )),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(json_str(&v, "/fault/code"), "InvalidContent");
    assert!(
        json_str(&v, "/fault/description").contains("attachments[0]"),
        "{v}"
    );

    // Matching headers and contents (in another order; a contentId, an xs:string, with
    // whitespace around it) are accepted and delivered as sent.
    let id = uuid::Uuid::now_v1(&[1, 2, 3, 4, 5, 6]).to_string();
    let attachments = json!([
        {"id": "photo", "content": b64(b"\x89PNG")},
        {"id": "scan", "content": b64(&scan)},
    ]);
    let (status, v) = h
        .json(
            Method::POST,
            routes::SEND_REQUEST,
            Some(send(sprd(&id, &["scan", " photo\n"]), attachments.clone())),
            false,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let sel = selector("SIGNED_BY_PROVIDER");
    let get =
        json!({"messageTypeSelector": sel, "callerSignature": sign(&sel, "SIGNED_BY_PROVIDER", &provider)});
    let (status, v) = h.json(Method::POST, routes::GET_REQUEST, Some(get), false).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/message/messageMetadata/messageId"), id);
    assert_eq!(v["message"]["attachments"], attachments);
    assert!(signature_verifies(
        json_str(&v, "/message/senderProvidedRequestData"),
        json_str(&v, "/message/senderSignature")
    ));
    assert!(signature_verifies(
        json_str(&v, "/message/request"),
        json_str(&v, "/message/smevSignature")
    ));
}

// ---- admin API ---------------------------------------------------------------------------------

#[tokio::test]
async fn admin_routes_need_the_token_and_are_absent_when_it_is_not_configured() {
    let h = harness().await;
    let req = |auth: Option<&str>| {
        let mut r = Request::get(routes::PARTICIPANTS);
        if let Some(a) = auth {
            r = r.header(header::AUTHORIZATION, a);
        }
        r.body(Body::empty()).expect("request")
    };
    let (status, headers, _) = h.call(req(None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    let (status, _, _) = h.call(req(Some("Bearer wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = h.call(req(Some(&format!("Basic {TOKEN}")))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, body) = h.call(req(Some(&format!("Bearer {TOKEN}")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json"),
        json!({"participants": []})
    );

    let off = harness_with(|c| c.server.admin_token = Secret::default()).await;
    for uri in [routes::PARTICIPANTS, routes::REGISTRY, "/api/v1/queues/X"] {
        let (status, _, _) = off
            .call(
                Request::get(uri)
                    .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn admin_refusals_say_what_to_fix() {
    let h = harness().await;
    let who = identity("agency");
    let p = json!({"name": "ИС", "certificates": [who.cert_pem]});
    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/participants/AGENCY",
            Some(p.clone()),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/mnemonic"), "AGENCY");
    let (status, v) = h
        .json(Method::GET, "/admin/v1/participants/AGENCY", None, true)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(json_str(&v, "/status"), "active");

    // The same certificate for another participant.
    let (status, v) = h
        .json(Method::PUT, "/admin/v1/participants/OTHER", Some(p), true)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(json_str(&v, "/error/message").contains("certificate"), "{v}");

    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/participants/AGENCY",
            Some(json!({"mnemonic": "ELSE", "name": "x"})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/participants/BAD",
            Some(json!({"name": "x", "certificates": ["not a certificate"]})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");

    let infotype = json!({"namespace": REQ_NS, "local_name": "Req", "kind": "request", "provider": "NOBODY"});
    let (status, v) = h
        .json(Method::POST, routes::INFOTYPES, Some(infotype), true)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(json_str(&v, "/error/message").contains("NOBODY"), "{v}");

    let grant = json!({"consumer": "AGENCY", "namespace": REQ_NS, "local_name": "Req"});
    let (status, v) = h.json(Method::POST, routes::GRANTS, Some(grant), true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let uri = format!(
        "{}?consumer=AGENCY&namespace={}&local_name=Req",
        routes::GRANTS,
        "urn:x"
    );
    let (status, v) = h.json(Method::DELETE, &uri, None, true).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");

    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/xsd-sets/set1",
            Some(json!({"files": {"../evil.xsd": "PHgvPg=="}})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/xsd-sets/set1",
            Some(json!({"files": {"a.xsd": "PHNjaGVtYQ=="}})),
            true,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an XSD that does not compile: {v}"
    );
}

#[tokio::test]
async fn registry_exports_and_imports_as_json_with_xsd_sets() {
    use base64::Engine as _;
    let h = harness().await;
    let who = identity("provider");
    let xsd = format!(
        "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"{REQ_NS}\" \
         elementFormDefault=\"qualified\"><xs:element name=\"Req\" type=\"xs:string\"/></xs:schema>"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&xsd);
    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/xsd-sets/req-1.0",
            Some(json!({"files": {"req.xsd": b64}})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["files"], json!(["req.xsd"]));
    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/participants/PROV",
            Some(json!({"name": "Поставщик", "certificates": [who.cert_pem]})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let infotype = json!({"namespace": REQ_NS, "local_name": "Req", "kind": "request", "provider": "PROV", "xsd": "req-1.0"});
    let (status, v) = h
        .json(Method::POST, routes::INFOTYPES, Some(infotype), true)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = h
        .json(
            Method::PUT,
            "/admin/v1/services/req-service",
            Some(json!({"provider": "PROV", "infotypes": [{"namespace": REQ_NS, "local_name": "Req"}]})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    let (status, exported) = h.json(Method::GET, routes::REGISTRY, None, true).await;
    assert_eq!(status, StatusCode::OK, "{exported}");
    assert_eq!(json_str(&exported, "/registry/participant/0/mnemonic"), "PROV");
    assert_eq!(json_str(&exported, "/registry/infotype/0/xsd"), "req-1.0");
    assert_eq!(json_str(&exported, "/registry/service/0/code"), "req-service");
    assert_eq!(json_str(&exported, "/xsdSets/req-1.0/req.xsd"), b64);

    // Import into a fresh node: the same registry results.
    let other = harness().await;
    let (status, v) = other
        .json(Method::PUT, routes::REGISTRY, Some(exported.clone()), true)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["imported"],
        json!({"participants": 1, "infotypes": 1, "services": 1, "grants": 0})
    );
    let (_, again) = other.json(Method::GET, routes::REGISTRY, None, true).await;
    assert_eq!(again, exported);

    // An import that does not check out changes nothing.
    let mut broken = exported.clone();
    broken["xsdSets"] = json!({});
    let (status, v) = other
        .json(Method::PUT, routes::REGISTRY, Some(broken), true)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        !json_str(&v, "/error/message").contains("rsmev-admin-"),
        "no scratch paths: {v}"
    );
    let (_, after) = other.json(Method::GET, routes::REGISTRY, None, true).await;
    assert_eq!(after, exported);
}

// ---- operations --------------------------------------------------------------------------------

#[tokio::test]
async fn readyz_follows_the_store() {
    let h = harness().await;
    let (status, _, _) = h.get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = h.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    h.store.close().await;
    let (status, _, _) = h.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _, body) = h.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("rsmev_store_up 0"));
}

#[tokio::test]
async fn metrics_have_the_expected_families_with_bounded_labels() {
    let h = harness().await;
    h.post_soap("text/xml", unsigned_get_request()).await;
    h.get("/no/such/path/42").await;
    h.get("/api/v1/queues/SOMEONE").await;
    let (status, headers, body) = h.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(body).expect("utf-8");
    for expected in [
        "rsmev_http_requests_total{route=\"/ws\",status=\"500\"} 1",
        "rsmev_http_requests_total{route=\"unmatched\",status=\"404\"} 1",
        "rsmev_http_requests_total{route=\"/api/v1/queues/{mnemonic}\",status=\"401\"} 1",
        "rsmev_http_request_duration_seconds_bucket{route=\"/ws\"",
        "rsmev_operations_total{operation=\"GetRequest\",outcome=\"SignatureVerificationFault\"} 1",
        "rsmev_signature_failures_total{reason=\"NoSignatureFound\"} 1",
        "rsmev_queue_messages{queue=\"requests\"} 0",
        "rsmev_queue_leased_messages{queue=\"statuses\"} 0",
        "rsmev_store_up 1",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
    assert!(!text.contains("/no/such/path"), "raw paths are never labels");
    assert!(!text.contains("SOMEONE"));
}

// ---- OpenAPI -----------------------------------------------------------------------------------

#[tokio::test]
async fn openapi_describes_exactly_the_routes_and_each_reaches_a_handler() {
    let h = harness().await;
    let (status, doc) = h.json(Method::GET, routes::OPENAPI, None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(json_str(&doc, "/openapi").starts_with("3.1"));
    assert_eq!(json_str(&doc, "/servers/0/url"), PUBLIC_URL);
    let paths = doc["paths"].as_object().expect("paths");
    let documented: std::collections::BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .filter(|m| ["get", "put", "post", "delete", "patch"].contains(&m.as_str()))
                .map(move |m| (p.clone(), m.clone()))
        })
        .collect();
    let routed: std::collections::BTreeSet<(String, String)> = routes::ALL
        .iter()
        .flat_map(|(p, methods)| methods.iter().map(move |m| ((*p).to_owned(), (*m).to_owned())))
        .collect();
    assert_eq!(documented, routed);
    // Every $ref resolves.
    let text = doc.to_string();
    for (i, _) in text.match_indices("\"$ref\":\"#/components/") {
        let rest = &text[i + 8..];
        let pointer = &rest[1..rest[1..].find('"').map_or(0, |e| e + 1)];
        assert!(doc.pointer(pointer).is_some(), "unresolved $ref {pointer}");
    }
    for (path, method) in &routed {
        let uri = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{mnemonic}", "X")
            .replace("{code}", "x")
            .replace("{name}", "x");
        let uri = if path == routes::WS && method == "get" {
            format!("{uri}?wsdl")
        } else {
            uri
        };
        let req = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = h.call(req).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert!(
            !String::from_utf8_lossy(&body).contains("noSuchRoute"),
            "{method} {uri} is not routed"
        );
    }
}

#[test]
fn openapi_document_is_json_with_the_required_top_level_fields() {
    let doc = openapi::document_for("http://x").expect("valid JSON");
    for field in ["openapi", "info", "paths", "components"] {
        assert!(doc.get(field).is_some(), "{field}");
    }
    assert!(doc["components"]["securitySchemes"]["adminToken"].is_object());
}

// ---- TLS ---------------------------------------------------------------------------------------

mod tls_tests {
    use std::path::Path;

    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        PKCS_ECDSA_P256_SHA256,
    };
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

    use super::*;
    use crate::config::TlsConfig;

    /// A CA and a certificate it issued.
    struct Pki {
        ca_pem: String,
        ca_der: Vec<u8>,
        cert_pem: String,
        cert_der: Vec<u8>,
        key: KeyPair,
    }

    fn pki(cn: &str, purpose: ExtendedKeyUsagePurpose) -> Pki {
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("ca key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca.distinguished_name.push(DnType::CommonName, format!("{cn} CA"));
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
        let issuer = Issuer::new(ca, &ca_key);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![purpose];
        let cert = params.signed_by(&key, &issuer).expect("cert");
        Pki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().to_vec(),
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key,
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path.display().to_string()
    }

    struct Server {
        addr: std::net::SocketAddr,
        stop: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    /// [`serve`] over TLS on a port of its own, until `stop`.
    async fn start(tls: &TlsConfig) -> Server {
        let h = harness().await;
        let acceptor = tls_acceptor(tls).expect("acceptor").expect("TLS configured");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = h.state.clone();
        let task = tokio::spawn(async move {
            let _store_dir = h;
            serve(listener, state, Surface::Exchange, Some(acceptor), async {
                let _ = stopped.await;
            })
            .await
        });
        Server { addr, stop, task }
    }

    /// GET /healthz over TLS trusting `server_ca`, presenting `client` if given; the raw HTTP
    /// answer, or the error that ended the connection.
    async fn get_healthz(
        addr: std::net::SocketAddr,
        server_ca: &[u8],
        client: Option<&Pki>,
    ) -> Result<String, String> {
        get_over_tls(addr, server_ca, client, "/healthz").await
    }

    async fn get_over_tls(
        addr: std::net::SocketAddr,
        server_ca: &[u8],
        client: Option<&Pki>,
        path: &str,
    ) -> Result<String, String> {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from(server_ca.to_vec())).expect("root");
        let builder = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots);
        let config = match client {
            None => builder.with_no_client_auth(),
            Some(c) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from(c.cert_der.clone())],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(c.key.serialize_der())),
                )
                .expect("client cert"),
        };
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").expect("name");
        let mut tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        tls.read_to_end(&mut out).await.map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[tokio::test]
    async fn https_serves_and_stops_gracefully() {
        let dir = tempfile::tempdir().expect("tempdir");
        let server_pki = pki("server", ExtendedKeyUsagePurpose::ServerAuth);
        let tls = TlsConfig {
            cert: write(dir.path(), "cert.pem", &server_pki.cert_pem),
            key: write(dir.path(), "key.pem", &server_pki.key.serialize_pem()),
            client_ca: String::new(),
        };
        let server = start(&tls).await;
        let answer = get_healthz(server.addr, &server_pki.ca_der, None)
            .await
            .expect("TLS request");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("ok"), "{answer}");
        let _ = server.stop.send(());
        server.task.await.expect("joined").expect("served");
    }

    #[tokio::test]
    async fn client_certificates_are_required_when_a_client_ca_is_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let server_pki = pki("server", ExtendedKeyUsagePurpose::ServerAuth);
        let client_pki = pki("client", ExtendedKeyUsagePurpose::ClientAuth);
        let stranger = pki("stranger", ExtendedKeyUsagePurpose::ClientAuth);
        let tls = TlsConfig {
            cert: write(dir.path(), "cert.pem", &server_pki.cert_pem),
            key: write(dir.path(), "key.pem", &server_pki.key.serialize_pem()),
            client_ca: write(dir.path(), "clients.pem", &client_pki.ca_pem),
        };
        let server = start(&tls).await;
        let answer = get_healthz(server.addr, &server_pki.ca_der, Some(&client_pki))
            .await
            .expect("TLS request with a client certificate");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        for client in [None, Some(&stranger)] {
            let refused = get_healthz(server.addr, &server_pki.ca_der, client).await;
            assert!(
                !refused.as_deref().is_ok_and(|a| a.contains("200 OK")),
                "a client without an accepted certificate was served: {refused:?}"
            );
        }
        let _ = server.stop.send(());
        server.task.await.expect("joined").expect("served");
    }

    /// The wiring of [`crate::node::Node::start`]: TLS from the configuration, the https URL in
    /// the served WSDL, a clean shutdown.
    #[tokio::test]
    async fn a_node_configured_for_tls_serves_its_wsdl_over_https() {
        let dir = tempfile::tempdir().expect("tempdir");
        let server_pki = pki("server", ExtendedKeyUsagePurpose::ServerAuth);
        let mut config = NodeConfig::default();
        config.server.listen = "127.0.0.1:0".parse().expect("addr");
        config.storage.data_dir = dir.path().join("data");
        config.server.tls = TlsConfig {
            cert: write(dir.path(), "cert.pem", &server_pki.cert_pem),
            key: write(dir.path(), "key.pem", &server_pki.key.serialize_pem()),
            client_ca: String::new(),
        };
        let node = crate::node::Node::start(config, Vec::new())
            .await
            .expect("node starts");
        assert!(node.url.starts_with("https://127.0.0.1:"), "{}", node.url);
        let answer = get_over_tls(node.addr, &server_pki.ca_der, None, "/ws?wsdl")
            .await
            .expect("TLS request");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.contains(&format!("location=\"{}/ws\"", node.url)),
            "{answer}"
        );
        node.shutdown().await.expect("stops");
    }

    #[test]
    fn tls_configuration_errors_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.pem").display().to_string();
        let server_pki = pki("server", ExtendedKeyUsagePurpose::ServerAuth);
        let cert = write(dir.path(), "cert.pem", &server_pki.cert_pem);
        let key = write(dir.path(), "key.pem", &server_pki.key.serialize_pem());
        let not_pem = write(dir.path(), "junk.pem", "hello");
        let other_key = write(
            dir.path(),
            "other.pem",
            &KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
                .expect("key")
                .serialize_pem(),
        );
        let cfg = |cert: &str, key: &str, ca: &str| TlsConfig {
            cert: cert.to_owned(),
            key: key.to_owned(),
            client_ca: ca.to_owned(),
        };
        assert!(tls_acceptor(&cfg("", "", "")).expect("plain").is_none());
        assert!(tls_acceptor(&cfg(&cert, &key, "")).expect("tls").is_some());
        let cases = [
            (cfg(&missing, &key, ""), "missing.pem"),
            (cfg(&cert, &missing, ""), "missing.pem"),
            (cfg(&not_pem, &key, ""), "no PEM certificate"),
            (cfg(&cert, &not_pem, ""), "no PEM private key"),
            (cfg(&cert, &other_key, ""), "does not fit"),
            (cfg(&cert, "", ""), "key is empty"),
            (cfg("", "", &cert), "client_ca"),
            (cfg(&cert, &key, &not_pem), "junk.pem"),
        ];
        for (c, expected) in cases {
            let Err(e) = tls_acceptor(&c) else {
                panic!("accepted a configuration that should mention `{expected}`");
            };
            assert!(e.contains(expected), "`{e}` should mention `{expected}`");
        }
    }
}

/// An adapter that only reports a fixed health.
#[derive(Debug)]
struct FixedHealth(&'static str, crate::adapter::AdapterHealth);

#[async_trait::async_trait]
impl crate::adapter::Adapter for FixedHealth {
    fn name(&self) -> &'static str {
        self.0
    }
    async fn run(
        self: Arc<Self>,
        ctx: crate::adapter::AdapterContext,
    ) -> Result<(), crate::adapter::AdapterError> {
        ctx.stopped().await;
        Ok(())
    }
    fn health(&self) -> crate::adapter::AdapterHealth {
        self.1.clone()
    }
}

#[tokio::test]
async fn adapters_report_their_health_to_the_admin_api_and_metrics() {
    use crate::adapter::{AdapterHealth, AdapterSet};
    let h = harness().await;
    let adapters = AdapterSet::new(vec![
        Arc::new(FixedHealth("amqp-gateway", AdapterHealth::Up)),
        Arc::new(FixedHealth(
            "smev3",
            AdapterHealth::Degraded("upstream unreachable".into()),
        )),
    ]);
    let h = Harness {
        router: router(h.state.clone().with_adapters(adapters)),
        ..h
    };
    let (status, body) = h.json(Method::GET, "/admin/v1/adapters", None, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"adapters": [
            {"name": "amqp-gateway", "health": "up", "detail": null},
            {"name": "smev3", "health": "degraded", "detail": "upstream unreachable"},
        ]})
    );
    let (status, _) = h.json(Method::GET, "/admin/v1/adapters", None, false).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "adapter problems are for operators"
    );
    let (_, _, metrics) = h.get("/metrics").await;
    let metrics = String::from_utf8(metrics).expect("utf-8");
    assert!(
        metrics.contains("rsmev_adapter_up{adapter=\"amqp-gateway\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rsmev_adapter_up{adapter=\"smev3\"} 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_process_running_only_adapters_serves_operations_and_no_exchange() {
    let h = harness().await;
    let h = Harness {
        router: operations_router(h.state.clone()),
        ..h
    };
    let (status, _, body) = h.get("/healthz").await;
    assert_eq!((status, body.as_slice()), (StatusCode::OK, b"ok".as_slice()));
    let (status, _, _) = h.get("/readyz").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, metrics) = h.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8_lossy(&metrics).contains("# TYPE"),
        "the metrics in the text format"
    );
    for uri in ["/ws", "/ws?wsdl", "/admin/v1/participants", "/api/v1/queues"] {
        let (status, _, _) = h.get(uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri} is the exchange's");
    }
}

// ---- certificate path validation ([trust]) -----------------------------------------------------

/// A signed GetRequest of `who` as SOAP.
fn signed_get_request(who: &Identity) -> String {
    let selector = selector("SIGNED_BY_CALLER");
    let signature = sign(&selector, "SIGNED_BY_CALLER", who);
    format!(
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>\
         <tns:GetRequestRequest xmlns:tns=\"{TYPES_NS}\">{selector}\
         <tns:CallerInformationSystemSignature>{signature}</tns:CallerInformationSystemSignature>\
         </tns:GetRequestRequest></soap:Body></soap:Envelope>"
    )
}

#[tokio::test]
async fn a_caller_whose_certificate_is_revoked_gets_the_signature_fault() {
    use crate::dsig::trust::tests::{Pki, openssl_or_skip};
    if !openssl_or_skip("exchange_revoked") {
        return;
    }
    let pki = Pki::standard(None);
    pki.issue("good", "Good IS", "int", "leaf", 30);
    pki.revoke("int", "leaf");
    let mut trust = pki.store(crate::dsig::CrlPolicy::Require);
    for ca in ["int", "root"] {
        trust.add_crl(crate::dsig::trust::Crl::from_der(&pki.crl(ca, 24), ca, 1 << 20).expect("crl"));
    }
    let h = harness_with_trust(|_| {}, Some(Arc::new(trust))).await;
    let who = |name: &str| {
        let key = std::fs::read_to_string(pki.path(&format!("{name}.key"))).expect("key");
        let cert_pem = std::fs::read_to_string(pki.path(&format!("{name}.pem"))).expect("cert");
        Identity {
            signer: RingSigner::from_pem(&key, pki.cert(name)).expect("signer"),
            cert_pem,
        }
    };
    let (revoked, good) = (who("leaf"), who("good"));
    let admin = h.admin();
    for (m, id) in [("REVOKED", &revoked), ("GOOD", &good)] {
        admin
            .put_participant(&participant(m, id), Mode::Add)
            .await
            .expect("participant");
    }
    let refused = || {
        h.state
            .exchange
            .metrics()
            .signature_failures
            .with_label_values(&["SignatureIsInvalid"])
            .get()
    };
    let (status, _, text) = h
        .post_soap("text/xml; charset=utf-8", signed_get_request(&good))
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(refused(), 0);
    let (status, _, text) = h
        .post_soap("text/xml; charset=utf-8", signed_get_request(&revoked))
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        text.contains("SignatureVerificationFault") && text.contains("SignatureIsInvalid"),
        "{text}"
    );
    let serial = pki.cert("leaf").serial_hex();
    assert!(
        text.contains(&format!(
            "revoked: serial {serial} (`CN=Agency IS`) by CRL of `CN=Test Issuing CA`"
        )),
        "{text}"
    );
    assert_eq!(refused(), 1, "recorded like every signature refusal");
}
