//! The check the node applies to a peer's signature, and its outcomes.

use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::xml::{Document, NodeId};

use super::algorithm::{DigestAlgorithm, EXC_C14N, SignatureAlgorithm, Transform, TransformChain};
use super::cert::{Certificate, KeyKind, Validity};
use super::invalid::{Invalid, clip};
use super::key::{VerifierRegistry, VerifyError};
use super::parse::{self, Method, ReferenceParts, SignatureParts};
use super::{base64_encode, base64_lenient};

/// Largest `ds:SignatureValue` accepted, decoded bytes (an RSA-8192 signature is 1024).
pub(crate) const MAX_SIGNATURE_VALUE_BYTES: usize = 1024;
/// Largest `ds:DigestValue` accepted, decoded bytes (Streebog-512 is 64).
pub(crate) const MAX_DIGEST_VALUE_BYTES: usize = 64;

/// The `SignatureVerificationFault` reasons of the SMEV 1.3 faults schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultReason {
    PoorSoapEnvelopeFormat,
    NoSignatureFound,
    IncorrectSignatureTarget,
    SignatureIsInvalid,
    CertificateIsNotFound,
    CertificateIsExpired,
}

impl FaultReason {
    /// The enumeration value as the schema spells it (`PoorSOAPEnvelopeFormat`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultReason::PoorSoapEnvelopeFormat => "PoorSOAPEnvelopeFormat",
            FaultReason::NoSignatureFound => "NoSignatureFound",
            FaultReason::IncorrectSignatureTarget => "IncorrectSignatureTarget",
            FaultReason::SignatureIsInvalid => "SignatureIsInvalid",
            FaultReason::CertificateIsNotFound => "CertificateIsNotFound",
            FaultReason::CertificateIsExpired => "CertificateIsExpired",
        }
    }

    /// What the reason means, in the words of the faults schema (Russian, as SMEV answers).
    pub fn description(self) -> &'static str {
        match self {
            FaultReason::PoorSoapEnvelopeFormat => "Недопустимый формат SOAP-конверта",
            FaultReason::NoSignatureFound => "ЭП-ОВ не найдена в документе",
            FaultReason::IncorrectSignatureTarget => {
                "ЭП-ОВ подписывает не ту часть СМЭВ-сообщения, которую требуется подписать по спецификации СМЭВ"
            }
            FaultReason::SignatureIsInvalid => {
                "Некорректная структура XMLDSig, либо подписанный XML-фрагмент не соответствует значению ЭП-ОВ"
            }
            FaultReason::CertificateIsNotFound => "Не удалось найти сертификат клиента",
            FaultReason::CertificateIsExpired => "Срок действия сертификата клиента истёк",
        }
    }
}

impl fmt::Display for FaultReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a signature was not accepted. [`SignatureFailure::reason`] gives the fault to answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureFailure {
    #[error("no signature: {detail}")]
    NoSignatureFound { detail: String },
    /// Reserved for the envelope codec (a missing SOAP header and the like); `verify` itself
    /// never returns it.
    #[error("SOAP envelope format: {detail}")]
    PoorSoapEnvelopeFormat { detail: String },
    #[error("the signature does not cover the element acted on: {detail}")]
    IncorrectSignatureTarget { detail: String },
    #[error("{0}")]
    SignatureIsInvalid(Invalid),
    #[error("certificate not found: {detail}")]
    CertificateIsNotFound { detail: String },
    #[error(
        "certificate {state} at {now}: valid from {not_before} to {not_after}",
        state = if *.validity == Validity::NotYetValid { "is not yet valid" } else { "has expired" }
    )]
    CertificateIsExpired {
        validity: Validity,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        now: OffsetDateTime,
    },
    /// The signature is valid but its certificate does not pass path validation (no chain to a
    /// trusted anchor, revoked, …; [`super::trust`]).
    #[error("certificate is not trusted: {0}")]
    CertificateIsNotTrusted(super::trust::TrustError),
    /// Structure, reference, digest and certificate are correct, but no registered verifier
    /// can check the signature value (a GOST signature without a GOST provider). Not the
    /// peer's fault: [`SignatureFailure::reason`] is `None`.
    #[error(
        "the digest is correct, but no provider is registered to check {algorithm} signatures ({key} key)"
    )]
    NeedsProvider {
        algorithm: SignatureAlgorithm,
        key: KeyKind,
    },
    /// The signature provider itself failed (an HSM error). Not the peer's fault.
    #[error("the signature provider failed: {detail}")]
    ProviderFailed { detail: String },
}

impl SignatureFailure {
    /// The `SignatureVerificationFault` reason to answer the peer with, or `None` when the
    /// failure is the node's own ([`SignatureFailure::NeedsProvider`],
    /// [`SignatureFailure::ProviderFailed`]): answer those with an infrastructure failure
    /// (`SMEVFailure`), which the client retries.
    pub fn reason(&self) -> Option<FaultReason> {
        match self {
            SignatureFailure::NoSignatureFound { .. } => Some(FaultReason::NoSignatureFound),
            SignatureFailure::PoorSoapEnvelopeFormat { .. } => Some(FaultReason::PoorSoapEnvelopeFormat),
            SignatureFailure::IncorrectSignatureTarget { .. } => Some(FaultReason::IncorrectSignatureTarget),
            SignatureFailure::SignatureIsInvalid(_) | SignatureFailure::CertificateIsNotTrusted(_) => {
                Some(FaultReason::SignatureIsInvalid)
            }
            SignatureFailure::CertificateIsNotFound { .. } => Some(FaultReason::CertificateIsNotFound),
            SignatureFailure::CertificateIsExpired { .. } => Some(FaultReason::CertificateIsExpired),
            SignatureFailure::NeedsProvider { .. } | SignatureFailure::ProviderFailed { .. } => None,
        }
    }

    /// A description for the peer: the schema's words for the reason, then the specifics.
    pub fn description(&self) -> String {
        match self.reason() {
            Some(r) => format!("{}: {self}", r.description()),
            None => format!("Сбой проверки ЭП на узле: {self}"),
        }
    }
}

impl From<Invalid> for SignatureFailure {
    fn from(value: Invalid) -> Self {
        SignatureFailure::SignatureIsInvalid(value)
    }
}

/// What a successful [`verify`] established.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The signer's certificate (valid at the time checked); mapping it to a participant is the
    /// caller's business.
    pub certificate: Arc<Certificate>,
    pub algorithm: SignatureAlgorithm,
    pub digest: DigestAlgorithm,
    pub transforms: TransformChain,
    /// The `Id` the reference named (it identifies the expected target).
    pub target_id: String,
}

/// Every `ds:Signature` element of the document, in document order.
pub fn find_signatures(doc: &Document) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack = vec![doc.root()];
    while let Some(n) = stack.pop() {
        if parse::is_signature(doc, n) {
            out.push(n);
        }
        let children: Vec<NodeId> = doc.child_elements(n).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// Checks the signature at `signature` as covering exactly `expected_target`, at `now`.
///
/// In order: the structure; exactly one `ds:Reference`, whose `URI="#Id"` must name
/// `expected_target` and nothing else (a repeated `Id` is refused); exclusive c14n as the
/// canonicalization method and only exclusive c14n and the SMEV transform as transforms; the
/// digest; one `ds:X509Certificate`; its validity period at `now`; the signature value, checked
/// by the first verifier in `verifiers` that handles the algorithm.
///
/// # Errors
/// A [`SignatureFailure`] naming the first check that failed.
pub fn verify(
    doc: &Document,
    signature: NodeId,
    expected_target: NodeId,
    now: OffsetDateTime,
    verifiers: &VerifierRegistry,
) -> Result<Verified, SignatureFailure> {
    if !parse::is_signature(doc, signature) {
        return Err(SignatureFailure::NoSignatureFound {
            detail: "the element given is not a ds:Signature".into(),
        });
    }
    let parts = parse::parse_signature(doc, signature)?;
    let [reference] = parts.references.as_slice() else {
        return Err(Invalid::ReferenceCount {
            count: parts.references.len(),
        }
        .into());
    };
    let algorithm = signature_algorithm(&parts)?;
    let (target_id, target) =
        resolve_reference(doc, reference).map_err(|e| SignatureFailure::IncorrectSignatureTarget {
            detail: e.to_string(),
        })?;
    if target != expected_target {
        return Err(SignatureFailure::IncorrectSignatureTarget {
            detail: format!(
                "the reference #{target_id} names {}, the element acted on is {}",
                path_of(doc, target),
                path_of(doc, expected_target)
            ),
        });
    }
    let (chain, transforms) = transform_chain(&reference.transforms)?;
    let digest = digest_algorithm(reference)?;
    let expected = expected_digest(reference, digest)?;
    let computed = digest.digest(&transformed(doc, target, &chain)?);
    if computed != expected {
        return Err(Invalid::DigestMismatch {
            expected: base64_encode(&expected),
            computed: base64_encode(&computed),
        }
        .into());
    }
    let certificate = certificate(&parts, verifiers)?;
    let value = signature_value(&parts)?;
    let validity = certificate.validity_at(now);
    if validity != Validity::Valid {
        return Err(SignatureFailure::CertificateIsExpired {
            validity,
            not_before: certificate.not_before(),
            not_after: certificate.not_after(),
            now,
        });
    }
    check_signature_value(doc, &parts, algorithm, &certificate, &value, verifiers)?;
    Ok(Verified {
        certificate,
        algorithm,
        digest,
        transforms,
        target_id,
    })
}

/// Why a reference does not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TargetError {
    #[error("ds:Reference has no URI")]
    NoUri,
    #[error("URI `{0}` is not a same-document reference by Id (`#Id`)")]
    NotAnIdReference(String),
    #[error("no element has Id `{0}`")]
    NotFound(String),
    #[error("Id `{0}` is carried by more than one element")]
    Duplicate(String),
}

pub(crate) fn resolve_reference(
    doc: &Document,
    reference: &ReferenceParts,
) -> Result<(String, NodeId), TargetError> {
    let uri = reference.uri.as_deref().ok_or(TargetError::NoUri)?;
    let id = uri
        .strip_prefix('#')
        .filter(|id| !id.is_empty() && !id.contains(['(', ')', '#']))
        .ok_or_else(|| TargetError::NotAnIdReference(clip(uri)))?;
    resolve_id(doc, id).map(|n| (id.to_owned(), n))
}

pub(crate) fn resolve_id(doc: &Document, id: &str) -> Result<NodeId, TargetError> {
    match doc.element_by_id(id) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(TargetError::NotFound(clip(id))),
        Err(_) => Err(TargetError::Duplicate(clip(id))),
    }
}

pub(crate) fn signature_algorithm(parts: &SignatureParts) -> Result<SignatureAlgorithm, Invalid> {
    if parts.canonicalization.uri != EXC_C14N {
        return Err(Invalid::UnsupportedCanonicalization {
            uri: clip(&parts.canonicalization.uri),
        });
    }
    SignatureAlgorithm::from_uri(&parts.signature_method).ok_or_else(|| Invalid::UnsupportedSignatureMethod {
        uri: clip(&parts.signature_method),
    })
}

/// How the referenced element becomes the bytes that are hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chain {
    /// Exclusive c14n with these `InclusiveNamespaces` prefixes.
    Exclusive(Vec<String>),
    /// The SMEV transform (whose output does not depend on a preceding exclusive c14n).
    Smev,
}

impl Chain {
    pub(crate) fn from_public(chain: TransformChain) -> Chain {
        match chain {
            TransformChain::ExcC14n => Chain::Exclusive(Vec::new()),
            TransformChain::ExcC14nThenSmev => Chain::Smev,
        }
    }
}

/// Accepts `[exc-c14n]`, `[exc-c14n, SMEV]` and `[SMEV]`; refuses everything else.
pub(crate) fn transform_chain(transforms: &[Method]) -> Result<(Chain, TransformChain), Invalid> {
    let mut known = Vec::with_capacity(transforms.len());
    for t in transforms {
        let kind =
            Transform::from_uri(&t.uri).ok_or_else(|| Invalid::UnsupportedTransform { uri: clip(&t.uri) })?;
        if kind == Transform::Smev && !t.inclusive_prefixes.is_empty() {
            return Err(Invalid::UnsupportedTransformChain {
                detail: "the SMEV transform takes no InclusiveNamespaces".into(),
            });
        }
        known.push(kind);
    }
    match known.as_slice() {
        [Transform::ExcC14n] => Ok((
            Chain::Exclusive(transforms[0].inclusive_prefixes.clone()),
            TransformChain::ExcC14n,
        )),
        [Transform::ExcC14n, Transform::Smev] | [Transform::Smev] => {
            Ok((Chain::Smev, TransformChain::ExcC14nThenSmev))
        }
        [] => Err(Invalid::UnsupportedTransformChain {
            detail: "no ds:Transforms (the implied inclusive c14n is not supported)".into(),
        }),
        other => Err(Invalid::UnsupportedTransformChain {
            detail: format!(
                "{} (accepted: exc-c14n, optionally followed by the SMEV transform)",
                other.iter().map(|t| t.uri()).collect::<Vec<_>>().join(" → ")
            ),
        }),
    }
}

/// The bytes the reference's digest is computed over.
pub(crate) fn transformed(doc: &Document, target: NodeId, chain: &Chain) -> Result<Vec<u8>, Invalid> {
    match chain {
        Chain::Exclusive(prefixes) => {
            let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
            crate::xml::c14n::exclusive(doc, target, &prefixes).map_err(|e| Invalid::Canonicalization {
                detail: e.to_string(),
            })
        }
        Chain::Smev => crate::xml::transform::smev(doc, target).map_err(|e| Invalid::Canonicalization {
            detail: e.to_string(),
        }),
    }
}

pub(crate) fn digest_algorithm(reference: &ReferenceParts) -> Result<DigestAlgorithm, Invalid> {
    DigestAlgorithm::from_uri(&reference.digest_method).ok_or_else(|| Invalid::UnsupportedDigest {
        uri: clip(&reference.digest_method),
    })
}

pub(crate) fn expected_digest(
    reference: &ReferenceParts,
    digest: DigestAlgorithm,
) -> Result<Vec<u8>, Invalid> {
    let bytes = base64_lenient(&reference.digest_value, MAX_DIGEST_VALUE_BYTES).map_err(|e| {
        Invalid::BadDigestValue {
            detail: e.to_string(),
        }
    })?;
    if bytes.len() != digest.output_len() {
        return Err(Invalid::BadDigestValue {
            detail: format!(
                "{} bytes, {digest} digests are {}",
                bytes.len(),
                digest.output_len()
            ),
        });
    }
    Ok(bytes)
}

pub(crate) fn certificate(
    parts: &SignatureParts,
    verifiers: &VerifierRegistry,
) -> Result<Arc<Certificate>, SignatureFailure> {
    match parts.certificates.as_slice() {
        [] => Err(SignatureFailure::CertificateIsNotFound {
            detail: "no ds:KeyInfo/ds:X509Data/ds:X509Certificate".into(),
        }),
        [one] => verifiers
            .certificate(one)
            .map_err(|e| SignatureFailure::CertificateIsNotFound {
                detail: format!("ds:X509Certificate is unreadable: {e}"),
            }),
        more => Err(SignatureFailure::CertificateIsNotFound {
            detail: format!(
                "{} certificates in ds:KeyInfo; the signer's must be the only one",
                more.len()
            ),
        }),
    }
}

pub(crate) fn signature_value(parts: &SignatureParts) -> Result<Vec<u8>, Invalid> {
    let value = base64_lenient(&parts.signature_value, MAX_SIGNATURE_VALUE_BYTES).map_err(|e| {
        Invalid::BadSignatureValue {
            detail: e.to_string(),
        }
    })?;
    if value.is_empty() {
        return Err(Invalid::BadSignatureValue {
            detail: "empty".into(),
        });
    }
    Ok(value)
}

/// The exclusive canonical form of `ds:SignedInfo`, as the signature value covers it.
pub(crate) fn signed_info_bytes(doc: &Document, parts: &SignatureParts) -> Result<Vec<u8>, Invalid> {
    let prefixes: Vec<&str> = parts
        .canonicalization
        .inclusive_prefixes
        .iter()
        .map(String::as_str)
        .collect();
    crate::xml::c14n::exclusive(doc, parts.signed_info, &prefixes).map_err(|e| Invalid::Canonicalization {
        detail: e.to_string(),
    })
}

pub(crate) fn check_signature_value(
    doc: &Document,
    parts: &SignatureParts,
    algorithm: SignatureAlgorithm,
    certificate: &Certificate,
    value: &[u8],
    verifiers: &VerifierRegistry,
) -> Result<(), SignatureFailure> {
    let data = signed_info_bytes(doc, parts)?;
    verifiers
        .verify(algorithm, certificate, &data, value)
        .map_err(|e| match e {
            VerifyError::BadSignature => Invalid::SignatureMismatch.into(),
            VerifyError::KeyMismatch { .. } => Invalid::KeyMismatch(e.to_string()).into(),
            VerifyError::NoProvider { algorithm, kind } => {
                SignatureFailure::NeedsProvider { algorithm, key: kind }
            }
            VerifyError::ProviderFailed { detail } => SignatureFailure::ProviderFailed { detail },
        })
}

/// `/p:Root/p:Child[2]/…`: qualified names as written, with a position where siblings share a
/// name.
pub(crate) fn path_of(doc: &Document, node: NodeId) -> String {
    let mut steps = Vec::new();
    let mut cur = Some(node);
    while let Some(n) = cur {
        let Some(el) = doc.element(n) else { break };
        let mut step = el.qname();
        if let Some(parent) = doc.parent(n) {
            let same: Vec<NodeId> = doc
                .child_elements(parent)
                .filter(|c| {
                    doc.element(*c)
                        .is_some_and(|e| e.local == el.local && e.ns == el.ns)
                })
                .collect();
            if same.len() > 1 {
                let pos = same.iter().position(|c| *c == n).unwrap_or(0) + 1;
                step.push_str(&format!("[{pos}]"));
            }
        }
        steps.push(step);
        cur = doc.parent(n);
    }
    steps.reverse();
    format!("/{}", steps.join("/"))
}
