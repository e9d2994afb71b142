//! BackupVault on Rackspace Cloud Backup: the engine's [`External`] for the
//! vault of one agent. The agent (and so its vault) is found by id or by
//! host machine id and never created or deleted by coffer; what coffer
//! manages is the vault's encryption and the agent's settings. The
//! encryption request is a once-only call: the engine fences it, and after
//! a crash [`AgentVault::recover`] finds the request in the agent's events.

pub mod observe;
pub mod passphrase;
pub mod plan;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use kube::ResourceExt;

use self::passphrase::{Keeper, Passphrase};
use self::plan::{AgentView, Call, Desired, encrypt_key};
use crate::api::BackupVault;
use crate::api::backup_vault::{
    EncryptionAction, EncryptionRequestState, RackspaceEncryptionRequest, RackspaceVault,
    RackspaceVaultObservation, VaultObservation,
};
use crate::api::managed::{CallPending, PlannedCall};
use crate::controller::engine::{
    self, Blocked, Candidate, Created, Error, External, Health, Lookup, Recovery,
};
use crate::controller::env::{Context, Env};
use crate::provider::ProviderError;
use crate::provider::rackspace::{AgentChange, AgentVaultApi, crypto};

/// Why `Delete` leaves the vault: it is the agent's, and the API has no call for it.
pub const KEPT: &str = "the vault belongs to the Cloud Backup agent and Cloud Backup has no call to delete it, \
    so deletionPolicy Delete and Orphan both leave the vault and its encryption in place";

/// The fingerprint of the passphrase the vault is encrypted with, once
/// the key it is made with is saved (until then it would change with
/// every read).
pub fn shown_fingerprint(view: &AgentView) -> Option<String> {
    let _saved = view.kept.key.as_ref()?;
    view.kept.current.as_ref().map(|p| p.fingerprint(&view.key))
}

/// The last request as status shows it: one recorded with a fingerprint
/// from before coffer had keys shows the keyed one once the key is saved,
/// so nothing a reader could test guesses against stays in status.
pub fn shown_request(
    view: &AgentView,
    uid: &str,
    desired: Option<&Passphrase>,
) -> Option<RackspaceEncryptionRequest> {
    let mut request = view.request.clone()?;
    if view.kept.key.is_some() {
        let known = [
            view.kept.current.as_ref(),
            view.kept.pending.as_ref(),
            desired,
        ];
        let legacy = known
            .into_iter()
            .flatten()
            .find(|p| p.legacy_fingerprint(uid) == request.fingerprint);
        if let Some(p) = legacy {
            request.fingerprint = p.fingerprint(&view.key);
        }
    }
    Some(request)
}

/// One BackupVault's agent vault on Cloud Backup, connected.
pub struct AgentVault {
    spec: RackspaceVault,
    uid: String,
    generation: i64,
    /// The user's passphrase, when the spec asks for encryption.
    desired: Option<Passphrase>,
    /// The last request, as status recorded it.
    request: Option<RackspaceEncryptionRequest>,
    keeper: Keeper,
    agents: Arc<dyn AgentVaultApi>,
}

impl AgentVault {
    fn agent_name(&self) -> &str {
        self.spec
            .agent_id
            .as_deref()
            .or(self.spec.host_machine_id.as_deref())
            .unwrap_or_default()
    }

    fn desired(&self) -> Desired<'_> {
        Desired {
            spec: &self.spec,
            passphrase: self.desired.as_ref(),
            uid: &self.uid,
            generation: self.generation,
        }
    }
}

#[async_trait]
impl External for AgentVault {
    type Kind = BackupVault;
    type Observed = AgentView;
    type Call = Call;

    // The spec names the agent; finding it is reading it, on the first
    // reconcile too, and nothing is ever created.
    type Env = Env;
    const LOOKUP: Lookup = Lookup::SpecNamed;
    const KEPT_ON_DELETE: Option<&'static str> = Some(KEPT);

    fn connect(bv: &BackupVault, ctx: &Context) -> Result<Self, Error> {
        let spec = bv.spec.rackspace.clone().ok_or(Error::InvalidSpec {
            reason: "InvalidSpec",
            message: "spec.rackspace is not set".into(),
        })?;
        let uid = bv.uid().ok_or(Error::MissingMetadata("uid"))?;
        let namespace = bv.namespace().ok_or(Error::MissingMetadata("namespace"))?;
        let desired = match &spec.encryption {
            Some(e) => Some(
                passphrase::desired(&ctx.env.caches, &namespace, &e.passphrase_secret_ref)
                    .map_err(|e| Error::InvalidSpec {
                        reason: "PassphraseUnavailable",
                        message: e.to_string(),
                    })?,
            ),
            None => None,
        };
        let request = bv
            .status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .and_then(|a| a.rackspace.as_ref())
            .and_then(|r| r.request.clone());
        let keeper = Keeper::new(ctx.client.clone(), bv).ok_or(Error::MissingMetadata("uid"))?;
        let agents = ctx.env.session_of(bv)?.rackspace()?.agents.clone();
        Ok(Self {
            spec: *spec,
            uid,
            generation: bv.metadata.generation.unwrap_or_default(),
            desired,
            request,
            keeper,
            agents,
        })
    }

    fn name(&self) -> &str {
        self.agent_name()
    }

    async fn get(&self, id: &str) -> Result<Option<AgentView>, ProviderError> {
        observe::view(&*self.agents, &self.keeper, id, self.request.clone()).await
    }

    async fn find(&self) -> Result<Vec<Candidate<AgentView>>, ProviderError> {
        let agents = match (&self.spec.agent_id, &self.spec.host_machine_id) {
            (Some(id), _) => match self.agents.get_agent(id).await {
                Ok(agent) => vec![agent],
                Err(e) if e.is_not_found() => Vec::new(),
                Err(e) => return Err(e),
            },
            (None, Some(machine)) => self.agents.find_agents(machine).await?,
            (None, None) => Vec::new(),
        };
        let mut found = Vec::new();
        for agent in agents {
            let observed =
                observe::view_of(&*self.agents, &self.keeper, agent, self.request.clone()).await?;
            found.push(Candidate {
                observed,
                owned: true,
            });
        }
        Ok(found)
    }

    fn plan(&self, view: &AgentView, in_flight: &BTreeSet<String>) -> engine::Plan<Call> {
        let plan = plan::plan(&self.desired(), view, in_flight);
        engine::Plan {
            calls: plan.calls,
            drift: plan.drift,
            blocked: plan
                .blocked
                .into_iter()
                .map(|b| Blocked {
                    reason: b.reason,
                    message: b
                        .message
                        .replace("<name>-coffer-passphrase", self.keeper.name()),
                })
                .collect(),
            awaiting: plan.awaiting,
        }
    }

    fn planned_create(&self) -> PlannedCall {
        PlannedCall {
            operation: "awaitAgent".into(),
            target: format!("agent {}", self.agent_name()),
            fields: Vec::new(),
        }
    }

    async fn create(&self) -> Result<Created<AgentView>, ProviderError> {
        Err(ProviderError::NotFound {
            what: format!("agent {}", self.agent_name()),
            message: "no Cloud Backup agent has that id or host machine id; a vault is made when its agent registers, \
                      so install and register the agent on the server (coffer looks again)"
                .into(),
        })
    }

    async fn call(&self, id: &str, call: &Call) -> Result<Option<AgentView>, ProviderError> {
        match call {
            Call::UpdateAgent(changes) => {
                self.agents.update_agent(id, changes).await?;
                Ok(None)
            }
            Call::KeepKey(view) => {
                let mut kept = view.kept.clone();
                kept.key = Some(view.key.clone());
                self.keeper.write(&kept).await?;
                let mut view = view.as_ref().clone();
                view.kept = kept;
                Ok(Some(view))
            }
            Call::KeepPassphrase(keep) => {
                let mut kept = keep.base.kept.clone();
                kept.current = Some(keep.passphrase.clone());
                kept.pending = None;
                kept.key = Some(keep.base.key.clone());
                self.keeper.write(&kept).await?;
                let mut view = keep.base.clone();
                view.kept = kept;
                Ok(Some(view))
            }
            Call::Encrypt(e) => {
                // The new passphrase is kept before it is sent: whatever
                // happens next, coffer can tell what it asked for.
                let mut kept = e.base.kept.clone();
                kept.pending = Some(e.new.clone());
                kept.key = Some(e.base.key.clone());
                self.keeper.write(&kept).await?;
                let new_hex = crypto::encrypt_passphrase(&e.key, e.new.expose())?;
                let old_hex = match &e.old {
                    Some(old) => Some(crypto::encrypt_passphrase(&e.key, old.expose())?),
                    None => None,
                };
                let request_id = self
                    .agents
                    .request_encryption(id, old_hex.as_deref(), &new_hex)
                    .await?;
                let mut view = e.base.clone();
                view.kept = kept;
                view.request = Some(RackspaceEncryptionRequest {
                    id: request_id,
                    action: e.action,
                    fingerprint: e.fingerprint.clone(),
                    generation: e.generation,
                    since: Timestamp::now().to_string(),
                    state: EncryptionRequestState::Pending,
                });
                Ok(Some(view))
            }
        }
    }

    async fn delete(&self, _view: &AgentView) -> Result<(), ProviderError> {
        // Never called: KEPT_ON_DELETE lets go of the vault instead.
        Ok(())
    }

    fn health(&self, view: &AgentView) -> Health {
        let id = &view.agent.id;
        if !view.online {
            return Health::Progressing {
                reason: "AgentOffline".into(),
                message: format!(
                    "agent {id} is offline: it cannot apply encryption requests until it is online again; coffer keeps looking"
                ),
            };
        }
        let pending = view
            .request
            .as_ref()
            .filter(|r| r.state == EncryptionRequestState::Pending);
        if let Some(r) = pending {
            return Health::Progressing {
                reason: "EncryptionPending".into(),
                message: format!(
                    "waiting for agent {id} to report encryption request {}",
                    r.id
                ),
            };
        }
        if self.desired.is_some() && !view.agent.vault.encrypted {
            return Health::Progressing {
                reason: "NotEncrypted".into(),
                message: format!("the vault of agent {id} is not encrypted yet"),
            };
        }
        let encrypted = match view.agent.vault.encrypted {
            true => "encrypted",
            false => "not encrypted",
        };
        Health::Available {
            message: format!("the vault of agent {id} is {encrypted} and the agent is online"),
        }
    }

    fn at_provider(&self, view: &AgentView) -> VaultObservation {
        let agent = &view.agent;
        // The top-level fields are CBR's; the agent's vault has its own block.
        VaultObservation {
            rackspace: Some(Box::new(RackspaceVaultObservation {
                vault_id: agent.vault.id.clone(),
                vault_state: agent.vault.state.clone(),
                encrypted: agent.vault.encrypted,
                online: view.online,
                enabled: agent.enabled,
                use_internal: agent.vault.use_internal,
                log_level: agent.log_level.clone(),
                passphrase_fingerprint: shown_fingerprint(view),
                request: shown_request(view, &self.uid, self.desired.as_ref()),
            })),
            ..VaultObservation::default()
        }
    }

    fn id(view: &AgentView) -> String {
        view.agent.id.clone()
    }

    fn describe(&self, call: &Call) -> PlannedCall {
        let agent = format!("agent {}", self.agent_name());
        let (operation, target, fields) = match call {
            Call::UpdateAgent(changes) => (
                "updateAgent",
                agent,
                changes
                    .iter()
                    .map(|c| match c {
                        AgentChange::Enabled(on) => format!("enabled={on}"),
                        AgentChange::UseInternal(on) => format!("useInternal={on}"),
                        AgentChange::LogLevel(level) => format!("logLevel={level}"),
                    })
                    .collect(),
            ),
            Call::Encrypt(e) => {
                let operation = match e.action {
                    EncryptionAction::Enable => "enableEncryption",
                    EncryptionAction::Change => "changePassphrase",
                };
                let fields = vec![format!("passphrase fingerprint {}", e.fingerprint)];
                (operation, format!("vault of {agent}"), fields)
            }
            Call::KeepKey(_) => (
                "keepFingerprintKey",
                format!("Secret {}", self.keeper.name()),
                Vec::new(),
            ),
            Call::KeepPassphrase(k) => (
                "keepPassphrase",
                format!("Secret {}", self.keeper.name()),
                vec![format!("passphrase fingerprint {}", k.fingerprint)],
            ),
        };
        PlannedCall {
            operation: operation.into(),
            target,
            fields,
        }
    }

    fn found_how(&self) -> &'static str {
        match self.spec.agent_id {
            Some(_) => "found by agent id",
            None => "found by host machine id",
        }
    }

    /// A request is awaited until the agent reports: the engine polls
    /// meanwhile instead of waiting for the next resync.
    fn awaits(&self, call: &Call) -> Vec<String> {
        self.once_only(call).into_iter().collect()
    }

    fn settled(&self, view: &AgentView, key: &str) -> bool {
        !view.request.as_ref().is_some_and(|r| {
            r.state == EncryptionRequestState::Pending && encrypt_key(&r.fingerprint) == key
        })
    }

    fn once_only(&self, call: &Call) -> Option<String> {
        match call {
            Call::Encrypt(e) => Some(encrypt_key(&e.fingerprint)),
            _ => None,
        }
    }

    async fn recover(
        &self,
        id: &str,
        view: &AgentView,
        pending: &CallPending,
    ) -> Result<Recovery<AgentView>, ProviderError> {
        observe::recover(&*self.agents, id, view, pending, self.generation).await
    }
}
