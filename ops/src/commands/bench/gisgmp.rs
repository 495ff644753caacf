//! `rsmev bench --gisgmp`: the GIS GMP module's ledger measured through a node, as administrators
//! and payment acceptors use it. The node under test runs the module (`[gisgmp]`, its key made
//! for the run); `--pairs` senders each send, one after the other, an `ImportChargesRequest` of
//! 100 new charges and an `ImportPaymentsRequest` of the 100 payments of those charges (each
//! reconciled on arrival), signed SOAP over HTTP, and wait for the module's answer to each
//! (GetResponse, Ack). Every answer must accept every entity (code 0); anything else counts as
//! an error. The figures: charges and reconciled payments per second, the latency of a package
//! from SendRequest to its answer, and the node's CPU per charge.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use rsmev_broker::admin::Admin;
use rsmev_broker::config::NodeConfig;
use rsmev_broker::dsig::{Certificate, RingSigner};
use rsmev_broker::envelope::ResponseContent;
use rsmev_broker::node::{generate_self_signed, open_store};
use rsmev_gisgmp::doc::El;
use rsmev_gisgmp::fixtures;
use rsmev_gisgmp::issue::{KbkChapter, UinPrefix, UniqueNumber};
use rsmev_registry::{Mnemonic, Participant, ParticipantStatus};
use serde::Serialize;

use super::node::ChildNode;
use super::proc;
use super::report::{Latency, NodeFigures};
use crate::client::Client;
use crate::table::Table;

/// Entities in each package: GIS GMP's limit.
pub(super) const PACKAGE: u64 = 100;

/// Package pairs of `--quick`.
pub(super) const QUICK_PACKAGES: u64 = 2;

/// The module's participant on the node under test.
const MODULE: &str = "GISGMP";

/// The run's figures.
#[derive(Debug, Serialize)]
pub(super) struct GisgmpReport {
    pub(super) store: String,
    pub(super) senders: u16,
    pub(super) seconds: f64,
    /// Charge packages answered with every charge taken.
    pub(super) charge_packages: u64,
    /// Payment packages answered with every payment taken (and reconciled).
    pub(super) payment_packages: u64,
    pub(super) charges: u64,
    pub(super) payments: u64,
    pub(super) charges_per_sec: f64,
    pub(super) payments_per_sec: f64,
    pub(super) charge_package_latency: Option<Latency>,
    pub(super) payment_package_latency: Option<Latency>,
    pub(super) errors: u64,
    pub(super) first_error: Option<String>,
    pub(super) node: Option<NodeFigures>,
    /// The node's CPU per charge or payment taken, in milliseconds.
    pub(super) node_cpu_ms_per_entity: Option<f64>,
}

impl GisgmpReport {
    pub(super) fn render(&self) -> String {
        let mut t = Table::new(&["FIGURE", "VALUE"]);
        let latency = |l: &Option<Latency>| {
            l.map_or_else(
                || "-".to_owned(),
                |l| {
                    format!(
                        "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                        l.p50_ms, l.p95_ms, l.max_ms
                    )
                },
            )
        };
        t.row(vec!["store".into(), self.store.clone()]);
        t.row(vec!["senders".into(), self.senders.to_string()]);
        t.row(vec!["seconds".into(), format!("{:.1}", self.seconds)]);
        t.row(vec![
            "charges taken".into(),
            format!("{} in {} packages", self.charges, self.charge_packages),
        ]);
        t.row(vec![
            "payments reconciled".into(),
            format!("{} in {} packages", self.payments, self.payment_packages),
        ]);
        t.row(vec!["charges/s".into(), format!("{:.0}", self.charges_per_sec)]);
        t.row(vec![
            "payments reconciled/s".into(),
            format!("{:.0}", self.payments_per_sec),
        ]);
        t.row(vec![
            "charge package latency".into(),
            latency(&self.charge_package_latency),
        ]);
        t.row(vec![
            "payment package latency".into(),
            latency(&self.payment_package_latency),
        ]);
        if let Some(n) = &self.node {
            t.row(vec![
                "node CPU".into(),
                format!("{:.1} s, peak RSS {} MiB", n.cpu_seconds, n.peak_rss_kib / 1024),
            ]);
        }
        if let Some(ms) = self.node_cpu_ms_per_entity {
            t.row(vec!["node CPU per entity".into(), format!("{ms:.2} ms")]);
        }
        t.row(vec!["errors".into(), self.errors.to_string()]);
        if let Some(e) = &self.first_error {
            t.row(vec!["first error".into(), e.clone()]);
        }
        t.render()
    }
}

/// How long, or how many package pairs.
pub(super) struct GisgmpPlan {
    pub(super) duration: Option<Duration>,
    /// Charge+payment package pairs in all.
    pub(super) count: Option<u64>,
    pub(super) wait_secs: u64,
    pub(super) store: String,
}

/// Registers the module and the senders in the store `config` names, starts the node with the
/// module, runs the load and stops the node.
pub(super) async fn run(
    config: &NodeConfig,
    scratch: &std::path::Path,
    senders: u16,
    plan: GisgmpPlan,
) -> anyhow::Result<GisgmpReport> {
    let (module_key, module_cert) = generate_self_signed(MODULE, "rsmev bench", 2)
        .map_err(|e| anyhow!("generating the module's key: {e}"))?;
    let key = scratch.join("gisgmp-key.pem");
    let cert = scratch.join("gisgmp-cert.pem");
    std::fs::write(&key, &module_key).context("writing the module's key")?;
    std::fs::write(&cert, &module_cert).context("writing the module's certificate")?;
    let signers = register(config, &module_cert, senders).await?;
    let env: Vec<(String, String)> = [
        ("RSMEV_GISGMP_PARTICIPANT", MODULE.to_owned()),
        ("RSMEV_GISGMP_KEY", key.display().to_string()),
        ("RSMEV_GISGMP_CERT", cert.display().to_string()),
        ("RSMEV_GISGMP_URN", "aa11b4".to_owned()),
        ("RSMEV_GISGMP_POLL_INTERVAL_MS", "20".to_owned()),
        ("RSMEV_GISGMP_WORKERS", senders.clamp(1, 64).to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let node = ChildNode::start(config, &env).await?;
    let clients: Vec<Client> = signers
        .into_iter()
        .map(|s| Client::new(&node.url, s).without_answer_checks())
        .collect();
    let before = proc::cpu_times(node.pid)?;
    let prefix = UinPrefix::KbkChapter(KbkChapter::parse(fixtures::KBK_CHAPTER)?);
    let measured = load(clients, &prefix, &plan).await;
    let node_figures = proc::cpu_times(node.pid).and_then(|after| {
        Ok(NodeFigures {
            cpu_seconds: after.since(before).total(),
            cpu_system_seconds: after.since(before).system,
            peak_rss_kib: proc::peak_rss_kib(node.pid)?,
        })
    });
    node.stop().await;
    let mut report = measured;
    report.store = plan.store;
    report.senders = senders;
    let node_figures = node_figures?;
    let entities = report.charges + report.payments;
    if entities > 0 {
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let per = node_figures.cpu_seconds * 1000.0 / entities as f64;
        report.node_cpu_ms_per_entity = Some(per);
    }
    report.node = Some(node_figures);
    Ok(report)
}

/// The module (with `module_cert`), its types, and `senders` participants granted them.
async fn register(config: &NodeConfig, module_cert: &str, senders: u16) -> anyhow::Result<Vec<RingSigner>> {
    let store = open_store(config).await.context("opening the store")?;
    let result = async {
        let admin = Admin::new(store.as_ref(), config.storage.data_dir.join("xsd"));
        let mut signers = Vec::new();
        let mut names = Vec::new();
        for i in 1..=senders {
            let mnemonic = format!("BENCH-G{i}");
            let (key, cert) = generate_self_signed(&mnemonic, "rsmev bench", 2)
                .map_err(|e| anyhow!("generating the key of {mnemonic}: {e}"))?;
            let signer = RingSigner::from_pem(&key, Certificate::from_pem(&cert)?)?;
            let participant = Participant {
                mnemonic: Mnemonic::new(&mnemonic)?,
                name: mnemonic.clone(),
                organisation: "rsmev bench".into(),
                status: ParticipantStatus::Active,
                certificates: vec![cert],
            };
            admin
                .put_participant(&participant, rsmev_broker::admin::Mode::Upsert)
                .await?;
            names.push(participant.mnemonic);
            signers.push(signer);
        }
        super::super::gisgmp_node::put_module(
            store.as_ref(),
            &admin,
            &Mnemonic::new(MODULE)?,
            Some(module_cert),
            &names,
            false,
            rsmev_gisgmp::doc::Version::V2_4_0,
        )
        .await?;
        Ok(signers)
    }
    .await;
    store.close().await;
    result
}

/// What every sender counts.
#[derive(Default)]
struct Tally {
    charge_packages: AtomicU64,
    payment_packages: AtomicU64,
    errors: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
    charge_latency: std::sync::Mutex<Vec<u64>>,
    payment_latency: std::sync::Mutex<Vec<u64>>,
}

impl Tally {
    fn error(&self, e: &anyhow::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_error.lock()
            && first.is_none()
        {
            *first = Some(format!("{e:#}"));
        }
    }
}

/// Runs the senders until the plan is done.
async fn load(clients: Vec<Client>, prefix: &UinPrefix, plan: &GisgmpPlan) -> GisgmpReport {
    let tally = Arc::new(Tally::default());
    // Package pairs started, shared so that --count is the total.
    let started = Arc::new(AtomicU64::new(0));
    let begin = Instant::now();
    let mut tasks = Vec::new();
    for (i, client) in clients.into_iter().enumerate() {
        let prefix = prefix.clone();
        let tally = Arc::clone(&tally);
        let started = Arc::clone(&started);
        let (duration, count, wait) = (plan.duration, plan.count, plan.wait_secs);
        tasks.push(tokio::spawn(async move {
            loop {
                if duration.is_some_and(|d| begin.elapsed() >= d) {
                    break;
                }
                let n = started.fetch_add(1, Ordering::Relaxed);
                if count.is_some_and(|c| n >= c) {
                    break;
                }
                if let Err(e) = one_pair(&client, &prefix, i, n, wait, &tally).await {
                    tally.error(&e);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let seconds = begin.elapsed().as_secs_f64();
    let charge_packages = tally.charge_packages.load(Ordering::Relaxed);
    let payment_packages = tally.payment_packages.load(Ordering::Relaxed);
    let take =
        |m: &std::sync::Mutex<Vec<u64>>| m.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let per_sec = |n: u64| n as f64 / seconds.max(f64::EPSILON);
    GisgmpReport {
        store: String::new(),
        senders: 0,
        seconds,
        charge_packages,
        payment_packages,
        charges: charge_packages * PACKAGE,
        payments: payment_packages * PACKAGE,
        charges_per_sec: per_sec(charge_packages * PACKAGE),
        payments_per_sec: per_sec(payment_packages * PACKAGE),
        charge_package_latency: Latency::of(take(&tally.charge_latency)),
        payment_package_latency: Latency::of(take(&tally.payment_latency)),
        errors: tally.errors.load(Ordering::Relaxed),
        first_error: tally.first_error.lock().ok().and_then(|f| f.clone()),
        node: None,
        node_cpu_ms_per_entity: None,
    }
}

/// Pair `n` of sender `i`: 100 charges, then their 100 payments.
async fn one_pair(
    client: &Client,
    prefix: &UinPrefix,
    i: usize,
    n: u64,
    wait: u64,
    tally: &Tally,
) -> anyhow::Result<()> {
    let mut charges = String::new();
    let mut payments = String::new();
    for j in 0..PACKAGE {
        // Unique across the run: the pair's number and the entity's place in it.
        let number = n * PACKAGE + j + 1;
        let uin = prefix.uin(UniqueNumber::new(number)?);
        charges.push_str(&fixtures::charge(&format!("I_{j}"), uin.as_str(), 10_000));
        let payment_id =
            fixtures::payment_id(u32::try_from(number).context("more than 10^8 payments in one run")?);
        payments.push_str(&fixtures::payment(
            &format!("I_{j}"),
            &payment_id,
            uin.as_str(),
            10_000,
        ));
    }
    let took = package(client, &fixtures::import_charges(&charges), wait)
        .await
        .with_context(|| format!("sender {}: charges", i + 1))?;
    tally.charge_packages.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut l) = tally.charge_latency.lock() {
        l.push(took);
    }
    let took = package(client, &fixtures::import_payments(&payments), wait)
        .await
        .with_context(|| format!("sender {}: payments", i + 1))?;
    tally.payment_packages.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut l) = tally.payment_latency.lock() {
        l.push(took);
    }
    Ok(())
}

/// Sends `request` and waits for its answer; every entity must be taken. Microseconds taken.
async fn package(client: &Client, request: &str, wait: u64) -> anyhow::Result<u64> {
    let start = Instant::now();
    let message_id = client.new_message_id();
    client.send_request(message_id.clone(), request).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let response = loop {
        if let Some(r) = client.get_response(None, Some(wait)).await?.value {
            break r;
        }
        if Instant::now() > deadline {
            bail!("no answer within 60 s");
        }
    };
    let took = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let data = response.sender_provided.value();
    client.ack(&data.message_id).await?;
    if response.original_message_id.as_ref() != Some(&message_id) {
        bail!("an answer to another request came first");
    }
    let ResponseContent::Answer { primary_content, .. } = &data.content else {
        bail!("the module did not answer with a document: {:?}", data.content);
    };
    let doc = El::parse(primary_content.element().as_str()).map_err(|e| anyhow!("the answer: {e}"))?;
    let refused: Vec<String> = doc
        .children_named("ImportProtocol")
        .filter(|p| p.attr("code") != Some("0"))
        .map(|p| {
            format!(
                "{} {}",
                p.attr("code").unwrap_or("?"),
                p.attr("description").unwrap_or("")
            )
        })
        .collect();
    let taken = doc.children_named("ImportProtocol").count() as u64 - refused.len() as u64;
    if !refused.is_empty() || taken != PACKAGE {
        bail!(
            "{taken} of {PACKAGE} entities taken; refused: {}",
            refused.first().map_or("none", String::as_str)
        );
    }
    Ok(took)
}
