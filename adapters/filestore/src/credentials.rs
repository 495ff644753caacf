//! Who may log in to the FTP server, and how that is checked without keeping a password.
//!
//! - **Uploaders** (participants) log in with their mnemonic and a password set by the
//!   operator (`rsmev filestore user add`). The table keeps `pbkdf2-sha256$<iterations>$<salt>$<hash>`
//!   (base64, 16-byte random salt), never the password.
//! - **Readers** (recipients of a message) log in with the upload's uuid as user name and a
//!   password derived from the node's secret: HMAC-SHA-256(secret, uuid ‖ recipient), base64url.
//!   Nothing is stored per credential; the server recomputes it for each recipient the claims
//!   name. A password opens that one directory, read-only.

use std::num::NonZeroU32;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SecureRandom as _;
use ring::{hmac, pbkdf2};

/// PBKDF2 rounds for uploader passwords (OWASP's figure for PBKDF2-HMAC-SHA256 is higher, but
/// a login also costs the node this much CPU; the passwords are operator-issued and random).
const ITERATIONS: u32 = 100_000;
const ALGORITHM: pbkdf2::Algorithm = pbkdf2::PBKDF2_HMAC_SHA256;
const PREFIX: &str = "pbkdf2-sha256";

/// Hashes an uploader's password for the users table.
///
/// # Errors
/// The system's random source failed.
pub(crate) fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| "the system's random source failed".to_owned())?;
    let iterations = NonZeroU32::new(ITERATIONS).ok_or("zero iterations")?;
    let mut out = [0u8; 32];
    pbkdf2::derive(ALGORITHM, iterations, &salt, password.as_bytes(), &mut out);
    Ok(format!(
        "{PREFIX}${ITERATIONS}${}${}",
        STANDARD.encode(salt),
        STANDARD.encode(out)
    ))
}

/// Whether `password` matches a stored hash (constant time; a malformed hash never matches).
pub(crate) fn verify_password(stored: &str, password: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some(PREFIX), Some(iterations), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Some(iterations) = iterations.parse::<u32>().ok().and_then(NonZeroU32::new) else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    pbkdf2::verify(ALGORITHM, iterations, &salt, password.as_bytes(), &hash).is_ok()
}

/// The node's secret for read passwords.
#[derive(Clone)]
pub(crate) struct ReadSecret(hmac::Key);

impl std::fmt::Debug for ReadSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadSecret(<redacted>)")
    }
}

impl ReadSecret {
    pub(crate) fn new(secret: &[u8]) -> ReadSecret {
        ReadSecret(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    fn message(uuid: &str, recipient: &str) -> Vec<u8> {
        let mut m = Vec::with_capacity(uuid.len() + recipient.len() + 24);
        m.extend_from_slice(b"rsmev-filestore-read\0");
        m.extend_from_slice(uuid.as_bytes());
        m.push(0);
        m.extend_from_slice(recipient.as_bytes());
        m
    }

    /// The password `recipient` reads `uuid` with.
    pub(crate) fn password(&self, uuid: &str, recipient: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, &Self::message(uuid, recipient)).as_ref())
    }

    /// Whether `password` is `recipient`'s for `uuid` (constant time).
    pub(crate) fn verify(&self, uuid: &str, recipient: &str, password: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(password.trim()) else {
            return false;
        };
        hmac::verify(&self.0, &Self::message(uuid, recipient), &tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let stored = hash_password("correct horse").unwrap();
        assert!(stored.starts_with("pbkdf2-sha256$100000$"));
        assert!(!stored.contains("correct horse"));
        assert!(verify_password(&stored, "correct horse"));
        assert!(!verify_password(&stored, "correct hors"));
        // Salted: the same password hashes differently.
        assert_ne!(stored, hash_password("correct horse").unwrap());
        assert!(!verify_password("pbkdf2-sha256$0$AAAA$AAAA", "x"));
        assert!(!verify_password("garbage", "garbage"));
    }

    #[test]
    fn read_passwords_are_bound_to_the_directory_the_recipient_and_the_secret() {
        let s = ReadSecret::new(b"0123456789abcdef0123456789abcdef");
        let p = s.password("8a5e…uuid-a", "FNS");
        assert!(s.verify("8a5e…uuid-a", "FNS", &p));
        assert!(!s.verify("8a5e…uuid-b", "FNS", &p));
        assert!(!s.verify("8a5e…uuid-a", "MVD", &p));
        let other = ReadSecret::new(b"another secret of the same length");
        assert!(!other.verify("8a5e…uuid-a", "FNS", &p));
        assert!(!s.verify("8a5e…uuid-a", "FNS", "not base64 !"));
    }
}
