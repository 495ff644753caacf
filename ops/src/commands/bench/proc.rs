//! CPU time and peak memory of a process, from Linux's `/proc`.

use std::sync::OnceLock;

use anyhow::{Context as _, anyhow};

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// CPU seconds of a process, in user space and in the kernel on its behalf.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct CpuTimes {
    pub user: f64,
    pub system: f64,
}

impl CpuTimes {
    pub(super) fn total(self) -> f64 {
        self.user + self.system
    }

    pub(super) fn since(self, before: CpuTimes) -> CpuTimes {
        CpuTimes {
            user: self.user - before.user,
            system: self.system - before.system,
        }
    }
}

/// User and system CPU seconds of the process whose `stat` file this is.
fn cpu_times_of(path: &str) -> anyhow::Result<CpuTimes> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // The command name (field 2) is in parentheses and may hold spaces: count after the last ')'.
    // Fields from 3 on: state is index 0, so utime (field 14) is 11 and stime (15) is 12.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("unexpected {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> anyhow::Result<f64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| anyhow!("unexpected {path}"))
    };
    Ok(CpuTimes {
        user: field(11)? / ticks_per_second(),
        system: field(12)? / ticks_per_second(),
    })
}

/// CPU time the process `pid` has used.
pub(super) fn cpu_times(pid: u32) -> anyhow::Result<CpuTimes> {
    cpu_times_of(&format!("/proc/{pid}/stat"))
}

/// CPU seconds this process has used, all threads.
pub(super) fn cpu_seconds_self() -> anyhow::Result<f64> {
    cpu_times_of("/proc/self/stat").map(CpuTimes::total)
}

/// Peak resident set size (`VmHWM`) of the process `pid`, KiB.
pub(super) fn peak_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmHWM in {path}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process() {
        let pid = std::process::id();
        assert!(super::cpu_times(pid).expect("stat").total() >= 0.0);
        assert!(super::peak_rss_kib(pid).expect("status") > 0);
    }
}
