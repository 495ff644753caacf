//! Exclusive XML Canonicalization 1.0, without comments
//! (<https://www.w3.org/TR/xml-exc-c14n/>), of the subtree rooted at one element.
//!
//! This is the canonical form XMLDSig hashes for `Reference URI="#Id"` with the transform
//! `http://www.w3.org/2001/10/xml-exc-c14n#`, and the form `SignedInfo` is signed in.
//!
//! What it renders, per element of the subtree:
//! - namespace declarations only for prefixes the element or its attributes *visibly use*
//!   (plus those named in the `InclusiveNamespaces PrefixList`), and only when the nearest
//!   rendered ancestor did not already render the same binding; sorted by prefix;
//! - attributes sorted by (namespace URI, local name), unqualified ones first;
//! - empty elements as start/end tag pairs; text and attribute values with the c14n escapes;
//! - processing instructions inside the subtree are kept; comments are dropped.
//!
//! Namespaces declared on ancestors outside the subtree are in scope (so the result does not
//! depend on where the subtree is cut from, only on the bindings it uses).

use super::{Document, NodeId, NodeKind, NsDecl};

/// The exc-c14n algorithm URI (without comments).
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Canonicalizes the subtree at `node`. `inclusive_prefixes` is the `PrefixList` of an
/// `ec:InclusiveNamespaces` element (`"#default"` names the default namespace); usually empty.
///
/// A `node` that is not an element canonicalizes to its own canonical text.
pub fn exclusive(doc: &Document, node: NodeId, inclusive_prefixes: &[&str]) -> Vec<u8> {
    let mut c = Canonicalizer {
        doc,
        inclusive: inclusive_prefixes
            .iter()
            .map(|p| {
                if *p == "#default" {
                    None
                } else {
                    Some((*p).to_owned())
                }
            })
            .collect(),
        scopes: vec![doc.inherited_namespaces(node)],
        rendered: Vec::new(),
        out: Vec::with_capacity(doc.node(node).span.len() + 64),
    };
    c.node(node);
    c.out
}

struct Canonicalizer<'a> {
    doc: &'a Document,
    inclusive: Vec<Option<String>>,
    /// Declarations in scope: ancestors outside the subtree first, then one frame per open element.
    scopes: Vec<Vec<NsDecl>>,
    /// Bindings rendered by open output elements: one frame per open element.
    rendered: Vec<Vec<(Option<String>, String)>>,
    out: Vec<u8>,
}

impl Canonicalizer<'_> {
    fn node(&mut self, id: NodeId) {
        match &self.doc.node(id).kind {
            NodeKind::Element(_) => self.element(id),
            NodeKind::Text(t) => push_text(&mut self.out, t),
            NodeKind::ProcessingInstruction { target, data } => {
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    self.out.push(b' ');
                    self.out.extend_from_slice(data.as_bytes());
                }
                self.out.extend_from_slice(b"?>");
            }
            NodeKind::Comment(_) => {}
        }
    }

    /// The namespace URI bound to `prefix` at the innermost open scope ("" when unbound).
    fn in_scope(&self, prefix: Option<&str>) -> Option<&str> {
        for frame in self.scopes.iter().rev() {
            for d in frame.iter().rev() {
                if d.prefix.as_deref() == prefix {
                    return Some(d.uri.as_str());
                }
            }
        }
        None
    }

    /// The binding of `prefix` most recently rendered by an output ancestor.
    fn rendered_binding(&self, prefix: Option<&str>) -> Option<&str> {
        for frame in self.rendered.iter().rev() {
            for (p, uri) in frame.iter().rev() {
                if p.as_deref() == prefix {
                    return Some(uri.as_str());
                }
            }
        }
        None
    }

    fn element(&mut self, id: NodeId) {
        let Some(el) = self.doc.element(id) else { return };
        self.scopes.push(el.ns_decls.clone());

        // Prefixes this element visibly utilizes, then those of the InclusiveNamespaces list.
        let mut utilized: Vec<Option<String>> = vec![el.prefix.clone()];
        for a in &el.attributes {
            if a.prefix.is_some() && !utilized.contains(&a.prefix) {
                utilized.push(a.prefix.clone());
            }
        }
        for p in &self.inclusive {
            if !utilized.contains(p) && (p.is_none() || self.in_scope(p.as_deref()).is_some()) {
                utilized.push(p.clone());
            }
        }

        let mut to_render: Vec<(Option<String>, String)> = Vec::new();
        for p in utilized {
            if p.as_deref() == Some("xml") {
                continue;
            }
            let uri = self.in_scope(p.as_deref()).unwrap_or("").to_owned();
            let previous = self.rendered_binding(p.as_deref());
            let needed = match (&p, previous) {
                // An empty default namespace is rendered only to undo a rendered non-empty one.
                (None, None) => !uri.is_empty(),
                (_, Some(prev)) => prev != uri,
                (Some(_), None) => !uri.is_empty(),
            };
            if needed {
                to_render.push((p, uri));
            }
        }
        to_render.sort_by(|a, b| a.0.as_deref().unwrap_or("").cmp(b.0.as_deref().unwrap_or("")));

        let out = &mut self.out;
        out.push(b'<');
        push_qname(out, el.prefix.as_deref(), &el.local);
        for (p, uri) in &to_render {
            match p {
                Some(p) => {
                    out.extend_from_slice(b" xmlns:");
                    out.extend_from_slice(p.as_bytes());
                }
                None => out.extend_from_slice(b" xmlns"),
            }
            out.extend_from_slice(b"=\"");
            push_attr_value(out, uri);
            out.push(b'"');
        }
        let mut attrs: Vec<_> = el.attributes.iter().collect();
        attrs.sort_by(|a, b| {
            (a.ns.as_deref().unwrap_or(""), a.local.as_str())
                .cmp(&(b.ns.as_deref().unwrap_or(""), b.local.as_str()))
        });
        for a in attrs {
            out.push(b' ');
            push_qname(out, a.prefix.as_deref(), &a.local);
            out.extend_from_slice(b"=\"");
            push_attr_value(out, &a.value);
            out.push(b'"');
        }
        out.push(b'>');

        self.rendered.push(to_render);
        for c in self.doc.children(id) {
            self.node(c);
        }
        self.rendered.pop();
        self.scopes.pop();

        self.out.extend_from_slice(b"</");
        push_qname(&mut self.out, el.prefix.as_deref(), &el.local);
        self.out.push(b'>');
    }
}

fn push_qname(out: &mut Vec<u8>, prefix: Option<&str>, local: &str) {
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

fn push_text(out: &mut Vec<u8>, text: &str) {
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&text.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&text.as_bytes()[last..]);
}

fn push_attr_value(out: &mut Vec<u8>, value: &str) {
    let mut last = 0;
    for (i, b) in value.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&value.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&value.as_bytes()[last..]);
}
