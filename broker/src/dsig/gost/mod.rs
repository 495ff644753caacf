//! GOST R 34.10-2012 (256-bit keys, Streebog-256) and GOST R 34.10-2001 (GOST R 34.11-94,
//! CryptoPro parameters) signatures, as SMEV encodes them (`reference/smev3/GOST.md`).
//!
//! Layout:
//! - `curves`: the four 256-bit curves behind the nine parameter sets, defined over RustCrypto's
//!   `primefield` (field and scalar arithmetic, constant time) and `primeorder` (points).
//! - `scheme`: sign and verify, generic over a curve (the `GostCurve` trait the curves
//!   implement), with SMEV's byte orders and hedged RFC 6979 nonces.
//! - [`ParamSet`] and the OIDs (`params`); [`GostPublicKey`] and [`GostSigningKey`] with their
//!   SubjectPublicKeyInfo and PKCS#8 encodings (`keys`); self-signed certificates and
//!   certificate-signature checks (`certificate`).
//! - [`GostVerifier`] and [`GostSigner`]: the dsig [`Verifier`](super::Verifier) and
//!   [`Signer`](super::Signer) implementations (`provider`). [`GostVerifier`] is part of
//!   [`VerifierRegistry::default`](super::VerifierRegistry::default).
//!
//! Architecture invariants:
//! - No big-number or field code is written here: every operation on secrets is RustCrypto's
//!   (`primefield`/`crypto-bigint` Montgomery arithmetic, `primeorder`'s constant-time
//!   multiplication by the generator, `subtle`/`ctutils` selection). Secret scalars are zeroed on
//!   drop.
//! - Nonces: RFC 6979 (HMAC-Streebog-256) with 32 bytes of the OS CSPRNG as additional data, so
//!   a failing random generator cannot repeat a nonce for different messages.
//! - A public key is accepted only on its curve and in the subgroup of order q (TC26-256-A has
//!   cofactor 4); `r` and `s` only in [1, q − 1].
//! - GOST R 34.10-2012 512-bit is recognised elsewhere (algorithm URIs, key kinds) but not
//!   implemented: no sample or participant uses it.

mod certificate;
mod curves;
mod keys;
mod params;
mod provider;
mod scheme;

#[cfg(test)]
mod tests;

pub use certificate::subject_name;
pub use keys::{GostKeyError, GostPublicKey, GostSigningKey};
pub use params::{
    OID_GOST94_CRYPTOPRO, OID_GOST2001, OID_GOST2012_256, OID_SIGN_GOST2001, OID_SIGN_GOST2012_256,
    OID_STREEBOG256, ParamSet, UnknownParamSet,
};
pub use provider::{GostSigner, GostVerifier};

pub(crate) use certificate::{certificate_signature_algorithm, verify_certificate_signature};
