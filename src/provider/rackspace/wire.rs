//! Rackspace Identity v2.0 and Cloud Backup v2 request and response bodies,
//! as the API documents them (providers.md §5). The emulator serves the
//! same structs, so the two cannot drift apart.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v2.0/tokens`: API key or password credentials.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenRequest {
    pub auth: TokenAuth,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct TokenAuth {
    #[serde(
        rename = "RAX-KSKEY:apiKeyCredentials",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_key: Option<ApiKeyCredentials>,
    #[serde(
        rename = "passwordCredentials",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub password: Option<PasswordCredentials>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct ApiKeyCredentials {
    pub username: String,
    #[serde(rename = "apiKey")]
    pub api_key: String,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct PasswordCredentials {
    pub username: String,
    pub password: String,
}

/// The answer to a token request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access: Access,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Access {
    pub token: Token,
    #[serde(rename = "serviceCatalog", default)]
    pub service_catalog: Vec<CatalogEntry>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Token {
    pub id: String,
    /// RFC 3339.
    pub expires: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<Tenant>,
}

// Written by hand: the id is a bearer credential.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogEndpoint {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(rename = "tenantId", default)]
    pub tenant_id: Option<String>,
    #[serde(rename = "publicURL")]
    pub public_url: String,
}

/// An agent as `GET /v2/{project_id}/agents/{agent_id}` answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Agent {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub host: Option<Host>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub log_level: Option<String>,
    pub rsa_public_key: RsaPublicKey,
    pub vault: Vault,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Host {
    #[serde(default)]
    pub machine: Option<Machine>,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub id: String,
}

/// The modulus is a hex string; the exponent is documented as the JSON
/// number `10001`, which is hex for 65537 (providers.md §7.1).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RsaPublicKey {
    pub modulus: String,
    pub exponent: Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Vault {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub encrypted: bool,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub use_internal: Option<bool>,
}

/// `GET /v2/{project_id}/agents?host_machine_id=..`
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AgentList {
    #[serde(default)]
    pub agents: Vec<Agent>,
}

/// `GET /v2/{project_id}/agents/{agent_id}/status`
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct AgentStatus {
    #[serde(default)]
    pub busy: bool,
    #[serde(default)]
    pub online: bool,
}

/// One JSON Patch operation (`application/json-patch+json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatchOp {
    pub op: String,
    pub path: String,
    pub value: Value,
}

/// `POST /v2/{project_id}/agents/{agent_id}/vault-encryption-requests`
#[derive(Clone, Serialize, Deserialize)]
pub struct EncryptionRequest {
    /// `null` for a first enable; the current passphrase's ciphertext for a change.
    pub old_encrypted_password_hex: Option<String>,
    pub new_encrypted_password_hex: String,
}

/// The result of a request (`GET .../vault-encryption-requests/{id}`) and
/// the agent event that records it; also the request events themselves.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub time: Option<String>,
    pub event: String,
    #[serde(default)]
    pub request_id: Option<String>,
    /// A bool, or the strings `"true"`/`"false"` (the doc's table types it String).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeded: Option<Value>,
}

impl Event {
    /// `succeeded` read leniently; `None` when absent or not a truth value.
    pub fn succeeded(&self) -> Option<bool> {
        match self.succeeded.as_ref()? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// `GET /v2/{project_id}/agents/{agent_id}/events`
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EventList {
    #[serde(default)]
    pub events: Vec<Event>,
}

/// Seed 000: `POST .../vault-encryption-requests/{request_id}`, the agent's report.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EncryptionReport {
    /// `enabled` or `changed`.
    pub action: String,
    /// A bool; the doc's table calls it a String, so both are read.
    pub succeeded: Value,
}

/// A Rackspace fault: `{"message": "...", "errors": ["..."]}`, `errors` sometimes absent.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// The event names of vault encryption.
pub mod events {
    pub const ENABLE: &str = "vault_encryption_enable";
    pub const CHANGE: &str = "vault_encryption_change";
    pub const ENABLED: &str = "vault_encryption_enabled";
    pub const CHANGED: &str = "vault_encryption_changed";
}
