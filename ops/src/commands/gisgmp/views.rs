//! `rsmev gisgmp charges|payments|quittances`: what the GIS GMP ledger holds, as lists.
//!
//! The filters become a [`ChargeQuery`] or [`PaymentQuery`] and the sort an [`Order`] of the
//! ledger's own keys, so the database does the selecting, sorting and paging; this file only
//! reads each record's document for the columns and prints them ([`Listing`]): an aligned table
//! for people, RFC 4180 CSV and a JSON array for programs (every field, amounts in kopecks).
//! Whether more pages follow goes to standard error, so the output stays one page of data.

use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use rsmev_gisgmp::entity::{charge_facts, moscow, payment_facts, write_date_time};
use rsmev_gisgmp::ledger::{
    ChargeQuery, ChargeRecord, ChargeSort, Direction, Ledger, Meaning, Order, Page, PaymentQuery,
    PaymentRecord, PaymentSort, QuittanceRecord, QuittanceSort, moment_key, moment_of_key,
};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::{Open, with_gisgmp_database};
use crate::cli::{
    ChargeFilterArgs, ChargeSortArg, ChargesArgs, ListArgs, ListFormat, PaymentSortArg, PaymentsArgs,
    QuittanceSortArg, QuittancesArgs,
};
use crate::table::{Table, csv_field};

/// `rsmev gisgmp charges`.
pub(super) async fn charges(args: ChargesArgs) -> anyhow::Result<ExitCode> {
    let mut query = charge_query(&args.filter)?;
    query.order = order(
        args.sort.map(|s| match s {
            ChargeSortArg::Date => ChargeSort::BillDate,
            ChargeSortArg::Amount => ChargeSort::Amount,
            ChargeSortArg::ToPay => ChargeSort::AmountToPay,
            ChargeSortArg::Uin => ChargeSort::Uin,
            ChargeSortArg::Status => ChargeSort::Status,
        }),
        ChargeSort::BillDate,
        args.list.desc,
    );
    let page = page(&args.list);
    let (records, more) = with_ledger(&args.list, async |ledger| {
        Ok(ledger.charges(&query, page).await?)
    })
    .await?;
    let rows = records.iter().map(charge_row).collect::<anyhow::Result<_>>()?;
    print(
        &Listing {
            columns: CHARGE_COLUMNS,
            rows,
        },
        "charges",
        &args.list,
        more,
    );
    Ok(ExitCode::SUCCESS)
}

/// `rsmev gisgmp payments`.
pub(super) async fn payments(args: PaymentsArgs) -> anyhow::Result<ExitCode> {
    let (from, to) = day_range(args.from, args.to)?;
    let query = PaymentQuery {
        payment_ids: args.payment_ids.iter().map(|p| p.as_str().to_owned()).collect(),
        uins: args.uins.iter().map(|u| u.as_str().to_owned()).collect(),
        payer_identifiers: args.payers.iter().map(|p| p.as_str().to_owned()).collect(),
        from,
        to,
        acceptor: args.acceptor.as_ref().map(|u| u.as_str().to_owned()),
        unmatched: args.unmatched,
        order: order(
            args.sort.map(|s| match s {
                PaymentSortArg::Date => PaymentSort::PaymentDate,
                PaymentSortArg::Amount => PaymentSort::Amount,
                PaymentSortArg::PaymentId => PaymentSort::PaymentId,
                PaymentSortArg::Uin => PaymentSort::Uin,
            }),
            PaymentSort::PaymentDate,
            args.list.desc,
        ),
        ..PaymentQuery::default()
    };
    let page = page(&args.list);
    let (records, more) = with_ledger(&args.list, async |ledger| {
        Ok(ledger.payments(&query, page).await?)
    })
    .await?;
    let rows = records.iter().map(payment_row).collect::<anyhow::Result<_>>()?;
    print(
        &Listing {
            columns: PAYMENT_COLUMNS,
            rows,
        },
        "payments",
        &args.list,
        more,
    );
    Ok(ExitCode::SUCCESS)
}

/// `rsmev gisgmp quittances`.
pub(super) async fn quittances(args: QuittancesArgs) -> anyhow::Result<ExitCode> {
    let query = charge_query(&args.filter)?;
    let order = order(
        args.sort.map(|s| match s {
            QuittanceSortArg::Date => QuittanceSort::Created,
            QuittanceSortArg::Uin => QuittanceSort::Uin,
            QuittanceSortArg::Status => QuittanceSort::Status,
            QuittanceSortArg::Amount => QuittanceSort::Amount,
            QuittanceSortArg::Balance => QuittanceSort::Balance,
        }),
        QuittanceSort::Created,
        args.list.desc,
    );
    let page = page(&args.list);
    let (records, more) = with_ledger(&args.list, async |ledger| {
        Ok(ledger.quittance_list(&query, order, page).await?)
    })
    .await?;
    let rows = records.iter().map(quittance_row).collect();
    print(
        &Listing {
            columns: QUITTANCE_COLUMNS,
            rows,
        },
        "quittances",
        &args.list,
        more,
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `f` on the ledger of the node's database, which must exist.
async fn with_ledger<T>(
    list: &ListArgs,
    f: impl AsyncFnOnce(&Ledger) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_gisgmp_database(&list.data, Open::Existing, async |db| {
        let ledger = Ledger::new(db.clone());
        f(&ledger).await.context("reading the GIS GMP ledger")
    })
    .await
}

/// The sort asked for: `key` smallest first (largest with `--desc`); none asked: `default`,
/// newest first.
fn order<K>(key: Option<K>, default: K, desc: bool) -> Order<K> {
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

fn page(list: &ListArgs) -> Page {
    Page {
        number: list.page,
        length: list.page_size,
    }
}

/// The query of `--administrator`, `--payer`, `--uin`, `--status`, `--from/--to`,
/// `--min-amount/--max-amount` and `--annulled`.
fn charge_query(f: &ChargeFilterArgs) -> anyhow::Result<ChargeQuery> {
    let (from, to) = day_range(f.from, f.to)?;
    let kopecks = |flag: &str, value: Option<u64>| {
        value
            .map(|v| i64::try_from(v).map_err(|_| anyhow!("{flag} {v}: more kopecks than any amount holds")))
            .transpose()
    };
    let min_amount = kopecks("--min-amount", f.min_amount)?;
    let max_amount = kopecks("--max-amount", f.max_amount)?;
    if let (Some(min), Some(max)) = (min_amount, max_amount)
        && min > max
    {
        bail!("--min-amount {min} is above --max-amount {max}: no charge can match");
    }
    Ok(ChargeQuery {
        uins: f.uins.iter().map(|u| u.as_str().to_owned()).collect(),
        payer_identifiers: f.payers.iter().map(|p| p.as_str().to_owned()).collect(),
        from,
        to,
        administrator: f.administrator.as_ref().map(|u| u.as_str().to_owned()),
        statuses: f.statuses.clone(),
        include_annulled: f.annulled,
        min_amount,
        max_amount,
        ..ChargeQuery::default()
    })
}

/// `--from` and `--to` as the ledger's moment keys: from the first microsecond of the first
/// Moscow day to the last of the second.
fn day_range(from: Option<Date>, to: Option<Date>) -> anyhow::Result<(Option<String>, Option<String>)> {
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        bail!("--from {from} is after --to {to}: no day is between them");
    }
    let at = |day: Date, time: Time| moment_key(PrimitiveDateTime::new(day, time).assume_offset(moscow()));
    let last = Time::from_hms_micro(23, 59, 59, 999_999).unwrap_or(Time::MIDNIGHT);
    Ok((from.map(|d| at(d, Time::MIDNIGHT)), to.map(|d| at(d, last))))
}

/// One value of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(String),
    Integer(i64),
    /// An amount: roubles in the table, kopecks elsewhere.
    Kopecks(i64),
    /// Moscow time: to the second in the table, RFC 3339 with milliseconds elsewhere.
    Moment(OffsetDateTime),
    Flag(bool),
    /// Empty in CSV, `-` in the table, null in JSON.
    Absent,
}

impl Value {
    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    fn optional(s: Option<&str>) -> Value {
        s.map_or(Value::Absent, Value::text)
    }

    /// A stored moment ([`moment_key`]); the key as it is should it not read.
    fn moment_key(key: &str) -> Value {
        moment_of_key(key).map_or_else(|| Value::text(key), Value::Moment)
    }

    fn table(&self) -> String {
        match self {
            // One line a record: a line break or tab in a value would break the columns.
            Value::Text(s) => s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect(),
            Value::Integer(n) => n.to_string(),
            Value::Kopecks(k) => {
                let sign = if *k < 0 { "-" } else { "" };
                let k = k.unsigned_abs();
                format!("{sign}{}.{:02}", k / 100, k % 100)
            }
            Value::Moment(t) => {
                let format =
                    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
                t.to_offset(moscow()).format(&format).unwrap_or_default()
            }
            Value::Flag(b) => if *b { "yes" } else { "no" }.to_owned(),
            Value::Absent => "-".to_owned(),
        }
    }

    /// The value in CSV and JSON, unquoted.
    fn plain(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Integer(n) | Value::Kopecks(n) => n.to_string(),
            Value::Moment(t) => write_date_time(*t),
            Value::Flag(b) => b.to_string(),
            Value::Absent => String::new(),
        }
    }

    fn json(&self) -> String {
        match self {
            Value::Integer(n) | Value::Kopecks(n) => n.to_string(),
            Value::Flag(b) => b.to_string(),
            Value::Absent => "null".to_owned(),
            Value::Text(_) | Value::Moment(_) => serde_json::Value::String(self.plain()).to_string(),
        }
    }
}

/// A column: its field's name (CSV header, JSON key) and, when the table shows it, its heading.
struct Column {
    field: &'static str,
    heading: Option<&'static str>,
}

const fn shown(field: &'static str, heading: &'static str) -> Column {
    Column {
        field,
        heading: Some(heading),
    }
}

const fn hidden(field: &'static str) -> Column {
    Column { field, heading: None }
}

/// Rows under columns, printed in one of the formats.
struct Listing {
    columns: &'static [Column],
    rows: Vec<Vec<Value>>,
}

impl Listing {
    fn render(&self, format: ListFormat) -> String {
        match format {
            ListFormat::Table => self.table(),
            ListFormat::Csv => self.csv(),
            ListFormat::Json => self.json(),
        }
    }

    fn table(&self) -> String {
        let shown: Vec<usize> = (0..self.columns.len())
            .filter(|i| self.columns[*i].heading.is_some())
            .collect();
        let headings: Vec<&str> = shown.iter().filter_map(|i| self.columns[*i].heading).collect();
        let mut table = Table::new(&headings);
        for row in &self.rows {
            table.row(shown.iter().map(|i| row[*i].table()).collect());
        }
        table.render()
    }

    /// RFC 4180: CRLF after every record, each field as [`csv_field`] writes it (quoted when
    /// needed, a formula neutralised).
    fn csv(&self) -> String {
        let field = csv_field;
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| field(c.field)).collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|v| field(&v.plain())).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// An array of objects, one a line, the keys in the columns' order.
    fn json(&self) -> String {
        if self.rows.is_empty() {
            return "[]\n".to_owned();
        }
        let objects: Vec<String> = self
            .rows
            .iter()
            .map(|row| {
                let members: Vec<String> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| format!("{}: {}", serde_json::Value::from(c.field), v.json()))
                    .collect();
                format!("  {{{}}}", members.join(", "))
            })
            .collect();
        format!("[\n{}\n]\n", objects.join(",\n"))
    }
}

/// Prints one page of `listing`, and to standard error whether more follow.
fn print(listing: &Listing, what: &str, list: &ListArgs, more: bool) {
    out!("{}", listing.render(list.format));
    if more {
        eprintln!(
            "page {} of {} {what} a page; more follow: --page {}",
            list.page,
            list.page_size,
            list.page + 1
        );
    } else if listing.rows.is_empty() && list.page > 1 {
        eprintln!("no {what} on page {}: the last page is before it", list.page);
    }
}

/// The fields of `charges`.
const CHARGE_COLUMNS: &[Column] = &[
    shown("uin", "UIN"),
    shown("bill_date", "BILL DATE"),
    shown("total_amount", "AMOUNT"),
    shown("amount_to_pay", "TO PAY"),
    shown("status", "STATUS"),
    shown("state", "STATE"),
    shown("administrator", "ADMINISTRATOR"),
    shown("payer_identifier", "PAYER"),
    hidden("payer_name"),
    hidden("payee_inn"),
    hidden("kbk"),
    hidden("oktmo"),
    hidden("change_reason"),
    hidden("loaded_at"),
    shown("purpose", "PURPOSE"),
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

fn charge_row(c: &ChargeRecord) -> anyhow::Result<Vec<Value>> {
    let facts =
        charge_facts(&c.document).map_err(|e| anyhow!("the ledger's charge {} does not read: {e}", c.uin))?;
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

/// The fields of `payments`.
const PAYMENT_COLUMNS: &[Column] = &[
    shown("payment_id", "PAYMENT ID"),
    shown("uin", "UIN"),
    shown("payment_date", "PAYMENT DATE"),
    shown("amount", "AMOUNT"),
    shown("acceptor", "ACCEPTOR"),
    shown("state", "STATE"),
    shown("reconciled_uin", "RECONCILED WITH"),
    hidden("service_provided"),
    shown("payer_identifier", "PAYER"),
    hidden("payer_name"),
    hidden("payee_inn"),
    hidden("kbk"),
    hidden("oktmo"),
    hidden("loaded_at"),
    shown("purpose", "PURPOSE"),
];

fn payment_row(p: &PaymentRecord) -> anyhow::Result<Vec<Value>> {
    let facts = payment_facts(&p.document)
        .map_err(|e| anyhow!("the ledger's payment {} does not read: {e}", p.payment_id))?;
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

/// The fields of `quittances`.
const QUITTANCE_COLUMNS: &[Column] = &[
    shown("uin", "UIN"),
    shown("payment_id", "PAYMENT ID"),
    shown("reconcile_id", "RECONCILE ID"),
    shown("bill_status", "STATUS"),
    shown("amount_payment", "AMOUNT"),
    shown("balance", "BALANCE"),
    hidden("total_amount"),
    shown("revoked", "REVOKED"),
    shown("created_at", "CREATED"),
    shown("differences", "DIFFERENCES"),
];

fn quittance_row(q: &QuittanceRecord) -> Vec<Value> {
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
