//! The read-only tree: [`Document`], its [`Node`]s and what they hold, and the accessors the
//! rest of the node reads documents with. Documents are built by the reader (reader.rs).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::error::XmlError;

/// The namespace bound to the `xml` prefix by definition.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Index of a node in its [`Document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(super) u32);

impl NodeId {
    pub(super) fn index(self) -> usize {
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
    pub(super) children: Vec<NodeId>,
    /// Bytes of the node in the original text; for an element, from `<` to the end of its end tag.
    pub span: Range<usize>,
}

/// A parsed, read-only XML document that owns its source text.
#[derive(Debug, Clone)]
pub struct Document {
    pub(super) source: String,
    pub(super) nodes: Vec<Node>,
    pub(super) root: NodeId,
    /// Elements carrying an unprefixed `Id`/`ID`/`id` attribute, by value. More than one entry
    /// under a value means the document repeats an Id (see [`Document::element_by_id`]).
    pub(super) ids: HashMap<String, Vec<NodeId>>,
}

impl Document {
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

    /// Most bytes a canonical form ([`c14n`](super::c14n), [`transform`](super::transform)) of
    /// any part of this document may have: 8 times the document plus 64 KiB. Canonical forms grow legitimately (`<a/>` becomes
    /// `<a></a>`, namespace declarations are repeated where used), but a hostile document can
    /// make them grow without bound by re-declaring a long namespace on many siblings; past this
    /// they are refused.
    pub fn canonical_output_limit(&self) -> usize {
        self.source.len().saturating_mul(8).saturating_add(64 * 1024)
    }
}
