//! [`Limits`]: the bounds on what a peer may send, enforced while a document is read.

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
