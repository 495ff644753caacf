//! The library part of `rsmev-ops`: what the `rsmev` binary shares with the criterion benches
//! (`rsmev-benches` depends on it, never the other way round).
//!
//! - [`workload`]: synthetic SMEV traffic and the node's verify-then-sign hop, the work of
//!   `rsmev bench`'s crypto+XML floor and of the benches' hop group.
//! - [`wiring`]: the adapters a node runs for a configuration (`rsmev serve`, the demo, the
//!   integration tests).

pub mod wiring;
pub mod workload;
