//! The RSMEV exchange engine.
//!
//! Layout (each module's own `//!` says more):
//! - [`xml`]: a hardened XML reader that builds a small read-only tree with byte spans, exclusive
//!   canonicalization ([`xml::c14n`]) and the SMEV transform ([`xml::transform`]).
pub mod xml;
