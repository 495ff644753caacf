//! Квитирование: the reconciliation of one charge with the payments made for it, and the
//! quittances (`qt:QuittanceType`) that record the result; and the administrator's forced
//! operations (`ForcedAcknowledgementRequest`: `Reconcile`, `AnnulmentReconcile`).
//!
//! Sources: the 2.4.0 `Quittance.xsd`, `ExportQuittances.xsd`, `ForcedAcknowledgement.xsd`, their
//! etalons, and the user guides «Предоставление информации о результатах квитирования» and
//! «Прием информации о погашении начисления, учете платежа» (§4.5 checks), as NOTES.md §3.3 and §4
//! summarise them.
//!
//! # What the sources say
//!
//! - A payment carrying the charge's UIN is reconciled with it automatically. `billStatus` is 1
//!   when every reconciliation parameter matches, 2 when one differs. The parameters are the
//!   KBK, the OKTMO, the payee's INN, KPP, account number and BIK, and the payer identifier
//!   ([`Requisites`]). A quittance carries the payment's value of each parameter that differs
//!   and nothing for those that match ([`Difference`]).
//! - 3: no payment has been received for the charge. An amount that falls short or exceeds the
//!   charge does not change the status. It shows in `balance` (the quittance) and `amountToPay`
//!   (the charge): the charge's amount minus the payments net of their refunds, in kopecks, as an
//!   `xsd:long`. A negative value is an overpayment.
//! - Forced operations: `Reconcile` with `PaymentId`s gives 5, with `PaymentNotLoaded` gives 4,
//!   with `PaymentNotLoaded@amountReconcile` gives 6 and a `reconcileID` ([`ReconcileId`]).
//!   `AnnulmentReconcile` undoes them, the partial repayments one `reconcileID` at a time. Their
//!   refusals are SMEV statuses ([`Code::Status`]) with GIS GMP's texts: 4 (the payment is
//!   absent or annulled), 317 (already paid: balance ≤ 0), 322 (already repaid without a
//!   payment), 325 (not force-reconciled with that payment), 326 (no repayment without a
//!   payment), 370–373 (the amount of a partial repayment).
//!
//! # What this module chooses where they are silent
//!
//! - **One projection, recomputed.** [`ChargeReconciliation`] holds the charge and what was
//!   reconciled with it, in the order it happened. [`ChargeReconciliation::outcome`] derives
//!   everything else. A payment that changes (clarified, annulled) is received again and replaces
//!   its earlier version in place.
//! - **Running balance.** Each quittance's `balance` is the charge's amount minus everything
//!   active up to and including it, in that order. The last active quittance therefore shows
//!   the charge's `amountToPay`, and a partial payment's quittance shows what remained after it.
//! - **Annulled payments** keep their quittance with `isRevoked = true` and their own status, and
//!   count for nothing. Their `balance` is the running balance before them.
//! - **The charge's status** is the strongest of its active quittances: 4, then 6, then 5 (the
//!   administrator's decision overrides the automatic result), then 2 if any automatic quittance
//!   has a difference, then 1; 3 when none is active.
//! - **4 writes off what remains.** Its quittance (`paymentId="PaymentNotLoaded"`, no
//!   `amountPayment`) takes the `amountToPay` of the moment off the balance, which is then 0. A
//!   payment received afterwards therefore shows as an overpayment. Status 6 takes the stated
//!   amount off, and that amount is its quittance's `amountPayment`.
//! - **The amount rules.** 322 refuses any repayment without a payment once a full one (4)
//!   exists. 371 refuses a full one (4) once partial ones (6) exist: what remains must then be
//!   repaid for a stated amount. 370 refuses a stated amount of 0, which `xs:unsignedLong`
//!   admits. 372 refuses an amount above the `amountToPay`. 317 is checked before 371 and 372.
//!   Annulling `PaymentNotLoaded` without a `reconcileID` undoes the 4; with only partial ones
//!   present it is 373.
//! - **Values are compared as written**: an 8-digit OKTMO differs from the 11-digit one that
//!   extends it, and a payment's `0` differs from a charge's value.
//! - **Forcing with payments.** The payments need not carry the charge's UIN; a payment without
//!   one is attached by the forcing. Forcing a payment already reconciled here turns its
//!   quittance to 5 in place. Annulling it returns a payment that carries the UIN to its
//!   automatic status (1 or 2) and detaches one that does not.
//! - **Left to the caller**, who sees more than one charge: whether a payment is reconciled with
//!   another charge, a charge's own existence and annulment (code 7), the participant's rights,
//!   and the history of revoked forced quittances (this projection shows only the current
//!   state). `reconcileID`s are formed by GIS GMP's "internal algorithm". [`ReconcileId::new`]
//!   writes the administrator's URN and the moment, and the caller keeps them unique.
//!
//! Arithmetic is checked and done on integers: amounts are summed as `i128` and a balance that
//! does not fit an `xsd:long` is a [`BalanceError`], never a wrap or a panic.

use std::borrow::Cow;
use std::fmt;

use time::{Date, PrimitiveDateTime, Time};

use crate::account::AccountNumber;
use crate::amount::Kopecks;
use crate::bik::Bik;
use crate::inn::Inn;
use crate::kbk::Kbk;
use crate::kpp::Kpp;
use crate::lexical;
use crate::oktmo::Oktmo;
use crate::payer::PayerIdentifier;
use crate::payment_id::PaymentId;
use crate::protocol::{Code, Refusal, text};
use crate::uin::Uin;
use crate::urn::Urn;

/// The reconciliation parameters of a charge or a payment: what GIS GMP compares besides the UIN.
/// `None` is the field value `0` (or an absent KPP).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requisites {
    pub kbk: Option<Kbk>,
    pub oktmo: Option<Oktmo>,
    pub payee_inn: Inn,
    pub payee_kpp: Option<Kpp>,
    pub account_number: AccountNumber,
    pub bik: Bik,
    pub payer_identifier: Option<PayerIdentifier>,
}

/// A reconciliation parameter that differs, with the payment's value: the quittance attribute
/// that is present because of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Difference {
    PayeeInn(Inn),
    PayeeKpp(Option<Kpp>),
    Kbk(Option<Kbk>),
    Oktmo(Option<Oktmo>),
    PayerIdentifier(Option<PayerIdentifier>),
    AccountNumber(AccountNumber),
    Bik(Bik),
}

impl Difference {
    /// The quittance attribute that carries it.
    pub fn attribute(&self) -> &'static str {
        match self {
            Difference::PayeeInn(_) => "payeeINN",
            Difference::PayeeKpp(_) => "payeeKPP",
            Difference::Kbk(_) => "kbk",
            Difference::Oktmo(_) => "oktmo",
            Difference::PayerIdentifier(_) => "payerIdentifier",
            Difference::AccountNumber(_) => "accountNumber",
            Difference::Bik(_) => "bik",
        }
    }

    /// The payment's value, as the attribute carries it; `0` where the payment has none.
    pub fn value(&self) -> &str {
        match self {
            Difference::PayeeInn(inn) => inn.as_str(),
            Difference::PayeeKpp(kpp) => kpp.as_ref().map_or("0", Kpp::as_str),
            Difference::Kbk(kbk) => kbk.as_ref().map_or("0", Kbk::as_str),
            Difference::Oktmo(oktmo) => oktmo.as_ref().map_or("0", Oktmo::as_str),
            Difference::PayerIdentifier(payer) => payer.as_ref().map_or("0", PayerIdentifier::as_str),
            Difference::AccountNumber(account) => account.as_str(),
            Difference::Bik(bik) => bik.as_str(),
        }
    }
}

impl Requisites {
    /// The parameters of `payment` that differ from these (the charge's), in the order of the
    /// quittance's attributes.
    pub fn differences(&self, payment: &Requisites) -> Vec<Difference> {
        let mut found = Vec::new();
        if self.payee_inn != payment.payee_inn {
            found.push(Difference::PayeeInn(payment.payee_inn.clone()));
        }
        if self.payee_kpp != payment.payee_kpp {
            found.push(Difference::PayeeKpp(payment.payee_kpp.clone()));
        }
        if self.kbk != payment.kbk {
            found.push(Difference::Kbk(payment.kbk.clone()));
        }
        if self.oktmo != payment.oktmo {
            found.push(Difference::Oktmo(payment.oktmo.clone()));
        }
        if self.payer_identifier != payment.payer_identifier {
            found.push(Difference::PayerIdentifier(payment.payer_identifier.clone()));
        }
        if self.account_number != payment.account_number {
            found.push(Difference::AccountNumber(payment.account_number.clone()));
        }
        if self.bik != payment.bik {
            found.push(Difference::Bik(payment.bik.clone()));
        }
        found
    }
}

/// The charge being reconciled: its UIN, `totalAmount` and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub uin: Uin,
    pub total_amount: Kopecks,
    pub requisites: Requisites,
}

/// Whether a payment counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentState {
    Active,
    /// Annulled (`ChangeStatus/Meaning` 3): its quittance is revoked.
    Annulled,
}

/// A payment, as far as reconciliation looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub payment_id: PaymentId,
    /// `supplierBillID`; `None` for `0` or a legacy 15-digit one, which only forcing attaches.
    pub uin: Option<Uin>,
    pub amount: Kopecks,
    /// The sum of the refunds made from it.
    pub refunded: Kopecks,
    pub requisites: Requisites,
    pub state: PaymentState,
}

/// `billStatus` (`com:AcknowledgmentStatusType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BillStatus {
    /// 1: сквитировано, every parameter matches.
    Reconciled,
    /// 2: предварительно сквитировано, some parameter other than the UIN differs.
    Preliminary,
    /// 3: не сквитировано, no payment.
    NotReconciled,
    /// 4: reconciled by the administrator with a payment absent from GIS GMP.
    WithoutPayment,
    /// 5: force-reconciled by the administrator with payments.
    Forced,
    /// 6: reconciled with an absent payment for a stated amount.
    ForAmount,
}

impl BillStatus {
    /// The code on the wire, 1 to 6.
    pub fn code(self) -> u8 {
        match self {
            BillStatus::Reconciled => 1,
            BillStatus::Preliminary => 2,
            BillStatus::NotReconciled => 3,
            BillStatus::WithoutPayment => 4,
            BillStatus::Forced => 5,
            BillStatus::ForAmount => 6,
        }
    }
}

/// A quittance's `paymentId`: a payment, or `PaymentNotLoaded` for a repayment without one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Settlement {
    Payment(PaymentId),
    NotLoaded,
}

impl Settlement {
    /// The attribute's value.
    pub fn as_str(&self) -> &str {
        match self {
            Settlement::Payment(id) => id.as_str(),
            Settlement::NotLoaded => "PaymentNotLoaded",
        }
    }
}

/// A quittance: the attributes of `qt:QuittanceType` (and the `reconcileID` the
/// ForcedAcknowledgement response adds), but `creationDate`, which is the caller's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quittance {
    pub uin: Uin,
    pub total_amount: Kopecks,
    pub bill_status: BillStatus,
    /// Kopecks still owed after this quittance; negative on overpayment.
    pub balance: i64,
    pub payment: Settlement,
    pub amount_payment: Option<Kopecks>,
    pub differences: Vec<Difference>,
    pub is_revoked: bool,
    pub reconcile_id: Option<ReconcileId>,
}

/// The reconciliation of a charge as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The charge's `acknowledgmentStatus`.
    pub status: BillStatus,
    /// `amountToPay`: kopecks still owed; negative on overpayment.
    pub amount_to_pay: i64,
    /// One per payment or repayment, in the order they happened, revoked ones included.
    pub quittances: Vec<Quittance>,
}

/// What a forced `Reconcile` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForcedReconcile {
    /// `PaymentId[1..100]`, resolved by the caller to the payments: status 5.
    WithPayments(Vec<Payment>),
    /// `PaymentNotLoaded`: status 4.
    WithoutPayment,
    /// `PaymentNotLoaded@amountReconcile`: status 6, under the `reconcileID` the caller forms.
    ForAmount {
        amount: Kopecks,
        reconcile_id: ReconcileId,
    },
}

/// What an `AnnulmentReconcile` asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Annulment {
    /// `PaymentId[1..100]`: undo forcing with these payments.
    Payments(Vec<PaymentId>),
    /// `PaymentNotLoaded` without `reconcileID`: undo the repayment without a payment (4).
    WithoutPayment,
    /// `PaymentNotLoaded@reconcileID`: undo that repayment for an amount (6).
    ForAmount(ReconcileId),
}

/// A payment whose UIN is not the charge's, received for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("payment {payment_id} carries the UIN {}, not {charge}", found_uin(.found))]
pub struct OtherChargeError {
    pub payment_id: PaymentId,
    pub charge: Uin,
    pub found: Option<Uin>,
}

fn found_uin(found: &Option<Uin>) -> &str {
    found.as_ref().map_or("0", Uin::as_str)
}

/// A balance beyond `xsd:long`: the amounts are too large to report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the balance of charge {uin} does not fit an xsd:long")]
pub struct BalanceError {
    pub uin: Uin,
}

/// Why GIS GMP refuses a forced operation: a SMEV status, except the two mistakes of the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForcedError {
    #[error("payment {payment_id} is annulled")]
    PaymentNotFound { payment_id: PaymentId },
    #[error("the charge is already paid: {amount_to_pay} kopecks to pay")]
    AlreadyPaid { amount_to_pay: i64 },
    #[error("the charge is already repaid without a payment")]
    AlreadyWithoutPayment,
    #[error("payment {payment_id} is not force-reconciled with the charge")]
    NotForced { payment_id: PaymentId },
    #[error("the charge has no such repayment without a payment")]
    NoRepaymentWithoutPayment,
    #[error("a repayment for an amount states more than 0 kopecks")]
    AmountNotAllowed,
    #[error("the charge has partial repayments; what remains is repaid for a stated amount")]
    AmountRequired,
    #[error("{amount} kopecks exceed the {amount_to_pay} to pay")]
    AmountExceeds { amount: Kopecks, amount_to_pay: i64 },
    #[error("the charge has partial repayments; which one to annul needs its reconcileID")]
    ReconcileIdRequired,
    #[error("the reconcileID {reconcile_id} is already used for this charge")]
    DuplicateReconcileId { reconcile_id: ReconcileId },
    #[error(transparent)]
    Balance(#[from] BalanceError),
}

/// One thing reconciled with the charge.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Boxed: a payment is much larger than the other entries.
    Payment { payment: Box<Payment>, forced: bool },
    /// 4: what remained to pay when it was written off.
    WithoutPayment { amount: Kopecks },
    /// 6.
    ForAmount {
        amount: Kopecks,
        reconcile_id: ReconcileId,
    },
}

impl Entry {
    fn payment_id(&self) -> Option<&PaymentId> {
        match self {
            Entry::Payment { payment, .. } => Some(&payment.payment_id),
            Entry::WithoutPayment { .. } | Entry::ForAmount { .. } => None,
        }
    }
}

/// A charge and what is reconciled with it, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeReconciliation {
    charge: Charge,
    entries: Vec<Entry>,
}

impl ChargeReconciliation {
    /// A charge nothing is reconciled with yet (status 3).
    pub fn new(charge: Charge) -> ChargeReconciliation {
        ChargeReconciliation {
            charge,
            entries: Vec::new(),
        }
    }

    pub fn charge(&self) -> &Charge {
        &self.charge
    }

    /// Receives a payment, or a new version of one already here (clarified or annulled), which
    /// replaces it in place. A new version that no longer carries the charge's UIN detaches the
    /// payment unless forcing attached it.
    ///
    /// # Errors
    /// [`OtherChargeError`] for a payment not already here that does not carry the charge's UIN.
    pub fn receive(&mut self, payment: Payment) -> Result<(), OtherChargeError> {
        let carries_uin = payment.uin.as_ref() == Some(&self.charge.uin);
        let index = self.position(&payment.payment_id);
        match index {
            Some(i) => {
                if let Some(Entry::Payment { payment: old, forced }) = self.entries.get_mut(i) {
                    if *forced || carries_uin {
                        **old = payment;
                    } else {
                        self.entries.remove(i);
                    }
                }
                Ok(())
            }
            None if carries_uin => {
                self.entries.push(Entry::Payment {
                    payment: Box::new(payment),
                    forced: false,
                });
                Ok(())
            }
            None => Err(OtherChargeError {
                payment_id: payment.payment_id,
                charge: self.charge.uin.clone(),
                found: payment.uin,
            }),
        }
    }

    /// Applies a forced `Reconcile`, all or nothing, and returns the quittances the response
    /// carries.
    ///
    /// # Errors
    /// [`ForcedError`]: 4 for an annulled payment; 322, 317, 371 for a repayment without a
    /// payment; 322, 370, 317, 372 for one for an amount (checked in that order).
    pub fn force(&mut self, request: ForcedReconcile) -> Result<Vec<Quittance>, ForcedError> {
        let mut next = self.clone();
        let touched = match request {
            ForcedReconcile::WithPayments(payments) => next.force_payments(payments)?,
            ForcedReconcile::WithoutPayment => next.force_without_payment()?,
            ForcedReconcile::ForAmount { amount, reconcile_id } => next.force_amount(amount, reconcile_id)?,
        };
        let quittances = next.quittances()?;
        let answer = touched
            .iter()
            .filter_map(|&i| quittances.get(i).cloned())
            .collect();
        *self = next;
        Ok(answer)
    }

    /// Forces `payments` onto the charge (5); the indexes of their entries.
    fn force_payments(&mut self, payments: Vec<Payment>) -> Result<Vec<usize>, ForcedError> {
        if let Some(p) = payments.iter().find(|p| p.state == PaymentState::Annulled) {
            return Err(ForcedError::PaymentNotFound {
                payment_id: p.payment_id.clone(),
            });
        }
        let mut touched = Vec::new();
        for payment in payments {
            let entry = Entry::Payment {
                payment: Box::new(payment),
                forced: true,
            };
            let i = match entry.payment_id().and_then(|id| self.position(id)) {
                Some(i) => {
                    if let Some(old) = self.entries.get_mut(i) {
                        *old = entry;
                    }
                    i
                }
                None => {
                    self.entries.push(entry);
                    self.entries.len() - 1
                }
            };
            if !touched.contains(&i) {
                touched.push(i);
            }
        }
        Ok(touched)
    }

    /// Writes off what remains to pay (4); the index of its entry.
    fn force_without_payment(&mut self) -> Result<Vec<usize>, ForcedError> {
        self.refuse_after_full_repayment()?;
        let amount_to_pay = self.amount_to_pay()?;
        let amount = match u64::try_from(amount_to_pay) {
            Ok(amount) if amount > 0 => amount,
            _ => return Err(ForcedError::AlreadyPaid { amount_to_pay }),
        };
        if self.entries.iter().any(|e| matches!(e, Entry::ForAmount { .. })) {
            return Err(ForcedError::AmountRequired);
        }
        self.entries.push(Entry::WithoutPayment {
            amount: Kopecks(amount),
        });
        Ok(vec![self.entries.len() - 1])
    }

    /// Repays `amount` without a payment (6); the index of its entry.
    fn force_amount(
        &mut self,
        amount: Kopecks,
        reconcile_id: ReconcileId,
    ) -> Result<Vec<usize>, ForcedError> {
        self.refuse_after_full_repayment()?;
        if amount.is_zero() {
            return Err(ForcedError::AmountNotAllowed);
        }
        let amount_to_pay = self.amount_to_pay()?;
        if amount_to_pay <= 0 {
            return Err(ForcedError::AlreadyPaid { amount_to_pay });
        }
        if i128::from(amount.get()) > i128::from(amount_to_pay) {
            return Err(ForcedError::AmountExceeds {
                amount,
                amount_to_pay,
            });
        }
        if self.partial(&reconcile_id).is_some() {
            return Err(ForcedError::DuplicateReconcileId { reconcile_id });
        }
        self.entries.push(Entry::ForAmount { amount, reconcile_id });
        Ok(vec![self.entries.len() - 1])
    }

    /// Applies an `AnnulmentReconcile`, all or nothing.
    ///
    /// # Errors
    /// [`ForcedError::NotForced`] (325) for a payment not forced here,
    /// [`ForcedError::NoRepaymentWithoutPayment`] (326), [`ForcedError::ReconcileIdRequired`]
    /// (373).
    pub fn annul(&mut self, request: Annulment) -> Result<(), ForcedError> {
        match request {
            Annulment::Payments(ids) => {
                let forced = |id: &PaymentId| {
                    self.entries.iter().any(
                        |e| matches!(e, Entry::Payment { payment, forced: true } if &payment.payment_id == id),
                    )
                };
                if let Some(id) = ids.iter().find(|id| !forced(id)) {
                    return Err(ForcedError::NotForced {
                        payment_id: id.clone(),
                    });
                }
                let uin = &self.charge.uin;
                self.entries.retain_mut(|entry| match entry {
                    Entry::Payment { payment, forced } if ids.contains(&payment.payment_id) => {
                        *forced = false;
                        payment.uin.as_ref() == Some(uin)
                    }
                    _ => true,
                });
                Ok(())
            }
            Annulment::WithoutPayment => {
                if let Some(i) = self
                    .entries
                    .iter()
                    .position(|e| matches!(e, Entry::WithoutPayment { .. }))
                {
                    self.entries.remove(i);
                    Ok(())
                } else if self.entries.iter().any(|e| matches!(e, Entry::ForAmount { .. })) {
                    Err(ForcedError::ReconcileIdRequired)
                } else {
                    Err(ForcedError::NoRepaymentWithoutPayment)
                }
            }
            Annulment::ForAmount(reconcile_id) => {
                let i = self
                    .partial(&reconcile_id)
                    .ok_or(ForcedError::NoRepaymentWithoutPayment)?;
                self.entries.remove(i);
                Ok(())
            }
        }
    }

    /// The charge's status, `amountToPay` and quittances.
    ///
    /// # Errors
    /// [`BalanceError`] when a balance does not fit an `xsd:long`.
    pub fn outcome(&self) -> Result<Outcome, BalanceError> {
        let quittances = self.quittances()?;
        let amount_to_pay = self.amount_to_pay()?;
        let status = quittances
            .iter()
            .filter(|q| !q.is_revoked)
            .map(|q| q.bill_status)
            .max_by_key(|&s| strength(s))
            .unwrap_or(BillStatus::NotReconciled);
        Ok(Outcome {
            status,
            amount_to_pay,
            quittances,
        })
    }

    /// `amountToPay`: the charge's amount minus everything active.
    ///
    /// # Errors
    /// [`BalanceError`] when it does not fit an `xsd:long`.
    pub fn amount_to_pay(&self) -> Result<i64, BalanceError> {
        let mut balance = i128::from(self.charge.total_amount.get());
        for entry in &self.entries {
            balance = self.pay(balance, entry)?;
        }
        self.to_long(balance)
    }

    fn quittances(&self) -> Result<Vec<Quittance>, BalanceError> {
        let charge = &self.charge;
        let mut balance = i128::from(charge.total_amount.get());
        let mut quittances = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            balance = self.pay(balance, entry)?;
            let quittance = |bill_status, payment, amount_payment, reconcile_id| Quittance {
                uin: charge.uin.clone(),
                total_amount: charge.total_amount,
                bill_status,
                balance: 0,
                payment,
                amount_payment,
                differences: Vec::new(),
                is_revoked: false,
                reconcile_id,
            };
            let mut q = match entry {
                Entry::Payment { payment, forced } => {
                    let differences = charge.requisites.differences(&payment.requisites);
                    let status = match (forced, differences.is_empty()) {
                        (true, _) => BillStatus::Forced,
                        (false, true) => BillStatus::Reconciled,
                        (false, false) => BillStatus::Preliminary,
                    };
                    Quittance {
                        differences,
                        is_revoked: payment.state == PaymentState::Annulled,
                        ..quittance(
                            status,
                            Settlement::Payment(payment.payment_id.clone()),
                            Some(payment.amount),
                            None,
                        )
                    }
                }
                Entry::WithoutPayment { .. } => {
                    quittance(BillStatus::WithoutPayment, Settlement::NotLoaded, None, None)
                }
                Entry::ForAmount { amount, reconcile_id } => quittance(
                    BillStatus::ForAmount,
                    Settlement::NotLoaded,
                    Some(*amount),
                    Some(reconcile_id.clone()),
                ),
            };
            q.balance = self.to_long(balance)?;
            quittances.push(q);
        }
        Ok(quittances)
    }

    /// The balance after `entry`.
    fn pay(&self, balance: i128, entry: &Entry) -> Result<i128, BalanceError> {
        let paid = match entry {
            Entry::Payment { payment, .. } if payment.state == PaymentState::Active => {
                i128::from(payment.amount.get()) - i128::from(payment.refunded.get())
            }
            Entry::Payment { .. } => 0,
            Entry::WithoutPayment { amount } | Entry::ForAmount { amount, .. } => i128::from(amount.get()),
        };
        balance.checked_sub(paid).ok_or_else(|| self.balance_error())
    }

    fn to_long(&self, balance: i128) -> Result<i64, BalanceError> {
        i64::try_from(balance).map_err(|_| self.balance_error())
    }

    fn balance_error(&self) -> BalanceError {
        BalanceError {
            uin: self.charge.uin.clone(),
        }
    }

    fn position(&self, id: &PaymentId) -> Option<usize> {
        self.entries.iter().position(|e| e.payment_id() == Some(id))
    }

    fn partial(&self, id: &ReconcileId) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| matches!(e, Entry::ForAmount { reconcile_id, .. } if reconcile_id == id))
    }

    fn refuse_after_full_repayment(&self) -> Result<(), ForcedError> {
        if self
            .entries
            .iter()
            .any(|e| matches!(e, Entry::WithoutPayment { .. }))
        {
            Err(ForcedError::AlreadyWithoutPayment)
        } else {
            Ok(())
        }
    }
}

/// Which status a charge shows when its quittances differ: the administrator's decisions first.
fn strength(status: BillStatus) -> u8 {
    match status {
        BillStatus::NotReconciled => 0,
        BillStatus::Reconciled => 1,
        BillStatus::Preliminary => 2,
        BillStatus::Forced => 3,
        BillStatus::ForAmount => 4,
        BillStatus::WithoutPayment => 5,
    }
}

/// `reconcileID` (`com:reconcileIDType`), the number of a repayment for an amount without a
/// payment: `N`, the URN (6 hex), the date `DDMMYYYY` and the time `hhmmss`, 21 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReconcileId(String);

/// Why a string is not a `reconcileID`, or a moment cannot be written in one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileIdError {
    #[error("a reconcileID has 21 characters, this one has {length}")]
    Length { length: usize },
    #[error("reconcileID character {position} is {found:?}, which its pattern does not allow there")]
    Character { position: usize, found: char },
    #[error("reconcileID date {date:?} is not a day of the calendar")]
    Date { date: String },
    #[error("reconcileID time {time:?} is not a time of day hhmmss")]
    Time { time: String },
    #[error("the year {year} cannot be written DDMMYYYY")]
    Year { year: i32 },
}

impl ReconcileId {
    /// Parses `N`, 6 hex digits, a `DDMMYYYY` date of the calendar and a `hhmmss` time.
    ///
    /// # Errors
    /// [`ReconcileIdError::Length`], [`ReconcileIdError::Character`], then
    /// [`ReconcileIdError::Date`] or [`ReconcileIdError::Time`].
    pub fn parse(s: &str) -> Result<ReconcileId, ReconcileIdError> {
        let length = s.chars().count();
        if length != 21 {
            return Err(ReconcileIdError::Length { length });
        }
        let ok = |position: usize, c: char| match position {
            1 => c == 'N',
            2..=7 => c.is_ascii_hexdigit(),
            _ => c.is_ascii_digit(),
        };
        if let Some((position, found)) = lexical::first_bad_indexed(s, ok) {
            return Err(ReconcileIdError::Character { position, found });
        }
        // All ASCII from here.
        let date = &s[7..15];
        if !lexical::ddmmyyyy_mask(date) || lexical::ddmmyyyy(date).is_none() {
            return Err(ReconcileIdError::Date {
                date: date.to_owned(),
            });
        }
        let time = &s[15..21];
        let field = |r: std::ops::Range<usize>| time.get(r).and_then(|t| t.parse::<u8>().ok());
        let valid = matches!(
            (field(0..2), field(2..4), field(4..6)),
            (Some(h), Some(m), Some(s)) if h < 24 && m < 60 && s < 60
        );
        if !valid {
            return Err(ReconcileIdError::Time {
                time: time.to_owned(),
            });
        }
        Ok(ReconcileId(s.to_owned()))
    }

    /// The id of a repayment the administrator `urn` made at `at` (its local time).
    ///
    /// # Errors
    /// [`ReconcileIdError::Year`] outside 0–9999.
    pub fn new(urn: &Urn, at: PrimitiveDateTime) -> Result<ReconcileId, ReconcileIdError> {
        let year = at.year();
        if !(0..=9999).contains(&year) {
            return Err(ReconcileIdError::Year { year });
        }
        Ok(ReconcileId(format!(
            "N{urn}{:02}{:02}{year:04}{:02}{:02}{:02}",
            at.day(),
            u8::from(at.month()),
            at.hour(),
            at.minute(),
            at.second()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrator's URN.
    pub fn urn(&self) -> Option<Urn> {
        self.0.get(1..7).and_then(|s| Urn::parse(s).ok())
    }

    /// The moment written in it.
    pub fn moment(&self) -> Option<PrimitiveDateTime> {
        let date: Date = lexical::ddmmyyyy(self.0.get(7..15)?)?;
        let n = |r: std::ops::Range<usize>| self.0.get(r).and_then(|t| t.parse::<u8>().ok());
        let time = Time::from_hms(n(15..17)?, n(17..19)?, n(19..21)?).ok()?;
        Some(PrimitiveDateTime::new(date, time))
    }
}

impl fmt::Display for ReconcileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for BillStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

impl Refusal for ForcedError {
    fn code(&self) -> Code {
        match self {
            ForcedError::PaymentNotFound { .. } => Code::Status(4),
            ForcedError::AlreadyPaid { .. } => Code::Status(317),
            ForcedError::AlreadyWithoutPayment => Code::Status(322),
            ForcedError::NotForced { .. } => Code::Status(325),
            ForcedError::NoRepaymentWithoutPayment => Code::Status(326),
            ForcedError::AmountNotAllowed => Code::Status(370),
            ForcedError::AmountRequired => Code::Status(371),
            ForcedError::AmountExceeds { .. } => Code::Status(372),
            ForcedError::ReconcileIdRequired => Code::Status(373),
            ForcedError::DuplicateReconcileId { .. } | ForcedError::Balance(_) => Code::Unlisted,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            ForcedError::PaymentNotFound { payment_id } => text::PAYMENT_NOT_FOUND
                .replace("<УПНО>", payment_id.as_str())
                .into(),
            ForcedError::AlreadyPaid { .. } => text::ALREADY_PAID.into(),
            ForcedError::AlreadyWithoutPayment => text::ALREADY_WITHOUT_PAYMENT.into(),
            ForcedError::NotForced { .. } => text::NOT_FORCED.into(),
            ForcedError::NoRepaymentWithoutPayment => text::NOT_WITHOUT_PAYMENT.into(),
            ForcedError::AmountNotAllowed => text::AMOUNT_NOT_ALLOWED.into(),
            ForcedError::AmountRequired => text::AMOUNT_REQUIRED.into(),
            ForcedError::AmountExceeds { .. } => text::AMOUNT_EXCEEDS.into(),
            ForcedError::ReconcileIdRequired => text::RECONCILE_ID_REQUIRED.into(),
            ForcedError::DuplicateReconcileId { reconcile_id } => {
                format!("Номер операции {reconcile_id} уже использован для этого начисления").into()
            }
            ForcedError::Balance(e) => e.description_ru(),
        }
    }
}

impl Refusal for BalanceError {
    fn code(&self) -> Code {
        Code::Unlisted
    }

    fn description_ru(&self) -> Cow<'static, str> {
        format!("Остаток по начислению {} не помещается в тип xsd:long", self.uin).into()
    }
}

impl Refusal for OtherChargeError {
    fn code(&self) -> Code {
        Code::Unlisted
    }

    fn description_ru(&self) -> Cow<'static, str> {
        format!(
            "Платеж {} содержит УИН {}, а не УИН начисления {}",
            self.payment_id,
            found_uin(&self.found),
            self.charge
        )
        .into()
    }
}

impl Refusal for ReconcileIdError {
    fn code(&self) -> Code {
        match self {
            ReconcileIdError::Year { .. } => Code::Unlisted,
            _ => Code::Schema,
        }
    }

    fn description_ru(&self) -> Cow<'static, str> {
        match self {
            ReconcileIdError::Length { length } => {
                format!("Номер операции погашения состоит из 21 символа, указано символов: {length}").into()
            }
            ReconcileIdError::Character { position, found } => {
                format!("Недопустимый символ {found:?} в позиции {position} номера операции погашения").into()
            }
            ReconcileIdError::Date { date } => {
                format!("Дата {date:?} в номере операции погашения не существует").into()
            }
            ReconcileIdError::Time { time } => {
                format!("Время {time:?} в номере операции погашения некорректно").into()
            }
            ReconcileIdError::Year { year } => {
                format!("Год {year} нельзя записать в номере операции погашения").into()
            }
        }
    }
}

#[cfg(test)]
mod tests;
