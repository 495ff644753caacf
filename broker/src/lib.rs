//! The RSMEV exchange engine.
//!
//! Layout (each module's own `//!` says more):
//! - [`xml`]: a hardened XML reader that builds a small read-only tree with byte spans, exclusive
//!   canonicalization ([`xml::c14n`]) and the SMEV transform ([`xml::transform`]).
//! - [`store`]: the system of record (registry, messages, queues, history, accounting) behind the
//!   [`store::Store`] trait; SQLite is the embedded default.
pub mod store;
pub mod xml;
