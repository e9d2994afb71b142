//! The `rackspace` block of a BackupVault and its observation: the vault of
//! one Rackspace Cloud Backup agent. The vault is made when the agent
//! registers; coffer manages its encryption and the agent's settings.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The vault of one Cloud Backup agent, as the user wants it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.agentId) != has(self.hostMachineId)").message(
    "rackspace must name the agent by exactly one of agentId and hostMachineId."
))]
// The vault belongs to one agent: naming another agent would silently leave
// the first vault unmanaged.
#[x_kube(validation = Rule::new("(has(self.agentId) ? self.agentId : '') == (has(oldSelf.agentId) ? oldSelf.agentId : '') && (has(self.hostMachineId) ? self.hostMachineId : '') == (has(oldSelf.hostMachineId) ? oldSelf.hostMachineId : '')")
    .message("rackspace.agentId and rackspace.hostMachineId cannot change: the vault belongs to one agent; create another BackupVault for another agent."))]
// Cloud Backup has no call that decrypts a vault.
#[x_kube(validation = Rule::new("!has(oldSelf.encryption) || has(self.encryption)")
    .message("rackspace.encryption cannot be removed once set: Cloud Backup never decrypts a vault.")
    .field_path(".encryption"))]
pub struct RackspaceVault {
    /// The agent's id, e.g. `8f135b4f-7a69-4b8a-947f-5e80d772fd97`. Set
    /// this or `hostMachineId`; cannot change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9-]+$')").message(
        "rackspace.agentId may contain only letters, digits and '-'."
    ))]
    pub agent_id: Option<String>,
    /// The machine id of the agent's host (`host.machine.id`); coffer looks
    /// the agent up by it. Set this or `agentId`; cannot change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    #[x_kube(validation = Rule::new("self.matches('^[A-Za-z0-9._-]+$')").message(
        "rackspace.hostMachineId may contain only letters, digits, '.', '_' and '-'."
    ))]
    pub host_machine_id: Option<String>,
    /// Encrypt the vault with a passphrase kept in a Secret. Once set it
    /// cannot be removed: Cloud Backup never decrypts a vault, and a lost
    /// passphrase makes its backups unrecoverable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<RackspaceEncryption>,
    /// Whether the agent runs backups. Left out, coffer leaves it as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Whether the agent reaches its vault over Rackspace's internal
    /// network (ServiceNet). Left out, coffer leaves it as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_internal: Option<bool>,
    /// The agent's log level. Left out, coffer leaves it as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<RackspaceLogLevel>,
}

/// Where the vault's passphrase is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RackspaceEncryption {
    /// The Secret holding the passphrase. Changing the passphrase in the
    /// Secret changes the vault's passphrase. coffer keeps the passphrase
    /// the vault is encrypted with in a Secret of its own in this namespace,
    /// `<BackupVault name>-coffer-passphrase`, so that it can send the old
    /// one with a change.
    pub passphrase_secret_ref: PassphraseSecretRef,
}

/// One key of a Secret in the BackupVault's namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
pub struct PassphraseSecretRef {
    /// Name of the Secret, in the BackupVault's namespace. coffer reads only
    /// Secrets labelled `coffer.dev/credentials: "true"`.
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new(crate::api::DNS1123_SUBDOMAIN_RULE).message(
        "passphraseSecretRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit."
    ))]
    pub name: String,
    /// The key holding the passphrase (a trailing newline is ignored).
    #[schemars(length(min = 1, max = 253))]
    #[x_kube(validation = Rule::new("self.matches('^[-._a-zA-Z0-9]+$')").message(
        "passphraseSecretRef.key must be a Secret key: letters, digits, '-', '_' and '.'."
    ))]
    pub key: String,
}

/// The log levels a Cloud Backup agent knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RackspaceLogLevel {
    All,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl RackspaceLogLevel {
    /// The agent API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Trace => "trace",
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Fatal => "fatal",
        }
    }
}

/// The agent and its vault as Cloud Backup reports them. Never holds the
/// passphrase, only a fingerprint that cannot be turned back into it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RackspaceVaultObservation {
    /// The vault's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// The vault's state, e.g. `created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_state: Option<String>,
    /// Whether the vault is encrypted: the agent's durable report.
    pub encrypted: bool,
    /// Whether the agent is online; an offline agent cannot apply an
    /// encryption request.
    pub online: bool,
    /// The agent's `enabled` setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The vault's `use_internal` setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_internal: Option<bool>,
    /// The agent's log level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    /// Fingerprint of the passphrase the vault is known to be encrypted
    /// with (a salted SHA-256, shortened; not the passphrase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_fingerprint: Option<String>,
    /// The last encryption request coffer made, and what became of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RackspaceEncryptionRequest>,
}

/// One vault-encryption request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RackspaceEncryptionRequest {
    /// The request id, from the `Location` of the answer.
    pub id: String,
    /// `Enable` for the first passphrase, `Change` for a new one.
    pub action: EncryptionAction,
    /// Fingerprint of the passphrase the request sets.
    pub fingerprint: String,
    /// The BackupVault generation the request was made for.
    pub generation: i64,
    /// When coffer made the request, RFC 3339.
    pub since: String,
    /// What the agent reported.
    pub state: EncryptionRequestState,
}

/// What an encryption request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum EncryptionAction {
    Enable,
    Change,
}

/// What became of an encryption request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum EncryptionRequestState {
    /// The agent has not reported yet.
    Pending,
    /// The agent applied it.
    Succeeded,
    /// The agent reported that it failed; coffer makes no new request until
    /// the spec or the passphrase Secret changes.
    Failed,
}
