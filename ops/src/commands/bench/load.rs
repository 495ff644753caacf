//! The load: rounds of SendRequest, GetRequest, Ack, SendResponse, GetResponse, Ack.
//!
//! Closed loop (the default): one task per pair, each starting its next round when the last one
//! ended — the node's maximum. Fixed rate (`--rate R`): a scheduler starts R rounds per second
//! in all, round-robin over the pairs, each in its own task, whether or not earlier rounds have
//! ended (open loop, so a slow node shows as latency, not as a lower offered rate). Rounds of
//! one pair then overlap, and a provider may receive another round's request: each round takes
//! whatever its GetRequest/GetResponse returns, and latencies are looked up by MessageID.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rsmev_broker::envelope::InfoTypeName;
use tokio::task::JoinSet;

use crate::client::{Client, NodeFault};

/// Rounds in flight at most in fixed-rate mode, per pair.
const MAX_IN_FLIGHT_PER_PAIR: usize = 64;
/// How long rounds still running at the end may take to finish.
const DRAIN: Duration = Duration::from_secs(30);

/// One consumer/provider pair.
#[derive(Debug)]
pub(super) struct Pair {
    pub consumer: Client,
    pub provider: Client,
    pub request_type: InfoTypeName,
    pub request_doc: String,
    pub response_doc: String,
}

#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub duration: Option<Duration>,
    pub count: Option<u64>,
    pub rate: Option<f64>,
    pub wait_secs: u64,
    /// GetRequest asks with the pair's information type as selector.
    pub selector: bool,
    pub progress: bool,
}

#[derive(Debug, Default)]
pub(super) struct LoadResult {
    pub elapsed: Duration,
    pub exchanges: u64,
    pub calls: u64,
    /// SendRequest accepted → GetRequest returned it, microseconds.
    pub delivery_us: Vec<u64>,
    /// SendRequest posted → the response's Ack done, microseconds.
    pub round_us: Vec<u64>,
    pub errors: BTreeMap<String, u64>,
    pub error_examples: BTreeMap<String, String>,
    pub bench_cpu_seconds: f64,
}

/// When a request was posted and when the node accepted it.
#[derive(Debug, Clone, Copy)]
struct Sent {
    posted: Instant,
    accepted: Option<Instant>,
}

#[derive(Debug)]
struct Shared {
    wait_secs: u64,
    selector: bool,
    started: AtomicU64,
    exchanges: AtomicU64,
    calls: AtomicU64,
    failures: AtomicU64,
    sent: Mutex<HashMap<String, Sent>>,
    samples: Mutex<Samples>,
}

#[derive(Debug, Default)]
struct Samples {
    delivery_us: Vec<u64>,
    round_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
    error_examples: BTreeMap<String, String>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Shared {
    fn samples(&self) -> std::sync::MutexGuard<'_, Samples> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sent(&self) -> std::sync::MutexGuard<'_, HashMap<String, Sent>> {
        self.sent.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn error(&self, key: String, example: String) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut s = self.samples();
        *s.errors.entry(key.clone()).or_default() += 1;
        s.error_examples.entry(key).or_insert(example);
    }

    /// Awaits one API call: counts it, or records its failure by fault name.
    async fn call<T>(&self, step: &str, call: impl Future<Output = anyhow::Result<T>>) -> Option<T> {
        match call.await {
            Ok(v) => {
                self.calls.fetch_add(1, Ordering::Relaxed);
                Some(v)
            }
            Err(e) => {
                let key = match e.downcast_ref::<NodeFault>() {
                    Some(fault) => format!("{step}: {}", fault.name),
                    None if e.chain().any(|c| c.is::<reqwest::Error>()) => format!("{step}: transport"),
                    None => format!("{step}: other"),
                };
                self.error(key, format!("{e:#}"));
                None
            }
        }
    }
}

/// One exchange. Failures are recorded in `shared`; the round stops at the first.
async fn round(pair: &Pair, shared: &Shared) {
    let posted = Instant::now();
    let id = pair.consumer.new_message_id();
    let key = id.to_string();
    shared.sent().insert(
        key.clone(),
        Sent {
            posted,
            accepted: None,
        },
    );
    if shared
        .call("SendRequest", pair.consumer.send_request(id, &pair.request_doc))
        .await
        .is_none()
    {
        shared.sent().remove(&key);
        return;
    }
    if let Some(s) = shared.sent().get_mut(&key) {
        s.accepted = Some(Instant::now());
    }

    let wait = Some(shared.wait_secs);
    let Some(got) = shared
        .call(
            "GetRequest",
            pair.provider
                .get_request(shared.selector.then(|| pair.request_type.clone()), wait),
        )
        .await
    else {
        return;
    };
    let Some(request) = got.value else {
        shared.error(
            "GetRequest: empty queue".into(),
            "no request within the long-poll".into(),
        );
        return;
    };
    let request_id = request.sender_provided.value().message_id.clone();
    if let Some(accepted) = shared
        .sent()
        .get(&request_id.to_string())
        .and_then(|s| s.accepted)
    {
        let us = micros(accepted.elapsed());
        shared.samples().delivery_us.push(us);
    }
    let Some(reply_to) = request.reply_to.clone() else {
        shared.error("GetRequest: no ReplyTo".into(), format!("request {request_id}"));
        return;
    };
    shared.call("Ack", pair.provider.ack(&request_id)).await;

    let response_id = pair.provider.new_message_id();
    if shared
        .call(
            "SendResponse",
            pair.provider
                .send_response(response_id, &reply_to, &pair.response_doc),
        )
        .await
        .is_none()
    {
        return;
    }
    let Some(got) = shared
        .call("GetResponse", pair.consumer.get_response(None, wait))
        .await
    else {
        return;
    };
    let Some(response) = got.value else {
        shared.error(
            "GetResponse: empty queue".into(),
            "no response within the long-poll".into(),
        );
        return;
    };
    let response_id = response.sender_provided.value().message_id.clone();
    let original = response.original_message_id.as_ref().map(ToString::to_string);
    if shared
        .call("Ack", pair.consumer.ack(&response_id))
        .await
        .is_none()
    {
        return;
    }
    if let Some(sent) = original.and_then(|o| shared.sent().remove(&o)) {
        let us = micros(sent.posted.elapsed());
        shared.samples().round_us.push(us);
    }
    shared.exchanges.fetch_add(1, Ordering::Relaxed);
}

/// Runs the plan over the pairs; returns when every round started has ended (or after
/// [`DRAIN`]).
pub(super) async fn run(pairs: &[Arc<Pair>], plan: &Plan) -> LoadResult {
    let shared = Arc::new(Shared {
        wait_secs: plan.wait_secs,
        selector: plan.selector,
        started: AtomicU64::new(0),
        exchanges: AtomicU64::new(0),
        calls: AtomicU64::new(0),
        failures: AtomicU64::new(0),
        sent: Mutex::new(HashMap::new()),
        samples: Mutex::new(Samples::default()),
    });
    let start = Instant::now();
    let deadline = plan.duration.map(|d| start + d);
    let progress = progress_bar(plan);
    let ticker = {
        let (shared, progress) = (shared.clone(), progress.clone());
        let by_count = plan.count.is_some();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let done = shared.exchanges.load(Ordering::Relaxed);
                progress.set_position(if by_count {
                    done
                } else {
                    micros(start.elapsed()) / 1000
                });
                progress.set_message(format!(
                    "{done} exchanges, {} errors",
                    shared.failures.load(Ordering::Relaxed)
                ));
            }
        })
    };
    // May one more round start?
    let more = {
        let shared = shared.clone();
        let count = plan.count;
        move |now: Instant| {
            if deadline.is_some_and(|d| now >= d) {
                return false;
            }
            match count {
                Some(n) => shared.started.fetch_add(1, Ordering::Relaxed) < n,
                None => true,
            }
        }
    };

    let mut tasks = JoinSet::new();
    match plan.rate {
        None => {
            for pair in pairs {
                let (pair, shared, more) = (pair.clone(), shared.clone(), more.clone());
                tasks.spawn(async move {
                    while more(Instant::now()) {
                        round(&pair, &shared).await;
                    }
                });
            }
        }
        Some(rate) => {
            let interval = Duration::from_secs_f64(1.0 / rate);
            let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT_PER_PAIR * pairs.len()));
            let mut next = start;
            let mut k = 0usize;
            while more(next) {
                tokio::time::sleep_until(next.into()).await;
                let Ok(permit) = in_flight.clone().acquire_owned().await else {
                    break;
                };
                let (pair, shared) = (pairs[k % pairs.len()].clone(), shared.clone());
                tasks.spawn(async move {
                    round(&pair, &shared).await;
                    drop(permit);
                });
                k += 1;
                next += interval;
                // Reap finished rounds as we go.
                while tasks.try_join_next().is_some() {}
            }
        }
    }
    let drained = tokio::time::timeout(
        deadline.map_or(DRAIN, |d| d.saturating_duration_since(Instant::now()) + DRAIN),
        async { while tasks.join_next().await.is_some() {} },
    )
    .await;
    if drained.is_err() {
        let left = tasks.len();
        tasks.abort_all();
        shared.error(
            "drain: rounds unfinished".into(),
            format!("{left} rounds were still running {DRAIN:?} after the end"),
        );
    }
    let elapsed = start.elapsed();
    ticker.abort();
    progress.finish_and_clear();

    let mut samples = std::mem::take(&mut *shared.samples());
    LoadResult {
        elapsed,
        exchanges: shared.exchanges.load(Ordering::Relaxed),
        calls: shared.calls.load(Ordering::Relaxed),
        delivery_us: std::mem::take(&mut samples.delivery_us),
        round_us: std::mem::take(&mut samples.round_us),
        errors: samples.errors,
        error_examples: samples.error_examples,
        bench_cpu_seconds: 0.0,
    }
}

fn progress_bar(plan: &Plan) -> ProgressBar {
    if !plan.progress {
        return ProgressBar::hidden();
    }
    let (length, template) = match (plan.count, plan.duration) {
        (Some(n), _) => (n, "{bar:40} {pos}/{len} exchanges  {msg}"),
        (None, Some(d)) => (micros(d) / 1000, "{bar:40} {elapsed}/{duration}  {msg}"),
        (None, None) => (0, "{spinner} {msg}"),
    };
    let bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}
