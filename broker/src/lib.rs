//! The RSMEV exchange engine.
//!
//! Layout (each module's own `//!` says more):
//! - [`xml`]: a hardened XML reader that builds a small read-only tree with byte spans, exclusive
//!   canonicalization ([`xml::c14n`]) and the SMEV transform ([`xml::transform`]).
//! - [`envelope`]: the SMEV 3 message exchange 1.3 messages, their SOAP 1.1 codec and the typed
//!   faults; signed blocks and `xs:any` content keep their original bytes.
pub mod envelope;
pub mod xml;
