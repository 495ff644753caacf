//! The tracing subscriber of `rsmev serve` (and the quieter one of `rsmev demo`).

use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context as _;
use rsmev_broker::config::LogFormat;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Logs to standard error, as text or JSON lines, filtered by `filter` (an `EnvFilter`
/// directive such as `info` or `rsmev_broker=debug,info`).
///
/// # Errors
/// When the filter does not parse.
pub(crate) fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    install(format, filter, LogGate::default())
}

/// As [`init`], but the log is held back until [`LogGate::release`]: `rsmev serve` prints the
/// URL it listens on before the startup log, as the first line a newcomer sees.
///
/// # Errors
/// When the filter does not parse.
pub(crate) fn init_held(format: LogFormat, filter: &str) -> anyhow::Result<LogGate> {
    let gate = LogGate(Arc::new(Mutex::new(Some(Vec::new()))));
    install(format, filter, gate.clone())?;
    Ok(gate)
}

/// libunftp (the file storage's FTP server) traces every command at `info` inside spans that
/// carry its whole session state: quiet unless the filter names it.
const FTP_LIBRARY_DEFAULT: &str = "libunftp=warn,unftp_sbe_fs=warn";

fn install(format: LogFormat, filter: &str, gate: LogGate) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    let filter = if filter.contains("libunftp") || filter.contains("unftp_sbe_fs") {
        filter.to_owned()
    } else {
        format!("{filter},{FTP_LIBRARY_DEFAULT}")
    };
    let filter = EnvFilter::try_new(&filter).with_context(|| format!("log level `{filter}`"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(gate);
    // A subscriber already set (a second init in one process) keeps logging; not an error.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    Ok(())
}

/// Standard error, or a buffer holding the log until released.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogGate(Arc<Mutex<Option<Vec<u8>>>>);

impl LogGate {
    /// Writes what was held and lets the log through from now on.
    pub(crate) fn release(&self) {
        // The lock is held while writing, so nothing logged meanwhile overtakes the backlog.
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(backlog) = held.take() {
            let _ = std::io::stderr().write_all(&backlog);
        }
    }
}

impl<'a> MakeWriter<'a> for LogGate {
    type Writer = LogGate;

    fn make_writer(&'a self) -> LogGate {
        self.clone()
    }
}

impl std::io::Write for LogGate {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match held.as_mut() {
            Some(backlog) => {
                backlog.extend_from_slice(buf);
                Ok(buf.len())
            }
            None => {
                drop(held);
                std::io::stderr().write(buf)
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_log_keeps_its_lines_until_released() {
        let gate = LogGate(Arc::new(Mutex::new(Some(Vec::new()))));
        let mut writer = gate.make_writer();
        writer.write_all(b"one\n").unwrap();
        writer.write_all(b"two\n").unwrap();
        assert_eq!(gate.0.lock().unwrap().as_deref(), Some(&b"one\ntwo\n"[..]));
        gate.release();
        assert!(gate.0.lock().unwrap().is_none());
    }
}
