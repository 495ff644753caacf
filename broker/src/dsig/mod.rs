//! XMLDSig as SMEV 3 uses it: detached signatures over one element referenced by its `Id`.
//!
//! ```text
//! <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
//!   <ds:SignedInfo>
//!     <ds:CanonicalizationMethod Algorithm="exc-c14n"/> <ds:SignatureMethod Algorithm="…"/>
//!     <ds:Reference URI="#Id"> <ds:Transforms> exc-c14n [, SMEV transform] </ds:Transforms>
//!       <ds:DigestMethod Algorithm="…"/> <ds:DigestValue>…</ds:DigestValue> </ds:Reference>
//!   </ds:SignedInfo>
//!   <ds:SignatureValue>…</ds:SignatureValue>
//!   <ds:KeyInfo><ds:X509Data><ds:X509Certificate>…</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
//! </ds:Signature>
//! ```
//!
//! Layout:
//! - [`algorithm`]: the URIs of digests, signature methods and transforms, and the digests.
//! - [`cert`]: X.509 certificates ([`Certificate`]) from PEM, DER or `ds:X509Certificate`, and
//!   [`VerifyError`], what a signature check reports (certificates check their issuer's).
//! - [`key`]: the [`Signer`] and [`Verifier`] traits (the extension point for PKCS#11
//!   providers), their ring implementations, the [`VerifierRegistry`] and [`load_signer`].
//! - [`gost`]: GOST R 34.10-2012 (256) and 2001 over RustCrypto curve arithmetic, in SMEV's
//!   encoding: [`GostVerifier`] (in the default registry) and [`GostSigner`].
//! - `parse`: reading a `ds:Signature` element into its parts, refusing anything unexpected.
//! - `invalid`: why a signature is invalid ([`Invalid`]), the reason both `parse` and `verify`
//!   give.
//! - [`sign`](fn@sign): producing a `ds:Signature` for an element of a document.
//! - [`verify`](fn@verify): the check the node applies to what a peer sends, with failures that
//!   map onto the SMEV `SignatureVerificationFault` reasons ([`SignatureFailure`]).
//! - [`trust`]: certificate path validation to configured anchors with CRL revocation checks
//!   ([`TrustStore`]), the qualified-signature check the exchange adds when anchors are configured.
//! - [`inspect`](fn@inspect): a report on every signature of a document, for integrators.
//!
//! Architecture invariants:
//! - The element a caller acts on must be the element the signature references:
//!   [`verify`](fn@verify) takes the expected target and refuses any other (and any ambiguous
//!   `Id`), which is what defeats signature wrapping.
//! - Only exclusive c14n and the SMEV transform are ever applied; any other transform or
//!   canonicalization method is refused, not ignored.
//! - Nothing here panics on input, and every size read from input is bounded before use.
//! - The code is generic over documents: it finds `ds:Signature` anywhere and knows nothing of
//!   SOAP or of the SMEV message schema.

pub mod algorithm;
pub mod cert;
pub mod gost;
mod inspect;
mod invalid;
pub mod key;
mod parse;
mod sign;
pub mod trust;
mod verify;

#[cfg(test)]
mod tests;

use base64::Engine as _;

pub use algorithm::{DigestAlgorithm, SignatureAlgorithm, Transform, TransformChain};
pub use cert::{Certificate, CertificateError, CertificateSignatureError, KeyKind, Validity, VerifyError};
pub use gost::{GostSigner, GostVerifier};
pub use inspect::{
    CertificateReport, DigestStatus, ReferenceReport, SignatureReport, SignatureStatus, TargetReport,
    canonical_bytes, inspect,
};
pub use invalid::Invalid;
pub use key::{KeyError, RingSigner, RingVerifier, Signer, Verifier, VerifierRegistry, load_signer};
pub use sign::{SignOptions, sign};
pub use trust::{CrlPolicy, TrustError, TrustPolicy, TrustStore, ValidatedPath};
pub use verify::{FaultReason, SignatureFailure, Verified, find_signatures, verify};

use crate::xml::XmlError;

/// The XMLDSig namespace.
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Why a signature could not be produced (or a key, certificate or document could not be used
/// for one). Verification failures are [`SignatureFailure`]s instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsigError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error("XML: {0}")]
    Xml(#[from] XmlError),
    #[error("the node to sign is not an element")]
    NotAnElement,
    #[error("element `{element}` has no `Id` attribute to reference")]
    MissingId { element: String },
    #[error(
        "Id `{id}` does not identify exactly the element to sign (it is repeated or belongs to another element)"
    )]
    AmbiguousId { id: String },
    #[error("no element has Id `{id}`")]
    UnknownId { id: String },
    #[error("the {algorithm} signer returned a signature of {len} bytes")]
    BadSignatureLength {
        algorithm: SignatureAlgorithm,
        len: usize,
    },
    #[error("canonicalization failed: {detail}")]
    Canonicalization { detail: String },
}

/// Why a base64 value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Base64Error {
    #[error("more than {limit} bytes once decoded")]
    TooLong { limit: usize },
    #[error("{0}")]
    Invalid(String),
}

/// Decodes base64 that may be broken into lines (XMLDSig allows any whitespace in base64
/// content, and CryptoPro emits `&#13;` line ends), refusing more than `max_decoded` bytes
/// before decoding anything.
pub(crate) fn base64_lenient(text: &str, max_decoded: usize) -> Result<Vec<u8>, Base64Error> {
    let max_chars = max_decoded.div_ceil(3).saturating_mul(4);
    let mut compact = String::with_capacity(text.len().min(max_chars));
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            continue;
        }
        if compact.len() >= max_chars {
            return Err(Base64Error::TooLong { limit: max_decoded });
        }
        compact.push(c);
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(compact.as_bytes())
        .map_err(|e| Base64Error::Invalid(e.to_string()))?;
    if bytes.len() > max_decoded {
        return Err(Base64Error::TooLong { limit: max_decoded });
    }
    Ok(bytes)
}

/// Why a PEM block could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PemError {
    /// No block with an accepted label; carries the first label seen, if any.
    NotFound {
        first_label: Option<String>,
    },
    Malformed(String),
    Base64(Base64Error),
}

/// Finds the first PEM block labelled with one of `labels` in `text` (other text and other
/// blocks around it are ignored) and decodes its body, tolerating any line length and line
/// ending. Blocks with RFC 1421 headers (legacy encrypted keys) are refused.
pub(crate) fn pem_block(
    text: &str,
    labels: &[&str],
    max_decoded: usize,
) -> Result<(String, Vec<u8>), PemError> {
    const BEGIN: &str = "-----BEGIN ";
    let mut first_label = None;
    let mut rest = text;
    while let Some(at) = rest.find(BEGIN) {
        let after = &rest[at + BEGIN.len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body_and_more = &after[label_end + 5..];
        if !labels.contains(&label) {
            if first_label.is_none() {
                first_label = Some(invalid::clip(label));
            }
            rest = body_and_more;
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let end = body_and_more
            .find(&end_marker)
            .ok_or_else(|| PemError::Malformed(format!("no `{end_marker}` line")))?;
        let body = &body_and_more[..end];
        if body.contains(':') {
            return Err(PemError::Malformed(
                "the block has headers (an encrypted legacy key?); only plain PEM is read".into(),
            ));
        }
        let der = base64_lenient(body, max_decoded).map_err(PemError::Base64)?;
        return Ok((label.to_owned(), der));
    }
    Err(PemError::NotFound { first_label })
}

/// Standard base64 with padding, as XMLDSig values are written.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
