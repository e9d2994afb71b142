//! The machine a run measured, stated beside its figures: a figure means
//! little without the cores and memory it was taken on.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub memory_mib: u64,
    pub cpu_model: String,
    pub kernel: String,
}

pub fn describe() -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let meminfo = read("/proc/meminfo");
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_mib: field(&meminfo, "MemTotal:").unwrap_or(0) / 1024,
        cpu_model: cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default(),
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
    }
}

/// The number after `name` in a `/proc` key-value file.
pub fn field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}
