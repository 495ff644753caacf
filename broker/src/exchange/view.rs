//! A read-optimized snapshot of the registry for intake: who signed, what a QName is, who may
//! send it, who receives a broadcast.

use std::collections::{HashMap, HashSet};

use rsmev_registry::{InfoType, Mnemonic, Participant, ParticipantStatus, QName, Registry};

use crate::dsig::Certificate;

/// The registry as intake consults it. Built once per registry version.
#[derive(Debug, Default)]
pub struct RegistryView {
    pub version: i64,
    participants: HashMap<Mnemonic, Participant>,
    /// SHA-256 of a certificate's DER → its participant.
    by_certificate: HashMap<[u8; 32], Mnemonic>,
    infotypes: HashMap<QName, InfoType>,
    grants: HashSet<(Mnemonic, QName)>,
    consumers: HashMap<QName, Vec<Mnemonic>>,
    /// Certificates in the registry that could not be read, with why (reported, not fatal).
    pub unreadable_certificates: Vec<(Mnemonic, String)>,
}

impl RegistryView {
    pub fn new(registry: Registry, version: i64) -> RegistryView {
        let mut view = RegistryView {
            version,
            ..RegistryView::default()
        };
        for p in registry.participants {
            for pem in &p.certificates {
                match Certificate::from_pem_or_der(pem.as_bytes()) {
                    Ok(c) => {
                        view.by_certificate
                            .insert(fingerprint(c.der()), p.mnemonic.clone());
                    }
                    Err(e) => view
                        .unreadable_certificates
                        .push((p.mnemonic.clone(), e.to_string())),
                }
            }
            view.participants.insert(p.mnemonic.clone(), p);
        }
        for t in registry.infotypes {
            view.infotypes.insert(t.qname.clone(), t);
        }
        for g in registry.grants {
            view.consumers
                .entry(g.infotype.clone())
                .or_default()
                .push(g.consumer.clone());
            view.grants.insert((g.consumer, g.infotype));
        }
        for list in view.consumers.values_mut() {
            list.sort();
            list.dedup();
        }
        view
    }

    /// The active participant whose registered certificate is `der`.
    pub fn participant_by_certificate(&self, der: &[u8]) -> Option<&Participant> {
        let m = self.by_certificate.get(&fingerprint(der))?;
        self.participants.get(m)
    }

    pub fn participant(&self, m: &Mnemonic) -> Option<&Participant> {
        self.participants.get(m)
    }

    /// Every participant, in no particular order.
    pub fn participants(&self) -> impl Iterator<Item = &Participant> {
        self.participants.values()
    }

    pub fn is_active(&self, m: &Mnemonic) -> bool {
        self.participants
            .get(m)
            .is_some_and(|p| p.status == ParticipantStatus::Active)
    }

    pub fn infotype(&self, q: &QName) -> Option<&InfoType> {
        self.infotypes.get(q)
    }

    pub fn granted(&self, consumer: &Mnemonic, q: &QName) -> bool {
        self.grants.contains(&(consumer.clone(), q.clone()))
    }

    /// Participants granted the type (the recipients of a broadcast).
    pub fn consumers(&self, q: &QName) -> &[Mnemonic] {
        self.consumers.get(q).map_or(&[], Vec::as_slice)
    }
}

pub(super) fn fingerprint(der: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}
