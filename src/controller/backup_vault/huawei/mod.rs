//! BackupVault on Huawei Cloud CBR: the engine's [`External`] for one vault.
//! Observe by id, or by exact name plus the `coffer-uid` ownership tag;
//! plan with the pure [`plan`]; make one CBR call per planned step.

pub mod calls;
pub mod drift;
pub mod in_flight;
pub mod plan;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use kube::ResourceExt;

use self::plan::{Call, InFlight, create_request, owner_tag, updated_fields};
use crate::api::BackupVault;
use crate::api::backup_vault::{HuaweiVault, ObservedResource, VaultObservation};
use crate::api::managed::PlannedCall;
use crate::controller::engine::{
    self, Blocked, Candidate, Created, Error, External, Health, Lookup,
};
use crate::controller::env::{Context, Env};
use crate::provider::ProviderError;
use crate::provider::huawei::cbr::{CbrVaultApi, Vault};

/// CBR's status of a vault on its way out.
pub const DELETING: &str = "deleting";

/// One BackupVault's vault on CBR, connected.
pub struct CbrVault {
    spec: HuaweiVault,
    uid: String,
    cbr: Arc<dyn CbrVaultApi>,
}

impl CbrVault {
    /// The pair for `spec` of the object with `uid`, on `cbr`.
    pub fn new(spec: HuaweiVault, uid: String, cbr: Arc<dyn CbrVaultApi>) -> Self {
        Self { spec, uid, cbr }
    }

    fn target(&self) -> String {
        format!("vault {}", self.spec.name)
    }
}

#[async_trait]
impl External for CbrVault {
    type Kind = BackupVault;
    type Observed = Vault;
    type Call = Call;

    type Env = Env;
    const LOOKUP: Lookup = Lookup::OwnershipTag;

    fn connect(bv: &BackupVault, ctx: &Context) -> Result<Self, Error> {
        let spec = bv.spec.huawei_cloud.clone().ok_or(Error::InvalidSpec {
            reason: "InvalidSpec",
            message: "spec sets no provider block: add huaweiCloud, rackspace or commvault".into(),
        })?;
        let uid = bv.uid().ok_or(Error::MissingMetadata("uid"))?;
        let cbr = ctx.env.session_of(bv)?.huawei()?.cbr.clone();
        Ok(Self::new(*spec, uid, cbr))
    }

    fn name(&self) -> &str {
        &self.spec.name
    }

    async fn get(&self, id: &str) -> Result<Option<Vault>, ProviderError> {
        match self.cbr.get(id).await {
            Ok(vault) => Ok(Some(vault)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn listed(
        &self,
        id: &str,
        max_age: std::time::Duration,
    ) -> Result<Option<Vault>, ProviderError> {
        Ok(self.cbr.listed(id, max_age).await?.found())
    }

    async fn find(&self) -> Result<Vec<Candidate<Vault>>, ProviderError> {
        let vaults = self.cbr.find_by_name(&self.spec.name).await?;
        Ok(candidates(vaults, &self.spec.name, &self.uid))
    }

    fn plan(&self, vault: &Vault, in_flight: &BTreeSet<String>) -> engine::Plan<Call> {
        let plan = plan::plan(
            &self.spec,
            &self.uid,
            vault,
            &InFlight::from_keys(in_flight),
        );
        engine::Plan {
            calls: plan.calls,
            drift: plan.drift,
            blocked: plan
                .blocked
                .iter()
                .map(|b| Blocked {
                    reason: b.reason(),
                    message: b.to_string(),
                })
                .collect(),
            awaiting: plan.awaiting,
        }
    }

    fn planned_create(&self) -> PlannedCall {
        let request = create_request(&self.spec, &self.uid);
        let mut fields = vec![
            format!("name={}", request.name),
            format!("size={}", request.size_gb),
        ];
        fields.extend(request.tags.iter().map(|t| format!("tags[{}]", t.key)));
        fields.extend(
            request
                .resources
                .iter()
                .map(|r| format!("resources[{}]", r.id)),
        );
        PlannedCall {
            operation: "create".into(),
            target: self.target(),
            fields,
        }
    }

    async fn create(&self) -> Result<Created<Vault>, ProviderError> {
        let request = create_request(&self.spec, &self.uid);
        let vault = self.cbr.create(&request).await?;
        Ok(Created {
            observed: vault,
            awaiting: plan::awaits_created(&request),
        })
    }

    async fn call(&self, id: &str, call: &Call) -> Result<Option<Vault>, ProviderError> {
        match call {
            Call::Update(update) => return self.cbr.update(id, update).await.map(Some),
            Call::AddTags(tags) => self.cbr.add_tags(id, tags).await?,
            Call::RemoveTags(tags) => self.cbr.remove_tags(id, tags).await?,
            Call::RemoveResources(ids) => self.cbr.remove_resources(id, ids).await?,
            Call::AddResources(resources) => self.cbr.add_resources(id, resources).await?,
        }
        Ok(None)
    }

    async fn delete(&self, vault: &Vault) -> Result<(), ProviderError> {
        match self.cbr.delete(&vault.id).await {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }

    fn health(&self, vault: &Vault) -> Health {
        health(vault)
    }

    fn at_provider(&self, vault: &Vault) -> VaultObservation {
        at_provider(vault)
    }

    fn id(vault: &Vault) -> String {
        vault.id.clone()
    }

    fn describe(&self, call: &Call) -> PlannedCall {
        let (operation, fields) = match call {
            Call::Update(update) => ("update", updated_fields(update)),
            Call::AddTags(tags) => (
                "addTags",
                tags.iter()
                    .map(|t| format!("{}={}", t.key, t.value))
                    .collect(),
            ),
            Call::RemoveTags(tags) => ("removeTags", tags.iter().map(|t| t.key.clone()).collect()),
            Call::RemoveResources(ids) => ("removeResources", ids.clone()),
            Call::AddResources(r) => ("addResources", r.iter().map(|r| r.id.clone()).collect()),
        };
        PlannedCall {
            operation: operation.into(),
            target: self.target(),
            fields,
        }
    }

    fn awaits(&self, call: &Call) -> Vec<String> {
        plan::awaits(call)
    }

    fn settled(&self, vault: &Vault, key: &str) -> bool {
        plan::settled(vault, key)
    }
}

/// The vaults that may be this object's: exactly `name` (CBR's name filter
/// is fuzzy), not being deleted; owned when tagged with `uid`.
pub fn candidates(vaults: Vec<Vault>, name: &str, uid: &str) -> Vec<Candidate<Vault>> {
    let tag = owner_tag(uid);
    vaults
        .into_iter()
        .filter(|v| v.name == name && v.status != DELETING)
        .map(|v| Candidate {
            owned: v.tags.contains(&tag),
            observed: v,
        })
        .collect()
}

/// `Ready` from CBR's vault status.
pub fn health(vault: &Vault) -> Health {
    let id = &vault.id;
    let degraded = |reason: &str| Health::Degraded {
        reason: reason.into(),
        message: format!("the provider reports vault {id} as {:?}", vault.status),
    };
    match vault.status.as_str() {
        "available" => Health::Available {
            message: format!("vault {id} is available"),
        },
        DELETING => Health::Deleting,
        "lock" => degraded("Locked"),
        "frozen" => degraded("Frozen"),
        "error" => degraded("Error"),
        _ => degraded("UnexpectedStatus"),
    }
}

/// The vault's state as status shows it.
pub fn at_provider(vault: &Vault) -> VaultObservation {
    VaultObservation {
        status: Some(vault.status.clone()),
        size_gb: Some(vault.size_gb),
        allocated_gb: vault.allocated_gb,
        used_mb: vault.used_mb,
        spec_code: vault.spec_code.clone(),
        created_at: vault.created_at.clone(),
        resources: vault
            .resources
            .iter()
            .map(|r| ObservedResource {
                id: r.id.clone(),
                type_: r.type_.clone(),
                protect_status: r.protect_status.clone(),
            })
            .collect(),
        rackspace: None,
        commvault: None,
    }
}

#[cfg(test)]
mod tests;
