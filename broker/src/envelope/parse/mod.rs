//! The reader: a [`Document`] to typed messages.
//!
//! Each schema sequence is read with [`Seq`](seq::Seq), which walks the element children in order and
//! refuses missing, misplaced and unknown elements and non-whitespace text, as the schema does.
//! Values are checked against their schema types (UUID pattern, `xs:dateTime` with an offset,
//! enumerations, string lengths that bound what the node stores). Attributes the schema does not
//! declare are ignored: refusing them is the job of XSD validation, if it is configured.
//!
//! This file holds the entry points and the [`Parser`] with its signature sites; the readers are
//! split by what they read: [`values`] (simple types), [`operation`] (the Body's operation
//! element), [`message`] (`Request`, `Response`, metadata, selector), [`data`] (what a sender
//! signs), [`attachments`] and [`fault`].

mod attachments;
mod data;
mod fault;
mod message;
mod operation;
mod seq;
mod values;

use crate::xml::{Document, Limits, NodeId, NodeKind};

use super::types::*;
use super::xop::XopParts;
use super::{EnvelopeError, ParsedEnvelope, SOAP_ENV_NS, SignatureRole, SignatureSite, TYPES_NS};

type Result<T> = std::result::Result<T, EnvelopeError>;

/// Matches elements without a namespace (the children of `soap:Fault`).
const NO_NS: &str = "";

pub(super) fn parse_document(doc: Document, parts: XopParts) -> Result<ParsedEnvelope> {
    let root = doc.root();
    let is_envelope = doc.element(root).is_some_and(|e| e.is(SOAP_ENV_NS, "Envelope"));
    if !is_envelope {
        return Err(EnvelopeError::NotSoapEnvelope {
            found: expanded_name(&doc, root),
        });
    }
    // Envelope = Header? Body (WS-I BP: nothing after Body).
    let (mut header, mut body) = (None, None);
    for child in doc.children(root) {
        match &doc.node(child).kind {
            NodeKind::Element(e) if e.is(SOAP_ENV_NS, "Header") && header.is_none() && body.is_none() => {
                header = Some(child);
            }
            NodeKind::Element(e) if e.is(SOAP_ENV_NS, "Body") && body.is_none() => body = Some(child),
            NodeKind::Element(_) => return Err(soap_content(&doc, child, expanded_name(&doc, child))),
            NodeKind::Text(t) if !is_xml_whitespace(t) => {
                return Err(soap_content(&doc, child, "text".into()));
            }
            _ => {}
        }
    }
    let body = body.ok_or(EnvelopeError::NoBody)?;
    let mut elements = Vec::new();
    for child in doc.children(body) {
        match &doc.node(child).kind {
            NodeKind::Element(_) => elements.push(child),
            NodeKind::Text(t) if !is_xml_whitespace(t) => {
                return Err(soap_content(&doc, child, "text".into()));
            }
            _ => {}
        }
    }
    let [operation] = elements[..] else {
        return Err(EnvelopeError::BodyElementCount {
            count: elements.len(),
        });
    };
    let mut p = Parser {
        doc: &doc,
        sites: Vec::new(),
        parts,
    };
    let envelope = p.operation(operation)?;
    let sites = p.sites;
    Ok(ParsedEnvelope {
        document: doc,
        envelope,
        body_element: operation,
        sites,
    })
}

/// Reads a `SenderProvidedRequestData` the node stored when it accepted the message (the
/// self-contained original element), keeping its bytes for relay.
pub(super) fn stored_request_data(xml: &str, limits: &Limits) -> Result<Signed<SenderProvidedRequestData>> {
    let doc = Document::parse(xml.as_bytes(), limits)?;
    let root = doc.root();
    expect_root(&doc, root, "SenderProvidedRequestData")?;
    let mut p = Parser {
        doc: &doc,
        sites: Vec::new(),
        parts: XopParts::new(),
    };
    let value = p.request_data(root)?;
    Ok(p.signed(root, value))
}

/// Reads a stored `SenderProvidedResponseData` (see [`stored_request_data`]).
pub(super) fn stored_response_data(xml: &str, limits: &Limits) -> Result<Signed<SenderProvidedResponseData>> {
    let doc = Document::parse(xml.as_bytes(), limits)?;
    let root = doc.root();
    expect_root(&doc, root, "SenderProvidedResponseData")?;
    let mut p = Parser {
        doc: &doc,
        sites: Vec::new(),
        parts: XopParts::new(),
    };
    let value = p.response_data(root)?;
    Ok(p.signed(root, value))
}

fn expect_root(doc: &Document, root: NodeId, local: &'static str) -> Result<()> {
    if doc.element(root).is_some_and(|e| e.is(TYPES_NS, local)) {
        Ok(())
    } else {
        Err(EnvelopeError::UnknownOperation {
            found: expanded_name(doc, root),
            position: 0,
        })
    }
}

fn soap_content(doc: &Document, id: NodeId, found: String) -> EnvelopeError {
    EnvelopeError::UnexpectedSoapContent {
        found,
        position: doc.node(id).span.start,
    }
}

fn is_xml_whitespace(s: &str) -> bool {
    s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

fn trim_xml(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r'])
}

/// `{namespace}local` of an element, for messages.
fn expanded_name(doc: &Document, id: NodeId) -> String {
    match doc.element(id) {
        Some(e) => match &e.ns {
            Some(ns) => format!("{{{ns}}}{}", e.local),
            None => e.local.clone(),
        },
        None => "a non-element node".to_owned(),
    }
}

struct Parser<'d> {
    doc: &'d Document,
    sites: Vec<SignatureSite>,
    /// The MTOM parts `AttachmentContent/Content` may name with `xop:Include`; each is taken
    /// (moved into its [`AttachmentContent`]) where it is named.
    parts: XopParts,
}

impl<'d> Parser<'d> {
    fn signed<T>(&self, id: NodeId, value: T) -> Signed<T> {
        Signed::received(value, self.doc.extract(id))
    }

    fn site(&mut self, role: SignatureRole, target: NodeId, signature: Option<NodeId>) {
        self.sites.push(SignatureSite {
            role,
            target,
            signature,
        });
    }

    /// The content of an `XMLDSigSignatureType` container, registered as a site for `target`.
    fn signature(
        &mut self,
        container: Option<NodeId>,
        name: &'static str,
        role: SignatureRole,
        target: NodeId,
    ) -> Result<Option<XmlSignature>> {
        let Some(container) = container else {
            self.site(role, target, None);
            return Ok(None);
        };
        let mut seq = self.seq(container, name)?;
        let Some(sig) = seq.any() else {
            return Err(EnvelopeError::MissingElement {
                parent: name,
                element: "Signature",
                position: self.pos(container),
            });
        };
        seq.end()?;
        let el = self.doc.element(sig);
        let signature = XmlSignature::checked(
            self.doc.extract(sig),
            el.and_then(|e| e.ns.as_deref()),
            el.map_or("", |e| e.local.as_str()),
            self.pos(sig),
        )?;
        self.site(role, target, Some(sig));
        Ok(Some(signature))
    }
}
