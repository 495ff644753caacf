//! Format control: validation of business content against the XSDs of its information type.
//!
//! SMEV answers a business element that breaks its schema with an `InvalidContent` fault listing
//! *every* violation with its position. That needs a complete XSD 1.0 engine (imports across
//! files, substitution, identity constraints, facets on built-in types), so this module does not
//! write one: it drives libxml2's, the engine behind `xmllint --schema`, which the SMEV and
//! GIS GMP schemas are routinely checked with.
//!
//! - [`SchemaSet`]: the `*.xsd` entry points of a directory, compiled once, keyed by their
//!   `targetNamespace`. [`SchemaSet::validate`] picks the schema by the namespace of the root
//!   element (the information type's QName) and returns all [`Violation`]s, with line and column.
//! - [`SchemaCache`]: compiled sets by directory, so each registry directory is compiled once per
//!   process (compiling the GIS GMP package takes far longer than validating a message).
//! - [`write_xsd_set`]: a set stored with the registry, written out as files for libxml2.
//! - `ffi` (private): the only code of the crate that calls C.
//!
//! Hostile input: a document first goes through the hardened reader ([`crate::xml::Document`]),
//! which refuses DOCTYPE and entities and enforces the size and depth [`Limits`]; only then does
//! libxml2 parse it, again without DTD loading, entity substitution or network access. Schema
//! compilation cannot fetch from the network either (see `ffi::init`), and `xsi:schemaLocation`
//! in an instance is ignored: the registry's schemas are the only ones ever used.
//!
//! Thread safety: libxml2 treats a compiled schema (`xmlSchemaPtr`) as read-only, while all
//! mutable state of a validation lives in a validation context. So a [`SchemaSet`] holds the
//! compiled schemas behind an `Arc` and is `Send + Sync`; every [`SchemaSet::validate`] call
//! creates its own parser context, tree and validation context and frees them before returning.
//! Diagnostics are gathered per call through libxml2's structured error callback. Validation is
//! CPU work, some 25-35 MiB/s on one core (`benches/benches/xsd.rs`: ~20 µs for 1 KiB, ~40 ms for
//! 1 MiB): async callers with large documents run it on a blocking thread.
//!
//! Positions: libxml2 reports the element an error is about; this module maps that element to the
//! same element of the hardened reader's tree, whose byte spans give an exact line and column of
//! its start tag (libxml2 itself keeps only a 16-bit line per element and no column).

// This module is the crate's one FFI boundary (libxml2): the workspace denies `unsafe_code`, and
// this allow covers `ffi`, where each unsafe block carries a `// SAFETY:` argument.
#![allow(unsafe_code)]

mod cache;
mod ffi;
mod files;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use cache::SchemaCache;
pub use files::write_xsd_set;

use crate::xml::{Document, Limits, NodeId, XmlError};

/// One XSD violation of a validated document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1-based line of the offending element's start tag (or of the problem), 0 if unknown.
    pub line: u32,
    /// 1-based column, in characters, 0 if unknown.
    pub column: u32,
    /// What is wrong, as the XSD engine words it, e.g.
    /// `Element '{urn:x}amount': 'abc' is not a valid value of the atomic type 'xs:integer'.`
    pub message: String,
}

impl fmt::Display for Violation {
    /// `line 12, column 5: Element '...': ...`; the parts that are unknown are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => f.write_str(&self.message),
            (line, 0) => write!(f, "line {line}: {}", self.message),
            (line, column) => write!(f, "line {line}, column {column}: {}", self.message),
        }
    }
}

/// Why a set of schemas could not be written out or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot compile {}: {}", file.display(), errors.join("; "))]
    Compile {
        /// The entry-point schema being compiled (the error may be in a file it imports).
        file: PathBuf,
        /// Every diagnostic of the XSD engine, `file:line: message`, warnings prefixed `warning: `.
        errors: Vec<String>,
    },
    #[error("no *.xsd file directly in {}", dir.display())]
    NoSchemas { dir: PathBuf },
    #[error(
        "{} and {} both define namespace '{namespace}'; one entry point per namespace is supported",
        first.display(),
        second.display()
    )]
    DuplicateNamespace {
        namespace: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("schema path {} is not valid UTF-8", path.display())]
    InvalidPath { path: PathBuf },
    /// A stored set could not be written out ([`write_xsd_set`]).
    #[error("writing XSD set `{name}` to {path}: {source}")]
    WriteSet {
        name: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A compiled set of XSDs, one entry point per target namespace. Cloning is cheap (the compiled
/// schemas are shared); the set is `Send + Sync` and validates from many threads at once.
#[derive(Clone)]
pub struct SchemaSet {
    schemas: Arc<BTreeMap<String, Entry>>,
    limits: Limits,
}

struct Entry {
    file: PathBuf,
    schema: ffi::CompiledSchema,
}

impl fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaSet")
            .field(
                "schemas",
                &self
                    .schemas
                    .iter()
                    .map(|(ns, e)| (ns.as_str(), e.file.as_path()))
                    .collect::<BTreeMap<_, _>>(),
            )
            .field("limits", &self.limits)
            .finish()
    }
}

impl SchemaSet {
    /// Compiles every `*.xsd` file directly in `dir` (not in subdirectories) as an entry point.
    /// `xs:import`/`xs:include` resolve relative to the importing file, so shared schemas can sit
    /// in a subdirectory (the GIS GMP layout: services at the root, `commons/*.xsd` beside).
    ///
    /// # Errors
    /// [`SchemaError::Io`] when `dir` cannot be listed, [`SchemaError::NoSchemas`] when it holds
    /// no `*.xsd`, [`SchemaError::Compile`] for the first entry point that does not compile,
    /// [`SchemaError::DuplicateNamespace`] when two entry points share a target namespace,
    /// [`SchemaError::InvalidPath`] for a path libxml2 cannot be given.
    pub fn load_dir(dir: &Path) -> Result<SchemaSet, SchemaError> {
        let io = |source| SchemaError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let is_xsd = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xsd"));
            if is_xsd && path.is_file() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(SchemaError::NoSchemas {
                dir: dir.to_path_buf(),
            });
        }
        files.sort();
        SchemaSet::compile_all(files)
    }

    /// Compiles the one schema at `path` (with what it imports).
    ///
    /// # Errors
    /// [`SchemaError::Io`] when `path` is not a readable file, [`SchemaError::Compile`] when it
    /// does not compile, [`SchemaError::InvalidPath`] for a path libxml2 cannot be given.
    pub fn load_file(path: &Path) -> Result<SchemaSet, SchemaError> {
        std::fs::File::open(path).map_err(|source| SchemaError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        SchemaSet::compile_all(vec![path.to_path_buf()])
    }

    fn compile_all(files: Vec<PathBuf>) -> Result<SchemaSet, SchemaError> {
        let mut schemas: BTreeMap<String, Entry> = BTreeMap::new();
        for file in files {
            if file.to_str().is_none() {
                return Err(SchemaError::InvalidPath { path: file });
            }
            let (schema, warnings) =
                ffi::CompiledSchema::compile(&file).map_err(|diagnostics| SchemaError::Compile {
                    file: file.clone(),
                    errors: diagnostics.iter().map(describe).collect(),
                })?;
            for w in &warnings {
                tracing::warn!(schema = %file.display(), "{}", describe(w));
            }
            let namespace = schema.target_namespace().unwrap_or_default();
            if let Some(first) = schemas.get(&namespace) {
                return Err(SchemaError::DuplicateNamespace {
                    namespace,
                    first: first.file.clone(),
                    second: file,
                });
            }
            schemas.insert(namespace, Entry { file, schema });
        }
        Ok(SchemaSet {
            schemas: Arc::new(schemas),
            limits: Limits::default(),
        })
    }

    /// The same schemas, reading documents under `limits` instead of the defaults.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> SchemaSet {
        self.limits = limits;
        self
    }

    /// The limits documents are read under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Target namespaces with a schema, sorted; a no-namespace schema appears as `""`.
    pub fn namespaces(&self) -> Vec<String> {
        self.schemas.keys().cloned().collect()
    }

    /// The entry-point file compiled for `namespace`.
    pub fn schema_file(&self, namespace: &str) -> Option<&Path> {
        self.schemas.get(namespace).map(|e| e.file.as_path())
    }

    /// Validates one standalone XML document (its root is the business element). The schema is
    /// the one for the root element's namespace. Returns every violation, in document order;
    /// empty means valid. Input the hardened reader refuses (malformed XML, DOCTYPE, a limit
    /// exceeded) and a root namespace without a schema are violations too. Never panics.
    pub fn validate(&self, xml: &str) -> Vec<Violation> {
        let doc = match Document::parse(xml.as_bytes(), &self.limits) {
            Ok(doc) => doc,
            Err(e) => return vec![reader_violation(xml, &e)],
        };
        let lines = LineIndex::new(doc.source());
        let root = doc.root();
        let Some(element) = doc.element(root) else {
            return vec![reader_violation(xml, &XmlError::NoRootElement)];
        };
        let namespace: String = element.ns.as_deref().unwrap_or_default().to_owned();
        let Some(entry) = self.schemas.get(&namespace) else {
            let (line, column) = lines.position(doc.node(root).span.start);
            return vec![Violation {
                line,
                column,
                message: format!(
                    "Element '{{{namespace}}}{}': no schema is registered for namespace '{namespace}'.",
                    element.local
                ),
            }];
        };
        let diagnostics = entry.schema.validate(xml);
        if diagnostics.is_empty() {
            return Vec::new();
        }
        let starts = element_starts(&doc);
        diagnostics
            .into_iter()
            .map(|d| {
                let (line, column) = match d.element.and_then(|i| starts.get(i)) {
                    Some(&offset) => lines.position(offset),
                    None => (d.line, d.column),
                };
                Violation {
                    line,
                    column,
                    message: d.message,
                }
            })
            .collect()
    }

    /// [`SchemaSet::validate`] for a document the node has already read with its hardened reader
    /// (the business document of an envelope it parsed) and whose root element is in
    /// `namespace`: libxml2 validates it without the reader's second pass over it. Only when
    /// there are violations (or no schema for `namespace`) is the document read again, to report
    /// them exactly as [`SchemaSet::validate`] does.
    pub(crate) fn validate_read(&self, namespace: &str, xml: &str) -> Vec<Violation> {
        match self.schemas.get(namespace) {
            Some(entry) if entry.schema.validate(xml).is_empty() => Vec::new(),
            _ => self.validate(xml),
        }
    }
}

/// `file:line: message` for a compile diagnostic.
fn describe(d: &ffi::Diagnostic) -> String {
    let mut out = String::new();
    if d.level == ffi::Level::Warning {
        out.push_str("warning: ");
    }
    if let Some(file) = &d.file {
        out.push_str(file);
        if d.line > 0 {
            out.push_str(&format!(":{}", d.line));
        }
        out.push_str(": ");
    }
    out.push_str(&d.message);
    out
}

/// A refusal of the hardened reader as a violation, positioned where the reader says.
fn reader_violation(xml: &str, e: &XmlError) -> Violation {
    let text = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let (line, column) = match e.position() {
        Some(offset) => LineIndex::new(text).position(offset),
        None => (0, 0),
    };
    Violation {
        line,
        column,
        message: e.to_string(),
    }
}

/// Byte offset of each element's start tag, in document order (the order libxml2's tree has).
fn element_starts(doc: &Document) -> Vec<usize> {
    let mut out = Vec::new();
    let mut stack: Vec<NodeId> = vec![doc.root()];
    while let Some(id) = stack.pop() {
        out.push(doc.node(id).span.start);
        let children: Vec<NodeId> = doc.child_elements(id).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// Line starts of a text, to turn byte offsets into 1-based line and character column.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts.get(line.saturating_sub(1)).copied().unwrap_or(0);
        let column = match self.text.get(start..offset) {
            Some(prefix) => prefix.chars().count(),
            None => offset - start,
        };
        (saturate(line), saturate(column + 1))
    }
}

fn saturate(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}
