//! `rsmev report usage`: accounting per participant × information type × kind × day.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::bail;
use rsmev_broker::store::UsageRow;
use serde::Serialize;

use super::store::{LocalStore, Open};
use crate::cli::{ReportCommand, ReportFormat, UsageArgs};
use crate::table::{Table, csv_field};

pub(super) async fn run(cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ReportCommand::Usage(args) => usage(&args).await,
    }
}

async fn usage(args: &UsageArgs) -> anyhow::Result<ExitCode> {
    if args.from > args.to {
        bail!("--from {} is after --to {}", args.from, args.to);
    }
    LocalStore::with(&args.data, Open::Existing, async |local| {
        let rows = local.store.usage(args.from, args.to).await?;
        out!("{}", render(args, &rows));
        Ok(ExitCode::SUCCESS)
    })
    .await
}

/// The JSON report, fields in reading order.
#[derive(Debug, Serialize)]
struct UsageJson<'a> {
    from: String,
    to: String,
    rows: Vec<UsageRowJson<'a>>,
    total: u64,
}

#[derive(Debug, Serialize)]
struct UsageRowJson<'a> {
    day: String,
    participant: &'a str,
    /// `{namespace}local`; empty for messages without a business document.
    infotype: &'a str,
    kind: &'static str,
    count: u64,
}

fn infotype(row: &UsageRow) -> &str {
    if row.infotype.is_empty() {
        "-"
    } else {
        &row.infotype
    }
}

fn render(args: &UsageArgs, rows: &[UsageRow]) -> String {
    match args.format {
        ReportFormat::Csv => {
            let mut out = String::from("day,participant,infotype,kind,count\n");
            for r in rows {
                out.push_str(&format!(
                    "{},{},{},{},{}\n",
                    r.day,
                    csv_field(&r.participant),
                    csv_field(&r.infotype),
                    r.kind.as_str(),
                    r.count
                ));
            }
            out
        }
        ReportFormat::Json => {
            let report = UsageJson {
                from: args.from.to_string(),
                to: args.to.to_string(),
                rows: rows
                    .iter()
                    .map(|r| UsageRowJson {
                        day: r.day.to_string(),
                        participant: &r.participant,
                        infotype: &r.infotype,
                        kind: r.kind.as_str(),
                        count: r.count,
                    })
                    .collect(),
                total: rows.iter().map(|r| r.count).sum(),
            };
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
        }
        ReportFormat::Table => {
            let mut out = format!(
                "Messages accepted from {} to {} (UTC days)\n\n",
                args.from, args.to
            );
            let mut by_day = Table::new(&["DAY", "PARTICIPANT", "INFOTYPE", "KIND", "COUNT"]);
            let mut totals: BTreeMap<(&str, &str, &str), u64> = BTreeMap::new();
            for r in rows {
                by_day.row(vec![
                    r.day.to_string(),
                    r.participant.clone(),
                    infotype(r).to_owned(),
                    r.kind.as_str().to_owned(),
                    r.count.to_string(),
                ]);
                *totals
                    .entry((&r.participant, infotype(r), r.kind.as_str()))
                    .or_default() += r.count;
            }
            out.push_str(&by_day.render());
            out.push_str("\nTotals for the period\n\n");
            let mut total_table = Table::new(&["PARTICIPANT", "INFOTYPE", "KIND", "COUNT"]);
            for ((participant, infotype, kind), count) in &totals {
                total_table.row(vec![
                    (*participant).to_owned(),
                    (*infotype).to_owned(),
                    (*kind).to_owned(),
                    count.to_string(),
                ]);
            }
            let total: u64 = totals.values().sum();
            total_table.row(vec![
                "TOTAL".into(),
                String::new(),
                String::new(),
                total.to_string(),
            ]);
            out.push_str(&total_table.render());
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use rsmev_broker::store::MessageKind;

    use super::*;
    use crate::cli::DataArgs;

    fn args(format: ReportFormat) -> UsageArgs {
        UsageArgs {
            data: DataArgs {
                config: None,
                data: None,
                database: None,
                rabbitmq: None,
            },
            from: time::macros::date!(2026 - 03 - 01),
            to: time::macros::date!(2026 - 03 - 02),
            format,
        }
    }

    fn rows() -> Vec<UsageRow> {
        let row = |day, participant: &str, infotype: &str, kind, count| UsageRow {
            day,
            participant: participant.into(),
            infotype: infotype.into(),
            kind,
            count,
        };
        vec![
            row(
                time::macros::date!(2026 - 03 - 01),
                "MFC",
                "{urn:a,b}Req",
                MessageKind::Request,
                3,
            ),
            row(
                time::macros::date!(2026 - 03 - 02),
                "MFC",
                "{urn:a,b}Req",
                MessageKind::Request,
                2,
            ),
            row(
                time::macros::date!(2026 - 03 - 02),
                "node",
                "",
                MessageKind::Response,
                1,
            ),
        ]
    }

    #[test]
    fn csv_quotes_fields_with_commas() {
        assert_eq!(
            render(&args(ReportFormat::Csv), &rows()),
            "day,participant,infotype,kind,count\n\
             2026-03-01,MFC,\"{urn:a,b}Req\",request,3\n\
             2026-03-02,MFC,\"{urn:a,b}Req\",request,2\n\
             2026-03-02,node,,response,1\n"
        );
    }

    #[test]
    fn json_has_every_row_and_the_total() {
        let json: serde_json::Value =
            serde_json::from_str(&render(&args(ReportFormat::Json), &rows())).unwrap();
        assert_eq!(json["rows"].as_array().unwrap().len(), 3);
        assert_eq!(json["rows"][2]["participant"], "node");
        assert_eq!(json["total"], 6);
    }

    #[test]
    fn the_table_ends_with_totals_over_the_period() {
        expect_test::expect![[r#"
            Messages accepted from 2026-03-01 to 2026-03-02 (UTC days)

            DAY         PARTICIPANT  INFOTYPE      KIND      COUNT
            ----------  -----------  ------------  --------  -----
            2026-03-01  MFC          {urn:a,b}Req  request   3
            2026-03-02  MFC          {urn:a,b}Req  request   2
            2026-03-02  node         -             response  1

            Totals for the period

            PARTICIPANT  INFOTYPE      KIND      COUNT
            -----------  ------------  --------  -----
            MFC          {urn:a,b}Req  request   5
            node         -             response  1
            TOTAL                                6
        "#]]
        .assert_eq(&render(&args(ReportFormat::Table), &rows()));
    }
}
