//! [`Seq`]: the element children of one element, read in schema order.

use crate::envelope::EnvelopeError;
use crate::xml::{Document, NodeId, NodeKind};

use super::{NO_NS, Result, expanded_name, is_xml_whitespace};

/// The element children of one element, read in schema order.
pub(super) struct Seq<'d> {
    doc: &'d Document,
    parent: NodeId,
    parent_name: &'static str,
    items: Vec<NodeId>,
    pos: usize,
}

impl<'d> Seq<'d> {
    pub(super) fn new(doc: &'d Document, parent: NodeId, parent_name: &'static str) -> Result<Seq<'d>> {
        let mut items = Vec::new();
        for child in doc.children(parent) {
            match &doc.node(child).kind {
                NodeKind::Element(_) => items.push(child),
                NodeKind::Text(t) if !is_xml_whitespace(t) => {
                    return Err(EnvelopeError::UnexpectedText {
                        element: parent_name,
                        position: doc.node(child).span.start,
                    });
                }
                _ => {}
            }
        }
        Ok(Seq {
            doc,
            parent,
            parent_name,
            items,
            pos: 0,
        })
    }

    pub(super) fn matches(&self, id: NodeId, ns: &str, local: &str) -> bool {
        self.doc
            .element(id)
            .is_some_and(|e| e.local == local && e.ns.as_deref().unwrap_or(NO_NS) == ns)
    }

    pub(super) fn peek(&self) -> Option<NodeId> {
        self.items.get(self.pos).copied()
    }

    pub(super) fn opt(&mut self, ns: &str, local: &str) -> Option<NodeId> {
        let next = self.peek().filter(|id| self.matches(*id, ns, local))?;
        self.pos += 1;
        Some(next)
    }

    pub(super) fn req(&mut self, ns: &str, local: &'static str) -> Result<NodeId> {
        self.opt(ns, local).ok_or_else(|| EnvelopeError::MissingElement {
            parent: self.parent_name,
            element: local,
            position: self.here(),
        })
    }

    pub(super) fn many(&mut self, ns: &str, local: &str) -> Vec<NodeId> {
        let mut out = Vec::new();
        while let Some(id) = self.opt(ns, local) {
            out.push(id);
        }
        out
    }

    /// At least one.
    pub(super) fn some(&mut self, ns: &str, local: &'static str) -> Result<Vec<NodeId>> {
        let first = self.req(ns, local)?;
        let mut out = vec![first];
        out.extend(self.many(ns, local));
        Ok(out)
    }

    /// Takes the next element whatever it is.
    pub(super) fn any(&mut self) -> Option<NodeId> {
        let next = self.peek()?;
        self.pos += 1;
        Some(next)
    }

    /// Where the next element is, or the end of the parent.
    pub(super) fn here(&self) -> usize {
        match self.peek() {
            Some(id) => self.doc.node(id).span.start,
            None => self.doc.node(self.parent).span.end,
        }
    }

    pub(super) fn end(self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(id) => Err(EnvelopeError::UnexpectedElement {
                parent: self.parent_name,
                found: expanded_name(self.doc, id),
                position: self.doc.node(id).span.start,
            }),
        }
    }
}
