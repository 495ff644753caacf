//! The GOST R 34.10 signature scheme (2012 §6; 2001 is the same scheme with 256-bit keys),
//! generic over a [`GostCurve`] (declared here; the four curves of `curves` implement it), with
//! the encodings SMEV uses (`reference/smev3/GOST.md`):
//!
//! ```text
//! e  = H read as a LITTLE-endian integer, mod q; 1 if that is 0
//! SignatureValue = s (32 bytes, big-endian) || r (32 bytes, big-endian)
//! public key     = X (32 bytes, little-endian) || Y (32 bytes, little-endian)
//! ```
//!
//! Secrets (`d`, `k`) only meet constant-time code: `primeorder`'s table-driven multiplication by
//! the generator, `primefield`'s Montgomery arithmetic, `subtle` selection. Verification works on
//! public values only and uses variable-time interleaved wNAF (the `wnaf` crate `primeorder`
//! uses), with each 256-bit scalar split in two 128-bit halves over the precomputed points P and
//! 2^128·P ([`SplitTables`]): half the doublings, which dominate the cost.
//!
//! Nonces are RFC 6979 with HMAC-Streebog-256, hedged: the 32 bytes of OS randomness the caller
//! passes are RFC 6979's "additional data" (§3.6). The nonce is unpredictable while the OS
//! generator works, and never repeats for different messages, nor leaks `d`, if it fails.

use elliptic_curve::bigint::U256;
use elliptic_curve::consts::{U5, U32};
use elliptic_curve::group::Group as _;
use elliptic_curve::ops::Reduce;
use elliptic_curve::point::AffineCoordinates as _;
use elliptic_curve::subtle::ConditionallySelectable as _;
use elliptic_curve::{CurveArithmetic, Field as _, FieldBytes, NonZeroScalar, PrimeField as _};
use primeorder::PrimeCurveParams;
use zeroize::Zeroizing;

/// What the GOST code needs from a curve: 256-bit field and scalars, and the cofactor.
pub(crate) trait GostCurve: PrimeCurveParams<Uint = U256, FieldBytesSize = U32> {
    /// `#E / q`.
    const COFACTOR: u8;

    /// The verifier's tables of G (built on first use).
    fn generator_tables() -> &'static SplitTables<Self>;

    /// Whether `point` lies in the subgroup of order `q` (always, on the prime-order curves).
    fn in_subgroup(point: &primeorder::AffinePoint<Self>) -> bool {
        if Self::COFACTOR == 1 {
            return true;
        }
        // [q]P = [q - 1]P + P; variable time, the point is public.
        let p = primeorder::ProjectivePoint::<Self>::from(*point);
        let minus_one = -<Self as elliptic_curve::CurveArithmetic>::Scalar::from(1u64);
        bool::from((p.mul_vartime(&minus_one) + p).is_identity())
    }
}

pub(crate) type Scalar<C> = <C as CurveArithmetic>::Scalar;
pub(crate) type Affine<C> = primeorder::AffinePoint<C>;
pub(crate) type Projective<C> = primeorder::ProjectivePoint<C>;
type Wnaf<C> = primeorder::wnaf::WnafBase<Projective<C>, U5>;
type WnafScalar<C> = primeorder::wnaf::WnafScalar<Scalar<C>, U5>;

/// wNAF tables (window 5) of a point P and of 2^128·P, for [`verify`]: `z·P` is then computed as
/// `z_low·P + z_high·(2^128·P)` with 128-bit halves, interleaved with the other term.
#[derive(Clone, Debug)]
pub(crate) struct SplitTables<C: GostCurve> {
    low: Wnaf<C>,
    high: Wnaf<C>,
}

impl<C: GostCurve> SplitTables<C> {
    /// 128 doublings and two 8-point tables: paid once per key (the generator's are static, a
    /// public key's are kept with it).
    pub(crate) fn new(point: &Projective<C>) -> SplitTables<C> {
        let mut high = *point;
        for _ in 0..HALF * 4 {
            high = high.double();
        }
        SplitTables {
            low: Wnaf::<C>::new(point),
            high: Wnaf::<C>::new(&high),
        }
    }
}

/// The halves of a scalar, little-endian: bytes 0..16 and 16..32.
fn halves<C: GostCurve>(z: &Scalar<C>) -> [u8; HALF] {
    let mut le = [0u8; HALF];
    for (o, b) in le.iter_mut().zip(z.to_repr().iter().rev()) {
        *o = *b;
    }
    le
}

/// Length of a digest, a coordinate, a scalar.
pub(crate) const HALF: usize = 32;
/// Length of a signature value and of a public key.
pub(crate) const FULL: usize = 64;

/// `e`: the digest read as a little-endian integer, reduced mod q; 1 when that is 0.
pub(crate) fn digest_scalar<C: GostCurve>(digest: &[u8; HALF]) -> Scalar<C> {
    let mut be = *digest;
    be.reverse();
    let e = <Scalar<C> as Reduce<U256>>::reduce(&U256::from_be_slice(&be));
    Scalar::<C>::conditional_select(&e, &Scalar::<C>::ONE, e.is_zero())
}

fn field_bytes_be<C: GostCurve>(le: &[u8]) -> FieldBytes<C> {
    let mut out = FieldBytes::<C>::default();
    for (o, b) in out.iter_mut().zip(le.iter().rev()) {
        *o = *b;
    }
    out
}

/// The point `X‖Y` (each little-endian) if it lies on the curve, in the subgroup of order q, and
/// is not the identity (which has no affine coordinates, so cannot be written this way).
pub(crate) fn decode_point<C: GostCurve>(xy_le: &[u8; FULL]) -> Option<Affine<C>> {
    let x = field_bytes_be::<C>(&xy_le[..HALF]);
    let y = field_bytes_be::<C>(&xy_le[HALF..]);
    let point = Affine::<C>::from_coordinates(&x, &y).into_option()?;
    C::in_subgroup(&point).then_some(point)
}

/// `X‖Y`, each little-endian.
pub(crate) fn encode_point<C: GostCurve>(point: &Affine<C>) -> [u8; FULL] {
    let mut out = [0u8; FULL];
    for (o, b) in out[..HALF].iter_mut().zip(point.x().iter().rev()) {
        *o = *b;
    }
    for (o, b) in out[HALF..].iter_mut().zip(point.y().iter().rev()) {
        *o = *b;
    }
    out
}

/// `d` from its big-endian bytes, when 0 < d < q.
pub(crate) fn secret_from_be<C: GostCurve>(be: &[u8; HALF]) -> Option<NonZeroScalar<C>> {
    NonZeroScalar::<C>::from_repr(FieldBytes::<C>::from(*be)).into_option()
}

/// `d` as 32 big-endian bytes.
pub(crate) fn secret_to_be<C: GostCurve>(d: &NonZeroScalar<C>) -> Zeroizing<[u8; HALF]> {
    let mut out = Zeroizing::new([0u8; HALF]);
    out.copy_from_slice(&d.to_repr());
    out
}

/// A uniformly random `d` in [1, q − 1] from `fill` (the OS CSPRNG), by rejection: candidates
/// are drawn independently, so rejecting one says nothing about the one kept.
pub(crate) fn random_secret<C: GostCurve, E>(
    mut fill: impl FnMut(&mut [u8]) -> Result<(), E>,
) -> Result<NonZeroScalar<C>, E> {
    // Drop the bits above q's length so that (for TC26-A's 255-bit q) half the candidates are
    // not rejected outright.
    let bits = C::ORDER.as_ref().bits_vartime();
    let excess = u32::try_from(HALF * 8).unwrap_or(256).saturating_sub(bits);
    let mask = 0xffu8.checked_shr(excess).unwrap_or(0xff);
    let mut candidate = Zeroizing::new([0u8; HALF]);
    loop {
        fill(candidate.as_mut_slice())?;
        candidate[0] &= mask;
        if let Some(d) = secret_from_be::<C>(&candidate) {
            return Ok(d);
        }
    }
}

/// `d·G`.
pub(crate) fn public_point<C: GostCurve>(d: &NonZeroScalar<C>) -> Affine<C> {
    Projective::<C>::mul_by_generator(d.as_ref()).to_affine()
}

/// The signature `s‖r` (big-endian halves) of `digest` under `d`.
///
/// `entropy` is mixed into the RFC 6979 nonce derivation (see the module documentation).
pub(crate) fn sign<C: GostCurve>(
    d: &NonZeroScalar<C>,
    digest: &[u8; HALF],
    entropy: &[u8; HALF],
) -> [u8; FULL] {
    let e = digest_scalar::<C>(digest);
    let d_be = secret_to_be(d);
    let mut nonces = rfc6979::KGenerator::<streebog::Streebog256, U256>::new(
        d_be.as_slice(),
        &e.to_repr(),
        entropy,
        C::ORDER.as_ref(),
    );
    let mut k_be = Zeroizing::new(FieldBytes::<C>::default());
    loop {
        nonces.fill_next_k(k_be.as_mut_slice());
        // The generator only yields 0 < k < q; a value outside would just be skipped.
        let Some(k) = NonZeroScalar::<C>::from_repr(*k_be).into_option() else {
            continue;
        };
        let c = public_point(&k);
        let r = <Scalar<C> as Reduce<FieldBytes<C>>>::reduce(&c.x());
        if bool::from(r.is_zero()) {
            continue;
        }
        let s = r * d.as_ref() + *k.as_ref() * e;
        if bool::from(s.is_zero()) {
            continue;
        }
        let mut out = [0u8; FULL];
        out[..HALF].copy_from_slice(&s.to_repr());
        out[HALF..].copy_from_slice(&r.to_repr());
        return out;
    }
}

/// Whether `signature` (`s‖r`, big-endian halves) is a signature of `digest` under the public key
/// whose [`SplitTables`] are `public`.
pub(crate) fn verify<C: GostCurve>(
    public: &SplitTables<C>,
    digest: &[u8; HALF],
    signature: &[u8; FULL],
) -> bool {
    // 0 < s < q and 0 < r < q, or the signature is refused.
    let (mut s_be, mut r_be) = (FieldBytes::<C>::default(), FieldBytes::<C>::default());
    s_be.copy_from_slice(&signature[..HALF]);
    r_be.copy_from_slice(&signature[HALF..]);
    let (Some(s), Some(r)) = (
        NonZeroScalar::<C>::from_repr(s_be).into_option(),
        NonZeroScalar::<C>::from_repr(r_be).into_option(),
    ) else {
        return false;
    };
    let e = digest_scalar::<C>(digest);
    // e is never 0, so the inverse exists.
    let Some(v) = e.invert().into_option() else {
        return false;
    };
    let z1 = *s.as_ref() * v;
    let z2 = -(*r.as_ref() * v);
    // C = z1·G + z2·Q, as four interleaved 128-bit multiplications.
    let (z1, z2) = (halves::<C>(&z1), halves::<C>(&z2));
    let scalars = [
        WnafScalar::<C>::from_le_bytes(&z1[..HALF / 2]),
        WnafScalar::<C>::from_le_bytes(&z1[HALF / 2..]),
        WnafScalar::<C>::from_le_bytes(&z2[..HALF / 2]),
        WnafScalar::<C>::from_le_bytes(&z2[HALF / 2..]),
    ];
    let g = C::generator_tables();
    let bases = [&g.low, &g.high, &public.low, &public.high];
    let c = Wnaf::<C>::multiscalar_mul(bases.into_iter().zip(scalars.iter()));
    if bool::from(c.is_identity()) {
        return false;
    }
    let x = <Scalar<C> as Reduce<FieldBytes<C>>>::reduce(&c.to_affine().x());
    x == *r.as_ref()
}
