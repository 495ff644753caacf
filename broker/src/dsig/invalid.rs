//! Why a signature is invalid ([`Invalid`]), and how peer input is quoted in the reason
//! ([`clip`]). Shared by the parser of `ds:Signature` and by the check itself.

/// Why a signature is invalid
/// ([`SignatureFailure::SignatureIsInvalid`](super::SignatureFailure::SignatureIsInvalid)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    #[error("malformed ds:Signature: {detail}")]
    Malformed { detail: String },
    #[error("canonicalization method `{uri}` is not accepted (only exclusive c14n without comments)")]
    UnsupportedCanonicalization { uri: String },
    #[error("signature method `{uri}` is not known")]
    UnsupportedSignatureMethod { uri: String },
    #[error("transform `{uri}` is not accepted (only exclusive c14n and the SMEV transform)")]
    UnsupportedTransform { uri: String },
    #[error("transform chain not accepted: {detail}")]
    UnsupportedTransformChain { detail: String },
    #[error("digest method `{uri}` is not known")]
    UnsupportedDigest { uri: String },
    #[error("{count} ds:Reference elements; exactly one is expected")]
    ReferenceCount { count: usize },
    #[error("bad ds:DigestValue: {detail}")]
    BadDigestValue { detail: String },
    #[error("bad ds:SignatureValue: {detail}")]
    BadSignatureValue { detail: String },
    #[error("digest mismatch: the signature says {expected}, the content hashes to {computed}")]
    DigestMismatch { expected: String, computed: String },
    #[error("{0}")]
    KeyMismatch(String),
    #[error("the signature value does not match ds:SignedInfo and the certificate's key")]
    SignatureMismatch,
    #[error("the signed content cannot be canonicalized: {detail}")]
    Canonicalization { detail: String },
}

/// Longest piece of peer input quoted back in a failure (an attribute can be megabytes long).
const MAX_QUOTED_CHARS: usize = 200;

/// `value`, cut to [`MAX_QUOTED_CHARS`] characters with a mark when longer.
pub(crate) fn clip(value: &str) -> String {
    match value.char_indices().nth(MAX_QUOTED_CHARS) {
        None => value.to_owned(),
        Some((at, _)) => format!("{}…", &value[..at]),
    }
}
