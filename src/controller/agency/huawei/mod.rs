//! Agency on Huawei IAM: the engine's [`External`] for one agency. Found by
//! id, or by its name (unique in the account, but untagged: the engine's
//! create-pending marker decides whether a match is coffer's); planned with
//! the pure [`plan`]; one IAM call per planned step.

pub mod observe;
pub mod plan;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use self::plan::{
    Call, Observed, create_request, show_grant, show_scope, show_validity, updated_fields,
};
use crate::api::Agency;
use crate::api::agency::{AgencyObservation, HuaweiAgency, ObservedGrant};
use crate::api::managed::PlannedCall;
use crate::controller::engine::events::Note;
use crate::controller::engine::{
    self, Blocked, Candidate, Created, Error, External, Health, Lookup, Managed,
};
use crate::controller::env::{Context, Env};
use crate::provider::ProviderError;
use crate::provider::huawei::iam::IamAgencyApi;

/// The Warning Event after every agency update (seed 004's note).
pub const TOKENS_INVALIDATED: &str = "DelegatedTokensInvalidated";

/// One Agency's IAM agency, connected.
pub struct IamAgency {
    spec: HuaweiAgency,
    iam: Arc<dyn IamAgencyApi>,
}

impl IamAgency {
    pub fn new(spec: HuaweiAgency, iam: Arc<dyn IamAgencyApi>) -> Self {
        Self { spec, iam }
    }

    fn target(&self) -> String {
        format!("agency {}", self.spec.name)
    }
}

#[async_trait]
impl External for IamAgency {
    type Kind = Agency;
    type Observed = Observed;
    type Call = Call;

    type Env = Env;
    const LOOKUP: Lookup = Lookup::UniqueName;

    fn connect(agency: &Agency, ctx: &Context) -> Result<Self, Error> {
        let spec = agency.spec.huawei_cloud.clone().ok_or(Error::InvalidSpec {
            reason: "InvalidSpec",
            message: "spec.huaweiCloud is not set; Huawei Cloud is the only provider of Agencies today: add a huaweiCloud block".into(),
        })?;
        let session = ctx.env.session_of(agency)?;
        let config = agency.provider_config_ref();
        let iam = session.huawei()?.iam.clone().ok_or(Error::InvalidSpec {
            reason: "InvalidProviderConfig",
            message: format!(
                "{} {} has no huaweiCloud.domainId; IAM agencies live in an account, so set the account id there",
                config.kind().as_str(),
                config.name
            ),
        })?;
        Ok(Self::new(spec, iam))
    }

    fn name(&self) -> &str {
        &self.spec.name
    }

    async fn get(&self, id: &str) -> Result<Option<Observed>, ProviderError> {
        let agency = match self.iam.get_agency(id).await {
            Ok(agency) => agency,
            // IAM is eventually consistent: a GET right after a create can
            // miss the agency that its list already shows. The list decides.
            Err(e) if e.is_not_found() => {
                let listed = self.iam.find_agencies(&self.spec.name).await?;
                match listed.into_iter().find(|a| a.id == id) {
                    Some(agency) => agency,
                    None => return Ok(None),
                }
            }
            Err(e) => return Err(e),
        };
        observe::observe(self.iam.as_ref(), &self.spec, agency)
            .await
            .map(Some)
    }

    /// The agency and its grants from the account's listing: no read of
    /// this agency. `None` (read by id) when the listing cannot answer: the
    /// agency or its grants written since, or the agency newer than it.
    async fn listed(
        &self,
        id: &str,
        max_age: std::time::Duration,
    ) -> Result<Option<Observed>, ProviderError> {
        let Some(listed) = self.iam.listed_agency(id, max_age).await?.found() else {
            return Ok(None);
        };
        observe::observe_listed(self.iam.as_ref(), &self.spec, listed)
            .await
            .map(Some)
    }

    async fn find(&self) -> Result<Vec<Candidate<Observed>>, ProviderError> {
        let mut found = Vec::new();
        for agency in self.iam.find_agencies(&self.spec.name).await? {
            let observed = observe::observe(self.iam.as_ref(), &self.spec, agency).await?;
            // No tags on agencies: ownership is the engine's marker to judge.
            found.push(Candidate {
                observed,
                owned: false,
            });
        }
        Ok(found)
    }

    fn plan(&self, observed: &Observed, _in_flight: &BTreeSet<String>) -> engine::Plan<Call> {
        let plan = plan::plan(&self.spec, observed);
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
            awaiting: Vec::new(),
        }
    }

    fn planned_create(&self) -> PlannedCall {
        let request = create_request(&self.spec);
        let mut fields = vec![format!("name={}", request.name)];
        if let Some(name) = &request.trust.name {
            fields.push(format!("trust_domain_name={name}"));
        }
        if let Some(id) = &request.trust.id {
            fields.push(format!("trust_domain_id={id}"));
        }
        fields.push(format!(
            "duration={}",
            show_validity(Some(request.validity))
        ));
        PlannedCall {
            operation: "create".into(),
            target: self.target(),
            fields,
        }
    }

    async fn create(&self) -> Result<Created<Observed>, ProviderError> {
        let agency = self.iam.create_agency(&create_request(&self.spec)).await?;
        let mut observed = observe::observe_created(self.iam.as_ref(), &self.spec, agency).await?;
        // The grants are part of making the agency, as a share's first
        // members are of making a share: one Created, one status write,
        // and a status that already shows them.
        let missing: Vec<_> = observed
            .resolved
            .grants
            .difference(&observed.grants)
            .cloned()
            .collect();
        for grant in missing {
            self.iam.grant(&observed.agency.id, &grant).await?;
            observed.grants.insert(grant);
        }
        Ok(Created {
            observed,
            awaiting: Vec::new(),
        })
    }

    async fn call(&self, id: &str, call: &Call) -> Result<Option<Observed>, ProviderError> {
        match call {
            Call::Update(update) => {
                self.iam.update_agency(id, update).await?;
            }
            Call::Grant(grant) => self.iam.grant(id, grant).await?,
            Call::Revoke(grant) => self.iam.revoke(id, grant).await?,
        }
        Ok(None)
    }

    async fn delete(&self, observed: &Observed) -> Result<(), ProviderError> {
        self.iam.delete_agency(&observed.agency.id).await
    }

    fn health(&self, observed: &Observed) -> Health {
        Health::Available {
            message: format!("agency {} exists", observed.agency.id),
        }
    }

    fn at_provider(&self, observed: &Observed) -> AgencyObservation {
        at_provider(observed)
    }

    fn id(observed: &Observed) -> String {
        observed.agency.id.clone()
    }

    /// An update voids the tokens the delegated party holds; say so where
    /// the agency's owner looks.
    fn notes_after(&self, id: &str, call: &Call) -> Vec<Note> {
        match call {
            Call::Update(_) => vec![Note::warning(
                TOKENS_INVALIDATED,
                "Update",
                format!(
                    "agency {id} was updated: IAM has invalidated the delegated party's existing tokens for it, so they must obtain new ones"
                ),
            )],
            Call::Grant(_) | Call::Revoke(_) => Vec::new(),
        }
    }

    fn describe(&self, call: &Call) -> PlannedCall {
        let (operation, fields) = match call {
            Call::Update(update) => ("update", updated_fields(update)),
            Call::Grant(grant) => ("grant", vec![show_grant(grant)]),
            Call::Revoke(grant) => ("revoke", vec![show_grant(grant)]),
        };
        PlannedCall {
            operation: operation.into(),
            target: self.target(),
            fields,
        }
    }
}

/// The agency as status shows it; grants sorted, so a steady agency always
/// writes the same status.
pub fn at_provider(observed: &Observed) -> AgencyObservation {
    let agency = &observed.agency;
    AgencyObservation {
        trust_domain_id: Some(agency.trust_domain_id.clone()).filter(|s| !s.is_empty()),
        trust_domain_name: agency.trust_domain_name.clone(),
        duration: Some(show_validity(agency.validity)),
        expire_time: agency.expire_time.clone(),
        create_time: agency.create_time.clone(),
        urn: agency.urn.clone(),
        roles: observed
            .grants
            .iter()
            .map(|grant| ObservedGrant {
                scope: show_scope(&grant.scope),
                role_id: grant.role_id.clone(),
                role: observed.resolved.role_names.get(&grant.role_id).cloned(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod tests;
