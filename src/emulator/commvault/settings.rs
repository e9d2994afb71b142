//! What the emulated Command Center is made of: the user the demo signs in
//! as, and the settings a test or the admin API may change while it runs
//! (job time and outcome, soft errors, session idle time).

use std::time::Duration;

// The Command Center user the demo signs in as.
pub const DEFAULT_COMMVAULT_USERNAME: &str = "admin";
pub const DEFAULT_COMMVAULT_PASSWORD: &str = "commvault-password";

/// What a test or the admin API may change while the emulator runs.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommvaultSettings {
    /// How long a session token may go unused before it answers 401.
    #[serde(with = "humantime_secs")]
    pub token_idle: Duration,
    /// How long an endpoint job runs before it completes (or fails).
    #[serde(with = "humantime_secs")]
    pub job_duration: Duration,
    /// When set, endpoint jobs started from now on end `Failed` with this reason.
    pub job_failure: Option<String>,
    /// Probability that a valid create answers HTTP 200 with a non-zero
    /// `errorCode` and makes nothing, as real servers sometimes do.
    pub soft_error_rate: f64,
    /// How long a new S3 vault stays out of the list (its name is taken
    /// at once): the window in which a retried create meets a 409.
    #[serde(with = "humantime_secs")]
    pub list_delay: Duration,
}

impl Default for CommvaultSettings {
    fn default() -> Self {
        Self {
            token_idle: Duration::from_secs(30 * 60),
            job_duration: Duration::from_secs(3),
            job_failure: None,
            soft_error_rate: 0.0,
            list_delay: Duration::ZERO,
        }
    }
}

/// Durations as fractional seconds in the admin API's JSON.
mod humantime_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}
