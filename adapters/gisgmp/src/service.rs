//! The GIS GMP services answered from the module's own ledger: what the federal GIS GMP does with
//! a request, done here — for the region when no upstream is configured, and as the emulator
//! (`rsmev gisgmp emulate`) that integrators and tests talk to.
//!
//! [`Service::answer`] takes the business document of a request (`MessagePrimaryContent`) and
//! returns the business document of its response, or a refusal of the whole request:
//!
//! - `ImportChargesRequest`: new charges (checked as [`crate::entity::check_charge`] says; a UIN
//!   already in the ledger is code 5, never a second charge) and changes — 2 уточнение (fields
//!   by their «Поле номер» numbers, `NULL` deleting an optional one; code 111 for a field that
//!   cannot be changed; the changed charge checked again), 3 аннулирование, 4 деаннулирование
//!   (code 7 when the charge is not there, belongs to another administrator, or is not in the
//!   state the change needs). One `ImportProtocol` per entity.
//! - `ImportPaymentsRequest`: new payments (code 5 for an УПНО already there), each reconciled
//!   at once with the charge its UIN names.
//! - `ExportChargesRequest`, `ExportPaymentsRequest`, `ExportQuittancesRequest`: the kinds and
//!   conditions listed in [`charge_query`], [`payment_query`] and `Service::export_quittances`, with
//!   `Paging` (100 by default) and `hasMore`.
//! - `ForcedAcknowledgementRequest`: `Reconcile` (quittances 5, 4 or 6), `AnnulmentReconcile`,
//!   `ServiceProvided` and `AnnulmentServiceProvided` (`Done`), refused with GIS GMP's statuses.
//! - `ImportRefundsRequest` and `ExportRefundsRequest`: refunds kept with their
//!   payment, taken off it in reconciliation and listed in its quittance.
//! - `ExportNoticeRequest`: GIS GMP's pushes by subscription, kept; their payments go into the
//!   ledger; answered with `ExportNoticeConfirmation`.
//! - `ChargeCreationRequest`: a charge formed by GIS GMP itself (`origin="TEMP"`), its 25-digit UIN
//!   issued from the sequence of the module's URN.
//!
//! Whole-request refusals are [`Answer::Status`] (a `RequestStatus` code and text, as GIS GMP
//! answers) or [`Answer::Rejected`] for what is not a GIS GMP request this module serves.

use std::borrow::Cow;

use time::OffsetDateTime;

use crate::doc::{El, Version};
use crate::entity::{
    ChargeFacts, EntityRefusal, check_charge, check_payment, moscow, parse_date_time, write_date_time,
};
use crate::issue::UinPrefix;
use crate::ledger::{
    AnnulmentOp, Batch, ChargeChange, ChargeQuery, ChargeRecord, FirstMessage, ForcedReconcileOp, Ledger,
    LedgerError, Meaning, Operation, Page, PaymentQuery, PaymentRecord, QuittanceRecord, ReconcileRefusal,
    moment_key,
};
use crate::package::{EntityId, check_package};
use crate::protocol::{Code, ImportProtocol, Refusal};
use crate::reconcile::Quittance;
use crate::urn::Urn;

/// What the module answers a request with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The response document.
    Response(El),
    /// The whole request refused with a `RequestStatus`.
    Status { code: u16, description: String },
    /// Not a request this module serves, or one it cannot read.
    Rejected(String),
}

/// Whether a request of root `local` changes the ledger (the imports, ForcedAcknowledgement,
/// ChargeCreation, the notices of ExportNotice); the exports only read it.
pub fn changes_ledger(local: &str) -> bool {
    !local.starts_with("Export") || local == "ExportNoticeRequest"
}

/// Texts of the codes the module reports that the crate's checks do not.
pub mod text {
    /// 5: the entity is already in GIS GMP (this wording is the node's; GIS GMP's own text was
    /// not available).
    pub const DUPLICATE: &str = "Извещение с указанным идентификатором уже загружено в ГИС ГМП";
    /// 7: the charge to change is not there, or not in the state the change needs (the node's
    /// wording).
    pub const NO_ORIGINAL: &str =
        "Не найдено исходное извещение, либо изменение недопустимо для его текущего статуса";
    /// 111: a change names a field that cannot be changed, or a value it cannot take (the node's
    /// wording).
    pub const BAD_CHANGE: &str = "Некорректный номер изменяемого поля или его значение";
    /// 324: the payment is already marked «услуга предоставлена» (the node's wording).
    pub const SERVICE_ALREADY: &str = "Для платежа уже установлен признак «Услуга предоставлена»";
    /// 328: the payment has no such mark to annul (the node's wording).
    pub const SERVICE_NONE: &str = "Для платежа отсутствует признак «Услуга предоставлена»";
    /// 40: a refund of more than its payment has left (the node's wording; the formats give no
    /// code of their own for it, and 40 is GIS GMP's code for a wrong amount).
    pub const REFUND_EXCEEDS: &str =
        "Сумма возврата превышает сумму платежа за вычетом ранее возвращенных сумм";
}

/// A refusal with a code and text of this module's own.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{english}")]
struct Own {
    code: Code,
    text: &'static str,
    english: String,
}

impl Refusal for Own {
    fn code(&self) -> Code {
        self.code
    }

    fn description_ru(&self) -> Cow<'static, str> {
        self.text.into()
    }
}

fn own(code: u16, text: &'static str, english: impl Into<String>) -> EntityRefusal {
    Box::new(Own {
        code: Code::Protocol(code),
        text,
        english: english.into(),
    })
}

/// The GIS GMP services over a [`Ledger`]. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Service {
    ledger: Ledger,
    /// The URN this GIS GMP answers as, and issues ChargeCreation UINs under.
    urn: Urn,
}

/// The common attributes of a request (`com:RequestType`).
struct Request<'a> {
    el: &'a El,
    version: Version,
    service_ns: String,
    id: String,
    sender: String,
}

impl<'a> Request<'a> {
    /// The common attributes of `el`, or the refusal of a document that is not a GIS GMP
    /// service request.
    fn of(el: &'a El) -> Result<Request<'a>, Answer> {
        let Some((version, true, _)) = Version::of_namespace(&el.ns) else {
            return Err(Answer::Rejected(format!(
                "`{}` in `{}` is not a GIS GMP service request of version 2.4.0 or 2.5.1",
                el.local, el.ns
            )));
        };
        let (Some(id), Some(sender)) = (el.attr("Id"), el.attr("senderIdentifier")) else {
            return Err(Answer::Rejected(format!(
                "{} has no Id or senderIdentifier",
                el.local
            )));
        };
        Ok(Request {
            el,
            version,
            service_ns: el.ns.clone(),
            id: id.to_owned(),
            sender: sender.to_owned(),
        })
    }
}

impl Service {
    pub fn new(ledger: Ledger, urn: Urn) -> Service {
        Service { ledger, urn }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Answers the request `xml` that came in the SMEV message `message_id`, now.
    ///
    /// # Errors
    /// [`LedgerError`] when the ledger cannot be read or written: the request is not answered
    /// and should be retried.
    pub async fn answer(
        &self,
        xml: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let el = match El::parse(xml) {
            Ok(el) => el,
            Err(e) => {
                return Ok(Answer::Rejected(format!(
                    "the request is not a GIS GMP document: {e}"
                )));
            }
        };
        if el.local == "ExportNoticeRequest"
            && let Some((version, true, _)) = Version::of_namespace(&el.ns)
        {
            // A push from GIS GMP: no sender of its own, a destination instead.
            return self.export_notice(&el, version, message_id, now).await;
        }
        let request = match Request::of(&el) {
            Ok(r) => r,
            Err(refused) => return Ok(refused),
        };
        match el.local.as_str() {
            "ImportChargesRequest" => self.import_charges(&request, message_id, now).await,
            "ImportPaymentsRequest" => self.import_payments(&request, message_id, now).await,
            "ExportChargesRequest" => self.export_charges(&request, now).await,
            "ExportPaymentsRequest" => self.export_payments(&request, now).await,
            "ExportQuittancesRequest" => self.export_quittances(&request, now).await,
            "ForcedAcknowledgementRequest" => self.forced(&request, message_id, now).await,
            "ChargeCreationRequest" => self.charge_creation(&request, message_id, now).await,
            "ImportRefundsRequest" => self.import_refunds(&request, message_id, now).await,
            "ExportRefundsRequest" => self.export_refunds(&request, now).await,
            other => Ok(Answer::Rejected(format!(
                "{other} is not served by this GIS GMP module"
            ))),
        }
    }

    /// The response's root: `…Response` in the request's namespace, with `Id`, `RqId`,
    /// `recipientIdentifier` and `timestamp`.
    fn response(&self, request: &Request<'_>, now: OffsetDateTime) -> El {
        let local = request.el.local.strip_suffix("Request").map_or_else(
            || format!("{}Response", request.el.local),
            |base| format!("{base}Response"),
        );
        El::new(request.service_ns.clone(), local)
            .with("Id", format!("I_{}", uuid::Uuid::new_v4()))
            .with("RqId", request.id.clone())
            .with("recipientIdentifier", request.sender.clone())
            .with("timestamp", write_date_time(now))
    }

    async fn import_charges(
        &self,
        request: &Request<'_>,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let (package, ids) = match package(request.el, "ChargesPackage") {
            Ok(p) => p,
            Err(refused) => return Ok(refused),
        };
        let mut response = self.response(request, now);
        // The package's writes commit together.
        let mut batch = self.ledger.batch().await?;
        for (entity, id) in package.children.iter().zip(ids) {
            let originator = entity.attr("originatorId").unwrap_or(&request.sender).to_owned();
            let outcome = match entity.local.as_str() {
                "ImportedCharge" => {
                    self.new_charge(&mut batch, entity, &originator, message_id, now)
                        .await?
                }
                "ImportedChange" => {
                    self.change_charge(&mut batch, entity, &originator, message_id, now)
                        .await?
                }
                other => Err(own(
                    111,
                    text::BAD_CHANGE,
                    format!("{other} is not a charge or a change"),
                )),
            };
            response.children.push(protocol_el(request.version, id, outcome));
        }
        batch.commit().await?;
        Ok(Answer::Response(response))
    }

    async fn new_charge(
        &self,
        batch: &mut Batch,
        entity: &El,
        originator: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Result<(), EntityRefusal>, LedgerError> {
        let urn = match Urn::parse(originator) {
            Ok(u) => u,
            Err(e) => return Ok(Err(Box::new(e))),
        };
        let facts = match check_charge(entity, &urn) {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let document = stored_charge(entity);
        if self
            .ledger
            .insert_charge_in(batch, &document, &facts, urn.as_str(), message_id, now)
            .await?
            || self
                .ledger
                .first_message_in(batch, FirstMessage::Charge(facts.uin.as_str()))
                .await?
                .as_deref()
                == Some(message_id)
        {
            // New, or taken from this very message before (it is being answered again): the
            // same answer.
            Ok(Ok(()))
        } else {
            Ok(Err(own(
                5,
                text::DUPLICATE,
                format!("charge {} is already in the ledger", facts.uin.as_str()),
            )))
        }
    }

    async fn change_charge(
        &self,
        batch: &mut Batch,
        entity: &El,
        originator: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Result<(), EntityRefusal>, LedgerError> {
        let uin = entity
            .child("SupplierBillId")
            .or_else(|| entity.child("SupplierBillID"))
            .map(|e| e.text.trim().to_owned())
            .unwrap_or_default();
        let no_original = |why: String| Ok(Err(own(7, text::NO_ORIGINAL, why)));
        let Some(charge) = self.ledger.charge_in(batch, &uin).await? else {
            return no_original(format!("no charge {uin}"));
        };
        if !charge.administrator.eq_ignore_ascii_case(originator) {
            return no_original(format!("charge {uin} belongs to {}", charge.administrator));
        }
        let status = entity.child("ChangeStatus");
        let meaning = status
            .and_then(|s| s.child("Meaning"))
            .and_then(|m| m.text.trim().parse::<i64>().ok())
            .and_then(Meaning::from_code);
        let reason = status
            .and_then(|s| s.child("Reason"))
            .map(|r| r.text.trim().to_owned())
            .unwrap_or_default();
        let change_date = status
            .and_then(|s| s.child("ChangeDate"))
            .map(|r| r.text.trim().to_owned())
            .unwrap_or_default();
        let annulled = charge.meaning == Meaning::Annulled;
        let mut document = charge.document.clone();
        match meaning {
            Some(Meaning::Clarified) if !annulled => {
                for change in entity.children_named("Change") {
                    if let Err(why) = apply_change(&mut document, change) {
                        return Ok(Err(own(111, text::BAD_CHANGE, why)));
                    }
                }
            }
            Some(Meaning::Annulled) if !annulled => {}
            Some(Meaning::Restored) if annulled => {}
            Some(m) => {
                return no_original(format!(
                    "charge {uin} is {:?}; change {:?} does not apply",
                    charge.meaning, m
                ));
            }
            None => {
                return Ok(Err(own(
                    111,
                    text::BAD_CHANGE,
                    "ChangeStatus/Meaning is not 2, 3 or 4",
                )));
            }
        }
        let urn = match Urn::parse(&charge.administrator) {
            Ok(u) => u,
            Err(e) => return Ok(Err(Box::new(e))),
        };
        let facts: ChargeFacts = match check_charge(&document, &urn) {
            Ok(f) if f.uin.as_str() == uin => f,
            Ok(_) => {
                return Ok(Err(own(
                    111,
                    text::BAD_CHANGE,
                    "the UIN itself cannot be changed",
                )));
            }
            Err(e) => return Ok(Err(e)),
        };
        let meaning = meaning.unwrap_or(Meaning::Clarified);
        self.ledger
            .change_charge_in(
                batch,
                &document,
                &facts,
                &ChargeChange {
                    meaning,
                    reason,
                    change_date,
                },
                message_id,
                now,
            )
            .await?;
        Ok(Ok(()))
    }

    async fn import_payments(
        &self,
        request: &Request<'_>,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let (package, ids) = match package(request.el, "PaymentsPackage") {
            Ok(p) => p,
            Err(refused) => return Ok(refused),
        };
        let mut response = self.response(request, now);
        // The package's writes commit together.
        let mut batch = self.ledger.batch().await?;
        for (entity, id) in package.children.iter().zip(ids) {
            let acceptor = entity.attr("originatorId").unwrap_or(&request.sender).to_owned();
            let outcome = if entity.local == "ImportedPayment" {
                match check_payment(entity) {
                    Err(e) => Err(e),
                    Ok(facts) => {
                        let document = stored_entity(entity, "Payment");
                        if self
                            .ledger
                            .insert_payment_in(&mut batch, &document, &facts, &acceptor, message_id, now)
                            .await?
                            || self
                                .ledger
                                .first_message_in(
                                    &mut batch,
                                    FirstMessage::Payment(facts.payment_id.as_str()),
                                )
                                .await?
                                .as_deref()
                                == Some(message_id)
                        {
                            // New, or taken from this very message before (it is being
                            // answered again): the same answer.
                            Ok(())
                        } else {
                            Err(own(
                                5,
                                text::DUPLICATE,
                                format!("payment {} is already in the ledger", facts.payment_id.as_str()),
                            ))
                        }
                    }
                }
            } else {
                Err(own(
                    111,
                    text::BAD_CHANGE,
                    "changes of payments are not taken by this module yet",
                ))
            };
            response.children.push(protocol_el(request.version, id, outcome));
        }
        batch.commit().await?;
        Ok(Answer::Response(response))
    }

    async fn export_charges(
        &self,
        request: &Request<'_>,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let query = match export_query(request, "ChargesExportConditions", charge_query) {
            Ok(q) => q,
            Err(refused) => return Ok(refused),
        };
        let (charges, more) = self.ledger.charges(&query, paging(request.el)).await?;
        let mut response = self.response(request, now).with("hasMore", more.to_string());
        for charge in charges {
            response
                .children
                .push(charge_info(&charge, &request.service_ns, request.version));
        }
        Ok(Answer::Response(response))
    }

    async fn export_payments(
        &self,
        request: &Request<'_>,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let query = match export_query(request, "PaymentsExportConditions", payment_query) {
            Ok(q) => q,
            Err(refused) => return Ok(refused),
        };
        let (payments, more) = self.ledger.payments(&query, paging(request.el)).await?;
        let mut response = self.response(request, now).with("hasMore", more.to_string());
        for payment in payments {
            response
                .children
                .push(payment_info(&payment, &request.service_ns, request.version));
        }
        Ok(Answer::Response(response))
    }

    async fn export_quittances(
        &self,
        request: &Request<'_>,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let Some(conditions) = request.el.child("QuittancesExportConditions") else {
            return Ok(Answer::Rejected(
                "ExportQuittancesRequest has no QuittancesExportConditions".into(),
            ));
        };
        let all = match conditions.attr("kind") {
            Some("QUITTANCE") => false,
            Some("ALLQUITTANCE") => true,
            other => {
                return Ok(Answer::Rejected(format!(
                    "quittance export kind {} is not served (QUITTANCE, ALLQUITTANCE are)",
                    other.unwrap_or("(none)")
                )));
            }
        };
        let mut query = match common_conditions(conditions) {
            Ok(q) => q,
            Err(why) => return Ok(Answer::Rejected(why)),
        };
        query.include_annulled = all;
        let page = paging(request.el);
        let (charges, more) = self.ledger.charges(&query, page).await?;
        let uins: Vec<String> = charges.iter().map(|c| c.uin.clone()).collect();
        let quittances = if uins.is_empty() {
            Vec::new()
        } else {
            self.ledger.quittances(&uins).await?
        };
        let paid: Vec<String> = quittances
            .iter()
            .filter(|q| q.settlement_payment() != "PaymentNotLoaded")
            .map(|q| q.settlement.clone())
            .collect();
        let refunds = self.ledger.refunds_of(&paid).await?;
        let mut response = self.response(request, now).with("hasMore", more.to_string());
        for charge in &charges {
            let own: Vec<&QuittanceRecord> = quittances.iter().filter(|q| q.uin == charge.uin).collect();
            let shown: Vec<&QuittanceRecord> = if all {
                own
            } else {
                own.into_iter().rev().find(|q| !q.revoked).into_iter().collect()
            };
            for q in shown {
                let mut el = quittance_el(q, &request.service_ns, request.version);
                el.children.extend(
                    refunds
                        .iter()
                        .filter(|r| r.payment_id == q.settlement_payment())
                        .take(20)
                        .map(|r| refunds::quittance_refund(r, request.version)),
                );
                response.children.push(el);
            }
        }
        Ok(Answer::Response(response))
    }

    async fn forced(
        &self,
        request: &Request<'_>,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let Some(block) = request.el.children.first() else {
            return Ok(Answer::Rejected("ForcedAcknowledgementRequest is empty".into()));
        };
        let uin = block
            .attr("supplierBillId")
            .or_else(|| block.attr("supplierBillID"))
            .unwrap_or("")
            .to_owned();
        let payment_ids = |el: &El| -> Vec<String> {
            el.children_named("PaymentId")
                .map(|p| p.text.trim().to_owned())
                .collect()
        };
        let done = || {
            self.response(request, now)
                .child_el(El::new(request.service_ns.clone(), "Done").with_text("true"))
        };
        match block.local.as_str() {
            "Reconcile" => {
                let op = if let Some(not_loaded) = block.child("PaymentNotLoaded") {
                    match not_loaded.attr("amountReconcile") {
                        None => ForcedReconcileOp::WithoutPayment,
                        Some(amount) => {
                            let Ok(amount) = amount.parse::<u64>() else {
                                return Ok(Answer::Rejected(format!(
                                    "amountReconcile `{amount}` is not kopecks"
                                )));
                            };
                            let Ok(urn) = Urn::parse(&request.sender) else {
                                return Ok(Answer::Rejected("senderIdentifier is not a URN".into()));
                            };
                            let Some(id) = self.ledger.new_reconcile_id(&uin, &urn, now).await? else {
                                return Ok(Answer::Rejected("no reconcileID can be formed now".into()));
                            };
                            ForcedReconcileOp::ForAmount {
                                amount,
                                reconcile_id: id.as_str().to_owned(),
                            }
                        }
                    }
                } else {
                    let ids = payment_ids(block);
                    if ids.is_empty() {
                        return Ok(Answer::Rejected(
                            "Reconcile names no PaymentId and no PaymentNotLoaded".into(),
                        ));
                    }
                    ForcedReconcileOp::WithPayments(ids)
                };
                if let Some(refused) = self.owned_charge(&uin, &request.sender).await? {
                    return Ok(refused);
                }
                match self
                    .ledger
                    .reconcile(&uin, Operation::Force(op), message_id, now)
                    .await?
                {
                    Ok(quittances) => {
                        let mut response = self.response(request, now);
                        for q in quittances {
                            response.children.push(forced_quittance(
                                &q,
                                now,
                                &request.service_ns,
                                request.version,
                            ));
                        }
                        Ok(Answer::Response(response))
                    }
                    Err(refusal) => Ok(status_of(&refusal)),
                }
            }
            "AnnulmentReconcile" => {
                let op = if let Some(not_loaded) = block.child("PaymentNotLoaded") {
                    match not_loaded.attr("reconcileID") {
                        None => AnnulmentOp::WithoutPayment,
                        Some(id) => AnnulmentOp::ForAmount(id.to_owned()),
                    }
                } else {
                    let ids = payment_ids(block);
                    if ids.is_empty() {
                        return Ok(Answer::Rejected(
                            "AnnulmentReconcile names no PaymentId and no PaymentNotLoaded".into(),
                        ));
                    }
                    AnnulmentOp::Payments(ids)
                };
                if let Some(refused) = self.owned_charge(&uin, &request.sender).await? {
                    return Ok(refused);
                }
                match self
                    .ledger
                    .reconcile(&uin, Operation::Annul(op), message_id, now)
                    .await?
                {
                    Ok(_) => Ok(Answer::Response(done())),
                    Err(refusal) => Ok(status_of(&refusal)),
                }
            }
            "ServiceProvided" | "AnnulmentServiceProvided" => {
                let provided = block.local == "ServiceProvided";
                let ids: Vec<String> = block
                    .children
                    .iter()
                    .filter_map(|c| c.attr("paymentId").map(str::to_owned))
                    .collect();
                if ids.is_empty() {
                    return Ok(Answer::Rejected(format!(
                        "{} names no payment (paymentId)",
                        block.local
                    )));
                }
                // All or nothing: every payment is checked before any is marked.
                for id in &ids {
                    match self.ledger.payment(id).await? {
                        None => return Ok(payment_not_found(id)),
                        Some(p) if p.meaning == Meaning::Annulled => return Ok(payment_not_found(id)),
                        Some(p) if p.service_provided == provided => {
                            let (code, text) = if provided {
                                (324, text::SERVICE_ALREADY)
                            } else {
                                (328, text::SERVICE_NONE)
                            };
                            return Ok(Answer::Status {
                                code,
                                description: text.into(),
                            });
                        }
                        Some(_) => {}
                    }
                }
                for id in &ids {
                    self.ledger.set_service_provided(id, provided, now).await?;
                }
                Ok(Answer::Response(done()))
            }
            other => Ok(Answer::Rejected(format!(
                "{other} is not a ForcedAcknowledgement operation"
            ))),
        }
    }

    /// A refusal when the charge is not the sender's active one (status 7, the node's wording).
    async fn owned_charge(&self, uin: &str, sender: &str) -> Result<Option<Answer>, LedgerError> {
        Ok(match self.ledger.charge(uin).await? {
            Some(c) if c.meaning != Meaning::Annulled && c.administrator.eq_ignore_ascii_case(sender) => None,
            _ => Some(Answer::Status {
                code: 7,
                description: text::NO_ORIGINAL.into(),
            }),
        })
    }

    async fn charge_creation(
        &self,
        request: &Request<'_>,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Answer, LedgerError> {
        let Some(template) = request.el.child("ChargeTemplate") else {
            return Ok(Answer::Rejected(
                "ChargeCreationRequest has no ChargeTemplate".into(),
            ));
        };
        let prefix = UinPrefix::Urn(self.urn.clone());
        let uin = match crate::sequence::next_uins(self.ledger.database(), &prefix, 1).await {
            Ok(mut uins) if !uins.is_empty() => uins.remove(0),
            Ok(_) => return Ok(Answer::Rejected("no UIN was issued".into())),
            Err(crate::sequence::SequenceError::Store(e)) => return Err(LedgerError::Store(e)),
            Err(e) => return Ok(Answer::Rejected(e.to_string())),
        };
        let mut charge = template.clone();
        charge.local = "Charge".into();
        charge.ns = request.service_ns.clone();
        charge
            .attrs
            .insert(0, ("supplierBillID".into(), uin.as_str().to_owned()));
        charge.set("origin", "TEMP");
        let facts = match check_charge(&charge, &self.urn) {
            Ok(f) => f,
            Err(e) => {
                return Ok(match e.code() {
                    Code::Protocol(code) | Code::Status(code) => Answer::Status {
                        code,
                        description: e.description_ru().into_owned(),
                    },
                    Code::Schema | Code::Unlisted => Answer::Rejected(e.to_string()),
                });
            }
        };
        self.ledger
            .insert_charge(
                &stored_entity(&charge, "Charge"),
                &facts,
                self.urn.as_str(),
                message_id,
                now,
            )
            .await?;
        let mut response = self.response(request, now);
        response.children.push(charge);
        Ok(Answer::Response(response))
    }
}

fn payment_not_found(id: &str) -> Answer {
    Answer::Status {
        code: 4,
        description: crate::protocol::text::PAYMENT_NOT_FOUND.replace("<УПНО>", id),
    }
}

/// A reconciliation refusal as GIS GMP's status.
fn status_of(refusal: &ReconcileRefusal) -> Answer {
    match refusal {
        ReconcileRefusal::NoCharge(_) => Answer::Status {
            code: 7,
            description: text::NO_ORIGINAL.into(),
        },
        ReconcileRefusal::NoPayment(id) => payment_not_found(id),
        ReconcileRefusal::Forced(e) => match e.code() {
            Code::Status(code) | Code::Protocol(code) => Answer::Status {
                code,
                description: e.description_ru().into_owned(),
            },
            Code::Schema | Code::Unlisted => Answer::Rejected(e.to_string()),
        },
    }
}

/// The package `name` of an import and its entities' checked `Id`s, or the refusal of the whole
/// request (no package, more than 100 entities, a bad or repeated `Id`).
fn package<'a>(request: &'a El, name: &str) -> Result<(&'a El, Vec<EntityId>), Answer> {
    let package = request
        .child(name)
        .ok_or_else(|| Answer::Rejected(format!("{} has no {name}", request.local)))?;
    let ids = check_package(package.children.iter().map(|c| c.attr("Id").unwrap_or("")))
        .map_err(|e| Answer::Rejected(format!("the package: {e}")))?;
    Ok((package, ids))
}

/// An `ImportProtocol` element for one entity.
fn protocol_el(version: Version, id: EntityId, outcome: Result<(), EntityRefusal>) -> El {
    let entry = match outcome {
        Ok(()) => ImportProtocol::accepted(id),
        Err(refusal) => ImportProtocol::refused(id.clone(), refusal.as_ref()).unwrap_or_else(|| {
            // A schema refusal (format control would have caught it) or an unlisted rule: the
            // entity is refused with 111 and the reason in words.
            ImportProtocol::refused(
                id,
                &Own {
                    code: Code::Protocol(111),
                    text: text::BAD_CHANGE,
                    english: refusal.to_string(),
                },
            )
            .expect("a protocol code")
        }),
    };
    El::new(version.entity("Common"), "ImportProtocol")
        .with("entityID", entry.entity_id().as_str())
        .with("code", entry.code().to_string())
        .with("description", entry.description())
}

/// The entity as the ledger keeps it: without its package attributes.
fn stored_entity(entity: &El, local: &str) -> El {
    let mut doc = entity.clone();
    doc.local = local.into();
    doc.remove("Id");
    doc.remove("originatorId");
    doc
}

fn stored_charge(entity: &El) -> El {
    stored_entity(entity, "Charge")
}

/// The query of an export's conditions element `name`, read by `read`; a request without it, or
/// with conditions the module does not serve, is refused whole.
fn export_query<Q>(
    request: &Request<'_>,
    name: &str,
    read: fn(&El) -> Result<Q, String>,
) -> Result<Q, Answer> {
    let conditions = request
        .el
        .child(name)
        .ok_or_else(|| Answer::Rejected(format!("{} has no {name}", request.el.local)))?;
    read(conditions).map_err(Answer::Rejected)
}

/// `com:Paging`, or the first 100.
fn paging(request: &El) -> Page {
    let Some(p) = request.child("Paging") else {
        return Page::default();
    };
    let number = p
        .attr("pageNumber")
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1);
    let length = p
        .attr("pageLength")
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=100).contains(n))
        .unwrap_or(100);
    Page { number, length }
}

/// The conditions blocks every export has: `ChargesConditions`, `PayersConditions`,
/// `TimeConditions`, as a query of charges.
fn common_conditions(conditions: &El) -> Result<ChargeQuery, String> {
    let mut q = ChargeQuery::default();
    if let Some(c) = conditions.child("ChargesConditions") {
        q.uins = c
            .children_named("SupplierBillID")
            .map(|e| e.text.trim().to_owned())
            .collect();
    } else if let Some(c) = conditions.child("PayersConditions") {
        q.payer_identifiers = c
            .children_named("PayerIdentifier")
            .map(|e| e.text.trim().to_owned())
            .collect();
        q.payer_patterns = c
            .children_named("PayerInn")
            .flat_map(|e| inn_patterns(e.text.trim()))
            .collect();
        restrict(&mut q, c)?;
    } else if let Some(c) = conditions.child("TimeConditions") {
        restrict(&mut q, c)?;
        if q.from.is_none() {
            return Err("TimeConditions without TimeInterval".into());
        }
    } else {
        return Err(format!(
            "{} names no conditions this module serves (ChargesConditions, PayersConditions, TimeConditions)",
            conditions.local
        ));
    }
    Ok(q)
}

/// `TimeInterval`, `KBKlist`, `Beneficiary`.
fn restrict(q: &mut ChargeQuery, c: &El) -> Result<(), String> {
    if let Some(t) = c.child("TimeInterval") {
        let bound = |name: &str| -> Result<Option<String>, String> {
            t.attr(name)
                .map(|v| {
                    parse_date_time(v)
                        .map(moment_key)
                        .ok_or_else(|| format!("TimeInterval@{name} `{v}`"))
                })
                .transpose()
        };
        q.from = bound("startDate")?;
        q.to = bound("endDate")?;
    }
    if let Some(k) = c.child("KBKlist") {
        q.kbks = k
            .children_named("KBK")
            .map(|e| e.text.trim().to_owned())
            .collect();
    }
    q.payee_inns = c
        .children_named("Beneficiary")
        .filter_map(|b| b.attr("inn").map(str::to_owned))
        .collect();
    Ok(())
}

/// Payer identifiers carrying an INN: a legal entity's (`200`/`300` + INN + KPP), a sole
/// proprietor's (`4000000000` + INN), a person's by INN document (`121` + INN padded).
fn inn_patterns(inn: &str) -> Vec<String> {
    match inn.len() {
        10 => vec![format!("200{inn}%"), format!("300{inn}%")],
        12 => vec![format!("4000000000{inn}"), format!("121{inn:0>19}")],
        _ => vec![format!("%{inn}%")],
    }
}

/// The charges an `ExportChargesRequest`'s conditions select:
/// `CHARGE` (something left to pay), `CHARGENOTFULLMATCHED` (not fully reconciled), `CHARGESTATUS`
/// and `CHARGE-LIST-FULL` (all), and their `CHARGE-PRIOR…` and `TEMP-CHARGING…` forms for prior
/// and GIS-GMP-formed charges.
pub fn charge_query(conditions: &El) -> Result<ChargeQuery, String> {
    let kind = conditions.attr("kind").unwrap_or("");
    let mut q = common_conditions(conditions)?;
    let (origin, rest) = if let Some(rest) = kind.strip_prefix("CHARGE-PRIOR") {
        (Some("PRIOR"), rest.trim_start_matches('-'))
    } else if let Some(rest) = kind.strip_prefix("TEMP-CHARGING") {
        (Some("TEMP"), rest.trim_start_matches('-'))
    } else {
        (None, kind)
    };
    q.origin = origin.map(str::to_owned);
    match (origin.is_some(), rest) {
        (true, "") | (false, "CHARGE") => q.unpaid = true,
        (true, "NOTFULLMATCHED") | (false, "CHARGENOTFULLMATCHED") => q.not_fully_matched = true,
        (true, "STATUS") | (false, "CHARGESTATUS" | "CHARGE-LIST-FULL") => {}
        _ => {
            return Err(format!(
                "charge export kind `{kind}` is not served by this module"
            ));
        }
    }
    Ok(q)
}

/// The payments a `PaymentsExportConditions` selects: `PAYMENT` (all), `PAYMENTMODIFIED`
/// (changed or annulled), `PAYMENTUNMATCHED` (active, reconciled with no charge),
/// `PAYMENTCANCELLED` (annulled); by UINs, payers, УПНО or time.
pub fn payment_query(conditions: &El) -> Result<PaymentQuery, String> {
    let kind = conditions.attr("kind").unwrap_or("");
    let mut q = PaymentQuery::default();
    if let Some(c) = conditions.child("PaymentsConditions") {
        q.payment_ids = c
            .children_named("PaymentId")
            .map(|e| e.text.trim().to_owned())
            .collect();
    } else {
        let charges = common_conditions(conditions)?;
        q.uins = charges.uins;
        q.payer_identifiers = charges.payer_identifiers;
        q.payer_patterns = charges.payer_patterns;
        q.from = charges.from;
        q.to = charges.to;
        q.kbks = charges.kbks;
        q.payee_inns = charges.payee_inns;
    }
    match kind {
        "PAYMENT" => {}
        "PAYMENTMODIFIED" => q.meanings = vec![2, 3],
        "PAYMENTUNMATCHED" => q.unmatched = true,
        "PAYMENTCANCELLED" => q.meanings = vec![3],
        _ => {
            return Err(format!(
                "payment export kind `{kind}` is not served by this module"
            ));
        }
    }
    Ok(q)
}

/// `com:ChangeStatusInfo` of a record.
fn change_status_info(version: Version, meaning: Meaning, reason: Option<&str>, date: Option<&str>) -> El {
    let common = version.entity("Common");
    let mut info = El::new(common.clone(), "ChangeStatusInfo")
        .child_el(El::new(common.clone(), "Meaning").with_text(meaning.code().to_string()));
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        info.children.push(El::new(common.clone(), "Reason").with_text(r));
    }
    if let Some(d) = date.filter(|d| !d.is_empty()) {
        info.children.push(El::new(common, "ChangeDate").with_text(d));
    }
    info
}

/// `ChargeInfo`: the charge with `amountToPay`, `acknowledgmentStatus` and its change status.
fn charge_info(charge: &ChargeRecord, service_ns: &str, version: Version) -> El {
    let mut el = charge.document.clone();
    el.set_version(version);
    el.ns = service_ns.to_owned();
    el.local = "ChargeInfo".into();
    let mut attrs = vec![
        ("amountToPay".to_owned(), charge.amount_to_pay.to_string()),
        ("acknowledgmentStatus".to_owned(), charge.status.to_string()),
    ];
    attrs.append(&mut el.attrs);
    el.attrs = attrs;
    el.children.push(change_status_info(
        version,
        charge.meaning,
        charge.change_reason.as_deref(),
        charge.change_date.as_deref(),
    ));
    el
}

/// `PaymentInfo`: the payment with the charge it is reconciled with and its change status.
fn payment_info(payment: &PaymentRecord, service_ns: &str, version: Version) -> El {
    let mut el = payment.document.clone();
    el.set_version(version);
    el.ns = service_ns.to_owned();
    el.local = "PaymentInfo".into();
    if let Some(uin) = &payment.reconciled_uin {
        let mut ack = El::new(service_ns, "AcknowledgmentInfo")
            .child_el(El::new(service_ns, "SupplierBillID").with_text(uin.clone()));
        if payment.service_provided {
            ack.children
                .push(El::new(service_ns, "ServiceProvidedInfo").with("serviceProvided", "true"));
        }
        el.children.push(ack);
    }
    el.children
        .push(change_status_info(version, payment.meaning, None, None));
    el
}

/// A stored quittance as `Quittance` (`qt:QuittanceType`).
fn quittance_el(q: &QuittanceRecord, service_ns: &str, _version: Version) -> El {
    let created =
        crate::ledger::moment_of_key(&q.created_at).map_or_else(|| q.created_at.clone(), write_date_time);
    let mut el = El::new(service_ns, "Quittance")
        .with("supplierBillID", q.uin.clone())
        .with("totalAmount", q.total_amount.to_string())
        .with("creationDate", created)
        .with("billStatus", q.bill_status.to_string())
        .with("balance", q.balance.to_string())
        .with("paymentId", q.settlement_payment());
    if let Some(a) = q.amount_payment {
        el.set("amountPayment", a.to_string());
    }
    for (attr, value) in &q.differences {
        el.set(attr, value.clone());
    }
    el.set("isRevoked", q.revoked.to_string());
    if let Some(r) = &q.reconcile_id {
        el.set("reconcileID", r.clone());
    }
    el
}

impl QuittanceRecord {
    /// The `paymentId` attribute: the УПНО, or `PaymentNotLoaded`.
    fn settlement_payment(&self) -> String {
        if self.reconcile_id.is_some() || self.settlement == "PaymentNotLoaded" {
            "PaymentNotLoaded".into()
        } else {
            self.settlement.clone()
        }
    }
}

/// A quittance a forced reconciliation returns.
fn forced_quittance(q: &Quittance, now: OffsetDateTime, service_ns: &str, _version: Version) -> El {
    let mut el = El::new(service_ns, "Quittance")
        .with("supplierBillID", q.uin.as_str())
        .with("totalAmount", q.total_amount.get().to_string())
        .with("creationDate", write_date_time(now.to_offset(moscow())))
        .with("billStatus", q.bill_status.code().to_string())
        .with("balance", q.balance.to_string())
        .with("paymentId", q.payment.as_str());
    if let Some(a) = q.amount_payment {
        el.set("amountPayment", a.get().to_string());
    }
    for d in &q.differences {
        el.set(d.attribute(), d.value());
    }
    if let Some(r) = &q.reconcile_id {
        el.set("reconcileID", r.as_str());
    }
    el
}

/// The charge fields a change (Meaning 2) may set, by their «Поле номер»: the path of elements
/// below the charge, the attribute, and whether the XSD requires it (so `NULL` cannot delete it).
const CHARGE_FIELDS: &[(&str, &[&str], &str, bool)] = &[
    ("4", &[], "billDate", true),
    ("1001", &[], "validUntil", false),
    ("7", &[], "totalAmount", true),
    ("24", &[], "purpose", true),
    ("104", &[], "kbk", true),
    ("105", &[], "oktmo", true),
    ("37", &[], "deliveryDate", false),
    ("1010", &[], "legalAct", false),
    ("19", &[], "paymentTerm", false),
    ("1011", &[], "noticeTerm", false),
    ("16", &["Payee"], "name", true),
    ("61", &["Payee"], "inn", true),
    ("103", &["Payee"], "kpp", false),
    ("200", &["Payee"], "ogrn", false),
    ("17", &["Payee", "OrgAccount"], "accountNumber", true),
    ("13", &["Payee", "OrgAccount", "Bank"], "name", false),
    ("14", &["Payee", "OrgAccount", "Bank"], "bik", true),
    (
        "15",
        &["Payee", "OrgAccount", "Bank"],
        "correspondentBankAccount",
        false,
    ),
    ("201", &["Payer"], "payerIdentifier", true),
    ("8", &["Payer"], "payerName", true),
    ("1201", &["Payer"], "additionalPayerIdentifier", false),
    ("101", &["BudgetIndex"], "status", true),
    ("106", &["BudgetIndex"], "paytReason", true),
    ("107", &["BudgetIndex"], "taxPeriod", true),
    ("108", &["BudgetIndex"], "taxDocNumber", true),
    ("109", &["BudgetIndex"], "taxDocDate", true),
];

/// Applies one `Change` to a charge.
fn apply_change(charge: &mut El, change: &El) -> Result<(), String> {
    let field = change.attr("fieldNum").unwrap_or("");
    let Some((_, path, attr, required)) = CHARGE_FIELDS.iter().find(|(n, ..)| *n == field) else {
        return Err(format!("field {field} cannot be changed by this module"));
    };
    let values: Vec<&El> = change.children_named("ChangeValue").collect();
    let [value] = values.as_slice() else {
        return Err(format!("field {field} takes one value, {} given", values.len()));
    };
    let value = value.attr("value").unwrap_or("");
    let mut target = &mut *charge;
    for step in *path {
        target = target
            .child_mut(step)
            .ok_or_else(|| format!("the charge has no {step} for field {field}"))?;
    }
    if value == "NULL" {
        if *required {
            return Err(format!(
                "field {field} ({attr}) is required and cannot be deleted"
            ));
        }
        target.remove(attr);
    } else {
        target.set(attr, value);
    }
    Ok(())
}

mod forward;
mod notice;
mod refunds;

pub use forward::{Forwarded, Precheck};
pub use notice::{MIGRATION as NOTICES_MIGRATION, notices_of};
pub use refunds::refund_query;

#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod tests;
