//! The algorithm identifiers XMLDSig carries as URIs, and the digests behind them.
//!
//! Every URI the node accepts is listed here; anything else is refused by name, never guessed.

use std::fmt;

use digest::Digest;

/// `http://www.w3.org/2001/10/xml-exc-c14n#`: Exclusive XML Canonicalization 1.0, without comments.
pub const EXC_C14N: &str = crate::xml::c14n::EXC_C14N;
/// `urn://smev-gov-ru/xmldsig/transform`: the SMEV normalisation transform.
pub const SMEV_TRANSFORM: &str = "urn://smev-gov-ru/xmldsig/transform";
/// The namespace of exclusive c14n's `InclusiveNamespaces` parameter element.
pub const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// A hash named by a `ds:DigestMethod` (or implied by a signature method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256, `http://www.w3.org/2001/04/xmlenc#sha256`.
    Sha256,
    /// GOST R 34.11-94 with the CryptoPro parameter set, `http://www.w3.org/2001/04/xmldsig-more#gostr3411`.
    Gost94,
    /// GOST R 34.11-2012, 256 bits (Streebog-256).
    Streebog256,
    /// GOST R 34.11-2012, 512 bits (Streebog-512).
    Streebog512,
}

impl DigestAlgorithm {
    /// Every digest the node knows, for diagnostics and tests.
    pub const ALL: [DigestAlgorithm; 4] = [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Gost94,
        DigestAlgorithm::Streebog256,
        DigestAlgorithm::Streebog512,
    ];

    /// The XMLDSig identifier.
    pub fn uri(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            DigestAlgorithm::Gost94 => "http://www.w3.org/2001/04/xmldsig-more#gostr3411",
            DigestAlgorithm::Streebog256 => "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256",
            DigestAlgorithm::Streebog512 => "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-512",
        }
    }

    /// The algorithm named by `uri`, if the node knows it.
    pub fn from_uri(uri: &str) -> Option<DigestAlgorithm> {
        DigestAlgorithm::ALL.into_iter().find(|d| d.uri() == uri)
    }

    /// Length of the digest in bytes.
    pub fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 | DigestAlgorithm::Gost94 | DigestAlgorithm::Streebog256 => 32,
            DigestAlgorithm::Streebog512 => 64,
        }
    }

    /// The digest of `data`, as raw bytes in the order the hash function outputs them (this is
    /// what `ds:DigestValue` carries, base64-encoded, for GOST hashes too: no byte reversal).
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            DigestAlgorithm::Sha256 => ring::digest::digest(&ring::digest::SHA256, data)
                .as_ref()
                .to_vec(),
            DigestAlgorithm::Gost94 => gost94::Gost94CryptoPro::digest(data).to_vec(),
            DigestAlgorithm::Streebog256 => streebog::Streebog256::digest(data).to_vec(),
            DigestAlgorithm::Streebog512 => streebog::Streebog512::digest(data).to_vec(),
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Gost94 => "GOST R 34.11-94 (CryptoPro)",
            DigestAlgorithm::Streebog256 => "GOST R 34.11-2012 256 (Streebog-256)",
            DigestAlgorithm::Streebog512 => "GOST R 34.11-2012 512 (Streebog-512)",
        })
    }
}

/// A signature algorithm named by a `ds:SignatureMethod`.
///
/// Whether the node can *check* one is a property of the [`VerifierRegistry`](super::VerifierRegistry)
/// it is given, not of the algorithm: the GOST algorithms are recognised here and checked by
/// whatever provider is registered for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// Ed25519 (RFC 9231), `http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519`.
    Ed25519,
    /// ECDSA over P-256 with SHA-256; the value is raw `r || s` (32 + 32 bytes).
    EcdsaP256Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaSha256,
    /// GOST R 34.10-2012 with a 256-bit key and Streebog-256.
    Gost2012_256,
    /// GOST R 34.10-2012 with a 512-bit key and Streebog-512.
    Gost2012_512,
    /// GOST R 34.10-2001 with GOST R 34.11-94 (legacy, still in old captures).
    Gost2001,
}

impl SignatureAlgorithm {
    /// Every signature algorithm the node recognises.
    pub const ALL: [SignatureAlgorithm; 6] = [
        SignatureAlgorithm::Ed25519,
        SignatureAlgorithm::EcdsaP256Sha256,
        SignatureAlgorithm::RsaSha256,
        SignatureAlgorithm::Gost2012_256,
        SignatureAlgorithm::Gost2012_512,
        SignatureAlgorithm::Gost2001,
    ];

    /// The XMLDSig identifier.
    pub fn uri(self) -> &'static str {
        match self {
            SignatureAlgorithm::Ed25519 => "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519",
            SignatureAlgorithm::EcdsaP256Sha256 => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            SignatureAlgorithm::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            SignatureAlgorithm::Gost2012_256 => {
                "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256"
            }
            SignatureAlgorithm::Gost2012_512 => {
                "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-512"
            }
            SignatureAlgorithm::Gost2001 => "http://www.w3.org/2001/04/xmldsig-more#gostr34102001-gostr3411",
        }
    }

    /// The algorithm named by `uri`, if the node knows it.
    pub fn from_uri(uri: &str) -> Option<SignatureAlgorithm> {
        SignatureAlgorithm::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// Whether this is one of the Russian GOST R 34.10 algorithms.
    pub fn is_gost(self) -> bool {
        matches!(
            self,
            SignatureAlgorithm::Gost2012_256
                | SignatureAlgorithm::Gost2012_512
                | SignatureAlgorithm::Gost2001
        )
    }

    /// The digest conventionally paired with this algorithm for the `ds:Reference` (signers
    /// default to it; verifiers accept any known digest method).
    pub fn default_digest(self) -> DigestAlgorithm {
        match self {
            SignatureAlgorithm::Ed25519
            | SignatureAlgorithm::EcdsaP256Sha256
            | SignatureAlgorithm::RsaSha256 => DigestAlgorithm::Sha256,
            SignatureAlgorithm::Gost2012_256 => DigestAlgorithm::Streebog256,
            SignatureAlgorithm::Gost2012_512 => DigestAlgorithm::Streebog512,
            SignatureAlgorithm::Gost2001 => DigestAlgorithm::Gost94,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureAlgorithm::Ed25519 => "Ed25519",
            SignatureAlgorithm::EcdsaP256Sha256 => "ECDSA P-256 SHA-256",
            SignatureAlgorithm::RsaSha256 => "RSA PKCS#1 v1.5 SHA-256",
            SignatureAlgorithm::Gost2012_256 => "GOST R 34.10-2012 256",
            SignatureAlgorithm::Gost2012_512 => "GOST R 34.10-2012 512",
            SignatureAlgorithm::Gost2001 => "GOST R 34.10-2001",
        })
    }
}

/// A `ds:Transform` the node applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    /// Exclusive c14n without comments.
    ExcC14n,
    /// The SMEV transform.
    Smev,
}

impl Transform {
    pub fn uri(self) -> &'static str {
        match self {
            Transform::ExcC14n => EXC_C14N,
            Transform::Smev => SMEV_TRANSFORM,
        }
    }

    pub fn from_uri(uri: &str) -> Option<Transform> {
        match uri {
            EXC_C14N => Some(Transform::ExcC14n),
            SMEV_TRANSFORM => Some(Transform::Smev),
            _ => None,
        }
    }
}

/// What a signer puts into `ds:Transforms`: SMEV's shape with or without the SMEV transform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TransformChain {
    /// `exc-c14n` only: what generic XMLDSig tools (xmlsec1) understand.
    ExcC14n,
    /// `exc-c14n` then the SMEV transform: what SMEV 3 participants send.
    #[default]
    ExcC14nThenSmev,
}

impl TransformChain {
    /// The transforms in order.
    pub fn transforms(self) -> &'static [Transform] {
        match self {
            TransformChain::ExcC14n => &[Transform::ExcC14n],
            TransformChain::ExcC14nThenSmev => &[Transform::ExcC14n, Transform::Smev],
        }
    }

    /// Whether the SMEV transform is part of the chain.
    pub fn applies_smev(self) -> bool {
        matches!(self, TransformChain::ExcC14nThenSmev)
    }
}
