//! GOST certificate signatures: making self-signed certificates (for `rsmev keys generate` and
//! tests) and checking a certificate's signature with its issuer's GOST key.
//!
//! A certificate signature uses the same convention as `ds:SignatureValue` (GOST.md): the
//! BIT STRING holds `s‖r` (big-endian halves) over the TBSCertificate DER hashed with the key's
//! digest and read little-endian.

use std::time::Duration;

use der::asn1::{Any, BitString, ObjectIdentifier};
use der::{Decode as _, Encode as _, Tag};
use spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey, SubjectPublicKeyInfoRef,
};
use time::OffsetDateTime;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::Extension;
use x509_cert::ext::ToExtension as _;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use super::keys::{GostKeyError, GostPublicKey, GostSigningKey, os_random};
use super::params::{Flavour, OID_SIGN_GOST2001, OID_SIGN_GOST2012_256};
use crate::dsig::algorithm::SignatureAlgorithm;
use crate::dsig::cert::{Certificate, VerifyError};

const OID_COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// The GOST signature algorithm a certificate signature OID names.
pub(crate) fn certificate_signature_algorithm(oid: &ObjectIdentifier) -> Option<SignatureAlgorithm> {
    if *oid == OID_SIGN_GOST2012_256 {
        Some(SignatureAlgorithm::Gost2012_256)
    } else if *oid == OID_SIGN_GOST2001 {
        Some(SignatureAlgorithm::Gost2001)
    } else {
        None
    }
}

/// Checks a GOST certificate signature: `signature` over `tbs_der` with `issuer`'s key, for
/// `algorithm`.
///
/// # Errors
/// [`VerifyError::KeyMismatch`] when the issuer's key is not a GOST key of that algorithm,
/// [`VerifyError::BadSignature`] when the signature does not verify.
pub(crate) fn verify_certificate_signature(
    algorithm: SignatureAlgorithm,
    issuer: &Certificate,
    tbs_der: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let mismatch = || VerifyError::KeyMismatch {
        algorithm,
        kind: issuer.key_kind().clone(),
    };
    let key = GostPublicKey::from_certificate(issuer).map_err(|_| mismatch())?;
    if key.algorithm() != algorithm {
        return Err(mismatch());
    }
    key.verify(tbs_der, signature)
}

/// `CN=cn[, O=org]` as UTF8String attributes.
///
/// # Errors
/// [`GostKeyError::Certificate`] for an empty common name or one DER cannot hold.
pub fn subject_name(cn: &str, org: &str) -> Result<Name, GostKeyError> {
    let der_error = |e: der::Error| GostKeyError::Certificate {
        detail: e.to_string(),
    };
    if cn.is_empty() {
        return Err(GostKeyError::Certificate {
            detail: "the common name is empty".into(),
        });
    }
    let mut rdns = RdnSequence::default();
    for (oid, value) in [(OID_COMMON_NAME, cn), (OID_ORGANIZATION, org)] {
        if value.is_empty() {
            continue;
        }
        let atv = AttributeTypeAndValue {
            oid,
            value: Any::new(Tag::Utf8String, value.as_bytes()).map_err(der_error)?,
        };
        rdns.push(RelativeDistinguishedName::try_from(vec![atv]).map_err(der_error)?);
    }
    Name::from_der(&rdns.to_der().map_err(der_error)?).map_err(der_error)
}

/// A self-signed certificate profile: subject = issuer, the key identifiers, and the
/// constraints `openssl req -x509` gives a self-signed certificate (CA, may sign certificates),
/// plus the key usages of a signature key.
struct SelfSigned {
    subject: Name,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut extensions = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        extensions.push(ski.to_extension(tbs.subject(), &extensions)?);
        extensions.push(
            AuthorityKeyIdentifier {
                key_identifier: Some(ski.0.clone()),
                ..Default::default()
            }
            .to_extension(tbs.subject(), &extensions)?,
        );
        extensions.push(
            BasicConstraints {
                ca: true,
                path_len_constraint: None,
            }
            .to_extension(tbs.subject(), &extensions)?,
        );
        extensions.push(
            KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation | KeyUsages::KeyCertSign)
                .to_extension(tbs.subject(), &extensions)?,
        );
        Ok(extensions)
    }
}

/// What the x509-cert builder needs to know about the signing key.
struct BuilderKey<'a>(&'a GostSigningKey);

impl signature::Keypair for BuilderKey<'_> {
    type VerifyingKey = GostPublicKey;

    fn verifying_key(&self) -> GostPublicKey {
        self.0.public_key().clone()
    }
}

impl EncodePublicKey for GostPublicKey {
    fn to_public_key_der(&self) -> spki::Result<der::Document> {
        Ok(der::Document::encode_msg(&self.to_spki()?)?)
    }
}

impl DynSignatureAlgorithmIdentifier for BuilderKey<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        let flavour =
            Flavour::from_algorithm(self.0.public_key().algorithm()).ok_or(spki::Error::KeyMalformed)?;
        // RFC 9215 §3.1 (and RFC 4491 for 2001): the parameters are absent.
        Ok(AlgorithmIdentifierOwned {
            oid: flavour.signature_oid(),
            parameters: None,
        })
    }
}

fn x509_time(t: OffsetDateTime) -> Result<Time, GostKeyError> {
    let secs = u64::try_from(t.unix_timestamp()).map_err(|_| GostKeyError::Certificate {
        detail: format!("{t} is before 1970"),
    })?;
    let dt = der::DateTime::from_unix_duration(Duration::from_secs(secs)).map_err(|e| {
        GostKeyError::Certificate {
            detail: format!("{t}: {e}"),
        }
    })?;
    Ok(Time::from(dt))
}

impl GostSigningKey {
    /// A self-signed X.509 v3 certificate for this key: subject and issuer `subject`, a random
    /// 16-byte serial, valid from `not_before` to `not_after`, with subject/authority key
    /// identifiers, `basicConstraints` CA and `keyUsage` digitalSignature, nonRepudiation,
    /// keyCertSign; signed with this key (GOST R 34.10-2012 256 with Streebog-256, or
    /// 2001 with GOST R 34.11-94).
    ///
    /// # Errors
    /// [`GostKeyError::Certificate`] when the dates or name cannot be encoded,
    /// [`GostKeyError::Random`] when the OS random generator fails.
    pub fn self_signed_certificate(
        &self,
        subject: &Name,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Certificate, GostKeyError> {
        let cert_error = |detail: String| GostKeyError::Certificate { detail };
        let mut serial = [0u8; 16];
        os_random(&mut serial)?;
        // Positive and without a leading zero byte: RFC 5280 serials are positive integers.
        serial[0] = (serial[0] & 0x7f) | 0x40;
        let serial = SerialNumber::new(&serial).map_err(|e| cert_error(e.to_string()))?;
        let validity = Validity::new(x509_time(not_before)?, x509_time(not_after)?);
        let spki = self
            .public_key()
            .to_spki()
            .map_err(|e| cert_error(e.to_string()))?;
        let mut builder = CertificateBuilder::new(
            SelfSigned {
                subject: subject.clone(),
            },
            serial,
            validity,
            spki,
        )
        .map_err(|e| cert_error(e.to_string()))?;
        let key = BuilderKey(self);
        let tbs = builder.finalize(&key).map_err(|e| cert_error(e.to_string()))?;
        let signature = self.sign(&tbs)?;
        let signature = BitString::from_bytes(&signature).map_err(|e| cert_error(e.to_string()))?;
        let certificate = builder
            .assemble(signature, &key)
            .map_err(|e| cert_error(e.to_string()))?;
        let der = certificate.to_der().map_err(|e| cert_error(e.to_string()))?;
        Certificate::from_der(&der).map_err(|e| cert_error(e.to_string()))
    }
}
