//! Certificate revocation lists: reading them ([`Crl`]), and the in-memory cache of the lists
//! fetched from certificates' distribution points ([`CrlFetcher`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use der::Decode as _;
use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlDistributionPoints};
use x509_cert::name::Name;

use super::super::cert::{
    Certificate, CertificateSignatureError, name_to_string, tbs_bytes, to_offset, verify_issuer_signature,
};
use super::super::{PemError, pem_block};

/// CRL extensions this node understands: the CRL number and the authority key identifier (both
/// informational here). A CRL with any other *critical* extension (an issuing distribution
/// point, a delta-CRL indicator) is refused rather than misread.
const KNOWN_CRL_EXTENSIONS: [ObjectIdentifier; 2] = [
    ObjectIdentifier::new_unwrap("2.5.29.20"), // cRLNumber
    ObjectIdentifier::new_unwrap("2.5.29.35"), // authorityKeyIdentifier
];

/// A parsed certificate revocation list with its revoked serials indexed.
#[derive(Clone)]
pub struct Crl {
    der: Vec<u8>,
    parsed: CertificateList,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    /// Revoked serial (DER INTEGER content bytes) → revocation date.
    revoked: HashMap<Vec<u8>, OffsetDateTime>,
    /// Where the list came from (a file path or a URL), for messages.
    source: String,
}

impl std::fmt::Debug for Crl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crl")
            .field("issuer", &self.issuer())
            .field("this_update", &self.this_update)
            .field("next_update", &self.next_update)
            .field("revoked", &self.revoked.len())
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Why a CRL could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    #[error("CRL is {size} bytes, the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("CRL PEM is malformed: {detail}")]
    Pem { detail: String },
    #[error("CRL is not valid DER: {detail}")]
    Der { detail: String },
}

impl Crl {
    /// Reads a DER CRL; `source` names where it came from.
    ///
    /// # Errors
    /// [`CrlError::TooLarge`] over `max_bytes`, [`CrlError::Der`] when the bytes are not one
    /// `CertificateList`.
    pub fn from_der(der: &[u8], source: &str, max_bytes: usize) -> Result<Crl, CrlError> {
        if der.len() > max_bytes {
            return Err(CrlError::TooLarge {
                size: der.len(),
                limit: max_bytes,
            });
        }
        let parsed = CertificateList::from_der(der).map_err(|e| CrlError::Der {
            detail: e.to_string(),
        })?;
        let tbs = &parsed.tbs_cert_list;
        let revoked = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| (r.serial_number.as_bytes().to_vec(), to_offset(r.revocation_date)))
            .collect();
        Ok(Crl {
            this_update: to_offset(tbs.this_update),
            next_update: tbs.next_update.map(to_offset),
            revoked,
            source: source.to_owned(),
            der: der.to_vec(),
            parsed,
        })
    }

    /// Reads every CRL of a file: PEM (`X509 CRL` blocks, any number) or one DER list.
    ///
    /// # Errors
    /// As [`Crl::from_der`], or [`CrlError::Pem`].
    pub fn read_all(bytes: &[u8], source: &str, max_bytes: usize) -> Result<Vec<Crl>, CrlError> {
        let text = std::str::from_utf8(bytes)
            .ok()
            .filter(|t| t.contains("-----BEGIN"));
        let Some(text) = text else {
            return Ok(vec![Crl::from_der(bytes, source, max_bytes)?]);
        };
        let mut out = Vec::new();
        for block in super::pem_blocks(text, "X509 CRL") {
            let (_, der) = pem_block(block, &["X509 CRL"], max_bytes).map_err(|e| match e {
                PemError::NotFound { .. } => CrlError::Pem {
                    detail: "no `X509 CRL` block".into(),
                },
                PemError::Malformed(detail) => CrlError::Pem { detail },
                PemError::Base64(e) => CrlError::Pem {
                    detail: e.to_string(),
                },
            })?;
            out.push(Crl::from_der(&der, source, max_bytes)?);
        }
        if out.is_empty() {
            return Err(CrlError::Pem {
                detail: "no `X509 CRL` block".into(),
            });
        }
        Ok(out)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The issuer's name, as [`Certificate::subject`] writes names.
    pub fn issuer(&self) -> String {
        name_to_string(&self.parsed.tbs_cert_list.issuer)
    }

    pub(crate) fn issuer_name(&self) -> &Name {
        &self.parsed.tbs_cert_list.issuer
    }

    pub fn this_update(&self) -> OffsetDateTime {
        self.this_update
    }

    /// `None`: the list names no next update (RFC 5280 requires one; such a list never goes
    /// stale here).
    pub fn next_update(&self) -> Option<OffsetDateTime> {
        self.next_update
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the list is past its `nextUpdate` at `at`.
    pub fn is_stale_at(&self, at: OffsetDateTime) -> bool {
        self.next_update.is_some_and(|next| at > next)
    }

    /// When `certificate` was revoked, if the list names its serial.
    pub fn revoked_since(&self, certificate: &Certificate) -> Option<OffsetDateTime> {
        let serial = certificate.x509().tbs_certificate().serial_number().as_bytes();
        self.revoked.get(serial).copied()
    }

    /// How many serials the list revokes.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// Whether `issuer` may have issued this list by name and, when both carry them, by key
    /// identifier (the list's authorityKeyIdentifier against the certificate's
    /// subjectKeyIdentifier).
    pub(crate) fn named_by(&self, issuer: &Certificate) -> bool {
        if self.issuer_name() != issuer.x509().tbs_certificate().subject() {
            return false;
        }
        let aki = self
            .parsed
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == ObjectIdentifier::new_unwrap("2.5.29.35"))
            .and_then(|e| AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .and_then(|a| a.key_identifier);
        match (aki, super::subject_key_id(issuer)) {
            (Some(a), Some(s)) => a.as_bytes() == s.as_slice(),
            _ => true,
        }
    }

    /// Checks the list's own integrity against its issuer: the signature with the issuer's key,
    /// no critical extension this node does not understand.
    ///
    /// # Errors
    /// A description of what does not hold.
    pub(crate) fn check_signed_by(&self, issuer: &Certificate) -> Result<(), String> {
        let outer = &self.parsed.signature_algorithm.oid;
        if self.parsed.tbs_cert_list.signature.oid != *outer {
            return Err(format!(
                "the outer and inner signature algorithms differ ({outer} and {})",
                self.parsed.tbs_cert_list.signature.oid
            ));
        }
        let tbs = tbs_bytes(&self.der).map_err(|e| format!("the TBSCertList cannot be located: {e}"))?;
        verify_issuer_signature(issuer, outer, tbs, self.parsed.signature.raw_bytes()).map_err(
            |e| match e {
                CertificateSignatureError::Signature(e) => format!("signature: {e}"),
                other => other.to_string(),
            },
        )?;
        if let Some(ext) = self
            .parsed
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.critical && !KNOWN_CRL_EXTENSIONS.contains(&e.extn_id))
        {
            return Err(format!(
                "critical extension {} is not supported (indirect, partitioned and delta CRLs are not)",
                ext.extn_id
            ));
        }
        Ok(())
    }
}

/// The `http://` URLs of a certificate's CRL distribution points (other schemes, LDAP
/// included, are not fetched).
pub fn distribution_points(certificate: &Certificate) -> Vec<String> {
    let Ok(Some((_, points))) = certificate
        .x509()
        .tbs_certificate()
        .get_extension::<CrlDistributionPoints>()
    else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    for point in points.0 {
        let Some(DistributionPointName::FullName(names)) = point.distribution_point else {
            continue;
        };
        for name in names {
            if let GeneralName::UniformResourceIdentifier(uri) = name {
                let uri = uri.as_str();
                if uri.get(..7).is_some_and(|s| s.eq_ignore_ascii_case("http://")) {
                    urls.push(uri.to_owned());
                }
            }
        }
    }
    urls
}

/// How fetched CRLs are kept.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// A list fetched longer ago than this is fetched again at its next use.
    pub refresh: Duration,
    /// Longest a fetch may take.
    pub timeout: Duration,
    /// Largest list accepted, bytes.
    pub max_bytes: usize,
}

/// What is known about one distribution point.
#[derive(Debug, Default)]
struct Slot {
    crl: Option<Arc<Crl>>,
    /// When the last attempt (successful or not) was made.
    attempted: Option<Instant>,
    /// The last attempt's failure, while no later attempt succeeded.
    error: Option<String>,
}

/// CRLs fetched over HTTP from distribution points, cached in memory by URL.
///
/// A list is fetched at its first use, and again at a use after `refresh` has passed since the
/// last attempt, or sooner (at most once per [`STALE_RETRY`]) when the cached list is past its
/// nextUpdate. A failed fetch keeps the previous list (the validation policy decides whether a
/// stale one will do). Concurrent uses of one URL wait for one fetch.
#[derive(Debug)]
pub struct CrlFetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// Shortest interval between fetches of a list that is past its nextUpdate (a CA late to
/// publish is not asked on every message).
const STALE_RETRY: Duration = Duration::from_secs(30);

/// Most distribution points kept; past it the cache starts over.
const MAX_SLOTS: usize = 1024;

/// What a fetch use gives: the list (possibly stale) and the last failure, if any.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub crl: Option<Arc<Crl>>,
    pub error: Option<String>,
}

impl CrlFetcher {
    /// # Errors
    /// A description when the HTTP client cannot be built.
    pub fn new(settings: FetchSettings) -> Result<CrlFetcher, String> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(CrlFetcher {
            client,
            settings,
            slots: Mutex::new(HashMap::new()),
        })
    }

    fn slot(&self, url: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if !slots.contains_key(url) && slots.len() >= MAX_SLOTS {
            slots.clear();
        }
        slots.entry(url.to_owned()).or_default().clone()
    }

    /// The list at `url`, from the cache or fetched now (see the type's documentation).
    pub(crate) async fn get(&self, url: &str, at: OffsetDateTime) -> Fetched {
        let slot = self.slot(url);
        let mut slot = slot.lock().await;
        let due = match (slot.attempted, &slot.crl) {
            (None, _) => true,
            (Some(when), crl) => {
                let age = when.elapsed();
                age >= self.settings.refresh
                    || (crl.as_ref().is_none_or(|c| c.is_stale_at(at)) && age >= STALE_RETRY)
            }
        };
        if due {
            slot.attempted = Some(Instant::now());
            match self.fetch(url).await {
                Ok(crl) => {
                    slot.crl = Some(Arc::new(crl));
                    slot.error = None;
                }
                Err(e) => {
                    tracing::warn!(%url, error = %e, "CRL fetch failed");
                    slot.error = Some(e);
                }
            }
        }
        Fetched {
            crl: slot.crl.clone(),
            error: slot.error.clone(),
        }
    }

    async fn fetch(&self, url: &str) -> Result<Crl, String> {
        let limit = self.settings.max_bytes;
        let mut response = self.client.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(format!("the list is larger than {limit} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > limit {
                return Err(format!("the list is larger than {limit} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Crl::read_all(&body, url, limit)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or_else(|| "empty answer".to_owned())
    }
}
