//! Rackspace's state: who may call, the Identity tokens issued, the agents,
//! and the test knobs beyond the shared fault settings.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;

use super::settings::RackspaceEmulatorConfig;
use super::store::{AgentStore, Behaviour};
use crate::emulator::common::lock;

/// The one Rackspace user the emulator knows.
#[derive(Clone, Debug)]
pub struct Account {
    pub username: String,
    pub api_key: String,
    pub password: String,
    /// Also the `{project_id}` of Cloud Backup paths.
    pub tenant_id: String,
    pub region: String,
}

/// Rackspace's state: who may call, issued tokens, and the agents.
pub struct RackspaceState {
    pub account: Account,
    pub token_ttl: Duration,
    /// Token id → expiry.
    pub tokens: Mutex<HashMap<String, Timestamp>>,
    pub agents: Mutex<AgentStore>,
    pub knobs: Mutex<Knobs>,
    /// The Cloud Backup base URL the catalog hands out instead of the
    /// emulator's own: a catalog that sends clients elsewhere.
    pub catalog_backup_base: Mutex<Option<String>>,
}

/// Test knobs beyond the fault settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    /// How long a vault-encryption request is held, already made, before
    /// it is answered: the window in which a crash loses the request id.
    pub answer_delay: Duration,
}

impl RackspaceState {
    /// The account of `rax` with its seeded agent; Identity tokens live
    /// `token_ttl`, as the emulator's IAM tokens do.
    pub fn new(rax: &RackspaceEmulatorConfig, token_ttl: Duration) -> Self {
        let mut agents = AgentStore::new(rax.result_ttl);
        agents.register(
            &rax.agent_id,
            &rax.agent_machine_id,
            &rax.region,
            Behaviour {
                online: true,
                fail_reports: false,
                report_delay_ms: u64::try_from(rax.report_delay.as_millis()).unwrap_or(u64::MAX),
            },
        );
        Self {
            account: Account {
                username: rax.username.clone(),
                api_key: rax.api_key.clone(),
                password: rax.password.clone(),
                tenant_id: rax.tenant_id.clone(),
                region: rax.region.clone(),
            },
            token_ttl,
            tokens: Mutex::new(HashMap::new()),
            agents: Mutex::new(agents),
            knobs: Mutex::new(Knobs::default()),
            catalog_backup_base: Mutex::new(None),
        }
    }

    /// A new token, valid for the configured time.
    pub fn issue_token(&self, now: Timestamp) -> (String, Timestamp) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let ttl = jiff::SignedDuration::try_from(self.token_ttl)
            .unwrap_or(jiff::SignedDuration::from_hours(24));
        let expires = now + ttl;
        lock(&self.tokens).insert(id.clone(), expires);
        (id, expires)
    }

    pub fn token_valid(&self, token: &str, now: Timestamp) -> bool {
        lock(&self.tokens)
            .get(token)
            .is_some_and(|expires| now < *expires)
    }
}
