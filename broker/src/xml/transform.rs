//! The SMEV 3 transform `urn://smev-gov-ru/xmldsig/transform` (the normal form SMEV signs),
//! applied to the subtree rooted at one element.
//!
//! The rules, as the operator's reference implementation (`SmevTransformSpi`) applies them to
//! a stream of parse events, and as the methodological recommendations' test cases pin them:
//! 1. XML declaration, processing instructions and comments are dropped.
//! 2. Whitespace-only text is dropped; other text is kept verbatim.
//! 3. Every element must be namespace-qualified.
//! 4. Original prefixes and namespace declarations are discarded. Each namespace used by an
//!    element or attribute gets a prefix `nsN` from one counter for the whole output, starting at
//!    1, unless an ancestor *in the output* already declared one for it; the declaration goes
//!    on the element that first needs it and leaves scope with it (so siblings allocate anew).
//! 5. Attributes: qualified ones first, ordered by namespace URI then local name; then
//!    unqualified ones by local name (Java `String.compareTo`, i.e. UTF-16 code-unit order).
//!    The element's own declaration is written first, then the attributes' in that order.
//! 6. Empty elements are written as start/end tag pairs.
//! 7. Escaping as the Java StAX writer does it: `&`, `<`, `>` in text; `&`, `<`, `"` in
//!    attribute values; nothing else is escaped.
//!
//! The input of the transform in a signature is the exc-c14n output of the subtree; since that
//! step changes nothing this transform keeps, the transform is computed on the tree directly.

use std::cmp::Ordering;

use super::{Attribute, Document, NodeId, NodeKind, XML_NS};

/// The transform's algorithm URI.
pub const SMEV_TRANSFORM: &str = "urn://smev-gov-ru/xmldsig/transform";

/// Why a subtree has no SMEV normal form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransformError {
    #[error(
        "element `{name}` at byte {position} has no namespace; the SMEV transform requires qualified elements"
    )]
    UnqualifiedElement { name: String, position: usize },
    #[error("the node at byte {position} is not an element")]
    NotAnElement { position: usize },
}

/// Applies the SMEV transform to the subtree at `node` and returns the UTF-8 output.
///
/// # Errors
/// [`TransformError::UnqualifiedElement`] when an element of the subtree has no namespace.
pub fn smev(doc: &Document, node: NodeId) -> Result<Vec<u8>, TransformError> {
    if doc.element(node).is_none() {
        return Err(TransformError::NotAnElement {
            position: doc.node(node).span.start,
        });
    }
    let mut t = Transformer {
        doc,
        counter: 1,
        scopes: Vec::new(),
        out: Vec::with_capacity(doc.node(node).span.len()),
    };
    t.element(node)?;
    Ok(t.out)
}

struct Transformer<'a> {
    doc: &'a Document,
    counter: usize,
    /// Prefix bindings emitted by each open output element: (namespace URI, prefix).
    scopes: Vec<Vec<(&'a str, String)>>,
    out: Vec<u8>,
}

impl<'a> Transformer<'a> {
    /// The prefix for `uri`: one an open ancestor (or this element, `frame`) declared, or a new
    /// `nsN` declared in `frame`.
    fn prefix_for(&mut self, uri: &'a str, frame: &mut Vec<(&'a str, String)>) -> String {
        let found = frame
            .iter()
            .chain(self.scopes.iter().rev().flatten())
            .find(|(u, _)| *u == uri)
            .map(|(_, p)| p.clone());
        if let Some(p) = found {
            return p;
        }
        let p = format!("ns{}", self.counter);
        self.counter += 1;
        frame.push((uri, p.clone()));
        p
    }

    fn element(&mut self, id: NodeId) -> Result<(), TransformError> {
        let doc = self.doc;
        let Some(el) = doc.element(id) else { return Ok(()) };
        let Some(ns) = el.ns.as_deref() else {
            return Err(TransformError::UnqualifiedElement {
                name: el.qname(),
                position: doc.node(id).span.start,
            });
        };
        let mut frame: Vec<(&'a str, String)> = Vec::new();
        let prefix = self.prefix_for(ns, &mut frame);

        let mut attrs: Vec<&'a Attribute> = el.attributes.iter().collect();
        attrs.sort_by(|a, b| attribute_order(a, b));
        let mut written: Vec<(Option<String>, &'a Attribute)> = Vec::with_capacity(attrs.len());
        for a in attrs {
            let p = match a.ns.as_deref() {
                None => None,
                Some(XML_NS) => Some("xml".to_owned()),
                Some(uri) => Some(self.prefix_for(uri, &mut frame)),
            };
            written.push((p, a));
        }

        let out = &mut self.out;
        out.push(b'<');
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
        out.extend_from_slice(el.local.as_bytes());
        for (uri, p) in &frame {
            out.extend_from_slice(b" xmlns:");
            out.extend_from_slice(p.as_bytes());
            out.extend_from_slice(b"=\"");
            push_escaped(out, uri, Escape::Attribute);
            out.push(b'"');
        }
        for (p, a) in &written {
            out.push(b' ');
            if let Some(p) = p {
                out.extend_from_slice(p.as_bytes());
                out.push(b':');
            }
            out.extend_from_slice(a.local.as_bytes());
            out.extend_from_slice(b"=\"");
            push_escaped(out, &a.value, Escape::Attribute);
            out.push(b'"');
        }
        out.push(b'>');

        self.scopes.push(frame);
        for c in doc.children(id) {
            match &doc.node(c).kind {
                NodeKind::Element(_) => self.element(c)?,
                // Java's `trim().isEmpty()`: everything up to U+0020 counts as whitespace.
                NodeKind::Text(t) if t.chars().all(|ch| ch <= ' ') => {}
                NodeKind::Text(t) => push_escaped(&mut self.out, t, Escape::Text),
                NodeKind::Comment(_) | NodeKind::ProcessingInstruction { .. } => {}
            }
        }
        self.scopes.pop();

        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(prefix.as_bytes());
        self.out.push(b':');
        self.out.extend_from_slice(el.local.as_bytes());
        self.out.push(b'>');
        Ok(())
    }
}

/// Qualified attributes first by (namespace URI, local name), then unqualified by local name,
/// comparing strings as Java does (UTF-16 code units).
fn attribute_order(a: &Attribute, b: &Attribute) -> Ordering {
    match (a.ns.as_deref(), b.ns.as_deref()) {
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(x), Some(y)) => java_cmp(x, y).then_with(|| java_cmp(&a.local, &b.local)),
        (None, None) => java_cmp(&a.local, &b.local),
    }
}

fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

#[derive(Clone, Copy)]
enum Escape {
    Text,
    Attribute,
}

fn push_escaped(out: &mut Vec<u8>, s: &str, mode: Escape) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match (b, mode) {
            (b'&', _) => b"&amp;",
            (b'<', _) => b"&lt;",
            (b'>', Escape::Text) => b"&gt;",
            (b'"', Escape::Attribute) => b"&quot;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}
