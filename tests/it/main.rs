//! Black-box integration and conformance tests: one test binary (`cargo test -p rsmev-tests`).
//!
//! Layout:
//! - [`backend`]: the backends the end-to-end tests run on (embedded SQLite; PostgreSQL +
//!   RabbitMQ) and the test databases and queues they need.
//! - [`harness`]: nodes started in-process on port 0 over a temporary directory, participants
//!   with generated keys registered through the admin API, a signing SOAP client that verifies
//!   the node's signature on every answer and records every answer.
//! - [`exchange`]: the exchange over HTTP: happy path, every intake and delivery fault,
//!   redelivery, EOL expiry, broadcast, idempotent resend, long-poll.
//! - [`node_conformance`]: every answer of a running node is valid against the real 1.3 XSDs.
//! - [`multinode`]: two nodes on one PostgreSQL database share the queues: exactly-once
//!   delivery, duplicate detection and redelivery across nodes.
//! - [`transport`]: the RabbitMQ transport: outbox while RabbitMQ is down, leases from queue
//!   copies, stale copies, redelivery copies.
//! - [`federal`]: the federal link between two real nodes, one playing the federal SMEV 3.
//! - [`federal_files`]: files across the federal link, both nodes with a file storage.
//! - [`files`]: large attachments through the file storage: FTP upload with a real client,
//!   `RefAttachmentHeader` checked, `FSAttachment` credentials that open one directory, quota.
//! - [`gisgmp_module`]: the GIS GMP module as a participant of a running node: charges,
//!   payments, quittances, forced operations and the official requests, through the node.
//! - [`gisgmp_federal`]: the module forwarding to a federal GIS GMP across the federal link.
//! - [`amqp`]: the AMQP queue adapter: `rsmev participant amqp-setup`, intake and inbox queues.
//! - [`crash`]: the real `rsmev serve` binary killed with SIGKILL mid-stream and restarted.
//! - [`python`]: an independent Python client (zeep + signxml) completes a signed exchange.
//! - [`conformance`], [`samples`], [`transform`], [`interop`], [`gisgmp`]: the codec, the
//!   canonicalization and signatures against the reference files, xmlsec1 and GIS GMP.
//! - [`gost`]: GOST R 34.10-2012/2001 against the real captures and the OpenSSL gost engine, and
//!   a node signing with GOST serving GOST participants.
//!
//! Environment: `RSMEV_REFERENCE` (reference files), `RSMEV_PYTHON` (the interop client's
//! interpreter), `RSMEV_REQUIRE_INTEROP` (fail instead of skipping when xmlsec1, Python or the
//! OpenSSL gost engine is missing), `RSMEV_BIN` (an `rsmev` binary other than the one next to the tests).
//!
//! Tests that read the public SMEV 3 / GIS GMP reference files run only when `RSMEV_REFERENCE`
//! points at them (`.ci/run` sets it); when it is set but unreadable they fail loudly.

// Test code: unwrap and print freely (helpers outside #[test] are not covered by clippy.toml).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

/// Every test named, once per backend: `embedded::…` on SQLite, `production::…` on
/// PostgreSQL + RabbitMQ (skipped, with a message, when those servers are absent and not
/// required; see [`crate::backend`]).
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(crate::backend::Backend::Embedded).await;
                }
            )*
        }
        mod production {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if crate::backend::Backend::Production.available().await {
                        super::$test(crate::backend::Backend::Production).await;
                    }
                }
            )*
        }
    };
}

mod amqp;
mod backend;
mod conformance;
mod crash;
mod exchange;
mod federal;
mod federal_crash;
mod federal_files;
mod files;
mod gisgmp;
mod gisgmp_federal;
mod gisgmp_module;
mod gost;
mod harness;
mod interop;
mod journal;
mod multinode;
mod node_conformance;
mod process;
mod proxy;
mod python;
mod samples;
mod transform;
mod transport;

use std::path::PathBuf;

/// The reference directory named by `RSMEV_REFERENCE` (absolute, or relative to the workspace
/// root), or `None` when the variable is unset.
///
/// # Panics
/// When the variable is set but does not name a readable directory: a conformance run that
/// silently tests nothing must not pass.
pub fn reference_dir() -> Option<PathBuf> {
    let value = std::env::var_os("RSMEV_REFERENCE")?;
    // A relative value is relative to the workspace root (where the README's commands run),
    // not to this package's directory, where cargo runs the tests.
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = workspace.join(PathBuf::from(value));
    match std::fs::read_dir(&dir) {
        Ok(_) => Some(dir),
        Err(e) => panic!("RSMEV_REFERENCE={} is set but unreadable: {e}", dir.display()),
    }
}

/// Like [`reference_dir`], for tests that have nothing to check without the reference files.
/// Prints why the test did nothing.
pub fn reference_or_skip(test: &str) -> Option<PathBuf> {
    let dir = reference_dir();
    if dir.is_none() {
        eprintln!("{test}: RSMEV_REFERENCE is not set; reference conformance not checked");
    }
    dir
}
