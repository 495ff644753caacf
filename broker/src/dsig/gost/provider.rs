//! The GOST implementations of the dsig [`Signer`] and [`Verifier`] traits.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};

use super::keys::{GostKeyError, GostPublicKey, GostSigningKey};
use super::params::Flavour;
use crate::dsig::DsigError;
use crate::dsig::algorithm::SignatureAlgorithm;
use crate::dsig::cert::{Certificate, KeyKind};
use crate::dsig::key::{KeyError, Signer, Verifier, VerifyError};

/// Most keys a node sees repeat (one certificate per participant), and preparing one costs about
/// half a signature check (the verifier's tables of 2^128·Q; on TC26-256-A also the subgroup
/// check): decoded keys are kept, by the DER of their SubjectPublicKeyInfo, up to this many (about
/// 2 KiB each; then the cache starts again empty).
const MAX_CACHED_KEYS: usize = 512;

static DECODED_KEYS: LazyLock<Mutex<HashMap<Vec<u8>, Arc<GostPublicKey>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The certificate's GOST key, decoded once per SubjectPublicKeyInfo and shared, so that its
/// verifier tables are built once.
fn cached_public_key(certificate: &Certificate) -> Result<Arc<GostPublicKey>, GostKeyError> {
    let spki = certificate.spki_der();
    if spki.is_empty() {
        // Not re-encodable (never seen): no stable identity to cache under.
        return GostPublicKey::from_certificate(certificate).map(Arc::new);
    }
    // A poisoned lock only means another thread panicked mid-insert; the cache is skipped.
    if let Some(key) = DECODED_KEYS.lock().ok().and_then(|c| c.get(&spki).cloned()) {
        return Ok(key);
    }
    let key = Arc::new(GostPublicKey::from_certificate(certificate)?);
    if let Ok(mut cache) = DECODED_KEYS.lock() {
        if cache.len() >= MAX_CACHED_KEYS {
            cache.clear();
        }
        cache.insert(spki, Arc::clone(&key));
    }
    Ok(key)
}

/// Checks GOST R 34.10-2012 (256-bit, Streebog-256) and GOST R 34.10-2001 (GOST R 34.11-94)
/// signature values, in SMEV's encoding, with the key of the signer's certificate.
///
/// It claims both algorithms whatever the certificate holds, so that a certificate whose key
/// does not fit the algorithm is reported as a mismatch (the peer's fault), not as a missing
/// provider. GOST R 34.10-2012 512-bit is not claimed.
#[derive(Debug, Clone, Copy, Default)]
pub struct GostVerifier;

impl Verifier for GostVerifier {
    fn supports(&self, algorithm: SignatureAlgorithm, _certificate: &Certificate) -> bool {
        Flavour::from_algorithm(algorithm).is_some()
    }

    fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        certificate: &Certificate,
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), VerifyError> {
        let mismatch = || VerifyError::KeyMismatch {
            algorithm,
            kind: certificate.key_kind().clone(),
        };
        let key = cached_public_key(certificate).map_err(|_| mismatch())?;
        if key.algorithm() != algorithm {
            return Err(mismatch());
        }
        key.verify(data, signature)
    }
}

/// A [`Signer`] over a GOST private key held in memory, bound to its certificate. The algorithm
/// follows from the key: GOST R 34.10-2012 256 (or, for a legacy key, 2001).
pub struct GostSigner {
    key: GostSigningKey,
    certificate: Certificate,
}

impl fmt::Debug for GostSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GostSigner")
            .field("algorithm", &self.key.public_key().algorithm())
            .field("param_set", &self.key.public_key().param_set())
            .field("certificate", &self.certificate)
            .finish_non_exhaustive()
    }
}

fn rejected(kind: &KeyKind, e: GostKeyError) -> KeyError {
    KeyError::Rejected {
        kind: kind.clone(),
        detail: e.to_string(),
    }
}

impl GostSigner {
    /// Loads a PKCS#8 PEM GOST key (as the OpenSSL gost engine writes it) and binds it to
    /// `certificate`.
    ///
    /// # Errors
    /// [`KeyError::UnsupportedKey`] when the certificate's key is not a 256-bit GOST key,
    /// [`KeyError::Rejected`] for a key that cannot be read, [`KeyError::DoesNotMatchCertificate`]
    /// when its public half is not the certificate's.
    pub fn from_pem(key_pem: &str, certificate: Certificate) -> Result<GostSigner, KeyError> {
        let kind = certificate.key_kind().clone();
        if !matches!(kind, KeyKind::Gost2012_256 | KeyKind::Gost2001) {
            return Err(KeyError::UnsupportedKey { kind });
        }
        let key = GostSigningKey::from_pkcs8_pem(key_pem).map_err(|e| rejected(&kind, e))?;
        GostSigner::new(key, certificate)
    }

    /// Binds a key to `certificate`.
    ///
    /// # Errors
    /// [`KeyError::Rejected`] when the certificate's GOST key cannot be read,
    /// [`KeyError::DoesNotMatchCertificate`] when it is not `key`'s public half.
    pub fn new(key: GostSigningKey, certificate: Certificate) -> Result<GostSigner, KeyError> {
        let kind = certificate.key_kind().clone();
        let public = GostPublicKey::from_certificate(&certificate).map_err(|e| rejected(&kind, e))?;
        if !public.same_key(key.public_key()) {
            return Err(KeyError::DoesNotMatchCertificate);
        }
        Ok(GostSigner { key, certificate })
    }

    pub fn key(&self) -> &GostSigningKey {
        &self.key
    }
}

impl Signer for GostSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.key.public_key().algorithm()
    }

    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, DsigError> {
        self.key.sign(data).map(|v| v.to_vec()).map_err(|e| {
            DsigError::Key(KeyError::SigningFailed {
                detail: e.to_string(),
            })
        })
    }

    fn certificate(&self) -> &Certificate {
        &self.certificate
    }
}
