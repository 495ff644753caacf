//! The chain's hash functions and the canonical encoding of what it binds.
//!
//! Every value is written as a 4-byte big-endian length and its bytes (`NULL` as the length
//! `0xFFFF_FFFF` and nothing), after a domain tag, so no two different rows encode alike and a
//! field cannot leak into its neighbour.

use digest::Digest;

/// Bytes of a hash (both algorithms give 256 bits).
pub const HASH_LEN: usize = 32;

/// A chain or entry hash.
pub type Hash = [u8; HASH_LEN];

/// The chain's hash function, fixed by the journal's first entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-256 (FIPS 180-4).
    Sha256,
    /// GOST R 34.11-2012 "Streebog", 256-bit output.
    Streebog256,
}

impl Algorithm {
    /// `sha256` or `streebog256`, as configured and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Streebog256 => "streebog256",
        }
    }

    /// The algorithm named `name` (`sha256`, `streebog256`; `gost` and `gost2012-256` too).
    pub fn parse(name: &str) -> Option<Algorithm> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" => Some(Algorithm::Sha256),
            "streebog256" | "streebog-256" | "gost" | "gost2012-256" => Some(Algorithm::Streebog256),
            _ => None,
        }
    }

    /// The hash of `data`.
    pub fn hash(self, data: &[u8]) -> Hash {
        let mut out = [0u8; HASH_LEN];
        match self {
            Algorithm::Sha256 => {
                out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
            }
            Algorithm::Streebog256 => out.copy_from_slice(&streebog::Streebog256::digest(data)),
        }
        out
    }
}

/// The chain hash before the first entry.
pub const GENESIS: Hash = [0u8; HASH_LEN];

/// A canonical encoding under construction.
#[derive(Debug)]
pub struct Encoder(Vec<u8>);

impl Encoder {
    /// Starts an encoding of a value of the kind `tag` names.
    pub fn new(tag: &str) -> Encoder {
        let mut e = Encoder(Vec::with_capacity(256));
        e.bytes(tag.as_bytes());
        e
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Encoder {
        // Values are bounded far below 4 GiB (envelope and attachment limits); a longer one
        // would still encode unambiguously with its length saturated, which cannot happen.
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX - 1);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(value);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Encoder {
        self.bytes(value.as_bytes())
    }

    pub fn optional(&mut self, value: Option<&str>) -> &mut Encoder {
        match value {
            Some(v) => self.text(v),
            None => {
                self.0.extend_from_slice(&u32::MAX.to_be_bytes());
                self
            }
        }
    }

    pub fn integer(&mut self, value: i64) -> &mut Encoder {
        self.bytes(&value.to_be_bytes())
    }

    pub fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// The chain hash after an entry: `H(previous ‖ position ‖ kind ‖ order ‖ key ‖ entry hash)`.
/// The position and the source row's identity are bound here, the row's content in the entry
/// hash, so a row moved to another place changes the chain while its content hash stays.
pub fn chain(
    algorithm: Algorithm,
    previous: &Hash,
    position: i64,
    kind: &str,
    order: i64,
    key: &str,
    entry: &Hash,
) -> Hash {
    let mut e = Encoder::new("rsmev-journal/chain/1");
    e.bytes(previous)
        .integer(position)
        .text(kind)
        .integer(order)
        .text(key)
        .bytes(entry);
    algorithm.hash(&e.finish())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_algorithms_match_their_published_vectors() {
        assert_eq!(
            hex(&Algorithm::Sha256.hash(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // GOST R 34.11-2012, example 1 (M1), 256-bit: the message is given there as a number,
        // i.e. these bytes reversed.
        let m1 = b"012345678901234567890123456789012345678901234567890123456789012";
        assert_eq!(
            hex(&Algorithm::Streebog256.hash(m1)),
            "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"
        );
    }

    #[test]
    fn null_and_empty_encode_differently_and_fields_do_not_run_together() {
        let enc = |f: &dyn Fn(&mut Encoder)| {
            let mut e = Encoder::new("t");
            f(&mut e);
            e.finish()
        };
        assert_ne!(
            enc(&|e| {
                e.optional(None);
            }),
            enc(&|e| {
                e.optional(Some(""));
            })
        );
        assert_ne!(
            enc(&|e| {
                e.text("ab").text("c");
            }),
            enc(&|e| {
                e.text("a").text("bc");
            })
        );
    }
}
