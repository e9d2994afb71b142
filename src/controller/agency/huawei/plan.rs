//! The pure heart of the Agency-on-IAM pair: the spec, the agency and its
//! grants as IAM reports them, and the catalog's answers go in; the IAM
//! calls that make them match come out, with one drift entry per differing
//! field. No client, no clock.
//!
//! What is managed: trust, duration and grants always (the duration's
//! default is `Forever`); `description` only when the spec sets it. Grants
//! are a set per scope: what is missing is granted, what is extra revoked.
//! Durations are compared in days, so IAM answering `"480"` hours for a
//! 20-day agency is no drift.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::api::agency::{AgencyDuration, GrantScope as SpecScope, HuaweiAgency};
use crate::api::managed::Drift;
use crate::provider::huawei::iam::{
    Agency, AgencyCreate, AgencyUpdate, Grant, GrantScope, TrustParty, Validity,
};

/// One call to IAM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `PUT` with the trust pair and the fields that differ (seed 004).
    Update(AgencyUpdate),
    Grant(Grant),
    Revoke(Grant),
}

/// The agency, its grants, and the spec's grants resolved through IAM's
/// catalogs: everything the plan needs from the cloud.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub agency: Agency,
    /// What IAM reports as granted, on every scope listed.
    pub grants: BTreeSet<Grant>,
    pub resolved: Resolved,
}

/// The spec's grants by id, and what the catalogs did not know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub grants: BTreeSet<Grant>,
    /// Role or project names IAM does not know, as `kind name`.
    pub unknown: Vec<String>,
    /// The name of each role the spec names, by role id, as IAM shows it.
    pub role_names: BTreeMap<String, String>,
}

/// A difference coffer will not act on, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// A role or project the spec names that IAM does not know.
    Unresolved(Vec<String>),
    /// Moving to another account by id: IAM needs the name with the id,
    /// and coffer cannot look up another account's name.
    TrustNeedsName { observed: String, spec: String },
}

impl Blocked {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Unresolved(_) => "UnknownRoleOrProject",
            Self::TrustNeedsName { .. } => "TrustDomainNeedsName",
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unresolved(names) => write!(
                f,
                "IAM does not know {}: check the names in huaweiCloud.roles (a role by its display name or name, a project by name or id)",
                names.join(", ")
            ),
            Self::TrustNeedsName { observed, spec } => write!(
                f,
                "the agency trusts account {observed}, the spec says {spec}: IAM moves an agency to another account only given its name, so set huaweiCloud.trustDomain.name"
            ),
        }
    }
}

/// A plan, before the engine wraps it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub calls: Vec<Call>,
    pub drift: Vec<Drift>,
    pub blocked: Vec<Blocked>,
}

/// The duration in days, as IAM takes it.
pub fn validity(duration: AgencyDuration) -> Validity {
    match duration {
        AgencyDuration::Forever => Validity::Forever,
        AgencyDuration::OneDay => Validity::Days(1),
        AgencyDuration::Days(days) => Validity::Days(days),
    }
}

/// The duration as the spec would write it.
pub fn show_validity(validity: Option<Validity>) -> String {
    match validity {
        Some(Validity::Forever) => "Forever".to_string(),
        Some(Validity::Days(1)) => "OneDay".to_string(),
        Some(Validity::Days(days)) => days.to_string(),
        None => "(unreadable)".to_string(),
    }
}

/// The delegated party as the spec names it: an account by name or id, or
/// a cloud service, which IAM names like an account.
pub fn trust(spec: &HuaweiAgency) -> TrustParty {
    match (&spec.trust_domain, &spec.cloud_service) {
        (Some(domain), _) => TrustParty {
            id: domain.id.clone(),
            name: domain.name.clone(),
        },
        (None, service) => TrustParty {
            id: None,
            name: service.clone(),
        },
    }
}

pub fn create_request(spec: &HuaweiAgency) -> AgencyCreate {
    AgencyCreate {
        name: spec.name.clone(),
        trust: trust(spec),
        description: spec.description.clone().unwrap_or_default(),
        validity: validity(spec.duration),
    }
}

/// The spec's scope of a grant, with a project already resolved to its id.
pub fn scope_of(scope: SpecScope, project_id: Option<String>) -> Option<GrantScope> {
    match scope {
        SpecScope::Project => project_id.map(GrantScope::Project),
        SpecScope::Domain => Some(GrantScope::Domain),
        SpecScope::AllProjects => Some(GrantScope::AllProjects),
    }
}

/// A grant as status shows it: `Domain:<role>`, `Project/<id>:<role>`.
pub fn show_grant(grant: &Grant) -> String {
    format!("{}:{}", show_scope(&grant.scope), grant.role_id)
}

/// A grant's scope as status shows it.
pub fn show_scope(scope: &GrantScope) -> String {
    match scope {
        GrantScope::Project(id) => format!("Project/{id}"),
        GrantScope::Domain => "Domain".to_string(),
        GrantScope::AllProjects => "AllProjects".to_string(),
    }
}

/// What makes `observed` match `spec`.
pub fn plan(spec: &HuaweiAgency, observed: &Observed) -> Plan {
    let mut plan = Plan::default();
    let update = plan_update(spec, &observed.agency, &mut plan);
    if let Some(update) = update {
        plan.calls.push(Call::Update(update));
    }
    if !observed.resolved.unknown.is_empty() {
        plan.blocked
            .push(Blocked::Unresolved(observed.resolved.unknown.clone()));
    }
    // Grant before revoking, so a role moved between scopes never leaves
    // the delegated party with neither.
    for missing in observed.resolved.grants.difference(&observed.grants) {
        plan.drift
            .push(grant_drift(show_grant(missing), "(not granted)"));
        plan.calls.push(Call::Grant(missing.clone()));
    }
    for extra in observed.grants.difference(&observed.resolved.grants) {
        plan.drift
            .push(grant_drift("(not in spec)".to_string(), &show_grant(extra)));
        plan.calls.push(Call::Revoke(extra.clone()));
    }
    plan
}

fn grant_drift(desired: String, observed: &str) -> Drift {
    Drift {
        field: "huaweiCloud.roles".to_string(),
        desired,
        observed: observed.to_string(),
        ..Drift::default()
    }
}

/// The update, if any field differs: the differing fields plus, always,
/// the trust pair (seed 004: id and name together; IAM checks the name
/// first, so the pair names the account the name does).
fn plan_update(spec: &HuaweiAgency, agency: &Agency, plan: &mut Plan) -> Option<AgencyUpdate> {
    let mut update = AgencyUpdate::default();
    let mut changed = false;
    let wanted = trust(spec);
    let observed_name = agency.trust_domain_name.clone();
    let trust_differs = match (&wanted.name, &wanted.id) {
        // Right after create IAM does not say the name: unknown is not different.
        (Some(name), _) => observed_name.as_ref().is_some_and(|o| o != name),
        (None, Some(id)) => *id != agency.trust_domain_id,
        (None, None) => false,
    };
    if trust_differs {
        let desired = wanted
            .name
            .clone()
            .or(wanted.id.clone())
            .unwrap_or_default();
        let observed = observed_name
            .clone()
            .unwrap_or_else(|| agency.trust_domain_id.clone());
        plan.drift.push(Drift {
            field: "huaweiCloud.trustDomain".to_string(),
            desired: desired.clone(),
            observed: observed.clone(),
            ..Drift::default()
        });
        match &wanted.name {
            Some(name) => {
                update.trust = Some((agency.trust_domain_id.clone(), name.clone()));
                changed = true;
            }
            None => plan.blocked.push(Blocked::TrustNeedsName {
                observed,
                spec: desired,
            }),
        }
    }
    if let Some(description) = &spec.description
        && *description != agency.description
    {
        plan.drift.push(Drift {
            field: "huaweiCloud.description".to_string(),
            desired: description.clone(),
            observed: agency.description.clone(),
            ..Drift::default()
        });
        update.description = Some(description.clone());
        changed = true;
    }
    let desired = validity(spec.duration);
    if agency.validity != Some(desired) {
        plan.drift.push(Drift {
            field: "huaweiCloud.duration".to_string(),
            desired: spec.duration.to_string(),
            observed: show_validity(agency.validity),
            ..Drift::default()
        });
        update.validity = Some(desired);
        changed = true;
    }
    if !changed {
        return None;
    }
    if update.trust.is_none()
        && let Some(name) = observed_name.or(wanted.name)
    {
        update.trust = Some((agency.trust_domain_id.clone(), name));
    }
    Some(update)
}

/// The fields an update sends, as a plan shows them.
pub fn updated_fields(update: &AgencyUpdate) -> Vec<String> {
    let mut fields = Vec::new();
    if update.trust.is_some() {
        fields.extend([
            "trust_domain_id".to_string(),
            "trust_domain_name".to_string(),
        ]);
    }
    if update.description.is_some() {
        fields.push("description".to_string());
    }
    if let Some(validity) = update.validity {
        fields.push(format!("duration={}", show_validity(Some(validity))));
    }
    fields
}
