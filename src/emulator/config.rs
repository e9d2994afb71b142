//! How the emulator is configured: `coffer-dev emulator` flags (each with a
//! `COFFER_EMULATOR_*` variable) and the plain [`EmulatorConfig`] that Rust
//! tests build directly. Each cloud owns its settings and their defaults;
//! this file composes them with the shared ones (faults, request log, TLS)
//! and hands each cloud its part.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::commvault::settings::{
    CommvaultSettings, DEFAULT_COMMVAULT_PASSWORD, DEFAULT_COMMVAULT_USERNAME,
};
use super::faults::{FaultConfig, parse_error_rates};
use super::huawei::settings::{
    DEFAULT_ACCESS_KEY, DEFAULT_ASSOCIATION_DELAY, DEFAULT_BACKUP_DELAY, DEFAULT_DELETE_DELAY,
    DEFAULT_DOMAIN_ID, DEFAULT_DOMAIN_NAME, DEFAULT_OTHER_REGION_PROJECT_ID, DEFAULT_PASSWORD,
    DEFAULT_PEER_ACCESS_KEY, DEFAULT_PEER_PROJECT_ID, DEFAULT_PEER_SECRET_KEY, DEFAULT_PROJECT_ID,
    DEFAULT_REGION, DEFAULT_SECRET_KEY, DEFAULT_TOKEN_TTL, DEFAULT_USERNAME, HuaweiSettings,
};
use super::rackspace::settings::{
    DEFAULT_RAX_AGENT_ID, DEFAULT_RAX_AGENT_MACHINE_ID, DEFAULT_RAX_API_KEY, DEFAULT_RAX_PASSWORD,
    DEFAULT_RAX_REGION, DEFAULT_RAX_TENANT_ID, DEFAULT_RAX_USERNAME, RackspaceEmulatorConfig,
};
use super::recorder::DEFAULT_LOG_CAPACITY;
use super::throttle::ThrottleConfig;
use super::tls::{TlsArgs, TlsConfig};
use crate::cli::parse_duration;

/// Everything the emulator needs to start. `Default` listens on a free
/// loopback port, which is what an in-process test wants.
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorConfig {
    pub listen: SocketAddr,
    pub project_id: String,
    pub domain_id: String,
    /// The account name, used in password authentication.
    pub domain_name: String,
    /// Also the project's name in IAM scopes.
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub username: String,
    pub password: String,
    pub token_ttl: Duration,
    /// How long a deleted vault stays visible with status `deleting`.
    pub delete_delay: Duration,
    /// How long added or removed resources take to show in `vault.resources`.
    pub association_delay: Duration,
    pub faults: FaultConfig,
    /// How many recent requests `/_emulator/requests` keeps.
    pub request_log_capacity: usize,
    // BackupShare: a second project to share backups with.
    /// The second project: its id and its own AK/SK.
    pub peer_project_id: String,
    pub peer_access_key: String,
    pub peer_secret_key: String,
    /// A project in another region: sharing with it is refused.
    pub other_region_project_id: String,
    /// How long a new backup stays `protecting` before it is `available`.
    pub backup_delay: Duration,
    // Agency: IAM's eventual consistency after a create.
    /// How long GET answers 404 for an agency just created.
    pub agency_read_delay: Duration,
    /// Rackspace Identity and Cloud Backup.
    pub rackspace: RackspaceEmulatorConfig,
    // Commvault: the Command Center user, and the settings tests change live.
    pub commvault_username: String,
    pub commvault_password: String,
    pub commvault: CommvaultSettings,
    /// HTTPS beside HTTP, when set.
    pub tls: Option<TlsConfig>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            project_id: DEFAULT_PROJECT_ID.to_string(),
            domain_id: DEFAULT_DOMAIN_ID.to_string(),
            domain_name: DEFAULT_DOMAIN_NAME.to_string(),
            region: DEFAULT_REGION.to_string(),
            access_key: DEFAULT_ACCESS_KEY.to_string(),
            secret_key: DEFAULT_SECRET_KEY.to_string(),
            username: DEFAULT_USERNAME.to_string(),
            password: DEFAULT_PASSWORD.to_string(),
            token_ttl: DEFAULT_TOKEN_TTL,
            delete_delay: DEFAULT_DELETE_DELAY,
            association_delay: DEFAULT_ASSOCIATION_DELAY,
            faults: FaultConfig::default(),
            request_log_capacity: DEFAULT_LOG_CAPACITY,
            peer_project_id: DEFAULT_PEER_PROJECT_ID.to_string(),
            peer_access_key: DEFAULT_PEER_ACCESS_KEY.to_string(),
            peer_secret_key: DEFAULT_PEER_SECRET_KEY.to_string(),
            other_region_project_id: DEFAULT_OTHER_REGION_PROJECT_ID.to_string(),
            backup_delay: DEFAULT_BACKUP_DELAY,
            agency_read_delay: Duration::ZERO,
            rackspace: RackspaceEmulatorConfig::default(),
            commvault_username: DEFAULT_COMMVAULT_USERNAME.to_string(),
            commvault_password: DEFAULT_COMMVAULT_PASSWORD.to_string(),
            commvault: CommvaultSettings::default(),
            tls: None,
        }
    }
}

impl EmulatorConfig {
    /// Huawei's part: the account, its keys and CBR's and IAM's timing.
    pub fn huawei_settings(&self) -> HuaweiSettings {
        HuaweiSettings {
            project_id: self.project_id.clone(),
            domain_id: self.domain_id.clone(),
            domain_name: self.domain_name.clone(),
            region: self.region.clone(),
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            token_ttl: self.token_ttl,
            delete_delay: self.delete_delay,
            association_delay: self.association_delay,
            peer_project_id: self.peer_project_id.clone(),
            peer_access_key: self.peer_access_key.clone(),
            peer_secret_key: self.peer_secret_key.clone(),
            other_region_project_id: self.other_region_project_id.clone(),
            backup_delay: self.backup_delay,
            agency_read_delay: self.agency_read_delay,
        }
    }
}

/// `coffer-dev emulator`: a stateful Huawei IAM + CBR and Commvault Command
/// Center emulator with fault injection, for tests and demos. Admin API
/// under `/_emulator/`.
#[derive(Clone, Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Address to listen on; port 0 picks a free one (logged at start).
    #[arg(long, env = "COFFER_EMULATOR_LISTEN", default_value = "127.0.0.1:8780")]
    pub listen: SocketAddr,
    /// The project id CBR paths must carry.
    #[arg(long, env = "COFFER_EMULATOR_PROJECT_ID", default_value = DEFAULT_PROJECT_ID)]
    pub project_id: String,
    /// The account (domain) id.
    #[arg(long, env = "COFFER_EMULATOR_DOMAIN_ID", default_value = DEFAULT_DOMAIN_ID)]
    pub domain_id: String,
    /// The account (domain) name for password authentication.
    #[arg(long, env = "COFFER_EMULATOR_DOMAIN_NAME", default_value = DEFAULT_DOMAIN_NAME)]
    pub domain_name: String,
    /// The region, which is also the project's name.
    #[arg(long, env = "COFFER_EMULATOR_REGION", default_value = DEFAULT_REGION)]
    pub region: String,
    /// The one accepted access key (AK).
    #[arg(long, env = "COFFER_EMULATOR_ACCESS_KEY", default_value = DEFAULT_ACCESS_KEY)]
    pub access_key: String,
    /// The secret key (SK) of that access key.
    #[arg(long, env = "COFFER_EMULATOR_SECRET_KEY", default_value = DEFAULT_SECRET_KEY, hide_env_values = true, hide_default_value = true)]
    pub secret_key: String,
    /// The IAM user's name.
    #[arg(long, env = "COFFER_EMULATOR_USERNAME", default_value = DEFAULT_USERNAME)]
    pub username: String,
    /// The IAM user's password.
    #[arg(long, env = "COFFER_EMULATOR_PASSWORD", default_value = DEFAULT_PASSWORD, hide_env_values = true, hide_default_value = true)]
    pub password: String,
    /// How long issued tokens stay valid (e.g. 24h, 90s).
    #[arg(long, env = "COFFER_EMULATOR_TOKEN_TTL", default_value = "24h", value_parser = parse_duration)]
    pub token_ttl: Duration,
    /// How long a deleted vault shows `deleting` before GET answers 404.
    #[arg(long, env = "COFFER_EMULATOR_DELETE_DELAY", default_value = "2s", value_parser = parse_duration)]
    pub delete_delay: Duration,
    /// How long added/removed resources take to show in `vault.resources`.
    #[arg(long, env = "COFFER_EMULATOR_ASSOCIATION_DELAY", default_value = "1s", value_parser = parse_duration)]
    pub association_delay: Duration,
    /// Error rates per HTTP status, e.g. `500=0.1,503=0.05,429=0.2`.
    #[arg(long, env = "COFFER_EMULATOR_FAULTS", default_value = "", value_parser = parse_error_rates)]
    pub faults: BTreeMap<u16, f64>,
    /// Latency added to every IAM/CBR request (e.g. 50ms).
    #[arg(long, env = "COFFER_EMULATOR_LATENCY", default_value = "0s", value_parser = parse_duration)]
    pub latency: Duration,
    /// Up to this much random latency on top (e.g. 20ms).
    #[arg(long, env = "COFFER_EMULATOR_LATENCY_JITTER", default_value = "0s", value_parser = parse_duration)]
    pub latency_jitter: Duration,
    /// Requests per second per operation before answering 429 APIGW.0308.
    #[arg(long, env = "COFFER_EMULATOR_THROTTLE_RATE")]
    pub throttle_rate: Option<f64>,
    /// Token-bucket size for the throttle (default: the rate, rounded up).
    #[arg(
        long,
        env = "COFFER_EMULATOR_THROTTLE_BURST",
        requires = "throttle_rate"
    )]
    pub throttle_burst: Option<u32>,
    /// Probability that a successful CreateVault answers 504 anyway.
    #[arg(
        long,
        env = "COFFER_EMULATOR_LOST_RESPONSE_RATE",
        default_value_t = 0.0
    )]
    pub lost_response_rate: f64,
    /// How many recent requests the admin request log keeps.
    #[arg(long, env = "COFFER_EMULATOR_REQUEST_LOG", default_value_t = DEFAULT_LOG_CAPACITY)]
    pub request_log: usize,
    /// A second project, to share backups with.
    #[arg(long, env = "COFFER_EMULATOR_PEER_PROJECT_ID", default_value = DEFAULT_PEER_PROJECT_ID)]
    pub peer_project_id: String,
    /// The second project's access key (AK).
    #[arg(long, env = "COFFER_EMULATOR_PEER_ACCESS_KEY", default_value = DEFAULT_PEER_ACCESS_KEY)]
    pub peer_access_key: String,
    /// The second project's secret key (SK).
    #[arg(long, env = "COFFER_EMULATOR_PEER_SECRET_KEY", default_value = DEFAULT_PEER_SECRET_KEY, hide_env_values = true, hide_default_value = true)]
    pub peer_secret_key: String,
    /// A project in another region, that no backup may be shared with.
    #[arg(long, env = "COFFER_EMULATOR_OTHER_REGION_PROJECT_ID", default_value = DEFAULT_OTHER_REGION_PROJECT_ID)]
    pub other_region_project_id: String,
    /// How long a new backup stays `protecting` before it is `available`.
    #[arg(long, env = "COFFER_EMULATOR_BACKUP_DELAY", default_value = "1s", value_parser = parse_duration)]
    pub backup_delay: Duration,
    /// How long GET answers 404 for an agency just created (e.g. 3s).
    #[arg(long, env = "COFFER_EMULATOR_AGENCY_READ_DELAY", default_value = "0s", value_parser = parse_duration)]
    pub agency_read_delay: Duration,
    /// The Rackspace user name.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_USERNAME", default_value = DEFAULT_RAX_USERNAME)]
    pub rackspace_username: String,
    /// The Rackspace user's API key.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_API_KEY", default_value = DEFAULT_RAX_API_KEY, hide_env_values = true, hide_default_value = true)]
    pub rackspace_api_key: String,
    /// The Rackspace user's password.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_PASSWORD", default_value = DEFAULT_RAX_PASSWORD, hide_env_values = true, hide_default_value = true)]
    pub rackspace_password: String,
    /// The Rackspace tenant id (Cloud Backup's project id).
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_TENANT_ID", default_value = DEFAULT_RAX_TENANT_ID)]
    pub rackspace_tenant_id: String,
    /// The region of the catalog's Cloud Backup endpoint.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_REGION", default_value = DEFAULT_RAX_REGION)]
    pub rackspace_region: String,
    /// The id of the Cloud Backup agent registered at start.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_AGENT_ID", default_value = DEFAULT_RAX_AGENT_ID)]
    pub rackspace_agent_id: String,
    /// The host machine id of that agent.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_AGENT_MACHINE_ID", default_value = DEFAULT_RAX_AGENT_MACHINE_ID)]
    pub rackspace_agent_machine_id: String,
    /// How long the simulated agent takes to report an encryption request.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_REPORT_DELAY", default_value = "500ms", value_parser = parse_duration)]
    pub rackspace_report_delay: Duration,
    /// How long a reported encryption result stays readable.
    #[arg(long, env = "COFFER_EMULATOR_RACKSPACE_RESULT_TTL", default_value = "60s", value_parser = parse_duration)]
    pub rackspace_result_ttl: Duration,
    /// Commvault: the Command Center user's name.
    #[arg(long, env = "COFFER_EMULATOR_COMMVAULT_USERNAME", default_value = DEFAULT_COMMVAULT_USERNAME)]
    pub commvault_username: String,
    /// Commvault: the Command Center user's password.
    #[arg(long, env = "COFFER_EMULATOR_COMMVAULT_PASSWORD", default_value = DEFAULT_COMMVAULT_PASSWORD, hide_env_values = true, hide_default_value = true)]
    pub commvault_password: String,
    /// Commvault: how long a session token may go unused before it answers 401.
    #[arg(long, env = "COFFER_EMULATOR_COMMVAULT_TOKEN_IDLE", default_value = "30m", value_parser = parse_duration)]
    pub commvault_token_idle: Duration,
    /// Commvault: how long an S3 vault's endpoint job runs.
    #[arg(long, env = "COFFER_EMULATOR_COMMVAULT_JOB_DURATION", default_value = "3s", value_parser = parse_duration)]
    pub commvault_job_duration: Duration,
    /// Commvault: when set, endpoint jobs end Failed with this reason.
    #[arg(long, env = "COFFER_EMULATOR_COMMVAULT_JOB_FAILURE")]
    pub commvault_job_failure: Option<String>,
    /// Commvault: probability that a valid create answers HTTP 200 with a
    /// non-zero errorCode and makes nothing.
    #[arg(
        long,
        env = "COFFER_EMULATOR_COMMVAULT_SOFT_ERROR_RATE",
        default_value_t = 0.0
    )]
    pub commvault_soft_error_rate: f64,
    #[command(flatten)]
    pub tls: TlsArgs,
}

impl From<EmulatorArgs> for EmulatorConfig {
    fn from(args: EmulatorArgs) -> Self {
        let throttle = args.throttle_rate.map(|rate| ThrottleConfig {
            rate,
            burst: args
                .throttle_burst
                .unwrap_or_else(|| rate.ceil().clamp(1.0, f64::from(u32::MAX)) as u32),
        });
        Self {
            listen: args.listen,
            project_id: args.project_id,
            domain_id: args.domain_id,
            domain_name: args.domain_name,
            region: args.region,
            access_key: args.access_key,
            secret_key: args.secret_key,
            username: args.username,
            password: args.password,
            token_ttl: args.token_ttl,
            delete_delay: args.delete_delay,
            association_delay: args.association_delay,
            faults: FaultConfig {
                error_rates: args.faults,
                latency_ms: u64::try_from(args.latency.as_millis()).unwrap_or(u64::MAX),
                jitter_ms: u64::try_from(args.latency_jitter.as_millis()).unwrap_or(u64::MAX),
                throttle,
                lost_response_rate: args.lost_response_rate,
                rules: Vec::new(),
            },
            request_log_capacity: args.request_log,
            peer_project_id: args.peer_project_id,
            peer_access_key: args.peer_access_key,
            peer_secret_key: args.peer_secret_key,
            other_region_project_id: args.other_region_project_id,
            backup_delay: args.backup_delay,
            agency_read_delay: args.agency_read_delay,
            rackspace: RackspaceEmulatorConfig {
                username: args.rackspace_username,
                api_key: args.rackspace_api_key,
                password: args.rackspace_password,
                tenant_id: args.rackspace_tenant_id,
                region: args.rackspace_region,
                agent_id: args.rackspace_agent_id,
                agent_machine_id: args.rackspace_agent_machine_id,
                report_delay: args.rackspace_report_delay,
                result_ttl: args.rackspace_result_ttl,
            },
            commvault_username: args.commvault_username,
            commvault_password: args.commvault_password,
            commvault: CommvaultSettings {
                token_idle: args.commvault_token_idle,
                job_duration: args.commvault_job_duration,
                job_failure: args.commvault_job_failure,
                soft_error_rate: args.commvault_soft_error_rate,
                list_delay: Duration::ZERO,
            },
            tls: args.tls.into(),
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
        args: EmulatorArgs,
    }

    fn config(argv: &[&str]) -> EmulatorConfig {
        let argv = std::iter::once("coffer").chain(argv.iter().copied());
        Cli::try_parse_from(argv).expect("valid flags").args.into()
    }

    #[test]
    fn flag_defaults_match_the_config_defaults() {
        let from_flags = config(&[]);
        let expected = EmulatorConfig {
            listen: "127.0.0.1:8780".parse().expect("addr"),
            ..EmulatorConfig::default()
        };
        assert_eq!(from_flags, expected);
    }

    #[test]
    fn fault_flags_build_the_fault_config() {
        let c = config(&[
            "--faults",
            "500=0.1,429=0.2",
            "--latency",
            "50ms",
            "--latency-jitter",
            "1s",
            "--throttle-rate",
            "2.5",
            "--lost-response-rate",
            "0.5",
        ]);
        assert_eq!(
            c.faults.error_rates,
            BTreeMap::from([(429, 0.2), (500, 0.1)])
        );
        assert_eq!((c.faults.latency_ms, c.faults.jitter_ms), (50, 1000));
        assert_eq!(
            c.faults.throttle,
            Some(ThrottleConfig {
                rate: 2.5,
                burst: 3
            })
        );
        assert_eq!(c.faults.lost_response_rate, 0.5);
    }

    #[test]
    fn bad_fault_flags_are_refused_at_parse_time() {
        let argv = ["coffer", "--faults", "200=0.5"];
        assert!(Cli::try_parse_from(argv).is_err());
    }
}
