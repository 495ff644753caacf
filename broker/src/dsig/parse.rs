//! Reading a `ds:Signature` element into its parts, strictly: the XMLDSig element order, no
//! unknown elements in the parts the node relies on, whitespace (and comments, which exc-c14n
//! drops) the only other content.

use crate::xml::{Document, NodeId, NodeKind};

use super::DS_NS;
use super::algorithm::EXC_C14N_NS;
use super::invalid::{Invalid, clip};

/// Most `ds:Reference`s read from one `ds:SignedInfo` (SMEV uses one).
pub(crate) const MAX_REFERENCES: usize = 16;
/// Most `ds:Transform`s read from one `ds:Reference` (SMEV uses two).
pub(crate) const MAX_TRANSFORMS: usize = 8;
/// Most prefixes in an `InclusiveNamespaces PrefixList`.
const MAX_INCLUSIVE_PREFIXES: usize = 64;
/// Most `ds:X509Certificate`s read from a `ds:KeyInfo`.
const MAX_CERTIFICATES: usize = 8;

/// An algorithm reference with exclusive c14n's optional `InclusiveNamespaces` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Method {
    pub uri: String,
    pub inclusive_prefixes: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ReferenceParts {
    pub uri: Option<String>,
    pub transforms: Vec<Method>,
    pub digest_method: String,
    /// The `ds:DigestValue` text, not yet decoded.
    pub digest_value: String,
}

#[derive(Debug, Clone)]
pub(crate) struct SignatureParts {
    pub signed_info: NodeId,
    pub canonicalization: Method,
    pub signature_method: String,
    pub references: Vec<ReferenceParts>,
    /// The `ds:SignatureValue` text, not yet decoded.
    pub signature_value: String,
    /// Texts of every `ds:KeyInfo/ds:X509Data/ds:X509Certificate`, not yet decoded.
    pub certificates: Vec<String>,
}

fn malformed(detail: impl Into<String>) -> Invalid {
    Invalid::Malformed {
        detail: detail.into(),
    }
}

/// The element children of `node`, refusing non-whitespace text; callers check the names.
fn element_children(doc: &Document, node: NodeId, what: &str) -> Result<Vec<NodeId>, Invalid> {
    let mut out = Vec::new();
    for c in doc.children(node) {
        match &doc.node(c).kind {
            NodeKind::Element(_) => out.push(c),
            NodeKind::Text(t) => {
                if !t.chars().all(|ch| matches!(ch, ' ' | '\t' | '\n' | '\r')) {
                    return Err(malformed(format!("unexpected text in {what}")));
                }
            }
            NodeKind::Comment(_) | NodeKind::ProcessingInstruction { .. } => {}
        }
    }
    Ok(out)
}

/// Refuses element content in a value element (base64 text, comments allowed).
fn text_only(doc: &Document, node: NodeId, what: &str) -> Result<(), Invalid> {
    if doc.child_elements(node).next().is_some() {
        return Err(malformed(format!("{what} has element content")));
    }
    Ok(())
}

fn is_ds(doc: &Document, node: NodeId, local: &str) -> bool {
    doc.element(node).is_some_and(|e| e.is(DS_NS, local))
}

fn name_of(doc: &Document, node: NodeId) -> String {
    doc.element(node).map(|e| clip(&e.qname())).unwrap_or_default()
}

fn algorithm_attr(doc: &Document, node: NodeId, what: &str) -> Result<String, Invalid> {
    doc.element(node)
        .and_then(|e| e.attr("Algorithm"))
        .map(str::to_owned)
        .ok_or_else(|| malformed(format!("{what} has no Algorithm")))
}

/// Whether `node` is a `ds:Signature` element.
pub(crate) fn is_signature(doc: &Document, node: NodeId) -> bool {
    is_ds(doc, node, "Signature")
}

pub(crate) fn parse_signature(doc: &Document, signature: NodeId) -> Result<SignatureParts, Invalid> {
    if !is_signature(doc, signature) {
        return Err(malformed("not a ds:Signature element"));
    }
    let children = element_children(doc, signature, "ds:Signature")?;
    let mut it = children.into_iter().peekable();
    let signed_info = it
        .next()
        .filter(|c| is_ds(doc, *c, "SignedInfo"))
        .ok_or_else(|| malformed("ds:Signature does not start with ds:SignedInfo"))?;
    let value_node = it
        .next()
        .filter(|c| is_ds(doc, *c, "SignatureValue"))
        .ok_or_else(|| malformed("ds:SignedInfo is not followed by ds:SignatureValue"))?;
    text_only(doc, value_node, "ds:SignatureValue")?;
    let signature_value = doc.text(value_node);
    let mut certificates = Vec::new();
    if let Some(key_info) = it.next_if(|c| is_ds(doc, *c, "KeyInfo")) {
        for data in element_children(doc, key_info, "ds:KeyInfo")? {
            if !is_ds(doc, data, "X509Data") {
                continue;
            }
            for item in element_children(doc, data, "ds:X509Data")? {
                if is_ds(doc, item, "X509Certificate") {
                    text_only(doc, item, "ds:X509Certificate")?;
                    if certificates.len() >= MAX_CERTIFICATES {
                        return Err(malformed(format!(
                            "more than {MAX_CERTIFICATES} certificates in ds:KeyInfo"
                        )));
                    }
                    certificates.push(doc.text(item));
                }
            }
        }
    }
    if let Some(extra) = it.next() {
        return Err(malformed(format!(
            "unexpected {} in ds:Signature (ds:Object and other content are not accepted)",
            name_of(doc, extra)
        )));
    }

    let parts = element_children(doc, signed_info, "ds:SignedInfo")?;
    let mut it = parts.into_iter();
    let c14n_node = it
        .next()
        .filter(|c| is_ds(doc, *c, "CanonicalizationMethod"))
        .ok_or_else(|| malformed("ds:SignedInfo does not start with ds:CanonicalizationMethod"))?;
    let canonicalization = parse_method(doc, c14n_node, "ds:CanonicalizationMethod")?;
    let method_node = it
        .next()
        .filter(|c| is_ds(doc, *c, "SignatureMethod"))
        .ok_or_else(|| malformed("ds:CanonicalizationMethod is not followed by ds:SignatureMethod"))?;
    if !element_children(doc, method_node, "ds:SignatureMethod")?.is_empty() {
        return Err(malformed(
            "ds:SignatureMethod has parameters (HMAC output length is not accepted)",
        ));
    }
    let signature_method = algorithm_attr(doc, method_node, "ds:SignatureMethod")?;
    let mut references = Vec::new();
    for r in it {
        if !is_ds(doc, r, "Reference") {
            return Err(malformed(format!(
                "unexpected {} in ds:SignedInfo",
                name_of(doc, r)
            )));
        }
        if references.len() >= MAX_REFERENCES {
            return Err(malformed(format!(
                "more than {MAX_REFERENCES} ds:Reference elements"
            )));
        }
        references.push(parse_reference(doc, r)?);
    }
    if references.is_empty() {
        return Err(malformed("ds:SignedInfo has no ds:Reference"));
    }
    Ok(SignatureParts {
        signed_info,
        canonicalization,
        signature_method,
        references,
        signature_value,
        certificates,
    })
}

fn parse_method(doc: &Document, node: NodeId, what: &str) -> Result<Method, Invalid> {
    let uri = algorithm_attr(doc, node, what)?;
    let mut inclusive_prefixes = Vec::new();
    let children = element_children(doc, node, what)?;
    for (i, c) in children.into_iter().enumerate() {
        let is_inclusive = doc
            .element(c)
            .is_some_and(|e| e.is(EXC_C14N_NS, "InclusiveNamespaces"));
        if !is_inclusive || i > 0 {
            return Err(malformed(format!(
                "unexpected {} in {what} (only one ec:InclusiveNamespaces is accepted)",
                name_of(doc, c)
            )));
        }
        let list = doc.element(c).and_then(|e| e.attr("PrefixList")).unwrap_or("");
        for p in list.split_ascii_whitespace() {
            if inclusive_prefixes.len() >= MAX_INCLUSIVE_PREFIXES {
                return Err(malformed(format!(
                    "more than {MAX_INCLUSIVE_PREFIXES} prefixes in InclusiveNamespaces"
                )));
            }
            inclusive_prefixes.push(p.to_owned());
        }
    }
    Ok(Method {
        uri,
        inclusive_prefixes,
    })
}

fn parse_reference(doc: &Document, node: NodeId) -> Result<ReferenceParts, Invalid> {
    let uri = doc.element(node).and_then(|e| e.attr("URI")).map(str::to_owned);
    let children = element_children(doc, node, "ds:Reference")?;
    let mut it = children.into_iter().peekable();
    let mut transforms = Vec::new();
    if let Some(t) = it.next_if(|c| is_ds(doc, *c, "Transforms")) {
        for tr in element_children(doc, t, "ds:Transforms")? {
            if !is_ds(doc, tr, "Transform") {
                return Err(malformed(format!(
                    "unexpected {} in ds:Transforms",
                    name_of(doc, tr)
                )));
            }
            if transforms.len() >= MAX_TRANSFORMS {
                return Err(malformed(format!("more than {MAX_TRANSFORMS} transforms")));
            }
            transforms.push(parse_method(doc, tr, "ds:Transform")?);
        }
        if transforms.is_empty() {
            return Err(malformed("empty ds:Transforms"));
        }
    }
    let digest_node = it
        .next()
        .filter(|c| is_ds(doc, *c, "DigestMethod"))
        .ok_or_else(|| malformed("ds:Reference has no ds:DigestMethod"))?;
    if !element_children(doc, digest_node, "ds:DigestMethod")?.is_empty() {
        return Err(malformed("ds:DigestMethod has parameters"));
    }
    let digest_method = algorithm_attr(doc, digest_node, "ds:DigestMethod")?;
    let value_node = it
        .next()
        .filter(|c| is_ds(doc, *c, "DigestValue"))
        .ok_or_else(|| malformed("ds:DigestMethod is not followed by ds:DigestValue"))?;
    text_only(doc, value_node, "ds:DigestValue")?;
    if let Some(extra) = it.next() {
        return Err(malformed(format!(
            "unexpected {} in ds:Reference",
            name_of(doc, extra)
        )));
    }
    Ok(ReferenceParts {
        uri,
        transforms,
        digest_method,
        digest_value: doc.text(value_node),
    })
}
