//! Who signs and who checks: the [`Signer`] and [`Verifier`] traits, their implementation over
//! ring, and the [`VerifierRegistry`] that picks a verifier for an algorithm and a key.
//!
//! API boundary: these traits are the extension point for cryptographic providers. The GOST
//! R 34.10-2012/2001 implementation ([`super::gost`]) is one; a PKCS#11 token/HSM that keeps the
//! private key out of the process implements [`Signer`] and/or [`Verifier`] the same way and is
//! handed to the same `sign`/`verify` calls; no caller changes. [`load_signer`] picks the
//! in-process signer for a key file.

use std::fmt;
use std::sync::Arc;

use ring::rand::SystemRandom;
use ring::signature::{self as rsig, KeyPair as _};

use super::algorithm::SignatureAlgorithm;
use super::cert::{Certificate, CertificateCache, CertificateError, KeyKind};
use super::gost::{GostSigner, GostVerifier};
use super::{DsigError, PemError, pem_block};

// Defined with the certificates, which check their own signatures with it.
pub use super::cert::VerifyError;

/// Largest private key file accepted, bytes.
const MAX_KEY_BYTES: usize = 64 * 1024;

/// Why a key could not be loaded or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("private key PEM is malformed: {detail}")]
    Pem { detail: String },
    #[error("private key file is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error(
        "PEM block `{label}` is not a private key this node reads (PKCS#8 `PRIVATE KEY` or `RSA PRIVATE KEY`)"
    )]
    UnexpectedPemLabel { label: String },
    #[error("the certificate holds a {kind} key, which the ring provider cannot sign with")]
    UnsupportedKey { kind: KeyKind },
    #[error("the private key was rejected as a {kind} key: {detail}")]
    Rejected { kind: KeyKind, detail: String },
    #[error("the private key does not belong to the certificate (public keys differ)")]
    DoesNotMatchCertificate,
    #[error("signing failed: {detail}")]
    SigningFailed { detail: String },
}

/// Something that signs with a private key bound to a certificate.
///
/// `data` is the canonical `ds:SignedInfo`; the signer hashes it as its algorithm says and
/// returns the `ds:SignatureValue` bytes in XMLDSig's encoding (raw `r || s` for ECDSA, the
/// GOST.md layout for GOST).
pub trait Signer: Send + Sync {
    fn algorithm(&self) -> SignatureAlgorithm;
    /// # Errors
    /// [`DsigError::Key`] with [`KeyError::SigningFailed`] when the provider fails (a token
    /// unplugged, an HSM error).
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, DsigError>;
    fn certificate(&self) -> &Certificate;
}

/// Something that checks signatures of some algorithms.
pub trait Verifier: Send + Sync + fmt::Debug {
    /// Whether this verifier checks `algorithm` signatures made with keys like `certificate`'s.
    fn supports(&self, algorithm: SignatureAlgorithm, certificate: &Certificate) -> bool;

    /// Checks `signature` (the decoded `ds:SignatureValue`) over `data` (the canonical
    /// `ds:SignedInfo`) with `certificate`'s public key.
    ///
    /// # Errors
    /// [`VerifyError::BadSignature`] when it does not verify, [`VerifyError::KeyMismatch`] when
    /// the key cannot be used, [`VerifyError::ProviderFailed`] for the provider's own failures.
    fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        certificate: &Certificate,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError>;
}

/// The verifiers the node uses, asked in registration order.
///
/// [`VerifierRegistry::default`] holds the GOST verifier (GOST R 34.10-2012 256 and 2001) and
/// the ring verifier (Ed25519, ECDSA P-256, RSA); another provider (a PKCS#11 token) is added
/// with [`VerifierRegistry::register`].
#[derive(Debug, Clone)]
pub struct VerifierRegistry {
    verifiers: Vec<Arc<dyn Verifier>>,
    /// Signers' certificates already read (shared by the clones of this registry).
    certificates: Arc<CertificateCache>,
}

/// How many distinct signer certificates [`VerifierRegistry`] keeps decoded.
const CERTIFICATE_CACHE_ENTRIES: usize = 4096;

impl Default for VerifierRegistry {
    fn default() -> Self {
        VerifierRegistry {
            verifiers: vec![Arc::new(GostVerifier), Arc::new(RingVerifier)],
            certificates: Arc::new(CertificateCache::new(CERTIFICATE_CACHE_ENTRIES)),
        }
    }
}

impl VerifierRegistry {
    /// A registry with no verifier at all (every signature reports [`VerifyError::NoProvider`]).
    pub fn empty() -> Self {
        VerifierRegistry {
            verifiers: Vec::new(),
            certificates: Arc::new(CertificateCache::new(CERTIFICATE_CACHE_ENTRIES)),
        }
    }

    /// Adds a verifier, asked before those registered earlier, so a provider can take over an
    /// algorithm the defaults also handle.
    pub fn register(&mut self, verifier: Arc<dyn Verifier>) -> &mut Self {
        self.verifiers.insert(0, verifier);
        self
    }

    /// The certificate a `ds:X509Certificate` holds (decoded once per distinct text).
    pub(crate) fn certificate(&self, base64: &str) -> Result<Arc<Certificate>, CertificateError> {
        self.certificates.read(base64)
    }

    /// Whether some verifier handles `algorithm` with `certificate`'s key.
    pub fn supports(&self, algorithm: SignatureAlgorithm, certificate: &Certificate) -> bool {
        self.verifiers.iter().any(|v| v.supports(algorithm, certificate))
    }

    /// Checks with the first verifier that supports `algorithm` and the certificate's key.
    ///
    /// # Errors
    /// [`VerifyError::NoProvider`] when none does, or that verifier's error.
    pub fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        certificate: &Certificate,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        match self.verifiers.iter().find(|v| v.supports(algorithm, certificate)) {
            Some(v) => v.verify(algorithm, certificate, data, signature),
            None => Err(VerifyError::NoProvider {
                algorithm,
                kind: certificate.key_kind().clone(),
            }),
        }
    }
}

/// Verifies Ed25519, ECDSA P-256 SHA-256 and RSA PKCS#1 v1.5 SHA-256 (2048–8192-bit keys) with
/// ring.
#[derive(Debug, Clone, Copy, Default)]
pub struct RingVerifier;

fn ring_algorithm(
    algorithm: SignatureAlgorithm,
    kind: &KeyKind,
) -> Option<&'static dyn rsig::VerificationAlgorithm> {
    match (algorithm, kind) {
        (SignatureAlgorithm::Ed25519, KeyKind::Ed25519) => Some(&rsig::ED25519),
        (SignatureAlgorithm::EcdsaP256Sha256, KeyKind::EcdsaP256) => Some(&rsig::ECDSA_P256_SHA256_FIXED),
        (SignatureAlgorithm::RsaSha256, KeyKind::Rsa) => Some(&rsig::RSA_PKCS1_2048_8192_SHA256),
        _ => None,
    }
}

impl Verifier for RingVerifier {
    fn supports(&self, algorithm: SignatureAlgorithm, certificate: &Certificate) -> bool {
        // Claimed whatever the key, so that a key of the wrong kind is reported as a mismatch
        // (an invalid signature), not as a missing provider.
        let _ = certificate;
        matches!(
            algorithm,
            SignatureAlgorithm::Ed25519 | SignatureAlgorithm::EcdsaP256Sha256 | SignatureAlgorithm::RsaSha256
        )
    }

    fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        certificate: &Certificate,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let alg =
            ring_algorithm(algorithm, certificate.key_kind()).ok_or_else(|| VerifyError::KeyMismatch {
                algorithm,
                kind: certificate.key_kind().clone(),
            })?;
        // ring folds "malformed key" and "wrong signature" into one error; a key the
        // certificate holds that ring cannot parse shows up as a bad signature, which is what
        // the peer needs to hear either way.
        rsig::UnparsedPublicKey::new(alg, certificate.public_key_bytes())
            .verify(data, signature)
            .map_err(|_| VerifyError::BadSignature)
    }
}

/// Loads the signer for a PEM private key and its certificate, picking the provider from the
/// certificate's key: [`GostSigner`] for GOST R 34.10-2012 256 / 2001 keys (PKCS#8 as the
/// OpenSSL gost engine writes it), [`RingSigner`] for Ed25519, ECDSA P-256 and RSA.
///
/// # Errors
/// The chosen provider's [`KeyError`].
pub fn load_signer(key_pem: &str, certificate: Certificate) -> Result<Box<dyn Signer>, KeyError> {
    match certificate.key_kind() {
        KeyKind::Gost2012_256 | KeyKind::Gost2001 => {
            Ok(Box::new(GostSigner::from_pem(key_pem, certificate)?))
        }
        _ => Ok(Box::new(RingSigner::from_pem(key_pem, certificate)?)),
    }
}

/// The private key material ring holds.
enum RingKey {
    Ed25519(rsig::Ed25519KeyPair),
    EcdsaP256(rsig::EcdsaKeyPair),
    Rsa(rsig::RsaKeyPair),
}

/// A [`Signer`] over a private key held in memory by ring. The algorithm follows from the
/// certificate's key: Ed25519, ECDSA P-256 SHA-256, or RSA SHA-256.
pub struct RingSigner {
    key: RingKey,
    certificate: Certificate,
    rng: SystemRandom,
}

impl fmt::Debug for RingSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingSigner")
            .field("algorithm", &self.algorithm())
            .field("certificate", &self.certificate)
            .finish_non_exhaustive()
    }
}

impl RingSigner {
    /// Loads a private key from PEM (PKCS#8 `PRIVATE KEY`; for RSA also PKCS#1 `RSA PRIVATE KEY`)
    /// and binds it to `certificate`.
    ///
    /// # Errors
    /// [`KeyError`]: malformed PEM, a key kind ring cannot sign with, a key ring rejects, or a key
    /// whose public half differs from the certificate's.
    pub fn from_pem(key_pem: &str, certificate: Certificate) -> Result<RingSigner, KeyError> {
        if key_pem.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLarge {
                size: key_pem.len(),
                limit: MAX_KEY_BYTES,
            });
        }
        let (label, der) =
            pem_block(key_pem, &["PRIVATE KEY", "RSA PRIVATE KEY"], MAX_KEY_BYTES).map_err(|e| match e {
                PemError::NotFound {
                    first_label: Some(label),
                } => KeyError::UnexpectedPemLabel { label },
                PemError::NotFound { first_label: None } => KeyError::Pem {
                    detail: "no PEM block".into(),
                },
                PemError::Malformed(detail) => KeyError::Pem { detail },
                PemError::Base64(e) => KeyError::Pem {
                    detail: e.to_string(),
                },
            })?;
        match label.as_str() {
            "PRIVATE KEY" => RingSigner::from_pkcs8_der(&der, certificate),
            "RSA PRIVATE KEY" => {
                let pair = rsig::RsaKeyPair::from_der(&der).map_err(|e| KeyError::Rejected {
                    kind: KeyKind::Rsa,
                    detail: e.to_string(),
                })?;
                RingSigner::bind(RingKey::Rsa(pair), certificate)
            }
            other => Err(KeyError::UnexpectedPemLabel {
                label: other.to_owned(),
            }),
        }
    }

    /// Loads a PKCS#8 DER private key and binds it to `certificate`.
    ///
    /// # Errors
    /// As [`RingSigner::from_pem`].
    pub fn from_pkcs8_der(pkcs8: &[u8], certificate: Certificate) -> Result<RingSigner, KeyError> {
        let kind = certificate.key_kind().clone();
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected {
            kind: kind.clone(),
            detail: e.to_string(),
        };
        let key = match &kind {
            // OpenSSL writes PKCS#8 v1 (no public key inside); ring's own writer v2. The
            // comparison with the certificate below is the check v2 would have given.
            KeyKind::Ed25519 => {
                RingKey::Ed25519(rsig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8).map_err(rejected)?)
            }
            KeyKind::EcdsaP256 => RingKey::EcdsaP256(
                rsig::EcdsaKeyPair::from_pkcs8(
                    &rsig::ECDSA_P256_SHA256_FIXED_SIGNING,
                    pkcs8,
                    &SystemRandom::new(),
                )
                .map_err(rejected)?,
            ),
            KeyKind::Rsa => RingKey::Rsa(rsig::RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?),
            _ => return Err(KeyError::UnsupportedKey { kind }),
        };
        RingSigner::bind(key, certificate)
    }

    fn bind(key: RingKey, certificate: Certificate) -> Result<RingSigner, KeyError> {
        let public: &[u8] = match &key {
            RingKey::Ed25519(k) => k.public_key().as_ref(),
            RingKey::EcdsaP256(k) => k.public_key().as_ref(),
            RingKey::Rsa(k) => k.public_key().as_ref(),
        };
        let expected_kind = match &key {
            RingKey::Ed25519(_) => KeyKind::Ed25519,
            RingKey::EcdsaP256(_) => KeyKind::EcdsaP256,
            RingKey::Rsa(_) => KeyKind::Rsa,
        };
        if *certificate.key_kind() != expected_kind || public != certificate.public_key_bytes() {
            return Err(KeyError::DoesNotMatchCertificate);
        }
        Ok(RingSigner {
            key,
            certificate,
            rng: SystemRandom::new(),
        })
    }
}

impl Signer for RingSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key {
            RingKey::Ed25519(_) => SignatureAlgorithm::Ed25519,
            RingKey::EcdsaP256(_) => SignatureAlgorithm::EcdsaP256Sha256,
            RingKey::Rsa(_) => SignatureAlgorithm::RsaSha256,
        }
    }

    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, DsigError> {
        let failed = |e: ring::error::Unspecified| {
            DsigError::Key(KeyError::SigningFailed {
                detail: e.to_string(),
            })
        };
        match &self.key {
            RingKey::Ed25519(k) => Ok(k.sign(data).as_ref().to_vec()),
            RingKey::EcdsaP256(k) => Ok(k.sign(&self.rng, data).map_err(failed)?.as_ref().to_vec()),
            RingKey::Rsa(k) => {
                let mut out = vec![0u8; k.public().modulus_len()];
                k.sign(&rsig::RSA_PKCS1_SHA256, &self.rng, data, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
        }
    }

    fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}
