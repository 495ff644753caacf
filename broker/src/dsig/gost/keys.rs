//! GOST public keys (from certificates) and private keys (PKCS#8, as the OpenSSL gost engine
//! writes them).
//!
//! Encodings (RFC 4491, RFC 9215, and what the engine and CryptoPro emit):
//! - SubjectPublicKeyInfo: algorithm `1.2.643.7.1.1.1.1` (2012-256) or `1.2.643.2.2.19` (2001)
//!   with parameters `SEQUENCE { paramSet OID, digestParamSet OID OPTIONAL, … }`; the BIT STRING
//!   holds an OCTET STRING of 64 bytes, `X‖Y`, each little-endian.
//! - PKCS#8: the same algorithm identifier; the privateKey OCTET STRING holds `d` as 32 raw
//!   little-endian bytes (OpenSSL 3 gost engine). Older tools wrap those bytes in another OCTET
//!   STRING, or write a DER INTEGER (big-endian); both are read, only the first is written.

use std::fmt;
use std::sync::OnceLock;

use der::asn1::{AnyRef, BitString, ObjectIdentifier, OctetString, OctetStringRef, UintRef};
use der::{Any, Decode, Encode};
use elliptic_curve::NonZeroScalar;
use pkcs8::PrivateKeyInfoRef;
use spki::{AlgorithmIdentifier, AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::{Zeroize as _, Zeroizing};

use super::curves::{CryptoProA, CryptoProB, CryptoProC, GostCurve, Tc26A};
use super::params::{CurveId, Flavour, ParamSet};
use super::scheme::{self, Affine, FULL, HALF, SplitTables};
use crate::dsig::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use crate::dsig::cert::{Certificate, KeyKind, VerifyError};
use crate::dsig::{PemError, pem_block};

/// Largest private key file read, bytes.
const MAX_KEY_BYTES: usize = 64 * 1024;

/// Why a GOST key could not be read, made or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GostKeyError {
    #[error(
        "key algorithm {oid} is not GOST R 34.10-2012 256 (1.2.643.7.1.1.1.1) or GOST R 34.10-2001 (1.2.643.2.2.19)"
    )]
    NotGost { oid: String },
    #[error("GOST R 34.10-2012 512-bit keys are not supported")]
    Gost512,
    #[error("the key algorithm has no GOST parameter set")]
    MissingParameters,
    #[error("unknown GOST parameter set {oid}")]
    UnknownParamSet { oid: String },
    #[error("GOST R 34.10-2001 has no parameter set {param_set} (TC26 sets are for 2012 keys)")]
    ParamSetNotFor2001 { param_set: ParamSet },
    #[error("the {algorithm} algorithm is not a 256-bit GOST algorithm")]
    NotGostAlgorithm { algorithm: SignatureAlgorithm },
    #[error("malformed GOST public key: {detail}")]
    PublicKey { detail: String },
    #[error("malformed GOST private key: {detail}")]
    PrivateKey { detail: String },
    #[error("private key PEM: {detail}")]
    Pem { detail: String },
    #[error("the operating system's random generator failed")]
    Random,
    #[error("certificate: {detail}")]
    Certificate { detail: String },
}

/// Calls `$body` with the curve type of a [`CurveId`] bound to `$C`.
macro_rules! with_curve {
    ($curve:expr, $C:ident => $body:expr) => {
        match $curve {
            CurveId::CryptoProA => {
                type $C = CryptoProA;
                $body
            }
            CurveId::CryptoProB => {
                type $C = CryptoProB;
                $body
            }
            CurveId::CryptoProC => {
                type $C = CryptoProC;
                $body
            }
            CurveId::Tc26A => {
                type $C = Tc26A;
                $body
            }
        }
    };
}

/// A value of one curve's type, for each curve.
#[derive(Clone, PartialEq, Eq)]
enum PerCurve<A, B, C, T> {
    CryptoProA(A),
    CryptoProB(B),
    CryptoProC(C),
    Tc26A(T),
}

/// Calls `$body` with the value inside a [`PerCurve`] bound to `$v`, and rewraps the result
/// when asked to.
macro_rules! per_curve {
    ($value:expr, $v:ident => $body:expr) => {
        match $value {
            PerCurve::CryptoProA($v) => $body,
            PerCurve::CryptoProB($v) => $body,
            PerCurve::CryptoProC($v) => $body,
            PerCurve::Tc26A($v) => $body,
        }
    };
}

/// A public point, with the verifier's tables for it once a signature has been checked.
#[derive(Clone)]
struct Point<C: GostCurve> {
    affine: Affine<C>,
    tables: OnceLock<SplitTables<C>>,
}

impl<C: GostCurve> Point<C> {
    fn new(affine: Affine<C>) -> Point<C> {
        Point {
            affine,
            tables: OnceLock::new(),
        }
    }

    fn tables(&self) -> &SplitTables<C> {
        self.tables
            .get_or_init(|| SplitTables::new(&primeorder::ProjectivePoint::<C>::from(self.affine)))
    }
}

impl<C: GostCurve> PartialEq for Point<C> {
    fn eq(&self, other: &Self) -> bool {
        self.affine == other.affine
    }
}

impl<C: GostCurve> Eq for Point<C> {}

type PublicPoint = PerCurve<Point<CryptoProA>, Point<CryptoProB>, Point<CryptoProC>, Point<Tc26A>>;
type SecretScalar = PerCurve<
    NonZeroScalar<CryptoProA>,
    NonZeroScalar<CryptoProB>,
    NonZeroScalar<CryptoProC>,
    NonZeroScalar<Tc26A>,
>;

/// A GOST R 34.10-2012 (256-bit) or GOST R 34.10-2001 public key: a point on the curve of its
/// parameter set, in the subgroup of order q.
#[derive(Clone, PartialEq, Eq)]
pub struct GostPublicKey {
    flavour: Flavour,
    param_set: ParamSet,
    point: PublicPoint,
}

impl fmt::Debug for GostPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let xy = self.to_xy_le();
        f.debug_struct("GostPublicKey")
            .field("algorithm", &self.algorithm())
            .field("param_set", &self.param_set)
            .field("xy_le", &hex(&xy))
            .finish()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads `SEQUENCE { paramSet OID, … }` (or a bare OID, as some old tools write).
fn param_set_of(parameters: Option<AnyRef<'_>>) -> Result<ParamSet, GostKeyError> {
    let parameters = parameters.ok_or(GostKeyError::MissingParameters)?;
    let first = match parameters.decode_as::<Vec<ObjectIdentifier>>() {
        Ok(oids) => oids.into_iter().next().ok_or(GostKeyError::MissingParameters)?,
        Err(_) => parameters
            .decode_as::<ObjectIdentifier>()
            .map_err(|e| GostKeyError::PublicKey {
                detail: format!("key parameters: {e}"),
            })?,
    };
    ParamSet::from_oid(&first).ok_or_else(|| GostKeyError::UnknownParamSet {
        oid: first.to_string(),
    })
}

fn flavour_of(oid: &ObjectIdentifier) -> Result<Flavour, GostKeyError> {
    if let Some(f) = Flavour::from_key_oid(oid) {
        return Ok(f);
    }
    if oid.to_string() == "1.2.643.7.1.1.1.2" {
        return Err(GostKeyError::Gost512);
    }
    Err(GostKeyError::NotGost { oid: oid.to_string() })
}

fn check_param_set(flavour: Flavour, param_set: ParamSet) -> Result<(), GostKeyError> {
    if flavour == Flavour::Gost2001 && !param_set.is_cryptopro() {
        return Err(GostKeyError::ParamSetNotFor2001 { param_set });
    }
    Ok(())
}

/// The key algorithm identifier as the OpenSSL gost engine writes it.
fn algorithm_identifier(
    flavour: Flavour,
    param_set: ParamSet,
) -> Result<AlgorithmIdentifierOwned, der::Error> {
    let mut oids = vec![param_set.oid()];
    oids.extend(flavour.digest_parameter(param_set));
    Ok(AlgorithmIdentifier {
        oid: flavour.key_oid(),
        parameters: Some(Any::from_der(&oids.to_der()?)?),
    })
}

impl GostPublicKey {
    /// The GOST key of a certificate.
    ///
    /// # Errors
    /// [`GostKeyError`]: not a 256-bit GOST key, an unknown parameter set, or a point that is
    /// malformed, off the curve or outside the subgroup of order q.
    pub fn from_certificate(certificate: &Certificate) -> Result<GostPublicKey, GostKeyError> {
        GostPublicKey::from_spki(certificate.spki())
    }

    /// The GOST key of a SubjectPublicKeyInfo.
    ///
    /// # Errors
    /// As [`GostPublicKey::from_certificate`].
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<GostPublicKey, GostKeyError> {
        let flavour = flavour_of(&spki.algorithm.oid)?;
        let param_set = param_set_of(spki.algorithm.parameters.as_ref().map(AnyRef::from))?;
        check_param_set(flavour, param_set)?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| GostKeyError::PublicKey {
                detail: "the key BIT STRING has unused bits".into(),
            })?;
        let octets = <&OctetStringRef>::from_der(bits).map_err(|e| GostKeyError::PublicKey {
            detail: format!("the key is not an OCTET STRING: {e}"),
        })?;
        let xy: &[u8; FULL] = octets
            .as_bytes()
            .try_into()
            .map_err(|_| GostKeyError::PublicKey {
                detail: format!("{} bytes, a 256-bit key is 64", octets.as_bytes().len()),
            })?;
        GostPublicKey::from_xy_le(flavour.algorithm(), param_set, xy)
    }

    /// A key from its coordinates, `X‖Y` each little-endian (the content of the key's OCTET
    /// STRING).
    ///
    /// # Errors
    /// [`GostKeyError::NotGostAlgorithm`], [`GostKeyError::ParamSetNotFor2001`], or
    /// [`GostKeyError::PublicKey`] for a point off the curve or outside the subgroup.
    pub fn from_xy_le(
        algorithm: SignatureAlgorithm,
        param_set: ParamSet,
        xy_le: &[u8; FULL],
    ) -> Result<GostPublicKey, GostKeyError> {
        let flavour =
            Flavour::from_algorithm(algorithm).ok_or(GostKeyError::NotGostAlgorithm { algorithm })?;
        check_param_set(flavour, param_set)?;
        let not_on_curve = || GostKeyError::PublicKey {
            detail: format!("the point is not on the {param_set} curve's subgroup of order q"),
        };
        let point = with_curve!(param_set.curve(), C => {
            wrap_point(scheme::decode_point::<C>(xy_le).ok_or_else(not_on_curve)?)
        });
        Ok(GostPublicKey {
            flavour,
            param_set,
            point,
        })
    }

    /// [`SignatureAlgorithm::Gost2012_256`] or [`SignatureAlgorithm::Gost2001`].
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.flavour.algorithm()
    }

    /// The hash signatures with this key are made over.
    pub fn digest_algorithm(&self) -> DigestAlgorithm {
        self.flavour.digest()
    }

    pub fn param_set(&self) -> ParamSet {
        self.param_set
    }

    /// The kind of key, as [`Certificate::key_kind`] reports it.
    pub fn key_kind(&self) -> KeyKind {
        match self.flavour {
            Flavour::Gost2012_256 => KeyKind::Gost2012_256,
            Flavour::Gost2001 => KeyKind::Gost2001,
        }
    }

    /// `X‖Y`, each little-endian.
    pub fn to_xy_le(&self) -> [u8; FULL] {
        per_curve!(&self.point, p => scheme::encode_point(&p.affine))
    }

    /// The SubjectPublicKeyInfo, as the OpenSSL gost engine writes it.
    ///
    /// # Errors
    /// Only if DER encoding fails, which it does not for these fixed-size values.
    pub fn to_spki(&self) -> Result<SubjectPublicKeyInfoOwned, der::Error> {
        let octets = OctetString::new(self.to_xy_le().to_vec())?.to_der()?;
        Ok(SubjectPublicKeyInfoOwned {
            algorithm: algorithm_identifier(self.flavour, self.param_set)?,
            subject_public_key: BitString::from_bytes(&octets)?,
        })
    }

    /// The SubjectPublicKeyInfo as PEM (`-----BEGIN PUBLIC KEY-----`), which
    /// `openssl dgst -engine gost -verify` takes.
    ///
    /// # Errors
    /// Only if encoding fails, which it does not for these fixed-size values.
    pub fn to_public_key_pem(&self) -> Result<String, GostKeyError> {
        let error = |detail: String| GostKeyError::PublicKey { detail };
        let der = self
            .to_spki()
            .and_then(|spki| spki.to_der())
            .map_err(|e| error(e.to_string()))?;
        pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, &der)
            .map_err(|e| error(e.to_string()))
    }

    /// Whether both keys are the same point on the same curve (parameter set names that share a
    /// curve, such as CryptoPro-A and XchA, are the same key).
    pub fn same_key(&self, other: &GostPublicKey) -> bool {
        self.flavour == other.flavour && self.point == other.point
    }

    /// Checks `signature` (`s‖r`, GOST.md) over `data`, hashed with this key's digest.
    ///
    /// # Errors
    /// [`VerifyError::BadSignature`] when it does not verify (a value of the wrong length
    /// included).
    pub fn verify(&self, data: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        let digest = self.flavour.digest().digest(data);
        let digest: &[u8; HALF] = digest
            .as_slice()
            .try_into()
            .map_err(|_| VerifyError::ProviderFailed {
                detail: "the digest is not 32 bytes".into(),
            })?;
        self.verify_digest(digest, signature)
    }

    /// Checks `signature` over a digest already computed.
    ///
    /// # Errors
    /// [`VerifyError::BadSignature`] when it does not verify.
    pub fn verify_digest(&self, digest: &[u8; HALF], signature: &[u8]) -> Result<(), VerifyError> {
        let signature: &[u8; FULL] = signature.try_into().map_err(|_| VerifyError::BadSignature)?;
        let ok = per_curve!(&self.point, p => scheme::verify(p.tables(), digest, signature));
        if ok {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

/// Puts a point of any of the four curves into a [`PublicPoint`].
trait WrapPoint {
    fn wrap(self) -> PublicPoint;
}

impl WrapPoint for Affine<CryptoProA> {
    fn wrap(self) -> PublicPoint {
        PerCurve::CryptoProA(Point::new(self))
    }
}
impl WrapPoint for Affine<CryptoProB> {
    fn wrap(self) -> PublicPoint {
        PerCurve::CryptoProB(Point::new(self))
    }
}
impl WrapPoint for Affine<CryptoProC> {
    fn wrap(self) -> PublicPoint {
        PerCurve::CryptoProC(Point::new(self))
    }
}
impl WrapPoint for Affine<Tc26A> {
    fn wrap(self) -> PublicPoint {
        PerCurve::Tc26A(Point::new(self))
    }
}

fn wrap_point<P: WrapPoint>(p: P) -> PublicPoint {
    p.wrap()
}

/// Puts a secret scalar of any of the four curves into a [`SecretScalar`].
trait WrapSecret {
    fn wrap(self) -> SecretScalar;
}

impl WrapSecret for NonZeroScalar<CryptoProA> {
    fn wrap(self) -> SecretScalar {
        PerCurve::CryptoProA(self)
    }
}
impl WrapSecret for NonZeroScalar<CryptoProB> {
    fn wrap(self) -> SecretScalar {
        PerCurve::CryptoProB(self)
    }
}
impl WrapSecret for NonZeroScalar<CryptoProC> {
    fn wrap(self) -> SecretScalar {
        PerCurve::CryptoProC(self)
    }
}
impl WrapSecret for NonZeroScalar<Tc26A> {
    fn wrap(self) -> SecretScalar {
        PerCurve::Tc26A(self)
    }
}

fn wrap_secret<S: WrapSecret>(s: S) -> SecretScalar {
    s.wrap()
}

/// A GOST R 34.10-2012 (256-bit) or 2001 private key held in memory (zeroed when dropped),
/// with its public key.
pub struct GostSigningKey {
    secret: SecretScalar,
    public: GostPublicKey,
}

impl fmt::Debug for GostSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GostSigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Drop for GostSigningKey {
    fn drop(&mut self) {
        per_curve!(&mut self.secret, d => d.zeroize());
    }
}

/// 32 bytes from the OS CSPRNG.
pub(crate) fn os_random(out: &mut [u8]) -> Result<(), GostKeyError> {
    use ring::rand::SecureRandom as _;
    ring::rand::SystemRandom::new()
        .fill(out)
        .map_err(|_| GostKeyError::Random)
}

impl GostSigningKey {
    /// A new key with `d` drawn uniformly from [1, q − 1] by the OS CSPRNG.
    ///
    /// # Errors
    /// [`GostKeyError::NotGostAlgorithm`], [`GostKeyError::ParamSetNotFor2001`],
    /// [`GostKeyError::Random`].
    pub fn generate(
        algorithm: SignatureAlgorithm,
        param_set: ParamSet,
    ) -> Result<GostSigningKey, GostKeyError> {
        let flavour =
            Flavour::from_algorithm(algorithm).ok_or(GostKeyError::NotGostAlgorithm { algorithm })?;
        check_param_set(flavour, param_set)?;
        let secret = with_curve!(param_set.curve(), C => {
            wrap_secret(scheme::random_secret::<C, _>(os_random)?)
        });
        Ok(GostSigningKey::assemble(flavour, param_set, secret))
    }

    fn assemble(flavour: Flavour, param_set: ParamSet, secret: SecretScalar) -> GostSigningKey {
        let point = per_curve!(&secret, d => wrap_point(scheme::public_point(d)));
        GostSigningKey {
            secret,
            public: GostPublicKey {
                flavour,
                param_set,
                point,
            },
        }
    }

    /// Reads the first `PRIVATE KEY` block of PEM text.
    ///
    /// # Errors
    /// [`GostKeyError::Pem`] for a missing or malformed block (an encrypted key included), or
    /// any error of [`GostSigningKey::from_pkcs8_der`].
    pub fn from_pkcs8_pem(pem: &str) -> Result<GostSigningKey, GostKeyError> {
        if pem.len() > MAX_KEY_BYTES {
            return Err(GostKeyError::Pem {
                detail: format!("{} bytes, the limit is {MAX_KEY_BYTES}", pem.len()),
            });
        }
        let (_, der) = pem_block(pem, &["PRIVATE KEY"], MAX_KEY_BYTES).map_err(|e| GostKeyError::Pem {
            detail: match e {
                PemError::NotFound {
                    first_label: Some(label),
                } => format!("`{label}` is not a PKCS#8 `PRIVATE KEY` block"),
                PemError::NotFound { first_label: None } => "no PEM block".into(),
                PemError::Malformed(detail) => detail,
                PemError::Base64(e) => e.to_string(),
            },
        })?;
        let der = Zeroizing::new(der);
        GostSigningKey::from_pkcs8_der(&der)
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` holding a GOST key.
    ///
    /// # Errors
    /// [`GostKeyError`]: not PKCS#8, not a 256-bit GOST key, an unknown parameter set, or a
    /// private value that is not in [1, q − 1] in any of the encodings read.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<GostSigningKey, GostKeyError> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| GostKeyError::PrivateKey {
            detail: format!("not PKCS#8: {e}"),
        })?;
        let flavour = flavour_of(&info.algorithm.oid)?;
        let param_set = param_set_of(info.algorithm.parameters)?;
        check_param_set(flavour, param_set)?;
        let d_be = private_value_be(info.private_key.as_bytes())?;
        let bad_range = || GostKeyError::PrivateKey {
            detail: format!("the private value is not in [1, q − 1] for {param_set}"),
        };
        let secret = with_curve!(param_set.curve(), C => {
            wrap_secret(scheme::secret_from_be::<C>(&d_be).ok_or_else(bad_range)?)
        });
        let key = GostSigningKey::assemble(flavour, param_set, secret);
        if let Some(public) = info.public_key {
            // PKCS#8 v2 carries the public key; it must be ours.
            let matches = public
                .as_bytes()
                .and_then(|b| <&OctetStringRef>::from_der(b).ok())
                .is_some_and(|o| o.as_bytes() == key.public.to_xy_le().as_slice());
            if !matches {
                return Err(GostKeyError::PrivateKey {
                    detail: "the public key inside the PKCS#8 does not match the private value".into(),
                });
            }
        }
        Ok(key)
    }

    /// PKCS#8 DER as the OpenSSL 3 gost engine writes it (`d` as 32 little-endian bytes).
    ///
    /// # Errors
    /// Only if DER encoding fails, which it does not for these fixed-size values.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, GostKeyError> {
        let der_error = |e: der::Error| GostKeyError::PrivateKey {
            detail: e.to_string(),
        };
        let mut d_le = per_curve!(&self.secret, d => scheme::secret_to_be(d));
        d_le.reverse();
        let algorithm =
            algorithm_identifier(self.public.flavour, self.public.param_set).map_err(der_error)?;
        let private_key = OctetStringRef::new(d_le.as_slice()).map_err(der_error)?;
        let info = PrivateKeyInfoRef {
            algorithm: AlgorithmIdentifier {
                oid: algorithm.oid,
                parameters: algorithm.parameters.as_ref().map(AnyRef::from),
            },
            private_key,
            public_key: None,
        };
        Ok(Zeroizing::new(info.to_der().map_err(der_error)?))
    }

    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as the OpenSSL 3 gost engine writes it.
    ///
    /// # Errors
    /// As [`GostSigningKey::to_pkcs8_der`].
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, GostKeyError> {
        let der = self.to_pkcs8_der()?;
        pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, &der)
            .map(Zeroizing::new)
            .map_err(|e| GostKeyError::PrivateKey {
                detail: e.to_string(),
            })
    }

    pub fn public_key(&self) -> &GostPublicKey {
        &self.public
    }

    /// Signs `data` (hashed with the key's digest): `s‖r`, GOST.md's layout.
    ///
    /// # Errors
    /// [`GostKeyError::Random`] when the OS random generator fails.
    pub fn sign(&self, data: &[u8]) -> Result<[u8; FULL], GostKeyError> {
        let digest = self.public.flavour.digest().digest(data);
        let digest: &[u8; HALF] = digest
            .as_slice()
            .try_into()
            .map_err(|_| GostKeyError::PrivateKey {
                detail: "the digest is not 32 bytes".into(),
            })?;
        self.sign_digest(digest)
    }

    /// Signs a digest already computed.
    ///
    /// # Errors
    /// [`GostKeyError::Random`] when the OS random generator fails.
    pub fn sign_digest(&self, digest: &[u8; HALF]) -> Result<[u8; FULL], GostKeyError> {
        let mut entropy = Zeroizing::new([0u8; HALF]);
        os_random(entropy.as_mut_slice())?;
        Ok(per_curve!(&self.secret, d => scheme::sign(d, digest, &entropy)))
    }
}

/// `d` big-endian from a PKCS#8 privateKey: 32 raw little-endian bytes, the same inside an
/// OCTET STRING, or a DER INTEGER.
fn private_value_be(raw: &[u8]) -> Result<Zeroizing<[u8; HALF]>, GostKeyError> {
    let mut out = Zeroizing::new([0u8; HALF]);
    if raw.len() == HALF {
        for (o, b) in out.iter_mut().zip(raw.iter().rev()) {
            *o = *b;
        }
        return Ok(out);
    }
    let unreadable = || GostKeyError::PrivateKey {
        detail: format!(
            "a {}-byte private value is neither 32 little-endian bytes, an OCTET STRING of them, nor an INTEGER",
            raw.len()
        ),
    };
    match raw.first() {
        Some(0x04) => {
            let inner = <&OctetStringRef>::from_der(raw).map_err(|_| unreadable())?;
            if inner.as_bytes().len() != HALF {
                return Err(unreadable());
            }
            for (o, b) in out.iter_mut().zip(inner.as_bytes().iter().rev()) {
                *o = *b;
            }
            Ok(out)
        }
        Some(0x02) => {
            let int = UintRef::from_der(raw).map_err(|_| unreadable())?;
            let bytes = int.as_bytes();
            if bytes.len() > HALF {
                return Err(unreadable());
            }
            out[HALF - bytes.len()..].copy_from_slice(bytes);
            Ok(out)
        }
        _ => Err(unreadable()),
    }
}
