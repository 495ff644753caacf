//! `rsmev gisgmp charges|payments|quittances`: what the GIS GMP ledger holds, as lists.
//!
//! The filters become the gisgmp crate's [`ChargeFilter`] or [`PaymentFilter`] (and from them
//! the ledger's queries) and the sort an `Order` of the ledger's own keys, so the database does
//! the selecting, sorting and paging — the same code as the module's admin API
//! (`rsmev_gisgmp::views`, `rsmev_gisgmp::api`). Each record's fields come from there too
//! ([`charge_row`] …); this file prints them ([`Listing`]): an aligned table for people,
//! RFC 4180 CSV and a JSON array for programs (every field, amounts in kopecks).
//! Whether more pages follow goes to standard error, so the output stays one page of data.

use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use rsmev_gisgmp::entity::moscow;
#[cfg(test)]
use rsmev_gisgmp::ledger::Direction;
use rsmev_gisgmp::ledger::{ChargeQuery, ChargeSort, Ledger, Page, PaymentSort, QuittanceSort};
pub(crate) use rsmev_gisgmp::views::Value;
use rsmev_gisgmp::views::{
    ChargeFilter, FilterError, PaymentFilter, charge_row, order, payment_row, quittance_row,
};

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
    let rows = records.iter().map(charge_row).collect::<Result<_, _>>()?;
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
    let filter = PaymentFilter {
        acceptor: args.acceptor.clone(),
        payers: args.payers.clone(),
        uins: args.uins.clone(),
        payment_ids: args.payment_ids.clone(),
        from: args.from,
        to: args.to,
        unmatched: args.unmatched,
    };
    let mut query = filter.query().map_err(refused)?;
    query.order = order(
        args.sort.map(|s| match s {
            PaymentSortArg::Date => PaymentSort::PaymentDate,
            PaymentSortArg::Amount => PaymentSort::Amount,
            PaymentSortArg::PaymentId => PaymentSort::PaymentId,
            PaymentSortArg::Uin => PaymentSort::Uin,
        }),
        PaymentSort::PaymentDate,
        args.list.desc,
    );
    let page = page(&args.list);
    let (records, more) = with_ledger(&args.list, async |ledger| {
        Ok(ledger.payments(&query, page).await?)
    })
    .await?;
    let rows = records.iter().map(payment_row).collect::<Result<_, _>>()?;
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

fn page(list: &ListArgs) -> Page {
    Page {
        number: list.page,
        length: list.page_size,
    }
}

/// The query of `--administrator`, `--payer`, `--uin`, `--status`, `--from/--to`,
/// `--min-amount/--max-amount` and `--annulled`.
fn charge_query(f: &ChargeFilterArgs) -> anyhow::Result<ChargeQuery> {
    ChargeFilter {
        administrator: f.administrator.clone(),
        payers: f.payers.clone(),
        uins: f.uins.clone(),
        statuses: f.statuses.clone(),
        from: f.from,
        to: f.to,
        min_amount: f.min_amount,
        max_amount: f.max_amount,
        annulled: f.annulled,
    }
    .query()
    .map_err(refused)
}

/// A filter refused, in the words of the flags.
fn refused(e: FilterError) -> anyhow::Error {
    match e {
        FilterError::DaysReversed { from, to } => {
            anyhow!("--from {from} is after --to {to}: no day is between them")
        }
        FilterError::AmountsReversed { min, max } => {
            anyhow!("--min-amount {min} is above --max-amount {max}: no charge can match")
        }
        FilterError::AmountTooLarge { kopecks } => {
            anyhow!("--min-amount/--max-amount {kopecks}: more kopecks than any amount holds")
        }
        e => anyhow!(e),
    }
}

/// How a value of a list is printed.
trait Print {
    /// In the table: amounts in roubles, moments in Moscow time to the second, one line.
    fn table(&self) -> String;
    /// In JSON: [`Value::to_json`], on one line.
    fn json(&self) -> String;
}

impl Print for Value {
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

    fn json(&self) -> String {
        self.to_json().to_string()
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

#[cfg(test)]
mod tests;
