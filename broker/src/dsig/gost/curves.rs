//! The four 256-bit GOST R 34.10 curves, defined the way RustCrypto defines its curves: field
//! elements and scalars are `primefield` Montgomery-form types over `crypto-bigint` (constant
//! time), points and scalar multiplication come from `primeorder` (complete Renes–Costello–Batina
//! formulas, constant-time radix-16 multiplication, variable-time wNAF for public data, a lazily
//! built table of multiples of G for multiplication by the generator).
//!
//! | curve type | parameter sets (OIDs) |
//! |---|---|
//! | [`CryptoProA`] | CryptoPro-A 1.2.643.2.2.35.1, CryptoPro-XchA 1.2.643.2.2.36.0, TC26-256-B 1.2.643.7.1.2.1.1.2 |
//! | [`CryptoProB`] | CryptoPro-B 1.2.643.2.2.35.2, TC26-256-C 1.2.643.7.1.2.1.1.3 |
//! | [`CryptoProC`] | CryptoPro-C 1.2.643.2.2.35.3, CryptoPro-XchB 1.2.643.2.2.36.1, TC26-256-D 1.2.643.7.1.2.1.1.4 |
//! | [`Tc26A`] | TC26-256-A 1.2.643.7.1.2.1.1.1 (the Weierstrass form of a twisted Edwards curve) |
//!
//! Constants: RFC 4357 §11.4 (CryptoPro), RFC 7836 Appendix A.2 (TC26-256-A). The unit tests
//! check each: the generator lies on the curve and has order `q`, `p` and `q` are what the
//! standard says, and keys the OpenSSL gost engine generated map to the points it printed.
//!
//! TC26-256-A has cofactor 4: `primeorder` is written for prime-order curves, and its formulas
//! stay exact on the order-`q` subgroup (their exceptions need two points differing by a point of
//! order 2, which the subgroup has none of). Every point this module works with is `G`, a public
//! key checked to lie in the subgroup ([`GostCurve::in_subgroup`]), or a multiple of those.
//!
//! `primeorder`'s field needs a multiplicative generator; what it uses it for (the square-root
//! constants of `ff::PrimeField`) only needs a quadratic non-residue, which is what is given
//! (the smallest one, or a primitive root where one was established).

pub(crate) use super::scheme::GostCurve;

/// Defines one curve: a module with its field and scalar types, and the curve type.
macro_rules! gost_curve {
    (
        $(#[$meta:meta])*
        $module:ident :: $curve:ident {
            p: $p:literal, p_generator: $p_generator:literal,
            q: $q:literal, q_generator: $q_generator:literal,
            a: $a:expr, b: $b:literal,
            gx: $gx:literal, gy: $gy:literal,
            cofactor: $cofactor:literal,
            arithmetic: $arithmetic:ty $(,)?
        }
    ) => {
        pub(crate) mod $module {
            use elliptic_curve::bigint::{Odd, U256};
            use elliptic_curve::consts::U32;
            use elliptic_curve::hazmat::FieldArithmetic;
            use elliptic_curve::{CurveArithmetic, PrimeCurveArithmetic};
            use primeorder::PrimeCurveParams;

            pub(crate) mod field {
                // The names primefield's macros expect in scope.
                #[allow(unused_imports)]
                use elliptic_curve::{
                    bigint::U256,
                    ff::PrimeField,
                    subtle::{Choice, ConstantTimeEq, CtOption},
                };

                primefield::monty_field_params! {
                    name: FieldParams,
                    modulus: $p,
                    uint: U256,
                    byte_order: primefield::ByteOrder::BigEndian,
                    multiplicative_generator: $p_generator,
                    doc: concat!("Montgomery parameters of the field modulo p = 0x", $p)
                }

                primefield::monty_field_element! {
                    name: FieldElement,
                    params: FieldParams,
                    uint: U256,
                    doc: concat!("An element of the field modulo p = 0x", $p)
                }

                primefield::monty_field_arithmetic! {
                    name: FieldElement,
                    params: FieldParams,
                    uint: U256
                }

                impl elliptic_curve::ops::BatchInvert for FieldElement {}
            }

            pub(crate) mod scalar {
                #[allow(unused_imports)]
                use elliptic_curve::{
                    bigint::U256,
                    ff::PrimeField,
                    subtle::{Choice, ConstantTimeEq, ConstantTimeGreater as _, CtOption},
                };
                use elliptic_curve::scalar::{FromUintUnchecked, IsHigh};
                use elliptic_curve::Curve as _;

                primefield::monty_field_params! {
                    name: ScalarParams,
                    modulus: $q,
                    uint: U256,
                    byte_order: primefield::ByteOrder::BigEndian,
                    multiplicative_generator: $q_generator,
                    doc: concat!("Montgomery parameters of the scalars modulo q = 0x", $q)
                }

                primefield::monty_field_element! {
                    name: Scalar,
                    params: ScalarParams,
                    uint: U256,
                    doc: concat!("A scalar modulo the subgroup order q = 0x", $q)
                }

                primefield::monty_field_arithmetic! {
                    name: Scalar,
                    params: ScalarParams,
                    uint: U256
                }

                primefield::monty_field_reduce! {
                    name: Scalar,
                    params: ScalarParams,
                    uint: U256,
                }

                elliptic_curve::scalar_impls!(super::$curve, Scalar);

                primeorder::wnaf::impl_wnaf_size_for_scalar!(Scalar);

                impl AsRef<Scalar> for Scalar {
                    fn as_ref(&self) -> &Scalar {
                        self
                    }
                }

                impl FromUintUnchecked for Scalar {
                    type Uint = U256;

                    fn from_uint_unchecked(uint: Self::Uint) -> Self {
                        Self::from_uint_unchecked(uint)
                    }
                }

                impl IsHigh for Scalar {
                    fn is_high(&self) -> Choice {
                        const HALF: U256 = super::$curve::ORDER.as_ref().shr_vartime(1);
                        self.to_canonical().ct_gt(&HALF)
                    }
                }
            }

            $(#[$meta])*
            #[derive(Copy, Clone, Debug, Default, Eq, PartialEq, PartialOrd, Ord)]
            pub struct $curve;

            impl elliptic_curve::Curve for $curve {
                type FieldBytesSize = U32;
                type Uint = U256;
                const ORDER: Odd<U256> = Odd::<U256>::from_be_hex($q);
            }

            impl elliptic_curve::PrimeCurve for $curve {}

            impl elliptic_curve::point::PointCompression for $curve {
                // GOST keys carry both coordinates.
                const COMPRESS_POINTS: bool = false;
            }

            impl CurveArithmetic for $curve {
                type AffinePoint = primeorder::AffinePoint<$curve>;
                type ProjectivePoint = primeorder::ProjectivePoint<$curve>;
                type Scalar = scalar::Scalar;
            }

            impl FieldArithmetic for $curve {
                type FieldElement = field::FieldElement;
            }

            impl PrimeCurveArithmetic for $curve {
                type CurveGroup = primeorder::ProjectivePoint<$curve>;
            }

            /// Multiples of G, computed on first use (33 tables of 8 points, about 25 KiB).
            static BASEPOINT_TABLE: primeorder::BasepointTable<primeorder::ProjectivePoint<$curve>, 33> =
                primeorder::BasepointTable::new();

            /// Multiplication by G through [`BASEPOINT_TABLE`] (constant time, 64 additions
            /// instead of 256 doublings: the signer's `k·G`); everything else as primeorder does it.
            /// (`primeorder::mul_backend::PrecomputedTables` needs Rust 1.90.)
            #[derive(Clone, Copy, Debug)]
            pub struct Precomputed;

            impl primeorder::MulBackend<$curve> for Precomputed {
                fn mul_by_generator(k: &scalar::Scalar) -> primeorder::ProjectivePoint<$curve> {
                    BASEPOINT_TABLE.mul(k)
                }

                fn mul_by_generator_vartime(k: &scalar::Scalar) -> primeorder::ProjectivePoint<$curve> {
                    BASEPOINT_TABLE.mul_vartime(k)
                }
            }

            impl PrimeCurveParams for $curve {
                type PointArithmetic = $arithmetic;
                type Backend = Precomputed;
                const EQUATION_A: field::FieldElement = $a;
                const EQUATION_B: field::FieldElement = field::FieldElement::from_hex_vartime($b);
                const GENERATOR: (field::FieldElement, field::FieldElement) = (
                    field::FieldElement::from_hex_vartime($gx),
                    field::FieldElement::from_hex_vartime($gy),
                );
            }

            static GENERATOR_TABLES: std::sync::LazyLock<super::super::scheme::SplitTables<$curve>> =
                std::sync::LazyLock::new(|| {
                    super::super::scheme::SplitTables::new(&primeorder::ProjectivePoint::<$curve>::GENERATOR)
                });

            impl super::GostCurve for $curve {
                const COFACTOR: u8 = $cofactor;

                fn generator_tables() -> &'static super::super::scheme::SplitTables<$curve> {
                    &GENERATOR_TABLES
                }
            }
        }

        #[allow(unused_imports)]
        pub(crate) use $module::$curve;
    };
}

gost_curve! {
    /// CryptoPro-A = CryptoPro-XchA = TC26-256-B: p = 2^256 − 617, a = −3, b = 166, G = (1, …).
    cryptopro_a::CryptoProA {
        p: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd97", p_generator: 7,
        q: "ffffffffffffffffffffffffffffffff6c611070995ad10045841b09b761b893", q_generator: 5,
        a: field::FieldElement::from_u64(3).neg(),
        b: "00000000000000000000000000000000000000000000000000000000000000a6",
        gx: "0000000000000000000000000000000000000000000000000000000000000001",
        gy: "8d91e471e0989cda27df505a453f2b7635294f2ddf23e3b122acc99c9e9f1e14",
        cofactor: 1,
        arithmetic: primeorder::point_arithmetic::EquationAIsMinusThree,
    }
}

gost_curve! {
    /// CryptoPro-B = TC26-256-C.
    cryptopro_b::CryptoProB {
        p: "8000000000000000000000000000000000000000000000000000000000000c99", p_generator: 3,
        q: "800000000000000000000000000000015f700cfff1a624e5e497161bcc8a198f", q_generator: 5,
        a: field::FieldElement::from_u64(3).neg(),
        b: "3e1af419a269a5f866a7d3c25c3df80ae979259373ff2b182f49d4ce7e1bbc8b",
        gx: "0000000000000000000000000000000000000000000000000000000000000001",
        gy: "3fa8124359f96680b83d1c3eb2c070e5c545c9858d03ecfb744bf8d717717efc",
        cofactor: 1,
        arithmetic: primeorder::point_arithmetic::EquationAIsMinusThree,
    }
}

gost_curve! {
    /// CryptoPro-C = CryptoPro-XchB = TC26-256-D.
    cryptopro_c::CryptoProC {
        p: "9b9f605f5a858107ab1ec85e6b41c8aacf846e86789051d37998f7b9022d759b", p_generator: 2,
        q: "9b9f605f5a858107ab1ec85e6b41c8aa582ca3511eddfb74f02f3a6598980bb9", q_generator: 7,
        a: field::FieldElement::from_u64(3).neg(),
        b: "000000000000000000000000000000000000000000000000000000000000805a",
        gx: "0000000000000000000000000000000000000000000000000000000000000000",
        gy: "41ece55743711a8c3cbf3783cd08c0ee4d4dc440d4641a8f366e550dfdb3bb67",
        cofactor: 1,
        arithmetic: primeorder::point_arithmetic::EquationAIsMinusThree,
    }
}

gost_curve! {
    /// TC26-256-A: p = 2^256 − 617, generic a, cofactor 4 (q is the order of G).
    tc26_a::Tc26A {
        p: "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd97", p_generator: 7,
        q: "400000000000000000000000000000000fd8cddfc87b6635c115af556c360c67", q_generator: 5,
        a: field::FieldElement::from_hex_vartime(
            "c2173f1513981673af4892c23035a27ce25e2013bf95aa33b22c656f277e7335"
        ),
        b: "295f9bae7428ed9ccc20e7c359a9d41a22fccd9108e17bf7ba9337a6f8ae9513",
        gx: "91e38443a5e82c0d880923425712b2bb658b9196932e02c78b2582fe742daa28",
        gy: "32879423ab1a0375895786c4bb46e9565fde0b5344766740af268adb32322e5c",
        cofactor: 4,
        arithmetic: primeorder::point_arithmetic::EquationAIsGeneric,
    }
}
