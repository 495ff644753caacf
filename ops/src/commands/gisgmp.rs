//! `rsmev gisgmp uin check|generate`, `rsmev gisgmp upno generate`: GIS GMP identifiers.
//!
//! `check` is pure (the rules of `rsmev_gisgmp::uin`); `generate` allocates from the sequences
//! kept in the node's database (`rsmev_gisgmp::sequence`), so UINs and УПНО issued here, by
//! another `rsmev` at the same moment or by the node itself are never the same.

use std::process::ExitCode;

use anyhow::{Context as _, anyhow};
use rsmev_broker::store::{AdapterDatabase, Location};
use rsmev_gisgmp::{Acceptor, Code, Refusal, Uin, UinKind, UinPrefix, sequence};

use super::store::{LocalStore, Open};
use crate::cli::{
    GisgmpCommand, KbkArg, UinCheckArgs, UinCommand, UinGenerateArgs, UpnoCommand, UpnoGenerateArgs,
};
use crate::table::Table;

pub(super) async fn run(cmd: GisgmpCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        GisgmpCommand::Uin(UinCommand::Check(args)) => check(&args),
        GisgmpCommand::Uin(UinCommand::Generate(args)) => generate_uins(args).await,
        GisgmpCommand::Upno(UpnoCommand::Generate(args)) => generate_payment_ids(args).await,
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

/// Opens the node's database for the GIS GMP tables (creating the node's store on first use, as
/// registrations do), runs `f`, closes both.
async fn with_sequences<T>(
    data: &crate::cli::DataArgs,
    f: impl AsyncFnOnce(&AdapterDatabase) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    LocalStore::with(data, Open::CreateIfMissing, async |local| {
        let location = Location::parse(&local.config.storage.database, &local.config.storage.data_dir)
            .context("the configured database")?;
        let db = AdapterDatabase::open(&location)
            .await
            .context("opening the node's database for the GIS GMP sequences")?;
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
