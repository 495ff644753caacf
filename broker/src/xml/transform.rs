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
    #[error("the normal form exceeds {limit} bytes")]
    OutputTooLarge { limit: usize },
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
        bindings: Vec::new(),
        text: String::new(),
        out: Vec::with_capacity(doc.node(node).span.len()),
        limit: doc.canonical_output_limit(),
    };
    t.element(node)?;
    Ok(t.out)
}

struct Transformer<'a> {
    doc: &'a Document,
    counter: usize,
    /// Prefix bindings of the open output elements, innermost last: (namespace URI, N of `nsN`).
    /// An element's own bindings are the ones it pushed; it pops them when it closes.
    bindings: Vec<(&'a str, usize)>,
    /// Text accumulated across comments (see `element`), flushed before anything else is written.
    text: String,
    out: Vec<u8>,
    limit: usize,
}

impl<'a> Transformer<'a> {
    /// The prefix number for `uri`: one an open element (this one included) declared, or a new
    /// one declared by this element, whose bindings start at `own`.
    fn prefix_for(&mut self, uri: &'a str) -> usize {
        if let Some((_, n)) = self.bindings.iter().rev().find(|(u, _)| *u == uri) {
            return *n;
        }
        let n = self.counter;
        self.counter += 1;
        self.bindings.push((uri, n));
        n
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
        let own = self.bindings.len();
        let prefix = self.prefix_for(ns);

        let mut attrs: Vec<(Option<usize>, &'a Attribute)> =
            el.attributes.iter().map(|a| (None, a)).collect();
        attrs.sort_by(|a, b| attribute_order(a.1, b.1));
        for (p, a) in &mut attrs {
            *p = match a.ns.as_deref() {
                None => None,
                // The xml prefix is bound by definition and never declared.
                Some(XML_NS) => Some(0),
                Some(uri) => Some(self.prefix_for(uri)),
            };
        }

        let out = &mut self.out;
        out.push(b'<');
        push_prefix(out, prefix);
        out.push(b':');
        out.extend_from_slice(el.local.as_bytes());
        for (uri, n) in &self.bindings[own..] {
            out.extend_from_slice(b" xmlns:");
            push_prefix(out, *n);
            out.extend_from_slice(b"=\"");
            push_escaped(out, uri, Escape::Attribute);
            out.push(b'"');
        }
        for (p, a) in &attrs {
            out.push(b' ');
            if let Some(p) = p {
                push_prefix(out, *p);
                out.push(b':');
            }
            out.extend_from_slice(a.local.as_bytes());
            out.extend_from_slice(b"=\"");
            push_escaped(out, &a.value, Escape::Attribute);
            out.push(b'"');
        }
        out.push(b'>');
        if self.out.len() > self.limit {
            return Err(TransformError::OutputTooLarge { limit: self.limit });
        }

        // The reference implementation reads the exc-c14n output, where comments are gone: text
        // on both sides of a comment is one text node there. Processing instructions survive
        // c14n, so they do split text.
        for c in doc.children(id) {
            match &doc.node(c).kind {
                NodeKind::Text(t) => self.text.push_str(t),
                NodeKind::Comment(_) => {}
                NodeKind::Element(_) => {
                    self.flush_text();
                    self.element(c)?;
                }
                NodeKind::ProcessingInstruction { .. } => self.flush_text(),
            }
        }
        self.flush_text();
        if self.out.len() > self.limit {
            return Err(TransformError::OutputTooLarge { limit: self.limit });
        }
        self.bindings.truncate(own);

        self.out.extend_from_slice(b"</");
        push_prefix(&mut self.out, prefix);
        self.out.push(b':');
        self.out.extend_from_slice(el.local.as_bytes());
        self.out.push(b'>');
        Ok(())
    }

    /// Writes accumulated text unless it is whitespace only (Java's `trim().isEmpty()`: everything
    /// up to U+0020 counts as whitespace).
    fn flush_text(&mut self) {
        if !self.text.chars().all(|ch| ch <= ' ') {
            push_escaped(&mut self.out, &self.text, Escape::Text);
        }
        self.text.clear();
    }
}

/// Writes `nsN`, or `xml` for 0.
fn push_prefix(out: &mut Vec<u8>, n: usize) {
    if n == 0 {
        out.extend_from_slice(b"xml");
        return;
    }
    out.extend_from_slice(b"ns");
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n;
    while v > 0 {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&digits[i..]);
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
