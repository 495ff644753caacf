//! The run's figures: node CPU and memory, latency percentiles, baselines, and the report
//! rendered as a table or serialized as JSON.

use serde::Serialize;

use super::{baseline, load};
use crate::cli::{BenchArgs, BenchStore};
use crate::table::Table;

#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct NodeFigures {
    pub(super) cpu_seconds: f64,
    /// Of which in the kernel (system time).
    pub(super) cpu_system_seconds: f64,
    pub(super) peak_rss_kib: u64,
}

#[derive(Debug, Default, Serialize)]
pub(super) struct Baselines {
    pub(super) floor: Option<baseline::Floor>,
    pub(super) rabbitmq: Option<baseline::RabbitMq>,
    pub(super) rabbitmq_skipped: Option<String>,
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Latency {
    pub(super) samples: usize,
    pub(super) p50_ms: f64,
    pub(super) p95_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) max_ms: f64,
}

impl Latency {
    pub(super) fn of(mut micros: Vec<u64>) -> Option<Latency> {
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
pub(super) struct Report {
    /// `/proc/loadavg` (1, 5, 15 min) when the bench started.
    pub(super) machine_load_before: Option<String>,
    pub(super) cpus: usize,
    node: String,
    store: String,
    pairs: u16,
    payload_bytes: usize,
    mode: String,
    seconds: f64,
    pub(super) exchanges: u64,
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
    pub(super) errors_total: u64,
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
    pub(super) fn new(
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
            node: match &args.target {
                Some(url) => url.clone(),
                None if args.federal => format!(
                    "child `rsmev serve` with the federal link (poll {} ms) → child `rsmev serve` as the federal SMEV 3 (sqlite)",
                    args.federal_poll_ms
                ),
                None => "child `rsmev serve`".into(),
            },
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

    pub(super) fn render(&self) -> String {
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
