//! A hardened XML reader for peer input, and a small read-only tree over it.
//!
//! Everything the node receives passes through [`Document::parse`]: it refuses DOCTYPE (and with it
//! every entity declaration, so no XXE and no billion laughs), accepts only UTF-8, and enforces the
//! [`Limits`] on size, depth, attribute count and node count while reading. The tree keeps, for
//! every node, its byte span in the original text, so content that must stay byte-exact (the
//! `xs:any` business payload, signed elements relayed to another participant) can be cut out of
//! the original message instead of being re-serialized.
//!
//! - [`c14n`]: Exclusive XML Canonicalization 1.0 (without comments) of a subtree.
//! - [`transform`]: the SMEV transform `urn://smev-gov-ru/xmldsig/transform`.
//! - [`RawElement`]: an element cut out of a document, made self-contained by re-declaring the
//!   namespaces it inherited, so it can be embedded verbatim in another document.
//!
//! Architecture invariant: nothing in this module allocates in proportion to anything but the input
//! size, and nothing panics on input; every refusal is an [`XmlError`].

pub mod c14n;
pub mod transform;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::attributes::Attribute as QAttribute;
use quick_xml::events::{BytesStart, Event};

/// The namespace bound to the `xml` prefix by definition.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Bounds on what a peer may send. Every value is configurable; the defaults suit SMEV traffic
/// (business documents up to a few megabytes, shallow trees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted document, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting (the document element is depth 1).
    pub max_depth: usize,
    /// Most attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Most nodes (elements, text, comments, processing instructions) in one document.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_attributes: 256,
            max_nodes: 2_000_000,
        }
    }
}

/// Why a document was refused. `position` is a byte offset into the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    #[error("document is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("element nesting deeper than {limit} at byte {position}")]
    TooDeep { limit: usize, position: usize },
    #[error("more than {limit} attributes on one element at byte {position}")]
    TooManyAttributes { limit: usize, position: usize },
    #[error("more than {limit} nodes in the document")]
    TooManyNodes { limit: usize },
    #[error("DOCTYPE declarations are not accepted (byte {position})")]
    DoctypeForbidden { position: usize },
    #[error(
        "entity reference &{name}; is not allowed (byte {position}); only the predefined entities and character references are"
    )]
    UndeclaredEntity { name: String, position: usize },
    #[error("document is not UTF-8: {detail}")]
    Encoding { detail: String },
    #[error("malformed XML at byte {position}: {detail}")]
    Malformed { position: usize, detail: String },
    #[error("namespace prefix `{prefix}` is not declared (byte {position})")]
    UnboundPrefix { prefix: String, position: usize },
    #[error("attribute `{name}` appears twice on one element (byte {position})")]
    DuplicateAttribute { name: String, position: usize },
    #[error("character U+{code:04X} is not allowed in XML (byte {position})")]
    ForbiddenCharacter { code: u32, position: usize },
    #[error("no document element")]
    NoRootElement,
    #[error("Id value `{id}` is used by more than one element")]
    DuplicateId { id: String },
}

impl XmlError {
    /// Byte offset of the problem in the input, where one is known.
    pub fn position(&self) -> Option<usize> {
        match self {
            XmlError::TooDeep { position, .. }
            | XmlError::TooManyAttributes { position, .. }
            | XmlError::DoctypeForbidden { position }
            | XmlError::UndeclaredEntity { position, .. }
            | XmlError::Malformed { position, .. }
            | XmlError::UnboundPrefix { position, .. }
            | XmlError::DuplicateAttribute { position, .. }
            | XmlError::ForbiddenCharacter { position, .. } => Some(*position),
            _ => None,
        }
    }
}

/// Index of a node in its [`Document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    fn index(self) -> usize {
        self.0 as usize
    }
}

/// A namespace declaration written on an element: `xmlns="uri"` (prefix `None`) or `xmlns:p="uri"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsDecl {
    pub prefix: Option<String>,
    pub uri: String,
}

/// An attribute that is not a namespace declaration. `value` is normalized as XML 1.0 requires
/// (line ends, whitespace characters to spaces) with references resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub prefix: Option<String>,
    pub local: String,
    /// Namespace of a prefixed attribute; unprefixed attributes have none. (Shared: a document
    /// holds one copy of each namespace URI.)
    pub ns: Option<Arc<str>>,
    pub value: String,
}

/// An element: its name as written, its resolved namespace, declarations and attributes in
/// document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub prefix: Option<String>,
    pub local: String,
    /// The resolved namespace (shared: a document holds one copy of each namespace URI).
    pub ns: Option<Arc<str>>,
    pub ns_decls: Vec<NsDecl>,
    pub attributes: Vec<Attribute>,
}

impl Element {
    /// The qualified name as written (`p:local` or `local`).
    pub fn qname(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.clone(),
        }
    }

    /// Value of the unprefixed attribute `local`.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.ns.is_none() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Whether this element is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }
}

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Element(Element),
    /// Character data (CDATA sections included), line ends normalized, references resolved.
    Text(String),
    Comment(String),
    ProcessingInstruction {
        target: String,
        data: String,
    },
}

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub parent: Option<NodeId>,
    children: Vec<NodeId>,
    /// Bytes of the node in the original text; for an element, from `<` to the end of its end tag.
    pub span: Range<usize>,
}

/// A parsed, read-only XML document that owns its source text.
#[derive(Debug, Clone)]
pub struct Document {
    source: String,
    nodes: Vec<Node>,
    root: NodeId,
    /// Elements carrying an unprefixed `Id`/`ID`/`id` attribute, by value. More than one entry
    /// under a value means the document repeats an Id (see [`Document::element_by_id`]).
    ids: HashMap<String, Vec<NodeId>>,
}

/// Names of the attributes treated as element identifiers (`Reference URI="#..."` targets).
const ID_ATTRIBUTES: [&str; 3] = ["Id", "ID", "id"];

impl Document {
    /// Parses `input` under `limits`.
    ///
    /// # Errors
    /// Any [`XmlError`]: malformed XML, a DOCTYPE, an entity other than the predefined ones,
    /// unbound prefixes, duplicate attributes, a non-UTF-8 encoding, or a limit exceeded.
    pub fn parse(input: &[u8], limits: &Limits) -> Result<Document, XmlError> {
        if input.len() > limits.max_bytes {
            return Err(XmlError::TooLarge {
                size: input.len(),
                limit: limits.max_bytes,
            });
        }
        let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
        let text = std::str::from_utf8(input).map_err(|e| XmlError::Encoding {
            detail: format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        })?;
        Builder::new(text, limits).run()
    }

    /// Parses with the default [`Limits`].
    ///
    /// # Errors
    /// As [`Document::parse`].
    pub fn parse_str(input: &str) -> Result<Document, XmlError> {
        Document::parse(input.as_bytes(), &Limits::default())
    }

    /// The original text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The document element.
    pub fn root(&self) -> NodeId {
        self.root
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The element at `id`, or `None` for other kinds of node.
    pub fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.node(id).kind {
            NodeKind::Element(e) => Some(e),
            _ => None,
        }
    }

    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).parent
    }

    /// All children, in document order.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.node(id).children.iter().copied()
    }

    /// Element children, in document order.
    pub fn child_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(move |c| self.element(*c).is_some())
    }

    /// The first child element named `{ns}local`.
    pub fn child(&self, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
        self.child_elements(id)
            .find(|c| self.element(*c).is_some_and(|e| e.is(ns, local)))
    }

    /// Concatenated text of the direct text children of `id`.
    pub fn text(&self, id: NodeId) -> String {
        let mut out = String::new();
        for c in self.children(id) {
            if let NodeKind::Text(t) = &self.node(c).kind {
                out.push_str(t);
            }
        }
        out
    }

    /// The original bytes of the node.
    pub fn raw(&self, id: NodeId) -> &str {
        &self.source[self.node(id).span.clone()]
    }

    /// Whether `ancestor` is `node` or contains it.
    pub fn contains(&self, ancestor: NodeId, node: NodeId) -> bool {
        let mut cur = Some(node);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.parent(c);
        }
        false
    }

    /// The element whose `Id` (or `ID`, `id`) attribute equals `value`.
    ///
    /// # Errors
    /// [`XmlError::DuplicateId`] when more than one element carries that value: a reference to a
    /// repeated Id is ambiguous, which is how signature wrapping attacks begin.
    pub fn element_by_id(&self, value: &str) -> Result<Option<NodeId>, XmlError> {
        match self.ids.get(value).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(*one)),
            Some(_) => Err(XmlError::DuplicateId { id: value.to_owned() }),
        }
    }

    /// Namespace bindings in scope at `id` that are declared on its ancestors (not on `id`
    /// itself), nearest declaration winning. Includes a default-namespace binding, if any.
    pub fn inherited_namespaces(&self, id: NodeId) -> Vec<NsDecl> {
        let mut seen: Vec<NsDecl> = Vec::new();
        let mut cur = self.parent(id);
        while let Some(c) = cur {
            if let Some(e) = self.element(c) {
                for d in &e.ns_decls {
                    if !seen.iter().any(|s| s.prefix == d.prefix) {
                        seen.push(d.clone());
                    }
                }
            }
            cur = self.parent(c);
        }
        seen
    }

    /// Most bytes a canonical form ([`c14n`], [`transform`]) of any part of this document may
    /// have: 8 times the document plus 64 KiB. Canonical forms grow legitimately (`<a/>` becomes
    /// `<a></a>`, namespace declarations are repeated where used), but a hostile document can
    /// make them grow without bound by re-declaring a long namespace on many siblings; past this
    /// they are refused.
    pub fn canonical_output_limit(&self) -> usize {
        self.source.len().saturating_mul(8).saturating_add(64 * 1024)
    }

    /// Cuts the element `id` out of the document as self-contained text: the original bytes, with
    /// declarations added to its start tag for every inherited namespace prefix the subtree uses.
    /// Canonical forms (exc-c14n, the SMEV transform) of the result equal those of the original
    /// subtree, so signatures over it stay valid.
    pub fn extract(&self, id: NodeId) -> RawElement {
        let raw = self.raw(id);
        let Some(el) = self.element(id) else {
            return RawElement { xml: raw.to_owned() };
        };
        let mut used: Vec<Option<&str>> = Vec::new();
        self.collect_used_prefixes(id, &mut used);
        let mut decls = String::new();
        for d in self.inherited_namespaces(id) {
            let declared_here = el.ns_decls.iter().any(|l| l.prefix == d.prefix);
            // Prefixes can also be used inside values (QNames such as `xsi:type="p:T"`), which
            // the tree does not resolve: any inherited prefix that appears as `p:` in the text
            // is declared too. An unneeded declaration changes no canonical form.
            let in_values = d
                .prefix
                .as_deref()
                .is_some_and(|p| raw.contains(&format!("{p}:")));
            if declared_here || !(used.contains(&d.prefix.as_deref()) || in_values) {
                continue;
            }
            match &d.prefix {
                Some(p) => decls.push_str(&format!(" xmlns:{p}=\"{}\"", escape_attr(&d.uri))),
                None => decls.push_str(&format!(" xmlns=\"{}\"", escape_attr(&d.uri))),
            }
        }
        if decls.is_empty() {
            return RawElement { xml: raw.to_owned() };
        }
        let name_end = 1 + el.qname().len();
        let mut xml = String::with_capacity(raw.len() + decls.len());
        xml.push_str(&raw[..name_end]);
        xml.push_str(&decls);
        xml.push_str(&raw[name_end..]);
        RawElement { xml }
    }

    fn collect_used_prefixes<'a>(&'a self, id: NodeId, used: &mut Vec<Option<&'a str>>) {
        if let Some(e) = self.element(id) {
            let mut note = |p: Option<&'a str>| {
                if !used.contains(&p) {
                    used.push(p);
                }
            };
            note(e.prefix.as_deref());
            for a in &e.attributes {
                if let Some(p) = a.prefix.as_deref() {
                    note(Some(p));
                }
            }
            for c in self.children(id) {
                self.collect_used_prefixes(c, used);
            }
        }
    }
}

/// An element held as self-contained original text (see [`Document::extract`]). Writers embed
/// it verbatim, which is what keeps signatures over `xs:any` content valid end to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawElement {
    xml: String,
}

impl RawElement {
    /// Parses `xml`, which must hold exactly one element (surrounding whitespace allowed), and
    /// keeps it as it is.
    ///
    /// # Errors
    /// Any [`XmlError`] from parsing, under `limits`.
    pub fn parse(xml: &str, limits: &Limits) -> Result<RawElement, XmlError> {
        let doc = Document::parse(xml.as_bytes(), limits)?;
        Ok(doc.extract(doc.root()))
    }

    /// Wraps text the node wrote itself or read back from its own record, which is known to
    /// hold exactly one well-formed element, without parsing it again. Debug builds (the tests)
    /// still parse it, so a writer that breaks the promise fails there.
    pub(crate) fn built(xml: String) -> RawElement {
        debug_assert!(
            RawElement::parse(&xml, &Limits::default()).is_ok_and(|e| e.xml == xml.trim()),
            "not one well-formed element: {xml}"
        );
        RawElement { xml }
    }

    pub fn as_str(&self) -> &str {
        &self.xml
    }

    pub fn into_string(self) -> String {
        self.xml
    }

    /// Parses the held text again, for callers that need the tree.
    ///
    /// # Errors
    /// Only a limit smaller than the one the element was read under can fail here.
    pub fn document(&self, limits: &Limits) -> Result<Document, XmlError> {
        Document::parse(self.xml.as_bytes(), limits)
    }
}

/// Escapes an attribute value for a double-quoted attribute.
pub fn escape_attr(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes character data.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// Builds a [`Document`] from quick-xml events.
struct Builder<'a> {
    text: &'a str,
    limits: &'a Limits,
    nodes: Vec<Node>,
    /// Open elements.
    stack: Vec<NodeId>,
    /// Namespace scopes: one list of (prefix, uri) per open element.
    scopes: Vec<Vec<(Option<String>, Arc<str>)>>,
    root: Option<NodeId>,
    ids: HashMap<String, Vec<NodeId>>,
    /// Text being accumulated across Text/CData/GeneralRef events, with the byte it started at.
    pending_text: Option<(usize, String)>,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str, limits: &'a Limits) -> Self {
        Builder {
            text,
            limits,
            nodes: Vec::new(),
            stack: Vec::new(),
            scopes: Vec::new(),
            root: None,
            ids: HashMap::new(),
            pending_text: None,
        }
    }

    fn run(mut self) -> Result<Document, XmlError> {
        let mut reader = Reader::from_str(self.text);
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.check_comments = true;
        cfg.expand_empty_elements = false;
        loop {
            let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = reader.read_event().map_err(|e| XmlError::Malformed {
                position: usize::try_from(reader.error_position()).unwrap_or(start),
                detail: e.to_string(),
            })?;
            let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            match event {
                Event::Start(e) => {
                    self.flush_text(start)?;
                    let id = self.open_element(&e, start)?;
                    self.stack.push(id);
                }
                Event::Empty(e) => {
                    self.flush_text(start)?;
                    let id = self.open_element(&e, start)?;
                    self.nodes[id.index()].span.end = end;
                    self.scopes.pop();
                }
                Event::End(_) => {
                    self.flush_text(start)?;
                    let id = self.stack.pop().ok_or_else(|| XmlError::Malformed {
                        position: start,
                        detail: "end tag without a start tag".into(),
                    })?;
                    self.nodes[id.index()].span.end = end;
                    self.scopes.pop();
                }
                Event::Text(t) => {
                    let content = t.xml10_content();
                    self.push_text(start, &content)?;
                }
                Event::CData(c) => {
                    let raw = c.into_inner();
                    let normalized = normalize_eol(&raw);
                    self.push_text(start, &normalized)?;
                }
                Event::GeneralRef(r) => {
                    let ch = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r {
                            "lt" => '<',
                            "gt" => '>',
                            "amp" => '&',
                            "apos" => '\'',
                            "quot" => '"',
                            other => {
                                return Err(XmlError::UndeclaredEntity {
                                    name: other.to_owned(),
                                    position: start,
                                });
                            }
                        },
                        Err(e) => {
                            return Err(XmlError::Malformed {
                                position: start,
                                detail: e.to_string(),
                            });
                        }
                    };
                    let mut buf = [0u8; 4];
                    self.push_text(start, ch.encode_utf8(&mut buf))?;
                }
                Event::Comment(c) => {
                    self.flush_text(start)?;
                    let body = normalize_eol(&c);
                    self.add_leaf(NodeKind::Comment(body.into_owned()), start..end)?;
                }
                Event::PI(pi) => {
                    self.flush_text(start)?;
                    let target = pi.target().to_owned();
                    let data = pi.content().trim_start().to_owned();
                    if target.eq_ignore_ascii_case("xml") {
                        return Err(XmlError::Malformed {
                            position: start,
                            detail: "XML declaration is only allowed at the start".into(),
                        });
                    }
                    self.add_leaf(NodeKind::ProcessingInstruction { target, data }, start..end)?;
                }
                Event::Decl(d) => {
                    if start != 0 {
                        return Err(XmlError::Malformed {
                            position: start,
                            detail: "XML declaration is only allowed at the start".into(),
                        });
                    }
                    if let Some(enc) = d.encoding() {
                        let enc = enc.map_err(|e| XmlError::Malformed {
                            position: start,
                            detail: e.to_string(),
                        })?;
                        let enc = enc.to_ascii_lowercase();
                        if enc != "utf-8" && enc != "utf8" {
                            return Err(XmlError::Encoding {
                                detail: format!("declared encoding `{enc}`; only UTF-8 is accepted"),
                            });
                        }
                    }
                }
                Event::DocType(_) => return Err(XmlError::DoctypeForbidden { position: start }),
                Event::Eof => break,
            }
        }
        if let Some(open) = self.stack.last() {
            let position = self.nodes[open.index()].span.start;
            return Err(XmlError::Malformed {
                position,
                detail: "element is never closed".into(),
            });
        }
        let root = self.root.ok_or(XmlError::NoRootElement)?;
        Ok(Document {
            source: self.text.to_owned(),
            nodes: self.nodes,
            root,
            ids: self.ids,
        })
    }

    fn push_text(&mut self, start: usize, s: &str) -> Result<(), XmlError> {
        check_chars(s, start)?;
        if self.stack.is_empty() {
            if s.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                return Ok(());
            }
            return Err(XmlError::Malformed {
                position: start,
                detail: "text outside the document element".into(),
            });
        }
        match &mut self.pending_text {
            Some((_, buf)) => buf.push_str(s),
            None => self.pending_text = Some((start, s.to_owned())),
        }
        Ok(())
    }

    fn flush_text(&mut self, end: usize) -> Result<(), XmlError> {
        if let Some((start, text)) = self.pending_text.take() {
            self.add_leaf(NodeKind::Text(text), start..end)?;
        }
        Ok(())
    }

    fn add_leaf(&mut self, kind: NodeKind, span: Range<usize>) -> Result<NodeId, XmlError> {
        let parent = self.stack.last().copied();
        if parent.is_none() && matches!(kind, NodeKind::Text(_)) {
            return Err(XmlError::Malformed {
                position: span.start,
                detail: "text outside the document element".into(),
            });
        }
        self.add_node(Node {
            kind,
            parent,
            children: Vec::new(),
            span,
        })
    }

    fn add_node(&mut self, node: Node) -> Result<NodeId, XmlError> {
        if self.nodes.len() >= self.limits.max_nodes {
            return Err(XmlError::TooManyNodes {
                limit: self.limits.max_nodes,
            });
        }
        let id = NodeId(
            u32::try_from(self.nodes.len()).map_err(|_| XmlError::TooManyNodes {
                limit: self.limits.max_nodes,
            })?,
        );
        if let Some(p) = node.parent {
            self.nodes[p.index()].children.push(id);
        }
        self.nodes.push(node);
        Ok(id)
    }

    fn resolve(&self, prefix: Option<&str>, position: usize) -> Result<Option<Arc<str>>, XmlError> {
        if prefix == Some("xml") {
            return Ok(Some(Arc::from(XML_NS)));
        }
        for scope in self.scopes.iter().rev() {
            for (p, uri) in scope.iter().rev() {
                if p.as_deref() == prefix {
                    // xmlns="" undeclares the default namespace.
                    return Ok(if uri.is_empty() { None } else { Some(uri.clone()) });
                }
            }
        }
        match prefix {
            None => Ok(None),
            Some(p) => Err(XmlError::UnboundPrefix {
                prefix: p.to_owned(),
                position,
            }),
        }
    }

    fn open_element(&mut self, e: &BytesStart<'_>, start: usize) -> Result<NodeId, XmlError> {
        if self.stack.is_empty() && self.root.is_some() {
            return Err(XmlError::Malformed {
                position: start,
                detail: "more than one document element".into(),
            });
        }
        if self.stack.len() + 1 > self.limits.max_depth {
            return Err(XmlError::TooDeep {
                limit: self.limits.max_depth,
                position: start,
            });
        }
        let (prefix, local) = split_qname(e.name().into_inner(), start)?;

        let mut ns_decls = Vec::new();
        let mut raw_attrs: Vec<(&str, String)> = Vec::new();
        let mut count = 0usize;
        for attr in e.attributes().with_checks(true) {
            let attr: QAttribute<'_> = attr.map_err(|err| match err {
                quick_xml::events::attributes::AttrError::Duplicated(at, _) => XmlError::DuplicateAttribute {
                    name: e
                        .attributes_raw()
                        .get(at..)
                        .unwrap_or("")
                        .split('=')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_owned(),
                    position: start,
                },
                other => XmlError::Malformed {
                    position: start,
                    detail: other.to_string(),
                },
            })?;
            count += 1;
            if count > self.limits.max_attributes {
                return Err(XmlError::TooManyAttributes {
                    limit: self.limits.max_attributes,
                    position: start,
                });
            }
            let key = attr.key.into_inner();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| match err {
                    quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => {
                        XmlError::UndeclaredEntity {
                            name,
                            position: start,
                        }
                    }
                    other => XmlError::Malformed {
                        position: start,
                        detail: other.to_string(),
                    },
                })?
                .into_owned();
            check_chars(&value, start)?;
            if key == "xmlns" {
                ns_decls.push(NsDecl {
                    prefix: None,
                    uri: value,
                });
            } else if let Some(p) = key.strip_prefix("xmlns:") {
                if value.is_empty() {
                    return Err(XmlError::Malformed {
                        position: start,
                        detail: format!("prefix `{p}` bound to an empty namespace"),
                    });
                }
                ns_decls.push(NsDecl {
                    prefix: Some(p.to_owned()),
                    uri: value,
                });
            } else {
                raw_attrs.push((key, value));
            }
        }
        self.scopes.push(
            ns_decls
                .iter()
                .map(|d| (d.prefix.clone(), Arc::from(d.uri.as_str())))
                .collect(),
        );
        let ns = self.resolve(prefix.as_deref(), start)?;
        let mut attributes = Vec::with_capacity(raw_attrs.len());
        for (key, value) in raw_attrs {
            let (aprefix, alocal) = split_qname(key, start)?;
            let ans = match &aprefix {
                Some(p) => self.resolve(Some(p), start)?,
                None => None,
            };
            if attributes
                .iter()
                .any(|a: &Attribute| a.local == alocal && a.ns == ans)
            {
                return Err(XmlError::DuplicateAttribute {
                    name: key.to_owned(),
                    position: start,
                });
            }
            attributes.push(Attribute {
                prefix: aprefix,
                local: alocal,
                ns: ans,
                value,
            });
        }
        let parent = self.stack.last().copied();
        let element = Element {
            prefix,
            local,
            ns,
            ns_decls,
            attributes,
        };
        let id_values: Vec<String> = element
            .attributes
            .iter()
            .filter(|a| a.ns.is_none() && ID_ATTRIBUTES.contains(&a.local.as_str()))
            .map(|a| a.value.clone())
            .collect();
        let id = self.add_node(Node {
            kind: NodeKind::Element(element),
            parent,
            children: Vec::new(),
            span: start..start,
        })?;
        for v in id_values {
            self.ids.entry(v).or_default().push(id);
        }
        if parent.is_none() {
            self.root = Some(id);
        }
        Ok(id)
    }
}

/// Refuses characters outside XML 1.0's `Char` production (control characters other than tab,
/// line feed and carriage return; U+FFFE, U+FFFF), whether literal or from a character reference:
/// relayed verbatim they would make the node's own output ill-formed.
fn check_chars(s: &str, position: usize) -> Result<(), XmlError> {
    match s
        .chars()
        .find(|&c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        Some(c) => Err(XmlError::ForbiddenCharacter {
            code: u32::from(c),
            position,
        }),
        None => Ok(()),
    }
}

fn split_qname(name: &str, position: usize) -> Result<(Option<String>, String), XmlError> {
    let bad = || XmlError::Malformed {
        position,
        detail: format!("`{name}` is not a valid qualified name"),
    };
    if name.is_empty() {
        return Err(bad());
    }
    match name.split_once(':') {
        None => Ok((None, name.to_owned())),
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => {
            Ok((Some(p.to_owned()), l.to_owned()))
        }
        Some(_) => Err(bad()),
    }
}

fn normalize_eol(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\r') {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}
