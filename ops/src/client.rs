//! A participant's SOAP client of the node, as `rsmev demo` uses it: builds the 1.3 envelopes
//! with the envelope types, seals and signs their signed block (ЭП-ОВ: exclusive c14n then the
//! SMEV transform, as SMEV 3 clients do), posts them to `<url>/ws`, parses the answer and checks
//! every signature in it (the node's ЭП-СМЭВ, and the original sender's signature relayed in a
//! `Request`/`Response`).
//!
//! A fault answer is an error naming the fault and its description.

use anyhow::{Context as _, anyhow};
use rsmev_broker::dsig::{self, RingSigner, SignOptions, TransformChain, VerifierRegistry};
use rsmev_broker::envelope::{
    AckRequest, AckTargetMessage, DateTime, Envelope, GetRequestRequest, GetResponseRequest, InfoTypeName,
    MessageId, MessageMetadata, MessagePrimaryContent, MessageTypeSelector, Operation, ParsedEnvelope,
    Request, Response, ResponseContent, SendRequestRequest, SendResponseRequest, SenderProvidedRequestData,
    SenderProvidedResponseData, SignatureRole, Signed, XmlBlock, XmlSignature,
};
use rsmev_broker::xml::{Document, Limits, RawElement};

/// The `Id` this client gives the blocks it signs.
const REQUEST_DATA_ID: &str = "SIGNED_BY_CONSUMER";
const RESPONSE_DATA_ID: &str = "SIGNED_BY_PROVIDER";
const CALLER_ID: &str = "SIGNED_BY_CALLER";

/// One participant talking to one node.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// `<url>/ws`.
    endpoint: String,
    signer: RingSigner,
    /// The 6 bytes of the UUID v1 node field of the MessageIDs this client makes.
    uuid_node: [u8; 6],
    /// Whether the signatures of the node's answers are verified (off for load generation).
    check_answers: bool,
}

/// The node answered with a SOAP fault: the error of a call, findable with
/// `anyhow::Error::downcast_ref`.
#[derive(Debug, Clone)]
pub(crate) struct NodeFault {
    pub operation: &'static str,
    /// The fault's detail element name (e.g. `AccessDenied`), `Fault` when it has none.
    pub name: String,
    pub description: String,
}

impl std::fmt::Display for NodeFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} refused by the node: {}: {}",
            self.operation, self.name, self.description
        )
    }
}

impl std::error::Error for NodeFault {}

/// An answer of the node with the signatures found in it, all verified.
#[derive(Debug)]
pub(crate) struct Answer<T> {
    pub value: T,
    pub signatures: Vec<CheckedSignature>,
}

/// A signature of an answer that verified: whose it is and the certificate subject.
#[derive(Debug, Clone)]
pub(crate) struct CheckedSignature {
    pub role: SignatureRole,
    pub subject: String,
}

impl CheckedSignature {
    /// E.g. `node CN=RSMEV`: the role and the certificate's common name (or whole subject).
    pub(crate) fn describe(&self) -> String {
        let role = match self.role {
            SignatureRole::Smev => "node",
            SignatureRole::Sender => "sender",
            SignatureRole::Caller => "caller",
            SignatureRole::Personal => "personal",
            SignatureRole::Routing => "routing",
        };
        let name = self
            .subject
            .split(", ")
            .find(|part| part.starts_with("CN="))
            .unwrap_or(&self.subject);
        format!("{role} {name}")
    }
}

impl Client {
    /// A client of the node at `base_url` (without `/ws`) signing with `signer`.
    pub(crate) fn new(base_url: &str, signer: RingSigner) -> Client {
        let random = uuid::Uuid::new_v4();
        let mut uuid_node = [0u8; 6];
        uuid_node.copy_from_slice(&random.as_bytes()[..6]);
        Client {
            http: reqwest::Client::new(),
            endpoint: format!("{}/ws", base_url.trim_end_matches('/')),
            signer,
            uuid_node,
            check_answers: true,
        }
    }

    /// The same client, not verifying the signatures of the node's answers: a load generator
    /// that spends its CPU on sending. Answers then list no signatures.
    pub(crate) fn without_answer_checks(mut self) -> Client {
        self.check_answers = false;
        self
    }

    /// A new MessageID: a lower-case time-based (version 1) UUID, as SMEV requires.
    pub(crate) fn new_message_id(&self) -> MessageId {
        MessageId::new_v1(&self.uuid_node)
    }

    /// SendRequest with `document` (the business XML, its root in its own namespace) as
    /// `MessagePrimaryContent`.
    ///
    /// # Errors
    /// The document is not acceptable XML, the exchange fails, or the node answers with a fault.
    pub(crate) async fn send_request(
        &self,
        message_id: MessageId,
        document: &str,
    ) -> anyhow::Result<Answer<MessageMetadata>> {
        let data = SenderProvidedRequestData {
            id: Some(REQUEST_DATA_ID.into()),
            message_id,
            reference_message_id: None,
            transaction_code: None,
            node_id: None,
            eol: None,
            primary_content: primary_content(document)?,
            personal_signature: None,
            attachment_headers: Vec::new(),
            ref_attachment_headers: Vec::new(),
            business_process_metadata: None,
            test_message: false,
        };
        let (sender_provided, signature) = self.seal_and_sign(data)?;
        let envelope = Envelope::SendRequestRequest(SendRequestRequest {
            sender_provided,
            attachments: Vec::new(),
            caller_signature: Some(signature),
            routing: None,
        });
        let (answer, signatures) = self.call(Operation::SendRequest, &envelope, None).await?;
        match answer {
            Envelope::SendRequestResponse(r) => Ok(Answer {
                value: r.metadata.into_value(),
                signatures,
            }),
            other => unexpected(Operation::SendRequest, &other),
        }
    }

    /// GetRequest: lease the next request of `info_type` (any type when `None`) from this
    /// participant's queue, waiting up to `wait_secs` for one. `None` when the queue is empty.
    ///
    /// # Errors
    /// The exchange fails, or the node answers with a fault.
    pub(crate) async fn get_request(
        &self,
        info_type: Option<InfoTypeName>,
        wait_secs: Option<u64>,
    ) -> anyhow::Result<Answer<Option<Request>>> {
        let (selector, signature) = self.seal_and_sign(selector(info_type))?;
        let envelope = Envelope::GetRequestRequest(GetRequestRequest {
            selector,
            caller_signature: Some(signature),
        });
        let (answer, signatures) = self.call(Operation::GetRequest, &envelope, wait_secs).await?;
        match answer {
            Envelope::GetRequestResponse(r) => Ok(Answer {
                value: r.message.map(|m| m.request.into_value()),
                signatures,
            }),
            other => unexpected(Operation::GetRequest, &other),
        }
    }

    /// GetResponse: lease the next response (any type when `info_type` is `None`).
    ///
    /// # Errors
    /// The exchange fails, or the node answers with a fault.
    pub(crate) async fn get_response(
        &self,
        info_type: Option<InfoTypeName>,
        wait_secs: Option<u64>,
    ) -> anyhow::Result<Answer<Option<Response>>> {
        let (selector, signature) = self.seal_and_sign(selector(info_type))?;
        let envelope = Envelope::GetResponseRequest(GetResponseRequest {
            selector,
            caller_signature: Some(signature),
        });
        let (answer, signatures) = self.call(Operation::GetResponse, &envelope, wait_secs).await?;
        match answer {
            Envelope::GetResponseResponse(r) => Ok(Answer {
                value: r.message.map(|m| m.response.into_value()),
                signatures,
            }),
            other => unexpected(Operation::GetResponse, &other),
        }
    }

    /// Ack: confirm a leased message, which leaves the queue for good.
    ///
    /// # Errors
    /// The exchange fails, or the node answers with a fault (`TargetMessageIsNotFound`…).
    pub(crate) async fn ack(&self, message_id: &MessageId) -> anyhow::Result<()> {
        let (target, signature) = self.seal_and_sign(AckTargetMessage {
            id: CALLER_ID.into(),
            accepted: Some(true),
            message_id: message_id.clone(),
        })?;
        let envelope = Envelope::AckRequest(AckRequest {
            target,
            caller_signature: Some(signature),
        });
        match self.call(Operation::Ack, &envelope, None).await?.0 {
            Envelope::AckResponse => Ok(()),
            other => unexpected(Operation::Ack, &other),
        }
    }

    /// SendResponse: answer the request whose `ReplyTo` was `to` with `document`.
    ///
    /// # Errors
    /// The document is not acceptable XML, the exchange fails, or the node answers with a fault.
    pub(crate) async fn send_response(
        &self,
        message_id: MessageId,
        to: &str,
        document: &str,
    ) -> anyhow::Result<Answer<MessageMetadata>> {
        let data = SenderProvidedResponseData {
            id: Some(RESPONSE_DATA_ID.into()),
            message_id,
            to: to.to_owned(),
            content: ResponseContent::Answer {
                primary_content: primary_content(document)?,
                personal_signature: None,
                attachment_headers: Vec::new(),
                ref_attachment_headers: Vec::new(),
            },
        };
        let (sender_provided, signature) = self.seal_and_sign(data)?;
        let envelope = Envelope::SendResponseRequest(SendResponseRequest {
            sender_provided,
            attachments: Vec::new(),
            caller_signature: Some(signature),
        });
        let (answer, signatures) = self.call(Operation::SendResponse, &envelope, None).await?;
        match answer {
            Envelope::SendResponseResponse(r) => Ok(Answer {
                value: r.metadata.into_value(),
                signatures,
            }),
            other => unexpected(Operation::SendResponse, &other),
        }
    }

    /// Fixes the block's text and signs exactly that text: the detached signature to put into
    /// `CallerInformationSystemSignature`.
    fn seal_and_sign<T: XmlBlock>(&self, value: T) -> anyhow::Result<(Signed<T>, XmlSignature)> {
        let sealed = Signed::sealed(value);
        let xml = sealed.xml();
        let doc = Document::parse(xml.as_bytes(), &Limits::default()).context("re-reading a built block")?;
        let options = SignOptions {
            transforms: TransformChain::ExcC14nThenSmev,
            ..SignOptions::default()
        };
        let raw = dsig::sign(&doc, doc.root(), &self.signer, &options).context("signing")?;
        let signature = XmlSignature::new(raw).context("the built signature")?;
        Ok((sealed, signature))
    }

    /// Posts `envelope` and returns the node's answer with its verified signatures.
    async fn call(
        &self,
        operation: Operation,
        envelope: &Envelope,
        wait_secs: Option<u64>,
    ) -> anyhow::Result<(Envelope, Vec<CheckedSignature>)> {
        let url = match wait_secs {
            Some(w) => format!("{}?wait={w}", self.endpoint),
            None => self.endpoint.clone(),
        };
        let name = operation.name();
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header("SOAPAction", operation.soap_action())
            .body(envelope.to_xml())
            .send()
            .await
            .with_context(|| format!("{name}: posting to {}", self.endpoint))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("{name}: reading the answer"))?;
        let parsed = Envelope::parse(&body, &Limits::default()).with_context(|| {
            format!(
                "{name}: the node answered HTTP {status} with something that is not a 1.3 SOAP envelope: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )
        })?;
        if let Envelope::Fault(fault) = parsed.envelope() {
            return Err(NodeFault {
                operation: name,
                name: fault.detail.element_name().unwrap_or("Fault").to_owned(),
                description: fault.string.to_string(),
            }
            .into());
        }
        let signatures = if self.check_answers {
            check_signatures(&parsed).with_context(|| format!("{name}: the node's answer"))?
        } else {
            Vec::new()
        };
        Ok((parsed.into_envelope(), signatures))
    }
}

fn primary_content(document: &str) -> anyhow::Result<MessagePrimaryContent> {
    let element = RawElement::parse(document, &Limits::default()).context("the business document")?;
    MessagePrimaryContent::new(element).context("the business document")
}

fn selector(info_type: Option<InfoTypeName>) -> MessageTypeSelector {
    MessageTypeSelector {
        id: Some(CALLER_ID.into()),
        info_type,
        timestamp: DateTime::now_utc(),
        node_id: None,
    }
}

fn unexpected<T>(operation: Operation, answer: &Envelope) -> anyhow::Result<T> {
    Err(anyhow!(
        "{}: the node answered with {}",
        operation.name(),
        answer.element_name()
    ))
}

/// Verifies every signature the answer carries, each against the element the schema says it
/// covers.
fn check_signatures(parsed: &ParsedEnvelope) -> anyhow::Result<Vec<CheckedSignature>> {
    let now = time::OffsetDateTime::now_utc();
    let verifiers = VerifierRegistry::default();
    parsed
        .signature_sites()
        .iter()
        .filter_map(|site| site.signature.map(|signature| (site, signature)))
        .map(|(site, signature)| {
            let verified = dsig::verify(parsed.document(), signature, site.target, now, &verifiers).map_err(
                |failure| {
                    anyhow!(
                        "the {:?} signature does not verify: {}",
                        site.role,
                        failure.description()
                    )
                },
            )?;
            Ok(CheckedSignature {
                role: site.role,
                subject: verified.certificate.subject(),
            })
        })
        .collect()
}
