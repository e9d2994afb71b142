//! The receiver's side on CBR: the engine's [`External`] for this
//! project's member record of one shared backup. The `vaultRef` is read
//! from the watched BackupVault cache, never by a GET per reconcile.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use kube::ResourceExt;

use super::members::{member_view, share_api};
use super::receiver_plan::{self, Answer, Desired, Observed, Vault};
use crate::api::backup_share::{Decision, ReceiverShare as ReceiverSpec, ShareObservation};
use crate::api::conditions::{self, READY};
use crate::api::managed::PlannedCall;
use crate::api::{BackupShare, BackupVault};
use crate::controller::engine::{self, Candidate, Created, Error, External, Health, Lookup};
use crate::controller::env::{Context, Env};
use crate::provider::ProviderError;
use crate::provider::huawei::share::CbrShareApi;

/// One receiver BackupShare's member record on CBR, connected.
pub struct ReceiverShare {
    desired: Desired,
    api: Arc<dyn CbrShareApi>,
}

impl ReceiverShare {
    pub fn new(desired: Desired, api: Arc<dyn CbrShareApi>) -> Self {
        Self { desired, api }
    }

    fn target(&self) -> String {
        format!("backup {}", self.desired.backup_id)
    }
}

/// Where an accepted backup goes: `vaultId`, or the externalId of the
/// `vaultRef` BackupVault once it is Ready.
pub fn vault_of(spec: &ReceiverSpec, vault_ref: Option<&BackupVault>) -> Vault {
    if spec.decision == Decision::Reject {
        return Vault::None;
    }
    if let Some(id) = &spec.vault_id {
        return Vault::Id(id.clone());
    }
    let Some(name) = spec.vault_ref.as_ref().map(|r| r.name.clone()) else {
        return Vault::None;
    };
    let Some(vault) = vault_ref else {
        return Vault::Waiting {
            name,
            why: "it does not exist in this namespace".into(),
        };
    };
    let status = vault.status.as_ref();
    let ready = status
        .and_then(|s| conditions::find(&s.conditions, READY))
        .is_some_and(|c| c.status == "True");
    match status.and_then(|s| s.external_id.clone()) {
        Some(id) if ready => Vault::Id(id),
        _ => Vault::Waiting {
            name,
            why: "it is not Ready yet".into(),
        },
    }
}

#[async_trait]
impl External for ReceiverShare {
    type Kind = BackupShare;
    type Observed = Observed;
    type Call = Answer;

    type Env = Env;
    const LOOKUP: Lookup = Lookup::SpecNamed;

    fn connect(share: &BackupShare, ctx: &Context) -> Result<Self, Error> {
        let spec = share.spec.receiver.clone().ok_or(Error::InvalidSpec {
            reason: "InvalidSpec",
            message: "spec.receiver is not set".into(),
        })?;
        let namespace = share
            .namespace()
            .ok_or(Error::MissingMetadata("namespace"))?;
        let vault_ref = spec
            .vault_ref
            .as_ref()
            .and_then(|r| ctx.env.caches.backup_vault(&namespace, &r.name));
        let api = share_api(share, ctx)?;
        let desired = Desired {
            backup_id: spec.backup_id.clone(),
            project_id: api.project_id().to_string(),
            decision: spec.decision,
            vault: vault_of(&spec, vault_ref.as_deref()),
        };
        Ok(Self::new(desired, api))
    }

    fn name(&self) -> &str {
        &self.desired.backup_id
    }

    fn found_how(&self) -> &'static str {
        "found at the provider: this project's member record"
    }

    async fn get(&self, _id: &str) -> Result<Option<Observed>, ProviderError> {
        let d = &self.desired;
        let member = match self.api.show_member(&d.backup_id, &d.project_id).await {
            Ok(member) => Some(member),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        // No member record: the one case worth a second read is this
        // project's own backup, which no share will ever make visible.
        let own_backup = member.is_none()
            && matches!(
                self.api.show_backup(&d.backup_id).await,
                Ok(backup) if backup.project_id == d.project_id
            );
        Ok(Some(Observed {
            backup_id: d.backup_id.clone(),
            member,
            own_backup,
        }))
    }

    /// The owner makes the member record; it is this object's as soon as
    /// it exists, and "not visible" is an observation too.
    async fn find(&self) -> Result<Vec<Candidate<Observed>>, ProviderError> {
        let observed = self.get(&self.desired.backup_id).await?;
        Ok(observed
            .into_iter()
            .map(|observed| Candidate {
                observed,
                owned: true,
            })
            .collect())
    }

    fn plan(&self, observed: &Observed, _in_flight: &BTreeSet<String>) -> engine::Plan<Answer> {
        receiver_plan::plan(&self.desired, observed)
    }

    fn planned_create(&self) -> PlannedCall {
        PlannedCall {
            operation: "waitForShare".into(),
            target: self.target(),
            fields: Vec::new(),
        }
    }

    /// Never reached ([`Self::find`] always answers); the owner shares.
    async fn create(&self) -> Result<Created<Observed>, ProviderError> {
        Err(ProviderError::Invalid {
            code: "NotCreatable".into(),
            message:
                "a receiver cannot create a share; the owner project adds this project as a member"
                    .into(),
        })
    }

    async fn call(&self, _id: &str, answer: &Answer) -> Result<Option<Observed>, ProviderError> {
        let d = &self.desired;
        let member = self
            .api
            .update_member(
                &d.backup_id,
                &d.project_id,
                answer.status,
                answer.vault_id.as_deref(),
            )
            .await?;
        Ok(Some(Observed {
            backup_id: d.backup_id.clone(),
            member: Some(member),
            own_backup: false,
        }))
    }

    /// Never called: a receiver's deletion policy is always `Orphan`.
    async fn delete(&self, _observed: &Observed) -> Result<(), ProviderError> {
        Ok(())
    }

    fn health(&self, observed: &Observed) -> Health {
        receiver_plan::health(&self.desired, observed)
    }

    fn at_provider(&self, observed: &Observed) -> ShareObservation {
        ShareObservation {
            backup_status: None,
            members: Vec::new(),
            member: observed.member.as_ref().map(member_view),
        }
    }

    fn id(observed: &Observed) -> String {
        observed.backup_id.clone()
    }

    fn describe(&self, answer: &Answer) -> PlannedCall {
        let mut fields = vec![format!("status={}", answer.status.as_str())];
        fields.extend(answer.vault_id.iter().map(|v| format!("vault_id={v}")));
        PlannedCall {
            operation: "updateMemberStatus".into(),
            target: self.target(),
            fields,
        }
    }
}
