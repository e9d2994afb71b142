//! BackupVault on Commvault: the engine's [`External`] for one S3 vault.
//! Names are unique in a CommCell and listable but carry no owner, so the
//! lookup is [`Lookup::UniqueName`]: the engine writes `createPending`
//! before the create and adopts a name match only behind it (which is how a
//! 409 after a lost create answer ends: adopted, not duplicated). The
//! endpoint job is followed until it ends; its state and the create-time
//! fields Commvault does not list are kept in `status.atProvider.commvault`.

pub mod observe;
pub mod plan;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use self::plan::{Call, CreatedWith, EndpointJob, Observed};
use crate::api::BackupVault;
use crate::api::backup_vault::{CommvaultVault, CommvaultVaultObservation, VaultObservation};
use crate::api::managed::PlannedCall;
use crate::controller::engine::{self, Candidate, Created, Error, External, Health, Lookup};
use crate::controller::env::{Context, Env};
use crate::provider::ProviderError;
use crate::provider::commvault::{S3Vault, S3VaultApi};

/// One BackupVault's S3 vault on Commvault, connected.
pub struct CommvaultS3Vault {
    spec: CommvaultVault,
    /// `status.atProvider.commvault` as the object carries it.
    seen: Option<CommvaultVaultObservation>,
    api: Arc<dyn S3VaultApi>,
}

impl CommvaultS3Vault {
    pub fn new(
        spec: CommvaultVault,
        seen: Option<CommvaultVaultObservation>,
        api: Arc<dyn S3VaultApi>,
    ) -> Self {
        Self { spec, seen, api }
    }

    fn target(&self) -> String {
        format!("S3 vault {}", self.spec.name)
    }

    /// `vault` with what status remembers of it, its job followed.
    async fn observed(&self, vault: S3Vault, retired: bool) -> Result<Observed, ProviderError> {
        let client_id = vault.client_id;
        let seen = self.seen.as_ref().filter(|s| s.client_id == client_id);
        let job = seen.map_or(EndpointJob::Unknown, observe::job_of);
        Ok(Observed {
            vault,
            // A retired vault's job says nothing any more.
            job: match retired {
                true => job,
                false => self.follow(job).await?,
            },
            created_with: seen.and_then(observe::created_with_of),
            retired,
        })
    }

    /// The endpoint job as last known, read again while it may change.
    async fn follow(&self, job: EndpointJob) -> Result<EndpointJob, ProviderError> {
        let Some(id) = job.to_follow() else {
            return Ok(job);
        };
        Ok(match self.api.job(id).await? {
            Some(job) => EndpointJob::Seen(job),
            None => EndpointJob::Missing(id),
        })
    }
}

#[async_trait]
impl External for CommvaultS3Vault {
    type Kind = BackupVault;
    type Observed = Observed;
    type Call = Call;

    type Env = Env;
    const LOOKUP: Lookup = Lookup::UniqueName;

    fn connect(bv: &BackupVault, ctx: &Context) -> Result<Self, Error> {
        let spec = bv.spec.commvault.clone().ok_or(Error::InvalidSpec {
            reason: "InvalidSpec",
            message: "spec.commvault is not set".into(),
        })?;
        let seen = bv
            .status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .and_then(|a| a.commvault.as_deref().cloned());
        let api = ctx.env.session_of(bv)?.commvault()?.vaults.clone();
        Ok(Self::new(*spec, seen, api))
    }

    fn name(&self) -> &str {
        &self.spec.name
    }

    /// A list of every S3 vault made now (Commvault reads no single S3
    /// vault), which also answers other vaults' next drift checks.
    async fn get(&self, id: &str) -> Result<Option<Observed>, ProviderError> {
        let Ok(client_id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let listed = self.api.listed(client_id, Duration::ZERO).await?;
        let (vault, retired) = match listed.found() {
            Some(vault) => (vault, false),
            // The list hides a retired client (and, for a moment, a new
            // one): only the client itself tells gone from half-deleted.
            None => match self.api.read_client(client_id).await? {
                None => return Ok(None),
                Some(client) => (
                    S3Vault {
                        client_id,
                        name: client.name,
                        plan_name: None,
                    },
                    client.retired,
                ),
            },
        };
        self.observed(vault, retired).await.map(Some)
    }

    /// The vault from the session's list of every S3 vault, one list an
    /// interval however many vaults there are.
    async fn listed(&self, id: &str, max_age: Duration) -> Result<Option<Observed>, ProviderError> {
        let Ok(client_id) = id.parse::<i64>() else {
            return Ok(None);
        };
        match self.api.listed(client_id, max_age).await?.found() {
            Some(vault) => self.observed(vault, false).await.map(Some),
            None => Ok(None),
        }
    }

    async fn find(&self) -> Result<Vec<Candidate<Observed>>, ProviderError> {
        let vaults = self.api.list().await?;
        Ok(candidates(vaults, &self.spec))
    }

    fn plan(
        &self,
        observed: &Observed,
        _in_flight: &std::collections::BTreeSet<String>,
    ) -> engine::Plan<Call> {
        plan::plan(&self.spec, observed)
    }

    fn planned_create(&self) -> PlannedCall {
        let mut fields = vec![
            format!("name={}", self.spec.name),
            format!("plan={}", self.spec.plan.name),
        ];
        fields.extend(
            self.spec
                .endpoints
                .iter()
                .map(|e| format!("endpoints[{}]", e.client_id)),
        );
        fields.extend(self.spec.owners.iter().map(|u| format!("owners[{u}]")));
        fields.extend(
            self.spec
                .user_groups
                .iter()
                .map(|g| format!("userGroups[{g}]")),
        );
        PlannedCall {
            operation: "create".into(),
            target: self.target(),
            fields,
        }
    }

    async fn create(&self) -> Result<Created<Observed>, ProviderError> {
        let created = self.api.create(&plan::new_vault(&self.spec)).await?;
        let job = match (created.job_id, created.job_refused) {
            (_, Some(why)) => EndpointJob::Refused(why),
            (Some(id), None) => EndpointJob::Started(id),
            (None, None) => EndpointJob::Unknown,
        };
        Ok(Created {
            observed: Observed {
                vault: created.vault,
                job,
                created_with: Some(CreatedWith::of(&self.spec)),
                retired: false,
            },
            awaiting: Vec::new(),
        })
    }

    async fn call(&self, _id: &str, call: &Call) -> Result<Option<Observed>, ProviderError> {
        match *call {}
    }

    async fn delete(&self, observed: &Observed) -> Result<(), ProviderError> {
        self.api
            .delete(observed.vault.client_id, observed.retired)
            .await
    }

    fn health(&self, observed: &Observed) -> Health {
        plan::health(observed)
    }

    fn at_provider(&self, observed: &Observed) -> VaultObservation {
        observe::at_provider(observed)
    }

    fn id(observed: &Observed) -> String {
        observed.vault.client_id.to_string()
    }

    fn describe(&self, call: &Call) -> PlannedCall {
        match *call {}
    }

    fn found_how(&self) -> &'static str {
        "found by name in the S3 vault list after a create whose answer was lost (or answered 409)"
    }
}

/// The listed vaults that may be this object's: the same name, which
/// Commvault compares without regard to case. Never owned: Commvault has
/// no tag, so only the create-pending marker lets the engine adopt one.
pub fn candidates(vaults: Vec<S3Vault>, spec: &CommvaultVault) -> Vec<Candidate<Observed>> {
    vaults
        .into_iter()
        .filter(|v| v.name.eq_ignore_ascii_case(&spec.name))
        .map(|vault| Candidate {
            observed: Observed {
                vault,
                job: EndpointJob::Unknown,
                created_with: None,
                retired: false,
            },
            owned: false,
        })
        .collect()
}
