//! X.509 certificates as XMLDSig carries them (`ds:X509Certificate`) and as operators hand them
//! to the node (PEM or DER files), and [`VerifyError`], the outcome of a signature check: a
//! certificate checks its issuer's signature with it, and the [`key`](super::key) layer above
//! (which re-exports it) reports its verifiers' results with it.

use std::fmt;

use base64::Engine as _;
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, Tag, Tagged};
use time::OffsetDateTime;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::algorithm::SignatureAlgorithm;
use super::{Base64Error, PemError, base64_lenient, pem_block};

/// Largest certificate accepted, DER bytes. Real qualified certificates are 1.5–3 KiB.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    #[error("certificate is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("certificate is not valid base64: {detail}")]
    Base64 { detail: String },
    #[error("certificate PEM is malformed: {detail}")]
    Pem { detail: String },
    #[error("no `CERTIFICATE` block in the PEM text")]
    NoPemCertificate,
    #[error("certificate is not valid X.509 DER: {detail}")]
    Der { detail: String },
}

/// Why a certificate's own signature was not accepted ([`Certificate::verify_signed_by`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateSignatureError {
    #[error("the certificate's issuer is `{issuer}`, not `{candidate}`")]
    IssuerMismatch { issuer: String, candidate: String },
    #[error("certificate signature algorithm {oid} is not supported")]
    UnsupportedAlgorithm { oid: String },
    #[error("the outer and inner signature algorithms differ ({outer} and {inner})")]
    AlgorithmMismatch { outer: String, inner: String },
    #[error("the certificate's TBSCertificate cannot be located: {detail}")]
    Der { detail: String },
    #[error("certificate signature: {0}")]
    Signature(#[from] VerifyError),
}

/// Why a [`Verifier`](super::Verifier) did not accept a signature (also the outcome of a
/// certificate's own signature check, [`CertificateSignatureError::Signature`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature does not match the data and key.
    #[error("signature value does not match")]
    BadSignature,
    /// The key in the certificate does not fit the algorithm (an RSA key with ECDSA, a point
    /// that is not on the curve, an RSA modulus out of range).
    #[error("the certificate's {kind} key cannot check a {algorithm} signature")]
    KeyMismatch {
        algorithm: SignatureAlgorithm,
        kind: KeyKind,
    },
    /// No registered verifier handles this algorithm with this kind of key.
    #[error("no provider is registered to check {algorithm} signatures with a {kind} key")]
    NoProvider {
        algorithm: SignatureAlgorithm,
        kind: KeyKind,
    },
    /// The provider itself failed (not the signature's fault).
    #[error("signature provider failed: {detail}")]
    ProviderFailed { detail: String },
}

const OID_SIGN_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_SIGN_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// The kind of public key a certificate holds, from its SubjectPublicKeyInfo algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    Ed25519,
    /// An EC key on NIST P-256.
    EcdsaP256,
    /// An EC key on another named curve (not supported for signing or verifying).
    EcdsaOtherCurve {
        curve: String,
    },
    Rsa,
    /// GOST R 34.10-2012, 256-bit key (1.2.643.7.1.1.1.1).
    Gost2012_256,
    /// GOST R 34.10-2012, 512-bit key (1.2.643.7.1.1.1.2).
    Gost2012_512,
    /// GOST R 34.10-2001 (1.2.643.2.2.19).
    Gost2001,
    /// Anything else, by OID.
    Other {
        oid: String,
    },
}

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_GOST2012_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.1.1");
const OID_GOST2012_512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.1.2");
const OID_GOST2001: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.2.2.19");

impl KeyKind {
    fn of(spki: &SubjectPublicKeyInfoOwned) -> KeyKind {
        let oid = spki.algorithm.oid;
        if oid == OID_ED25519 {
            KeyKind::Ed25519
        } else if oid == OID_EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            match curve {
                Some(c) if c == OID_P256 => KeyKind::EcdsaP256,
                Some(c) => KeyKind::EcdsaOtherCurve { curve: c.to_string() },
                None => KeyKind::EcdsaOtherCurve {
                    curve: "(not a named curve)".into(),
                },
            }
        } else if oid == OID_RSA {
            KeyKind::Rsa
        } else if oid == OID_GOST2012_256 {
            KeyKind::Gost2012_256
        } else if oid == OID_GOST2012_512 {
            KeyKind::Gost2012_512
        } else if oid == OID_GOST2001 {
            KeyKind::Gost2001
        } else {
            KeyKind::Other { oid: oid.to_string() }
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyKind::Ed25519 => f.write_str("Ed25519"),
            KeyKind::EcdsaP256 => f.write_str("EC P-256"),
            KeyKind::EcdsaOtherCurve { curve } => write!(f, "EC curve {curve}"),
            KeyKind::Rsa => f.write_str("RSA"),
            KeyKind::Gost2012_256 => f.write_str("GOST R 34.10-2012 256"),
            KeyKind::Gost2012_512 => f.write_str("GOST R 34.10-2012 512"),
            KeyKind::Gost2001 => f.write_str("GOST R 34.10-2001"),
            KeyKind::Other { oid } => write!(f, "key algorithm {oid}"),
        }
    }
}

/// Where a certificate stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    NotYetValid,
    Expired,
}

/// A parsed X.509 certificate with the facts the node uses precomputed.
///
/// Only the certificate's own fields are read here; chains, revocation and the mapping of a
/// certificate to a participant belong to the caller.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    key_kind: KeyKind,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("serial", &self.serial_hex())
            .field("key", &self.key_kind)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Reads a DER-encoded certificate.
    ///
    /// # Errors
    /// [`CertificateError::TooLarge`] over [`MAX_CERTIFICATE_BYTES`], [`CertificateError::Der`]
    /// when the bytes are not one X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<Certificate, CertificateError> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(CertificateError::TooLarge {
                size: der.len(),
                limit: MAX_CERTIFICATE_BYTES,
            });
        }
        let parsed = x509_cert::Certificate::from_der(der).map_err(|e| CertificateError::Der {
            detail: e.to_string(),
        })?;
        let tbs = parsed.tbs_certificate();
        let key_kind = KeyKind::of(tbs.subject_public_key_info());
        let not_before = to_offset(tbs.validity().not_before);
        let not_after = to_offset(tbs.validity().not_after);
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
            key_kind,
            not_before,
            not_after,
        })
    }

    /// Reads the first `CERTIFICATE` block of PEM text (text around the block is ignored, as in
    /// files that carry OpenSSL "Bag Attributes" or several blocks).
    ///
    /// # Errors
    /// [`CertificateError::NoPemCertificate`], [`CertificateError::Pem`], or any error of
    /// [`Certificate::from_der`].
    pub fn from_pem(pem: &str) -> Result<Certificate, CertificateError> {
        let (_, der) = pem_block(pem, &["CERTIFICATE", "X509 CERTIFICATE"], MAX_CERTIFICATE_BYTES).map_err(
            |e| match e {
                PemError::NotFound { .. } => CertificateError::NoPemCertificate,
                PemError::Malformed(detail) => CertificateError::Pem { detail },
                PemError::Base64(Base64Error::TooLong { limit }) => CertificateError::TooLarge {
                    size: pem.len(),
                    limit,
                },
                PemError::Base64(e) => CertificateError::Pem {
                    detail: e.to_string(),
                },
            },
        )?;
        Certificate::from_der(&der)
    }

    /// Reads a certificate file as operators have them: PEM, DER, or bare base64 (a `.cer`
    /// exported as "Base-64 encoded" without the armour lines).
    ///
    /// # Errors
    /// As [`Certificate::from_pem`], [`Certificate::from_base64`] or [`Certificate::from_der`].
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Certificate, CertificateError> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => Certificate::from_pem(text),
            Ok(text)
                if !text.trim().is_empty()
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+/= \t\r\n".contains(&b)) =>
            {
                Certificate::from_base64(text)
            }
            _ => Certificate::from_der(bytes),
        }
    }

    /// Reads the base64 text of a `ds:X509Certificate`; whitespace (line breaks included) is
    /// ignored.
    ///
    /// # Errors
    /// [`CertificateError::Base64`], or any error of [`Certificate::from_der`].
    pub fn from_base64(text: &str) -> Result<Certificate, CertificateError> {
        let der = base64_lenient(text, MAX_CERTIFICATE_BYTES).map_err(|e| match e {
            Base64Error::TooLong { limit } => CertificateError::TooLarge {
                size: text.len(),
                limit,
            },
            other => CertificateError::Base64 {
                detail: other.to_string(),
            },
        })?;
        Certificate::from_der(&der)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The DER bytes in base64 (what `ds:X509Certificate` carries).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.der)
    }

    /// The certificate as PEM text.
    pub fn to_pem(&self) -> String {
        // Encoding known-good DER into PEM cannot fail; fall back to an empty string rather
        // than panic if a future pem-rfc7468 disagrees.
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &self.der).unwrap_or_default()
    }

    /// The parsed structure, for callers that need more than this type exposes.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    /// Subject name, RFC 4514 order (most specific first), Russian identity attributes (ИНН,
    /// ОГРН, СНИЛС) by name.
    pub fn subject(&self) -> String {
        name_to_string(self.parsed.tbs_certificate().subject())
    }

    /// Issuer name, as [`Certificate::subject`].
    pub fn issuer(&self) -> String {
        name_to_string(self.parsed.tbs_certificate().issuer())
    }

    /// Serial number as upper-case hex without separators.
    pub fn serial_hex(&self) -> String {
        let mut out = String::new();
        for b in self.parsed.tbs_certificate().serial_number().as_bytes() {
            out.push_str(&format!("{b:02X}"));
        }
        out
    }

    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Where the certificate's validity period stands at `now` (both ends inclusive, as
    /// RFC 5280 says).
    pub fn validity_at(&self, now: OffsetDateTime) -> Validity {
        if now < self.not_before {
            Validity::NotYetValid
        } else if now > self.not_after {
            Validity::Expired
        } else {
            Validity::Valid
        }
    }

    /// The SubjectPublicKeyInfo.
    pub fn spki(&self) -> &SubjectPublicKeyInfoOwned {
        self.parsed.tbs_certificate().subject_public_key_info()
    }

    /// The DER of the SubjectPublicKeyInfo, a stable key identity (e.g. for a registry of
    /// participants' keys).
    pub fn spki_der(&self) -> Vec<u8> {
        self.spki().to_der().unwrap_or_default()
    }

    /// The content of the SubjectPublicKeyInfo BIT STRING: the raw public key (a point for EC
    /// and Ed25519, `RSAPublicKey` DER for RSA, an OCTET STRING for GOST).
    pub fn public_key_bytes(&self) -> &[u8] {
        self.spki().subject_public_key.raw_bytes()
    }

    pub fn key_kind(&self) -> &KeyKind {
        &self.key_kind
    }

    /// Checks that `issuer` signed this certificate: the issuer name is `issuer`'s subject and
    /// the signature verifies with `issuer`'s key (GOST R 34.10-2012 256 / 2001 in SMEV's
    /// encoding, ECDSA P-256 SHA-256, RSA SHA-256 or Ed25519). Validity periods, key usages
    /// and revocation are the caller's to check.
    ///
    /// # Errors
    /// [`CertificateSignatureError`] naming what does not hold.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), CertificateSignatureError> {
        let tbs = self.parsed.tbs_certificate();
        if tbs.issuer() != issuer.parsed.tbs_certificate().subject() {
            return Err(CertificateSignatureError::IssuerMismatch {
                issuer: self.issuer(),
                candidate: issuer.subject(),
            });
        }
        let outer = &self.parsed.signature_algorithm().oid;
        if tbs.signature().oid != *outer {
            return Err(CertificateSignatureError::AlgorithmMismatch {
                outer: outer.to_string(),
                inner: tbs.signature().oid.to_string(),
            });
        }
        let tbs_der = tbs_bytes(&self.der).map_err(|e| CertificateSignatureError::Der {
            detail: e.to_string(),
        })?;
        verify_issuer_signature(issuer, outer, tbs_der, self.parsed.signature().raw_bytes())
    }

    /// Whether the certificate is self-signed: issued by its own subject and signed with its
    /// own key ([`Certificate::verify_signed_by`] itself).
    pub fn is_self_signed(&self) -> bool {
        self.verify_signed_by(self).is_ok()
    }
}

/// The TBSCertificate (or a CRL's TBSCertList) exactly as it sits in `der` (the bytes the
/// issuer signed), the first element of the outer SEQUENCE.
pub(crate) fn tbs_bytes(der: &[u8]) -> der::Result<&[u8]> {
    use der::Reader as _;
    let mut reader = der::SliceReader::new(der)?;
    let _outer = der::Header::decode(&mut reader)?;
    let start = usize::try_from(reader.position())?;
    let tbs = der::Header::decode(&mut reader)?;
    let header_len = usize::try_from(reader.position())? - start;
    let len = header_len + usize::try_from(tbs.length())?;
    der.get(start..start + len).ok_or_else(|| {
        der::Error::from(der::ErrorKind::Incomplete {
            expected_len: der::Length::try_from(start + len).unwrap_or(der::Length::MAX),
            actual_len: der::Length::try_from(der.len()).unwrap_or(der::Length::MAX),
        })
    })
}

/// Checks `signature` (a signed structure's BIT STRING) over `tbs_der` (the bytes the issuer
/// signed) with `issuer`'s key, for the signature algorithm `algorithm`: what certificates and
/// CRLs ([`super::trust`]) both carry. GOST R 34.10-2012 256 / 2001 in SMEV's encoding, ECDSA
/// P-256 SHA-256, RSA SHA-256 or Ed25519.
///
/// # Errors
/// [`CertificateSignatureError::UnsupportedAlgorithm`], or
/// [`CertificateSignatureError::Signature`] when the key does not fit or the signature does not
/// verify.
pub(crate) fn verify_issuer_signature(
    issuer: &Certificate,
    algorithm: &ObjectIdentifier,
    tbs_der: &[u8],
    signature: &[u8],
) -> Result<(), CertificateSignatureError> {
    if let Some(gost) = super::gost::certificate_signature_algorithm(algorithm) {
        return Ok(super::gost::verify_certificate_signature(
            gost, issuer, tbs_der, signature,
        )?);
    }
    use ring::signature as rsig;
    let (algorithm, ring_algorithm, key_kind): (_, &dyn rsig::VerificationAlgorithm, _) =
        if *algorithm == OID_SIGN_ECDSA_SHA256 {
            (
                SignatureAlgorithm::EcdsaP256Sha256,
                &rsig::ECDSA_P256_SHA256_ASN1,
                KeyKind::EcdsaP256,
            )
        } else if *algorithm == OID_SIGN_RSA_SHA256 {
            (
                SignatureAlgorithm::RsaSha256,
                &rsig::RSA_PKCS1_2048_8192_SHA256,
                KeyKind::Rsa,
            )
        } else if *algorithm == OID_ED25519 {
            (SignatureAlgorithm::Ed25519, &rsig::ED25519, KeyKind::Ed25519)
        } else {
            return Err(CertificateSignatureError::UnsupportedAlgorithm {
                oid: algorithm.to_string(),
            });
        };
    if *issuer.key_kind() != key_kind {
        return Err(VerifyError::KeyMismatch {
            algorithm,
            kind: issuer.key_kind().clone(),
        }
        .into());
    }
    rsig::UnparsedPublicKey::new(ring_algorithm, issuer.public_key_bytes())
        .verify(tbs_der, signature)
        .map_err(|_| VerifyError::BadSignature.into())
}

pub(crate) fn to_offset(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or_else(|_| {
        // Beyond year 9999: treat as never expiring at the far end of the representable range.
        OffsetDateTime::from_unix_timestamp(253_402_300_799).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    })
}

/// Short names of the attribute types seen in Russian qualified certificates, beyond those
/// x509-cert knows.
const RUSSIAN_ATTRIBUTES: [(&str, &str); 6] = [
    ("1.2.643.3.131.1.1", "INN"),
    ("1.2.643.100.4", "INNLE"),
    ("1.2.643.100.1", "OGRN"),
    ("1.2.643.100.5", "OGRNIP"),
    ("1.2.643.100.3", "SNILS"),
    ("1.2.840.113549.1.9.1", "E"),
];

pub(crate) fn name_to_string(name: &Name) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter_rdn().collect::<Vec<_>>().into_iter().rev() {
        let atvs: Vec<String> = rdn.iter().map(atv_to_string).collect();
        parts.push(atvs.join("+"));
    }
    parts.join(", ")
}

fn atv_to_string(atv: &AttributeTypeAndValue) -> String {
    let oid = atv.oid.to_string();
    let Some((_, short)) = RUSSIAN_ATTRIBUTES.iter().find(|(o, _)| *o == oid) else {
        return atv.to_string();
    };
    let value = match atv.value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::TeletexString => String::from_utf8_lossy(atv.value.value()).into_owned(),
        _ => return atv.to_string(),
    };
    format!("{short}={value}")
}

/// Certificates read from `ds:X509Certificate` text, by that text: a participant signs every call
/// with the same certificate, and decoding it (base64, then DER) on each verification costs more
/// than looking it up. The same text always decodes to the same certificate, so an entry never
/// goes stale; validity is checked by the caller at each use. At most `capacity` entries are
/// kept: when full, the cache starts over.
#[derive(Debug)]
pub(crate) struct CertificateCache {
    capacity: usize,
    entries: std::sync::Mutex<std::collections::HashMap<Box<str>, std::sync::Arc<Certificate>>>,
}

impl CertificateCache {
    pub(crate) fn new(capacity: usize) -> CertificateCache {
        CertificateCache {
            capacity: capacity.max(1),
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The certificate `text` holds, from the cache or read now (and then kept, when readable).
    ///
    /// # Errors
    /// As [`Certificate::from_base64`]; failures are not kept.
    pub(crate) fn read(&self, text: &str) -> Result<std::sync::Arc<Certificate>, CertificateError> {
        let lock = || {
            self.entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(c) = lock().get(text) {
            return Ok(c.clone());
        }
        let certificate = std::sync::Arc::new(Certificate::from_base64(text)?);
        let mut entries = lock();
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(text.into(), certificate.clone());
        Ok(certificate)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }
}
