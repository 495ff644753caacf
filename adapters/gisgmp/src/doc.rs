//! GIS GMP documents as the module reads, keeps and writes them: an owned element tree ([`El`])
//! read with the node's hardened XML reader, and written back with the prefixes the official
//! etalons use (`com`, `org`, `chg`, `pmnt`, `qt`, `pkg`, `sc`, `rfd`; the service's own namespace
//! as `req`), every namespace declared once on the root.
//!
//! The tree keeps what GIS GMP documents hold: elements, unprefixed attributes in document order,
//! and the text of leaf elements (`<sc:SupplierBillID>…</sc:SupplierBillID>`). Comments,
//! processing instructions and whitespace between elements are dropped; a document that needs
//! more (mixed content) is not a GIS GMP document.
//!
//! Elements are looked up by local name: within one document of the formats a local name means
//! one thing, whatever the version in its namespace. [`Version`] names the namespaces of a format
//! version, so a charge imported in 2.4.0 can be exported under 2.5.1 names ([`El::set_version`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rsmev_broker::xml::{Document, Limits, NodeKind, escape_attr, escape_text};

/// The format versions the module reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// 2.4.0: the official package with its etalons; the default.
    V2_4_0,
    /// 2.5.1: its entity schemas (`Charge`, `Common`, `Organization`, `SearchConditions`).
    V2_5_1,
}

/// The entity namespaces' common start.
const ENTITY_BASE: &str = "http://roskazna.ru/gisgmp/xsd/";
/// The service namespaces' common start.
const SERVICE_BASE: &str = "urn://roskazna.ru/gisgmp/xsd/services/";

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2_4_0 => "2.4.0",
            Version::V2_5_1 => "2.5.1",
        }
    }

    /// `2.4.0` or `2.5.1`.
    pub fn parse(s: &str) -> Option<Version> {
        match s.trim() {
            "2.4.0" => Some(Version::V2_4_0),
            "2.5.1" => Some(Version::V2_5_1),
            _ => None,
        }
    }

    /// The namespace of entity `name` (`Charge`, `Common`, …).
    pub fn entity(self, name: &str) -> String {
        format!("{ENTITY_BASE}{name}/{}", self.as_str())
    }

    /// The namespace of service `segment` (`import-charges`, `export-quittances`, …).
    pub fn service(self, segment: &str) -> String {
        format!("{SERVICE_BASE}{segment}/{}", self.as_str())
    }

    /// The version a GIS GMP namespace names, with its kind and name: `(version, service?, name)`.
    pub fn of_namespace(ns: &str) -> Option<(Version, bool, &str)> {
        let (service, rest) = if let Some(rest) = ns.strip_prefix(SERVICE_BASE) {
            (true, rest)
        } else {
            (false, ns.strip_prefix(ENTITY_BASE)?)
        };
        let (name, version) = rest.rsplit_once('/')?;
        Some((Version::parse(version)?, service, name))
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocError {
    #[error("not well-formed XML: {0}")]
    Xml(String),
    #[error("element `{0}` has mixed content")]
    Mixed(String),
    #[error("the root element `{0}` is not in a GIS GMP namespace of a supported version")]
    Namespace(String),
}

/// An element of a GIS GMP document. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct El {
    pub ns: String,
    pub local: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<El>,
    /// The text of a leaf element; empty otherwise.
    pub text: String,
}

impl El {
    pub fn new(ns: impl Into<String>, local: impl Into<String>) -> El {
        El {
            ns: ns.into(),
            local: local.into(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: String::new(),
        }
    }

    /// Reads a document with the node's reader (its limits refuse hostile XML).
    ///
    /// # Errors
    /// [`DocError`] naming what is wrong.
    pub fn parse(xml: &str) -> Result<El, DocError> {
        let doc =
            Document::parse(xml.as_bytes(), &Limits::default()).map_err(|e| DocError::Xml(e.to_string()))?;
        from_node(&doc, doc.root())
    }

    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets attribute `name`, in place when present, else last.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => self.attrs.push((name.to_owned(), value)),
        }
    }

    /// Removes attribute `name`.
    pub fn remove(&mut self, name: &str) {
        self.attrs.retain(|(n, _)| n != name);
    }

    /// Builder form of [`El::set`].
    pub fn with(mut self, name: &str, value: impl Into<String>) -> El {
        self.set(name, value);
        self
    }

    /// Builder form: appends a child.
    pub fn child_el(mut self, child: El) -> El {
        self.children.push(child);
        self
    }

    /// Builder form: sets the text.
    pub fn with_text(mut self, text: impl Into<String>) -> El {
        self.text = text.into();
        self
    }

    /// The first child named `local`.
    pub fn child(&self, local: &str) -> Option<&El> {
        self.children.iter().find(|c| c.local == local)
    }

    /// The first child named `local`, to change.
    pub fn child_mut(&mut self, local: &str) -> Option<&mut El> {
        self.children.iter_mut().find(|c| c.local == local)
    }

    /// The children named `local`.
    pub fn children_named<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.local == local)
    }

    /// The element at `path` of local names below this one.
    pub fn at(&self, path: &[&str]) -> Option<&El> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// The version of this element's namespace, when it is a GIS GMP one.
    pub fn version(&self) -> Option<Version> {
        Version::of_namespace(&self.ns).map(|(v, _, _)| v)
    }

    /// Moves every GIS GMP namespace of the tree to `version`.
    pub fn set_version(&mut self, version: Version) {
        if let Some((v, service, name)) = Version::of_namespace(&self.ns)
            && v != version
        {
            self.ns = if service {
                version.service(name)
            } else {
                version.entity(name)
            };
        }
        for c in &mut self.children {
            c.set_version(version);
        }
    }

    /// The document: this element with every namespace of the tree declared on it.
    pub fn to_xml(&self) -> String {
        let mut prefixes = BTreeMap::new();
        self.collect_namespaces(&mut prefixes);
        let mut out = String::with_capacity(1024);
        self.write(&mut out, &prefixes, true);
        out
    }

    fn collect_namespaces(&self, prefixes: &mut BTreeMap<String, String>) {
        if !prefixes.contains_key(&self.ns) {
            let wanted = prefix_for(&self.ns);
            let prefix = if prefixes.values().any(|p| *p == wanted) {
                format!("ns{}", prefixes.len() + 1)
            } else {
                wanted
            };
            prefixes.insert(self.ns.clone(), prefix);
        }
        for c in &self.children {
            c.collect_namespaces(prefixes);
        }
    }

    fn write(&self, out: &mut String, prefixes: &BTreeMap<String, String>, root: bool) {
        let prefix = &prefixes[&self.ns];
        let _ = write!(out, "<{prefix}:{}", self.local);
        if root {
            for (ns, p) in prefixes {
                let _ = write!(out, " xmlns:{p}=\"{}\"", escape_attr(ns));
            }
        }
        for (n, v) in &self.attrs {
            let _ = write!(out, " {n}=\"{}\"", escape_attr(v));
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        out.push_str(&escape_text(&self.text));
        for c in &self.children {
            c.write(out, prefixes, false);
        }
        let _ = write!(out, "</{prefix}:{}>", self.local);
    }
}

/// The prefix the etalons give a namespace.
fn prefix_for(ns: &str) -> String {
    match Version::of_namespace(ns) {
        Some((_, true, _)) => "req".into(),
        Some((_, false, name)) => match name {
            "Common" => "com",
            "Organization" => "org",
            "Charge" => "chg",
            "Payment" => "pmnt",
            "Quittance" => "qt",
            "Package" => "pkg",
            "SearchConditions" => "sc",
            "Refund" => "rfd",
            _ => "ent",
        }
        .into(),
        None => "ns".into(),
    }
}

fn from_node(doc: &Document, id: rsmev_broker::xml::NodeId) -> Result<El, DocError> {
    let Some(e) = doc.element(id) else {
        return Err(DocError::Xml("the document has no root element".into()));
    };
    let mut el = El::new(e.ns.as_deref().unwrap_or(""), e.local.clone());
    el.attrs = e
        .attributes
        .iter()
        .filter(|a| a.ns.is_none())
        .map(|a| (a.local.clone(), a.value.clone()))
        .collect();
    let mut text = String::new();
    for c in doc.children(id) {
        match &doc.node(c).kind {
            NodeKind::Element(_) => el.children.push(from_node(doc, c)?),
            NodeKind::Text(t) => text.push_str(t),
            NodeKind::Comment(_) | NodeKind::ProcessingInstruction { .. } => {}
        }
    }
    if el.children.is_empty() {
        el.text = text;
    } else if !text.trim().is_empty() {
        return Err(DocError::Mixed(e.local.clone()));
    }
    Ok(el)
}

#[cfg(test)]
mod tests;
