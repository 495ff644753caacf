//! `rsmev gisgmp uin check|generate`, `rsmev gisgmp upno generate`: GIS GMP identifiers;
//! `rsmev gisgmp charges|payments|quittances`: the ledger's lists ([`views`]);
//! `rsmev gisgmp receipt`: a charge's payment receipt as PDF.
//!
//! `check` is pure (the rules of `rsmev_gisgmp::uin`); `generate` allocates from the sequences
//! kept in the node's database (`rsmev_gisgmp::sequence`), so UINs and УПНО issued here, by
//! another `rsmev` at the same moment or by the node itself are never the same. `receipt` reads
//! the charge's requisites from the ledger (`--uin`: `ReceiptFields::of_charge`) or from a JSON
//! file ([`ReceiptJson`]) and renders them with `rsmev_gisgmp::receipt`.

use std::fmt::Display;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, anyhow, bail};
use rsmev_broker::store::{AdapterDatabase, Location};
use rsmev_gisgmp::ledger::Ledger;
use rsmev_gisgmp::qr::BudgetIndex;
use rsmev_gisgmp::{
    Acceptor, AccountNumber, Bik, Code, Form, Inn, Kbk, Kopecks, Kpp, Oktmo, PayerIdentifier, ReceiptData,
    ReceiptFields, Refusal, Uin, UinKind, UinPrefix, render, sequence,
};
use serde::Deserialize;

use super::store::{LocalStore, Open};
use crate::cli::{
    GisgmpCommand, KbkArg, ReceiptArgs, ReceiptForm, UinCheckArgs, UinCommand, UinGenerateArgs, UpnoCommand,
    UpnoGenerateArgs,
};
use crate::table::Table;

mod views;

pub(super) async fn run(cmd: GisgmpCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        GisgmpCommand::Register(args) => super::gisgmp_node::register(args).await,
        GisgmpCommand::Emulate(args) => super::gisgmp_node::emulate(args).await,
        GisgmpCommand::Uin(UinCommand::Check(args)) => check(&args),
        GisgmpCommand::Uin(UinCommand::Generate(args)) => generate_uins(args).await,
        GisgmpCommand::Upno(UpnoCommand::Generate(args)) => generate_payment_ids(args).await,
        GisgmpCommand::Charges(args) => views::charges(args).await,
        GisgmpCommand::Payments(args) => views::payments(args).await,
        GisgmpCommand::Quittances(args) => views::quittances(args).await,
        GisgmpCommand::Receipt(args) => receipt(&args).await,
    }
}

/// How GIS GMP reports a refusal with `code`.
fn code_text(code: Code) -> String {
    match code {
        Code::Protocol(n) => format!("with GIS GMP code {n}"),
        Code::Status(n) => format!("with GIS GMP status {n}"),
        Code::Schema => "by the GIS GMP XSD (no protocol code)".to_owned(),
        Code::Unlisted => "by a rule GIS GMP lists no code for".to_owned(),
    }
}

/// The error `check` exits with: the code, the English reason and GIS GMP's Russian text.
fn refused(uin: &str, e: &impl Refusal) -> anyhow::Error {
    anyhow!(
        "UIN {uin:?} is refused {}: {e} ({})",
        code_text(e.code()),
        e.description_ru()
    )
}

fn check(args: &UinCheckArgs) -> anyhow::Result<ExitCode> {
    let raw = args.uin.as_str();
    let uin = Uin::parse(raw).map_err(|e| refused(raw, &e))?;
    if let Some(urn) = &args.urn {
        uin.check_kind(UinKind::Urn).map_err(|e| refused(raw, &e))?;
        uin.check_urn(urn).map_err(|e| refused(raw, &e))?;
    }
    match &args.kbk {
        Some(KbkArg::Chapter(chapter)) => {
            uin.check_kind(UinKind::KbkChapter)
                .map_err(|e| refused(raw, &e))?;
            uin.check_chapter(chapter).map_err(|e| refused(raw, &e))?;
        }
        Some(KbkArg::Kbk(kbk)) => {
            uin.check_kind(UinKind::KbkChapter)
                .map_err(|e| refused(raw, &e))?;
            uin.check_kbk(kbk).map_err(|e| refused(raw, &e))?;
        }
        None => {}
    }

    let (kind, prefix) = match uin.kind() {
        UinKind::KbkChapter => (
            "20 digits, led by a KBK chapter (federal bodies, state off-budget funds)",
            format!("{} (KBK chapter)", uin.kbk_chapter().unwrap_or_default()),
        ),
        UinKind::Urn => (
            "25 digits, led by a URN (everyone else)",
            match uin.urn() {
                Some(urn) => format!("{} (URN {urn})", urn.decimal8()),
                // GIS GMP refuses it when it compares the URN (code 10); without --urn the UIN is
                // well formed.
                None => format!(
                    "{} (names no URN: above ffffff)",
                    raw.get(..8).unwrap_or_default()
                ),
            },
        ),
    };
    outln!("UIN {uin} is valid");
    let mut table = Table::new(&["PART", "VALUE"]);
    table.row(vec!["kind".into(), kind.into()]);
    table.row(vec!["prefix".into(), prefix]);
    table.row(vec!["unique number".into(), uin.unique_number().into()]);
    table.row(vec!["check digit".into(), uin.control().to_string()]);
    out!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

/// Opens the node's database for the GIS GMP sequences (creating the node's store on first use,
/// as registrations do), runs `f`, closes both.
async fn with_sequences<T>(
    data: &crate::cli::DataArgs,
    f: impl AsyncFnOnce(&AdapterDatabase) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_gisgmp_database(data, Open::CreateIfMissing, f).await
}

/// Opens the node's database for the GIS GMP tables, migrated (a store that does not exist is
/// created or refused, as `open` says), runs `f`, closes both.
async fn with_gisgmp_database<T>(
    data: &crate::cli::DataArgs,
    open: Open,
    f: impl AsyncFnOnce(&AdapterDatabase) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    LocalStore::with(data, open, async |local| {
        let location = Location::parse(&local.config.storage.database, &local.config.storage.data_dir)
            .context("the configured database")?;
        let db = AdapterDatabase::open(&location)
            .await
            .context("opening the node's database for the GIS GMP tables")?;
        let result = async {
            sequence::migrate(&db)
                .await
                .context("migrating the GIS GMP tables")?;
            f(&db).await
        }
        .await;
        db.close().await;
        result
    })
    .await
}

async fn generate_uins(args: UinGenerateArgs) -> anyhow::Result<ExitCode> {
    let prefix = match (args.prefix.urn, args.prefix.kbk_chapter) {
        (Some(urn), _) => UinPrefix::Urn(urn),
        (None, Some(chapter)) => UinPrefix::KbkChapter(chapter),
        (None, None) => anyhow::bail!("pass --urn URN or --kbk-chapter NNN"),
    };
    let uins = with_sequences(&args.data, async |db| {
        sequence::next_uins(db, &prefix, args.count)
            .await
            .map_err(|e| anyhow!("{e} ({})", e.description_ru()))
    })
    .await?;
    for uin in uins {
        outln!("{uin}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn generate_payment_ids(args: UpnoGenerateArgs) -> anyhow::Result<ExitCode> {
    let acceptor = match (args.bik, args.branch, args.tofk, args.urn) {
        (Some(bik), Some(branch), _, _) => Acceptor::credit_institution(bik, branch)?,
        (_, _, Some(code), _) => Acceptor::treasury(&code)?,
        (_, _, _, Some(urn)) => Acceptor::Other { urn },
        _ => anyhow::bail!("pass --bik BIK --branch NNNNNN, --tofk CODE or --urn URN"),
    };
    let day = args
        .date
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let ids = with_sequences(&args.data, async |db| {
        sequence::next_payment_ids(db, &acceptor, day, args.count)
            .await
            .map_err(|e| anyhow!("{e} ({})", e.description_ru()))
    })
    .await?;
    for id in ids {
        outln!("{}", id.as_str());
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON of `rsmev gisgmp receipt --json FILE`: [`ReceiptFields`] as text, each value parsed
/// by its type's rules (the field names are [`rsmev_gisgmp::ReceiptField`]'s). Documented in the
/// command's help (`RECEIPT_JSON_HELP` in cli.rs).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptJson {
    payee_name: String,
    payee_inn: String,
    payee_kpp: Option<String>,
    payee_account: String,
    bank_name: String,
    bik: String,
    correspondent_account: String,
    kbk: Option<String>,
    oktmo: Option<String>,
    uin: String,
    amount: u64,
    purpose: String,
    payer_name: String,
    payer_identifier: Option<String>,
    payer_address: Option<String>,
    budget_index: Option<BudgetIndexJson>,
    bill_date: String,
}

/// Fields 101, 106–109.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetIndexJson {
    status: String,
    payt_reason: String,
    tax_period: String,
    tax_doc_number: String,
    tax_doc_date: String,
}

/// `value` parsed, or an error naming `field`, with GIS GMP's Russian text.
fn parsed<T, E: Refusal + Display>(field: &str, value: Result<T, E>) -> anyhow::Result<T> {
    value.map_err(|e| anyhow!("{field}: {e} ({})", e.description_ru()))
}

impl ReceiptJson {
    fn fields(self) -> anyhow::Result<ReceiptFields> {
        Ok(ReceiptFields {
            payee_name: self.payee_name,
            payee_inn: parsed("payee_inn", Inn::parse(&self.payee_inn))?,
            payee_kpp: self
                .payee_kpp
                .map(|k| parsed("payee_kpp", Kpp::parse(&k)))
                .transpose()?,
            payee_account: parsed("payee_account", AccountNumber::parse(&self.payee_account))?,
            bank_name: self.bank_name,
            bik: parsed("bik", Bik::parse(&self.bik))?,
            correspondent_account: parsed(
                "correspondent_account",
                AccountNumber::parse(&self.correspondent_account),
            )?,
            kbk: match self.kbk {
                Some(k) => parsed("kbk", Kbk::parse_or_zero(&k))?,
                None => None,
            },
            oktmo: match self.oktmo {
                Some(o) => parsed("oktmo", Oktmo::parse_or_zero(&o))?,
                None => None,
            },
            uin: parsed("uin", Uin::parse(&self.uin))?,
            amount: Kopecks(self.amount),
            purpose: self.purpose,
            payer_name: self.payer_name,
            payer_identifier: match self.payer_identifier {
                Some(p) => parsed("payer_identifier", PayerIdentifier::parse_or_zero(&p))?,
                None => None,
            },
            payer_address: self.payer_address,
            budget_index: self.budget_index.map(|b| BudgetIndex {
                status: b.status,
                payt_reason: b.payt_reason,
                tax_period: b.tax_period,
                tax_doc_number: b.tax_doc_number,
                tax_doc_date: b.tax_doc_date,
            }),
            bill_date: time::Date::parse(
                &self.bill_date,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|e| anyhow!("bill_date: `{}` is not a date YYYY-MM-DD: {e}", self.bill_date))?,
        })
    }
}

async fn receipt(args: &ReceiptArgs) -> anyhow::Result<ExitCode> {
    let data = match (&args.uin, &args.json) {
        (Some(uin), _) => receipt_of_ledger(args, uin).await?,
        (None, Some(path)) => {
            let json = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_slice::<ReceiptJson>(&json)
                .map_err(anyhow::Error::from)
                .and_then(ReceiptJson::fields)
                .and_then(|fields| ReceiptData::new(fields).map_err(anyhow::Error::from))
                .with_context(|| format!("{}: the receipt's data is refused", path.display()))?
        }
        (None, None) => bail!("pass --uin UIN or --json FILE"),
    };
    let form = match args.form {
        ReceiptForm::Pd4 => Form::Pd4,
        ReceiptForm::PaymentOrder => Form::PaymentOrder,
    };
    let pdf = render(form, &data);
    write_output(&args.output, &pdf, args.force)?;
    eprintln!(
        "wrote {} ({} bytes): UIN {}",
        args.output.display(),
        pdf.len(),
        data.fields().uin
    );
    Ok(ExitCode::SUCCESS)
}

/// The receipt's data of the charge `uin` of the ledger.
async fn receipt_of_ledger(args: &ReceiptArgs, uin: &Uin) -> anyhow::Result<ReceiptData> {
    let charge = with_gisgmp_database(&args.data, Open::Existing, async |db| {
        Ledger::new(db.clone())
            .charge(uin.as_str())
            .await
            .context("reading the GIS GMP ledger")
    })
    .await?
    .ok_or_else(|| anyhow!("the ledger holds no charge {uin}"))?;
    let fields = ReceiptFields::of_charge(&charge, args.bank_name.clone()).map_err(|e| match e {
        rsmev_gisgmp::ChargeReceiptError::Missing { what, .. } if what.contains("Bank@name") => {
            anyhow!("{e}: pass the bank's name with --bank-name")
        }
        e => e.into(),
    })?;
    ReceiptData::new(fields).with_context(|| format!("charge {uin}: the receipt's data is refused"))
}

/// Writes `bytes` to `path`; an existing file only with `force`, checked as the file is created
/// so a file appearing meanwhile is not overwritten either.
fn write_output(path: &Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists; pass --force to overwrite it", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
    };
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}
