//! Reading an agent vault: the agent, whether it is online, coffer's copy
//! of the passphrase, and what became of the last encryption request — the
//! transient result while it lasts, the agent's events after, and
//! `vault.encrypted` as the durable signal of an enable. And recovery: an
//! encryption request whose answer was lost is found in the agent's events.

use jiff::{SignedDuration, Timestamp};

use super::passphrase::{FingerprintKey, Keeper};
use super::plan::AgentView;
use crate::api::backup_vault::{
    EncryptionAction, EncryptionRequestState, RackspaceEncryptionRequest,
};
use crate::api::managed::CallPending;
use crate::controller::engine::Recovery;
use crate::provider::ProviderError;
use crate::provider::rackspace::{Agent, AgentVaultApi, EncryptionEvent, RequestKind};

/// How far before the marker an event may be dated and still be its
/// request: room for clock skew between coffer and Cloud Backup.
const SKEW: SignedDuration = SignedDuration::from_mins(5);

/// The agent `id` with everything the plan needs; `None` when it is gone.
pub async fn view(
    agents: &dyn AgentVaultApi,
    keeper: &Keeper,
    id: &str,
    request: Option<RackspaceEncryptionRequest>,
) -> Result<Option<AgentView>, ProviderError> {
    let agent = match agents.get_agent(id).await {
        Ok(agent) => agent,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    view_of(agents, keeper, agent, request).await.map(Some)
}

/// [`view`] of an agent already read (found by machine id, say).
pub async fn view_of(
    agents: &dyn AgentVaultApi,
    keeper: &Keeper,
    agent: Agent,
    request: Option<RackspaceEncryptionRequest>,
) -> Result<AgentView, ProviderError> {
    let id = agent.id.as_str();
    let online = agents.agent_online(id).await?;
    let kept = keeper.read().await?;
    let request = match request {
        Some(r) if r.state == EncryptionRequestState::Pending => {
            let durable = r.action == EncryptionAction::Enable && agent.vault.encrypted;
            let state = match durable {
                true => EncryptionRequestState::Succeeded,
                false => outcome(agents, id, &r.id).await?,
            };
            Some(RackspaceEncryptionRequest { state, ..r })
        }
        other => other,
    };
    let key = kept.key.clone().unwrap_or_else(FingerprintKey::random);
    Ok(AgentView {
        agent,
        online,
        kept,
        key,
        request,
    })
}

/// The agent's report of request `request_id`: the result while it lasts,
/// else its event; pending when neither shows one.
async fn outcome(
    agents: &dyn AgentVaultApi,
    id: &str,
    request_id: &str,
) -> Result<EncryptionRequestState, ProviderError> {
    let reported = match agents.encryption_result(id, request_id).await? {
        Some(succeeded) => Some(succeeded),
        // 404 means "not yet" or "expired": the events tell which.
        None => agents
            .encryption_events(id)
            .await?
            .into_iter()
            .find(|e| e.request_id == request_id && e.succeeded.is_some())
            .and_then(|e| e.succeeded),
    };
    Ok(match reported {
        Some(true) => EncryptionRequestState::Succeeded,
        Some(false) => EncryptionRequestState::Failed,
        None => EncryptionRequestState::Pending,
    })
}

/// Whether the request of `pending` (`encrypt/<fingerprint>`) was made:
/// Cloud Backup logs every request as an agent event at once, so a request
/// event newer than the marker, that status does not know, is it; none
/// means the request never arrived.
pub async fn recover(
    agents: &dyn AgentVaultApi,
    id: &str,
    view: &AgentView,
    pending: &CallPending,
    generation: i64,
) -> Result<Recovery<AgentView>, ProviderError> {
    let Some(fingerprint) = pending.call.strip_prefix("encrypt/") else {
        return Ok(Recovery::Unknown);
    };
    let Ok(since) = pending.since.parse::<Timestamp>() else {
        return Ok(Recovery::Unknown);
    };
    let known = view.request.as_ref().map(|r| r.id.as_str());
    let events = agents.encryption_events(id).await?;
    // Made, whether or not the agent has reported on it yet: a fast agent
    // (or a slow reconcile) reports before the recovery looks, and a
    // request already reported was made all the same. The newest wins.
    let at = |e: &EncryptionEvent| e.time.as_deref().and_then(|t| t.parse::<Timestamp>().ok());
    let made = events
        .into_iter()
        .filter(|e| Some(e.request_id.as_str()) != known)
        .filter(|e| at(e).is_some_and(|t| t >= since - SKEW))
        .max_by_key(|e| at(e));
    let Some(made) = made else {
        return Ok(Recovery::NotMade);
    };
    let mut found = view.clone();
    found.request = Some(RackspaceEncryptionRequest {
        id: made.request_id,
        action: match made.kind {
            RequestKind::Enable => EncryptionAction::Enable,
            RequestKind::Change => EncryptionAction::Change,
        },
        fingerprint: fingerprint.to_string(),
        generation,
        since: pending.since.clone(),
        state: EncryptionRequestState::Pending,
    });
    Ok(Recovery::Made(found))
}
