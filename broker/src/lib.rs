//! The RSMEV exchange engine.
//!
//! Layout (each module's own `//!` says more):
//! - [`xml`]: a hardened XML reader that builds a small read-only tree with byte spans, exclusive
//!   canonicalization ([`xml::c14n`]) and the SMEV transform ([`xml::transform`]).
//! - [`dsig`]: XMLDSig as SMEV uses it: signing and verifying detached signatures over one
//!   element by `Id`, certificates, the `Signer`/`Verifier` provider traits, diagnostics.
pub mod dsig;
pub mod xml;
