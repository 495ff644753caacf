use base64::Engine as _;
use elliptic_curve::CurveArithmetic;
use elliptic_curve::bigint::U256;
use elliptic_curve::group::Group as _;
use elliptic_curve::point::{AffineCoordinates as _, DecompressPoint as _};
use elliptic_curve::subtle::Choice;
use time::macros::datetime;

use super::curves::{CryptoProA, CryptoProB, CryptoProC, GostCurve, Tc26A};
use super::keys::hex;
use super::scheme::{self, Affine};
use super::*;
use crate::dsig::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use crate::dsig::cert::{Certificate, CertificateSignatureError, KeyKind};
use crate::dsig::key::{KeyError, Signer as _, Verifier as _, VerifyError};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn arr<const N: usize>(bytes: &[u8]) -> [u8; N] {
    bytes.try_into().expect("length")
}

fn le(be_hex: &str) -> Vec<u8> {
    let mut v = unhex(be_hex);
    v.reverse();
    v
}

/// A self-signed certificate with a non-GOST key, from rcgen.
fn rcgen_certificate(alg: &'static rcgen::SignatureAlgorithm) -> Certificate {
    let key = rcgen::KeyPair::generate_for(alg).expect("key");
    let params = rcgen::CertificateParams::new(vec!["x".to_owned()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    Certificate::from_der(cert.der()).expect("parses")
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

// --- the curves ------------------------------------------------------------------------------

/// G is on the curve, has order q, and the constants are the standard's.
fn check_curve<C: GostCurve>(q_hex: &str) {
    assert_eq!(C::ORDER.as_ref(), &U256::from_be_hex(q_hex));
    let g = primeorder::ProjectivePoint::<C>::generator();
    let affine = g.to_affine();
    let again = Affine::<C>::from_coordinates(&affine.x(), &affine.y());
    assert!(bool::from(again.is_some()), "G is on the curve");
    let minus_one = -<C as CurveArithmetic>::Scalar::from(1u64);
    assert!(bool::from((g * minus_one + g).is_identity()), "[q]G = O");
    assert!(!bool::from(g.is_identity()));
    assert!(C::in_subgroup(&affine));
}

#[test]
fn every_curve_has_a_generator_of_the_standard_order() {
    check_curve::<CryptoProA>("ffffffffffffffffffffffffffffffff6c611070995ad10045841b09b761b893");
    check_curve::<CryptoProB>("800000000000000000000000000000015f700cfff1a624e5e497161bcc8a198f");
    check_curve::<CryptoProC>("9b9f605f5a858107ab1ec85e6b41c8aa582ca3511eddfb74f02f3a6598980bb9");
    check_curve::<Tc26A>("400000000000000000000000000000000fd8cddfc87b6635c115af556c360c67");
}

#[test]
fn parameter_sets_share_curves_as_rfc_4357_and_7836_say() {
    use super::params::CurveId;
    let same = |a: ParamSet, b: ParamSet| a.curve() == b.curve();
    assert!(same(ParamSet::CryptoProA, ParamSet::CryptoProXchA));
    assert!(same(ParamSet::CryptoProA, ParamSet::Tc26B));
    assert!(same(ParamSet::CryptoProB, ParamSet::Tc26C));
    assert!(same(ParamSet::CryptoProC, ParamSet::CryptoProXchB));
    assert!(same(ParamSet::CryptoProC, ParamSet::Tc26D));
    assert_eq!(ParamSet::Tc26A.curve(), CurveId::Tc26A);
    for p in ParamSet::ALL {
        assert_eq!(ParamSet::from_oid(&p.oid()), Some(p));
        assert_eq!(p.name().parse::<ParamSet>(), Ok(p));
    }
    assert_eq!("A".parse::<ParamSet>(), Ok(ParamSet::Tc26A));
    assert_eq!("d".parse::<ParamSet>(), Ok(ParamSet::Tc26D));
    assert_eq!("CP-XchA".parse::<ParamSet>(), Ok(ParamSet::CryptoProXchA));
    assert!("E".parse::<ParamSet>().is_err());
}

#[test]
fn a_digest_is_read_little_endian_and_zero_becomes_one() {
    // e = H reversed (GOST.md worked vector).
    let h = arr::<32>(&unhex(
        "55d76ca976f9eff2cfde8dd24a97db0bfc1257b52b930a5f8e0bb642df6a318d",
    ));
    let e = scheme::digest_scalar::<CryptoProA>(&h);
    assert_eq!(
        hex(&elliptic_curve::PrimeField::to_repr(&e)),
        "8d316adf42b60b8e5f0a932bb55712fc0bdb974ad28ddecff2eff976a96cd755"
    );
    let one = <CryptoProA as CurveArithmetic>::Scalar::from(1u64);
    assert_eq!(scheme::digest_scalar::<CryptoProA>(&[0; 32]), one);
    // A digest equal to q (little-endian) reduces to 0, and is taken as 1.
    let q = arr::<32>(&le(
        "ffffffffffffffffffffffffffffffff6c611070995ad10045841b09b761b893",
    ));
    assert_eq!(scheme::digest_scalar::<CryptoProA>(&q), one);
}

// --- the worked vector of GOST.md --------------------------------------------------------------

const VECTOR_H: &str = "55d76ca976f9eff2cfde8dd24a97db0bfc1257b52b930a5f8e0bb642df6a318d";
const VECTOR_S: &str = "7e188a50026c7771e6cb7e4084639ae69730792c867cc9e83894d87012f47536";
const VECTOR_R: &str = "c45b5d4d1d4225506d1eb72b813125cae5451c60356b2da971f3926dd5e546a2";
const VECTOR_X: &str = "b976410bbf07a6357a95dda35ec2a6cd23b13e9c7a9ccb302ec04749ab8ee756";
const VECTOR_Y: &str = "1b25575500459a7c19d5f5321afea566ea88edc71a1fdb179714a2e43ffbeea9";

fn vector_key() -> GostPublicKey {
    let xy = [le(VECTOR_X), le(VECTOR_Y)].concat();
    GostPublicKey::from_xy_le(
        SignatureAlgorithm::Gost2012_256,
        ParamSet::CryptoProXchA,
        &arr(&xy),
    )
    .expect("on curve")
}

fn vector_signature() -> Vec<u8> {
    [unhex(VECTOR_S), unhex(VECTOR_R)].concat()
}

#[test]
fn the_gisgmp_worked_vector_verifies() {
    let key = vector_key();
    let h = arr::<32>(&unhex(VECTOR_H));
    assert_eq!(key.verify_digest(&h, &vector_signature()), Ok(()));
    assert_eq!(key.to_xy_le().to_vec(), [le(VECTOR_X), le(VECTOR_Y)].concat());
}

#[test]
fn the_worked_vector_fails_under_every_other_convention() {
    let key = vector_key();
    let h = unhex(VECTOR_H);
    let (s, r) = (unhex(VECTOR_S), unhex(VECTOR_R));
    let rev = |v: &[u8]| v.iter().rev().copied().collect::<Vec<u8>>();
    let bad = [
        // r‖s instead of s‖r
        ([r.clone(), s.clone()].concat(), h.clone()),
        // halves little-endian
        ([rev(&s), rev(&r)].concat(), h.clone()),
        // the whole value reversed
        (rev(&[s.clone(), r.clone()].concat()), h.clone()),
        // the digest read big-endian
        ([s.clone(), r.clone()].concat(), rev(&h)),
    ];
    for (signature, digest) in bad {
        assert_eq!(
            key.verify_digest(&arr(&digest), &signature),
            Err(VerifyError::BadSignature)
        );
    }
}

#[test]
fn one_bit_changes_to_the_vector_fail() {
    let key = vector_key();
    let h = arr::<32>(&unhex(VECTOR_H));
    let good = vector_signature();
    for bit in [0, 7, 100, 255, 256, 300, 511] {
        let mut sig = good.clone();
        sig[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            key.verify_digest(&h, &sig),
            Err(VerifyError::BadSignature),
            "bit {bit}"
        );
    }
    for bit in [0, 128, 255] {
        let mut digest = h;
        digest[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            key.verify_digest(&digest, &good),
            Err(VerifyError::BadSignature),
            "digest bit {bit}"
        );
    }
}

#[test]
fn out_of_range_or_short_signature_values_are_refused() {
    let key = vector_key();
    let h = arr::<32>(&unhex(VECTOR_H));
    let q = unhex("ffffffffffffffffffffffffffffffff6c611070995ad10045841b09b761b893");
    let (s, r) = (unhex(VECTOR_S), unhex(VECTOR_R));
    for sig in [
        [vec![0; 32], r.clone()].concat(),
        [s.clone(), vec![0; 32]].concat(),
        [q.clone(), r.clone()].concat(),
        [s.clone(), q.clone()].concat(),
        [s.clone(), vec![0xff; 32]].concat(),
        s.clone(),
        [s.clone(), r.clone(), vec![0]].concat(),
        Vec::new(),
    ] {
        assert_eq!(key.verify_digest(&h, &sig), Err(VerifyError::BadSignature));
    }
}

// --- keys ----------------------------------------------------------------------------------------

#[test]
fn points_off_the_curve_are_refused() {
    let mut xy = [le(VECTOR_X), le(VECTOR_Y)].concat();
    xy[40] ^= 1;
    assert!(matches!(
        GostPublicKey::from_xy_le(SignatureAlgorithm::Gost2012_256, ParamSet::CryptoProA, &arr(&xy)),
        Err(GostKeyError::PublicKey { .. })
    ));
    // The right point on the wrong curve.
    let xy = [le(VECTOR_X), le(VECTOR_Y)].concat();
    assert!(
        GostPublicKey::from_xy_le(SignatureAlgorithm::Gost2012_256, ParamSet::CryptoProB, &arr(&xy)).is_err()
    );
    // Coordinates ≥ p.
    assert!(
        GostPublicKey::from_xy_le(
            SignatureAlgorithm::Gost2012_256,
            ParamSet::CryptoProA,
            &[0xff; 64]
        )
        .is_err()
    );
}

#[test]
fn tc26_a_points_outside_the_prime_order_subgroup_are_refused() {
    // Find points of the cofactor-4 curve: most x with a y are not in the subgroup.
    let mut outside = 0;
    for x in 1u64..200 {
        let mut x_be = elliptic_curve::FieldBytes::<Tc26A>::default();
        x_be[24..].copy_from_slice(&x.to_be_bytes());
        let Some(point) = Affine::<Tc26A>::decompress(&x_be, Choice::from(0)).into_option() else {
            continue;
        };
        let xy = scheme::encode_point(&point);
        let key = GostPublicKey::from_xy_le(SignatureAlgorithm::Gost2012_256, ParamSet::Tc26A, &xy);
        if Tc26A::in_subgroup(&point) {
            assert!(key.is_ok());
        } else {
            assert!(matches!(key, Err(GostKeyError::PublicKey { .. })));
            outside += 1;
        }
    }
    assert!(outside > 10, "points outside the subgroup were tried ({outside})");
}

#[test]
fn every_parameter_set_signs_and_verifies_and_refuses_tampering() {
    for param_set in ParamSet::ALL {
        let key = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, param_set).expect("key");
        let public = key.public_key();
        assert_eq!(public.param_set(), param_set);
        let data = format!("signed with {param_set}");
        let sig = key.sign(data.as_bytes()).expect("sign");
        assert_eq!(public.verify(data.as_bytes(), &sig), Ok(()), "{param_set}");
        // Hedged nonces: two signatures of the same data differ, both verify.
        let again = key.sign(data.as_bytes()).expect("sign");
        assert_ne!(sig, again);
        assert_eq!(public.verify(data.as_bytes(), &again), Ok(()));
        let mut tampered = sig;
        tampered[17] ^= 0x10;
        assert_eq!(
            public.verify(data.as_bytes(), &tampered),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(public.verify(b"other data", &sig), Err(VerifyError::BadSignature));
    }
    for param_set in ParamSet::ALL.into_iter().filter(|p| p.is_cryptopro()) {
        let key = GostSigningKey::generate(SignatureAlgorithm::Gost2001, param_set).expect("2001 key");
        let sig = key.sign(b"legacy").expect("sign");
        assert_eq!(key.public_key().verify(b"legacy", &sig), Ok(()));
        assert_eq!(key.public_key().digest_algorithm(), DigestAlgorithm::Gost94);
    }
    assert!(matches!(
        GostSigningKey::generate(SignatureAlgorithm::Gost2001, ParamSet::Tc26A),
        Err(GostKeyError::ParamSetNotFor2001 { .. })
    ));
    assert!(matches!(
        GostSigningKey::generate(SignatureAlgorithm::EcdsaP256Sha256, ParamSet::Tc26A),
        Err(GostKeyError::NotGostAlgorithm { .. })
    ));
}

#[test]
fn pkcs8_round_trips_in_the_engine_layout() {
    let key = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, ParamSet::CryptoProA).expect("key");
    let pem = key.to_pkcs8_pem().expect("pem");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let back = GostSigningKey::from_pkcs8_pem(&pem).expect("read back");
    assert_eq!(back.public_key(), key.public_key());
    // 30 46 02 01 00 30 1f (alg: OID 2012-256, SEQUENCE {cp-a, streebog}) 04 20 <d LE>
    let der = key.to_pkcs8_der().expect("der");
    assert_eq!(der.len(), 72);
    assert_eq!(&der[..7], &[0x30, 0x46, 0x02, 0x01, 0x00, 0x30, 0x1f]);
    assert_eq!(&der[38..40], &[0x04, 0x20]);
    // TC26 sets carry no digest parameter.
    let tc = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, ParamSet::Tc26B).expect("key");
    assert_eq!(tc.to_pkcs8_der().expect("der").len(), 64);
}

#[test]
fn legacy_private_value_encodings_are_read() {
    let key = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, ParamSet::Tc26A).expect("key");
    let der = key.to_pkcs8_der().expect("der");
    // Same prefix (with the outer length adjusted), then the value re-wrapped.
    let d_le = der[der.len() - 32..].to_vec();
    let alg = der[5..der.len() - 34].to_vec();
    let wrap = |private: Vec<u8>| {
        let mut octet = vec![0x04, u8::try_from(private.len()).expect("short")];
        octet.extend(private);
        let body = [vec![0x02, 0x01, 0x00], alg.clone(), octet].concat();
        [vec![0x30, u8::try_from(body.len()).expect("short")], body].concat()
    };
    // An OCTET STRING inside the OCTET STRING.
    let nested = wrap([vec![0x04, 0x20], d_le.clone()].concat());
    let read = GostSigningKey::from_pkcs8_der(&nested).expect("nested octets");
    assert_eq!(read.public_key(), key.public_key());
    // A DER INTEGER, big-endian.
    let mut d_be: Vec<u8> = d_le.iter().rev().copied().collect();
    while d_be.first() == Some(&0) {
        d_be.remove(0);
    }
    if d_be.first().is_some_and(|b| b & 0x80 != 0) {
        d_be.insert(0, 0);
    }
    let int = wrap([vec![0x02, u8::try_from(d_be.len()).expect("short")], d_be].concat());
    let read = GostSigningKey::from_pkcs8_der(&int).expect("integer");
    assert_eq!(read.public_key(), key.public_key());
    // Garbage is refused.
    assert!(matches!(
        GostSigningKey::from_pkcs8_der(&wrap(vec![0x05; 31])),
        Err(GostKeyError::PrivateKey { .. })
    ));
    // d = 0 is refused.
    assert!(matches!(
        GostSigningKey::from_pkcs8_der(&wrap(vec![0; 32])),
        Err(GostKeyError::PrivateKey { .. })
    ));
}

#[test]
fn non_gost_keys_are_refused_by_name() {
    let ring_cert = rcgen_certificate(&rcgen::PKCS_ECDSA_P256_SHA256);
    assert!(ring_cert.is_self_signed(), "the ring path of verify_signed_by");
    assert!(matches!(
        GostPublicKey::from_certificate(&ring_cert),
        Err(GostKeyError::NotGost { .. })
    ));
    assert!(matches!(
        GostSigningKey::from_pkcs8_pem(
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"
        ),
        Err(GostKeyError::Pem { .. })
    ));
}

// --- the OpenSSL gost engine's keys, certificates and signatures --------------------------------

struct EngineVector {
    algorithm: SignatureAlgorithm,
    engine_name: String,
    key_der: Vec<u8>,
    certificate: Certificate,
    signature: Vec<u8>,
}

const ENGINE_MESSAGE: &[u8] = b"rsmev: GOST R 34.10 vector";

fn engine_vectors() -> Vec<EngineVector> {
    include_str!("testdata/engine-vectors.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            EngineVector {
                algorithm: match f[0] {
                    "gost2012_256" => SignatureAlgorithm::Gost2012_256,
                    _ => SignatureAlgorithm::Gost2001,
                },
                engine_name: f[1].to_owned(),
                key_der: b64(f[2]),
                certificate: Certificate::from_der(&b64(f[3])).expect("engine certificate"),
                signature: unhex(f[4]),
            }
        })
        .collect()
}

#[test]
fn engine_keys_certificates_and_signatures_agree_with_ours_on_every_parameter_set() {
    let vectors = engine_vectors();
    assert_eq!(vectors.len(), 14);
    let mut seen = Vec::new();
    for v in &vectors {
        let what = format!("{} {}", v.algorithm, v.engine_name);
        let public = GostPublicKey::from_certificate(&v.certificate).expect(&what);
        assert_eq!(public.algorithm(), v.algorithm, "{what}");
        assert_eq!(public.param_set().openssl_name(), v.engine_name, "{what}");
        // d·G on our curve is the engine's point: the curve constants and the OID map agree.
        let key = GostSigningKey::from_pkcs8_der(&v.key_der).expect(&what);
        assert!(key.public_key().same_key(&public), "{what}");
        // The engine's signature verifies with ours, a flipped bit does not.
        assert_eq!(public.verify(ENGINE_MESSAGE, &v.signature), Ok(()), "{what}");
        let mut flipped = v.signature.clone();
        flipped[40] ^= 4;
        assert_eq!(
            public.verify(ENGINE_MESSAGE, &flipped),
            Err(VerifyError::BadSignature)
        );
        // The engine's self-signed certificate verifies with its own key.
        assert_eq!(v.certificate.verify_signed_by(&v.certificate), Ok(()), "{what}");
        assert!(v.certificate.is_self_signed());
        // Our signature with the engine's key verifies with the certificate.
        let signer = GostSigner::new(key, v.certificate.clone()).expect(&what);
        assert_eq!(signer.algorithm(), v.algorithm);
        let ours = signer.sign(ENGINE_MESSAGE).expect("sign");
        assert_eq!(
            GostVerifier.verify(v.algorithm, &v.certificate, ENGINE_MESSAGE, &ours),
            Ok(())
        );
        seen.push(public.param_set());
    }
    for p in ParamSet::ALL {
        assert!(seen.contains(&p), "{p} has an engine vector");
    }
}

#[test]
fn a_certificate_signed_by_another_key_is_refused() {
    let vectors = engine_vectors();
    let (a, b) = (&vectors[0].certificate, &vectors[1].certificate);
    assert!(matches!(
        a.verify_signed_by(b),
        Err(CertificateSignatureError::IssuerMismatch { .. })
    ));
    // A certificate whose TBS changed after signing (issuer and subject alike).
    let mut der = a.der().to_vec();
    let mut changed = 0;
    while let Some(at) = der.windows(6).position(|w| w == b"vector") {
        der[at] = b'V';
        changed += 1;
    }
    assert_eq!(changed, 2, "issuer and subject CN");
    let altered = Certificate::from_der(&der).expect("still parses");
    assert!(matches!(
        altered.verify_signed_by(a),
        Err(CertificateSignatureError::IssuerMismatch { .. })
    ));
    assert!(matches!(
        altered.verify_signed_by(&altered),
        Err(CertificateSignatureError::Signature(VerifyError::BadSignature))
    ));
}

// --- self-signed certificates and the providers ------------------------------------------------

#[test]
fn self_signed_certificates_bind_the_key_and_verify() {
    let key = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, ParamSet::Tc26A).expect("key");
    let subject = subject_name("участник, \"ООО\"", "Org").expect("name");
    let cert = key
        .self_signed_certificate(
            &subject,
            datetime!(2025-01-01 0:00 UTC),
            datetime!(2035-01-01 0:00 UTC),
        )
        .expect("certificate");
    assert_eq!(cert.key_kind(), &KeyKind::Gost2012_256);
    assert!(cert.subject().contains("участник"), "{}", cert.subject());
    assert_eq!(cert.subject(), cert.issuer());
    assert_eq!(cert.not_before(), datetime!(2025-01-01 0:00 UTC));
    assert_eq!(cert.verify_signed_by(&cert), Ok(()));
    assert_eq!(
        cert.x509().signature_algorithm().oid,
        OID_SIGN_GOST2012_256,
        "signature algorithm"
    );
    assert_eq!(cert.x509().signature_algorithm().parameters, None);
    let public = GostPublicKey::from_certificate(&cert).expect("public");
    assert_eq!(&public, key.public_key());

    let pem = key.to_pkcs8_pem().expect("pem");
    let signer = GostSigner::from_pem(&pem, cert.clone()).expect("signer");
    let sig = signer.sign(b"data").expect("sign");
    assert_eq!(
        GostVerifier.verify(SignatureAlgorithm::Gost2012_256, &cert, b"data", &sig),
        Ok(())
    );
    // The same certificate with another key.
    let other = GostSigningKey::generate(SignatureAlgorithm::Gost2012_256, ParamSet::Tc26A).expect("key");
    assert!(matches!(
        GostSigner::new(other, cert.clone()),
        Err(KeyError::DoesNotMatchCertificate)
    ));
    // load_signer dispatches on the certificate.
    let loaded = crate::dsig::load_signer(&pem, cert.clone()).expect("load_signer");
    assert_eq!(loaded.algorithm(), SignatureAlgorithm::Gost2012_256);
    assert!(subject_name("", "x").is_err());
}

#[test]
fn the_verifier_reports_keys_that_do_not_fit_as_mismatches() {
    let ed = rcgen_certificate(&rcgen::PKCS_ED25519);
    assert!(ed.is_self_signed());
    assert!(GostVerifier.supports(SignatureAlgorithm::Gost2012_256, &ed));
    assert!(GostVerifier.supports(SignatureAlgorithm::Gost2001, &ed));
    assert!(!GostVerifier.supports(SignatureAlgorithm::Gost2012_512, &ed));
    assert!(!GostVerifier.supports(SignatureAlgorithm::Ed25519, &ed));
    assert!(matches!(
        GostVerifier.verify(SignatureAlgorithm::Gost2012_256, &ed, b"x", &[1; 64]),
        Err(VerifyError::KeyMismatch { .. })
    ));
    // A 2001 key cannot check a 2012 signature, nor the reverse.
    let vectors = engine_vectors();
    let v2012 = vectors
        .iter()
        .find(|v| v.algorithm == SignatureAlgorithm::Gost2012_256)
        .expect("2012");
    let v2001 = vectors
        .iter()
        .find(|v| v.algorithm == SignatureAlgorithm::Gost2001)
        .expect("2001");
    assert!(matches!(
        GostVerifier.verify(
            SignatureAlgorithm::Gost2001,
            &v2012.certificate,
            ENGINE_MESSAGE,
            &v2012.signature
        ),
        Err(VerifyError::KeyMismatch { .. })
    ));
    assert!(matches!(
        GostVerifier.verify(
            SignatureAlgorithm::Gost2012_256,
            &v2001.certificate,
            ENGINE_MESSAGE,
            &v2001.signature
        ),
        Err(VerifyError::KeyMismatch { .. })
    ));
    assert!(GostSigner::from_pem("", ed).is_err());
}
