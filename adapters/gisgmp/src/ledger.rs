//! The ledger: charges, payments and quittances in the node's database, every change linked to the
//! SMEV message that carried it. The module's store module (the node's database through broker's
//! [`AdapterDatabase`], SQL written once for both backends; tables `gisgmp_*`).
//!
//! - `gisgmp_charges`: one row per UIN, the charge as it stands (its document, the columns
//!   exports filter on, its reconciliation status and `amountToPay`); `gisgmp_charge_events`:
//!   the event log it is the sum of (1 new, then 2 уточнение, 3 аннулирование, 4
//!   деаннулирование), each with the charge's document after it and the carrying MessageID.
//! - `gisgmp_payments`: one row per УПНО, with the charge it was reconciled with.
//! - `gisgmp_refunds`: one row per УИВ, with the payment it comes out of; a payment
//!   counts in reconciliation for its amount less its refunds.
//! - `gisgmp_reconciliations`: per UIN, the reconciliation operations in the order they happened
//!   (a payment received, a forced reconciliation, an annulment). The quittances are their
//!   projection ([`crate::reconcile::ChargeReconciliation`]), recomputed by replaying them with the
//!   charge and payments as they now stand, and kept in `gisgmp_quittances` with the moment each
//!   first appeared (`creationDate`).
//!
//! Each write is one transaction, or part of a [`Batch`] (an import's package: one commit for
//! its entities, each reconciliation under a savepoint); a charge's reconciliation holds its row (`FOR UPDATE` on
//! PostgreSQL, SQLite's write lock), so two payments of one charge arriving on two processes are
//! replayed one after the other, never over each other.
//!
//! Lists are sorted by an [`Order`] of a key enum ([`ChargeSort`], [`PaymentSort`],
//! [`QuittanceSort`]) whose every variant names one column here, and paged ([`Page`]).
//!
//! Statements that are assembled (`format!`, the `Where` builder, [`Order`]) put together only
//! this file's constant column lists and column names; every value is bound. Hence `AssertSqlSafe`.

use std::collections::HashMap;

use rsmev_broker::store::{AdapterDatabase, AdapterMigration, Backend, StoreError};
use sqlx::{AssertSqlSafe, Row as _};
use time::OffsetDateTime;

use crate::doc::El;
use crate::entity::{ChargeFacts, PaymentFacts, charge_facts, origin_str, payment_facts};
use crate::payment_id::PaymentId;
use crate::reconcile::{
    Annulment, ChargeReconciliation, ForcedError, ForcedReconcile, Quittance, ReconcileId,
};

/// A change of a charge as its `ChangeStatus` states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeChange {
    /// 2 уточнение, 3 аннулирование, 4 деаннулирование.
    pub meaning: Meaning,
    /// `Reason`.
    pub reason: String,
    /// `changeDate`, as written.
    pub change_date: String,
}

/// The ledger's tables (migration 2 of the module).
pub const MIGRATION: AdapterMigration = AdapterMigration {
    version: 2,
    description: "the GIS GMP ledger: charges and their events, payments, reconciliations, quittances",
    sql: "CREATE TABLE gisgmp_charges (\
              uin              TEXT PRIMARY KEY, \
              administrator    TEXT NOT NULL, \
              origin           TEXT NOT NULL, \
              meaning          INTEGER NOT NULL, \
              bill_date        TEXT NOT NULL, \
              total_amount     BIGINT NOT NULL, \
              payer_identifier TEXT NOT NULL, \
              payee_inn        TEXT NOT NULL, \
              kbk              TEXT NOT NULL, \
              status           INTEGER NOT NULL, \
              amount_to_pay    BIGINT NOT NULL, \
              document         TEXT NOT NULL, \
              change_reason    TEXT, \
              change_date      TEXT, \
              loaded_at        TEXT NOT NULL, \
              changed_at       TEXT NOT NULL); \
          CREATE INDEX gisgmp_charges_payer ON gisgmp_charges (payer_identifier); \
          CREATE INDEX gisgmp_charges_bill_date ON gisgmp_charges (bill_date); \
          CREATE TABLE gisgmp_charge_events (\
              uin        TEXT NOT NULL, \
              seq        BIGINT NOT NULL, \
              meaning    INTEGER NOT NULL, \
              document   TEXT NOT NULL, \
              reason     TEXT, \
              message_id TEXT NOT NULL, \
              at         TEXT NOT NULL, \
              PRIMARY KEY (uin, seq)); \
          CREATE TABLE gisgmp_payments (\
              payment_id       TEXT PRIMARY KEY, \
              uin              TEXT, \
              acceptor         TEXT NOT NULL, \
              meaning          INTEGER NOT NULL, \
              amount           BIGINT NOT NULL, \
              payment_date     TEXT NOT NULL, \
              payer_identifier TEXT NOT NULL, \
              payee_inn        TEXT NOT NULL, \
              kbk              TEXT NOT NULL, \
              document         TEXT NOT NULL, \
              reconciled_uin   TEXT, \
              service_provided INTEGER NOT NULL, \
              message_id       TEXT NOT NULL, \
              loaded_at        TEXT NOT NULL, \
              changed_at       TEXT NOT NULL); \
          CREATE INDEX gisgmp_payments_uin ON gisgmp_payments (uin); \
          CREATE INDEX gisgmp_payments_payer ON gisgmp_payments (payer_identifier); \
          CREATE INDEX gisgmp_payments_date ON gisgmp_payments (payment_date); \
          CREATE TABLE gisgmp_reconciliations (\
              uin        TEXT NOT NULL, \
              seq        BIGINT NOT NULL, \
              operation  TEXT NOT NULL, \
              message_id TEXT NOT NULL, \
              at         TEXT NOT NULL, \
              PRIMARY KEY (uin, seq)); \
          CREATE TABLE gisgmp_quittances (\
              uin            TEXT NOT NULL, \
              settlement     TEXT NOT NULL, \
              bill_status    INTEGER NOT NULL, \
              balance        BIGINT NOT NULL, \
              total_amount   BIGINT NOT NULL, \
              amount_payment BIGINT, \
              revoked        INTEGER NOT NULL, \
              reconcile_id   TEXT, \
              differences    TEXT NOT NULL, \
              created_at     TEXT NOT NULL, \
              PRIMARY KEY (uin, settlement))",
    postgres_sql: None,
};

/// A moment as the ledger stores it: UTC, fixed width, so text order is time order.
pub fn moment_key(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    t.format(&format).unwrap_or_default()
}

/// Reads a [`moment_key`] back.
pub fn moment_of_key(key: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(key, &time::format_description::well_known::Rfc3339).ok()
}

/// Why the ledger failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the GIS GMP ledger: {0}")]
    Store(#[from] StoreError),
    /// A stored document no longer reads: the ledger was changed outside the module.
    #[error("the GIS GMP ledger holds an unreadable {what} `{key}`: {problem}")]
    Corrupt {
        what: &'static str,
        key: String,
        problem: String,
    },
}

impl From<sqlx::Error> for LedgerError {
    fn from(e: sqlx::Error) -> LedgerError {
        LedgerError::Store(StoreError::Database(e))
    }
}

/// A charge's lifecycle state: the `Meaning` of its last change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Meaning {
    New = 1,
    Clarified = 2,
    Annulled = 3,
    Restored = 4,
}

impl Meaning {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: i64) -> Option<Meaning> {
        match code {
            1 => Some(Meaning::New),
            2 => Some(Meaning::Clarified),
            3 => Some(Meaning::Annulled),
            4 => Some(Meaning::Restored),
            _ => None,
        }
    }
}

/// A charge as it stands.
#[derive(Debug, Clone)]
pub struct ChargeRecord {
    pub uin: String,
    pub administrator: String,
    pub meaning: Meaning,
    pub status: u8,
    pub amount_to_pay: i64,
    /// The charge (`chg:ChargeType` attributes and children, as imported and changed).
    pub document: El,
    pub change_reason: Option<String>,
    pub change_date: Option<String>,
    pub loaded_at: String,
}

/// A payment as it stands.
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    pub payment_id: String,
    pub acceptor: String,
    pub meaning: Meaning,
    pub document: El,
    pub reconciled_uin: Option<String>,
    pub service_provided: bool,
    pub loaded_at: String,
}

/// One event of a charge's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeEvent {
    pub meaning: Meaning,
    /// `ChangeStatus/Reason` of a change.
    pub reason: Option<String>,
    /// The SMEV message that carried it.
    pub message_id: String,
    /// When it was recorded ([`moment_key`]).
    pub at: String,
}

/// A quittance as exports show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuittanceRecord {
    pub uin: String,
    pub settlement: String,
    pub bill_status: u8,
    pub balance: i64,
    pub total_amount: i64,
    pub amount_payment: Option<i64>,
    pub revoked: bool,
    pub reconcile_id: Option<String>,
    /// `(attribute, payment's value)` of the parameters that differ.
    pub differences: Vec<(String, String)>,
    pub created_at: String,
}

/// A reconciliation operation, as stored and replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// A payment carrying the UIN was received (or changed).
    Payment(String),
    Force(ForcedReconcileOp),
    Annul(AnnulmentOp),
}

/// A forced `Reconcile` with its payments named by УПНО (they are read at replay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForcedReconcileOp {
    WithPayments(Vec<String>),
    WithoutPayment,
    ForAmount { amount: u64, reconcile_id: String },
}

/// An `AnnulmentReconcile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnulmentOp {
    Payments(Vec<String>),
    WithoutPayment,
    ForAmount(String),
}

impl Operation {
    fn encode(&self) -> String {
        match self {
            Operation::Payment(id) => format!("payment {id}"),
            Operation::Force(ForcedReconcileOp::WithPayments(ids)) => {
                format!("force-payments {}", ids.join(","))
            }
            Operation::Force(ForcedReconcileOp::WithoutPayment) => "force-without".into(),
            Operation::Force(ForcedReconcileOp::ForAmount { amount, reconcile_id }) => {
                format!("force-amount {amount} {reconcile_id}")
            }
            Operation::Annul(AnnulmentOp::Payments(ids)) => format!("annul-payments {}", ids.join(",")),
            Operation::Annul(AnnulmentOp::WithoutPayment) => "annul-without".into(),
            Operation::Annul(AnnulmentOp::ForAmount(id)) => format!("annul-amount {id}"),
        }
    }

    fn decode(s: &str) -> Option<Operation> {
        let (verb, rest) = s.split_once(' ').unwrap_or((s, ""));
        let ids = || {
            rest.split(',')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Some(match verb {
            "payment" => Operation::Payment(rest.to_owned()),
            "force-payments" => Operation::Force(ForcedReconcileOp::WithPayments(ids())),
            "force-without" => Operation::Force(ForcedReconcileOp::WithoutPayment),
            "force-amount" => {
                let (amount, id) = rest.split_once(' ')?;
                Operation::Force(ForcedReconcileOp::ForAmount {
                    amount: amount.parse().ok()?,
                    reconcile_id: id.to_owned(),
                })
            }
            "annul-payments" => Operation::Annul(AnnulmentOp::Payments(ids())),
            "annul-without" => Operation::Annul(AnnulmentOp::WithoutPayment),
            "annul-amount" => Operation::Annul(AnnulmentOp::ForAmount(rest.to_owned())),
            _ => return None,
        })
    }
}

/// Why a reconciliation operation was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileRefusal {
    /// No charge with the UIN (or it is annulled).
    #[error("no active charge {0}")]
    NoCharge(String),
    /// A payment it names is not in the ledger.
    #[error("no payment {0}")]
    NoPayment(String),
    #[error(transparent)]
    Forced(#[from] ForcedError),
}

/// What a query of charges asks. Empty lists do not restrict.
#[derive(Debug, Clone, Default)]
pub struct ChargeQuery {
    pub uins: Vec<String>,
    pub payer_identifiers: Vec<String>,
    /// `LIKE` patterns of payer identifiers (a payer's INN in its identifiers).
    pub payer_patterns: Vec<String>,
    /// Bill dates, as [`moment_key`]s, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    pub kbks: Vec<String>,
    pub payee_inns: Vec<String>,
    pub administrator: Option<String>,
    /// `None` for any; `Some("")` for ordinary charges.
    pub origin: Option<String>,
    /// Only charges with something left to pay.
    pub unpaid: bool,
    /// Only charges not reconciled with status 1 and nothing left to pay.
    pub not_fully_matched: bool,
    pub statuses: Vec<u8>,
    pub include_annulled: bool,
    /// `totalAmount` at least, in kopecks.
    pub min_amount: Option<i64>,
    /// `totalAmount` at most, in kopecks.
    pub max_amount: Option<i64>,
    /// The order of [`Ledger::charges`]; the default is the newest bill first.
    pub order: Order<ChargeSort>,
}

/// What a query of payments asks. Empty lists do not restrict.
#[derive(Debug, Clone, Default)]
pub struct PaymentQuery {
    pub payment_ids: Vec<String>,
    pub uins: Vec<String>,
    pub payer_identifiers: Vec<String>,
    pub payer_patterns: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub kbks: Vec<String>,
    pub payee_inns: Vec<String>,
    pub acceptor: Option<String>,
    pub meanings: Vec<u8>,
    /// Only payments reconciled with no charge.
    pub unmatched: bool,
    /// The order of [`Ledger::payments`]; the default is the newest payment first.
    pub order: Order<PaymentSort>,
}

/// Which way a list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Smallest, earliest first.
    Ascending,
    /// Largest, latest first.
    #[default]
    Descending,
}

impl Direction {
    fn sql(self) -> &'static str {
        match self {
            Direction::Ascending => "ASC",
            Direction::Descending => "DESC",
        }
    }
}

/// What a list of a ledger's records is sorted by, and which way. Ties are broken by the
/// records' keys, ascending, so pages never overlap or leave a record out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Order<K> {
    pub by: K,
    pub direction: Direction,
}

impl<K: SortKey> Order<K> {
    /// `ORDER BY` with the key's own column (one of a fixed set, never a caller's text).
    fn sql(self) -> String {
        format!(
            " ORDER BY {} {}, {}",
            self.by.column(),
            self.direction.sql(),
            K::TIE_BREAK
        )
    }
}

/// A column a list can be sorted by: each variant names one column of this file's own.
pub trait SortKey: Copy {
    /// The columns that break ties, ascending.
    const TIE_BREAK: &'static str;

    /// The column (or expression over columns) sorted on.
    fn column(self) -> &'static str;
}

/// What charges are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChargeSort {
    /// `billDate`.
    #[default]
    BillDate,
    /// `totalAmount`.
    Amount,
    /// `amountToPay`.
    AmountToPay,
    Uin,
    /// The acknowledgment status (1–6).
    Status,
}

impl SortKey for ChargeSort {
    const TIE_BREAK: &'static str = "uin";

    fn column(self) -> &'static str {
        match self {
            ChargeSort::BillDate => "bill_date",
            ChargeSort::Amount => "total_amount",
            ChargeSort::AmountToPay => "amount_to_pay",
            ChargeSort::Uin => "uin",
            ChargeSort::Status => "status",
        }
    }
}

/// What payments are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PaymentSort {
    /// `paymentDate`.
    #[default]
    PaymentDate,
    Amount,
    /// The УПНО.
    PaymentId,
    /// The UIN the payment names; payments naming none come first in ascending order.
    Uin,
}

impl SortKey for PaymentSort {
    const TIE_BREAK: &'static str = "payment_id";

    fn column(self) -> &'static str {
        match self {
            PaymentSort::PaymentDate => "payment_date",
            PaymentSort::Amount => "amount",
            PaymentSort::PaymentId => "payment_id",
            // NULLs sort first on SQLite and last on PostgreSQL: as the empty text, the same
            // on both.
            PaymentSort::Uin => "COALESCE(uin, '')",
        }
    }
}

/// What quittances are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QuittanceSort {
    /// When the quittance first appeared (`creationDate`).
    #[default]
    Created,
    /// The charge's UIN.
    Uin,
    /// `billStatus` (1–6).
    Status,
    /// The amount of the payment (or of the forced reconciliation); none sorts as 0.
    Amount,
    /// The charge's balance after it.
    Balance,
}

impl SortKey for QuittanceSort {
    const TIE_BREAK: &'static str = "uin, settlement";

    fn column(self) -> &'static str {
        match self {
            QuittanceSort::Created => "created_at",
            QuittanceSort::Uin => "uin",
            QuittanceSort::Status => "bill_status",
            QuittanceSort::Amount => "COALESCE(amount_payment, 0)",
            QuittanceSort::Balance => "balance",
        }
    }
}

/// A page: the 1-based number and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u64,
    pub length: u64,
}

impl Default for Page {
    /// The first 100, as GIS GMP answers without `Paging`.
    fn default() -> Page {
        Page {
            number: 1,
            length: 100,
        }
    }
}

/// A bound value of a query built at run time.
enum Arg {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause under construction.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Where {
    fn placeholder(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    fn any_of(&mut self, column: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let list: Vec<String> = values
            .iter()
            .map(|v| self.placeholder(Arg::Text(v.clone())))
            .collect();
        self.clauses.push(format!("{column} IN ({})", list.join(", ")));
    }

    fn any_like(&mut self, column: &str, patterns: &[String], or_in: Option<(&str, &[String])>) {
        let mut alternatives: Vec<String> = patterns
            .iter()
            .map(|p| format!("{column} LIKE {}", self.placeholder(Arg::Text(p.clone()))))
            .collect();
        if let Some((col, values)) = or_in
            && !values.is_empty()
        {
            let list: Vec<String> = values
                .iter()
                .map(|v| self.placeholder(Arg::Text(v.clone())))
                .collect();
            alternatives.push(format!("{col} IN ({})", list.join(", ")));
        }
        if !alternatives.is_empty() {
            self.clauses.push(format!("({})", alternatives.join(" OR ")));
        }
    }

    fn compare(&mut self, column: &str, op: &str, arg: Arg) {
        let p = self.placeholder(arg);
        self.clauses.push(format!("{column} {op} {p}"));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// What [`Ledger::first_message_in`] looks up.
#[derive(Debug, Clone, Copy)]
pub enum FirstMessage<'a> {
    /// A payment by its УПНО.
    Payment(&'a str),
    /// A charge by its UIN (its event 1).
    Charge(&'a str),
}

/// Writes of the ledger done in one transaction ([`Ledger::batch`]).
#[derive(Debug)]
pub struct Batch {
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl Batch {
    /// Commits every write of the batch.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn commit(self) -> Result<(), LedgerError> {
        Ok(self.tx.commit().await?)
    }
}

/// The module's ledger. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Ledger {
    db: AdapterDatabase,
}

impl Ledger {
    /// The ledger in `db`, whose migrations ([`crate::MIGRATIONS`]) are applied.
    pub fn new(db: AdapterDatabase) -> Ledger {
        Ledger { db }
    }

    pub fn database(&self) -> &AdapterDatabase {
        &self.db
    }

    /// A transaction that will write: on SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so that a transaction that reads first never finds, when it comes to write,
    /// that another process wrote in between (SQLITE_BUSY_SNAPSHOT, which waiting cannot cure);
    /// on PostgreSQL the rows it reads to change are held with `FOR UPDATE`.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, LedgerError> {
        Ok(match self.db.backend() {
            Backend::Sqlite => self.db.pool().begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.db.pool().begin().await?,
        })
    }

    /// Writes done together, in one transaction ([`Batch::commit`]): an import's whole package,
    /// one commit instead of one per entity. Dropped without a commit, nothing of it is kept.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn batch(&self) -> Result<Batch, LedgerError> {
        Ok(Batch {
            tx: self.begin_write().await?,
        })
    }

    fn for_update(&self) -> &'static str {
        match self.db.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// The charge with `uin`.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn charge(&self, uin: &str) -> Result<Option<ChargeRecord>, LedgerError> {
        let row = sqlx::query(AssertSqlSafe(format!("{CHARGE_COLUMNS} WHERE uin = $1")))
            .bind(uin.to_owned())
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| charge_record(&r)).transpose()
    }

    /// [`Ledger::charge`] as `batch` sees it (its own writes included).
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn charge_in(&self, batch: &mut Batch, uin: &str) -> Result<Option<ChargeRecord>, LedgerError> {
        let row = sqlx::query(AssertSqlSafe(format!("{CHARGE_COLUMNS} WHERE uin = $1")))
            .bind(uin.to_owned())
            .fetch_optional(&mut *batch.tx)
            .await?;
        row.map(|r| charge_record(&r)).transpose()
    }

    /// Adds a new charge (event 1). `false` when its UIN is already there: nothing is written.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn insert_charge(
        &self,
        document: &El,
        facts: &ChargeFacts,
        administrator: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        let mut batch = self.batch().await?;
        let inserted = self
            .insert_charge_in(&mut batch, document, facts, administrator, message_id, now)
            .await?;
        batch.commit().await?;
        Ok(inserted)
    }

    /// [`Ledger::insert_charge`] as part of `batch`.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn insert_charge_in(
        &self,
        batch: &mut Batch,
        document: &El,
        facts: &ChargeFacts,
        administrator: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        let tx = &mut batch.tx;
        let xml = document.to_xml();
        let at = moment_key(now);
        let inserted = sqlx::query(
            "INSERT INTO gisgmp_charges (uin, administrator, origin, meaning, bill_date, total_amount, \
             payer_identifier, payee_inn, kbk, status, amount_to_pay, document, loaded_at, changed_at) \
             VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, 3, $9, $10, $11, $11) ON CONFLICT (uin) DO NOTHING",
        )
        .bind(facts.uin.as_str().to_owned())
        .bind(administrator.to_lowercase())
        .bind(origin_str(facts.origin).to_owned())
        .bind(moment_key(facts.bill_date))
        .bind(facts.total_amount.get() as i64)
        .bind(payer_key(facts.payer_identifier.as_ref().map(|p| p.as_str())))
        .bind(facts.requisites.payee_inn.as_str().to_owned())
        .bind(
            facts
                .requisites
                .kbk
                .as_ref()
                .map_or("0", |k| k.as_str())
                .to_owned(),
        )
        .bind(facts.total_amount.get() as i64)
        .bind(xml.clone())
        .bind(at.clone())
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO gisgmp_charge_events (uin, seq, meaning, document, reason, message_id, at) \
             VALUES ($1, 1, 1, $2, NULL, $3, $4)",
        )
        .bind(facts.uin.as_str().to_owned())
        .bind(xml)
        .bind(message_id.to_owned())
        .bind(at)
        .execute(&mut **tx)
        .await?;
        // Payments that arrived before their charge are reconciled now.
        let waiting: Vec<String> = sqlx::query(
            "SELECT payment_id FROM gisgmp_payments WHERE uin = $1 AND reconciled_uin IS NULL ORDER BY loaded_at",
        )
        .bind(facts.uin.as_str().to_owned())
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
        for id in waiting {
            // A payment that cannot be reconciled stays unmatched; the charge is taken anyway.
            let _ = self
                .replay_in(
                    batch,
                    facts.uin.as_str(),
                    Some(Operation::Payment(id)),
                    message_id,
                    now,
                )
                .await?;
        }
        Ok(true)
    }

    /// Records a change (2, 3 or 4) of a charge: its new document and state, then replays its
    /// reconciliation (the amount or requisites may have changed).
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn change_charge(
        &self,
        document: &El,
        facts: &ChargeFacts,
        change: &ChargeChange,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError> {
        let mut batch = self.batch().await?;
        self.change_charge_in(&mut batch, document, facts, change, message_id, now)
            .await?;
        batch.commit().await
    }

    /// [`Ledger::change_charge`] as part of `batch`.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn change_charge_in(
        &self,
        batch: &mut Batch,
        document: &El,
        facts: &ChargeFacts,
        change: &ChargeChange,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError> {
        let ChargeChange {
            meaning,
            reason,
            change_date,
        } = change;
        let meaning = *meaning;
        let uin = facts.uin.as_str().to_owned();
        let tx = &mut batch.tx;
        let xml = document.to_xml();
        let at = moment_key(now);
        sqlx::query(
            "UPDATE gisgmp_charges SET meaning = $2, bill_date = $3, total_amount = $4, payer_identifier = $5, \
             payee_inn = $6, kbk = $7, document = $8, change_reason = $9, change_date = $10, changed_at = $11 \
             WHERE uin = $1",
        )
        .bind(uin.clone())
        .bind(i64::from(meaning.code()))
        .bind(moment_key(facts.bill_date))
        .bind(facts.total_amount.get() as i64)
        .bind(payer_key(facts.payer_identifier.as_ref().map(|p| p.as_str())))
        .bind(facts.requisites.payee_inn.as_str().to_owned())
        .bind(facts.requisites.kbk.as_ref().map_or("0", |k| k.as_str()).to_owned())
        .bind(xml.clone())
        .bind(reason.to_owned())
        .bind(change_date.to_owned())
        .bind(at.clone())
        .execute(&mut **tx)
        .await?;
        let seq: i64 =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM gisgmp_charge_events WHERE uin = $1")
                .bind(uin.clone())
                .fetch_one(&mut **tx)
                .await?
                .get(0);
        sqlx::query(
            "INSERT INTO gisgmp_charge_events (uin, seq, meaning, document, reason, message_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uin.clone())
        .bind(seq)
        .bind(i64::from(meaning.code()))
        .bind(xml)
        .bind(reason.to_owned())
        .bind(message_id.to_owned())
        .bind(at)
        .execute(&mut **tx)
        .await?;
        self.replay_in(batch, &uin, None, message_id, now)
            .await?
            .map_err(|e| LedgerError::Corrupt {
                what: "reconciliation",
                key: uin.clone(),
                problem: e.to_string(),
            })?;
        Ok(())
    }

    /// The events of a charge, oldest first.
    ///
    /// # Errors
    /// [`LedgerError`]; [`LedgerError::Corrupt`] for a meaning that is not 1–4.
    pub async fn charge_events(&self, uin: &str) -> Result<Vec<ChargeEvent>, LedgerError> {
        let rows = sqlx::query(
            "SELECT meaning, reason, message_id, at FROM gisgmp_charge_events WHERE uin = $1 ORDER BY seq",
        )
        .bind(uin.to_owned())
        .fetch_all(self.db.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let code = r.get::<i64, _>(0);
                Ok(ChargeEvent {
                    meaning: Meaning::from_code(code).ok_or_else(|| LedgerError::Corrupt {
                        what: "charge event",
                        key: uin.to_owned(),
                        problem: format!("meaning {code} is not 1–4"),
                    })?,
                    reason: r.get::<Option<String>, _>(1),
                    message_id: r.get::<String, _>(2),
                    at: r.get::<String, _>(3),
                })
            })
            .collect()
    }

    /// The payment with `payment_id`.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn payment(&self, payment_id: &str) -> Result<Option<PaymentRecord>, LedgerError> {
        let row = sqlx::query(AssertSqlSafe(format!("{PAYMENT_COLUMNS} WHERE payment_id = $1")))
            .bind(payment_id.to_owned())
            .fetch_optional(self.db.pool())
            .await?;
        row.map(|r| payment_record(&r)).transpose()
    }

    /// Adds a new payment and reconciles it with the charge it names. `false` when its УПНО is
    /// already there: nothing is written.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn insert_payment(
        &self,
        document: &El,
        facts: &PaymentFacts,
        acceptor: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        let mut batch = self.batch().await?;
        let inserted = self
            .insert_payment_in(&mut batch, document, facts, acceptor, message_id, now)
            .await?;
        batch.commit().await?;
        Ok(inserted)
    }

    /// [`Ledger::insert_payment`] as part of `batch`.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn insert_payment_in(
        &self,
        batch: &mut Batch,
        document: &El,
        facts: &PaymentFacts,
        acceptor: &str,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        let at = moment_key(now);
        let inserted = sqlx::query(
            "INSERT INTO gisgmp_payments (payment_id, uin, acceptor, meaning, amount, payment_date, payer_identifier, \
             payee_inn, kbk, document, reconciled_uin, service_provided, message_id, loaded_at, changed_at) \
             VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, NULL, 0, $10, $11, $11) ON CONFLICT (payment_id) DO NOTHING",
        )
        .bind(facts.payment_id.as_str().to_owned())
        .bind(facts.uin.as_ref().map(|u| u.as_str().to_owned()))
        .bind(acceptor.to_lowercase())
        .bind(facts.amount.get() as i64)
        .bind(moment_key(facts.payment_date))
        .bind(payer_key(facts.payer_identifier.as_ref().map(|p| p.as_str())))
        .bind(facts.requisites.payee_inn.as_str().to_owned())
        .bind(facts.requisites.kbk.as_ref().map_or("0", |k| k.as_str()).to_owned())
        .bind(document.to_xml())
        .bind(message_id.to_owned())
        .bind(at)
        .execute(&mut *batch.tx)
        .await?
        .rows_affected()
            == 1;
        if inserted && let Some(uin) = &facts.uin {
            // No charge yet (or annulled): the payment waits unmatched, and is reconciled when
            // the charge comes.
            let _ = self
                .replay_in(
                    batch,
                    uin.as_str(),
                    Some(Operation::Payment(facts.payment_id.as_str().to_owned())),
                    message_id,
                    now,
                )
                .await?;
        }
        Ok(inserted)
    }

    /// Sets or clears a payment's «услуга предоставлена» mark. `false` when the payment is not
    /// there.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn set_service_provided(
        &self,
        payment_id: &str,
        provided: bool,
        now: OffsetDateTime,
    ) -> Result<bool, LedgerError> {
        Ok(sqlx::query(
            "UPDATE gisgmp_payments SET service_provided = $2, changed_at = $3 WHERE payment_id = $1",
        )
        .bind(payment_id.to_owned())
        .bind(i64::from(provided))
        .bind(moment_key(now))
        .execute(self.db.pool())
        .await?
        .rows_affected()
            == 1)
    }

    /// Applies `operation` to the charge `uin` and records it, all or nothing, and returns the
    /// quittances the operation touched (for a forced reconciliation's answer) — or why it was
    /// refused (nothing recorded).
    ///
    /// # Errors
    /// [`LedgerError`] when the database fails.
    pub async fn reconcile(
        &self,
        uin: &str,
        operation: Operation,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Result<Vec<Quittance>, ReconcileRefusal>, LedgerError> {
        let mut batch = self.batch().await?;
        let outcome = self
            .replay_in(&mut batch, uin, Some(operation), message_id, now)
            .await?;
        batch.commit().await?;
        Ok(outcome)
    }

    /// Replays the reconciliation of `uin`, with `new` applied last (and recorded when it
    /// applies), and rewrites its quittances and the charge's status.
    ///
    /// Part of `batch`, under a savepoint of its own: a refusal leaves nothing of it behind.
    async fn replay_in(
        &self,
        batch: &mut Batch,
        uin: &str,
        new: Option<Operation>,
        message_id: &str,
        now: OffsetDateTime,
    ) -> Result<Result<Vec<Quittance>, ReconcileRefusal>, LedgerError> {
        let mut tx = sqlx::Acquire::begin(&mut batch.tx).await?;
        let Some(row) = sqlx::query(AssertSqlSafe(format!(
            "{CHARGE_COLUMNS} WHERE uin = $1{}",
            self.for_update()
        )))
        .bind(uin.to_owned())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Err(ReconcileRefusal::NoCharge(uin.to_owned())));
        };
        let charge = charge_record(&row)?;
        if charge.meaning == Meaning::Annulled && new.is_some() {
            return Ok(Err(ReconcileRefusal::NoCharge(uin.to_owned())));
        }
        let facts = charge_facts(&charge.document).map_err(|e| LedgerError::Corrupt {
            what: "charge",
            key: uin.to_owned(),
            problem: e.to_string(),
        })?;
        let ops: Vec<String> =
            sqlx::query("SELECT operation FROM gisgmp_reconciliations WHERE uin = $1 ORDER BY seq")
                .bind(uin.to_owned())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect();
        let mut payments: HashMap<String, Option<PaymentRecord>> = HashMap::new();
        let mut rec = ChargeReconciliation::new(facts.reconcile_charge());
        for op in &ops {
            let op = Operation::decode(op).ok_or_else(|| LedgerError::Corrupt {
                what: "reconciliation operation",
                key: uin.to_owned(),
                problem: op.clone(),
            })?;
            // Stored operations applied when they were recorded; one that no longer applies
            // (its payment changed since) is passed over.
            let _ = apply(&mut rec, &op, &mut payments, &mut tx).await?;
        }
        let mut touched = Vec::new();
        if let Some(op) = &new {
            match apply(&mut rec, op, &mut payments, &mut tx).await? {
                Ok(q) => touched = q,
                Err(refusal) => return Ok(Err(refusal)),
            }
            let seq: i64 =
                sqlx::query("SELECT COALESCE(MAX(seq), 0) + 1 FROM gisgmp_reconciliations WHERE uin = $1")
                    .bind(uin.to_owned())
                    .fetch_one(&mut *tx)
                    .await?
                    .get(0);
            sqlx::query("INSERT INTO gisgmp_reconciliations (uin, seq, operation, message_id, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(uin.to_owned())
                .bind(seq)
                .bind(op.encode())
                .bind(message_id.to_owned())
                .bind(moment_key(now))
                .execute(&mut *tx)
                .await?;
        }
        let outcome = match rec.outcome() {
            Ok(o) => o,
            Err(e) => return Ok(Err(ReconcileRefusal::Forced(ForcedError::Balance(e)))),
        };
        // Rewrite the quittances, keeping each one's first appearance.
        let created: HashMap<String, String> =
            sqlx::query("SELECT settlement, created_at FROM gisgmp_quittances WHERE uin = $1")
                .bind(uin.to_owned())
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
                .collect();
        sqlx::query("DELETE FROM gisgmp_quittances WHERE uin = $1")
            .bind(uin.to_owned())
            .execute(&mut *tx)
            .await?;
        let now_key = moment_key(now);
        for q in &outcome.quittances {
            let settlement = settlement_key(q);
            let differences = q
                .differences
                .iter()
                .map(|d| format!("{}={}", d.attribute(), d.value()))
                .collect::<Vec<_>>()
                .join("\n");
            sqlx::query(
                "INSERT INTO gisgmp_quittances (uin, settlement, bill_status, balance, total_amount, amount_payment, \
                 revoked, reconcile_id, differences, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(uin.to_owned())
            .bind(settlement.clone())
            .bind(i64::from(q.bill_status.code()))
            .bind(q.balance)
            .bind(q.total_amount.get() as i64)
            .bind(q.amount_payment.map(|a| a.get() as i64))
            .bind(i64::from(q.is_revoked))
            .bind(q.reconcile_id.as_ref().map(|r| r.as_str().to_owned()))
            .bind(differences)
            .bind(created.get(&settlement).cloned().unwrap_or_else(|| now_key.clone()))
            .execute(&mut *tx)
            .await?;
            if let crate::reconcile::Settlement::Payment(id) = &q.payment {
                let reconciled = if q.is_revoked { None } else { Some(uin.to_owned()) };
                sqlx::query("UPDATE gisgmp_payments SET reconciled_uin = $2 WHERE payment_id = $1")
                    .bind(id.as_str().to_owned())
                    .bind(reconciled)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE gisgmp_charges SET status = $2, amount_to_pay = $3 WHERE uin = $1")
            .bind(uin.to_owned())
            .bind(i64::from(outcome.status.code()))
            .bind(outcome.amount_to_pay)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(touched))
    }

    /// The charges `query` selects, in its [`order`](ChargeQuery::order), one page, and
    /// whether more follow.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn charges(
        &self,
        query: &ChargeQuery,
        page: Page,
    ) -> Result<(Vec<ChargeRecord>, bool), LedgerError> {
        let w = charge_conditions(query);
        let rows = self
            .page(
                &format!("{CHARGE_COLUMNS}{}{}", w.sql(), query.order.sql()),
                w.args,
                page,
            )
            .await?;
        paged(&rows, page, charge_record)
    }

    /// The payments `query` selects, in its [`order`](PaymentQuery::order), one page, and
    /// whether more follow.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn payments(
        &self,
        query: &PaymentQuery,
        page: Page,
    ) -> Result<(Vec<PaymentRecord>, bool), LedgerError> {
        let mut w = Where::default();
        w.any_of("payment_id", &query.payment_ids);
        w.any_of("uin", &query.uins);
        w.any_like(
            "payer_identifier",
            &query.payer_patterns,
            Some(("payer_identifier", &query.payer_identifiers)),
        );
        w.any_of("kbk", &query.kbks);
        w.any_of("payee_inn", &query.payee_inns);
        if let Some(from) = &query.from {
            w.compare("payment_date", ">=", Arg::Text(from.clone()));
        }
        if let Some(to) = &query.to {
            w.compare("payment_date", "<=", Arg::Text(to.clone()));
        }
        if let Some(a) = &query.acceptor {
            w.compare("acceptor", "=", Arg::Text(a.to_lowercase()));
        }
        if !query.meanings.is_empty() {
            let list: Vec<String> = query.meanings.iter().map(|s| s.to_string()).collect();
            w.clauses.push(format!("meaning IN ({})", list.join(", ")));
        }
        if query.unmatched {
            w.clauses.push("reconciled_uin IS NULL AND meaning <> 3".into());
        }
        let rows = self
            .page(
                &format!("{PAYMENT_COLUMNS}{}{}", w.sql(), query.order.sql()),
                w.args,
                page,
            )
            .await?;
        paged(&rows, page, payment_record)
    }

    async fn page(
        &self,
        sql: &str,
        args: Vec<Arg>,
        page: Page,
    ) -> Result<Vec<sqlx::any::AnyRow>, LedgerError> {
        let offset = page.number.saturating_sub(1).saturating_mul(page.length);
        let sql = format!("{sql} LIMIT {} OFFSET {offset}", page.length.saturating_add(1));
        Ok(bound(sql, args).fetch_all(self.db.pool()).await?)
    }

    /// The quittances of the charges `uins`, each charge's in the order they appeared.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn quittances(&self, uins: &[String]) -> Result<Vec<QuittanceRecord>, LedgerError> {
        let mut w = Where::default();
        w.any_of("uin", uins);
        let sql = format!(
            "{QUITTANCE_COLUMNS}{} ORDER BY uin, created_at, settlement",
            w.sql()
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in w.args {
            if let Arg::Text(s) = a {
                q = q.bind(s);
            }
        }
        let rows = q.fetch_all(self.db.pool()).await?;
        Ok(rows.iter().map(quittance_record).collect())
    }

    /// The quittances of the charges `charges` selects (its order and the charges' paging
    /// aside), in `order`, one page, and whether more follow: every quittance, revoked ones too.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn quittance_list(
        &self,
        charges: &ChargeQuery,
        order: Order<QuittanceSort>,
        page: Page,
    ) -> Result<(Vec<QuittanceRecord>, bool), LedgerError> {
        let w = charge_conditions(charges);
        let rows = self
            .page(
                &format!(
                    "{QUITTANCE_COLUMNS} WHERE uin IN (SELECT uin FROM gisgmp_charges{}){}",
                    w.sql(),
                    order.sql()
                ),
                w.args,
                page,
            )
            .await?;
        let more = rows.len() as u64 > page.length;
        let records = rows
            .iter()
            .take(page.length as usize)
            .map(quittance_record)
            .collect();
        Ok((records, more))
    }

    /// The SMEV message that carried the payment or charge `key` first, as `batch` sees it: a
    /// package reads through its own transaction only, so that it never waits for a second
    /// connection while it holds one.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn first_message_in(
        &self,
        batch: &mut Batch,
        of: FirstMessage<'_>,
    ) -> Result<Option<String>, LedgerError> {
        let (sql, key) = match of {
            FirstMessage::Payment(id) => ("SELECT message_id FROM gisgmp_payments WHERE payment_id = $1", id),
            FirstMessage::Charge(uin) => (
                "SELECT message_id FROM gisgmp_charge_events WHERE uin = $1 AND seq = 1",
                uin,
            ),
        };
        Ok(sqlx::query(sql)
            .bind(key.to_owned())
            .fetch_optional(&mut *batch.tx)
            .await?
            .map(|r| r.get::<String, _>(0)))
    }

    /// The reconcileID a partial repayment of `uin` gets now: `N` + the administrator's URN +
    /// the moment, moved on by a second while the charge already has it.
    ///
    /// # Errors
    /// [`LedgerError`].
    pub async fn new_reconcile_id(
        &self,
        uin: &str,
        urn: &crate::urn::Urn,
        now: OffsetDateTime,
    ) -> Result<Option<ReconcileId>, LedgerError> {
        let used: Vec<String> = sqlx::query("SELECT operation FROM gisgmp_reconciliations WHERE uin = $1")
            .bind(uin.to_owned())
            .fetch_all(self.db.pool())
            .await?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        let local = now.to_offset(crate::entity::moscow());
        for shift in 0..3600 {
            let at = local + time::Duration::seconds(shift);
            let Ok(id) = ReconcileId::new(urn, time::PrimitiveDateTime::new(at.date(), at.time())) else {
                return Ok(None);
            };
            if !used.iter().any(|op| op.ends_with(id.as_str())) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}

/// The `WHERE` clause of the charges `query` selects (its order aside).
fn charge_conditions(query: &ChargeQuery) -> Where {
    let mut w = Where::default();
    w.any_of("uin", &query.uins);
    w.any_like(
        "payer_identifier",
        &query.payer_patterns,
        Some(("payer_identifier", &query.payer_identifiers)),
    );
    w.any_of("kbk", &query.kbks);
    w.any_of("payee_inn", &query.payee_inns);
    if let Some(from) = &query.from {
        w.compare("bill_date", ">=", Arg::Text(from.clone()));
    }
    if let Some(to) = &query.to {
        w.compare("bill_date", "<=", Arg::Text(to.clone()));
    }
    if let Some(a) = &query.administrator {
        w.compare("administrator", "=", Arg::Text(a.to_lowercase()));
    }
    if let Some(o) = &query.origin {
        w.compare("origin", "=", Arg::Text(o.clone()));
    }
    if let Some(min) = query.min_amount {
        w.compare("total_amount", ">=", Arg::Int(min));
    }
    if let Some(max) = query.max_amount {
        w.compare("total_amount", "<=", Arg::Int(max));
    }
    if !query.statuses.is_empty() {
        let list: Vec<String> = query.statuses.iter().map(|s| s.to_string()).collect();
        w.clauses.push(format!("status IN ({})", list.join(", ")));
    }
    if query.unpaid {
        w.clauses.push("amount_to_pay > 0".into());
    }
    if query.not_fully_matched {
        w.clauses
            .push("NOT (status IN (1, 4, 5, 6) AND amount_to_pay <= 0)".into());
    }
    if !query.include_annulled {
        w.clauses.push("meaning <> 3".into());
    }
    w
}

/// The payer identifier column's value: the identifier, or `0`.
fn payer_key(payer: Option<&str>) -> String {
    payer.unwrap_or("0").to_owned()
}

/// A quittance's key within its charge.
fn settlement_key(q: &Quittance) -> String {
    match &q.reconcile_id {
        Some(id) => id.as_str().to_owned(),
        None => q.payment.as_str().to_owned(),
    }
}

const CHARGE_COLUMNS: &str = "SELECT uin, administrator, meaning, status, amount_to_pay, document, change_reason, \
                              change_date, loaded_at FROM gisgmp_charges";

const PAYMENT_COLUMNS: &str = "SELECT payment_id, acceptor, meaning, document, reconciled_uin, service_provided, \
                               loaded_at FROM gisgmp_payments";

const QUITTANCE_COLUMNS: &str = "SELECT uin, settlement, bill_status, balance, total_amount, amount_payment, \
                                 revoked, reconcile_id, differences, created_at FROM gisgmp_quittances";

/// One page of `rows` (fetched one longer than the page) as records, and whether more follow.
fn paged<T>(
    rows: &[sqlx::any::AnyRow],
    page: Page,
    record: fn(&sqlx::any::AnyRow) -> Result<T, LedgerError>,
) -> Result<(Vec<T>, bool), LedgerError> {
    let more = rows.len() as u64 > page.length;
    let records = rows
        .iter()
        .take(page.length as usize)
        .map(record)
        .collect::<Result<_, _>>()?;
    Ok((records, more))
}

/// The assembled statement `sql` with `args` bound in order.
fn bound(sql: String, args: Vec<Arg>) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s),
            Arg::Int(i) => q.bind(i),
        };
    }
    q
}

fn quittance_record(r: &sqlx::any::AnyRow) -> QuittanceRecord {
    QuittanceRecord {
        uin: r.get(0),
        settlement: r.get(1),
        bill_status: u8::try_from(r.get::<i64, _>(2)).unwrap_or(0),
        balance: r.get(3),
        total_amount: r.get(4),
        amount_payment: r.get(5),
        revoked: r.get::<i64, _>(6) != 0,
        reconcile_id: r.get(7),
        differences: r
            .get::<String, _>(8)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(a, v)| (a.to_owned(), v.to_owned()))
            .collect(),
        created_at: r.get(9),
    }
}

fn document(what: &'static str, key: &str, xml: &str) -> Result<El, LedgerError> {
    El::parse(xml).map_err(|e| LedgerError::Corrupt {
        what,
        key: key.to_owned(),
        problem: e.to_string(),
    })
}

fn charge_record(r: &sqlx::any::AnyRow) -> Result<ChargeRecord, LedgerError> {
    let uin: String = r.get(0);
    let meaning = Meaning::from_code(r.get::<i64, _>(2)).ok_or_else(|| LedgerError::Corrupt {
        what: "charge state",
        key: uin.clone(),
        problem: "meaning".into(),
    })?;
    let document = document("charge", &uin, &r.get::<String, _>(5))?;
    Ok(ChargeRecord {
        administrator: r.get(1),
        meaning,
        status: u8::try_from(r.get::<i64, _>(3)).unwrap_or(0),
        amount_to_pay: r.get(4),
        document,
        change_reason: r.get(6),
        change_date: r.get(7),
        loaded_at: r.get(8),
        uin,
    })
}

fn payment_record(r: &sqlx::any::AnyRow) -> Result<PaymentRecord, LedgerError> {
    let payment_id: String = r.get(0);
    let meaning = Meaning::from_code(r.get::<i64, _>(2)).ok_or_else(|| LedgerError::Corrupt {
        what: "payment state",
        key: payment_id.clone(),
        problem: "meaning".into(),
    })?;
    let document = document("payment", &payment_id, &r.get::<String, _>(3))?;
    Ok(PaymentRecord {
        acceptor: r.get(1),
        meaning,
        document,
        reconciled_uin: r.get(4),
        service_provided: r.get::<i64, _>(5) != 0,
        loaded_at: r.get(6),
        payment_id,
    })
}

/// The payment `id` as reconciliation sees it, read once per replay.
async fn load_payment(
    id: &str,
    cache: &mut HashMap<String, Option<PaymentRecord>>,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<Option<crate::reconcile::Payment>, LedgerError> {
    if !cache.contains_key(id) {
        let row = sqlx::query(AssertSqlSafe(format!("{PAYMENT_COLUMNS} WHERE payment_id = $1")))
            .bind(id.to_owned())
            .fetch_optional(&mut **tx)
            .await?;
        let record = row.map(|r| payment_record(&r)).transpose()?;
        cache.insert(id.to_owned(), record);
    }
    let Some(Some(record)) = cache.get(id) else {
        return Ok(None);
    };
    let facts = payment_facts(&record.document).map_err(|e| LedgerError::Corrupt {
        what: "payment",
        key: id.to_owned(),
        problem: e.to_string(),
    })?;
    let mut payment = facts.reconcile_payment(record.meaning == Meaning::Annulled);
    payment.refunded = crate::amount::Kopecks::from(refunds::refunded(id, tx).await?.max(0) as u64);
    Ok(Some(payment))
}

/// Applies one operation to the projection.
async fn apply(
    rec: &mut ChargeReconciliation,
    op: &Operation,
    cache: &mut HashMap<String, Option<PaymentRecord>>,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<Result<Vec<Quittance>, ReconcileRefusal>, LedgerError> {
    Ok(match op {
        Operation::Payment(id) => match load_payment(id, cache, tx).await? {
            None => Err(ReconcileRefusal::NoPayment(id.clone())),
            Some(p) => match rec.receive(p) {
                Ok(()) => Ok(Vec::new()),
                // Not this charge's: nothing to reconcile.
                Err(_) => Ok(Vec::new()),
            },
        },
        Operation::Force(f) => {
            let request = match f {
                ForcedReconcileOp::WithPayments(ids) => {
                    let mut payments = Vec::with_capacity(ids.len());
                    for id in ids {
                        match load_payment(id, cache, tx).await? {
                            Some(p) => payments.push(p),
                            None => return Ok(Err(ReconcileRefusal::NoPayment(id.clone()))),
                        }
                    }
                    ForcedReconcile::WithPayments(payments)
                }
                ForcedReconcileOp::WithoutPayment => ForcedReconcile::WithoutPayment,
                ForcedReconcileOp::ForAmount { amount, reconcile_id } => {
                    let Ok(reconcile_id) = ReconcileId::parse(reconcile_id) else {
                        return Ok(Err(ReconcileRefusal::Forced(ForcedError::ReconcileIdRequired)));
                    };
                    ForcedReconcile::ForAmount {
                        amount: crate::amount::Kopecks::from(*amount),
                        reconcile_id,
                    }
                }
            };
            rec.force(request).map_err(ReconcileRefusal::from)
        }
        Operation::Annul(a) => {
            let request = match a {
                AnnulmentOp::Payments(ids) => {
                    let mut parsed = Vec::with_capacity(ids.len());
                    for id in ids {
                        match PaymentId::parse(id) {
                            Ok(p) => parsed.push(p),
                            Err(_) => return Ok(Err(ReconcileRefusal::NoPayment(id.clone()))),
                        }
                    }
                    Annulment::Payments(parsed)
                }
                AnnulmentOp::WithoutPayment => Annulment::WithoutPayment,
                AnnulmentOp::ForAmount(id) => match ReconcileId::parse(id) {
                    Ok(r) => Annulment::ForAmount(r),
                    Err(_) => return Ok(Err(ReconcileRefusal::Forced(ForcedError::ReconcileIdRequired))),
                },
            };
            rec.annul(request)
                .map(|()| Vec::new())
                .map_err(ReconcileRefusal::from)
        }
    })
}

mod refunds;

pub use refunds::{MIGRATION as REFUNDS_MIGRATION, RefundOutcome, RefundQuery, RefundRecord};

#[cfg(test)]
mod tests;
