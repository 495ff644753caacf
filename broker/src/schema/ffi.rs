//! The thin layer over libxml2's XSD engine. Every `unsafe` block of the crate lives here.
//!
//! What is owned by whom:
//! - [`CompiledSchema`] owns one `xmlSchemaPtr` (freed in `Drop`). libxml2 never writes to a
//!   compiled schema again, so it is shared, read-only, between threads.
//! - Each call to [`CompiledSchema::validate`] creates, uses and frees its own parser context,
//!   document tree and validation context; nothing of them outlives the call or crosses a thread.
//! - Diagnostics go through libxml2's *structured* error callback into a `Vec` that belongs to the
//!   call (the callback's user-data pointer), never into a global.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Once;

use libxml::bindings as xml2;

/// How serious libxml2 says a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Warning,
    Error,
}

/// One diagnostic as libxml2 reported it.
#[derive(Debug, Clone)]
pub(super) struct Diagnostic {
    pub level: Level,
    pub message: String,
    /// The file (schema diagnostics) the message is about, when libxml2 knows it.
    pub file: Option<String>,
    /// 1-based line, 0 when unknown. libxml2 keeps element lines in 16 bits in a tree, so for
    /// instance diagnostics `element` is the better source of a position.
    pub line: u32,
    /// 1-based column, 0 when unknown (libxml2 knows it only for parser errors).
    pub column: u32,
    /// For instance diagnostics: the offending element as its 0-based index among the document's
    /// elements in document order.
    pub element: Option<usize>,
    /// The element node libxml2 named, as an address, until it is turned into `element`.
    node: usize,
}

static INIT: Once = Once::new();

/// Initializes libxml2 once per process, before any other call of this module.
///
/// - `xmlInitParser`: libxml2 requires it before use from several threads.
/// - `xmlSchemaInitTypes`: builds the built-in XSD types lazily and without a lock; calling it
///   here, under `Once`, takes that race away.
/// - The external entity loader becomes libxml2's no-network loader. This is process-wide on
///   purpose: `xmlSchemaParse` loads `xs:import`/`xs:include` documents with fixed parser options
///   (there is no per-call `XML_PARSE_NONET` for schema compilation), so the loader is the only
///   place where an `http://` or `ftp://` schema location can be refused. Local files (and XML
///   catalogs) still resolve.
pub(super) fn init() {
    INIT.call_once(|| {
        // SAFETY: these are libxml2's documented initialization entry points. They take no
        // arguments, and `Once` runs them exactly once and before any other libxml2 call of this
        // module. `xmlNoNetExternalEntityLoader` is a function of libxml2 with exactly the loader
        // signature.
        unsafe {
            xml2::xmlInitParser();
            xml2::xmlSchemaInitTypes();
            xml2::xmlSetExternalEntityLoader(Some(xml2::xmlNoNetExternalEntityLoader));
        }
    });
}

/// The structured error callback: appends the error to the `Vec<Diagnostic>` behind `user`.
///
/// # Safety
/// `user` must be null or point to a live `Vec<Diagnostic>` that nothing else accesses during
/// the libxml2 call that invokes this function; `error` must be null or point to a valid
/// `xmlError` for the duration of the call (libxml2 guarantees the latter).
unsafe extern "C" fn collect(user: *mut c_void, error: xml2::xmlErrorPtr) {
    if user.is_null() || error.is_null() {
        return;
    }
    // SAFETY: per this function's contract, `user` is the per-call `Vec` registered by this module
    // and is not otherwise accessed while libxml2 runs; `error` is valid during the callback.
    let (sink, error) = unsafe { (&mut *user.cast::<Vec<Diagnostic>>(), &*error) };
    let level = if error.level == xml2::xmlErrorLevel_XML_ERR_WARNING {
        Level::Warning
    } else if error.level == xml2::xmlErrorLevel_XML_ERR_NONE {
        return;
    } else {
        Level::Error
    };
    // SAFETY: libxml2's message and file are NUL-terminated strings owned by the error, or null.
    let message = unsafe { lossy(error.message) }.unwrap_or_default();
    // SAFETY: as above.
    let file = unsafe { lossy(error.file) };
    // Parser errors carry the column in `int2`; other domains use `int2` for other things.
    let column = if error.domain == xml2::xmlErrorDomain_XML_FROM_PARSER as c_int {
        non_negative(error.int2)
    } else {
        0
    };
    sink.push(Diagnostic {
        level,
        message: message.trim_end().to_owned(),
        file,
        line: non_negative(error.line),
        column,
        element: None,
        node: error.node as usize,
    });
}

fn non_negative(v: c_int) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// Copies a C string, replacing invalid UTF-8.
///
/// # Safety
/// `s` must be null or a valid NUL-terminated string.
unsafe fn lossy(s: *const c_char) -> Option<String> {
    if s.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the contract.
    Some(unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned())
}

/// Installs [`collect`] as the calling thread's structured error handler for as long as the guard
/// lives, restoring the previous handler on drop.
///
/// Needed only while compiling schemas: libxml2 parses each schema document with a parser context
/// of its own that has no error callback, so a malformed `.xsd` would otherwise be reported on
/// stderr and lost. The handler slot is per thread in libxml2 built with threads (Debian's is),
/// the guard is created and dropped on one thread within one call, and the user data is that
/// call's own `Vec`, so nothing is shared with other threads or calls.
struct ThreadErrorGuard {
    previous: xml2::xmlStructuredErrorFunc,
    previous_context: *mut c_void,
}

impl ThreadErrorGuard {
    /// # Safety
    /// `sink` must stay valid, and not be accessed otherwise, until the guard is dropped.
    unsafe fn install(sink: *mut Vec<Diagnostic>) -> ThreadErrorGuard {
        // SAFETY: the accessors return pointers to this thread's handler slots, valid for the
        // thread's life; reading them copies a function pointer and a data pointer. Installing
        // `collect` with `sink` is sound per this function's contract.
        unsafe {
            let previous = *xml2::__xmlStructuredError();
            let previous_context = *xml2::__xmlStructuredErrorContext();
            xml2::xmlSetStructuredErrorFunc(sink.cast(), Some(collect));
            ThreadErrorGuard {
                previous,
                previous_context,
            }
        }
    }
}

impl Drop for ThreadErrorGuard {
    fn drop(&mut self) {
        // SAFETY: puts back exactly what was in this thread's slot when the guard was created.
        unsafe { xml2::xmlSetStructuredErrorFunc(self.previous_context, self.previous) };
    }
}

/// A compiled XSD (`xmlSchemaPtr`), immutable once built.
pub(super) struct CompiledSchema {
    ptr: NonNull<xml2::xmlSchema>,
}

// SAFETY: libxml2 treats a compiled `xmlSchema` as read-only: validation reads it through a
// separate `xmlSchemaValidCtxt` that each call creates for itself, and that context holds all
// mutable validation state (its own dictionary, node stacks, IDC tables). libxml2's documentation
// of the schema API states that one compiled schema may serve many validation contexts at once,
// and the lazily built global type table it reads is built up front in `init`. The pointer is
// owned uniquely by this value and freed only in `Drop`, after every borrow ended.
unsafe impl Send for CompiledSchema {}
// SAFETY: see `Send` above: shared references only ever lead to read-only use of the schema.
unsafe impl Sync for CompiledSchema {}

impl Drop for CompiledSchema {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `xmlSchemaParse`, is owned by this value, and is freed once.
        unsafe { xml2::xmlSchemaFree(self.ptr.as_ptr()) };
    }
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema")
            .field("target_namespace", &self.target_namespace())
            .finish()
    }
}

/// Frees a schema parser context when dropped.
struct ParserCtxt(NonNull<xml2::xmlSchemaParserCtxt>);

impl Drop for ParserCtxt {
    fn drop(&mut self) {
        // SAFETY: created by `xmlSchemaNewParserCtxt`, freed once.
        unsafe { xml2::xmlSchemaFreeParserCtxt(self.0.as_ptr()) };
    }
}

impl CompiledSchema {
    /// Compiles the schema document at `path` (UTF-8, no NUL); imports and includes resolve
    /// relative to it. On failure returns every diagnostic libxml2 gave (warnings included, since
    /// a failed import is only a warning until a type from it is used). On success warnings are
    /// returned beside the schema.
    pub(super) fn compile(path: &Path) -> Result<(CompiledSchema, Vec<Diagnostic>), Vec<Diagnostic>> {
        init();
        let Some(c_path) = path.to_str().and_then(|p| CString::new(p).ok()) else {
            return Err(vec![internal(format!(
                "schema path {} is not UTF-8 or contains NUL",
                path.display()
            ))]);
        };
        let mut diagnostics: Vec<Diagnostic> = Vec::new();
        let sink: *mut Vec<Diagnostic> = &mut diagnostics;
        let schema = {
            // SAFETY: `c_path` is a valid C string that outlives the call.
            let ctxt = NonNull::new(unsafe { xml2::xmlSchemaNewParserCtxt(c_path.as_ptr()) });
            let Some(ctxt) = ctxt.map(ParserCtxt) else {
                return Err(vec![internal("libxml2 could not create a schema parser context")]);
            };
            // SAFETY: `sink` points to `diagnostics`, which outlives the guard and the parser
            // context (both dropped at the end of this block) and is not touched until then.
            let _guard = unsafe { ThreadErrorGuard::install(sink) };
            // SAFETY: as above for `sink`; `ctxt` is a live parser context.
            unsafe { xml2::xmlSchemaSetParserStructuredErrors(ctxt.0.as_ptr(), Some(collect), sink.cast()) };
            // SAFETY: `ctxt` is live; the result is null or a schema we now own.
            NonNull::new(unsafe { xml2::xmlSchemaParse(ctxt.0.as_ptr()) })
        };
        match schema {
            Some(ptr) => Ok((CompiledSchema { ptr }, diagnostics)),
            None => {
                if !diagnostics.iter().any(|d| d.level == Level::Error) {
                    diagnostics.push(internal("libxml2 could not compile the schema"));
                }
                Err(diagnostics)
            }
        }
    }

    /// The schema's `targetNamespace`, `None` for a no-namespace schema.
    pub(super) fn target_namespace(&self) -> Option<String> {
        // SAFETY: `ptr` is a live compiled schema; `targetNamespace` is null or a NUL-terminated
        // string owned by the schema's dictionary, which lives as long as the schema.
        unsafe { lossy((*self.ptr.as_ptr()).targetNamespace.cast()) }
    }

    /// Validates `xml` (a whole document, already checked by the hardened reader) and returns
    /// every error; warnings are dropped. Errors about an element carry its document-order index.
    pub(super) fn validate(&self, xml: &str) -> Vec<Diagnostic> {
        init();
        let Ok(len) = c_int::try_from(xml.len()) else {
            return vec![internal("document too large for libxml2")];
        };
        // SAFETY: `xmlNewParserCtxt` takes no arguments; the result is null or owned by us.
        let Some(parser) = NonNull::new(unsafe { xml2::xmlNewParserCtxt() }).map(XmlParserCtxt) else {
            return vec![internal("libxml2 could not create a parser context")];
        };
        // No DTD loading, no entity substitution, no network; errors kept in the context instead of
        // printed; line numbers past 65535 kept where libxml2 can.
        let options = xml2::xmlParserOption_XML_PARSE_NONET
            | xml2::xmlParserOption_XML_PARSE_NOERROR
            | xml2::xmlParserOption_XML_PARSE_NOWARNING
            | xml2::xmlParserOption_XML_PARSE_BIG_LINES;
        // SAFETY: `parser` is live; the buffer pointer and length describe `xml`, which outlives
        // the call; the encoding is a static C string; the URL may be null.
        let doc = unsafe {
            xml2::xmlCtxtReadMemory(
                parser.0.as_ptr(),
                xml.as_ptr().cast(),
                len,
                ptr::null(),
                c"UTF-8".as_ptr(),
                options as c_int,
            )
        };
        let Some(doc) = NonNull::new(doc).map(XmlDoc) else {
            // SAFETY: `parser` is live; its last error is null or valid while it lives.
            let last = unsafe { xml2::xmlCtxtGetLastError(parser.0.as_ptr().cast()) };
            let mut out = Vec::new();
            // SAFETY: `last` is null or valid; `out` is a live Vec only we access.
            unsafe { collect((&mut out as *mut Vec<Diagnostic>).cast(), last) };
            if out.is_empty() {
                out.push(internal("libxml2 could not parse the document"));
            }
            return out;
        };
        drop(parser);

        let mut diagnostics: Vec<Diagnostic> = Vec::new();
        let sink: *mut Vec<Diagnostic> = &mut diagnostics;
        let rc = {
            // SAFETY: `ptr` is a live compiled schema, shared read-only (see `Sync`).
            let vctxt = NonNull::new(unsafe { xml2::xmlSchemaNewValidCtxt(self.ptr.as_ptr()) });
            let Some(vctxt) = vctxt.map(ValidCtxt) else {
                return vec![internal("libxml2 could not create a validation context")];
            };
            // SAFETY: `sink` points to `diagnostics`, which outlives `vctxt` (dropped at the end of
            // this block) and is not accessed until then.
            unsafe { xml2::xmlSchemaSetValidStructuredErrors(vctxt.0.as_ptr(), Some(collect), sink.cast()) };
            // SAFETY: both the validation context and the document are live and owned by us.
            unsafe { xml2::xmlSchemaValidateDoc(vctxt.0.as_ptr(), doc.0.as_ptr()) }
        };
        diagnostics.retain(|d| d.level == Level::Error);
        if rc != 0 && diagnostics.is_empty() {
            diagnostics.push(internal(format!(
                "libxml2 reported the document invalid (status {rc}) without a diagnostic"
            )));
        }
        if diagnostics.iter().any(|d| d.node != 0) {
            // SAFETY: `doc` is live; the addresses were taken from its nodes during validation
            // and the tree has not changed since.
            unsafe { number_elements(doc.0.as_ptr(), &mut diagnostics) };
        }
        diagnostics
    }
}

fn internal(message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        message: message.into(),
        file: None,
        line: 0,
        column: 0,
        element: None,
        node: 0,
    }
}

/// Frees an XML parser context when dropped.
struct XmlParserCtxt(NonNull<xml2::xmlParserCtxt>);

impl Drop for XmlParserCtxt {
    fn drop(&mut self) {
        // SAFETY: created by `xmlNewParserCtxt`, freed once.
        unsafe { xml2::xmlFreeParserCtxt(self.0.as_ptr()) };
    }
}

/// Frees a document tree when dropped.
struct XmlDoc(NonNull<xml2::xmlDoc>);

impl Drop for XmlDoc {
    fn drop(&mut self) {
        // SAFETY: returned by `xmlCtxtReadMemory`, owned by us, freed once.
        unsafe { xml2::xmlFreeDoc(self.0.as_ptr()) };
    }
}

/// Frees a validation context when dropped.
struct ValidCtxt(NonNull<xml2::xmlSchemaValidCtxt>);

impl Drop for ValidCtxt {
    fn drop(&mut self) {
        // SAFETY: created by `xmlSchemaNewValidCtxt`, freed once.
        unsafe { xml2::xmlSchemaFreeValidCtxt(self.0.as_ptr()) };
    }
}

/// Replaces the node addresses in `diagnostics` by the element's document-order index, with one
/// walk over the tree. (libxml2 already climbs from an attribute to its element before reporting;
/// an address that is no element of the tree is left without an index.)
///
/// # Safety
/// `doc` must be a live document, and every non-zero `node` in `diagnostics` an address of one of
/// its nodes (or of nothing: unknown addresses are only compared, never dereferenced).
unsafe fn number_elements(doc: xml2::xmlDocPtr, diagnostics: &mut [Diagnostic]) {
    use std::collections::HashMap;
    let mut wanted: HashMap<usize, Option<usize>> = diagnostics
        .iter()
        .filter(|d| d.node != 0)
        .map(|d| (d.node, None))
        .collect();
    let mut missing = wanted.len();
    // SAFETY: `doc` is live per the contract; the root is null or one of its nodes.
    let root = unsafe { xml2::xmlDocGetRootElement(doc) };
    let mut node = root;
    let mut index = 0usize;
    // Pre-order walk over element nodes; every pointer followed is a link of the live tree.
    while !node.is_null() && missing > 0 {
        // SAFETY: `node` is a node of the live tree (see the loop invariant above).
        let n = unsafe { &*node };
        if n.type_ == xml2::xmlElementType_XML_ELEMENT_NODE {
            if let Some(slot) = wanted.get_mut(&(node as usize)) {
                *slot = Some(index);
                missing -= 1;
            }
            index += 1;
            if !n.children.is_null() {
                node = n.children;
                continue;
            }
        }
        // Next in pre-order: a following sibling, else the nearest ancestor's following sibling,
        // stopping when the walk climbs out of the document element.
        let mut cur = node;
        node = ptr::null_mut();
        while !cur.is_null() && cur != root {
            // SAFETY: `cur` is a node of the live tree below the root.
            let c = unsafe { &*cur };
            if !c.next.is_null() {
                node = c.next;
                break;
            }
            cur = c.parent;
        }
    }
    for d in diagnostics.iter_mut().filter(|d| d.node != 0) {
        d.element = wanted.get(&d.node).copied().flatten();
        d.node = 0;
    }
}
