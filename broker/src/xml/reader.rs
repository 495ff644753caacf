//! The hardened reader: [`Document::parse`] builds a [`Document`] from quick-xml events, refusing
//! DOCTYPE, entities, non-UTF-8 input and forbidden characters, and enforcing the [`Limits`].

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use quick_xml::Reader;
use quick_xml::events::attributes::Attribute as QAttribute;
use quick_xml::events::{BytesStart, Event};

use super::error::XmlError;
use super::limits::Limits;
use super::tree::{Attribute, Document, Element, Node, NodeId, NodeKind, NsDecl, XML_NS};

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
