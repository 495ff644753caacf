//! Runs N verify-then-sign hops over a signed SendRequestRequest of a given payload size, for
//! instruction-count profiles that do not depend on machine load:
//!
//! `cargo build --release -p rsmev-benches --example hop_profile`
//! `valgrind --tool=callgrind target/release/examples/hop_profile 16384 1000`
//!
//! Divide the total instructions by N (setup is one hop's worth).

// Benchmark and profiling programs print their figures.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16 * 1024);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let client = rsmev_benches::p256_signer("profile-client");
    let node = rsmev_benches::p256_signer("profile-node");
    let message = rsmev_benches::signed_send_request(size, &client);
    let limits = rsmev_broker::xml::Limits::default();
    let verifiers = rsmev_broker::dsig::VerifierRegistry::default();
    let now = time::OffsetDateTime::now_utc();
    let started = std::time::Instant::now();
    let mut bytes = 0usize;
    for _ in 0..n {
        bytes += rsmev_benches::hop(&message, &limits, now, &verifiers, &node)
            .as_str()
            .len();
    }
    let per_hop = started.elapsed() / u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    eprintln!(
        "{n} hops over a {} byte message: {per_hop:?} per hop (wall), {bytes} signature bytes",
        message.len()
    );
}
