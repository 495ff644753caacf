//! Producing a detached `ds:Signature` shaped exactly as SMEV's.

use crate::xml::{Document, Limits, NodeId, RawElement, escape_attr};

use super::algorithm::{DigestAlgorithm, EXC_C14N, SignatureAlgorithm, TransformChain};
use super::key::Signer;
use super::verify::{Chain, resolve_id, transformed};
use super::{DS_NS, DsigError, base64_encode};

/// How to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignOptions {
    /// `ds:Transforms` of the reference: SMEV's chain by default.
    pub transforms: TransformChain,
    /// The reference digest; `None` takes the one paired with the signer's algorithm
    /// ([`SignatureAlgorithm::default_digest`]).
    pub digest: Option<DigestAlgorithm>,
}

/// Signs the element `target` of `doc`, which must carry an `Id` (or `ID`, `id`) attribute
/// that no other element repeats, and returns the `ds:Signature` element to place next to it
/// (SMEV puts it in `CallerInformationSystemSignature` and the like).
///
/// The reference digest covers the output of the transforms over `target`; the signature value
/// covers the exclusive canonical form of `ds:SignedInfo` as it sits in the returned element,
/// which does not depend on where the element is placed (exclusive c14n renders only the `ds`
/// namespace, declared on `ds:Signature`).
///
/// # Errors
/// [`DsigError::NotAnElement`], [`DsigError::MissingId`], [`DsigError::AmbiguousId`] for a bad
/// target; [`DsigError::Canonicalization`] when the SMEV transform refuses the content (an
/// element without a namespace); the signer's own errors.
pub fn sign(
    doc: &Document,
    target: NodeId,
    signer: &dyn Signer,
    options: &SignOptions,
) -> Result<RawElement, DsigError> {
    let element = doc.element(target).ok_or(DsigError::NotAnElement)?;
    let id = ["Id", "ID", "id"]
        .iter()
        .find_map(|name| element.attr(name))
        .ok_or_else(|| DsigError::MissingId {
            element: element.qname(),
        })?;
    match resolve_id(doc, id) {
        Ok(n) if n == target => {}
        _ => return Err(DsigError::AmbiguousId { id: id.to_owned() }),
    }
    let algorithm = signer.algorithm();
    let digest = options.digest.unwrap_or_else(|| algorithm.default_digest());
    let content = transformed(doc, target, &Chain::from_public(options.transforms)).map_err(|e| {
        DsigError::Canonicalization {
            detail: e.to_string(),
        }
    })?;
    let digest_value = base64_encode(&digest.digest(&content));

    let head = signature_head(id, algorithm, digest, options.transforms, &digest_value);
    let tail = signature_tail(&signer.certificate().to_base64());
    // The signature value covers SignedInfo where it will sit: parse the finished element (with
    // an empty value) and canonicalize its SignedInfo.
    let skeleton = Document::parse(format!("{head}{tail}").as_bytes(), &Limits::default())?;
    let signed_info = skeleton
        .child(skeleton.root(), DS_NS, "SignedInfo")
        .ok_or_else(|| DsigError::Canonicalization {
            detail: "built ds:Signature lacks ds:SignedInfo".into(),
        })?;
    let canonical = crate::xml::c14n::exclusive(&skeleton, signed_info, &[]).map_err(|e| {
        DsigError::Canonicalization {
            detail: e.to_string(),
        }
    })?;
    let value = signer.sign(&canonical)?;
    check_length(algorithm, value.len())?;
    let xml = format!("{head}{}{tail}", base64_encode(&value));
    Ok(RawElement::parse(&xml, &Limits::default())?)
}

/// Refuses a signer that returns a value of the wrong size for its algorithm (a provider bug
/// that would otherwise surface as an invalid signature at the peer).
fn check_length(algorithm: SignatureAlgorithm, len: usize) -> Result<(), DsigError> {
    let ok = match algorithm {
        SignatureAlgorithm::Ed25519 | SignatureAlgorithm::EcdsaP256Sha256 => len == 64,
        SignatureAlgorithm::Gost2012_256 | SignatureAlgorithm::Gost2001 => len == 64,
        SignatureAlgorithm::Gost2012_512 => len == 128,
        SignatureAlgorithm::RsaSha256 => (256..=1024).contains(&len),
    };
    if ok {
        Ok(())
    } else {
        Err(DsigError::BadSignatureLength { algorithm, len })
    }
}

fn signature_head(
    id: &str,
    algorithm: SignatureAlgorithm,
    digest: DigestAlgorithm,
    chain: TransformChain,
    digest_value: &str,
) -> String {
    let mut s = String::with_capacity(1024);
    s.push_str(&format!("<ds:Signature xmlns:ds=\"{DS_NS}\"><ds:SignedInfo>"));
    s.push_str(&format!("<ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>"));
    s.push_str(&format!(
        "<ds:SignatureMethod Algorithm=\"{}\"/>",
        algorithm.uri()
    ));
    s.push_str(&format!(
        "<ds:Reference URI=\"#{}\"><ds:Transforms>",
        escape_attr(id)
    ));
    for t in chain.transforms() {
        s.push_str(&format!("<ds:Transform Algorithm=\"{}\"/>", t.uri()));
    }
    s.push_str(&format!(
        "</ds:Transforms><ds:DigestMethod Algorithm=\"{}\"/><ds:DigestValue>{digest_value}</ds:DigestValue>",
        digest.uri()
    ));
    s.push_str("</ds:Reference></ds:SignedInfo><ds:SignatureValue>");
    s
}

fn signature_tail(certificate_base64: &str) -> String {
    format!(
        "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate_base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"
    )
}
