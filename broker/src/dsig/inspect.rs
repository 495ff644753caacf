//! Diagnostics for integrators: what every signature of a document covers and which of its
//! checks pass, with the values on both sides of a mismatch.
//!
//! Unlike [`verify`](super::verify()), which stops at the first failed check and refuses
//! anything unusual, [`inspect`] goes as far as it can on each signature and reports each part.

use time::OffsetDateTime;

use crate::xml::{Document, NodeId};

use super::algorithm::{DigestAlgorithm, SignatureAlgorithm, TransformChain};
use super::cert::{KeyKind, Validity};
use super::invalid::{self, Invalid};
use super::key::VerifierRegistry;
use super::parse::{self, ReferenceParts, SignatureParts};
use super::verify::{
    self, Chain, SignatureFailure, TargetError, check_signature_value, digest_algorithm, expected_digest,
    path_of, resolve_id, resolve_reference, signature_algorithm, signature_value, transform_chain,
    transformed,
};
use super::{DsigError, base64_encode};

/// Most reference digests [`inspect`] computes for one document; each costs a pass over the
/// referenced content, and a hostile document can point many references at its root.
pub(super) const MAX_DIGESTS_PER_INSPECTION: usize = 256;

/// The element a reference names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetReport {
    Found {
        id: String,
        node: NodeId,
        /// Qualified name as written.
        element: String,
        /// `/p:Root/p:Child/…`
        path: String,
    },
    /// The reference is missing, names no element, names a repeated `Id`, or is not `#Id`.
    Unresolved { problem: String },
}

/// The outcome of recomputing a reference digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestStatus {
    Match {
        value: String,
    },
    Mismatch {
        expected: String,
        computed: String,
    },
    /// Not computed (unresolved target, unknown algorithm or transform, bad value); says why.
    NotComputed {
        problem: String,
    },
}

/// One `ds:Reference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceReport {
    pub uri: Option<String>,
    pub target: TargetReport,
    /// The transform URIs in order.
    pub transforms: Vec<String>,
    /// The chain the node would apply, when it accepts the transforms.
    pub chain: Option<TransformChain>,
    pub digest_method: String,
    pub digest_algorithm: Option<DigestAlgorithm>,
    pub digest: DigestStatus,
}

/// The outcome of checking the signature value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    Valid,
    Invalid {
        problem: String,
    },
    /// No registered verifier checks this algorithm (GOST without a GOST provider).
    NeedsProvider {
        algorithm: SignatureAlgorithm,
    },
    /// Not checked (no certificate, unknown method, unreadable value); says why.
    NotChecked {
        problem: String,
    },
}

/// The signer's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateReport {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub key: KeyKind,
    /// At the `now` given to [`inspect`].
    pub validity: Validity,
}

/// Everything known about one `ds:Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureReport {
    pub node: NodeId,
    /// Path of the `ds:Signature` element.
    pub path: String,
    /// Set when the element could not be read as XMLDSig; the other fields are then empty.
    pub structure_problem: Option<String>,
    pub canonicalization: String,
    pub signature_method: String,
    pub algorithm: Option<SignatureAlgorithm>,
    pub references: Vec<ReferenceReport>,
    pub signature: SignatureStatus,
    /// The certificate, or why there is none usable.
    pub certificate: Result<CertificateReport, String>,
    /// What [`verify`](super::verify()) says when the caller acts on the element the
    /// (single) reference names.
    pub verdict: Result<(), SignatureFailure>,
}

/// Reports on every `ds:Signature` of `doc`, in document order, checking certificates at
/// `now` and signature values with `verifiers`.
pub fn inspect(doc: &Document, now: OffsetDateTime, verifiers: &VerifierRegistry) -> Vec<SignatureReport> {
    let mut budget = MAX_DIGESTS_PER_INSPECTION;
    verify::find_signatures(doc)
        .into_iter()
        .map(|sig| inspect_one(doc, sig, now, verifiers, &mut budget))
        .collect()
}

fn inspect_one(
    doc: &Document,
    node: NodeId,
    now: OffsetDateTime,
    verifiers: &VerifierRegistry,
    budget: &mut usize,
) -> SignatureReport {
    let path = path_of(doc, node);
    let parts = match parse::parse_signature(doc, node) {
        Ok(p) => p,
        Err(e) => {
            let problem = e.to_string();
            return SignatureReport {
                node,
                path,
                structure_problem: Some(problem.clone()),
                canonicalization: String::new(),
                signature_method: String::new(),
                algorithm: None,
                references: Vec::new(),
                signature: SignatureStatus::NotChecked {
                    problem: problem.clone(),
                },
                certificate: Err(problem),
                verdict: Err(e.into()),
            };
        }
    };
    let references = parts
        .references
        .iter()
        .map(|r| inspect_reference(doc, r, budget))
        .collect::<Vec<_>>();
    let algorithm = SignatureAlgorithm::from_uri(&parts.signature_method);
    let certificate = verify::certificate(&parts, verifiers);
    let certificate_report = match &certificate {
        Ok(c) => Ok(CertificateReport {
            subject: c.subject(),
            issuer: c.issuer(),
            serial: c.serial_hex(),
            not_before: c.not_before(),
            not_after: c.not_after(),
            key: c.key_kind().clone(),
            validity: c.validity_at(now),
        }),
        Err(e) => Err(e.to_string()),
    };
    let signature = signature_status(doc, &parts, certificate.as_deref().ok(), verifiers);
    let verdict = match references.as_slice() {
        [
            ReferenceReport {
                target: TargetReport::Found { node: target, .. },
                ..
            },
        ] => verify::verify(doc, node, *target, now, verifiers).map(|_| ()),
        [one] => Err(SignatureFailure::IncorrectSignatureTarget {
            detail: match &one.target {
                TargetReport::Unresolved { problem } => problem.clone(),
                TargetReport::Found { .. } => String::new(),
            },
        }),
        more => Err(Invalid::ReferenceCount { count: more.len() }.into()),
    };
    SignatureReport {
        node,
        path,
        structure_problem: None,
        canonicalization: parts.canonicalization.uri.clone(),
        signature_method: parts.signature_method.clone(),
        algorithm,
        references,
        signature,
        certificate: certificate_report,
        verdict,
    }
}

fn signature_status(
    doc: &Document,
    parts: &SignatureParts,
    certificate: Option<&super::Certificate>,
    verifiers: &VerifierRegistry,
) -> SignatureStatus {
    let algorithm = match signature_algorithm(parts) {
        Ok(a) => a,
        Err(e) => {
            return SignatureStatus::NotChecked {
                problem: e.to_string(),
            };
        }
    };
    let Some(certificate) = certificate else {
        return SignatureStatus::NotChecked {
            problem: "no usable certificate".into(),
        };
    };
    let value = match signature_value(parts) {
        Ok(v) => v,
        Err(e) => {
            return SignatureStatus::Invalid {
                problem: e.to_string(),
            };
        }
    };
    match check_signature_value(doc, parts, algorithm, certificate, &value, verifiers) {
        Ok(()) => SignatureStatus::Valid,
        Err(SignatureFailure::NeedsProvider { algorithm, .. }) => {
            SignatureStatus::NeedsProvider { algorithm }
        }
        Err(e) => SignatureStatus::Invalid {
            problem: e.to_string(),
        },
    }
}

fn inspect_reference(doc: &Document, reference: &ReferenceParts, budget: &mut usize) -> ReferenceReport {
    let transforms = reference.transforms.iter().map(|t| t.uri.clone()).collect();
    let chain = transform_chain(&reference.transforms);
    let digest_algorithm = digest_algorithm(reference).ok();
    let target = match resolve_reference(doc, reference) {
        Ok((id, node)) => TargetReport::Found {
            id,
            node,
            element: doc.element(node).map(|e| e.qname()).unwrap_or_default(),
            path: path_of(doc, node),
        },
        Err(e) => TargetReport::Unresolved {
            problem: e.to_string(),
        },
    };
    let digest = reference_digest(doc, reference, &target, &chain, budget);
    ReferenceReport {
        uri: reference.uri.clone(),
        target,
        transforms,
        chain: chain.as_ref().ok().map(|(_, c)| *c),
        digest_method: reference.digest_method.clone(),
        digest_algorithm,
        digest,
    }
}

fn reference_digest(
    doc: &Document,
    reference: &ReferenceParts,
    target: &TargetReport,
    chain: &Result<(Chain, TransformChain), Invalid>,
    budget: &mut usize,
) -> DigestStatus {
    let not_computed = |problem: String| DigestStatus::NotComputed { problem };
    let TargetReport::Found { node, .. } = target else {
        return not_computed("the reference names no element".into());
    };
    let (chain, _) = match chain {
        Ok(c) => c,
        Err(e) => return not_computed(e.to_string()),
    };
    let algorithm = match digest_algorithm(reference) {
        Ok(a) => a,
        Err(e) => return not_computed(e.to_string()),
    };
    if *budget == 0 {
        return not_computed(format!(
            "more than {MAX_DIGESTS_PER_INSPECTION} references in the document; the rest are not computed"
        ));
    }
    *budget -= 1;
    let computed = match transformed(doc, *node, chain) {
        Ok(bytes) => algorithm.digest(&bytes),
        Err(e) => return not_computed(e.to_string()),
    };
    match expected_digest(reference, algorithm) {
        Ok(expected) if expected == computed => DigestStatus::Match {
            value: base64_encode(&computed),
        },
        Ok(expected) => DigestStatus::Mismatch {
            expected: base64_encode(&expected),
            computed: base64_encode(&computed),
        },
        Err(_) => DigestStatus::Mismatch {
            expected: invalid::clip(reference.digest_value.trim()),
            computed: base64_encode(&computed),
        },
    }
}

/// The bytes a reference to `id` with `chain` hashes: exclusive c14n of the element, followed
/// by the SMEV transform when `chain` says so. For comparing with another implementation when
/// a digest does not match.
///
/// # Errors
/// [`DsigError::UnknownId`], [`DsigError::AmbiguousId`] (the `Id` is repeated), or
/// [`DsigError::Canonicalization`] when the SMEV transform refuses the content.
pub fn canonical_bytes(doc: &Document, id: &str, chain: TransformChain) -> Result<Vec<u8>, DsigError> {
    let node = resolve_id(doc, id).map_err(|e| match e {
        TargetError::Duplicate(id) => DsigError::AmbiguousId { id },
        _ => DsigError::UnknownId { id: id.to_owned() },
    })?;
    transformed(doc, node, &Chain::from_public(chain)).map_err(|e| DsigError::Canonicalization {
        detail: e.to_string(),
    })
}
