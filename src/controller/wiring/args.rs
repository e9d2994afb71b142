//! `coffer run`'s flags, each with an environment variable so a Helm chart can
//! set it, and the settings the controllers run with.

use std::net::SocketAddr;
use std::time::Duration;

use crate::cli::parse_duration;
/// One duration syntax (`500ms`, `30s`, `10m`, `1h30m`) for every coffer flag.
use crate::controller::engine::Timing;
use crate::provider::endpoints::{DEFAULT_ALLOWED, EndpointPolicy, PatternError};

/// Flags of `coffer run`.
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// How often every object is checked against its provider even when
    /// nothing changed in Kubernetes, to find and undo out-of-band changes.
    /// Each object is checked at its own moment of the interval, so the
    /// checks spread evenly. Examples: `30s`, `10m`, `1h`.
    #[arg(long, env = "COFFER_RESYNC_INTERVAL", default_value = "10m", value_parser = parse_duration)]
    pub resync_interval: Duration,

    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    #[arg(long, env = "COFFER_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,

    /// How many objects of one kind are reconciled at the same time.
    #[arg(long, env = "COFFER_MAX_CONCURRENT_RECONCILES", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_reconciles: u16,

    /// At most this many of a kind's concurrent reconciles go to the objects
    /// of one ProviderConfig, so that a slow or unanswering endpoint leaves
    /// the others slots. Default: half of --max-concurrent-reconciles.
    #[arg(long, env = "COFFER_MAX_CONCURRENT_RECONCILES_PER_CONFIG",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrent_reconciles_per_config: Option<u16>,

    /// How long one reconcile may take, all its provider calls together,
    /// before it is given up and retried with backoff (condition reason
    /// ReconcileDeadlineExceeded). One call alone is bounded at 30 s.
    #[arg(long, env = "COFFER_RECONCILE_DEADLINE", default_value = "1m", value_parser = parse_duration)]
    pub reconcile_deadline: Duration,

    /// Watch and act only in these namespaces (comma-separated), and in the
    /// one coffer runs in (POD_NAMESPACE); every namespace when unset.
    /// Objects elsewhere are never read or written, so coffer needs rights
    /// in these namespaces only.
    #[arg(
        long,
        alias = "watch-namespace",
        env = "COFFER_WATCH_NAMESPACES",
        value_delimiter = ','
    )]
    pub watch_namespaces: Vec<String>,

    /// Serve ClusterProviderConfigs: watch them, and the namespaces' labels
    /// their `allowedNamespaces.selector` reads (cluster-wide read rights on
    /// both). Off, an object that names one is refused (reason
    /// ProviderConfigNotAllowed) and nothing cluster-wide is read.
    #[arg(long, env = "COFFER_CLUSTER_PROVIDER_CONFIGS", default_value_t = true,
          num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub cluster_provider_configs: bool,

    /// Run the controllers only while holding a `coordination.k8s.io/v1` Lease,
    /// so that several replicas can run and exactly one of them acts.
    /// `--leader-election` or `--leader-election=true` turns it on,
    /// `--leader-election=false` off.
    #[arg(long, env = "COFFER_LEADER_ELECTION", default_value_t = false,
          num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub leader_election: bool,

    /// Namespace of the Lease; the namespace coffer runs in.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    pub leader_election_namespace: String,

    /// Name of the Lease.
    #[arg(
        long,
        env = "COFFER_LEADER_ELECTION_LEASE",
        default_value = "coffer-leader"
    )]
    pub leader_election_lease: String,

    /// This replica's name in the Lease; the pod name.
    #[arg(long, env = "POD_NAME")]
    pub leader_election_identity: Option<String>,

    /// How long a Lease stays valid without renewal. The holder renews every
    /// third of it and gives up (and exits) when it could not renew in time.
    #[arg(long, env = "COFFER_LEADER_ELECTION_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub leader_election_lease_duration: Duration,

    /// How long a Kubernetes API request may take before coffer gives up on
    /// it and retries; watches are not cut. Without it a request on a
    /// half-open connection would wait forever.
    #[arg(long, env = "COFFER_KUBE_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub kube_request_timeout: Duration,

    /// How long a retryable provider error (a 5xx, a 429, a timeout) must
    /// keep an object failing, however many tries that is, before coffer
    /// shows it in `Synced` and an Event (once; again only when its reason
    /// changes). Shorter failures are retried with backoff, quietly: the
    /// API server is shared by the whole cluster. Errors no retry can fix
    /// are shown at once.
    #[arg(long, env = "COFFER_FAILURE_GRACE", default_value = "60s", value_parser = parse_duration)]
    pub failure_grace: Duration,

    /// How long a SIGTERM waits for running reconciles to finish before
    /// the process exits (and a leader gives up its Lease).
    #[arg(long, env = "COFFER_SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,

    /// The provider endpoints coffer may call, comma-separated
    /// `scheme://host[:port]` patterns; a host may start with `*.`, and a
    /// pattern without a port matches any port. A ProviderConfig whose URL
    /// is outside the list gets no request and no credential (reason
    /// `EndpointNotAllowed`), and neither does a URL a provider hands out
    /// (Rackspace's catalog). The default is the vendors' public endpoints
    /// over https; a private Command Center, a proxy or an emulator must be
    /// added, e.g. `https://cc.corp.example:443,http://127.0.0.1:8780`.
    #[arg(long, env = "COFFER_ALLOWED_ENDPOINTS", default_value_t = EndpointList::default(),
          value_parser = EndpointList::parse)]
    pub allowed_endpoints: EndpointList,
}

/// `--allowed-endpoints` as given, and the policy it makes.
#[derive(Clone, Debug)]
pub struct EndpointList {
    text: String,
    policy: EndpointPolicy,
}

impl EndpointList {
    fn parse(text: &str) -> Result<Self, PatternError> {
        Ok(Self {
            text: text.to_string(),
            policy: EndpointPolicy::parse(text.split(','))?,
        })
    }

    pub fn policy(&self) -> &EndpointPolicy {
        &self.policy
    }
}

impl Default for EndpointList {
    fn default() -> Self {
        Self {
            text: DEFAULT_ALLOWED.join(","),
            policy: EndpointPolicy::default(),
        }
    }
}

impl std::fmt::Display for EndpointList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl RunArgs {
    /// The settings the controllers run with.
    pub fn settings(&self) -> Settings {
        Settings {
            resync_interval: self.resync_interval,
            max_concurrent_reconciles: self.max_concurrent_reconciles,
            max_concurrent_reconciles_per_config: self.max_concurrent_reconciles_per_config,
            reconcile_deadline: self.reconcile_deadline,
            watch_namespaces: self.watched_namespaces(),
            failure_grace: self.failure_grace,
            allowed_endpoints: self.allowed_endpoints.policy().clone(),
            cluster_provider_configs: self.cluster_provider_configs,
            home_namespace: self.leader_election_namespace.clone(),
            ..Settings::default()
        }
    }

    /// The namespaces to watch, coffer's own among them, each once and in
    /// order; empty for all.
    fn watched_namespaces(&self) -> Vec<String> {
        let mut namespaces: Vec<String> = Vec::new();
        let listed = self.watch_namespaces.iter().map(|ns| ns.trim());
        for ns in listed.filter(|ns| !ns.is_empty()) {
            if !namespaces.iter().any(|n| n == ns) {
                namespaces.push(ns.to_string());
            }
        }
        let own = &self.leader_election_namespace;
        if !namespaces.is_empty() && !namespaces.contains(own) {
            namespaces.push(own.clone());
        }
        namespaces
    }
}

/// What the controllers need to know that is not in the cluster.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Period of the drift check, before jitter.
    pub resync_interval: Duration,
    /// Concurrent reconciles per kind.
    pub max_concurrent_reconciles: u16,
    /// Concurrent reconciles per kind one ProviderConfig's objects may
    /// hold; `None` for half of `max_concurrent_reconciles`.
    pub max_concurrent_reconciles_per_config: Option<u16>,
    /// How long one reconcile may take.
    pub reconcile_deadline: Duration,
    /// The namespaces watched; all when empty.
    pub watch_namespaces: Vec<String>,
    /// First retry delay after a retryable error, before jitter.
    pub backoff_base: Duration,
    /// Longest retry delay after repeated retryable errors.
    pub backoff_max: Duration,
    /// How soon to look again while waiting on the provider (a vault being
    /// deleted, resources being associated).
    pub poll_interval: Duration,
    /// How long a resource association or removal may take to show up in the
    /// provider's answers before coffer asks again.
    pub settle_time: Duration,
    /// How long a retryable error must persist before it is shown.
    pub failure_grace: Duration,
    /// `reportingInstance` of Events: which replica acted.
    pub instance: Option<String>,
    /// The provider endpoints coffer may call (`--allowed-endpoints`).
    pub allowed_endpoints: EndpointPolicy,
    /// Whether ClusterProviderConfigs are served (`--cluster-provider-configs`).
    pub cluster_provider_configs: bool,
    /// The namespace coffer runs in: a ClusterProviderConfig's Secret is
    /// read there unless it names another.
    pub home_namespace: String,
}

impl Settings {
    /// When the engine looks at an object again, and how patiently.
    pub fn timing(&self) -> Timing {
        Timing {
            resync_interval: self.resync_interval,
            poll_interval: self.poll_interval,
            settle_time: self.settle_time,
            failure_grace: self.failure_grace,
            backoff_base: self.backoff_base,
            backoff_max: self.backoff_max,
            reconcile_deadline: self.reconcile_deadline,
        }
    }

    /// How many of a kind's concurrent reconciles one ProviderConfig's
    /// objects may hold: as set, else half of them (at least one).
    pub fn session_share(&self) -> usize {
        let all = self.max_concurrent_reconciles;
        let share = self
            .max_concurrent_reconciles_per_config
            .unwrap_or(all.div_ceil(2));
        usize::from(share.clamp(1, all.max(1)))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            resync_interval: Duration::from_secs(600),
            max_concurrent_reconciles: 16,
            max_concurrent_reconciles_per_config: None,
            reconcile_deadline: Duration::from_secs(60),
            watch_namespaces: Vec::new(),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            poll_interval: Duration::from_secs(10),
            settle_time: Duration::from_secs(120),
            failure_grace: Duration::from_secs(60),
            instance: std::env::var("POD_NAME").ok(),
            allowed_endpoints: EndpointPolicy::default(),
            cluster_provider_configs: true,
            home_namespace: "default".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        run: RunArgs,
    }

    fn parse(args: &[&str]) -> RunArgs {
        Cli::try_parse_from(std::iter::once("coffer").chain(args.iter().copied()))
            .expect("parses")
            .run
    }

    #[test]
    fn defaults_suit_a_cluster() {
        let args = parse(&[]);
        assert_eq!(args.resync_interval, Duration::from_secs(600));
        assert_eq!(args.metrics_addr.to_string(), "0.0.0.0:8080");
        assert!(!args.leader_election);
    }

    #[test]
    fn allowed_endpoints_default_to_the_vendors_and_refuse_a_bad_pattern() {
        let vendors = parse(&[]).allowed_endpoints;
        assert!(
            vendors
                .policy()
                .check("https://iam.myhuaweicloud.com")
                .is_ok()
        );
        assert!(vendors.policy().check("http://127.0.0.1:8780").is_err());
        let given = parse(&[
            "--allowed-endpoints",
            "http://127.0.0.1:8780, https://*.corp.example",
        ]);
        assert!(
            given
                .allowed_endpoints
                .policy()
                .check("http://127.0.0.1:8780/v2.0")
                .is_ok()
        );
        assert!(
            given
                .allowed_endpoints
                .policy()
                .check("https://iam.myhuaweicloud.com")
                .is_err()
        );
        assert!(Cli::try_parse_from(["coffer", "--allowed-endpoints", "iam.example.com"]).is_err());
    }

    #[test]
    fn leader_election_turns_on_and_off() {
        assert!(parse(&["--leader-election"]).leader_election);
        assert!(parse(&["--leader-election=true"]).leader_election);
        assert!(!parse(&["--leader-election=false"]).leader_election);
    }

    #[test]
    fn watch_namespaces_add_coffers_own_and_default_to_all() {
        assert!(parse(&[]).settings().watch_namespaces.is_empty());
        let args = parse(&[
            "--watch-namespaces=team-a, team-b,team-a",
            "--leader-election-namespace=coffer-system",
        ]);
        assert_eq!(
            args.settings().watch_namespaces,
            ["team-a", "team-b", "coffer-system"]
        );
        // The flag's old, singular name still works.
        let one = parse(&["--watch-namespace", "coffer-system"]);
        assert_eq!(one.watch_namespaces, ["coffer-system"]);
    }

    #[test]
    fn a_config_gets_half_the_reconciles_unless_told() {
        assert_eq!(parse(&[]).settings().session_share(), 8);
        let told = parse(&["--max-concurrent-reconciles-per-config=3"]);
        assert_eq!(told.settings().session_share(), 3);
        let over = parse(&[
            "--max-concurrent-reconciles=4",
            "--max-concurrent-reconciles-per-config=9",
        ]);
        assert_eq!(over.settings().session_share(), 4);
        assert_eq!(
            parse(&["--reconcile-deadline=90s"]).reconcile_deadline,
            Duration::from_secs(90)
        );
        assert_eq!(parse(&[]).reconcile_deadline, Duration::from_secs(60));
    }

    #[test]
    fn resync_interval_takes_human_durations() {
        assert_eq!(
            parse(&["--resync-interval", "30s"]).resync_interval,
            Duration::from_secs(30)
        );
        assert_eq!(
            parse(&["--resync-interval", "1h30m"]).resync_interval,
            Duration::from_secs(5400)
        );
        assert!(Cli::try_parse_from(["coffer", "--resync-interval", "soon"]).is_err());
    }
}
