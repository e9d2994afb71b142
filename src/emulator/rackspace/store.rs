//! Cloud Backup agents as the emulator holds them: each with its vault, an
//! RSA keypair whose private half plays the agent's, its events, and the
//! vault-encryption requests with the documented rules (providers.md §5.3,
//! §8). Time is passed in, so the transient result is tested without sleeping.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};

use crate::provider::rackspace::wire::events;

/// The bits of an emulated agent's key.
pub const KEY_BITS: usize = 2048;

/// What an encryption request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Enable,
    Change,
}

impl Kind {
    /// The `action` the agent reports for it.
    pub fn action(self) -> &'static str {
        match self {
            Kind::Enable => "enabled",
            Kind::Change => "changed",
        }
    }

    fn report_event(self) -> &'static str {
        match self {
            Kind::Enable => events::ENABLED,
            Kind::Change => events::CHANGED,
        }
    }
}

/// One vault-encryption request.
#[derive(Clone, Debug)]
pub struct Request {
    pub kind: Kind,
    pub old_hex: Option<String>,
    pub new_hex: String,
    /// The agent's report: succeeded, and when.
    pub report: Option<(bool, Instant)>,
}

/// How the simulated agent behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Behaviour {
    /// Online agents poll their events; offline ones do nothing.
    pub online: bool,
    /// Report every request as failed.
    pub fail_reports: bool,
    /// How long the agent takes between reading a request and reporting it.
    pub report_delay_ms: u64,
}

/// One agent and its vault.
#[derive(Clone, Debug)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub machine_id: String,
    pub enabled: bool,
    pub log_level: String,
    /// The private key, held for an agent the emulator simulates; `None`
    /// for one registered through the API, whose key only it has.
    pub key: Option<RsaPrivateKey>,
    pub public_key: RsaPublicKey,
    /// The agent's password, for one registered through the API.
    pub password: Option<String>,
    pub vault_id: String,
    pub vault_state: String,
    pub encrypted: bool,
    pub use_internal: bool,
    pub region: String,
    /// Whether the vault holds no backups (its region can change only then).
    pub vault_empty: bool,
    pub behaviour: Behaviour,
    /// The passphrase the agent applied last (the simulated agent's secret).
    pub passphrase: Option<String>,
    pub requests: BTreeMap<String, Request>,
    pub events: Vec<Value>,
    /// The simulated agent's marker: the events it has read.
    pub read_events: usize,
}

/// Why a request is refused, as Cloud Backup words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("Agent not found.")]
    AgentNotFound,
    #[error("Vault encryption request not found.")]
    RequestNotFound,
    #[error("An old password was supplied, but the vault is unencrypted.")]
    OldPasswordForUnencrypted,
    #[error("No old password was supplied, but the vault is encrypted.")]
    NoOldPasswordForEncrypted,
    #[error("The vault region can only be changed while the vault is empty.")]
    VaultNotEmpty,
    #[error("The result of this request was already reported.")]
    AlreadyReported,
    #[error("{0}")]
    BadRequest(String),
}

/// Every agent of the one account.
#[derive(Debug, Default)]
pub struct AgentStore {
    agents: BTreeMap<String, Agent>,
    /// How long a reported result stays readable.
    result_ttl: Duration,
}

impl AgentStore {
    pub fn new(result_ttl: Duration) -> Self {
        Self {
            agents: BTreeMap::new(),
            result_ttl,
        }
    }

    /// Registers an agent with a fresh keypair and an unencrypted vault.
    pub fn register(&mut self, id: &str, machine_id: &str, region: &str, behaviour: Behaviour) {
        let mut rng = rsa::rand_core::OsRng;
        // Generation fails only on a broken RNG or absurd sizes.
        let key = RsaPrivateKey::new(&mut rng, KEY_BITS).expect("an RSA keypair");
        let agent = Agent {
            id: id.to_string(),
            name: format!("agent-{machine_id}"),
            machine_id: machine_id.to_string(),
            enabled: true,
            log_level: "warn".into(),
            public_key: key.to_public_key(),
            key: Some(key),
            password: None,
            vault_id: uuid::Uuid::new_v4().to_string(),
            vault_state: "created".into(),
            encrypted: false,
            use_internal: false,
            region: region.to_string(),
            vault_empty: true,
            behaviour,
            passphrase: None,
            requests: BTreeMap::new(),
            events: Vec::new(),
            read_events: 0,
        };
        self.agents.insert(id.to_string(), agent);
    }

    /// Adds an agent made elsewhere (one registered through the API).
    pub fn insert(&mut self, agent: Agent) {
        self.agents.insert(agent.id.clone(), agent);
    }

    /// Removes an agent and its vault; `AgentNotFound` when there is none.
    pub fn remove(&mut self, id: &str) -> Result<Agent, StoreError> {
        self.agents.remove(id).ok_or(StoreError::AgentNotFound)
    }

    pub fn get(&self, id: &str) -> Result<&Agent, StoreError> {
        self.agents.get(id).ok_or(StoreError::AgentNotFound)
    }

    pub fn get_mut(&mut self, id: &str) -> Result<&mut Agent, StoreError> {
        self.agents.get_mut(id).ok_or(StoreError::AgentNotFound)
    }

    pub fn all(&self) -> impl Iterator<Item = &Agent> {
        self.agents.values()
    }

    pub fn ids(&self) -> Vec<String> {
        self.agents.keys().cloned().collect()
    }

    /// A JSON Patch of the documented paths, applied all or nothing.
    pub fn patch(&mut self, id: &str, ops: &[Value]) -> Result<(), StoreError> {
        let agent = self.get_mut(id)?;
        let mut next = agent.clone();
        for op in ops {
            let bad =
                |why: &str| StoreError::BadRequest(format!("Invalid patch operation {op}: {why}"));
            let kind = op
                .get("op")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no op"))?;
            if !matches!(kind, "replace" | "add") {
                return Err(bad("only replace and add are supported"));
            }
            let path = op
                .get("path")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("no path"))?;
            let value = op.get("value").ok_or_else(|| bad("no value"))?;
            let flag = || {
                value
                    .as_bool()
                    .ok_or_else(|| bad("the value must be a boolean"))
            };
            match path {
                "/enabled" => next.enabled = flag()?,
                "/vault/use_internal" => next.use_internal = flag()?,
                // The doc's parameter table spells it with a dash.
                "/log_level" | "/log-level" => {
                    let level = value
                        .as_str()
                        .ok_or_else(|| bad("the value must be a string"))?;
                    const LEVELS: [&str; 7] =
                        ["all", "trace", "debug", "info", "warn", "error", "fatal"];
                    if !LEVELS.contains(&level) {
                        return Err(bad("unknown log level"));
                    }
                    next.log_level = level.to_string();
                }
                "/vault/region" => {
                    if !agent.vault_empty {
                        return Err(StoreError::VaultNotEmpty);
                    }
                    let region = value
                        .as_str()
                        .ok_or_else(|| bad("the value must be a string"))?;
                    next.region = region.to_string();
                }
                _ => return Err(bad("unknown path")),
            }
        }
        *agent = next;
        Ok(())
    }

    /// A new encryption request under the old/new rules, with its agent event.
    pub fn request_encryption(
        &mut self,
        id: &str,
        old_hex: Option<String>,
        new_hex: String,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        let agent = self.get_mut(id)?;
        let kind = match (agent.encrypted, &old_hex) {
            (false, Some(_)) => return Err(StoreError::OldPasswordForUnencrypted),
            (true, None) => return Err(StoreError::NoOldPasswordForEncrypted),
            (false, None) => Kind::Enable,
            (true, Some(_)) => Kind::Change,
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let event = match kind {
            Kind::Enable => json!({
                "event": events::ENABLE, "encrypted_password_hex": new_hex,
            }),
            Kind::Change => json!({
                "event": events::CHANGE, "old_encrypted_password_hex": old_hex,
                "new_encrypted_password_hex": new_hex,
            }),
        };
        agent.push_event(event, &request_id, now);
        agent.requests.insert(
            request_id.clone(),
            Request {
                kind,
                old_hex,
                new_hex,
                report: None,
            },
        );
        Ok(request_id)
    }

    /// The reported result while it lasts: `None` before the report and
    /// once `result_ttl` has passed.
    pub fn result(
        &self,
        id: &str,
        request_id: &str,
        now: Instant,
    ) -> Result<Option<Value>, StoreError> {
        let agent = self.get(id)?;
        let request = agent
            .requests
            .get(request_id)
            .ok_or(StoreError::RequestNotFound)?;
        let Some((succeeded, at)) = request.report else {
            return Ok(None);
        };
        if now.duration_since(at) > self.result_ttl {
            return Ok(None);
        }
        Ok(agent
            .events
            .iter()
            .rev()
            .find(|e| e["request_id"] == request_id && e["event"] == request.kind.report_event())
            .cloned()
            .map(|mut e| {
                e["succeeded"] = json!(succeeded);
                e
            }))
    }

    /// Seed 000: the agent reports a request's result. 400 for a bad body,
    /// 404 for an unknown request, 409 for a second report.
    pub fn report(
        &mut self,
        id: &str,
        request_id: &str,
        body: &Value,
        at: (Instant, Timestamp),
    ) -> Result<(), StoreError> {
        let agent = self.get_mut(id)?;
        let request = agent
            .requests
            .get(request_id)
            .ok_or(StoreError::RequestNotFound)?;
        let action = body.get("action").and_then(Value::as_str);
        let succeeded = match body.get("succeeded") {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => s.parse::<bool>().ok(),
            _ => None,
        };
        let (Some(action), Some(succeeded)) = (action, succeeded) else {
            return Err(StoreError::BadRequest(
                "The body must hold action (enabled or changed) and succeeded (true or false)."
                    .into(),
            ));
        };
        if action != request.kind.action() {
            return Err(StoreError::BadRequest(format!(
                "The action {action:?} does not match the request, which asks for {:?}.",
                request.kind.action()
            )));
        }
        if request.report.is_some() {
            return Err(StoreError::AlreadyReported);
        }
        let kind = request.kind;
        if let Some(request) = agent.requests.get_mut(request_id) {
            request.report = Some((succeeded, at.0));
        }
        if kind == Kind::Enable && succeeded {
            agent.encrypted = true;
        }
        let event = json!({"event": kind.report_event(), "succeeded": succeeded});
        agent.push_event(event, request_id, at.1);
        Ok(())
    }
}

impl Agent {
    fn push_event(&mut self, mut event: Value, request_id: &str, now: Timestamp) {
        event["id"] = json!(self.events.len() + 1);
        event["time"] = json!(now.to_string());
        event["agent"] = json!({"id": self.id});
        event["request_id"] = json!(request_id);
        self.events.push(event);
    }

    /// The agent resource as `GET agents/{id}` answers it.
    pub fn view(&self, project: &str, base_url: &str) -> Value {
        json!({
            "project_id": project,
            "id": self.id,
            "name": self.name,
            "version": "2.0.0",
            "host": {
                "flavor": "nova",
                "region": self.region,
                "machine": {"id": self.machine_id},
                "os": {"name": "Linux", "version": "6", "architecture": "x86_64"},
            },
            "enabled": self.enabled,
            "log_level": self.log_level,
            "rsa_public_key": {
                "modulus": self.public_key.n().to_str_radix(16),
                // As documented: the number 10001, hex for 65537.
                "exponent": 10001,
            },
            "vault": {
                "id": self.vault_id,
                "name": format!("phoenix_{}", self.vault_id),
                "state": self.vault_state,
                "flavor": "swift",
                "encrypted": self.encrypted,
                "region": self.region,
                "use_internal": self.use_internal,
            },
            "links": [{"rel": "self", "href": format!("{base_url}/v2/{project}/agents/{}", self.id)}],
        })
    }

    /// Whether the emulator plays this agent (reads its events and reports
    /// for it): only when it holds the agent's private key.
    pub fn simulated(&self) -> bool {
        self.key.is_some()
    }

    /// Decrypts a hex ciphertext made for this agent's public key, when
    /// the emulator holds the private one.
    pub fn decrypt(&self, hex_text: &str) -> Option<String> {
        let bytes = hex::decode(hex_text).ok()?;
        let plain = self.key.as_ref()?.decrypt(Pkcs1v15Encrypt, &bytes).ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> AgentStore {
        let mut store = AgentStore::new(Duration::from_secs(60));
        let behaviour = Behaviour {
            online: true,
            fail_reports: false,
            report_delay_ms: 0,
        };
        store.register("a", "m", "DFW", behaviour);
        store
    }

    #[test]
    fn an_old_password_for_an_unencrypted_vault_is_refused() {
        let mut s = store();
        let got = s.request_encryption("a", Some("00".into()), "11".into(), Timestamp::now());
        assert_eq!(got, Err(StoreError::OldPasswordForUnencrypted));
        assert!(s.get("a").expect("agent").events.is_empty());
    }

    #[test]
    fn the_result_is_404_until_reported_then_readable_for_a_while() {
        let mut s = store();
        let id = s
            .request_encryption("a", None, "11".into(), Timestamp::now())
            .expect("request");
        let t0 = Instant::now();
        assert_eq!(s.result("a", &id, t0).expect("known"), None);
        let body = json!({"action": "enabled", "succeeded": true});
        s.report("a", &id, &body, (t0, Timestamp::now()))
            .expect("reported");
        assert!(s.get("a").expect("agent").encrypted);
        let read = s
            .result("a", &id, t0 + Duration::from_secs(30))
            .expect("known");
        assert_eq!(read.expect("readable")["succeeded"], json!(true));
        assert_eq!(
            s.result("a", &id, t0 + Duration::from_secs(61))
                .expect("known"),
            None
        );
        assert_eq!(
            s.report("a", &id, &body, (t0, Timestamp::now())),
            Err(StoreError::AlreadyReported)
        );
    }

    #[test]
    fn a_report_with_a_bad_body_or_an_unknown_request_is_refused() {
        let mut s = store();
        let id = s
            .request_encryption("a", None, "11".into(), Timestamp::now())
            .expect("request");
        let at = (Instant::now(), Timestamp::now());
        let bad = json!({"action": "enabled", "succeeded": "maybe"});
        assert!(matches!(
            s.report("a", &id, &bad, at),
            Err(StoreError::BadRequest(_))
        ));
        let ok = json!({"action": "enabled", "succeeded": false});
        assert_eq!(
            s.report("a", "nope", &ok, at),
            Err(StoreError::RequestNotFound)
        );
        s.report("a", &id, &ok, at)
            .expect("a failure is reported too");
        assert!(!s.get("a").expect("agent").encrypted);
    }

    #[test]
    fn patch_is_all_or_nothing_and_knows_only_the_documented_paths() {
        let mut s = store();
        let ops = [
            json!({"op": "replace", "path": "/enabled", "value": false}),
            json!({"op": "replace", "path": "/name", "value": "x"}),
        ];
        assert!(s.patch("a", &ops).is_err());
        assert!(s.get("a").expect("agent").enabled);
        let ops = [json!({"op": "replace", "path": "/log_level", "value": "debug"})];
        s.patch("a", &ops).expect("patched");
        assert_eq!(s.get("a").expect("agent").log_level, "debug");
    }
}
