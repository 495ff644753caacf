//! The GIS GMP module of the RSMEV node: the rules of the Treasury's State Information System on
//! State and Municipal Payments (ГИС ГМП) that the node checks and applies itself.
//!
//! GIS GMP messages travel as SMEV 3 business content, so their format is checked by the broker's
//! format control against the official XSD package; this crate holds what an XSD cannot say,
//! and the pure logic built on it: issuing identifiers, reconciliation, the receipt's QR string.
//!
//! Layout, one module per concern:
//! - [`protocol`]: how a refusal is reported ([`Code`]: a GIS GMP protocol code, a SMEV status
//!   answering a whole request, a schema refusal, or a rule the formats do not list), the
//!   [`Refusal`] trait every error here implements, and the [`ImportProtocol`] entry
//!   (`entityID`, `code`, `description`) built from one.
//! - [`package`]: a package's limits: 1 to 100 entities, each `Id` an `xs:ID` of at most 50
//!   characters, unique; every problem reported per entity.
//! - [`urn`]: the participant's УРН (6 hex digits) and its decimal form.
//! - [`uin`]: the УИН (`supplierBillID`), a charge's identifier: its two structures (20 digits
//!   led by the KBK chapter, 25 led by the participant's URN), its check digit (234), letters
//!   (238), the participant's structure (51) and URN (10), a 20-digit one's KBK chapter and its
//!   charge's KBK (no code).
//! - [`payment_id`]: the УПНО (УИП): three structures with an acceptance date, legacy forms
//!   (codes 336, 55, 235).
//! - [`payer`]: the payer identifier (22 characters: person by document, legal entity,
//!   non-resident, sole proprietor), document type codes, check 236.
//! - [`inn`], [`kpp`], [`bik`]: an organisation's ИНН (10 or 12 digits; its check digits are a
//!   separate, unlisted check), КПП and a bank's БИК.
//! - [`account`]: account numbers, their control key with a BIK (credit institution or Bank of
//!   Russia placement), and the payee-account checks (codes 332, 240).
//! - [`oktmo`], [`kbk`]: the territory and budget classification codes (codes 232/335 for
//!   11-digit OKTMO, 233 for an all-zero KBK); their field value `0` reads as `None`.
//! - [`amount`]: [`Kopecks`], read as `xsd:unsignedLong` without floats, and the amount checks of
//!   charges (40) and payments (32).
//! - [`notice_id`]: the ids of refund (УИВ), credit (УИЗ), clarification (УВПП) and renouncement
//!   (УИВИП) notices with their dates.
//! - [`issue`]: issuing a UIN (prefix, 16-digit unique number, check digit; [`UinSequence`]) and
//!   a УПНО of each structure ([`Acceptor`]), always what the parsers accept.
//! - [`sequence`]: the persistent sequences those are issued from, in the node's database
//!   (`gisgmp_uin_sequence`, `gisgmp_upno_sequence`): numbers allocated atomically, never twice,
//!   even by several processes on one PostgreSQL database.
//! - [`reconcile`]: квитирование of one charge ([`ChargeReconciliation`]): billStatus 1/2/3 with
//!   the differing parameters, the running balance and `amountToPay` in signed kopecks, the
//!   forced operations (4, 5, 6) and their annulment, refused with GIS GMP's SMEV statuses.
//! - [`qr`]: the ГОСТ Р 56042-2014 payment string of a receipt's QR code (`ST00012|Name=…`):
//!   mandatory then optional requisites in the standard's order, values with the separator or
//!   beyond the standard's lengths refused.
//! - [`receipt`]: the receipts as PDF, ПД-4сб (налог) and the payment order 0401060
//!   ([`render`] of [`ReceiptData`]), each with that QR code, Cyrillic text in an embedded,
//!   subset font (Liberation Sans, SIL OFL 1.1, `fonts/`); a ledger's charge as a receipt's data
//!   ([`ReceiptFields::of_charge`], for its `amountToPay`).
//! - [`doc`]: a GIS GMP document as an owned element tree ([`doc::El`]), read with the node's
//!   hardened XML reader and written with the etalons' prefixes; the format versions the module
//!   speaks (2.4.0, 2.5.1) and moving a document between them.
//! - [`refund`]: a refund's (возврат) check and the facts the ledger keeps of it.
//! - [`entity`]: a charge's and a payment's whole check (every identifier and requisite above,
//!   with the sender's URN) and the facts the ledger keeps of them; GIS GMP moments (no offset is
//!   Moscow time).
//! - [`ledger`]: charges with their event log (new, уточнение, аннулирование,
//!   деаннулирование), payments, refunds, reconciliation operations and quittances in the node's
//!   database (`gisgmp_*` tables), each change linked to the SMEV message that carried it; a
//!   charge's quittances recomputed by replaying its operations under its row lock.
//! - [`forwards`]: the requests forwarded to the federal GIS GMP, by the MessageID they went up
//!   under (`gisgmp_forwards`).
//! - [`fixtures`]: example requests (one administrator's charges and their matching payments)
//!   for tests, benchmarks and demonstrations.
//! - [`service`]: the GIS GMP services answered from the ledger ([`service::Service::answer`]):
//!   ImportCharges (new and changes), ImportPayments, ImportRefunds,
//!   ExportCharges/Payments/Quittances/Refunds, ForcedAcknowledgement, ChargeCreation and
//!   ExportNotice, with GIS GMP's codes and statuses; the checks and merging of forwarding.
//! - [`views`]: the ledger's lists as operators ask for them (filters into the ledger's queries,
//!   sort keys by name, pages, records as typed fields), shared by the CLI and [`api`].
//! - [`api`]: the module's admin API (`/admin/v1/gisgmp/…` on the node: lists, receipts, UINs)
//!   and its OpenAPI fragment, offered through broker's `Adapter::admin_api`.
//!
//! Conventions: a type's `parse` checks what the XSD and GIS GMP say about the value alone;
//! checks that need more (the sender's URN, the payment's date, the account's BIK) are `check_*`
//! functions returning a typed error. Every error implements [`Refusal`]: its code (and so
//! whether an `ImportProtocol` entry can report it) and its Russian description, GIS GMP's own
//! text for a protocol code or status; its `Display` is the English one. Tests sit beside each module
//! (`<module>/tests.rs`); with `RSMEV_REFERENCE` set they also check the shared test vectors and
//! every identifier in the reference samples.
//!
//! Only [`sequence`], [`ledger`] and [`service`] do IO, through the node's database (broker's
//! `AdapterDatabase`, the module's own tables and [`MIGRATIONS`]); everything else is pure. The crate has no knowledge of queues or
//! transport: the adapter that exchanges messages with GIS GMP builds on it.
pub mod account;
pub mod amount;
pub mod answers;
pub mod api;
pub mod bik;
pub mod doc;
pub mod entity;
pub mod fixtures;
pub mod forwards;
pub mod inn;
pub mod issue;
pub mod kbk;
pub mod kpp;
pub mod ledger;
mod lexical;
pub mod module;
pub mod notice_id;
pub mod oktmo;
pub mod package;
pub mod payer;
pub mod payment_id;
pub mod protocol;
pub mod qr;
pub mod receipt;
pub mod reconcile;
#[cfg(test)]
mod reference;
pub mod refund;
pub mod sequence;
pub mod service;
#[cfg(test)]
mod test_db;
pub mod uin;
pub mod urn;
pub mod views;

pub use account::{
    AccountKeyError, AccountNumber, AccountNumberError, BankAccountError, PayeeAccountError, Placement,
    check_bank_account,
};
pub use amount::{
    AmountError, ChargeAmountError, ChargeOrigin, Kopecks, PaymentAmountError, check_charge_amount,
    check_payment_amount,
};
pub use bik::{Bik, BikError};
pub use inn::{Inn, InnCheckDigitError, InnError, InnKind};
pub use issue::{Acceptor, IssueError, KbkChapter, UinPrefix, UinSequence, UniqueNumber};
pub use kbk::{Kbk, KbkError};
pub use kpp::{Kpp, KppError};
pub use notice_id::{ClarificationId, IncomeId, NoticeIdError, NoticeKind, RefundId, RenouncementId};
pub use oktmo::{ChargeOktmoError, Oktmo, OktmoError, PaymentOktmoError};
pub use package::{EntityId, EntityIdError, PackageError, PackageSizeError, check_package};
pub use payer::{DocumentType, PayerIdentifier, PayerIdentifierError, PayerKind};
pub use payment_id::{PaymentId, PaymentIdAcceptorError, PaymentIdDateError, PaymentIdError, PaymentIdKind};
pub use protocol::{Code, ImportProtocol, Refusal};
pub use qr::{PaymentString, PaymentStringError};
pub use receipt::{ChargeReceiptError, Form, ReceiptData, ReceiptError, ReceiptField, ReceiptFields, render};
pub use reconcile::{
    Annulment, BalanceError, BillStatus, Charge, ChargeReconciliation, Difference, ForcedError,
    ForcedReconcile, OtherChargeError, Outcome, Payment, PaymentState, Quittance, ReconcileId,
    ReconcileIdError, Requisites, Settlement,
};
pub use sequence::SequenceError;
pub use uin::{Uin, UinError, UinKbkError, UinKind, UinKindError, UinUrnError};
pub use urn::{Urn, UrnError};

/// The module's migrations, in version order: the sequences ([`sequence`]), the ledger
/// ([`ledger`]), the answers ([`answers`]), the refunds, the forwards ([`forwards`]).
pub const MIGRATIONS: &[rsmev_broker::store::AdapterMigration] = &[
    sequence::MIGRATION,
    ledger::MIGRATION,
    answers::MIGRATION,
    ledger::REFUNDS_MIGRATION,
    forwards::MIGRATION,
    service::NOTICES_MIGRATION,
];
