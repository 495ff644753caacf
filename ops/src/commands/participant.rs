//! `rsmev participant add|update|list|block|unblock`.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use rsmev_broker::admin::Mode;
use rsmev_broker::dsig::Certificate;
use rsmev_registry::{Participant, ParticipantStatus};

use super::store::{LocalStore, Open};
use crate::cli::{ParticipantArgs, ParticipantCommand, ParticipantRef};
use crate::table::Table;

pub(super) async fn run(cmd: ParticipantCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ParticipantCommand::Add(args) => put(args, Mode::Add).await,
        ParticipantCommand::Update(args) => put(args, Mode::Upsert).await,
        ParticipantCommand::List(data) => LocalStore::with(&data, Open::Existing, list).await,
        ParticipantCommand::Block(r) => set_status(r, ParticipantStatus::Blocked).await,
        ParticipantCommand::Unblock(r) => set_status(r, ParticipantStatus::Active).await,
        ParticipantCommand::AmqpSetup(args) => super::amqp_setup::run(args).await,
    }
}

async fn put(args: ParticipantArgs, mode: Mode) -> anyhow::Result<ExitCode> {
    let mut certificates = Vec::new();
    for path in &args.certificates {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let blocks = pem_certificates(&text);
        if blocks.is_empty() {
            bail!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            );
        }
        certificates.extend(blocks);
    }
    LocalStore::with(&args.data, Open::CreateIfMissing, async |local| {
        let existing = local.store.registry().await?.participant(&args.mnemonic).cloned();
        let participant = match (mode, existing) {
            (Mode::Upsert, None) => bail!(
                "participant `{}` does not exist; register it with `rsmev participant add`",
                args.mnemonic
            ),
            (Mode::Upsert, Some(old)) => Participant {
                mnemonic: args.mnemonic.clone(),
                name: args.name.clone(),
                organisation: args.organisation.clone().unwrap_or(old.organisation),
                status: old.status,
                certificates: if certificates.is_empty() {
                    old.certificates
                } else {
                    certificates
                },
            },
            (Mode::Add, _) => Participant {
                mnemonic: args.mnemonic.clone(),
                name: args.name.clone(),
                organisation: args.organisation.clone().unwrap_or_default(),
                status: ParticipantStatus::Active,
                certificates,
            },
        };
        local.admin().put_participant(&participant, mode).await?;
        outln!(
            "participant {} {} ({} certificate(s))",
            participant.mnemonic,
            if mode == Mode::Add {
                "registered"
            } else {
                "updated"
            },
            participant.certificates.len()
        );
        Ok(ExitCode::SUCCESS)
    })
    .await
}

async fn set_status(r: ParticipantRef, status: ParticipantStatus) -> anyhow::Result<ExitCode> {
    LocalStore::with(&r.data, Open::Existing, async |local| {
        let registry = local.store.registry().await?;
        let Some(p) = registry.participant(&r.mnemonic) else {
            bail!("participant `{}` does not exist", r.mnemonic);
        };
        let p = Participant { status, ..p.clone() };
        local.admin().put_participant(&p, Mode::Upsert).await?;
        match status {
            ParticipantStatus::Blocked => outln!(
                "participant {} blocked: every message it signs is refused (SenderIsNotRegistered)",
                p.mnemonic
            ),
            ParticipantStatus::Active => outln!("participant {} active", p.mnemonic),
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}

async fn list(local: &LocalStore) -> anyhow::Result<ExitCode> {
    let mut registry = local.store.registry().await?;
    registry.normalize();
    let mut table = Table::new(&["MNEMONIC", "STATUS", "NAME", "ORGANISATION", "CERTIFICATES"]);
    for p in &registry.participants {
        table.row(vec![
            p.mnemonic.to_string(),
            match p.status {
                ParticipantStatus::Active => "active".into(),
                ParticipantStatus::Blocked => "blocked".into(),
            },
            p.name.clone(),
            p.organisation.clone(),
            certificates_summary(&p.certificates),
        ]);
    }
    out!("{}", table.render());
    Ok(ExitCode::SUCCESS)
}

/// `CN=…, until YYYY-MM-DD` of each certificate, `;`-separated.
fn certificates_summary(pems: &[String]) -> String {
    pems.iter()
        .map(|pem| match Certificate::from_pem_or_der(pem.as_bytes()) {
            Ok(c) => format!("{} until {}", c.subject(), c.not_after().date()),
            Err(e) => format!("unreadable ({e})"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every `CERTIFICATE` PEM block of `text`, each as its own PEM text.
fn pem_certificates(text: &str) -> Vec<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            break;
        };
        let end = start + len + END.len();
        out.push(format!("{}\n", &rest[start..end]));
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_is_split_into_its_certificates() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n\
                    -----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nCC";
        assert_eq!(
            pem_certificates(text),
            vec![
                "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n".to_owned(),
                "-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n".to_owned(),
            ]
        );
        assert!(pem_certificates("no pem here").is_empty());
    }
}
