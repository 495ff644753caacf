//! The RSMEV exchange engine.
//!
//! Layout (each module's own `//!` says more):
//! - [`xml`]: a hardened XML reader that builds a small read-only tree with byte spans, exclusive
//!   canonicalization ([`xml::c14n`]) and the SMEV transform ([`xml::transform`]).
//! - [`schema`]: format control, XSD validation of business content through libxml2 (the crate's
//!   one FFI boundary), with every violation and its position.
pub mod schema;
pub mod xml;
