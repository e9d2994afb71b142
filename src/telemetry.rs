//! Structured logging: JSON lines for machines (the default in a cluster),
//! or compact text for people at a terminal.

use tracing_subscriber::EnvFilter;

/// The filter when neither `RUST_LOG` nor `--log-level` says otherwise:
/// coffer at info, the Kubernetes and HTTP libraries only when they warn,
/// since at info they log every connection.
pub const DEFAULT_FILTER: &str = "info,kube=warn,hyper=warn,tower=warn";
/// What a bare `--log-level` of info or more keeps quiet, as the default does.
const QUIET_LIBRARIES: &str = "kube=warn,hyper=warn,tower=warn";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

/// The logging flags every coffer binary takes.
#[derive(clap::Args, Debug)]
pub struct LogArgs {
    /// Log format.
    #[arg(long, env = "COFFER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json, global = true)]
    pub log_format: LogFormat,
    /// Log level: error, warn, info, debug or trace (the Kubernetes and HTTP
    /// libraries stay at warn), or a filter in RUST_LOG syntax such as
    /// `info,coffer::provider=debug`. RUST_LOG, when set, wins over it.
    /// Unset: info, with those libraries at warn.
    #[arg(long, env = "COFFER_LOG_LEVEL", value_parser = parse_filter, global = true)]
    pub log_level: Option<String>,
}

/// Refuses a `--log-level` the filter parser would refuse, at startup
/// rather than by logging nothing.
fn parse_filter(value: &str) -> Result<String, String> {
    EnvFilter::builder()
        .parse(value)
        .map(|_| value.to_string())
        .map_err(|e| format!("not a level or a RUST_LOG filter: {e}"))
}

/// The filter directives in force: `RUST_LOG` if set (the escape hatch
/// every Rust program has, so a debugging session needs no new flag), then
/// `--log-level`, then [`DEFAULT_FILTER`].
pub fn filter_directives(rust_log: Option<&str>, log_level: Option<&str>) -> String {
    if let Some(env) = rust_log.filter(|v| !v.trim().is_empty()) {
        return env.to_string();
    }
    match log_level.map(str::trim) {
        None | Some("") => DEFAULT_FILTER.to_string(),
        Some(level @ ("info" | "debug" | "trace")) => format!("{level},{QUIET_LIBRARIES}"),
        Some(filter) => filter.to_string(),
    }
}

/// Installs the global subscriber.
pub fn init(args: &LogArgs) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let directives = filter_directives(rust_log.as_deref(), args.log_level.as_deref());
    let filter = EnvFilter::builder()
        .parse(&directives)
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_level_the_quiet_default_applies() {
        assert_eq!(filter_directives(None, None), DEFAULT_FILTER);
        assert_eq!(filter_directives(Some(""), Some("")), DEFAULT_FILTER);
    }

    #[test]
    fn a_bare_level_keeps_the_libraries_quiet() {
        assert_eq!(
            filter_directives(None, Some("debug")),
            "debug,kube=warn,hyper=warn,tower=warn"
        );
        assert_eq!(filter_directives(None, Some("error")), "error");
    }

    #[test]
    fn a_filter_is_taken_as_given() {
        let filter = "info,coffer::provider=debug";
        assert_eq!(filter_directives(None, Some(filter)), filter);
    }

    #[test]
    fn rust_log_wins_over_the_log_level() {
        assert_eq!(filter_directives(Some("trace"), Some("warn")), "trace");
    }

    #[test]
    fn a_log_level_that_is_no_filter_is_refused() {
        assert!(parse_filter("debug").is_ok());
        assert!(parse_filter("info,coffer=debug").is_ok());
        assert!(parse_filter("coffer=loud").is_err());
    }
}
