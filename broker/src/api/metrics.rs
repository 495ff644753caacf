//! `GET /metrics` (Prometheus text format) and the HTTP request metrics.
//!
//! A scrape returns:
//! - the exchange's metrics ([`crate::exchange::Metrics`]: operations, latency, signature
//!   failures, accepted and expired messages);
//! - `rsmev_http_requests_total{route,status}` and `rsmev_http_request_duration_seconds{route}`,
//!   labelled by route template (`/api/v1/queues/{mnemonic}`, or `unmatched`), never the raw path;
//! - gauges sampled from the store at scrape time: `rsmev_queue_messages{queue}` (entries waiting,
//!   leased included) and `rsmev_queue_leased_messages{queue}`, summed over participants per
//!   queue kind; the same per registered participant as
//!   `rsmev_participant_queue_messages{participant,queue}` and
//!   `rsmev_participant_queue_leased_messages{participant,queue}` (non-empty queues only; labels
//!   bounded by the registry); `rsmev_store_up` (1 when the sample could be read);
//! - `rsmev_adapter_up{adapter}` for each adapter the node runs, and each adapter's own metrics
//!   ([`crate::adapter::Adapter::metrics`]).

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::proto::MetricFamily;
use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};
use time::OffsetDateTime;

use super::{ApiState, route_of};
use crate::store::QueueKind;

/// Request counters of the HTTP layer, in their own registry (one per [`ApiState`]).
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl HttpMetrics {
    /// # Panics
    /// Never in practice: names and labels are constants, valid by construction.
    pub fn new() -> HttpMetrics {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "rsmev_http_requests_total",
                "HTTP requests answered, by route template and status",
            ),
            &["route", "status"],
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "rsmev_http_request_duration_seconds",
                "Time to answer an HTTP request (long-polls included), by route template",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ]),
            &["route"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(requests.clone()))
            .expect("unique metric");
        registry
            .register(Box::new(duration.clone()))
            .expect("unique metric");
        HttpMetrics {
            registry,
            requests,
            duration,
        }
    }
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics::new()
    }
}

/// Middleware counting every request by route template and status.
pub async fn track(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    let route = route_of(&req).to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let m = &state.http_metrics;
    m.requests
        .with_label_values(&[route.as_str(), res.status().as_str()])
        .inc();
    m.duration
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<ApiState>) -> Response {
    let mut families = state.exchange.metrics().registry.gather();
    families.extend(state.http_metrics.registry.gather());
    families.extend(store_gauges(&state).await);
    families.sort_by(|a, b| a.name().cmp(b.name()));
    let encoder = prometheus::TextEncoder::new();
    let mut out = Vec::new();
    if let Err(e) = encoder.encode(&families, &mut out) {
        tracing::error!(error = %e, "metrics could not be encoded");
        return (StatusCode::INTERNAL_SERVER_ERROR, "metrics could not be encoded").into_response();
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
        out,
    )
        .into_response()
}

/// Queue gauges sampled now, in a registry made for this scrape.
async fn store_gauges(state: &ApiState) -> Vec<MetricFamily> {
    let registry = Registry::new();
    let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
        let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
        registry.register(Box::new(g.clone())).expect("unique metric");
        g
    };
    let up = IntGauge::new(
        "rsmev_store_up",
        "1 when the store answered the queue sample of this scrape",
    )
    .expect("valid metric");
    registry.register(Box::new(up.clone())).expect("unique metric");
    let pending = gauge_vec(
        "rsmev_queue_messages",
        "Messages in queues (leased ones included), by queue kind",
        &["queue"],
    );
    let leased = gauge_vec(
        "rsmev_queue_leased_messages",
        "Messages handed out and not yet acknowledged, by queue kind",
        &["queue"],
    );
    let per_pending = gauge_vec(
        "rsmev_participant_queue_messages",
        "Messages in a registered participant's non-empty queues (leased included)",
        &["participant", "queue"],
    );
    let per_leased = gauge_vec(
        "rsmev_participant_queue_leased_messages",
        "Messages leased from a registered participant's non-empty queues",
        &["participant", "queue"],
    );
    let sample = async {
        let depths = state
            .exchange
            .store()
            .queue_depths(None, OffsetDateTime::now_utc())
            .await?;
        let view = state.exchange.registry_view().await?;
        Ok::<_, crate::store::StoreError>((depths, view))
    };
    match sample.await {
        Ok((depths, view)) => {
            up.set(1);
            for kind in QueueKind::ALL {
                let of_kind = depths.iter().filter(|d| d.queue == kind);
                let (p, l) = of_kind.fold((0u64, 0u64), |(p, l), d| (p + d.pending, l + d.leased));
                pending.with_label_values(&[kind.as_str()]).set(gauge(p));
                leased.with_label_values(&[kind.as_str()]).set(gauge(l));
            }
            for d in depths.iter().filter(|d| view.participant(&d.owner).is_some()) {
                let labels = [d.owner.as_str(), d.queue.as_str()];
                per_pending.with_label_values(&labels).set(gauge(d.pending));
                per_leased.with_label_values(&labels).set(gauge(d.leased));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "queue depths could not be sampled for /metrics");
            up.set(0);
        }
    }
    if !state.adapters.is_empty() {
        let up = gauge_vec(
            "rsmev_adapter_up",
            "An adapter of the node is up (1) or starting, degraded, failed or stopped (0)",
            &["adapter"],
        );
        for (name, health) in state.adapters.health() {
            up.with_label_values(&[name])
                .set(i64::from(health == crate::adapter::AdapterHealth::Up));
        }
    }
    if let Some(t) = state.exchange.store().transport_stats().await {
        let transport = gauge_vec(
            "rsmev_transport",
            "RabbitMQ transport: connected (0/1), outbox (copies waiting), this node's published \
             copies, leases from a queue copy / from the database, stale copies discarded",
            &["what"],
        );
        for (what, n) in [
            ("connected", u64::from(t.connected)),
            ("outbox", t.outbox),
            ("published", t.published),
            ("leased_from_queue", t.leased_from_queue),
            ("leased_from_database", t.leased_from_database),
            ("stale_copies", t.stale_copies),
        ] {
            transport.with_label_values(&[what]).set(gauge(n));
        }
    }
    let mut families = registry.gather();
    for adapter in state.adapters.iter() {
        families.extend(adapter.metrics());
    }
    families
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
