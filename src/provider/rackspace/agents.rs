//! [`AgentVaultApi`] over HTTP: agents, their status, JSON Patch updates,
//! vault-encryption requests and their results, and the agent's events.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::client::{Answer, Call, Client, JSON_PATCH, id_from_location};
use super::wire::{self, EncryptionRequest, PatchOp, events};
use super::{
    Agent, AgentChange, AgentVault, AgentVaultApi, EncryptionEvent, PublicKey, RackspaceConnection,
    RequestKind,
};
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::metrics::ProviderMetrics;

/// How many recent events a scan for an encryption request reads.
const EVENT_SCAN: &str = "100";

/// Cloud Backup agents of one account and region.
pub struct RackspaceAgents {
    client: Client,
}

impl RackspaceAgents {
    pub fn new(
        conn: RackspaceConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            client: Client::new(conn, metrics, budget)?,
        })
    }

    async fn read<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        what: String,
        path: String,
        query: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        let answer = self
            .client
            .send(&Call {
                operation,
                what,
                method: Method::GET,
                path,
                query,
                body: None,
            })
            .await?;
        decode(operation, &answer)
    }
}

fn decode<T: DeserializeOwned>(operation: &str, answer: &Answer) -> Result<T, ProviderError> {
    serde_json::from_slice(&answer.body).map_err(|e| ProviderError::Transient {
        message: format!("could not read the answer of {operation}: {e}"),
    })
}

fn agent_path(id: &str) -> String {
    format!("/agents/{id}")
}

/// The wire agent in neutral terms.
pub fn agent_of(agent: wire::Agent) -> Agent {
    let exponent_hex = match &agent.rsa_public_key.exponent {
        // Documented as the number 10001, which is hex: read its digits as hex.
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Agent {
        id: agent.id,
        name: agent.name,
        host_machine_id: agent.host.and_then(|h| h.machine).map(|m| m.id),
        enabled: agent.enabled,
        log_level: agent.log_level,
        public_key: PublicKey {
            modulus_hex: agent.rsa_public_key.modulus,
            exponent_hex,
        },
        vault: AgentVault {
            id: agent.vault.id,
            state: agent.vault.state,
            encrypted: agent.vault.encrypted,
            use_internal: agent.vault.use_internal,
        },
    }
}

/// The JSON Patch operations of `changes`, at the documented paths.
pub fn patch_of(changes: &[AgentChange]) -> Vec<PatchOp> {
    changes
        .iter()
        .map(|change| {
            let (path, value) = match change {
                AgentChange::Enabled(on) => ("/enabled", json!(on)),
                AgentChange::UseInternal(on) => ("/vault/use_internal", json!(on)),
                AgentChange::LogLevel(level) => ("/log_level", json!(level)),
            };
            PatchOp {
                op: "replace".into(),
                path: path.into(),
                value,
            }
        })
        .collect()
}

/// An event that concerns an encryption request, in neutral terms.
pub fn encryption_event(event: &wire::Event) -> Option<EncryptionEvent> {
    let (kind, report) = match event.event.as_str() {
        events::ENABLE => (RequestKind::Enable, false),
        events::CHANGE => (RequestKind::Change, false),
        events::ENABLED => (RequestKind::Enable, true),
        events::CHANGED => (RequestKind::Change, true),
        _ => return None,
    };
    Some(EncryptionEvent {
        request_id: event.request_id.clone()?,
        kind,
        succeeded: if report { event.succeeded() } else { None },
        time: event.time.clone(),
    })
}

#[async_trait]
impl AgentVaultApi for RackspaceAgents {
    async fn get_agent(&self, id: &str) -> Result<Agent, ProviderError> {
        let agent: wire::Agent = self
            .read("get_agent", format!("agent {id}"), agent_path(id), &[])
            .await?;
        Ok(agent_of(agent))
    }

    async fn find_agents(&self, machine_id: &str) -> Result<Vec<Agent>, ProviderError> {
        let list: wire::AgentList = self
            .read(
                "list_agents",
                "agents".into(),
                "/agents".into(),
                &[("host_machine_id", machine_id.to_string())],
            )
            .await?;
        Ok(list
            .agents
            .into_iter()
            .map(agent_of)
            // The filter is the service's; checking again costs nothing.
            .filter(|a| a.host_machine_id.as_deref() == Some(machine_id))
            .collect())
    }

    async fn agent_online(&self, id: &str) -> Result<bool, ProviderError> {
        let status: wire::AgentStatus = self
            .read(
                "get_agent_status",
                format!("agent {id}"),
                format!("{}/status", agent_path(id)),
                &[],
            )
            .await?;
        Ok(status.online)
    }

    async fn update_agent(&self, id: &str, changes: &[AgentChange]) -> Result<(), ProviderError> {
        let body = serde_json::to_vec(&patch_of(changes)).map_err(|e| ProviderError::Invalid {
            code: "Encode".into(),
            message: e.to_string(),
        })?;
        self.client
            .send(&Call {
                operation: "update_agent",
                what: format!("agent {id}"),
                method: Method::PATCH,
                path: agent_path(id),
                query: &[],
                body: Some((JSON_PATCH, body)),
            })
            .await?;
        Ok(())
    }

    async fn request_encryption(
        &self,
        id: &str,
        old_hex: Option<&str>,
        new_hex: &str,
    ) -> Result<String, ProviderError> {
        let request = EncryptionRequest {
            old_encrypted_password_hex: old_hex.map(str::to_owned),
            new_encrypted_password_hex: new_hex.to_string(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| ProviderError::Invalid {
            code: "Encode".into(),
            message: e.to_string(),
        })?;
        let answer = self
            .client
            .send(&Call {
                operation: "request_vault_encryption",
                what: format!("agent {id}"),
                method: Method::POST,
                path: format!("{}/vault-encryption-requests", agent_path(id)),
                query: &[],
                body: Some(("application/json", body)),
            })
            .await?;
        answer
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(id_from_location)
            // The request was made: a missing id is a lost answer, not a refusal.
            .ok_or_else(|| ProviderError::Transient {
                message: format!(
                    "Cloud Backup answered {} without a Location naming the request",
                    answer.status
                ),
            })
    }

    async fn encryption_result(
        &self,
        id: &str,
        request_id: &str,
    ) -> Result<Option<bool>, ProviderError> {
        let read = self
            .read::<wire::Event>(
                "get_vault_encryption_result",
                format!("encryption request {request_id}"),
                format!("{}/vault-encryption-requests/{request_id}", agent_path(id)),
                &[],
            )
            .await;
        match read {
            Ok(event) => Ok(event.succeeded()),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn encryption_events(&self, id: &str) -> Result<Vec<EncryptionEvent>, ProviderError> {
        let list: wire::EventList = self
            .read(
                "list_agent_events",
                format!("agent {id}"),
                format!("{}/events", agent_path(id)),
                &[("sort_dir", "desc".into()), ("limit", EVENT_SCAN.into())],
            )
            .await?;
        Ok(list.events.iter().filter_map(encryption_event).collect())
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        let _: Value = self
            .read("list_agents", "agents".into(), "/agents".into(), &[])
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_replace_operations_at_the_documented_paths() {
        let ops = patch_of(&[
            AgentChange::Enabled(false),
            AgentChange::UseInternal(true),
            AgentChange::LogLevel("debug".into()),
        ]);
        let paths: Vec<_> = ops.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(paths, ["/enabled", "/vault/use_internal", "/log_level"]);
        assert!(ops.iter().all(|o| o.op == "replace"));
    }

    #[test]
    fn the_numeric_exponent_is_read_as_hex_digits() {
        let agent: wire::Agent = serde_json::from_value(json!({
            "id": "a", "rsa_public_key": {"modulus": "c0ffee", "exponent": 10001},
            "vault": {"encrypted": false}
        }))
        .expect("agent");
        assert_eq!(agent_of(agent).public_key.exponent_hex, "10001");
    }
}
