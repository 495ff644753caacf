//! Prometheus metrics of the exchange. Names follow `rsmev_<name>_<unit>[_total]`; label sets are
//! bounded (operations, outcomes, fault names, queue kinds, participants of the registry) — a
//! message id is never a label.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// The exchange's metrics, registered in their own [`Registry`] (the HTTP layer adds the
/// store-sampled gauges at scrape time).
#[derive(Debug, Clone)]
pub struct Metrics {
    pub registry: Registry,
    /// Operations by name and outcome (`ok`, or the fault element name).
    pub operations: IntCounterVec,
    /// Time to answer an operation, by name.
    pub latency: HistogramVec,
    /// Caller signatures refused, by SignatureVerificationFault reason.
    pub signature_failures: IntCounterVec,
    /// Messages accepted, by kind.
    pub accepted: IntCounterVec,
    /// Messages expired at EOL.
    pub expired: IntCounterVec,
}

impl Metrics {
    /// # Panics
    /// Never in practice: metric names and labels are constants, valid by construction.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let operations = IntCounterVec::new(
            Opts::new(
                "rsmev_operations_total",
                "Exchange operations answered, by operation and outcome",
            ),
            &["operation", "outcome"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "rsmev_operation_duration_seconds",
                "Time to answer an exchange operation",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["operation"],
        )
        .expect("valid metric");
        let signature_failures = IntCounterVec::new(
            Opts::new(
                "rsmev_signature_failures_total",
                "Caller signatures refused, by reason",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let accepted = IntCounterVec::new(
            Opts::new(
                "rsmev_messages_accepted_total",
                "Messages accepted into queues, by kind",
            ),
            &["kind"],
        )
        .expect("valid metric");
        let expired = IntCounterVec::new(
            Opts::new(
                "rsmev_messages_expired_total",
                "Messages removed from queues at their EOL, by kind",
            ),
            &["kind"],
        )
        .expect("valid metric");
        for c in [&operations, &signature_failures, &accepted, &expired] {
            registry.register(Box::new(c.clone())).expect("unique metric");
        }
        registry
            .register(Box::new(latency.clone()))
            .expect("unique metric");
        Metrics {
            registry,
            operations,
            latency,
            signature_failures,
            accepted,
            expired,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
