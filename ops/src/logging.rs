//! The tracing subscriber of `rsmev serve` (and the quieter one of `rsmev demo`).

use anyhow::Context as _;
use rsmev_broker::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Logs to standard error, as text or JSON lines, filtered by `filter` (an `EnvFilter`
/// directive such as `info` or `rsmev_broker=debug,info`).
///
/// # Errors
/// When the filter does not parse.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter).with_context(|| format!("log level `{filter}`"))?;
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A subscriber already set (a second init in one process) keeps logging; not an error.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}
