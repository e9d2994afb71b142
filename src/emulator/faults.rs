//! Fault injection: error rates per HTTP status, added latency, throttling and
//! "lost responses". Clients only prove their retry, backoff and idempotency
//! logic against a provider that misbehaves on purpose; this decides when.
//! Randomness is passed in as a uniform sample so the decisions are tested
//! without luck.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::fault_rules::{FaultRule, RuleError, Rules};
use super::operation::Operation;
use super::throttle::{Throttle, ThrottleConfig};

/// What misbehaviour to inject; settable by flags and at run time through
/// `PUT /_emulator/faults`. Every field defaults to "off".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Probability of answering with each HTTP status instead of running the
    /// operation, for example `{"500": 0.1, "503": 0.05}`.
    pub error_rates: BTreeMap<u16, f64>,
    /// Added to every request before it runs.
    pub latency_ms: u64,
    /// A uniformly random extra delay of up to this much.
    pub jitter_ms: u64,
    /// Per-operation token bucket; `None` means unlimited.
    pub throttle: Option<ThrottleConfig>,
    /// Probability that a successful create (CreateVault, CreateS3Vault) or
    /// Rackspace vault-encryption request answers 504 anyway, after the
    /// vault (or request) was made: the case that makes naive clients
    /// create twice.
    pub lost_response_rate: f64,
    /// Faults aimed at one operation, after so many of its calls, so many
    /// times (see [`FaultRule`]); they strike before the error rates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<FaultRule>,
}

/// A fault setting that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    #[error("fault entry {entry:?} is not STATUS=RATE (for example 500=0.1)")]
    Syntax { entry: String },
    #[error("fault status {0} is not an HTTP error status (400..=599)")]
    Status(u16),
    #[error("fault rate {rate} for status {status} is not between 0 and 1")]
    Rate { status: u16, rate: f64 },
    #[error("fault rates add up to {0}, more than 1")]
    Sum(f64),
    #[error("lost-response rate {0} is not between 0 and 1")]
    LostResponseRate(f64),
    #[error("throttle rate {0} is not a positive number of requests per second")]
    ThrottleRate(f64),
    #[error("throttle burst must be at least 1")]
    ThrottleBurst,
    #[error(transparent)]
    Rule(#[from] RuleError),
}

/// Parses `500=0.1,503=0.05,429=0.2`; an empty string means no errors.
pub fn parse_error_rates(s: &str) -> Result<BTreeMap<u16, f64>, FaultError> {
    let mut rates = BTreeMap::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let syntax = || FaultError::Syntax {
            entry: entry.to_string(),
        };
        let (status, rate) = entry.split_once('=').ok_or_else(syntax)?;
        let status: u16 = status.trim().parse().map_err(|_| syntax())?;
        let rate: f64 = rate.trim().parse().map_err(|_| syntax())?;
        rates.insert(status, rate);
    }
    validate_error_rates(&rates)?;
    Ok(rates)
}

fn validate_error_rates(rates: &BTreeMap<u16, f64>) -> Result<(), FaultError> {
    for (&status, &rate) in rates {
        if !(400..=599).contains(&status) {
            return Err(FaultError::Status(status));
        }
        if !(0.0..=1.0).contains(&rate) {
            return Err(FaultError::Rate { status, rate });
        }
    }
    let sum: f64 = rates.values().sum();
    if sum > 1.0 + f64::EPSILON {
        return Err(FaultError::Sum(sum));
    }
    Ok(())
}

impl FaultConfig {
    pub fn validate(&self) -> Result<(), FaultError> {
        validate_error_rates(&self.error_rates)?;
        if !(0.0..=1.0).contains(&self.lost_response_rate) {
            return Err(FaultError::LostResponseRate(self.lost_response_rate));
        }
        if let Some(t) = self.throttle {
            if !(t.rate > 0.0 && t.rate.is_finite()) {
                return Err(FaultError::ThrottleRate(t.rate));
            }
            if t.burst == 0 {
                return Err(FaultError::ThrottleBurst);
            }
        }
        for rule in &self.rules {
            rule.validate()?;
        }
        Ok(())
    }
}

/// Picks the status whose slice of `[0, 1)` holds the sample `u`, if any.
pub fn pick_status(rates: &BTreeMap<u16, f64>, u: f64) -> Option<u16> {
    let mut upper = 0.0;
    for (&status, &rate) in rates {
        upper += rate;
        if u < upper {
            return Some(status);
        }
    }
    None
}

/// A fault answered instead of running the operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Injected {
    /// The token bucket is empty (or a 429 was drawn from the error rates).
    Throttled { limit: u32, retry_after: Duration },
    /// An error status drawn from the error rates.
    Error(u16),
}

/// Which kind of fault shaped a response; recorded in the request log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Throttled,
    InjectedError,
    LostResponse,
}

/// The live fault settings plus the throttle's buckets.
#[derive(Debug, Default)]
pub struct FaultState {
    config: FaultConfig,
    throttle: Throttle,
    rules: Rules,
}

impl FaultState {
    pub fn new(config: FaultConfig) -> Result<Self, FaultError> {
        config.validate()?;
        Ok(Self {
            throttle: Throttle::new(config.throttle),
            rules: Rules::new(&config.rules),
            config,
        })
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replaces every setting; buckets start full again.
    pub fn replace(&mut self, config: FaultConfig) -> Result<(), FaultError> {
        *self = Self::new(config)?;
        Ok(())
    }

    /// The delay to add before this request, given a uniform sample in `[0, 1)`.
    pub fn latency(&self, u: f64) -> Duration {
        let jitter = (self.config.jitter_ms as f64 * u) as u64;
        Duration::from_millis(self.config.latency_ms.saturating_add(jitter))
    }

    /// Decides whether to answer with a fault instead of running `op`.
    /// Throttling comes first: a throttled request never reaches the
    /// backend. Then the aimed rules, then the error rates.
    pub fn before(&mut self, op: Operation, now: Instant, u: f64) -> Option<Injected> {
        if let Err(retry_after) = self.throttle.admit(op, now) {
            return Some(Injected::Throttled {
                limit: self.throttle_limit(),
                retry_after,
            });
        }
        let status = self
            .rules
            .status_for(op)
            .or_else(|| pick_status(&self.config.error_rates, u))?;
        match status {
            429 => Some(Injected::Throttled {
                limit: self.throttle_limit(),
                retry_after: Duration::from_secs(1),
            }),
            status => Some(Injected::Error(status)),
        }
    }

    /// Whether a successful `op` should lose its response: an aimed rule
    /// for any operation, or the rate for the creates, given a sample.
    pub fn lose_response(&mut self, op: Operation, u: f64) -> bool {
        let by_rate = matches!(
            op,
            Operation::CreateVault
                | Operation::CreateS3Vault
                | Operation::RaxRequestVaultEncryption
        ) && u < self.config.lost_response_rate;
        self.rules.loses(op) || by_rate
    }

    /// The "limit:N" the gateway reports: the configured rate, or IAM's
    /// commonly quoted 10 per second when a 429 is drawn without a throttle.
    fn throttle_limit(&self) -> u32 {
        self.config
            .throttle
            .map_or(10, |t| t.rate.ceil().clamp(1.0, f64::from(u32::MAX)) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_rate_pairs() {
        let rates = parse_error_rates("500=0.1, 503=0.05,429=0.2").expect("valid");
        assert_eq!(rates, BTreeMap::from([(429, 0.2), (500, 0.1), (503, 0.05)]));
    }

    #[test]
    fn empty_fault_string_means_no_faults() {
        assert_eq!(parse_error_rates(""), Ok(BTreeMap::new()));
    }

    #[test]
    fn rejects_malformed_fault_entries() {
        assert!(matches!(
            parse_error_rates("500:0.1"),
            Err(FaultError::Syntax { .. })
        ));
        assert!(matches!(
            parse_error_rates("abc=0.1"),
            Err(FaultError::Syntax { .. })
        ));
        assert_eq!(parse_error_rates("200=0.1"), Err(FaultError::Status(200)));
        assert_eq!(
            parse_error_rates("500=1.5"),
            Err(FaultError::Rate {
                status: 500,
                rate: 1.5
            })
        );
        assert!(matches!(
            parse_error_rates("500=0.6,503=0.6"),
            Err(FaultError::Sum(_))
        ));
    }

    #[test]
    fn pick_status_splits_the_unit_interval_in_status_order() {
        let rates = BTreeMap::from([(500, 0.1), (503, 0.2)]);
        assert_eq!(pick_status(&rates, 0.05), Some(500));
        assert_eq!(pick_status(&rates, 0.15), Some(503));
        assert_eq!(pick_status(&rates, 0.35), None);
        assert_eq!(pick_status(&BTreeMap::new(), 0.0), None);
    }

    #[test]
    fn drawn_429_is_reported_as_throttling() {
        let config = FaultConfig {
            error_rates: BTreeMap::from([(429, 1.0)]),
            ..FaultConfig::default()
        };
        let mut state = FaultState::new(config).expect("valid");
        assert_eq!(
            state.before(Operation::ShowVault, Instant::now(), 0.5),
            Some(Injected::Throttled {
                limit: 10,
                retry_after: Duration::from_secs(1)
            })
        );
    }

    #[test]
    fn empty_bucket_throttles_before_error_rates_apply() {
        let config = FaultConfig {
            throttle: Some(ThrottleConfig {
                rate: 2.0,
                burst: 1,
            }),
            ..FaultConfig::default()
        };
        let mut state = FaultState::new(config).expect("valid");
        let now = Instant::now();
        assert_eq!(state.before(Operation::ListVaults, now, 0.9), None);
        assert_eq!(
            state.before(Operation::ListVaults, now, 0.9),
            Some(Injected::Throttled {
                limit: 2,
                retry_after: Duration::from_millis(500)
            })
        );
    }

    #[test]
    fn lost_responses_only_hit_create_vault() {
        let config = FaultConfig {
            lost_response_rate: 1.0,
            ..FaultConfig::default()
        };
        let mut state = FaultState::new(config).expect("valid");
        assert!(state.lose_response(Operation::CreateVault, 0.99));
        assert!(!state.lose_response(Operation::UpdateVault, 0.0));
    }

    #[test]
    fn latency_adds_scaled_jitter() {
        let config = FaultConfig {
            latency_ms: 100,
            jitter_ms: 50,
            ..FaultConfig::default()
        };
        let state = FaultState::new(config).expect("valid");
        assert_eq!(state.latency(0.0), Duration::from_millis(100));
        assert_eq!(state.latency(0.5), Duration::from_millis(125));
    }

    #[test]
    fn config_json_uses_string_status_keys() {
        let config: FaultConfig =
            serde_json::from_str(r#"{"error_rates":{"500":0.25},"lost_response_rate":0.5}"#)
                .expect("parses");
        assert_eq!(config.error_rates, BTreeMap::from([(500, 0.25)]));
        assert_eq!(config.latency_ms, 0);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn rejects_a_throttle_that_never_admits() {
        let config = FaultConfig {
            throttle: Some(ThrottleConfig {
                rate: 0.0,
                burst: 1,
            }),
            ..FaultConfig::default()
        };
        assert_eq!(config.validate(), Err(FaultError::ThrottleRate(0.0)));
    }
}
