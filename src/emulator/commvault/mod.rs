//! Commvault as the emulator serves it, under its own base path
//! ([`BASE`], a Command Center's `/commandcenter/api`): login, session
//! renewal and logout, the S3-vault create and list, endpoint jobs, and the
//! client retire and delete; mirroring `src/provider/commvault/`. Paths
//! under the base are matched without regard to case, as Commvault does.

pub mod commcell;
pub mod handlers;
pub mod sessions;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::any;

use self::commcell::{CommCell, User};
use self::sessions::Sessions;
use super::EmulatorConfig;
use super::state::Shared;

/// Where the Commvault API is served.
pub const BASE: &str = "/commandcenter/api";

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

/// Commvault's state: the CommCell, the sessions and the live settings.
pub struct CommvaultState {
    pub commcell: Mutex<CommCell>,
    pub sessions: Mutex<Sessions>,
    pub settings: Mutex<CommvaultSettings>,
}

impl CommvaultState {
    pub fn new(config: &EmulatorConfig) -> Self {
        let settings = config.commvault.clone();
        Self {
            commcell: Mutex::new(CommCell::new(User {
                id: 1,
                name: config.commvault_username.clone(),
                password: config.commvault_password.clone(),
            })),
            sessions: Mutex::new(Sessions::new(settings.token_idle)),
            settings: Mutex::new(settings),
        }
    }
}

/// Every Commvault path: the base itself (the probe) and everything below.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(BASE, any(handlers::dispatch))
        .route(&format!("{BASE}/"), any(handlers::dispatch))
        .route(&format!("{BASE}/{{*rest}}"), any(handlers::dispatch))
}

impl super::RunningEmulator {
    /// The `Authtoken`s of the Command Center sessions still held:
    /// credentials that must appear nowhere in coffer's output (the e2e
    /// credentials check).
    pub fn commvault_tokens(&self) -> Vec<String> {
        super::state::lock(&self.shared().commvault.sessions).tokens()
    }
}
