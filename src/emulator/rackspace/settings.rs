//! What the emulated Rackspace account is made of: the user, the tenant and
//! its region, and the agent every emulator starts with. The defaults are
//! the ones `coffer-dev emulator` starts with.

use std::time::Duration;

pub const DEFAULT_RAX_USERNAME: &str = "coffer";
pub const DEFAULT_RAX_API_KEY: &str = "rax-api-key-5f3c9e1d7b2a48e6";
pub const DEFAULT_RAX_PASSWORD: &str = "coffer-password";
pub const DEFAULT_RAX_TENANT_ID: &str = "110011";
pub const DEFAULT_RAX_REGION: &str = "DFW";
/// The documentation's example agent id, so examples read like the docs.
pub const DEFAULT_RAX_AGENT_ID: &str = "8f135b4f-7a69-4b8a-947f-5e80d772fd97";
pub const DEFAULT_RAX_AGENT_MACHINE_ID: &str = "c0ffee00-demo-host";
pub const DEFAULT_RAX_REPORT_DELAY: Duration = Duration::from_millis(500);
/// "About a minute" (providers.md §5.3).
pub const DEFAULT_RAX_RESULT_TTL: Duration = Duration::from_secs(60);

/// The emulated Rackspace account and its seeded agent.
#[derive(Clone, Debug, PartialEq)]
pub struct RackspaceEmulatorConfig {
    pub username: String,
    pub api_key: String,
    pub password: String,
    /// The tenant (account) id, also Cloud Backup's `{project_id}`.
    pub tenant_id: String,
    /// The region of the catalog's `rax:backup` endpoint.
    pub region: String,
    /// The agent registered at start.
    pub agent_id: String,
    pub agent_machine_id: String,
    /// How long the simulated agent takes to report a request.
    pub report_delay: Duration,
    /// How long a reported result stays readable.
    pub result_ttl: Duration,
}

impl Default for RackspaceEmulatorConfig {
    fn default() -> Self {
        Self {
            username: DEFAULT_RAX_USERNAME.into(),
            api_key: DEFAULT_RAX_API_KEY.into(),
            password: DEFAULT_RAX_PASSWORD.into(),
            tenant_id: DEFAULT_RAX_TENANT_ID.into(),
            region: DEFAULT_RAX_REGION.into(),
            agent_id: DEFAULT_RAX_AGENT_ID.into(),
            agent_machine_id: DEFAULT_RAX_AGENT_MACHINE_ID.into(),
            report_delay: DEFAULT_RAX_REPORT_DELAY,
            result_ttl: DEFAULT_RAX_RESULT_TTL,
        }
    }
}
