//! `rsmev bench`: measures a node with full signed exchanges over HTTP.
//!
//! The bench registers N consumer/provider pairs (each pair its own namespace, XSD set, request
//! and response types, service and grant) in the node's store through [`Admin`](rsmev_broker::admin::Admin), then starts the
//! node as a child process (`rsmev serve`, this same binary) on a free port, unless `--target`
//! names a running one. Each exchange is SendRequest, GetRequest (long-poll), Ack,
//! SendResponse, GetResponse (long-poll), Ack; pairs run in parallel ([`load`]).
//!
//! The node's CPU time and peak memory come from `/proc/<pid>` of the child. The baselines
//! ([`baseline`]) run after the node has stopped, so nothing competes with them: the crypto+XML
//! floor (the verify-then-sign hop of the criterion benches, on all cores) and raw RabbitMQ
//! (persistent messages to a quorum queue with publisher confirms and manual acks).
//!
//! Files: [`registration`] (the pairs' parties, XSDs and documents), [`node`] (the node under
//! test as a child process), [`database`] (the run's own PostgreSQL database and RabbitMQ
//! queues), [`load`], [`baseline`], [`proc`] and [`report`].

mod baseline;
mod database;
mod gisgmp;
mod load;
mod node;
mod proc;
mod registration;
mod report;

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};

use self::database::{TempDatabase, delete_queues};
use self::node::{ChildNode, NodeUnderTest};
use self::registration::{LINK_PARTICIPANT, LINK_UPSTREAM, LinkKey, Parties, Side, register};
use self::report::{Baselines, NodeFigures, Report};
use super::store::load_config;
use crate::cli::{BenchArgs, BenchFormat, BenchStore};
use crate::client::Client;

/// Exchanges of `--quick`, and its pairs at most.
const QUICK_COUNT: u64 = 20;
const QUICK_PAIRS: u16 = 2;
const DEFAULT_DURATION_SECS: u64 = 20;

pub(super) async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(rsmev_broker::config::LogFormat::Text, "warn")?;
    let pairs = if args.quick {
        args.pairs.min(QUICK_PAIRS)
    } else {
        args.pairs
    };
    let (duration, count) = match (args.duration, args.count) {
        (_, Some(n)) => (None, Some(n)),
        (Some(s), None) => (Some(Duration::from_secs(s)), None),
        (None, None) if args.quick => (None, Some(QUICK_COUNT)),
        (None, None) => (Some(Duration::from_secs(DEFAULT_DURATION_SECS)), None),
    };
    if let Some(r) = args.rate
        && !(r.is_finite() && r > 0.0)
    {
        bail!("--rate must be a positive number of exchanges per second");
    }
    let baselines = if args.baselines {
        true
    } else if args.no_baselines {
        false
    } else {
        args.target.is_none()
    };
    let baseline_secs = if args.quick { 1 } else { args.baseline_secs.max(1) };
    let size = args.payload.bytes();
    // Other work on the machine skews every figure: the report says how busy it was.
    let machine_load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "));

    let mut config = load_config(&args.data)?;
    let temporary = tempfile::Builder::new()
        .prefix("rsmev-bench-")
        .tempdir()
        .context("creating a temporary data directory")?;
    let mut database = None;
    if args.target.is_none() {
        config.storage.data_dir = temporary.path().to_owned();
        config.storage.database = match args.store {
            BenchStore::Sqlite => String::new(),
            BenchStore::Postgres | BenchStore::Rabbitmq => {
                let db = TempDatabase::create(&args.postgres).await?;
                let url = db.url();
                database = Some(db);
                url
            }
        };
        if args.store == BenchStore::Rabbitmq {
            config.rabbitmq.url = rsmev_broker::config::Secret::new(args.amqp.clone());
            config.rabbitmq.prefix = format!("rsmev-bench-{}", std::process::id());
        }
    }
    let data_dir = config.storage.data_dir.clone();
    if args.gisgmp {
        let plan = gisgmp::GisgmpPlan {
            duration,
            // Package pairs of 100 charges and 100 payments: a few make a smoke test.
            count: if args.quick && args.count.is_none() {
                Some(gisgmp::QUICK_PACKAGES)
            } else {
                count
            },
            wait_secs: args.wait,
            store: format!("{:?}", args.store).to_lowercase(),
        };
        let outcome = gisgmp::run(&config, temporary.path(), pairs, plan).await;
        drop_run_database(database, &args, &config).await;
        let report = outcome?;
        print_report(&args, &report.render(), &report)?;
        drop(temporary);
        let failed = report.charges == 0 || (args.quick && report.errors > 0);
        return Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let outcome = if args.federal {
        across_the_link(&args, &config, temporary.path(), pairs, size, duration, count).await
    } else {
        let registered = register(&config, &data_dir, pairs, size, Side::Plain, None).await;
        let node = match (registered, &args.target) {
            (Err(e), _) => Err(e),
            (Ok(parties), Some(url)) => Ok((parties, NodeUnderTest::Remote(url.clone()))),
            (Ok(parties), None) => ChildNode::start(&config, &[])
                .await
                .map(|child| (parties, NodeUnderTest::Child(child))),
        };
        match node {
            Ok((parties, node)) => {
                let urls = Urls::one(&node);
                measure(&args, node, &urls, parties, duration, count).await
            }
            Err(e) => Err(e),
        }
    };
    drop_run_database(database, &args, &config).await;
    let (load, node_figures) = outcome?;

    let mut base = Baselines::default();
    if baselines {
        base.floor = Some(
            tokio::task::spawn_blocking(move || baseline::floor(size, Duration::from_secs(baseline_secs)))
                .await
                .context("the floor baseline")??,
        );
        match baseline::rabbitmq(&args.amqp, pairs, size, Duration::from_secs(baseline_secs)).await {
            Ok(r) => base.rabbitmq = Some(r),
            Err(e) => base.rabbitmq_skipped = Some(format!("{e:#}")),
        }
    }

    let mut report = Report::new(&args, pairs, size, load, node_figures, base);
    report.machine_load_before = machine_load;
    report.cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    print_report(&args, &report.render(), &report)?;
    drop(temporary);
    let failed = report.exchanges == 0 || (args.quick && report.errors_total > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Drops the run's own database (and its RabbitMQ queues), if it made one.
async fn drop_run_database(
    database: Option<TempDatabase>,
    args: &BenchArgs,
    config: &rsmev_broker::config::NodeConfig,
) {
    if let Some(db) = database {
        if args.store == BenchStore::Rabbitmq {
            delete_queues(config).await;
        }
        db.drop_database().await;
    }
}

/// Prints the report (`rendered` as a table, or JSON) and writes it to `--json FILE`.
fn print_report(args: &BenchArgs, rendered: &str, report: &impl serde::Serialize) -> anyhow::Result<()> {
    match args.format {
        BenchFormat::Table => out!("{rendered}"),
        BenchFormat::Json => outln!("{}", serde_json::to_string_pretty(report)?),
    }
    if let Some(file) = &args.json {
        std::fs::write(file, serde_json::to_string_pretty(report)? + "\n")
            .with_context(|| format!("writing {}", file.display()))?;
    }
    Ok(())
}

/// Where the consumers and the providers of a run talk to.
struct Urls {
    consumers: String,
    providers: String,
}

impl Urls {
    /// Both to the node under test.
    fn one(node: &NodeUnderTest) -> Urls {
        let url = match node {
            NodeUnderTest::Remote(url) => url.clone(),
            NodeUnderTest::Child(c) => c.url.clone(),
        };
        Urls {
            consumers: url.clone(),
            providers: url,
        }
    }
}

/// `--federal`: a federal node (embedded, in `federal_dir`'s own data) beside the node under
/// test, whose federal link carries every exchange across.
async fn across_the_link(
    args: &BenchArgs,
    config: &rsmev_broker::config::NodeConfig,
    scratch: &std::path::Path,
    pairs: u16,
    size: usize,
    duration: Option<Duration>,
    count: Option<u64>,
) -> anyhow::Result<(load::LoadResult, Option<NodeFigures>)> {
    let link = LinkKey::generate()?;
    let key = scratch.join("federal-link-key.pem");
    let cert = scratch.join("federal-link-cert.pem");
    std::fs::write(&key, &link.key_pem).context("writing the link's key")?;
    std::fs::write(&cert, &link.cert_pem).context("writing the link's certificate")?;
    let mut federal = rsmev_broker::config::NodeConfig::default();
    federal.storage.data_dir = scratch.join("federal");
    let regional = register(
        config,
        &config.storage.data_dir,
        pairs,
        size,
        Side::Regional,
        Some(&link),
    )
    .await?;
    let upstream = register(
        &federal,
        &federal.storage.data_dir,
        pairs,
        size,
        Side::Federal,
        Some(&link),
    )
    .await?;
    let federal_node = ChildNode::start(&federal, &[]).await?;
    let env: Vec<(String, String)> = [
        ("RSMEV_FEDERAL_ENDPOINT", format!("{}/ws", federal_node.url)),
        ("RSMEV_FEDERAL_MNEMONIC", LINK_UPSTREAM.to_owned()),
        ("RSMEV_FEDERAL_PARTICIPANT", LINK_PARTICIPANT.to_owned()),
        ("RSMEV_FEDERAL_KEY", key.display().to_string()),
        ("RSMEV_FEDERAL_CERT", cert.display().to_string()),
        ("RSMEV_FEDERAL_POLL_INTERVAL_MS", args.federal_poll_ms.to_string()),
        ("RSMEV_FEDERAL_RUN_IN_SERVE", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let node = match ChildNode::start(config, &env).await {
        Ok(node) => node,
        Err(e) => {
            federal_node.stop().await;
            return Err(e);
        }
    };
    let urls = Urls {
        consumers: node.url.clone(),
        providers: federal_node.url.clone(),
    };
    // Consumers sign as themselves on the node under test, providers on the federal node.
    let parties = regional
        .into_iter()
        .zip(upstream)
        .map(|(here, there)| Parties {
            provider: there.provider,
            ..here
        })
        .collect();
    let measured = measure(args, NodeUnderTest::Child(node), &urls, parties, duration, count).await;
    federal_node.stop().await;
    measured
}

/// Runs the load against the node, stops a child node, and reads its figures.
async fn measure(
    args: &BenchArgs,
    node: NodeUnderTest,
    urls: &Urls,
    parties: Vec<Parties>,
    duration: Option<Duration>,
    count: Option<u64>,
) -> anyhow::Result<(load::LoadResult, Option<NodeFigures>)> {
    let pairs_run: Vec<Arc<load::Pair>> = parties
        .into_iter()
        .map(|p| {
            Arc::new(load::Pair {
                consumer: Client::new(&urls.consumers, p.consumer).without_answer_checks(),
                provider: Client::new(&urls.providers, p.provider).without_answer_checks(),
                request_type: p.request_type,
                request_doc: p.request_doc,
                response_doc: p.response_doc,
            })
        })
        .collect();
    let plan = load::Plan {
        duration,
        count,
        rate: args.rate,
        wait_secs: args.wait,
        selector: !args.no_selector,
        progress: std::io::stdout().is_terminal() && args.format == BenchFormat::Table,
    };
    let pid = match &node {
        NodeUnderTest::Child(c) => Some(c.pid),
        NodeUnderTest::Remote(_) => None,
    };
    let cpu_before = pid.map(proc::cpu_times).transpose()?;
    let self_before = proc::cpu_seconds_self()?;
    let result = load::run(&pairs_run, &plan).await;
    let self_cpu = proc::cpu_seconds_self()? - self_before;
    let figures = match (pid, cpu_before) {
        (Some(pid), Some(before)) => {
            let cpu = proc::cpu_times(pid)?.since(before);
            let peak_rss_kib = proc::peak_rss_kib(pid)?;
            Some(NodeFigures {
                cpu_seconds: cpu.total(),
                cpu_system_seconds: cpu.system,
                peak_rss_kib,
            })
        }
        _ => None,
    };
    if let NodeUnderTest::Child(child) = node {
        child.stop().await;
    }
    let mut result = result;
    result.bench_cpu_seconds = self_cpu;
    Ok((result, figures))
}

#[cfg(test)]
mod tests {
    use super::registration::document;
    use super::report::Latency;

    #[test]
    fn percentiles_are_nearest_rank() {
        let l = Latency::of((1..=100).map(|ms| ms * 1000).collect()).expect("samples");
        assert_eq!(
            (l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms),
            (50.0, 95.0, 99.0, 100.0)
        );
        assert!(Latency::of(Vec::new()).is_none());
    }

    #[test]
    fn documents_have_the_requested_size() {
        for size in [1024, 16 * 1024] {
            let d = document("urn://x", "BenchRequest", size);
            assert!(d.len() >= size && d.len() < size + 200, "{}", d.len());
        }
    }
}
