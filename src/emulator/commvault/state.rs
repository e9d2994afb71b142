//! Commvault's state: the CommCell, the sessions and the live settings,
//! each behind its own lock.

use std::sync::Mutex;

use super::commcell::{CommCell, User};
use super::sessions::Sessions;
use super::settings::CommvaultSettings;

/// Commvault's state: the CommCell, the sessions and the live settings.
pub struct CommvaultState {
    pub commcell: Mutex<CommCell>,
    pub sessions: Mutex<Sessions>,
    pub settings: Mutex<CommvaultSettings>,
}

impl CommvaultState {
    /// The CommCell with its one user, `username` signing in with `password`.
    pub fn new(username: &str, password: &str, settings: CommvaultSettings) -> Self {
        Self {
            commcell: Mutex::new(CommCell::new(User {
                id: 1,
                name: username.to_string(),
                password: password.to_string(),
            })),
            sessions: Mutex::new(Sessions::new(settings.token_idle)),
            settings: Mutex::new(settings),
        }
    }
}
