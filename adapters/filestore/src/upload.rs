//! An upload as it streams in: the bytes are hashed (GOST R 34.11-2012, 256 bits) and counted
//! on their way to the disk, and the participant's quota is enforced as they arrive — the
//! upload is cut off at the first byte past it, not after the file was written.
//!
//! Several uploads of one participant at once count together: [`InFlight`] holds the bytes each
//! participant is uploading right now on this node.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use digest::Digest as _;
use streebog::Streebog256;
use tokio::io::{AsyncRead, ReadBuf};

/// Bytes being uploaded right now, per participant.
#[derive(Debug, Default)]
pub(crate) struct InFlight(Mutex<HashMap<String, u64>>);

impl InFlight {
    fn add(&self, owner: &str, n: u64) -> u64 {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let v = m.entry(owner.to_owned()).or_default();
        *v = v.saturating_add(n);
        *v
    }

    fn sub(&self, owner: &str, n: u64) {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(v) = m.get_mut(owner) {
            *v = v.saturating_sub(n);
            if *v == 0 {
                m.remove(owner);
            }
        }
    }
}

/// What an upload measured, shared between the reader (moved into the storage back-end) and
/// the code that records the file when the back-end returns.
#[derive(Debug)]
pub(crate) struct Tally {
    hasher: Streebog256,
    bytes: u64,
    over_quota: bool,
}

impl Tally {
    /// Bytes read so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Whether the upload was cut off at the quota.
    pub(crate) fn over_quota(&self) -> bool {
        self.over_quota
    }

    /// Base64 of the digest of what was read.
    pub(crate) fn hash_base64(&self) -> String {
        STANDARD.encode(self.hasher.clone().finalize())
    }
}

/// Wraps the data connection of an upload.
pub(crate) struct Metered<R> {
    inner: R,
    tally: Arc<Mutex<Tally>>,
    owner: String,
    /// Bytes the owner keeps already (other files), and the most the owner may keep.
    stored: u64,
    quota: u64,
    in_flight: Arc<InFlight>,
    /// Bytes this upload added to `in_flight` (taken back on drop).
    counted: u64,
}

impl<R> Metered<R> {
    pub(crate) fn new(
        inner: R,
        owner: &str,
        stored: u64,
        quota: u64,
        in_flight: Arc<InFlight>,
    ) -> (Metered<R>, Arc<Mutex<Tally>>) {
        let tally = Arc::new(Mutex::new(Tally {
            hasher: Streebog256::new(),
            bytes: 0,
            over_quota: false,
        }));
        let metered = Metered {
            inner,
            tally: tally.clone(),
            owner: owner.to_owned(),
            stored,
            quota,
            in_flight,
            counted: 0,
        };
        (metered, tally)
    }
}

impl<R> Drop for Metered<R> {
    fn drop(&mut self) {
        self.in_flight.sub(&self.owner, self.counted);
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Metered<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                let n = new.len() as u64;
                let mut tally = this.tally.lock().unwrap_or_else(PoisonError::into_inner);
                let in_flight = this.in_flight.add(&this.owner, n);
                this.counted += n;
                if this.stored.saturating_add(in_flight) > this.quota {
                    tally.over_quota = true;
                    // An error reports no bytes read.
                    buf.set_filled(before);
                    return Poll::Ready(Err(std::io::Error::other(format!(
                        "the upload exceeds the quota of {} bytes",
                        this.quota
                    ))));
                }
                tally.hasher.update(new);
                tally.bytes += n;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// Base64 of the Streebog-256 digest of `bytes` (what SMEV 3 clients put in
/// `RefAttachmentHeader/Hash`).
pub fn gost_hash_base64(bytes: &[u8]) -> String {
    STANDARD.encode(Streebog256::digest(bytes))
}

/// [`gost_hash_base64`] of a file, read in blocks (`rsmev filestore hash`).
///
/// # Errors
/// The file cannot be read.
pub fn gost_hash_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Streebog256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            break;
        }
        hasher.update(&block[..n]);
    }
    Ok(STANDARD.encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt as _;

    use super::*;

    #[tokio::test]
    async fn hashes_and_counts_what_passes_through() {
        let data = b"012345678901234567890123456789012345678901234567890123456789012";
        let in_flight = Arc::new(InFlight::default());
        let (mut r, tally) = Metered::new(&data[..], "MFC", 0, 1000, in_flight.clone());
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, &data[..]);
        let t = tally.lock().unwrap();
        assert_eq!(t.bytes(), 63);
        assert!(!t.over_quota());
        // The GOST R 34.11-2012 example M1 (256-bit hash, as OpenSSL prints it).
        assert_eq!(
            STANDARD.decode(t.hash_base64()).unwrap(),
            hex("9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500")
        );
        assert_eq!(t.hash_base64(), gost_hash_base64(data));
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), data).unwrap();
        assert_eq!(gost_hash_file(file.path()).unwrap(), t.hash_base64());
        drop(r);
        assert!(
            in_flight.0.lock().unwrap().is_empty(),
            "the bytes in flight are given back"
        );
    }

    #[tokio::test]
    async fn stops_at_the_first_byte_past_the_quota_counting_other_uploads_in_flight() {
        let data = [7u8; 100];
        let in_flight = Arc::new(InFlight::default());
        // 50 stored + 100 here > 120.
        let (mut r, tally) = Metered::new(&data[..], "MFC", 50, 120, in_flight.clone());
        let err = r.read_to_end(&mut Vec::new()).await.unwrap_err();
        assert!(err.to_string().contains("quota of 120 bytes"), "{err}");
        assert!(tally.lock().unwrap().over_quota());
        drop(r);
        // Within the quota alone, but not together with another upload in flight.
        in_flight.add("MFC", 30);
        let (mut r, tally) = Metered::new(&data[..], "MFC", 0, 120, in_flight.clone());
        assert!(r.read_to_end(&mut Vec::new()).await.is_err());
        assert!(tally.lock().unwrap().over_quota());
        // Another participant's uploads do not count.
        let (mut r, tally) = Metered::new(&data[..], "FNS", 0, 120, in_flight);
        r.read_to_end(&mut Vec::new()).await.unwrap();
        assert!(!tally.lock().unwrap().over_quota());
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
