//! Registries of the RSMEV node, as plain data: participants, information types (виды сведений),
//! electronic services and access rights.
//!
//! Architecture invariant: this crate does no IO and knows nothing of storage, XML or HTTP. The
//! store persists these types; the `rsmev` binary reads and writes them as TOML files an
//! integrator can review in git ([`RegistryFile`]); the broker consults them on intake.
//!
//! - [`Participant`]: a connected information system, identified by its [`Mnemonic`] and known
//!   by the certificates it signs with.
//! - [`InfoType`]: a вид сведений, identified by the [`QName`] of the business document's root
//!   element, with its kind, XSD set, provider and limits.
//! - [`Service`]: an electronic service of a provider, grouping the information types it serves.
//! - [`Grant`]: a consumer's right to send requests of one information type.
//! - [`Registry`]: all of them together, with [`Registry::validate`] checking references.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// A participant's mnemonic: its short unique name in the node (latin letters, digits, `_`, `-`;
/// 1 to 50 characters, as `MessageMetadata/Sender/Mnemonic` allows).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Mnemonic(String);

impl Mnemonic {
    /// # Errors
    /// [`RegistryError::InvalidMnemonic`] when `value` is empty, longer than 50 characters, or has
    /// characters other than ASCII letters, digits, `_` and `-`.
    pub fn new(value: impl Into<String>) -> Result<Mnemonic, RegistryError> {
        let value = value.into();
        let ok = !value.is_empty()
            && value.len() <= 50
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(Mnemonic(value))
        } else {
            Err(RegistryError::InvalidMnemonic { value })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Mnemonic {
    type Error = RegistryError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Mnemonic::new(value)
    }
}

impl From<Mnemonic> for String {
    fn from(m: Mnemonic) -> String {
        m.0
    }
}

impl fmt::Display for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A qualified XML name: what identifies an information type (the root element of the business
/// document under `MessagePrimaryContent`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct QName {
    pub namespace: String,
    pub local_name: String,
}

impl QName {
    pub fn new(namespace: impl Into<String>, local_name: impl Into<String>) -> QName {
        QName {
            namespace: namespace.into(),
            local_name: local_name.into(),
        }
    }
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}{}", self.namespace, self.local_name)
    }
}

/// Whether a participant may exchange messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ParticipantStatus {
    #[default]
    Active,
    /// Known, but every message it signs is refused as if it were not registered.
    Blocked,
}

/// A connected information system (участник взаимодействия, ИС УВ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub mnemonic: Mnemonic,
    /// Shown to recipients as `MessageMetadata/Sender/HumanReadableName`.
    pub name: String,
    /// The organisation that runs the system (name, OGRN/INN — free text).
    #[serde(default)]
    pub organisation: String,
    #[serde(default)]
    pub status: ParticipantStatus,
    /// PEM certificates whose keys sign this participant's messages. A message is attributed to
    /// the participant holding the certificate it was signed with.
    #[serde(default)]
    pub certificates: Vec<String>,
}

/// What an information type's messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InfoTypeKind {
    /// A request, delivered to the provider's incoming request queue.
    Request,
    /// A response, sent with SendResponse and routed back by `ReplyTo`.
    Response,
    /// A request delivered to every consumer granted the type; no response is expected.
    Broadcast,
}

impl InfoTypeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InfoTypeKind::Request => "request",
            InfoTypeKind::Response => "response",
            InfoTypeKind::Broadcast => "broadcast",
        }
    }
}

/// An information type (вид сведений).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoType {
    #[serde(flatten)]
    pub qname: QName,
    /// The version of the type as registered (free text, e.g. `1.0.2`).
    #[serde(default)]
    pub version: String,
    pub kind: InfoTypeKind,
    /// For requests: the participant serving them. For broadcasts: the sender. For responses:
    /// the participant that answers with them.
    pub provider: Mnemonic,
    /// Name of the XSD set (a folder of `.xsd` files) the business document is validated against;
    /// `None` means no format control for this type.
    #[serde(default)]
    pub xsd: Option<String>,
    /// Whether requests of this type must carry a `TransactionCode`.
    #[serde(default)]
    pub transaction_code_required: bool,
    /// Largest accepted business document, in bytes; `None` means the node's default.
    #[serde(default)]
    pub max_size: Option<u64>,
    #[serde(default)]
    pub description: String,
    /// Served by the federal SMEV 3: requests of this type pass every local check and are then
    /// sent upstream by the federal link (`adapters/smev3`), whose participant is the `provider`.
    #[serde(default)]
    pub federal: bool,
}

/// An electronic service: the information types a provider serves, under one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Unique code of the service (e.g. `fns-inn`).
    pub code: String,
    pub provider: Mnemonic,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub infotypes: Vec<QName>,
}

/// A consumer's right to send requests of an information type (or to receive a broadcast type).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub consumer: Mnemonic,
    #[serde(flatten)]
    pub infotype: QName,
}

/// Why a registration is refused. Messages are written for the integrator who made it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("`{value}` is not a valid mnemonic: use 1-50 ASCII letters, digits, `_` or `-`")]
    InvalidMnemonic { value: String },
    #[error("participant `{mnemonic}` is registered twice")]
    DuplicateParticipant { mnemonic: Mnemonic },
    #[error("information type {qname} is registered twice")]
    DuplicateInfoType { qname: QName },
    #[error("service `{code}` is registered twice")]
    DuplicateService { code: String },
    #[error("{what} names participant `{mnemonic}`, which is not registered")]
    UnknownParticipant { what: String, mnemonic: Mnemonic },
    #[error("{what} names information type {qname}, which is not registered")]
    UnknownInfoType { what: String, qname: QName },
    #[error("information type {qname}: {problem}")]
    InvalidInfoType { qname: QName, problem: String },
    #[error("service `{code}` lists {qname}, which is provided by `{actual}`, not by `{provider}`")]
    ServiceProviderMismatch {
        code: String,
        qname: QName,
        provider: Mnemonic,
        actual: Mnemonic,
    },
    #[error("a certificate is registered to both `{first}` and `{second}`")]
    SharedCertificate { first: Mnemonic, second: Mnemonic },
}

/// The whole registry. Kept sorted so exports are stable and diff well in git.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    #[serde(default, rename = "participant")]
    pub participants: Vec<Participant>,
    #[serde(default, rename = "infotype")]
    pub infotypes: Vec<InfoType>,
    #[serde(default, rename = "service")]
    pub services: Vec<Service>,
    #[serde(default, rename = "grant")]
    pub grants: Vec<Grant>,
}

/// The registry file format (TOML) is exactly [`Registry`]; XSD sets live beside it in
/// folders named by [`InfoType::xsd`].
pub type RegistryFile = Registry;

impl Registry {
    pub fn participant(&self, m: &Mnemonic) -> Option<&Participant> {
        self.participants.iter().find(|p| &p.mnemonic == m)
    }

    pub fn infotype(&self, q: &QName) -> Option<&InfoType> {
        self.infotypes.iter().find(|t| &t.qname == q)
    }

    /// Sorts every list by its key, for stable exports.
    pub fn normalize(&mut self) {
        self.participants.sort_by(|a, b| a.mnemonic.cmp(&b.mnemonic));
        self.infotypes.sort_by(|a, b| a.qname.cmp(&b.qname));
        self.services.sort_by(|a, b| a.code.cmp(&b.code));
        for s in &mut self.services {
            s.infotypes.sort();
        }
        self.grants.sort();
        self.grants.dedup();
    }

    /// Why `g` cannot stand in this registry: an unknown consumer or information type, or a
    /// response type (access is granted to request and broadcast types; responses go back to
    /// whoever asked). Empty when the grant is fine.
    pub fn grant_problems(&self, g: &Grant) -> Vec<RegistryError> {
        let mut errors = Vec::new();
        if self.participant(&g.consumer).is_none() {
            errors.push(RegistryError::UnknownParticipant {
                what: format!("a grant of {}", g.infotype),
                mnemonic: g.consumer.clone(),
            });
        }
        match self.infotype(&g.infotype) {
            None => errors.push(RegistryError::UnknownInfoType {
                what: format!("the grant to `{}`", g.consumer),
                qname: g.infotype.clone(),
            }),
            Some(t) if t.kind == InfoTypeKind::Response => errors.push(RegistryError::InvalidInfoType {
                qname: g.infotype.clone(),
                problem: format!(
                    "is a response type and cannot be granted to `{}`: grant the request type it answers",
                    g.consumer
                ),
            }),
            Some(_) => {}
        }
        errors
    }

    /// Every problem with the registry as a whole: duplicates, references to unknown
    /// participants or information types, services listing types of another provider,
    /// a certificate shared by two participants. Empty when the registry is consistent.
    /// (Whether an XSD set compiles is checked by the broker, which owns the XSD engine.)
    pub fn validate(&self) -> Vec<RegistryError> {
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        for p in &self.participants {
            if !seen.insert(&p.mnemonic) {
                errors.push(RegistryError::DuplicateParticipant {
                    mnemonic: p.mnemonic.clone(),
                });
            }
        }
        let mut seen_types = BTreeSet::new();
        for t in &self.infotypes {
            if !seen_types.insert(&t.qname) {
                errors.push(RegistryError::DuplicateInfoType {
                    qname: t.qname.clone(),
                });
            }
            if t.qname.namespace.is_empty() || t.qname.local_name.is_empty() {
                errors.push(RegistryError::InvalidInfoType {
                    qname: t.qname.clone(),
                    problem: "namespace URI and root element local name are both required".into(),
                });
            }
            if self.participant(&t.provider).is_none() {
                errors.push(RegistryError::UnknownParticipant {
                    what: format!("information type {}", t.qname),
                    mnemonic: t.provider.clone(),
                });
            }
        }
        let mut seen_services = BTreeSet::new();
        for s in &self.services {
            if !seen_services.insert(&s.code) {
                errors.push(RegistryError::DuplicateService { code: s.code.clone() });
            }
            if self.participant(&s.provider).is_none() {
                errors.push(RegistryError::UnknownParticipant {
                    what: format!("service `{}`", s.code),
                    mnemonic: s.provider.clone(),
                });
            }
            for q in &s.infotypes {
                match self.infotype(q) {
                    None => errors.push(RegistryError::UnknownInfoType {
                        what: format!("service `{}`", s.code),
                        qname: q.clone(),
                    }),
                    Some(t) if t.provider != s.provider => {
                        errors.push(RegistryError::ServiceProviderMismatch {
                            code: s.code.clone(),
                            qname: q.clone(),
                            provider: s.provider.clone(),
                            actual: t.provider.clone(),
                        })
                    }
                    Some(_) => {}
                }
            }
        }
        for g in &self.grants {
            errors.extend(self.grant_problems(g));
        }
        let mut owners: Vec<(String, &Mnemonic)> = Vec::new();
        for p in &self.participants {
            for c in &p.certificates {
                let key: String = c.split_whitespace().collect();
                if let Some((_, first)) = owners.iter().find(|(k, m)| *k == key && *m != &p.mnemonic) {
                    errors.push(RegistryError::SharedCertificate {
                        first: (*first).clone(),
                        second: p.mnemonic.clone(),
                    });
                } else {
                    owners.push((key, &p.mnemonic));
                }
            }
        }
        errors
    }
}
