//! Rackspace Cloud Backup v2: the agent vaults BackupVault manages. One
//! trait, [`AgentVaultApi`], in provider-neutral types; `client.rs` holds
//! Identity v2.0 auth, the catalog lookup and error mapping, `wire.rs` the
//! API's bodies, `crypto.rs` the passphrase encryption.

pub mod agents;
pub mod client;
pub mod crypto;
pub mod wire;

use async_trait::async_trait;

pub use agents::RackspaceAgents;
pub use client::{RackspaceConnection, RackspaceSecret};

use crate::provider::ProviderError;

/// An agent and its vault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub host_machine_id: Option<String>,
    pub enabled: Option<bool>,
    pub log_level: Option<String>,
    /// The agent's RSA public key: modulus and exponent, both hex.
    pub public_key: PublicKey,
    pub vault: AgentVault,
}

/// An RSA public key as the agent resource carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub modulus_hex: String,
    pub exponent_hex: String,
}

/// The vault an agent owns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentVault {
    pub id: Option<String>,
    pub state: Option<String>,
    pub encrypted: bool,
    pub use_internal: Option<bool>,
}

/// One change of agent settings, sent as a JSON Patch operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentChange {
    Enabled(bool),
    UseInternal(bool),
    LogLevel(String),
}

/// What an encryption request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    Enable,
    Change,
}

/// A trace of an encryption request in the agent's events: the request
/// itself, or the agent's report of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptionEvent {
    pub request_id: String,
    pub kind: RequestKind,
    /// `None` for the request, `Some` for the agent's report.
    pub succeeded: Option<bool>,
    /// RFC 3339, as the service wrote it.
    pub time: Option<String>,
}

/// The vault of a Cloud Backup agent.
#[async_trait]
pub trait AgentVaultApi: Send + Sync {
    /// The agent with `id`; `NotFound` when it is gone.
    async fn get_agent(&self, id: &str) -> Result<Agent, ProviderError>;
    /// The agents on the host with machine id `machine_id`.
    async fn find_agents(&self, machine_id: &str) -> Result<Vec<Agent>, ProviderError>;
    /// Whether the agent is online.
    async fn agent_online(&self, id: &str) -> Result<bool, ProviderError>;
    /// One JSON Patch with every change.
    async fn update_agent(&self, id: &str, changes: &[AgentChange]) -> Result<(), ProviderError>;
    /// Posts an encryption request; returns its id. **Not idempotent**:
    /// every call makes a new request.
    async fn request_encryption(
        &self,
        id: &str,
        old_hex: Option<&str>,
        new_hex: &str,
    ) -> Result<String, ProviderError>;
    /// The agent's report of a request: `None` until it reports, and again
    /// about a minute after.
    async fn encryption_result(
        &self,
        id: &str,
        request_id: &str,
    ) -> Result<Option<bool>, ProviderError>;
    /// The encryption requests and reports among the agent's recent events,
    /// newest first.
    async fn encryption_events(&self, id: &str) -> Result<Vec<EncryptionEvent>, ProviderError>;
    /// One cheap authenticated call.
    async fn check_credentials(&self) -> Result<(), ProviderError>;
}
