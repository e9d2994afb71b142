//! What every Prometheus exporter says about itself: `coffer_build_info`
//! (version and git revision, a constant 1) and the standard process
//! metrics under the names the Go and Python clients use (`process_*`), read
//! from `/proc` at scrape time, so dashboards made for any exporter work.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::{Registry, Unit};

/// The version this binary was built from.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git revision it was built from (`COFFER_REVISION`, else `git`, else
/// `unknown`: see `build.rs`).
pub const REVISION: &str = match option_env!("COFFER_REVISION") {
    Some(revision) => revision,
    None => "unknown",
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    revision: &'static str,
}

/// Registers `coffer_build_info` in `registry` (the `coffer` sub-registry).
pub fn register_build_info(registry: &mut Registry) {
    let info = Family::<BuildLabels, Gauge>::default();
    info.get_or_create(&BuildLabels {
        version: VERSION,
        revision: REVISION,
    })
    .set(1);
    registry.register(
        "build_info",
        "The version and git revision coffer was built from (always 1)",
        info,
    );
}

/// The `process_*` metrics of this process.
#[derive(Debug, Default)]
pub struct ProcessCollector;

impl ProcessCollector {
    /// Registers the collector in the root `registry`: these names carry no prefix.
    pub fn register(registry: &mut Registry) {
        registry.register_collector(Box::new(Self));
    }
}

/// One reading of `/proc`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub start_time_seconds: f64,
    pub open_fds: u64,
    pub max_fds: u64,
}

/// Reads this process's statistics; `None` where `/proc` is not mounted.
pub fn read() -> Option<ProcessStats> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let boot = boot_time(&std::fs::read_to_string("/proc/stat").ok()?)?;
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let parsed = parse_stat(&stat, ticks as f64, page as u64, boot)?;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(ProcessStats {
        open_fds,
        max_fds: max_fds(),
        ..parsed
    })
}

/// Fields 14, 15 (utime, stime), 22 (starttime), 23 (vsize) and 24 (rss) of
/// `/proc/self/stat`, counted after the command name, which may hold spaces.
fn parse_stat(stat: &str, ticks: f64, page: u64, boot: f64) -> Option<ProcessStats> {
    let after_name = &stat[stat.rfind(')')? + 2..];
    // Field 3 (state) is the first after the name.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let (utime, stime, start) = (field(14)?, field(15)?, field(22)?);
    Some(ProcessStats {
        cpu_seconds: (utime + stime) as f64 / ticks,
        resident_bytes: field(24)? * page,
        virtual_bytes: field(23)?,
        start_time_seconds: boot + start as f64 / ticks,
        open_fds: 0,
        max_fds: 0,
    })
}

/// `btime` of `/proc/stat`: when the machine booted, in Unix seconds.
fn boot_time(stat: &str) -> Option<f64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

fn max_fds() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    match unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } {
        0 => limit.rlim_cur,
        _ => 0,
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(stats) = read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(stats.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges = [
            (
                "process_resident_memory",
                "Resident memory size in bytes",
                Some(Unit::Bytes),
                stats.resident_bytes as f64,
            ),
            (
                "process_virtual_memory",
                "Virtual memory size in bytes",
                Some(Unit::Bytes),
                stats.virtual_bytes as f64,
            ),
            (
                "process_start_time",
                "Start time of the process since the Unix epoch in seconds",
                Some(Unit::Seconds),
                stats.start_time_seconds,
            ),
            (
                "process_open_fds",
                "Number of open file descriptors",
                None,
                stats.open_fds as f64,
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                None,
                stats.max_fds as f64,
            ),
        ];
        for (name, help, unit, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(
                name,
                help,
                unit.as_ref(),
                gauge.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn stat_fields_are_counted_after_a_name_with_spaces() {
        let stat = "42 (tokio (worker) 1) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 104857600 2560 18446744073709551615";
        let stats = parse_stat(stat, 100.0, 4096, 1_700_000_000.0).expect("parses");
        assert_eq!(stats.cpu_seconds, 3.0);
        assert_eq!(stats.start_time_seconds, 1_700_000_010.0);
        assert_eq!(stats.virtual_bytes, 104_857_600);
        assert_eq!(stats.resident_bytes, 2560 * 4096);
    }

    #[test]
    fn the_standard_process_metrics_and_build_info_are_exported() {
        let mut registry = Registry::default();
        ProcessCollector::register(&mut registry);
        register_build_info(registry.sub_registry_with_prefix("coffer"));
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_virtual_memory_bytes ",
            "process_start_time_seconds ",
            "process_open_fds ",
            "process_max_fds ",
        ] {
            assert!(text.contains(&format!("\n{name}")), "{name} in {text}");
        }
        assert!(text.contains(&format!(
            r#"coffer_build_info{{version="{VERSION}",revision="{REVISION}"}} 1"#
        )));
        let stats = read().expect("/proc is mounted");
        assert!(stats.resident_bytes > 1 << 20 && stats.open_fds > 0 && stats.max_fds > 0);
    }
}
