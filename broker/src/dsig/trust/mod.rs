//! Certificate path validation: whether a signer's certificate chains to a trusted anchor (the
//! accredited certification authorities' roots) and is not revoked — the qualified signature
//! check on top of [`verify`](fn@super::verify)'s mathematical one.
//!
//! [`TrustStore::validate`] checks, in this order, stopping at the first failure:
//! 1. **chain**: a path leaf → intermediates → anchor, each link found by issuer/subject name
//!    (and authority/subject key identifier when both are present) and checked with the
//!    issuer's key ([`Certificate::verify_signed_by`], GOST and non-GOST); intermediates come
//!    from the caller and from the configured intermediates;
//! 2. **validity**: every certificate of the path, anchor included, valid at the time checked;
//! 3. **constraints**: every issuer a CA (basicConstraints cA; an anchor without the
//!    extension is tolerated), within its pathLenConstraint, with keyCertSign when it states
//!    key usages; the leaf with digitalSignature or nonRepudiation when it states key usages;
//! 4. **revocation**: every certificate but the anchor looked up in a CRL of its issuer
//!    (configured files, and when enabled the lists fetched from the certificate's
//!    distribution points, [`crl::CrlFetcher`]), the list's signature checked with the issuer's
//!    key (which must have cRLSign when it states key usages); with no current list, the
//!    [`CrlPolicy`] decides.
//!
//! Architecture invariant: nothing is fetched before step 1 succeeded, so only URLs named by
//! certificates a trusted CA signed are ever requested.
//!
//! Not here yet: importing the published trust list (its XML form), OCSP, name constraints,
//! certificate policies and refusal of unknown critical certificate extensions.

pub mod crl;

#[cfg(test)]
pub(crate) mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectKeyIdentifier};

use super::cert::Certificate;
pub use crl::{Crl, CrlError, CrlFetcher, FetchSettings, distribution_points};

/// Longest path accepted, certificates (leaf and anchor included).
pub const MAX_PATH_LEN: usize = 8;

/// What to do when no current CRL can be had for a certificate of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrlPolicy {
    /// Refuse: every certificate but the anchor needs a CRL of its issuer current at the time
    /// checked (thisUpdate ≤ time ≤ nextUpdate).
    Require,
    /// Use the newest CRL the node has even past its nextUpdate (a CA's publication point
    /// unreachable); with no CRL at all, refuse.
    AllowStale,
    /// Do not check revocation.
    Skip,
}

/// How one validation treats revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustPolicy {
    pub crl: CrlPolicy,
    /// Whether CRLs are fetched from the certificates' distribution points.
    pub crl_fetch: bool,
}

/// Why a certificate was not accepted; the text names the failing step and certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    #[error("chain: no trusted anchor for issuer `{issuer}` (of `{subject}`)")]
    NoAnchor { subject: String, issuer: String },
    #[error("chain: the signature of `{subject}` does not verify with the key of `{issuer}`: {detail}")]
    BadLink {
        subject: String,
        issuer: String,
        detail: String,
    },
    #[error("chain: longer than {limit} certificates at `{subject}`")]
    TooLong { subject: String, limit: usize },
    #[error("expired: `{subject}` not after {}", when(*.not_after))]
    Expired {
        subject: String,
        not_after: OffsetDateTime,
    },
    #[error("not yet valid: `{subject}` not before {}", when(*.not_before))]
    NotYetValid {
        subject: String,
        not_before: OffsetDateTime,
    },
    #[error("constraints: `{subject}` issues certificates but is not a CA (basicConstraints cA)")]
    NotCa { subject: String },
    #[error("constraints: `{subject}` allows {allowed} intermediate CAs below it, the path has {found}")]
    PathLength {
        subject: String,
        allowed: u8,
        found: usize,
    },
    #[error("key usage: `{subject}` lacks {needed}")]
    KeyUsage { subject: String, needed: &'static str },
    #[error("revoked: serial {serial} (`{subject}`) by CRL of `{issuer}` since {}", when(*.since))]
    Revoked {
        serial: String,
        subject: String,
        issuer: String,
        since: OffsetDateTime,
    },
    #[error("revocation: no current CRL of `{issuer}` for `{subject}`: {detail}")]
    NoCurrentCrl {
        subject: String,
        issuer: String,
        detail: String,
    },
}

impl TrustError {
    /// Whether asking again later may succeed: a CRL may be published or reachable by then.
    /// Every other failure is a property of the certificates.
    pub fn may_pass_later(&self) -> bool {
        matches!(
            self,
            TrustError::NoCurrentCrl { .. } | TrustError::NotYetValid { .. }
        )
    }
}

fn when(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// How a certificate's revocation was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Not listed in a current CRL (from `source`, issued at `this_update`).
    Good {
        source: String,
        this_update: OffsetDateTime,
    },
    /// Not listed in a CRL past its nextUpdate ([`CrlPolicy::AllowStale`]).
    GoodStale {
        source: String,
        next_update: OffsetDateTime,
    },
    /// Not checked ([`CrlPolicy::Skip`]).
    NotChecked,
}

/// A path that passed every check: leaf first, anchor last, and how each certificate but the
/// anchor was checked for revocation.
#[derive(Debug, Clone)]
pub struct ValidatedPath {
    pub certificates: Vec<Arc<Certificate>>,
    pub revocation: Vec<Revocation>,
}

impl ValidatedPath {
    pub fn anchor(&self) -> &Certificate {
        // A path always ends at its anchor (at least one certificate).
        &self.certificates[self.certificates.len() - 1]
    }
}

/// Why the trust configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustLoadError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {detail}")]
    Invalid { path: PathBuf, detail: String },
    #[error("CRL fetching: {0}")]
    Client(String),
}

/// The trust configuration in force (from `[trust]`).
#[derive(Debug, Clone)]
pub struct TrustSettings {
    pub anchors: Vec<PathBuf>,
    pub intermediates: Vec<PathBuf>,
    pub crls: Vec<PathBuf>,
    pub policy: TrustPolicy,
    pub fetch: FetchSettings,
}

/// Trust anchors, known intermediates, configured CRLs and the cache of fetched ones.
#[derive(Debug)]
pub struct TrustStore {
    anchors: Vec<Arc<Certificate>>,
    intermediates: Vec<Arc<Certificate>>,
    crls: Vec<Arc<Crl>>,
    fetcher: CrlFetcher,
    policy: TrustPolicy,
}

impl TrustStore {
    /// A store of `anchors` with no intermediates or CRLs.
    ///
    /// # Errors
    /// [`TrustLoadError::Client`] when the HTTP client cannot be built.
    pub fn new(
        anchors: Vec<Certificate>,
        policy: TrustPolicy,
        fetch: FetchSettings,
    ) -> Result<TrustStore, TrustLoadError> {
        Ok(TrustStore {
            anchors: anchors.into_iter().map(Arc::new).collect(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            fetcher: CrlFetcher::new(fetch).map_err(TrustLoadError::Client)?,
            policy,
        })
    }

    /// Loads the files (PEM with any number of blocks, or DER) and directories (their
    /// `.pem`/`.crt`/`.cer`/`.der` files; `.crl` too for CRLs) `settings` names.
    ///
    /// # Errors
    /// [`TrustLoadError`] naming the file that cannot be read or holds no certificate/CRL.
    pub fn load(settings: &TrustSettings) -> Result<TrustStore, TrustLoadError> {
        let mut store = TrustStore::new(Vec::new(), settings.policy, settings.fetch.clone())?;
        for path in files(&settings.anchors, &["pem", "crt", "cer", "der"])? {
            store
                .anchors
                .extend(read_certificates(&path)?.into_iter().map(Arc::new));
        }
        for path in files(&settings.intermediates, &["pem", "crt", "cer", "der"])? {
            store
                .intermediates
                .extend(read_certificates(&path)?.into_iter().map(Arc::new));
        }
        for path in files(&settings.crls, &["pem", "crl", "der"])? {
            let bytes = read(&path)?;
            let crls = Crl::read_all(&bytes, &path.display().to_string(), settings.fetch.max_bytes).map_err(
                |e| TrustLoadError::Invalid {
                    path: path.clone(),
                    detail: e.to_string(),
                },
            )?;
            store.crls.extend(crls.into_iter().map(Arc::new));
        }
        Ok(store)
    }

    /// Adds an intermediate CA certificate the paths may go through.
    pub fn add_intermediate(&mut self, certificate: Certificate) {
        self.intermediates.push(Arc::new(certificate));
    }

    /// Adds a CRL (as if read from a configured file).
    pub fn add_crl(&mut self, crl: Crl) {
        self.crls.push(Arc::new(crl));
    }

    /// The policy from the configuration.
    pub fn policy(&self) -> TrustPolicy {
        self.policy
    }

    pub fn anchors(&self) -> &[Arc<Certificate>] {
        &self.anchors
    }

    /// Validates `leaf` at `at` (the steps are in the module documentation), through the
    /// configured intermediates and `intermediates` (e.g. those a signature carries).
    ///
    /// # Errors
    /// The first [`TrustError`] met.
    pub async fn validate(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        at: OffsetDateTime,
        policy: TrustPolicy,
    ) -> Result<ValidatedPath, TrustError> {
        let leaf = Arc::new(leaf.clone());
        let extra: Vec<Arc<Certificate>> = intermediates.iter().cloned().map(Arc::new).collect();
        let path = self.build_path(&leaf, &extra)?;
        for c in &path {
            match c.validity_at(at) {
                super::Validity::Valid => {}
                super::Validity::Expired => {
                    return Err(TrustError::Expired {
                        subject: c.subject(),
                        not_after: c.not_after(),
                    });
                }
                super::Validity::NotYetValid => {
                    return Err(TrustError::NotYetValid {
                        subject: c.subject(),
                        not_before: c.not_before(),
                    });
                }
            }
        }
        check_constraints(&path)?;
        let mut revocation = Vec::with_capacity(path.len().saturating_sub(1));
        for pair in path.windows(2) {
            revocation.push(self.revocation(&pair[0], &pair[1], at, policy).await?);
        }
        Ok(ValidatedPath {
            certificates: path,
            revocation,
        })
    }

    /// Step 1: a path from `leaf` to an anchor whose every link verifies.
    fn build_path(
        &self,
        leaf: &Arc<Certificate>,
        extra: &[Arc<Certificate>],
    ) -> Result<Vec<Arc<Certificate>>, TrustError> {
        if self.anchors.iter().any(|a| a.der() == leaf.der()) {
            return Ok(vec![leaf.clone()]);
        }
        let mut path = vec![leaf.clone()];
        let mut deepest: Option<(usize, TrustError)> = None;
        if self.extend(&mut path, extra, &mut deepest) {
            return Ok(path);
        }
        Err(deepest.map(|(_, e)| e).unwrap_or_else(|| TrustError::NoAnchor {
            subject: leaf.subject(),
            issuer: leaf.issuer(),
        }))
    }

    fn extend(
        &self,
        path: &mut Vec<Arc<Certificate>>,
        extra: &[Arc<Certificate>],
        deepest: &mut Option<(usize, TrustError)>,
    ) -> bool {
        let depth = path.len();
        let Some(current) = path.last().cloned() else {
            return false;
        };
        fn record(deepest: &mut Option<(usize, TrustError)>, depth: usize, e: TrustError) {
            if deepest.as_ref().is_none_or(|(d, _)| depth >= *d) {
                *deepest = Some((depth, e));
            }
        }
        if depth >= MAX_PATH_LEN {
            record(
                deepest,
                depth,
                TrustError::TooLong {
                    subject: current.subject(),
                    limit: MAX_PATH_LEN,
                },
            );
            return false;
        }
        let mut found = false;
        for anchor in self.anchors.iter().filter(|a| issued_by(&current, a)) {
            found = true;
            match current.verify_signed_by(anchor) {
                Ok(()) => {
                    path.push(anchor.clone());
                    return true;
                }
                Err(e) => record(deepest, depth, bad_link(&current, anchor, &e)),
            }
        }
        for candidate in extra.iter().chain(&self.intermediates) {
            if !issued_by(&current, candidate) || path.iter().any(|c| c.der() == candidate.der()) {
                continue;
            }
            found = true;
            match current.verify_signed_by(candidate) {
                Ok(()) => {
                    path.push(candidate.clone());
                    if self.extend(path, extra, deepest) {
                        return true;
                    }
                    path.pop();
                }
                Err(e) => record(deepest, depth, bad_link(&current, candidate, &e)),
            }
        }
        if !found {
            record(
                deepest,
                depth,
                TrustError::NoAnchor {
                    subject: current.subject(),
                    issuer: current.issuer(),
                },
            );
        }
        false
    }

    /// Step 4 for `certificate`, issued by `issuer`.
    async fn revocation(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
        at: OffsetDateTime,
        policy: TrustPolicy,
    ) -> Result<Revocation, TrustError> {
        if policy.crl == CrlPolicy::Skip {
            return Ok(Revocation::NotChecked);
        }
        let mut candidates: Vec<Arc<Crl>> =
            self.crls.iter().filter(|c| c.named_by(issuer)).cloned().collect();
        let mut problems = Vec::new();
        let urls = if policy.crl_fetch {
            distribution_points(certificate)
        } else {
            Vec::new()
        };
        for url in &urls {
            let fetched = self.fetcher.get(url, at).await;
            if let Some(e) = fetched.error {
                problems.push(format!("fetching {url}: {e}"));
            }
            if let Some(crl) = fetched.crl {
                if crl.named_by(issuer) {
                    candidates.push(crl);
                } else {
                    problems.push(format!("{url} serves a CRL of `{}`", crl.issuer()));
                }
            }
        }
        let no_crl = |detail: String| TrustError::NoCurrentCrl {
            subject: certificate.subject(),
            issuer: issuer.subject(),
            detail,
        };
        if crl_sign_refused(issuer) {
            return Err(no_crl(format!(
                "the issuer's key usage lacks cRLSign ({} candidate lists ignored)",
                candidates.len()
            )));
        }
        let mut usable: Vec<Arc<Crl>> = Vec::new();
        for crl in candidates {
            if let Err(e) = crl.check_signed_by(issuer) {
                problems.push(format!("the CRL from {} is refused: {e}", crl.source()));
            } else if crl.this_update() > at {
                problems.push(format!(
                    "the CRL from {} is issued after the time checked ({})",
                    crl.source(),
                    when(crl.this_update())
                ));
            } else {
                usable.push(crl);
            }
        }
        let newest = usable.into_iter().max_by_key(|c| c.this_update());
        let Some(crl) = newest else {
            if problems.is_empty() {
                problems.push(if urls.is_empty() {
                    "none configured, and none fetched (fetching is off or the certificate names no http \
                     distribution point)"
                        .to_owned()
                } else {
                    "none configured or fetched".to_owned()
                });
            }
            return Err(no_crl(problems.join("; ")));
        };
        if let Some(since) = crl.revoked_since(certificate) {
            return Err(TrustError::Revoked {
                serial: certificate.serial_hex(),
                subject: certificate.subject(),
                issuer: issuer.subject(),
                since,
            });
        }
        match crl.next_update() {
            Some(next) if at > next => {
                if policy.crl == CrlPolicy::AllowStale {
                    Ok(Revocation::GoodStale {
                        source: crl.source().to_owned(),
                        next_update: next,
                    })
                } else {
                    problems.insert(
                        0,
                        format!(
                            "the newest, from {}, is past its nextUpdate {}",
                            crl.source(),
                            when(next)
                        ),
                    );
                    Err(no_crl(problems.join("; ")))
                }
            }
            _ => Ok(Revocation::Good {
                source: crl.source().to_owned(),
                this_update: crl.this_update(),
            }),
        }
    }
}

/// Whether `issuer`'s name is `certificate`'s issuer and, when both carry them, the key
/// identifiers agree.
fn issued_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    if certificate.x509().tbs_certificate().issuer() != issuer.x509().tbs_certificate().subject() {
        return false;
    }
    let aki = certificate
        .x509()
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
        .ok()
        .flatten()
        .and_then(|(_, a)| a.key_identifier);
    match (aki, subject_key_id(issuer)) {
        (Some(a), Some(s)) => a.as_bytes() == s.as_slice(),
        _ => true,
    }
}

pub(crate) fn subject_key_id(certificate: &Certificate) -> Option<Vec<u8>> {
    certificate
        .x509()
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .ok()
        .flatten()
        .map(|(_, s)| s.0.as_bytes().to_vec())
}

fn bad_link(
    certificate: &Certificate,
    issuer: &Certificate,
    e: &super::CertificateSignatureError,
) -> TrustError {
    TrustError::BadLink {
        subject: certificate.subject(),
        issuer: issuer.subject(),
        detail: e.to_string(),
    }
}

fn key_usage(certificate: &Certificate) -> Option<KeyUsage> {
    certificate
        .x509()
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .ok()
        .flatten()
        .map(|(_, k)| k)
}

fn crl_sign_refused(issuer: &Certificate) -> bool {
    key_usage(issuer).is_some_and(|k| !k.crl_sign())
}

/// Step 3.
fn check_constraints(path: &[Arc<Certificate>]) -> Result<(), TrustError> {
    let Some(leaf) = path.first() else {
        return Ok(());
    };
    if let Some(ku) = key_usage(leaf)
        && !ku.digital_signature()
        && !ku.non_repudiation()
    {
        return Err(TrustError::KeyUsage {
            subject: leaf.subject(),
            needed: "digitalSignature or nonRepudiation",
        });
    }
    let last = path.len() - 1;
    for (i, ca) in path.iter().enumerate().skip(1) {
        let bc = ca
            .x509()
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .ok()
            .flatten()
            .map(|(_, b)| b);
        match bc {
            Some(b) if !b.ca => {
                return Err(TrustError::NotCa {
                    subject: ca.subject(),
                });
            }
            None if i != last => {
                return Err(TrustError::NotCa {
                    subject: ca.subject(),
                });
            }
            Some(BasicConstraints {
                path_len_constraint: Some(allowed),
                ..
            }) if i - 1 > usize::from(allowed) => {
                return Err(TrustError::PathLength {
                    subject: ca.subject(),
                    allowed,
                    found: i - 1,
                });
            }
            _ => {}
        }
        if key_usage(ca).is_some_and(|k| !k.key_cert_sign()) {
            return Err(TrustError::KeyUsage {
                subject: ca.subject(),
                needed: "keyCertSign",
            });
        }
    }
    Ok(())
}

impl fmt::Display for CrlPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CrlPolicy::Require => "require",
            CrlPolicy::AllowStale => "allow_stale",
            CrlPolicy::Skip => "skip",
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TrustLoadError> {
    std::fs::read(path).map_err(|source| TrustLoadError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The files `paths` name: each file itself, each directory's files with one of `extensions`
/// (sorted, not recursive).
fn files(paths: &[PathBuf], extensions: &[&str]) -> Result<Vec<PathBuf>, TrustLoadError> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let entries = std::fs::read_dir(path).map_err(|source| TrustLoadError::Read {
            path: path.clone(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
            })
            .collect();
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

/// Every certificate of a file: PEM with any number of `CERTIFICATE` blocks, DER or base64.
fn read_certificates(path: &Path) -> Result<Vec<Certificate>, TrustLoadError> {
    let bytes = read(path)?;
    let invalid = |detail: String| TrustLoadError::Invalid {
        path: path.to_owned(),
        detail,
    };
    let text = std::str::from_utf8(&bytes)
        .ok()
        .filter(|t| t.contains("-----BEGIN"));
    let Some(text) = text else {
        return Ok(vec![
            Certificate::from_pem_or_der(&bytes).map_err(|e| invalid(e.to_string()))?,
        ]);
    };
    let certificates = pem_blocks(text, "CERTIFICATE")
        .into_iter()
        .map(|b| Certificate::from_pem(b).map_err(|e| invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    if certificates.is_empty() {
        return Err(invalid("no `CERTIFICATE` block".into()));
    }
    Ok(certificates)
}

/// The `-----BEGIN <label>-----` … `-----END <label>-----` blocks of `text`, in order.
pub(crate) fn pem_blocks<'a>(text: &'a str, label: &str) -> Vec<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let Some(len) = rest[start..].find(&end) else {
            break;
        };
        let stop = start + len + end.len();
        out.push(&rest[start..stop]);
        rest = &rest[stop..];
    }
    out
}

impl TrustSettings {
    /// Fetch settings from seconds and bytes as the configuration gives them.
    pub fn fetch_settings(refresh_secs: u64, timeout_secs: u64, max_bytes: usize) -> FetchSettings {
        FetchSettings {
            refresh: Duration::from_secs(refresh_secs),
            timeout: Duration::from_secs(timeout_secs.max(1)),
            max_bytes,
        }
    }
}
