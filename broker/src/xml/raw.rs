//! Elements cut out of a document as self-contained text: [`Document::extract`] and
//! [`RawElement`], which writers embed verbatim.

use super::error::XmlError;
use super::escape::escape_attr;
use super::limits::Limits;
use super::tree::{Document, NodeId};

impl Document {
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
