//! The black-box harness: nodes started in-process on port 0 over a temporary directory,
//! participants with generated keys registered through [`Admin`], and a SOAP client that signs
//! what it sends, checks the node's signature on what comes back and keeps every answer for the
//! conformance check.
//!
//! Tests talk to the node only over HTTP (`POST /ws`); the store is read directly only to check
//! what the history recorded, as an operator would with `rsmev trace`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsmev_broker::admin::{Admin, Mode};

pub(crate) use crate::backend::{Backend, Production, TestDatabase};
use rsmev_broker::config::NodeConfig;
use rsmev_broker::dsig::gost::{GostSigningKey, ParamSet, subject_name};
use rsmev_broker::dsig::{self, Certificate, SignOptions, SignatureAlgorithm, Signer, VerifierRegistry};
use rsmev_broker::envelope::{
    AckRequest, AckTargetMessage, AsyncProcessingStatus, AttachmentContent, AttachmentHeader, DateTime,
    Envelope, Fault, GetIncomingQueueStatisticsRequest, GetRequestRequest, GetResponseRequest,
    GetStatusRequest, InfoTypeName, MessageId, MessageMetadata, MessagePrimaryContent, MessageTypeSelector,
    Request, Response, ResponseContent, SendRequestRequest, SendResponseRequest, SenderProvidedRequestData,
    SenderProvidedResponseData, SignatureRole, Signed, Timestamp, XmlBlock, XmlSignature,
};
use rsmev_broker::node::{Node, RunningNode, generate_self_signed};
use rsmev_broker::store::{EventKind, HistoryEvent, Store};
use rsmev_broker::xml::{Document, Limits, RawElement};
use rsmev_registry::{Grant, InfoType, InfoTypeKind, Mnemonic, ParticipantStatus, QName};
use time::OffsetDateTime;

/// The `Id` the test clients give the element they sign.
pub(crate) const SIGNED_ID: &str = "SIGNED_BY_CONSUMER";

/// What differs between the nodes of the tests; everything else is the default configuration.
#[derive(Debug, Clone)]
pub(crate) struct NodeOptions {
    pub lease_secs: u64,
    pub expiry_interval_secs: u64,
    pub queue_quota: u32,
    /// The node's key and certificate (PEM), written where the node looks for them before it
    /// starts; `None` lets the node generate its ECDSA P-256 key.
    pub node_key: Option<(String, String)>,
    pub backend: Backend,
}

impl NodeOptions {
    /// The defaults, on `backend`.
    pub(crate) fn on(backend: Backend) -> NodeOptions {
        NodeOptions {
            backend,
            ..NodeOptions::default()
        }
    }
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            lease_secs: 60,
            expiry_interval_secs: 60,
            queue_quota: 1000,
            node_key: None,
            backend: Backend::Embedded,
        }
    }
}

/// A node running in this process, its directory, and the log of every answer it gave.
#[derive(Debug)]
pub(crate) struct TestNode {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    pub node: RunningNode,
    /// The temporary directory holding `data/` (store, node key, XSD sets).
    pub dir: tempfile::TempDir,
    /// Every answer body any [`Client`] of this node received, in order.
    pub answers: Arc<Mutex<Vec<String>>>,
    node_certificate: Certificate,
    /// The database and queues of a [`Backend::Production`] node, removed when this is dropped
    /// (held only for that).
    _production: Option<Arc<Production>>,
}

/// The configuration the tests give a node with data in `data_dir`.
pub(crate) fn node_config(data_dir: &Path, opts: &NodeOptions) -> NodeConfig {
    let mut c = NodeConfig::default();
    c.server.listen = "127.0.0.1:0".parse().expect("socket address");
    c.server.shutdown_grace_secs = 5;
    c.storage.data_dir = data_dir.to_owned();
    c.limits.lease_secs = opts.lease_secs;
    c.limits.queue_quota = opts.queue_quota;
    c.background.expiry_interval_secs = opts.expiry_interval_secs;
    c
}

impl TestNode {
    pub(crate) async fn start(opts: NodeOptions) -> TestNode {
        TestNode::start_tweaked(opts, |_| {}).await
    }

    /// [`TestNode::start`] with `tweak` changing the configuration last.
    pub(crate) async fn start_tweaked(opts: NodeOptions, tweak: impl FnOnce(&mut NodeConfig)) -> TestNode {
        let production = match opts.backend {
            Backend::Embedded => None,
            Backend::Production => {
                Some(Arc::new(Production::create().await.expect(
                    "PostgreSQL and RabbitMQ (check Backend::available first)",
                )))
            }
        };
        TestNode::start_with(opts, production, tweak).await
    }

    /// A node on `production`'s database and queues (which other nodes may share), or embedded
    /// when `None`; `tweak` changes its configuration last.
    pub(crate) async fn start_with(
        opts: NodeOptions,
        production: Option<Arc<Production>>,
        tweak: impl FnOnce(&mut NodeConfig),
    ) -> TestNode {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        if let Some((key, cert)) = &opts.node_key {
            std::fs::create_dir_all(&data).expect("data directory");
            std::fs::write(data.join("node-key.pem"), key).expect("node key");
            std::fs::write(data.join("node-cert.pem"), cert).expect("node certificate");
        }
        let mut config = node_config(&data, &opts);
        if let Some(p) = &production {
            p.configure(&mut config);
        }
        tweak(&mut config);
        let adapters = wired_adapters(&config);
        let node = Node::start(config, adapters).await.expect("the node starts");
        let pem = std::fs::read(data.join("node-cert.pem")).expect("the node wrote its certificate");
        let node_certificate = Certificate::from_pem_or_der(&pem).expect("node certificate");
        TestNode {
            url: node.url.clone(),
            node,
            dir,
            answers: Arc::new(Mutex::new(Vec::new())),
            node_certificate,
            _production: production,
        }
    }

    /// On the production backend: waits (up to 10 s) until the outbox is empty, so every copy
    /// is in RabbitMQ and the next lease takes it from there. Nothing to wait for otherwise.
    pub(crate) async fn settle_transport(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while let Some(t) = self.store().transport_stats().await {
            if t.outbox == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the outbox did not drain: {t:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        self.node.exchange.store()
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn admin(&self) -> Admin<'_> {
        Admin::new(self.store().as_ref(), self.data_dir().join("xsd"))
    }

    /// A participant with a new key, registered and active.
    pub(crate) async fn participant(&self, mnemonic: &str) -> Participant {
        let p = Participant::generate(mnemonic);
        self.register(&p).await;
        p
    }

    /// Registers `p` (its mnemonic and certificate) as an active participant.
    pub(crate) async fn register(&self, p: &Participant) {
        register(&self.admin(), p).await;
    }

    /// Blocks a registered participant: it stays known, but the node refuses it.
    pub(crate) async fn block(&self, p: &Participant) {
        let entry = rsmev_registry::Participant {
            status: ParticipantStatus::Blocked,
            ..registry_entry(p)
        };
        self.admin()
            .put_participant(&entry, Mode::Upsert)
            .await
            .unwrap_or_else(|e| panic!("blocking {}: {e}", p.mnemonic));
    }

    /// Stores the XSD set `name` made of `files` (relative name, content).
    pub(crate) async fn xsd_set(&self, name: &str, files: &[(&str, &str)]) {
        let dir = self.dir.path().join("xsd-src").join(name);
        for (file, content) in files {
            std::fs::create_dir_all(&dir).expect("xsd folder");
            std::fs::write(dir.join(file), content).expect("xsd file");
        }
        self.admin()
            .put_xsd_set(name, &dir)
            .await
            .unwrap_or_else(|e| panic!("XSD set {name}: {e}"));
    }

    /// Registers an information type.
    pub(crate) async fn infotype(&self, t: InfoType) {
        self.admin()
            .put_infotype(&t, Mode::Add)
            .await
            .unwrap_or_else(|e| panic!("information type {}: {e}", t.qname));
    }

    /// Grants `consumer` the information type `q`.
    pub(crate) async fn grant(&self, consumer: &Participant, q: &QName) {
        grant(&self.admin(), consumer, q).await;
    }

    /// A SOAP client signing as `who`.
    pub(crate) fn client(&self, who: &Participant) -> Client {
        Client::new(
            &self.url,
            who.clone(),
            self.answers.clone(),
            Some(self.node_certificate.clone()),
        )
    }

    /// The kinds of the history events of message `id`, in order.
    pub(crate) async fn history(&self, id: &str) -> Vec<EventKind> {
        let events = self.store().history(uuid(id)).await.expect("history readable");
        kinds(&events)
    }

    pub(crate) async fn shutdown(self) {
        self.node.shutdown().await.expect("clean shutdown");
    }
}

/// The registry entry of `p`: active, with its certificate.
fn registry_entry(p: &Participant) -> rsmev_registry::Participant {
    rsmev_registry::Participant {
        mnemonic: p.mnemonic.clone(),
        name: format!("Информационная система {}", p.mnemonic),
        organisation: String::new(),
        status: ParticipantStatus::Active,
        certificates: vec![p.cert_pem.clone()],
    }
}

/// Registers `p` through `admin`.
pub(crate) async fn register(admin: &Admin<'_>, p: &Participant) {
    admin
        .put_participant(&registry_entry(p), Mode::Add)
        .await
        .unwrap_or_else(|e| panic!("participant {}: {e}", p.mnemonic));
}

/// Grants `consumer` the information type `q` through `admin`.
pub(crate) async fn grant(admin: &Admin<'_>, consumer: &Participant, q: &QName) {
    admin
        .grant(&Grant {
            consumer: consumer.mnemonic.clone(),
            infotype: q.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("grant of {q} to {}: {e}", consumer.mnemonic));
}

/// An information type with no XSD and no transaction code.
/// Registers `consumer` and `provider`, the request type `InnRequest` (no format control)
/// served by the provider, and the consumer's grant, through `admin`: the registry of the tests
/// that drive a node process they start themselves.
pub(crate) async fn register_inn_pair(admin: &Admin<'_>, consumer: &Participant, provider: &Participant) {
    register(admin, consumer).await;
    register(admin, provider).await;
    admin
        .put_infotype(
            &infotype(&inn_request(), InfoTypeKind::Request, provider),
            Mode::Add,
        )
        .await
        .expect("information type");
    grant(admin, consumer, &inn_request()).await;
}

pub(crate) fn infotype(q: &QName, kind: InfoTypeKind, provider: &Participant) -> InfoType {
    InfoType {
        qname: q.clone(),
        version: "1.0.0".into(),
        kind,
        provider: provider.mnemonic.clone(),
        xsd: None,
        transaction_code_required: false,
        federal: false,
        max_size: None,
        description: String::new(),
    }
}

pub(crate) fn kinds(events: &[HistoryEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.event).collect()
}

pub(crate) fn uuid(id: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("`{id}` is not a UUID: {e}"))
}

/// An information system: its mnemonic, key and certificate.
#[derive(Clone)]
pub(crate) struct Participant {
    pub mnemonic: Mnemonic,
    pub signer: Arc<dyn Signer>,
    pub cert_pem: String,
    /// PKCS#8 PEM of the private key (for clients outside this process).
    pub key_pem: String,
}

impl std::fmt::Debug for Participant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("mnemonic", &self.mnemonic)
            .field("algorithm", &self.signer.algorithm())
            .finish_non_exhaustive()
    }
}

/// A new GOST R 34.10-2012 (256) key on `param_set` and a self-signed certificate for it valid
/// for a year, as PEM (key, certificate).
pub(crate) fn gost_key_pem(cn: &str, param_set: ParamSet) -> (String, String) {
    let key = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, param_set).expect("GOST key");
    let now = OffsetDateTime::now_utc();
    let cert = key
        .self_signed_certificate(
            &subject_name(cn, "RSMEV tests").expect("name"),
            now - time::Duration::minutes(5),
            now + time::Duration::days(365),
        )
        .expect("GOST certificate");
    (
        key.to_pkcs8_pem().expect("PEM").as_str().to_owned(),
        cert.to_pem(),
    )
}

impl Participant {
    /// A new GOST R 34.10-2012 (256) key on `param_set` with a self-signed certificate valid for
    /// a year. Not registered.
    pub(crate) fn with_gost_key(mnemonic: &str, param_set: ParamSet) -> Participant {
        let (key_pem, cert_pem) = gost_key_pem(mnemonic, param_set);
        Participant::from_pem(mnemonic, &key_pem, cert_pem)
    }

    /// A new ECDSA P-256 key with a self-signed certificate valid for a year. Not registered.
    pub(crate) fn generate(mnemonic: &str) -> Participant {
        let (key_pem, cert_pem) = generate_self_signed(mnemonic, "RSMEV tests", 365).expect("key generation");
        Participant::from_pem(mnemonic, &key_pem, cert_pem)
    }

    /// A key whose certificate expired yesterday. Not registered.
    pub(crate) fn with_expired_certificate(mnemonic: &str) -> Participant {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, mnemonic);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(30);
        params.not_after = now - time::Duration::days(1);
        let cert = params.self_signed(&key).expect("certificate");
        Participant::from_pem(mnemonic, &key.serialize_pem(), cert.pem())
    }

    /// An RSA-2048 key (the dsig unit tests' test-only key) with a new self-signed certificate
    /// valid for a year. Not registered.
    pub(crate) fn with_rsa_key(mnemonic: &str) -> Participant {
        const RSA_2048_PKCS8: &str = include_str!("../../broker/src/dsig/testdata/rsa2048.pk8.pem");
        let key = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(RSA_2048_PKCS8, &rcgen::PKCS_RSA_SHA256)
            .expect("RSA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, mnemonic);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::minutes(5);
        params.not_after = now + time::Duration::days(365);
        let cert = params.self_signed(&key).expect("certificate");
        Participant::from_pem(mnemonic, RSA_2048_PKCS8, cert.pem())
    }

    fn from_pem(mnemonic: &str, key_pem: &str, cert_pem: String) -> Participant {
        let certificate = Certificate::from_pem(&cert_pem).expect("certificate");
        let signer = dsig::load_signer(key_pem, certificate).expect("signer");
        Participant {
            mnemonic: Mnemonic::new(mnemonic).expect("mnemonic"),
            signer: Arc::from(signer),
            cert_pem,
            key_pem: key_pem.to_owned(),
        }
    }
}

/// A new sender MessageID: a lower-case time-based (version 1) UUID.
pub(crate) fn new_message_id() -> MessageId {
    MessageId::from_uuid(uuid::Uuid::now_v1(&[0x02, 0x72, 0x73, 0x6d, 0x65, 0x76]))
}

/// A version 1 MessageID whose timestamp is `age` in the past.
pub(crate) fn message_id_of_age(age: time::Duration) -> MessageId {
    let then = OffsetDateTime::now_utc() - age;
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(then.unix_timestamp()).expect("after 1970"),
        0,
    );
    MessageId::from_uuid(uuid::Uuid::new_v1(ts, &[0x02, 0, 0, 0, 0, 1]))
}

pub(crate) fn now() -> DateTime {
    DateTime::new(OffsetDateTime::now_utc()).expect("now is in range")
}

pub(crate) fn raw(xml: &str) -> RawElement {
    RawElement::parse(xml, &Limits::default()).unwrap_or_else(|e| panic!("test XML: {e}\n{xml}"))
}

pub(crate) fn primary_content(xml: &str) -> MessagePrimaryContent {
    MessagePrimaryContent::new(raw(xml)).expect("a qualified business element")
}

/// A request's `SenderProvidedRequestData` with a new MessageID and nothing optional.
pub(crate) fn request_data(payload: &str) -> SenderProvidedRequestData {
    SenderProvidedRequestData {
        id: Some(SIGNED_ID.into()),
        message_id: new_message_id(),
        reference_message_id: None,
        transaction_code: None,
        node_id: None,
        eol: None,
        primary_content: primary_content(payload),
        personal_signature: None,
        attachment_headers: Vec::new(),
        ref_attachment_headers: Vec::new(),
        business_process_metadata: None,
        test_message: false,
    }
}

/// A response's `SenderProvidedResponseData` with a new MessageID.
pub(crate) fn response_data(to: &str, content: ResponseContent) -> SenderProvidedResponseData {
    SenderProvidedResponseData {
        id: Some(SIGNED_ID.into()),
        message_id: new_message_id(),
        to: to.to_owned(),
        content,
    }
}

/// The business answer branch of a response.
pub(crate) fn answer(payload: &str) -> ResponseContent {
    ResponseContent::Answer {
        primary_content: primary_content(payload),
        personal_signature: None,
        attachment_headers: Vec::new(),
        ref_attachment_headers: Vec::new(),
    }
}

/// Seals `value` and signs it with `signer` (exc-c14n + SMEV transform, as participants do).
pub(crate) fn seal_and_sign<T: XmlBlock>(signer: &dyn Signer, value: T) -> (Signed<T>, XmlSignature) {
    let sealed = Signed::sealed(value);
    let xml = sealed.xml();
    let doc = Document::parse(xml.as_bytes(), &Limits::default()).expect("sealed block parses");
    let signature =
        dsig::sign(&doc, doc.root(), signer, &SignOptions::default()).expect("the block can be signed");
    (sealed, XmlSignature::new(signature).expect("a ds:Signature"))
}

/// How [`Client::broken_send_request`] spoils an otherwise correct SendRequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breakage {
    /// No `CallerInformationSystemSignature` at all.
    NoSignature,
    /// A valid signature, but over the business element (given an `Id`) instead of
    /// `SenderProvidedRequestData`.
    SignatureOverAnotherElement,
    /// Signed, then a character of the signed business content changed.
    TamperedContent,
    /// Signed, then `ds:KeyInfo` removed: the node cannot tell whose key it is.
    NoCertificate,
}

/// The node's answer to one SOAP call.
#[derive(Debug)]
pub(crate) struct Answer {
    pub http_status: u16,
    /// The envelope as text; for an MTOM answer, its root part with every `xop:Include`
    /// replaced by the base64 of its part (the XOP infoset).
    pub body: String,
    pub envelope: Envelope,
    /// Whether the answer came as MTOM (`multipart/related`).
    pub mtom: bool,
}

impl Answer {
    /// The fault; panics (showing the answer) when the call succeeded.
    pub(crate) fn fault(&self) -> &Fault {
        match &self.envelope {
            Envelope::Fault(f) => f,
            other => panic!("expected a fault, got {}:\n{}", other.element_name(), self.body),
        }
    }

    /// Checks that the call failed with the 1.3 fault element `name` (and HTTP 500, as SOAP 1.1
    /// over HTTP requires); returns the fault.
    pub(crate) fn expect_fault(&self, name: &str) -> &Fault {
        let fault = self.fault();
        assert_eq!(
            fault.detail.element_name(),
            Some(name),
            "wrong fault ({}):\n{}",
            fault.string,
            self.body
        );
        assert_eq!(self.http_status, 500, "a fault travels with HTTP 500");
        fault
    }

    fn expect_success(&self) {
        if let Envelope::Fault(f) = &self.envelope {
            panic!(
                "expected success, got fault {:?}: {}\n{}",
                f.detail.element_name(),
                f.string,
                self.body
            );
        }
        assert_eq!(self.http_status, 200, "{}", self.body);
    }

    /// The metadata of an accepted SendRequest/SendResponse.
    pub(crate) fn accepted(&self) -> &MessageMetadata {
        self.expect_success();
        match &self.envelope {
            Envelope::SendRequestResponse(r) => &r.metadata,
            Envelope::SendResponseResponse(r) => &r.metadata,
            other => panic!("not a send answer: {}", other.element_name()),
        }
    }

    /// The request of a GetRequest answer; `None` when the queue was empty.
    pub(crate) fn request(&self) -> Option<&Request> {
        self.expect_success();
        match &self.envelope {
            Envelope::GetRequestResponse(r) => r.message.as_ref().map(|m| m.request.value()),
            other => panic!("not a GetRequest answer: {}", other.element_name()),
        }
    }

    /// The response of a GetResponse answer; `None` when the queue was empty.
    pub(crate) fn response(&self) -> Option<&Response> {
        self.expect_success();
        match &self.envelope {
            Envelope::GetResponseResponse(r) => r.message.as_ref().map(|m| m.response.value()),
            other => panic!("not a GetResponse answer: {}", other.element_name()),
        }
    }

    /// The status of a GetStatus answer; `None` when there was none.
    pub(crate) fn status(&self) -> Option<&AsyncProcessingStatus> {
        self.expect_success();
        match &self.envelope {
            Envelope::GetStatusResponse(r) => r.message.as_ref().map(|m| &m.data.value().status),
            other => panic!("not a GetStatus answer: {}", other.element_name()),
        }
    }

    pub(crate) fn expect_ack(&self) {
        self.expect_success();
        assert!(
            matches!(self.envelope, Envelope::AckResponse),
            "not an AckResponse:\n{}",
            self.body
        );
    }
}

/// The request a GetRequest handed out, or a panic naming the empty queue.
pub(crate) fn delivered(answer: &Answer) -> &Request {
    answer
        .request()
        .unwrap_or_else(|| panic!("the request queue was empty:\n{}", answer.body))
}

/// The response a GetResponse handed out, or a panic naming the empty queue.
pub(crate) fn delivered_response(answer: &Answer) -> &Response {
    answer
        .response()
        .unwrap_or_else(|| panic!("the response queue was empty:\n{}", answer.body))
}

/// A SOAP 1.1 client of one node, signing as one participant.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    endpoint: String,
    pub who: Participant,
    answers: Arc<Mutex<Vec<String>>>,
    /// When known, every node signature on an answer must be made with this certificate.
    node_certificate: Option<Certificate>,
}

impl Client {
    pub(crate) fn new(
        url: &str,
        who: Participant,
        answers: Arc<Mutex<Vec<String>>>,
        node_certificate: Option<Certificate>,
    ) -> Client {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        Client {
            http,
            endpoint: format!("{url}/ws"),
            who,
            answers,
            node_certificate,
        }
    }

    /// The same client signing as someone else.
    pub(crate) fn as_participant(&self, who: &Participant) -> Client {
        Client {
            who: who.clone(),
            ..self.clone()
        }
    }

    /// The same participant talking to another node address (a restarted node).
    pub(crate) fn at(&self, url: &str) -> Client {
        Client {
            endpoint: format!("{url}/ws"),
            ..self.clone()
        }
    }

    fn sign<T: XmlBlock>(&self, value: T) -> (Signed<T>, XmlSignature) {
        seal_and_sign(self.who.signer.as_ref(), value)
    }

    // ---- envelopes ---------------------------------------------------------------------------

    /// A signed SendRequest of `payload`; `edit` may change the data before it is signed.
    pub(crate) fn send_request_xml(
        &self,
        payload: &str,
        edit: impl FnOnce(&mut SenderProvidedRequestData),
    ) -> String {
        let mut data = request_data(payload);
        edit(&mut data);
        let (sender_provided, signature) = self.sign(data);
        Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided,
            attachments: Vec::new(),
            caller_signature: Some(signature),
            routing: None,
        })
        .to_xml()
    }

    /// A signed SendResponse answering the request whose `ReplyTo` is `to`.
    pub(crate) fn send_response_xml(
        &self,
        to: &str,
        content: ResponseContent,
        edit: impl FnOnce(&mut SenderProvidedResponseData),
    ) -> String {
        let mut data = response_data(to, content);
        edit(&mut data);
        let (sender_provided, signature) = self.sign(data);
        Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided,
            attachments: Vec::new(),
            caller_signature: Some(signature),
        })
        .to_xml()
    }

    fn selector(&self, info_type: Option<&QName>) -> (Signed<MessageTypeSelector>, XmlSignature) {
        self.sign(MessageTypeSelector {
            id: Some(SIGNED_ID.into()),
            info_type: info_type.map(|q| InfoTypeName {
                namespace_uri: q.namespace.clone(),
                local_name: q.local_name.clone(),
            }),
            timestamp: now(),
            node_id: None,
        })
    }

    /// A SendRequest that is wrong in the way `how` says.
    pub(crate) fn broken_send_request(&self, payload: &str, how: Breakage) -> String {
        match how {
            Breakage::NoSignature => Envelope::SendRequestRequest(SendRequestRequest {
                sender_provided: Signed::sealed(request_data(payload)),
                attachments: Vec::new(),
                caller_signature: None,
                routing: None,
            })
            .to_xml(),
            Breakage::SignatureOverAnotherElement => {
                // The business element gets an Id of its own, and that is what is signed.
                let (element, signature) = {
                    let with_id = add_id(payload, "PAYLOAD");
                    let doc =
                        Document::parse(with_id.as_bytes(), &Limits::default()).expect("payload parses");
                    let signature = dsig::sign(
                        &doc,
                        doc.root(),
                        self.who.signer.as_ref(),
                        &SignOptions::default(),
                    )
                    .expect("payload can be signed");
                    (with_id, XmlSignature::new(signature).expect("a ds:Signature"))
                };
                Envelope::SendRequestRequest(SendRequestRequest {
                    sender_provided: Signed::sealed(request_data(&element)),
                    attachments: Vec::new(),
                    caller_signature: Some(signature),
                    routing: None,
                })
                .to_xml()
            }
            Breakage::TamperedContent => {
                let xml = self.send_request_xml(payload, |_| {});
                let (start, end) = text_span(&xml, payload);
                let mut tampered = xml.clone();
                // Change the last character of the business element's text content.
                let text = &xml[start..end];
                let at = start
                    + text
                        .rfind(|c: char| c.is_ascii_digit())
                        .expect("the payload has a digit to change");
                let digit = xml.as_bytes()[at];
                let other = if digit == b'9' { b'0' } else { digit + 1 };
                tampered.replace_range(at..=at, &char::from(other).to_string());
                assert_ne!(tampered, xml);
                tampered
            }
            Breakage::NoCertificate => {
                let xml = self.send_request_xml(payload, |_| {});
                let start = xml.find("<ds:KeyInfo>").expect("ds:KeyInfo");
                let end = xml.find("</ds:KeyInfo>").expect("ds:KeyInfo end") + "</ds:KeyInfo>".len();
                let mut stripped = xml.clone();
                stripped.replace_range(start..end, "");
                stripped
            }
        }
    }

    // ---- operations --------------------------------------------------------------------------

    pub(crate) async fn send_request(&self, payload: &str) -> Answer {
        self.post(&self.send_request_xml(payload, |_| {})).await
    }

    pub(crate) async fn send_request_with(
        &self,
        payload: &str,
        edit: impl FnOnce(&mut SenderProvidedRequestData),
    ) -> Answer {
        self.post(&self.send_request_xml(payload, edit)).await
    }

    pub(crate) async fn send_response(&self, to: &str, content: ResponseContent) -> Answer {
        self.post(&self.send_response_xml(to, content, |_| {})).await
    }

    /// GetRequest, for any type (`None`) or the type `q`.
    pub(crate) async fn get_request(&self, q: Option<&QName>) -> Answer {
        self.get_request_waiting(q, None).await
    }

    /// GetRequest with the long-poll extension `?wait=SECS`.
    pub(crate) async fn get_request_waiting(&self, q: Option<&QName>, wait_secs: Option<u64>) -> Answer {
        self.post_to(&self.get_request_xml(q), wait_secs).await
    }

    /// A signed GetRequest for any type (`None`) or the type `q`.
    pub(crate) fn get_request_xml(&self, q: Option<&QName>) -> String {
        let (selector, signature) = self.selector(q);
        Envelope::GetRequestRequest(GetRequestRequest {
            selector,
            caller_signature: Some(signature),
        })
        .to_xml()
    }

    pub(crate) async fn get_response(&self, q: Option<&QName>) -> Answer {
        self.get_response_waiting(q, None).await
    }

    pub(crate) async fn get_response_waiting(&self, q: Option<&QName>, wait_secs: Option<u64>) -> Answer {
        let (selector, signature) = self.selector(q);
        let xml = Envelope::GetResponseRequest(GetResponseRequest {
            selector,
            caller_signature: Some(signature),
        })
        .to_xml();
        self.post_to(&xml, wait_secs).await
    }

    pub(crate) async fn get_status(&self) -> Answer {
        let (timestamp, signature) = self.sign(Timestamp {
            id: Some(SIGNED_ID.into()),
            value: now(),
        });
        let xml = Envelope::GetStatusRequest(GetStatusRequest {
            timestamp,
            caller_signature: signature,
        })
        .to_xml();
        self.post(&xml).await
    }

    /// GetIncomingQueueStatistics (RSMEV extension), signed over its Timestamp.
    pub(crate) async fn queue_statistics(&self) -> Answer {
        let (timestamp, signature) = self.sign(Timestamp {
            id: Some(SIGNED_ID.into()),
            value: now(),
        });
        let xml = Envelope::GetIncomingQueueStatisticsRequest(GetIncomingQueueStatisticsRequest {
            node_id: None,
            timestamp,
            caller_signature: Some(signature),
        })
        .to_xml();
        self.post(&xml).await
    }

    /// Ack of the message `message_id` (`accepted="true"`).
    pub(crate) async fn ack(&self, message_id: &MessageId) -> Answer {
        self.post(&self.ack_xml(message_id)).await
    }

    /// A signed Ack of `message_id` (accepted).
    pub(crate) fn ack_xml(&self, message_id: &MessageId) -> String {
        let (target, signature) = self.sign(AckTargetMessage {
            id: SIGNED_ID.into(),
            accepted: Some(true),
            message_id: message_id.clone(),
        });
        Envelope::AckRequest(AckRequest {
            target,
            caller_signature: Some(signature),
        })
        .to_xml()
    }

    /// POSTs a SOAP envelope to `/ws` and reads the answer.
    pub(crate) async fn post(&self, xml: &str) -> Answer {
        self.post_to(xml, None).await
    }

    async fn post_to(&self, xml: &str, wait_secs: Option<u64>) -> Answer {
        match self.try_post(xml, wait_secs).await {
            Ok(a) => a,
            Err(e) => panic!("POST {}: {e}", self.endpoint),
        }
    }

    /// Like [`Client::post`], but a transport failure (a node that is down) is returned, not a
    /// panic.
    ///
    /// # Errors
    /// The transport error.
    pub(crate) async fn try_post(&self, xml: &str, wait_secs: Option<u64>) -> Result<Answer, reqwest::Error> {
        let url = match wait_secs {
            Some(w) => format!("{}?wait={w}", self.endpoint),
            None => self.endpoint.clone(),
        };
        let action = soap_action(xml);
        let mut request = self
            .http
            .post(url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(xml.to_owned());
        if let Some(action) = action {
            request = request.header("SOAPAction", action);
        }
        let response = request.send().await?;
        self.read_response(response).await
    }

    /// Reads an HTTP answer: a SOAP envelope, or an MTOM message whose root part is one.
    async fn read_response(&self, response: reqwest::Response) -> Result<Answer, reqwest::Error> {
        let http_status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await?;
        if !content_type.starts_with("multipart/related") {
            let body = String::from_utf8(bytes.to_vec()).expect("a SOAP answer is UTF-8");
            return Ok(self.read_answer(http_status, body));
        }
        let root = rsmev_broker::api::mtom::envelope(&content_type, &bytes, &Limits::default())
            .unwrap_or_else(|e| panic!("the node's MTOM answer cannot be read: {e}"));
        let body = String::from_utf8(root).expect("the root part is UTF-8");
        Ok(Answer {
            mtom: true,
            ..self.read_answer(http_status, body)
        })
    }

    /// POSTs `envelope` framed as `framing` (see [`Framing::Mtom`] for how MTOM is written).
    pub(crate) async fn post_framed(&self, envelope: &Envelope, framing: Framing) -> Answer {
        let xml = envelope.to_xml();
        if framing == Framing::Plain {
            return self.post(&xml).await;
        }
        let (content_type, body) = mtom_request(envelope);
        let mut request = self
            .http
            .post(&self.endpoint)
            .header("Content-Type", content_type)
            .body(body);
        if let Some(action) = soap_action(&xml) {
            request = request.header("SOAPAction", action);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {}: {e}", self.endpoint));
        self.read_response(response)
            .await
            .unwrap_or_else(|e| panic!("POST {}: {e}", self.endpoint))
    }

    /// A signed SendRequest of `payload` announcing `headers` in its signed data and carrying
    /// `contents` (which need not match them: tests of the refusal).
    pub(crate) fn attached_request(
        &self,
        payload: &str,
        headers: Vec<AttachmentHeader>,
        contents: Vec<AttachmentContent>,
    ) -> Envelope {
        let mut data = request_data(payload);
        data.attachment_headers = headers;
        let (sender_provided, signature) = self.sign(data);
        Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided,
            attachments: contents,
            caller_signature: Some(signature),
            routing: None,
        })
    }

    /// A signed SendResponse answering `to` with `payload`, announcing `headers` and carrying
    /// `contents`.
    pub(crate) fn attached_response(
        &self,
        to: &str,
        payload: &str,
        headers: Vec<AttachmentHeader>,
        contents: Vec<AttachmentContent>,
    ) -> Envelope {
        let content = ResponseContent::Answer {
            primary_content: primary_content(payload),
            personal_signature: None,
            attachment_headers: headers,
            ref_attachment_headers: Vec::new(),
        };
        let (sender_provided, signature) = self.sign(response_data(to, content));
        Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided,
            attachments: contents,
            caller_signature: Some(signature),
        })
    }

    /// A signed GetRequest (`responses` false) or GetResponse for any type.
    pub(crate) fn poll_envelope(&self, responses: bool) -> Envelope {
        let (selector, signature) = self.selector(None);
        if responses {
            Envelope::GetResponseRequest(GetResponseRequest {
                selector,
                caller_signature: Some(signature),
            })
        } else {
            Envelope::GetRequestRequest(GetRequestRequest {
                selector,
                caller_signature: Some(signature),
            })
        }
    }

    pub(crate) fn read_answer(&self, http_status: u16, body: String) -> Answer {
        self.answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(body.clone());
        let parsed = Envelope::parse(body.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("the node's answer is not a 1.3 envelope ({e}):\n{body}"));
        // Every block the node signs must verify, with the node's own certificate.
        if let Some(site) = parsed.site(SignatureRole::Smev) {
            let signature = site
                .signature
                .unwrap_or_else(|| panic!("the node left its answer unsigned:\n{body}"));
            let verified = dsig::verify(
                parsed.document(),
                signature,
                site.target,
                OffsetDateTime::now_utc(),
                &VerifierRegistry::default(),
            )
            .unwrap_or_else(|e| panic!("the node's signature does not verify: {e}\n{body}"));
            if let Some(expected) = &self.node_certificate {
                assert_eq!(
                    &*verified.certificate, expected,
                    "the node signed with another certificate"
                );
            }
        }
        Answer {
            http_status,
            body,
            envelope: parsed.into_envelope(),
            mtom: false,
        }
    }
}

/// How a [`Client`] frames what it POSTs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `text/xml`: attachment contents are base64 text inside the envelope.
    Plain,
    /// MTOM as Apache CXF sends it: `multipart/related`, the envelope as the root part
    /// (`application/xop+xml`), each attachment content a binary part named by an
    /// `xop:Include` in its `Content`.
    Mtom,
}

/// `(Content-Type, body)` of `envelope` sent as MTOM. Written here, independently of the node's
/// own MTOM writer: the envelope with empty contents, each `Content` then given its include.
pub(crate) fn mtom_request(envelope: &Envelope) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "uuid:5b3e0a1c-client-boundary";
    let mut stripped = envelope.clone();
    let contents = match &mut stripped {
        Envelope::SendRequestRequest(r) => std::mem::take(&mut r.attachments),
        Envelope::SendResponseRequest(r) => std::mem::take(&mut r.attachments),
        _ => Vec::new(),
    };
    let mut emptied = contents.clone();
    for c in &mut emptied {
        c.content.clear();
    }
    match &mut stripped {
        Envelope::SendRequestRequest(r) => r.attachments = emptied,
        Envelope::SendResponseRequest(r) => r.attachments = emptied,
        _ => {}
    }
    let mut root = stripped.to_xml();
    for n in 0..contents.len() {
        let empty = "<basic:Content></basic:Content>";
        let at = root.find(empty).expect("an empty Content per attachment");
        let include = format!(
            "<basic:Content><xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" \
             href=\"cid:part{n}%40client\"/></basic:Content>"
        );
        root.replace_range(at..at + empty.len(), &include);
    }
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"text/xml\"\r\n\
         Content-Transfer-Encoding: binary\r\nContent-ID: <root.message@cxf.apache.org>\r\n\r\n{root}\r\n"
    )
    .into_bytes();
    for (n, c) in contents.iter().enumerate() {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Type: application/octet-stream\r\n\
                 Content-Transfer-Encoding: binary\r\nContent-ID: <part{n}@client>\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&c.content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let content_type = format!(
        "multipart/related; type=\"application/xop+xml\"; boundary=\"{BOUNDARY}\"; \
         start=\"<root.message@cxf.apache.org>\"; start-info=\"text/xml\""
    );
    (content_type, body)
}

/// The header announcing an attachment `content_id` of type `mime_type`.
pub(crate) fn attachment_header(content_id: &str, mime_type: &str) -> AttachmentHeader {
    AttachmentHeader {
        content_id: content_id.to_owned(),
        namespace_uri: None,
        mime_type: mime_type.to_owned(),
        signature_pkcs7: None,
        archive: Vec::new(),
    }
}

/// The content of attachment `id`.
pub(crate) fn attachment_content(id: &str, content: &[u8]) -> AttachmentContent {
    AttachmentContent {
        id: id.to_owned(),
        content: content.to_vec(),
    }
}

/// The attachment contents of a GetRequest/GetResponse answer.
pub(crate) fn delivered_attachments(answer: &Answer) -> &[AttachmentContent] {
    match &answer.envelope {
        Envelope::GetRequestResponse(r) => r.message.as_ref().map_or(&[], |m| &m.attachments),
        Envelope::GetResponseResponse(r) => r.message.as_ref().map_or(&[], |m| &m.attachments),
        other => panic!("not a GetRequest/GetResponse answer: {}", other.element_name()),
    }
}

/// `SOAPAction` of the operation element in `xml`, as the binding names it.
fn soap_action(xml: &str) -> Option<&'static str> {
    [
        ("SendRequestRequest", "urn:SendRequest"),
        ("SendResponseRequest", "urn:SendResponse"),
        ("GetRequestRequest", "urn:GetRequest"),
        ("GetResponseRequest", "urn:GetResponse"),
        ("GetStatusRequest", "urn:GetStatus"),
        ("AckRequest", "urn:Ack"),
    ]
    .into_iter()
    .find(|(element, _)| xml.contains(&format!(":{element}")))
    .map(|(_, action)| action)
}

/// `payload` with `Id="id"` on its root element.
fn add_id(payload: &str, id: &str) -> String {
    let mut end = payload.find('>').expect("the payload has a start tag");
    if payload[..end].ends_with('/') {
        end -= 1;
    }
    format!("{} Id=\"{id}\"{}", &payload[..end], &payload[end..])
}

/// Byte range of `needle` in `haystack`.
fn text_span(haystack: &str, needle: &str) -> (usize, usize) {
    let start = haystack
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the envelope"));
    (start, start + needle.len())
}

/// Polls `check` up to `attempts` times, sleeping `every` between attempts, until it returns
/// `Some`. For waiting on background work (a lease running out, an expiry pass): the test
/// asserts on what happened, never on how long it took.
pub(crate) async fn eventually<T, F, Fut>(attempts: u32, every: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..attempts {
        if let Some(v) = check().await {
            return Some(v);
        }
        tokio::time::sleep(every).await;
    }
    None
}

impl Answer {
    /// Verifies the original sender's signature relayed in a delivered `Request`/`Response`
    /// (`SenderInformationSystemSignature` over the sender's block, byte for byte as signed)
    /// and returns the certificate it was made with.
    pub(crate) fn relayed_sender_certificate(&self) -> Certificate {
        let parsed = Envelope::parse(self.body.as_bytes(), &Limits::default()).expect("answer parses");
        let site = parsed
            .site(SignatureRole::Sender)
            .unwrap_or_else(|| panic!("no relayed sender signature site:\n{}", self.body));
        let signature = site
            .signature
            .unwrap_or_else(|| panic!("the sender's signature was not relayed:\n{}", self.body));
        dsig::verify(
            parsed.document(),
            signature,
            site.target,
            OffsetDateTime::now_utc(),
            &VerifierRegistry::default(),
        )
        .unwrap_or_else(|e| panic!("the relayed sender signature does not verify: {e}\n{}", self.body))
        .certificate
        .as_ref()
        .clone()
    }
}

/// The business namespace of the test information types.
pub(crate) const INN_NS: &str = "urn://rsmev/test/inn/1.0.0";

/// Format control of the test types: two typed fields in the request, one in the response.
pub(crate) const INN_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn://rsmev/test/inn/1.0.0"
           elementFormDefault="qualified">
  <xs:element name="InnRequest">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="PersonId" type="xs:integer"/>
        <xs:element name="BirthDate" type="xs:date"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="InnResponse">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Inn" type="xs:integer"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"#;

pub(crate) fn inn_request() -> QName {
    QName::new(INN_NS, "InnRequest")
}

pub(crate) fn inn_response() -> QName {
    QName::new(INN_NS, "InnResponse")
}

/// An `InnRequest` business document (valid when the values are an integer and a date).
pub(crate) fn inn_request_payload(person_id: &str, birth_date: &str) -> String {
    format!(
        r#"<t:InnRequest xmlns:t="{INN_NS}"><t:PersonId>{person_id}</t:PersonId><t:BirthDate>{birth_date}</t:BirthDate></t:InnRequest>"#
    )
}

/// An `InnResponse` business document.
pub(crate) fn inn_response_payload(inn: &str) -> String {
    format!(r#"<t:InnResponse xmlns:t="{INN_NS}"><t:Inn>{inn}</t:Inn></t:InnResponse>"#)
}

/// The registry most tests need: a consumer `MFC` granted `InnRequest`, which the provider `FNS`
/// serves and answers with `InnResponse`, both under format control.
#[derive(Debug)]
pub(crate) struct World {
    pub node: TestNode,
    pub consumer: Client,
    pub provider: Client,
}

impl World {
    pub(crate) async fn start(opts: NodeOptions) -> World {
        World::with_participants(opts, Participant::generate("MFC"), Participant::generate("FNS")).await
    }

    /// [`World::start`] with the consumer and the provider given (their keys of any algorithm).
    pub(crate) async fn with_participants(
        opts: NodeOptions,
        consumer: Participant,
        provider: Participant,
    ) -> World {
        World::around(TestNode::start(opts).await, consumer, provider).await
    }

    /// The registry of [`World::start`] on `node`, through it.
    pub(crate) async fn around(node: TestNode, consumer: Participant, provider: Participant) -> World {
        node.register(&consumer).await;
        node.register(&provider).await;
        node.xsd_set("inn", &[("inn.xsd", INN_XSD)]).await;
        node.infotype(InfoType {
            xsd: Some("inn".into()),
            ..infotype(&inn_request(), InfoTypeKind::Request, &provider)
        })
        .await;
        node.infotype(InfoType {
            xsd: Some("inn".into()),
            ..infotype(&inn_response(), InfoTypeKind::Response, &provider)
        })
        .await;
        node.grant(&consumer, &inn_request()).await;
        World {
            consumer: node.client(&consumer),
            provider: node.client(&provider),
            node,
        }
    }

    /// The consumer sends a valid `InnRequest`; returns its MessageID (accepted).
    pub(crate) async fn request(&self) -> MessageId {
        let answer = self
            .consumer
            .send_request(&inn_request_payload("12345678901", "1990-01-02"))
            .await;
        answer
            .accepted()
            .message_id
            .clone()
            .expect("the accepted metadata names the MessageID")
    }

    /// The provider takes the next request; returns it (with the answer it came in).
    pub(crate) async fn provider_takes(&self) -> Answer {
        let answer = self.provider.get_request(None).await;
        delivered(&answer);
        answer
    }
}

/// The adapters `rsmev serve` wires for `config` (`rsmev_ops::wiring`): the AMQP gateway when
/// RabbitMQ is configured, the federal link when `[federal]` is.
pub(crate) fn wired_adapters(config: &NodeConfig) -> Vec<std::sync::Arc<dyn rsmev_broker::adapter::Adapter>> {
    rsmev_ops::wiring::adapters(config).expect("the adapters' settings are usable")
}
