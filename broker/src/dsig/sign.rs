//! Producing a detached `ds:Signature` shaped exactly as SMEV's.

use crate::xml::{Document, NodeId, RawElement, escape_attr};

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

    let info = SignedInfo {
        id,
        algorithm,
        digest,
        chain: options.transforms,
        digest_value: &digest_value,
    };
    // The signature value covers the exclusive canonical form of SignedInfo where it will sit.
    // The node writes that element itself, so its canonical form is written directly rather
    // than by parsing the finished element and canonicalizing it (a test holds the two equal).
    let value = signer.sign(info.render(Form::Canonical).as_bytes())?;
    check_length(algorithm, value.len())?;
    let xml = format!(
        "<ds:Signature xmlns:ds=\"{DS_NS}\">{}<ds:SignatureValue>{}</ds:SignatureValue>{}</ds:Signature>",
        info.render(Form::InDocument),
        base64_encode(&value),
        key_info(&signer.certificate().to_base64()),
    );
    Ok(RawElement::built(xml))
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

/// How an element the signer writes is spelled: as it sits in the `ds:Signature` (SMEV's shape:
/// empty elements closed with `/>`, the `ds` prefix declared on `ds:Signature`), or in exclusive
/// canonical form (empty elements as start-end pairs, `ds` declared on the apex element).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    InDocument,
    Canonical,
}

/// The `ds:SignedInfo` of one signature.
struct SignedInfo<'a> {
    id: &'a str,
    algorithm: SignatureAlgorithm,
    digest: DigestAlgorithm,
    chain: TransformChain,
    digest_value: &'a str,
}

impl SignedInfo<'_> {
    /// The element, spelled in `form`. Every value written is an algorithm URI, base64 or the
    /// (escaped) Id: text that exclusive c14n renders unchanged, so the canonical form differs
    /// from the in-document one only in how empty elements close and where `ds` is declared.
    fn render(&self, form: Form) -> String {
        let empty = |s: &mut String, name: &str, uri: &str| match form {
            Form::InDocument => s.push_str(&format!("<ds:{name} Algorithm=\"{uri}\"/>")),
            Form::Canonical => s.push_str(&format!("<ds:{name} Algorithm=\"{uri}\"></ds:{name}>")),
        };
        let mut s = String::with_capacity(768);
        match form {
            Form::InDocument => s.push_str("<ds:SignedInfo>"),
            Form::Canonical => s.push_str(&format!("<ds:SignedInfo xmlns:ds=\"{DS_NS}\">")),
        }
        empty(&mut s, "CanonicalizationMethod", EXC_C14N);
        empty(&mut s, "SignatureMethod", self.algorithm.uri());
        s.push_str(&format!(
            "<ds:Reference URI=\"#{}\"><ds:Transforms>",
            escape_attr(self.id)
        ));
        for t in self.chain.transforms() {
            empty(&mut s, "Transform", t.uri());
        }
        s.push_str("</ds:Transforms>");
        empty(&mut s, "DigestMethod", self.digest.uri());
        s.push_str(&format!(
            "<ds:DigestValue>{}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
            self.digest_value
        ));
        s
    }
}

fn key_info(certificate_base64: &str) -> String {
    format!(
        "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate_base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Document, Limits};

    /// The canonical form written directly equals exclusive c14n of the element as written into
    /// the signature, for every algorithm, digest and transform chain, and an Id that needs
    /// escaping.
    #[test]
    fn canonical_signed_info_is_what_c14n_makes_of_the_written_one() {
        let algorithms = [
            SignatureAlgorithm::EcdsaP256Sha256,
            SignatureAlgorithm::Ed25519,
            SignatureAlgorithm::RsaSha256,
            SignatureAlgorithm::Gost2012_256,
            SignatureAlgorithm::Gost2012_512,
            SignatureAlgorithm::Gost2001,
        ];
        let chains = [TransformChain::ExcC14nThenSmev, TransformChain::ExcC14n];
        for algorithm in algorithms {
            for chain in chains {
                for id in ["SIGNED_BY_CALLER", "a&b<c\"d\te\nf\rg>h"] {
                    let info = SignedInfo {
                        id,
                        algorithm,
                        digest: algorithm.default_digest(),
                        chain,
                        digest_value: "q83vEjRWeJq8vN7wEjRWeJq8vN7wEjRWeJq8vN7wEjQ=",
                    };
                    let written = format!(
                        "<ds:Signature xmlns:ds=\"{DS_NS}\">{}<ds:SignatureValue/></ds:Signature>",
                        info.render(Form::InDocument)
                    );
                    let doc = Document::parse(written.as_bytes(), &Limits::default()).unwrap();
                    let signed_info = doc.child(doc.root(), DS_NS, "SignedInfo").unwrap();
                    let canonical = crate::xml::c14n::exclusive(&doc, signed_info, &[]).unwrap();
                    assert_eq!(
                        String::from_utf8(canonical).unwrap(),
                        info.render(Form::Canonical),
                        "{algorithm:?} {chain:?} {id:?}"
                    );
                }
            }
        }
    }
}
