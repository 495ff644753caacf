//! `rsmev bench`: measures a node with full signed exchanges over HTTP.
//!
//! The bench registers N consumer/provider pairs (each pair its own namespace, XSD set, request
//! and response types, service and grant) in the node's store through [`Admin`], then starts the
//! node as a child process (`rsmev serve`, this same binary) on a free port, unless `--target`
//! names a running one. Each exchange is SendRequest, GetRequest (long-poll), Ack,
//! SendResponse, GetResponse (long-poll), Ack; pairs run in parallel ([`load`]).
//!
//! The node's CPU time and peak memory come from `/proc/<pid>` of the child. The baselines
//! ([`baseline`]) run after the node has stopped, so nothing competes with them: the crypto+XML
//! floor (the verify-then-sign hop of the criterion benches, on all cores) and raw RabbitMQ
//! (persistent messages to a quorum queue with publisher confirms and manual acks).

mod baseline;
mod load;
mod proc;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use rsmev_broker::admin::{Admin, Mode};
use rsmev_broker::config::NodeConfig;
use rsmev_broker::dsig::{Certificate, RingSigner};
use rsmev_broker::envelope::InfoTypeName;
use rsmev_broker::node::{generate_self_signed, open_store};
use rsmev_registry::{
    Grant, InfoType, InfoTypeKind, Mnemonic, Participant, ParticipantStatus, QName, Service,
};
use serde::Serialize;
use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};

use super::store::load_config;
use crate::cli::{BenchArgs, BenchFormat, BenchStore};
use crate::client::Client;
use crate::table::Table;

/// Exchanges of `--quick`, and its pairs at most.
const QUICK_COUNT: u64 = 20;
const QUICK_PAIRS: u16 = 2;
const DEFAULT_DURATION_SECS: u64 = 20;

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
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
    let registered = register(&config, &data_dir, pairs, size).await;
    let node = match (registered, &args.target) {
        (Err(e), _) => Err(e),
        (Ok(parties), Some(url)) => Ok((parties, NodeUnderTest::Remote(url.clone()))),
        (Ok(parties), None) => ChildNode::start(&config)
            .await
            .map(|child| (parties, NodeUnderTest::Child(child))),
    };
    let outcome = match node {
        Ok((parties, node)) => measure(&args, node, parties, duration, count).await,
        Err(e) => Err(e),
    };
    if let Some(db) = database {
        if args.store == BenchStore::Rabbitmq {
            delete_queues(&db, &args.amqp, &config.rabbitmq.prefix).await;
        }
        db.drop_database().await;
    }
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
    match args.format {
        BenchFormat::Table => out!("{}", report.render()),
        BenchFormat::Json => outln!("{}", serde_json::to_string_pretty(&report)?),
    }
    if let Some(file) = &args.json {
        std::fs::write(file, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", file.display()))?;
    }
    drop(temporary);
    let failed = report.exchanges == 0 || (args.quick && report.errors_total > 0);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the load against the node, stops a child node, and reads its figures.
async fn measure(
    args: &BenchArgs,
    node: NodeUnderTest,
    parties: Vec<Parties>,
    duration: Option<Duration>,
    count: Option<u64>,
) -> anyhow::Result<(load::LoadResult, Option<NodeFigures>)> {
    let url = match &node {
        NodeUnderTest::Remote(url) => url.clone(),
        NodeUnderTest::Child(c) => c.url.clone(),
    };
    let pairs_run: Vec<Arc<load::Pair>> = parties
        .into_iter()
        .map(|p| {
            Arc::new(load::Pair {
                consumer: Client::new(&url, p.consumer).without_answer_checks(),
                provider: Client::new(&url, p.provider).without_answer_checks(),
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

/// A registered pair's keys and documents.
struct Parties {
    consumer: RingSigner,
    provider: RingSigner,
    request_type: InfoTypeName,
    request_doc: String,
    response_doc: String,
}

#[derive(Debug)]
enum NodeUnderTest {
    Child(ChildNode),
    Remote(String),
}

/// `rsmev serve` as a child process.
#[derive(Debug)]
struct ChildNode {
    child: tokio::process::Child,
    pid: u32,
    url: String,
}

impl ChildNode {
    /// Starts `rsmev serve` on the configuration's data (and database) on a free port of
    /// 127.0.0.1 and waits for the URL it prints.
    async fn start(config: &NodeConfig) -> anyhow::Result<ChildNode> {
        let exe = std::env::current_exe().context("finding the rsmev executable")?;
        let mut command = tokio::process::Command::new(exe);
        command
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(&config.storage.data_dir)
            .arg("--log-level")
            .arg("warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if config.storage.database.is_empty() {
            command.env_remove("RSMEV_STORAGE_DATABASE");
        } else {
            command.env("RSMEV_STORAGE_DATABASE", &config.storage.database);
        }
        let amqp = config.rabbitmq.url.expose();
        if amqp.is_empty() {
            command.env_remove("RSMEV_RABBITMQ_URL");
        } else {
            command
                .env("RSMEV_RABBITMQ_URL", amqp)
                .env("RSMEV_RABBITMQ_PREFIX", &config.rabbitmq.prefix);
        }
        let mut child = command.spawn().context("starting `rsmev serve`")?;
        let pid = child.id().ok_or_else(|| anyhow!("the node exited at once"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("no standard output of the node"))?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .context("the node did not start within 60 s")?
            .context("reading the node's output")?
            .ok_or_else(|| anyhow!("the node exited before listening"))?;
        // "rsmev listening on http://127.0.0.1:PORT  (…"
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .ok_or_else(|| anyhow!("unexpected first line of the node: {first}"))?
            .to_owned();
        // Keep reading, so the node never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ChildNode { child, pid, url })
    }

    /// SIGTERM, then up to 10 s for a clean exit, then SIGKILL.
    async fn stop(mut self) {
        let terminated = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .is_ok_and(|s| s.success());
        if terminated
            && tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .is_ok()
        {
            return;
        }
        let _ = self.child.kill().await;
    }
}

/// Deletes the RabbitMQ queues and exchanges the run's node declared (under `prefix`, for the
/// participants registered in `db`). Best effort: a failure is reported, not fatal.
async fn delete_queues(db: &TempDatabase, amqp: &str, prefix: &str) {
    let cleaned = async {
        let mut conn = sqlx::PgConnection::connect(&db.url()).await?;
        let owners: Vec<String> = sqlx::query_scalar("SELECT mnemonic FROM participants")
            .fetch_all(&mut conn)
            .await?;
        let _ = conn.close().await;
        let owners: Vec<_> = owners
            .into_iter()
            .filter_map(|m| rsmev_registry::Mnemonic::new(m).ok())
            .collect();
        let topology = rsmev_broker::amqp::Topology {
            prefix: prefix.to_owned(),
        };
        rsmev_broker::amqp::delete_everything(amqp, &topology, &owners).await?;
        anyhow::Ok(())
    };
    if let Err(e) = cleaned.await {
        eprintln!("warning: could not delete the run's RabbitMQ queues under {prefix}: {e:#}");
    }
}

/// A database created for one run on a PostgreSQL server, dropped at the end.
#[derive(Debug)]
struct TempDatabase {
    server: String,
    name: String,
}

impl TempDatabase {
    async fn create(server: &str) -> anyhow::Result<TempDatabase> {
        use sqlx::Connection as _;
        let server = server.trim_end_matches('/').to_owned();
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let name = format!("rsmev_bench_{}_{stamp}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .with_context(|| format!("connecting to PostgreSQL at {server}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .with_context(|| format!("creating the database {name}"))?;
        let _ = conn.close().await;
        Ok(TempDatabase { server, name })
    }

    fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    async fn drop_database(self) {
        use sqlx::Connection as _;
        let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{}/postgres", self.server)).await else {
            eprintln!("warning: could not drop the database {}", self.name);
            return;
        };
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await {
            eprintln!("warning: could not drop the database {}: {e}", self.name);
        }
        let _ = conn.close().await;
    }
}

/// The XSD of pair `n`'s namespace: a request and a response of repeated `Item`s.
fn bench_xsd(namespace: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{namespace}" targetNamespace="{namespace}" elementFormDefault="qualified">
  <xs:element name="BenchRequest" type="Items"/>
  <xs:element name="BenchResponse" type="Items"/>
  <xs:complexType name="Items">
    <xs:sequence><xs:element name="Item" type="Item" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="Item">
    <xs:simpleContent>
      <xs:extension base="xs:string"><xs:attribute name="n" type="xs:int" use="required"/></xs:extension>
    </xs:simpleContent>
  </xs:complexType>
</xs:schema>
"#
    )
}

/// A business document of root `root` in `namespace`, at least `size` bytes long.
fn document(namespace: &str, root: &str, size: usize) -> String {
    let mut xml = format!(r#"<{root} xmlns="{namespace}">"#);
    let mut n = 0u32;
    while xml.len() + root.len() + 3 < size {
        n += 1;
        xml.push_str(&format!(
            r#"<Item n="{n}">Сведения о начислении № {n}: штраф &amp; пеня, УФК по г. Москве</Item>"#
        ));
    }
    xml.push_str(&format!("</{root}>"));
    xml
}

/// Registers the pairs in the store the configuration names, then closes it.
async fn register(
    config: &NodeConfig,
    data_dir: &Path,
    pairs: u16,
    size: usize,
) -> anyhow::Result<Vec<Parties>> {
    let store = open_store(config)
        .await
        .with_context(|| format!("opening the store of {}", data_dir.display()))?;
    let result = register_in(store.as_ref(), data_dir, pairs, size).await;
    store.close().await;
    result
}

async fn register_in(
    store: &dyn rsmev_broker::store::Store,
    data_dir: &Path,
    pairs: u16,
    size: usize,
) -> anyhow::Result<Vec<Parties>> {
    let admin = Admin::new(store, data_dir.join("xsd"));
    let mut out = Vec::with_capacity(usize::from(pairs));
    for i in 1..=pairs {
        let namespace = format!("urn://x-artefacts-rsmev/bench/pair{i}/1.0.0");
        let (consumer, consumer_p) = party(&format!("BENCH-C{i}"))?;
        let (provider, provider_p) = party(&format!("BENCH-P{i}"))?;
        for p in [&consumer_p, &provider_p] {
            admin
                .put_participant(p, Mode::Upsert)
                .await
                .with_context(|| format!("registering {}", p.mnemonic))?;
        }
        let xsd_set = format!("bench-pair{i}");
        let xsd_dir: PathBuf = data_dir.join("bench-xsd").join(&xsd_set);
        std::fs::create_dir_all(&xsd_dir).with_context(|| format!("creating {}", xsd_dir.display()))?;
        std::fs::write(xsd_dir.join("bench.xsd"), bench_xsd(&namespace)).context("writing the bench XSD")?;
        admin
            .put_xsd_set(&xsd_set, &xsd_dir)
            .await
            .with_context(|| format!("storing the XSD set {xsd_set}"))?;
        let request = QName::new(&namespace, "BenchRequest");
        let response = QName::new(&namespace, "BenchResponse");
        for (qname, kind) in [
            (&request, InfoTypeKind::Request),
            (&response, InfoTypeKind::Response),
        ] {
            let t = InfoType {
                qname: qname.clone(),
                version: "1.0.0".into(),
                kind,
                provider: provider_p.mnemonic.clone(),
                xsd: Some(xsd_set.clone()),
                transaction_code_required: false,
                max_size: None,
                description: "rsmev bench".into(),
            };
            admin
                .put_infotype(&t, Mode::Upsert)
                .await
                .with_context(|| format!("registering {qname}"))?;
        }
        admin
            .put_service(
                &Service {
                    code: format!("bench-pair{i}"),
                    provider: provider_p.mnemonic.clone(),
                    description: "rsmev bench".into(),
                    infotypes: vec![request.clone(), response],
                },
                Mode::Upsert,
            )
            .await
            .context("registering the bench service")?;
        admin
            .grant(&Grant {
                consumer: consumer_p.mnemonic.clone(),
                infotype: request,
            })
            .await
            .context("granting the bench request")?;
        out.push(Parties {
            consumer,
            provider,
            request_type: InfoTypeName {
                namespace_uri: namespace.clone(),
                local_name: "BenchRequest".into(),
            },
            request_doc: document(&namespace, "BenchRequest", size),
            response_doc: document(&namespace, "BenchResponse", size),
        });
    }
    Ok(out)
}

/// A new key and certificate, and the participant registration with that certificate.
fn party(mnemonic: &str) -> anyhow::Result<(RingSigner, Participant)> {
    let (key, cert) = generate_self_signed(mnemonic, "rsmev bench", 2)
        .map_err(|e| anyhow!("generating the key of {mnemonic}: {e}"))?;
    let certificate = Certificate::from_pem(&cert).context("reading a generated certificate")?;
    let signer = RingSigner::from_pem(&key, certificate).context("reading a generated key")?;
    Ok((
        signer,
        Participant {
            mnemonic: Mnemonic::new(mnemonic)?,
            name: mnemonic.to_owned(),
            organisation: "rsmev bench".into(),
            status: ParticipantStatus::Active,
            certificates: vec![cert],
        },
    ))
}

#[derive(Debug, Clone, Copy, Serialize)]
struct NodeFigures {
    cpu_seconds: f64,
    /// Of which in the kernel (system time).
    cpu_system_seconds: f64,
    peak_rss_kib: u64,
}

#[derive(Debug, Default, Serialize)]
struct Baselines {
    floor: Option<baseline::Floor>,
    rabbitmq: Option<baseline::RabbitMq>,
    rabbitmq_skipped: Option<String>,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
struct Latency {
    samples: usize,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Latency {
    fn of(mut micros: Vec<u64>) -> Option<Latency> {
        if micros.is_empty() {
            return None;
        }
        micros.sort_unstable();
        let at = |p: f64| {
            // Nearest rank: the smallest sample with at least p of the samples at or below it.
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss,
                reason = "ranks of at most millions of samples"
            )]
            let rank = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len());
            micros[rank - 1] as f64 / 1000.0
        };
        Some(Latency {
            samples: micros.len(),
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        })
    }
}

#[derive(Debug, Serialize)]
struct Report {
    /// `/proc/loadavg` (1, 5, 15 min) when the bench started.
    machine_load_before: Option<String>,
    cpus: usize,
    node: String,
    store: String,
    pairs: u16,
    payload_bytes: usize,
    mode: String,
    seconds: f64,
    exchanges: u64,
    api_calls: u64,
    exchanges_per_sec: f64,
    api_calls_per_sec: f64,
    /// Node messages per second: each exchange moves a request and a response.
    messages_per_sec: f64,
    delivery_latency: Option<Latency>,
    round_latency: Option<Latency>,
    node_cpu_seconds: Option<f64>,
    node_cpu_system_seconds: Option<f64>,
    node_cpu_ms_per_exchange: Option<f64>,
    node_peak_rss_mib: Option<f64>,
    bench_client_cpu_seconds: f64,
    errors_total: u64,
    errors: std::collections::BTreeMap<String, u64>,
    error_examples: std::collections::BTreeMap<String, String>,
    baselines: Baselines,
    /// Node messages/s ÷ raw RabbitMQ messages/s.
    throughput_vs_rabbitmq: Option<f64>,
    /// Node CPU per message ÷ floor CPU per message.
    cpu_vs_floor: Option<f64>,
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn per(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

impl Report {
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    fn new(
        args: &BenchArgs,
        pairs: u16,
        size: usize,
        load: load::LoadResult,
        node: Option<NodeFigures>,
        baselines: Baselines,
    ) -> Report {
        let secs = load.elapsed.as_secs_f64();
        let exchanges_per_sec = per(load.exchanges, secs);
        let messages_per_sec = 2.0 * exchanges_per_sec;
        let cpu_per_exchange = node
            .filter(|_| load.exchanges > 0)
            .map(|n| n.cpu_seconds / load.exchanges as f64);
        let throughput_vs_rabbitmq = baselines
            .rabbitmq
            .as_ref()
            .filter(|r| r.messages_per_sec > 0.0)
            .map(|r| messages_per_sec / r.messages_per_sec);
        let cpu_vs_floor = match (cpu_per_exchange, &baselines.floor) {
            (Some(c), Some(f)) if f.cpu_seconds_per_message > 0.0 => {
                Some(c / 2.0 / f.cpu_seconds_per_message)
            }
            _ => None,
        };
        Report {
            machine_load_before: None,
            cpus: 0,
            node: args
                .target
                .clone()
                .unwrap_or_else(|| "child `rsmev serve`".into()),
            store: if args.target.is_some() {
                "as configured".into()
            } else {
                match args.store {
                    BenchStore::Sqlite => "sqlite".into(),
                    BenchStore::Postgres => "postgres".into(),
                    BenchStore::Rabbitmq => "postgres+rabbitmq".into(),
                }
            },
            pairs,
            payload_bytes: size,
            mode: format!(
                "{}{}",
                match args.rate {
                    Some(r) => format!("fixed rate {r}/s"),
                    None => "closed loop (max)".into(),
                },
                if args.no_selector {
                    ", GetRequest without selector"
                } else {
                    ""
                }
            ),
            seconds: secs,
            exchanges: load.exchanges,
            api_calls: load.calls,
            exchanges_per_sec,
            api_calls_per_sec: per(load.calls, secs),
            messages_per_sec,
            delivery_latency: Latency::of(load.delivery_us),
            round_latency: Latency::of(load.round_us),
            node_cpu_seconds: node.map(|n| n.cpu_seconds),
            node_cpu_system_seconds: node.map(|n| n.cpu_system_seconds),
            node_cpu_ms_per_exchange: cpu_per_exchange.map(|c| c * 1000.0),
            node_peak_rss_mib: node.map(|n| n.peak_rss_kib as f64 / 1024.0),
            bench_client_cpu_seconds: load.bench_cpu_seconds,
            errors_total: load.errors.values().sum(),
            errors: load.errors,
            error_examples: load.error_examples,
            baselines,
            throughput_vs_rabbitmq,
            cpu_vs_floor,
        }
    }

    fn render(&self) -> String {
        let mut t = Table::new(&["measure", "value"]);
        let mut row = |k: &str, v: String| t.row(vec![k.to_owned(), v]);
        row("node", format!("{} ({} store)", self.node, self.store));
        row(
            "load",
            format!(
                "{} pairs, {} B payload, {}",
                self.pairs, self.payload_bytes, self.mode
            ),
        );
        row("time", format!("{:.1} s", self.seconds));
        row(
            "machine",
            format!(
                "{} CPUs, load average before {}",
                self.cpus,
                self.machine_load_before.as_deref().unwrap_or("?")
            ),
        );
        row(
            "exchanges",
            format!("{} ({:.1}/s)", self.exchanges, self.exchanges_per_sec),
        );
        row(
            "API calls",
            format!("{} ({:.1}/s)", self.api_calls, self.api_calls_per_sec),
        );
        row("node messages/s", format!("{:.1}", self.messages_per_sec));
        for (name, l) in [
            ("delivery latency", &self.delivery_latency),
            ("exchange latency", &self.round_latency),
        ] {
            row(
                name,
                l.map_or_else(
                    || "no samples".into(),
                    |l| {
                        format!(
                            "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                            l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
                        )
                    },
                ),
            );
        }
        if let (Some(cpu), Some(system), Some(per)) = (
            self.node_cpu_seconds,
            self.node_cpu_system_seconds,
            self.node_cpu_ms_per_exchange,
        ) {
            row(
                "node CPU",
                format!("{cpu:.2} s ({system:.2} s kernel), {per:.3} ms per exchange"),
            );
        }
        if let Some(rss) = self.node_peak_rss_mib {
            row("node peak RSS", format!("{rss:.1} MiB"));
        }
        row(
            "bench client CPU",
            format!(
                "{:.2} s (same machine: competes with the node)",
                self.bench_client_cpu_seconds
            ),
        );
        row(
            "errors",
            if self.errors.is_empty() {
                "0".into()
            } else {
                self.errors
                    .iter()
                    .map(|(k, n)| format!("{k}: {n}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
        );
        if let Some(f) = &self.baselines.floor {
            row(
                "floor (verify+sign)",
                format!(
                    "{:.0} msg/s on {} threads, {:.3} ms CPU per message",
                    f.messages_per_sec,
                    f.threads,
                    f.cpu_seconds_per_message * 1000.0
                ),
            );
        }
        if let Some(r) = &self.baselines.rabbitmq {
            row(
                "raw RabbitMQ",
                format!(
                    "{:.0} msg/s (quorum queue, persistent, confirms, manual ack, {} publishers/consumers)",
                    r.messages_per_sec, r.concurrency
                ),
            );
        }
        if let Some(why) = &self.baselines.rabbitmq_skipped {
            row("raw RabbitMQ", format!("skipped: {why}"));
        }
        if let Some(x) = self.throughput_vs_rabbitmq {
            row("node msg/s ÷ RabbitMQ msg/s", format!("{x:.3}"));
        }
        if let Some(x) = self.cpu_vs_floor {
            row("node CPU/msg ÷ floor CPU/msg", format!("{x:.2}"));
        }
        let mut text = t.render();
        for (k, e) in &self.error_examples {
            text.push_str(&format!("  first {k}: {e}\n"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
