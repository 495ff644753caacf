//! The ledger's lists as operators ask for them — shared by `rsmev gisgmp charges|payments|
//! quittances` and the module's admin API ([`crate::api`]), so both select, sort, page and
//! describe records the same way.
//!
//! - **Filters** ([`ChargeFilter`], [`PaymentFilter`]): typed values (a [`Uin`], a [`Urn`], a
//!   Moscow day…) turned into the ledger's [`ChargeQuery`] / [`PaymentQuery`]; the database does
//!   the selecting ([`crate::ledger`]). A filter that can match nothing by construction (`from`
//!   after `to`, a minimum above the maximum) is refused ([`FilterError`]) rather than answered
//!   with an empty list.
//! - **Order** ([`order`]) and sort keys by name ([`CHARGE_SORTS`], [`PAYMENT_SORTS`],
//!   [`QUITTANCE_SORTS`]): the words the CLI's `--sort` and the API's `sort` take.
//! - **Records as fields** ([`charge_row`], [`payment_row`], [`quittance_row`] in the order of
//!   [`CHARGE_FIELDS`], [`PAYMENT_FIELDS`], [`QUITTANCE_FIELDS`]): each value typed ([`Value`]:
//!   kopecks, moments, flags, absent), so that each caller prints it its way and JSON is the
//!   same everywhere ([`Value::to_json`]).

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::entity::{charge_facts, moscow, payment_facts, write_date_time};
use crate::ledger::{
    ChargeQuery, ChargeRecord, ChargeSort, Direction, Meaning, Order, Page, PaymentQuery, PaymentRecord,
    PaymentSort, QuittanceRecord, QuittanceSort, moment_key, moment_of_key,
};
use crate::payer::PayerIdentifier;
use crate::payment_id::PaymentId;
use crate::uin::Uin;
use crate::urn::Urn;

/// Most records a page of a list holds.
pub const MAX_PAGE_SIZE: u64 = 1000;
/// The last page a list may ask for (so that the offset stays within a database's integers).
pub const MAX_PAGE: u64 = 1_000_000_000;
/// Records a page when the caller names no size.
pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// Why a filter or a page is refused: it could match nothing, or asks too much.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// The first day is after the last.
    #[error("from {from} is after to {to}: no day is between them")]
    DaysReversed { from: Date, to: Date },
    /// The smallest amount is above the largest.
    #[error("the minimum amount {min} is above the maximum {max}: nothing can match")]
    AmountsReversed { min: i64, max: i64 },
    /// An amount no record can have (beyond the database's integers).
    #[error("amount {kopecks}: more kopecks than any amount holds")]
    AmountTooLarge { kopecks: u64 },
    /// A page number or size out of range.
    #[error("{what} {value} is out of range: 1 to {max}")]
    PageOutOfRange {
        what: &'static str,
        value: u64,
        max: u64,
    },
}

/// What chooses charges (for the charges' list, and whose quittances the quittances' list
/// shows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChargeFilter {
    /// The administrator that formed them.
    pub administrator: Option<Urn>,
    pub payers: Vec<PayerIdentifier>,
    pub uins: Vec<Uin>,
    /// Acknowledgment statuses 1–6.
    pub statuses: Vec<u8>,
    /// Bill dates, Moscow days, inclusive.
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// `totalAmount`, kopecks, inclusive.
    pub min_amount: Option<u64>,
    pub max_amount: Option<u64>,
    /// Annulled charges too.
    pub annulled: bool,
}

impl ChargeFilter {
    /// The ledger's query (its order left at the default).
    ///
    /// # Errors
    /// [`FilterError`]: days or amounts the wrong way round, an amount beyond any.
    pub fn query(&self) -> Result<ChargeQuery, FilterError> {
        let (from, to) = day_range(self.from, self.to)?;
        let kopecks = |value: Option<u64>| {
            value
                .map(|v| i64::try_from(v).map_err(|_| FilterError::AmountTooLarge { kopecks: v }))
                .transpose()
        };
        let min_amount = kopecks(self.min_amount)?;
        let max_amount = kopecks(self.max_amount)?;
        if let (Some(min), Some(max)) = (min_amount, max_amount)
            && min > max
        {
            return Err(FilterError::AmountsReversed { min, max });
        }
        Ok(ChargeQuery {
            uins: self.uins.iter().map(|u| u.as_str().to_owned()).collect(),
            payer_identifiers: self.payers.iter().map(|p| p.as_str().to_owned()).collect(),
            from,
            to,
            administrator: self.administrator.as_ref().map(|u| u.as_str().to_owned()),
            statuses: self.statuses.clone(),
            include_annulled: self.annulled,
            min_amount,
            max_amount,
            ..ChargeQuery::default()
        })
    }
}

/// What chooses payments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// The participant that accepted them.
    pub acceptor: Option<Urn>,
    pub payers: Vec<PayerIdentifier>,
    /// The UINs they name.
    pub uins: Vec<Uin>,
    pub payment_ids: Vec<PaymentId>,
    /// Payment dates, Moscow days, inclusive.
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// Only payments reconciled with no charge.
    pub unmatched: bool,
}

impl PaymentFilter {
    /// The ledger's query (its order left at the default).
    ///
    /// # Errors
    /// [`FilterError::DaysReversed`].
    pub fn query(&self) -> Result<PaymentQuery, FilterError> {
        let (from, to) = day_range(self.from, self.to)?;
        Ok(PaymentQuery {
            payment_ids: self.payment_ids.iter().map(|p| p.as_str().to_owned()).collect(),
            uins: self.uins.iter().map(|u| u.as_str().to_owned()).collect(),
            payer_identifiers: self.payers.iter().map(|p| p.as_str().to_owned()).collect(),
            from,
            to,
            acceptor: self.acceptor.as_ref().map(|u| u.as_str().to_owned()),
            unmatched: self.unmatched,
            ..PaymentQuery::default()
        })
    }
}

/// `from` and `to` as the ledger's moment keys: from the first microsecond of the first Moscow
/// day to the last of the second.
///
/// # Errors
/// [`FilterError::DaysReversed`].
pub fn day_range(
    from: Option<Date>,
    to: Option<Date>,
) -> Result<(Option<String>, Option<String>), FilterError> {
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(FilterError::DaysReversed { from, to });
    }
    let at = |day: Date, time: Time| moment_key(PrimitiveDateTime::new(day, time).assume_offset(moscow()));
    let last = Time::from_hms_micro(23, 59, 59, 999_999).unwrap_or(Time::MIDNIGHT);
    Ok((from.map(|d| at(d, Time::MIDNIGHT)), to.map(|d| at(d, last))))
}

/// The sort asked for: `key` smallest first (largest when `desc`); none asked: `default`,
/// newest first.
pub fn order<K>(key: Option<K>, default: K, desc: bool) -> Order<K> {
    match key {
        Some(by) => Order {
            by,
            direction: if desc {
                Direction::Descending
            } else {
                Direction::Ascending
            },
        },
        None => Order {
            by: default,
            direction: Direction::Descending,
        },
    }
}

/// A page, its number and size checked against [`MAX_PAGE`] and [`MAX_PAGE_SIZE`].
///
/// # Errors
/// [`FilterError::PageOutOfRange`].
pub fn page(number: u64, size: u64) -> Result<Page, FilterError> {
    if !(1..=MAX_PAGE).contains(&number) {
        return Err(FilterError::PageOutOfRange {
            what: "page",
            value: number,
            max: MAX_PAGE,
        });
    }
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return Err(FilterError::PageOutOfRange {
            what: "page size",
            value: size,
            max: MAX_PAGE_SIZE,
        });
    }
    Ok(Page { number, length: size })
}

/// The names of the charges' sort keys.
pub const CHARGE_SORTS: &[(&str, ChargeSort)] = &[
    ("date", ChargeSort::BillDate),
    ("amount", ChargeSort::Amount),
    ("to-pay", ChargeSort::AmountToPay),
    ("uin", ChargeSort::Uin),
    ("status", ChargeSort::Status),
];

/// The names of the payments' sort keys.
pub const PAYMENT_SORTS: &[(&str, PaymentSort)] = &[
    ("date", PaymentSort::PaymentDate),
    ("amount", PaymentSort::Amount),
    ("payment-id", PaymentSort::PaymentId),
    ("uin", PaymentSort::Uin),
];

/// The names of the quittances' sort keys.
pub const QUITTANCE_SORTS: &[(&str, QuittanceSort)] = &[
    ("date", QuittanceSort::Created),
    ("uin", QuittanceSort::Uin),
    ("status", QuittanceSort::Status),
    ("amount", QuittanceSort::Amount),
    ("balance", QuittanceSort::Balance),
];

/// The key named `name` in `keys` (one of the lists above).
pub fn sort_key<K: Copy>(keys: &[(&str, K)], name: &str) -> Option<K> {
    keys.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// One value of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Integer(i64),
    /// An amount in kopecks.
    Kopecks(i64),
    /// A moment, shown in Moscow time.
    Moment(OffsetDateTime),
    Flag(bool),
    /// The record has none.
    Absent,
}

impl Value {
    pub fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    pub fn optional(s: Option<&str>) -> Value {
        s.map_or(Value::Absent, Value::text)
    }

    /// A stored moment ([`moment_key`]); the key as it is should it not read.
    pub fn moment_key(key: &str) -> Value {
        moment_of_key(key).map_or_else(|| Value::text(key), Value::Moment)
    }

    /// The value as text, unquoted: kopecks as an integer, a moment as RFC 3339 in Moscow time
    /// with milliseconds, a flag as `true`/`false`, absent as empty.
    pub fn plain(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Integer(n) | Value::Kopecks(n) => n.to_string(),
            Value::Moment(t) => write_date_time(*t),
            Value::Flag(b) => b.to_string(),
            Value::Absent => String::new(),
        }
    }

    /// The value in JSON: numbers for integers and kopecks, booleans, `null` when absent,
    /// strings otherwise ([`Value::plain`]).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Integer(n) | Value::Kopecks(n) => (*n).into(),
            Value::Flag(b) => (*b).into(),
            Value::Absent => serde_json::Value::Null,
            Value::Text(_) | Value::Moment(_) => self.plain().into(),
        }
    }
}

/// `fields` and `row` as one JSON object (its keys sorted, as `serde_json` keeps them).
pub fn json_object(fields: &[&str], row: &[Value]) -> serde_json::Value {
    serde_json::Value::Object(
        fields
            .iter()
            .zip(row)
            .map(|(f, v)| ((*f).to_owned(), v.to_json()))
            .collect(),
    )
}

/// A record of the ledger that does not read as its kind: the ledger was changed outside the
/// module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the ledger's {what} {key} does not read: {problem}")]
pub struct UnreadableRecord {
    pub what: &'static str,
    pub key: String,
    pub problem: String,
}

/// The fields of a charge's row ([`charge_row`]).
pub const CHARGE_FIELDS: &[&str] = &[
    "uin",
    "bill_date",
    "total_amount",
    "amount_to_pay",
    "status",
    "state",
    "administrator",
    "payer_identifier",
    "payer_name",
    "payee_inn",
    "kbk",
    "oktmo",
    "change_reason",
    "loaded_at",
    "purpose",
];

/// A change's `Meaning` as a word.
fn state(meaning: Meaning) -> Value {
    Value::text(match meaning {
        Meaning::New => "new",
        Meaning::Clarified => "clarified",
        Meaning::Annulled => "annulled",
        Meaning::Restored => "restored",
    })
}

/// A charge's values, in the order of [`CHARGE_FIELDS`].
///
/// # Errors
/// [`UnreadableRecord`] when its stored document does not read as a charge.
pub fn charge_row(c: &ChargeRecord) -> Result<Vec<Value>, UnreadableRecord> {
    let facts = charge_facts(&c.document).map_err(|e| UnreadableRecord {
        what: "charge",
        key: c.uin.clone(),
        problem: e.to_string(),
    })?;
    let r = &facts.requisites;
    Ok(vec![
        Value::text(&c.uin),
        Value::Moment(facts.bill_date),
        Value::Kopecks(i64::try_from(facts.total_amount.get()).unwrap_or(i64::MAX)),
        Value::Kopecks(c.amount_to_pay),
        Value::Integer(i64::from(c.status)),
        state(c.meaning),
        Value::text(&c.administrator),
        Value::optional(facts.payer_identifier.as_ref().map(|p| p.as_str())),
        Value::optional(c.document.child("Payer").and_then(|p| p.attr("payerName"))),
        Value::text(r.payee_inn.as_str()),
        Value::optional(r.kbk.as_ref().map(|k| k.as_str())),
        Value::optional(r.oktmo.as_ref().map(|o| o.as_str())),
        Value::optional(c.change_reason.as_deref()),
        Value::moment_key(&c.loaded_at),
        Value::optional(c.document.attr("purpose")),
    ])
}

/// The fields of a payment's row ([`payment_row`]).
pub const PAYMENT_FIELDS: &[&str] = &[
    "payment_id",
    "uin",
    "payment_date",
    "amount",
    "acceptor",
    "state",
    "reconciled_uin",
    "service_provided",
    "payer_identifier",
    "payer_name",
    "payee_inn",
    "kbk",
    "oktmo",
    "loaded_at",
    "purpose",
];

/// A payment's values, in the order of [`PAYMENT_FIELDS`].
///
/// # Errors
/// [`UnreadableRecord`] when its stored document does not read as a payment.
pub fn payment_row(p: &PaymentRecord) -> Result<Vec<Value>, UnreadableRecord> {
    let facts = payment_facts(&p.document).map_err(|e| UnreadableRecord {
        what: "payment",
        key: p.payment_id.clone(),
        problem: e.to_string(),
    })?;
    let r = &facts.requisites;
    Ok(vec![
        Value::text(&p.payment_id),
        Value::optional(facts.uin.as_ref().map(|u| u.as_str())),
        Value::Moment(facts.payment_date),
        Value::Kopecks(i64::try_from(facts.amount.get()).unwrap_or(i64::MAX)),
        Value::text(&p.acceptor),
        state(p.meaning),
        Value::optional(p.reconciled_uin.as_deref()),
        Value::Flag(p.service_provided),
        Value::optional(facts.payer_identifier.as_ref().map(|i| i.as_str())),
        Value::optional(p.document.child("Payer").and_then(|p| p.attr("payerName"))),
        Value::text(r.payee_inn.as_str()),
        Value::optional(r.kbk.as_ref().map(|k| k.as_str())),
        Value::optional(r.oktmo.as_ref().map(|o| o.as_str())),
        Value::moment_key(&p.loaded_at),
        Value::optional(p.document.attr("purpose")),
    ])
}

/// The fields of a quittance's row ([`quittance_row`]).
pub const QUITTANCE_FIELDS: &[&str] = &[
    "uin",
    "payment_id",
    "reconcile_id",
    "bill_status",
    "amount_payment",
    "balance",
    "total_amount",
    "revoked",
    "created_at",
    "differences",
];

/// A quittance's values, in the order of [`QUITTANCE_FIELDS`].
pub fn quittance_row(q: &QuittanceRecord) -> Vec<Value> {
    // As GIS GMP's `paymentId`: the УПНО, or `PaymentNotLoaded` for a repayment without one.
    let payment_id = if q.reconcile_id.is_some() {
        "PaymentNotLoaded"
    } else {
        q.settlement.as_str()
    };
    let differences: Vec<String> = q.differences.iter().map(|(a, v)| format!("{a}={v}")).collect();
    vec![
        Value::text(&q.uin),
        Value::text(payment_id),
        Value::optional(q.reconcile_id.as_deref()),
        Value::Integer(i64::from(q.bill_status)),
        q.amount_payment.map_or(Value::Absent, Value::Kopecks),
        Value::Kopecks(q.balance),
        Value::Kopecks(q.total_amount),
        Value::Flag(q.revoked),
        Value::moment_key(&q.created_at),
        if differences.is_empty() {
            Value::Absent
        } else {
            Value::Text(differences.join("; "))
        },
    ]
}

#[cfg(test)]
mod tests;
