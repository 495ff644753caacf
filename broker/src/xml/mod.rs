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
//! - [`escape_attr`], [`escape_text`]: escaping for the node's own writers.
//!   namespaces it inherited, so it can be embedded verbatim in another document.
//!
//! Architecture invariant: nothing in this module allocates in proportion to anything but the input
//! size, and nothing panics on input; every refusal is an [`XmlError`].
//!
//! The reader is split by what it does: [`Limits`] (limits.rs) and [`XmlError`] (error.rs) are
//! the leaves; tree.rs is the read-only [`Document`] and its nodes; reader.rs builds a
//! `Document` from quick-xml events ([`Document::parse`]); raw.rs cuts elements out of one
//! ([`Document::extract`], [`RawElement`]); escape.rs escapes text for writers.

pub mod c14n;
mod error;
mod escape;
mod limits;
mod raw;
mod reader;
pub mod transform;
mod tree;

#[cfg(test)]
mod tests;

pub use error::XmlError;
pub use escape::{escape_attr, escape_text};
pub use limits::Limits;
pub use raw::RawElement;
pub use tree::{Attribute, Document, Element, Node, NodeId, NodeKind, NsDecl, XML_NS};
