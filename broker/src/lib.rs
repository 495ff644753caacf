//! The RSMEV exchange engine.
//!
//! Layout (each module's own `//!` says more):
//! - [`config`]: the node's configuration, layered defaults → file → `RSMEV_*` env → flags.
//! - [`xml`]: a hardened XML reader that builds a small read-only tree with byte spans, exclusive
//!   canonicalization ([`xml::c14n`]) and the SMEV transform ([`xml::transform`]).
//! - [`envelope`]: the SMEV 3 message exchange 1.3 messages, their SOAP 1.1 codec and the typed
//!   faults; signed blocks and `xs:any` content keep their original bytes.
//! - [`store`]: the system of record (registry, messages, queues, history, accounting) behind the
//!   [`store::Store`] trait; SQLite is the embedded default.
pub mod config;
pub mod envelope;
pub mod store;
pub mod xml;
