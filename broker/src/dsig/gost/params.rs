//! Parameter sets and the object identifiers GOST keys and certificates carry.

use std::fmt;
use std::str::FromStr;

use der::asn1::ObjectIdentifier;

use crate::dsig::algorithm::{DigestAlgorithm, SignatureAlgorithm};

/// GOST R 34.10-2012 with a 256-bit key (SubjectPublicKeyInfo algorithm).
pub const OID_GOST2012_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.1.1");
/// GOST R 34.10-2001 (SubjectPublicKeyInfo algorithm).
pub const OID_GOST2001: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.2.2.19");
/// GOST R 34.11-2012 256 (Streebog-256), as the digest parameter of a key.
pub const OID_STREEBOG256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.2.2");
/// GOST R 34.11-94 with the CryptoPro parameters, as the digest parameter of a key.
pub const OID_GOST94_CRYPTOPRO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.2.2.30.1");
/// Certificate signature: GOST R 34.10-2012 256 with Streebog-256.
pub const OID_SIGN_GOST2012_256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.7.1.1.3.2");
/// Certificate signature: GOST R 34.10-2001 with GOST R 34.11-94.
pub const OID_SIGN_GOST2001: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.643.2.2.3");

/// Which curve a parameter set names (several names share one curve).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CurveId {
    CryptoProA,
    CryptoProB,
    CryptoProC,
    Tc26A,
}

/// A named set of GOST R 34.10 256-bit curve parameters.
///
/// Names (for `rsmev keys generate --paramset` and [`ParamSet::from_str`]): `A`–`D` (or
/// `tc26-a`…`tc26-d`) are the TC26 256-bit sets of RFC 7836, `cp-a`, `cp-b`, `cp-c`, `cp-xcha`,
/// `cp-xchb` the CryptoPro sets of RFC 4357. Note that the OpenSSL gost engine's own `A`/`B`/`C`
/// mean the CryptoPro sets ([`ParamSet::openssl_name`] gives its spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParamSet {
    /// id-GostR3410-2001-CryptoPro-A-ParamSet, 1.2.643.2.2.35.1.
    CryptoProA,
    /// id-GostR3410-2001-CryptoPro-B-ParamSet, 1.2.643.2.2.35.2.
    CryptoProB,
    /// id-GostR3410-2001-CryptoPro-C-ParamSet, 1.2.643.2.2.35.3.
    CryptoProC,
    /// id-GostR3410-2001-CryptoPro-XchA-ParamSet, 1.2.643.2.2.36.0 (the curve of CryptoPro-A).
    CryptoProXchA,
    /// id-GostR3410-2001-CryptoPro-XchB-ParamSet, 1.2.643.2.2.36.1 (the curve of CryptoPro-C).
    CryptoProXchB,
    /// id-tc26-gost-3410-12-256-paramSetA, 1.2.643.7.1.2.1.1.1.
    Tc26A,
    /// id-tc26-gost-3410-12-256-paramSetB, 1.2.643.7.1.2.1.1.2 (the curve of CryptoPro-A).
    Tc26B,
    /// id-tc26-gost-3410-12-256-paramSetC, 1.2.643.7.1.2.1.1.3 (the curve of CryptoPro-B).
    Tc26C,
    /// id-tc26-gost-3410-12-256-paramSetD, 1.2.643.7.1.2.1.1.4 (the curve of CryptoPro-C).
    Tc26D,
}

impl ParamSet {
    /// Every parameter set, CryptoPro first.
    pub const ALL: [ParamSet; 9] = [
        ParamSet::CryptoProA,
        ParamSet::CryptoProB,
        ParamSet::CryptoProC,
        ParamSet::CryptoProXchA,
        ParamSet::CryptoProXchB,
        ParamSet::Tc26A,
        ParamSet::Tc26B,
        ParamSet::Tc26C,
        ParamSet::Tc26D,
    ];

    /// The object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        ObjectIdentifier::new_unwrap(match self {
            ParamSet::CryptoProA => "1.2.643.2.2.35.1",
            ParamSet::CryptoProB => "1.2.643.2.2.35.2",
            ParamSet::CryptoProC => "1.2.643.2.2.35.3",
            ParamSet::CryptoProXchA => "1.2.643.2.2.36.0",
            ParamSet::CryptoProXchB => "1.2.643.2.2.36.1",
            ParamSet::Tc26A => "1.2.643.7.1.2.1.1.1",
            ParamSet::Tc26B => "1.2.643.7.1.2.1.1.2",
            ParamSet::Tc26C => "1.2.643.7.1.2.1.1.3",
            ParamSet::Tc26D => "1.2.643.7.1.2.1.1.4",
        })
    }

    /// The parameter set an object identifier names, if it is one of these.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<ParamSet> {
        ParamSet::ALL.into_iter().find(|p| p.oid() == *oid)
    }

    /// This project's name (`cp-a`, …, `tc26-a`, …).
    pub fn name(self) -> &'static str {
        match self {
            ParamSet::CryptoProA => "cp-a",
            ParamSet::CryptoProB => "cp-b",
            ParamSet::CryptoProC => "cp-c",
            ParamSet::CryptoProXchA => "cp-xcha",
            ParamSet::CryptoProXchB => "cp-xchb",
            ParamSet::Tc26A => "tc26-a",
            ParamSet::Tc26B => "tc26-b",
            ParamSet::Tc26C => "tc26-c",
            ParamSet::Tc26D => "tc26-d",
        }
    }

    /// The name the OpenSSL gost engine takes in `-pkeyopt paramset:NAME`.
    pub fn openssl_name(self) -> &'static str {
        match self {
            ParamSet::CryptoProA => "A",
            ParamSet::CryptoProB => "B",
            ParamSet::CryptoProC => "C",
            ParamSet::CryptoProXchA => "XA",
            ParamSet::CryptoProXchB => "XB",
            ParamSet::Tc26A => "TCA",
            ParamSet::Tc26B => "TCB",
            ParamSet::Tc26C => "TCC",
            ParamSet::Tc26D => "TCD",
        }
    }

    /// Whether this is a CryptoPro set (defined for GOST R 34.10-2001 and kept for 2012-256);
    /// the TC26 sets belong to GOST R 34.10-2012 only.
    pub fn is_cryptopro(self) -> bool {
        matches!(
            self,
            ParamSet::CryptoProA
                | ParamSet::CryptoProB
                | ParamSet::CryptoProC
                | ParamSet::CryptoProXchA
                | ParamSet::CryptoProXchB
        )
    }

    pub(crate) fn curve(self) -> CurveId {
        match self {
            ParamSet::CryptoProA | ParamSet::CryptoProXchA | ParamSet::Tc26B => CurveId::CryptoProA,
            ParamSet::CryptoProB | ParamSet::Tc26C => CurveId::CryptoProB,
            ParamSet::CryptoProC | ParamSet::CryptoProXchB | ParamSet::Tc26D => CurveId::CryptoProC,
            ParamSet::Tc26A => CurveId::Tc26A,
        }
    }
}

impl fmt::Display for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name [`ParamSet::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown GOST parameter set `{0}` (expected A, B, C, D, tc26-a…tc26-d, cp-a, cp-b, cp-c, cp-xcha or cp-xchb)"
)]
pub struct UnknownParamSet(pub String);

impl FromStr for ParamSet {
    type Err = UnknownParamSet;

    fn from_str(s: &str) -> Result<ParamSet, UnknownParamSet> {
        let lower = s.trim().to_ascii_lowercase();
        let found = match lower.as_str() {
            "a" => Some(ParamSet::Tc26A),
            "b" => Some(ParamSet::Tc26B),
            "c" => Some(ParamSet::Tc26C),
            "d" => Some(ParamSet::Tc26D),
            other => ParamSet::ALL.into_iter().find(|p| p.name() == other),
        };
        found.ok_or_else(|| UnknownParamSet(s.to_owned()))
    }
}

/// The two GOST R 34.10 key types with 256-bit keys, which differ in their OIDs and hash only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Flavour {
    Gost2012_256,
    Gost2001,
}

impl Flavour {
    pub(crate) fn from_algorithm(algorithm: SignatureAlgorithm) -> Option<Flavour> {
        match algorithm {
            SignatureAlgorithm::Gost2012_256 => Some(Flavour::Gost2012_256),
            SignatureAlgorithm::Gost2001 => Some(Flavour::Gost2001),
            _ => None,
        }
    }

    pub(crate) fn algorithm(self) -> SignatureAlgorithm {
        match self {
            Flavour::Gost2012_256 => SignatureAlgorithm::Gost2012_256,
            Flavour::Gost2001 => SignatureAlgorithm::Gost2001,
        }
    }

    pub(crate) fn digest(self) -> DigestAlgorithm {
        match self {
            Flavour::Gost2012_256 => DigestAlgorithm::Streebog256,
            Flavour::Gost2001 => DigestAlgorithm::Gost94,
        }
    }

    pub(crate) fn key_oid(self) -> ObjectIdentifier {
        match self {
            Flavour::Gost2012_256 => OID_GOST2012_256,
            Flavour::Gost2001 => OID_GOST2001,
        }
    }

    pub(crate) fn from_key_oid(oid: &ObjectIdentifier) -> Option<Flavour> {
        if *oid == OID_GOST2012_256 {
            Some(Flavour::Gost2012_256)
        } else if *oid == OID_GOST2001 {
            Some(Flavour::Gost2001)
        } else {
            None
        }
    }

    /// The OID of certificate signatures made with this kind of key.
    pub(crate) fn signature_oid(self) -> ObjectIdentifier {
        match self {
            Flavour::Gost2012_256 => OID_SIGN_GOST2012_256,
            Flavour::Gost2001 => OID_SIGN_GOST2001,
        }
    }

    /// The digest parameter written beside the parameter set in key algorithm parameters, as
    /// the OpenSSL gost engine writes it: always for 2001, with the CryptoPro sets for 2012.
    pub(crate) fn digest_parameter(self, param_set: ParamSet) -> Option<ObjectIdentifier> {
        match self {
            Flavour::Gost2001 => Some(OID_GOST94_CRYPTOPRO),
            Flavour::Gost2012_256 if param_set.is_cryptopro() => Some(OID_STREEBOG256),
            Flavour::Gost2012_256 => None,
        }
    }
}
