//! Forwarding to the federal GIS GMP: what is checked here before a request leaves the region
//! ([`Service::precheck`]), how the federal answer and the refusals made here become one answer
//! ([`Forwarded::merge`]), and what the ledger takes of it ([`Service::mirror`]).
//!
//! An import's entities are checked one by one as the module checks them when it answers itself
//! (UIN, payer identifier, requisites, amounts, УПНО, УИВ; the package's limits). The entities
//! refused here do not leave the region: the request goes up with the others only, under the
//! same `Id`s, and the answer lists every entity in the order of the request — the federal
//! `ImportProtocol` of those that went up, this module's of those refused here. A request all of
//! whose entities are refused here, or that is not a GIS GMP request this module serves, is
//! answered here and never sent. Other requests (exports, forced acknowledgement, charge
//! creation) go up as they came.

use time::OffsetDateTime;

use super::{Answer, Request, Service, changes_ledger, own, protocol_el, text};
use crate::doc::{El, Version};
use crate::entity::{EntityRefusal, check_charge, check_payment};
use crate::ledger::LedgerError;
use crate::refund::check_refund;
use crate::urn::Urn;

/// What to do with a request when forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precheck {
    /// Answered here; nothing goes up.
    Local(Answer),
    /// Send `Forwarded::request` upstream.
    Forward(Forwarded),
}

/// A request as it goes up, with what was refused here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The GIS GMP document sent upstream.
    pub request: String,
    /// The `ImportProtocol`s of the entities refused here.
    pub refused: Vec<El>,
    /// Every entity `Id` of the request, in its order (empty for a request without a package).
    pub order: Vec<String>,
}

/// The package element of each import, and the check of its entities.
fn package_of(local: &str) -> Option<&'static str> {
    match local {
        "ImportChargesRequest" => Some("ChargesPackage"),
        "ImportPaymentsRequest" => Some("PaymentsPackage"),
        "ImportRefundsRequest" => Some("RefundsPackage"),
        _ => None,
    }
}

/// The checks of one entity that need no ledger.
fn check_entity(entity: &El, sender: &str) -> Result<(), EntityRefusal> {
    match entity.local.as_str() {
        "ImportedCharge" => {
            let originator = entity.attr("originatorId").unwrap_or(sender);
            let urn = Urn::parse(originator).map_err(|e| Box::new(e) as EntityRefusal)?;
            check_charge(entity, &urn).map(drop)
        }
        // A change is checked against the charge it changes: upstream.
        "ImportedChange" => Ok(()),
        "ImportedPayment" => check_payment(entity).map(drop),
        "ImportedRefund" => check_refund(entity).map(drop),
        other => Err(own(
            111,
            text::BAD_CHANGE,
            format!("{other} is not an entity this import takes"),
        )),
    }
}

impl Service {
    /// Checks `xml` as the module would before answering it, without the ledger: an import's
    /// entities one by one (those refused stay here), any other request as a whole.
    pub fn precheck(&self, xml: &str, now: OffsetDateTime) -> Precheck {
        let el = match El::parse(xml) {
            Ok(el) => el,
            Err(e) => {
                return Precheck::Local(Answer::Rejected(format!(
                    "the request is not a GIS GMP document: {e}"
                )));
            }
        };
        let request = match Request::of(&el) {
            Ok(r) => r,
            Err(refused) => return Precheck::Local(refused),
        };
        let served = crate::module::SERVED
            .iter()
            .any(|(_, root)| el.local.strip_suffix("Request") == Some(root));
        if !served {
            return Precheck::Local(Answer::Rejected(format!(
                "{} is not served by this GIS GMP module",
                el.local
            )));
        }
        let Some(package_name) = package_of(&el.local) else {
            return Precheck::Forward(Forwarded {
                request: xml.to_owned(),
                refused: Vec::new(),
                order: Vec::new(),
            });
        };
        let (package, ids) = match super::package(&el, package_name) {
            Ok(p) => p,
            Err(refused) => return Precheck::Local(refused),
        };
        let mut refused = Vec::new();
        let mut kept = Vec::new();
        for (entity, id) in package.children.iter().zip(&ids) {
            match check_entity(entity, &request.sender) {
                Ok(()) => kept.push(entity.clone()),
                Err(e) => refused.push(protocol_el(request.version, id.clone(), Err(e))),
            }
        }
        let order: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
        if kept.is_empty() {
            let mut response = self.response(&request, now);
            response.children = refused;
            return Precheck::Local(Answer::Response(response));
        }
        let mut up = el.clone();
        if let Some(p) = up.children.iter_mut().find(|c| c.local == package_name) {
            p.children = kept;
        }
        Precheck::Forward(Forwarded {
            request: up.to_xml(),
            refused,
            order,
        })
    }

    /// Takes into the ledger what the federal GIS GMP accepted of `forwarded` (its answer
    /// `upstream`), as the message `message_id`: an import's entities it accepted, a forced
    /// acknowledgement it carried out. Charge creation is not mirrored (the federal GIS GMP
    /// issued the UIN); exports change nothing. What the ledger here refuses of it (a charge it
    /// never saw, say) is logged, not answered: the answer is the federal one.
    ///
    /// # Errors
    /// [`LedgerError`]: the ledger could not be written; the caller retries.
    pub async fn mirror(
        &self,
        forwarded: &str,
        upstream: &Answer,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError> {
        let Answer::Response(answer) = upstream else {
            return Ok(());
        };
        let Ok(mut el) = El::parse(forwarded) else {
            return Ok(());
        };
        if !changes_ledger(&el.local) || el.local == "ChargeCreationRequest" {
            return Ok(());
        }
        if let Some(package_name) = package_of(&el.local) {
            let accepted: Vec<&str> = answer
                .children_named("ImportProtocol")
                .filter(|p| p.attr("code") == Some("0"))
                .filter_map(|p| p.attr("entityID"))
                .collect();
            let Some(package) = el.children.iter_mut().find(|c| c.local == package_name) else {
                return Ok(());
            };
            package
                .children
                .retain(|e| e.attr("Id").is_some_and(|id| accepted.contains(&id)));
            if package.children.is_empty() {
                return Ok(());
            }
        }
        match self.answer(&el.to_xml(), message_id, now).await? {
            Answer::Response(local) => {
                let differing: Vec<String> = local
                    .children_named("ImportProtocol")
                    .filter(|p| p.attr("code") != Some("0"))
                    .map(|p| {
                        format!(
                            "{}: {}",
                            p.attr("entityID").unwrap_or("?"),
                            p.attr("code").unwrap_or("?")
                        )
                    })
                    .collect();
                if !differing.is_empty() {
                    tracing::warn!(
                        request = el.local,
                        entities = differing.join(", "),
                        "the ledger here did not take what the federal GIS GMP accepted"
                    );
                }
            }
            other => tracing::warn!(
                request = el.local,
                answer = ?other,
                "the ledger here did not take what the federal GIS GMP carried out"
            ),
        }
        Ok(())
    }
}

impl Forwarded {
    /// The answer to the original request: the federal answer with the entities refused here
    /// put back in the request's order.
    pub fn merge(&self, upstream: Answer, version: Version) -> Answer {
        let Answer::Response(mut response) = upstream else {
            return upstream;
        };
        if self.refused.is_empty() {
            return Answer::Response(response);
        }
        let position = |p: &El| {
            p.attr("entityID")
                .and_then(|id| self.order.iter().position(|o| o == id))
                .unwrap_or(usize::MAX)
        };
        let (mut protocols, others): (Vec<El>, Vec<El>) = std::mem::take(&mut response.children)
            .into_iter()
            .partition(|c| c.local == "ImportProtocol");
        protocols.extend(self.refused.iter().cloned().map(|mut p| {
            p.set_version(version);
            p
        }));
        protocols.sort_by_key(position);
        response.children = others;
        response.children.extend(protocols);
        Answer::Response(response)
    }
}

#[cfg(test)]
mod tests;
