//! Reading an agency's whole state from IAM: the agency, its grants on
//! every scope, and the spec's role and project names resolved through the
//! catalogs; the grants read per scope, or taken from the account's
//! listing for a drift check. Reads only; what to do about it is
//! `plan.rs`'s job.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::{Observed, Resolved, scope_of};
use crate::api::agency::HuaweiAgency;
use crate::provider::ProviderError;
use crate::provider::huawei::iam::{
    Agency, Grant, GrantScope, IamAgencyApi, ListedAgency, Project,
};

/// The agency with its grants, read per scope, and the resolved spec.
pub async fn observe(
    iam: &dyn IamAgencyApi,
    spec: &HuaweiAgency,
    agency: Agency,
) -> Result<Observed, ProviderError> {
    let projects = projects(iam, spec).await?;
    let resolved = resolve(iam, spec, &projects).await?;
    let grants = grants(iam, &agency.id, &projects).await?;
    Ok(Observed {
        agency,
        grants,
        resolved,
    })
}

/// The same from the account's listing, which needs no read per agency.
/// It shows grants on every project; only those on the scopes
/// [`observe`] reads are kept, so both see the same grants. A listing
/// without grants (the list refused) leaves them to a read per scope.
pub async fn observe_listed(
    iam: &dyn IamAgencyApi,
    spec: &HuaweiAgency,
    listed: ListedAgency,
) -> Result<Observed, ProviderError> {
    let projects = projects(iam, spec).await?;
    let resolved = resolve(iam, spec, &projects).await?;
    let read = scopes(&projects);
    let grants = match listed.grants {
        Some(listed) => listed
            .into_iter()
            .filter(|g| read.contains(&g.scope))
            .collect(),
        None => grants(iam, &listed.agency.id, &projects).await?,
    };
    Ok(Observed {
        agency: listed.agency,
        grants,
        resolved,
    })
}

/// The same, for an agency just created: it has no grants yet. IAM's
/// create answer lacks what only a read shows (the trusted account's name,
/// the URN), so the agency is read once here: otherwise the first read
/// after the create, a resync or a restart later, would change the status
/// of every new agency. IAM is eventually consistent: when the read misses
/// the new agency, the create answer stands.
pub async fn observe_created(
    iam: &dyn IamAgencyApi,
    spec: &HuaweiAgency,
    created: Agency,
) -> Result<Observed, ProviderError> {
    let agency = match iam.get_agency(&created.id).await {
        Ok(shown) => shown,
        Err(e) if e.is_not_found() => created,
        Err(e) => return Err(e),
    };
    let projects = projects(iam, spec).await?;
    Ok(Observed {
        agency,
        grants: BTreeSet::new(),
        resolved: resolve(iam, spec, &projects).await?,
    })
}

/// The account's projects: a recent list when it has every project the
/// spec names, else a list read now.
async fn projects(
    iam: &dyn IamAgencyApi,
    spec: &HuaweiAgency,
) -> Result<Vec<Project>, ProviderError> {
    let projects = iam.list_projects().await?;
    let known = |wanted: &str| projects.iter().any(|p| p.name == wanted || p.id == wanted);
    match spec
        .roles
        .iter()
        .filter_map(|g| g.project.as_deref())
        .all(known)
    {
        true => Ok(projects),
        false => iam.list_projects_now().await,
    }
}

/// The scopes whose grants are observed: the account, all projects, and
/// each project listed.
fn scopes(projects: &[Project]) -> BTreeSet<GrantScope> {
    let mut scopes = BTreeSet::from([GrantScope::Domain, GrantScope::AllProjects]);
    scopes.extend(projects.iter().map(|p| GrantScope::Project(p.id.clone())));
    scopes
}

/// What is granted on each scope of [`scopes`], a read per scope.
async fn grants(
    iam: &dyn IamAgencyApi,
    id: &str,
    projects: &[Project],
) -> Result<BTreeSet<Grant>, ProviderError> {
    let mut found = BTreeSet::new();
    for scope in scopes(projects) {
        for role_id in iam.list_grants(id, &scope).await? {
            found.insert(Grant {
                scope: scope.clone(),
                role_id,
            });
        }
    }
    Ok(found)
}

/// The spec's grants by id; names IAM does not know are listed, not fatal.
async fn resolve(
    iam: &dyn IamAgencyApi,
    spec: &HuaweiAgency,
    projects: &[Project],
) -> Result<Resolved, ProviderError> {
    let mut roles: BTreeMap<&str, Option<String>> = BTreeMap::new();
    let mut resolved = Resolved::default();
    for grant in &spec.roles {
        if !roles.contains_key(grant.role.as_str()) {
            let found = iam.find_role(&grant.role).await?;
            if let Some(role) = &found {
                let name = role
                    .display_name
                    .clone()
                    .unwrap_or_else(|| role.name.clone());
                resolved.role_names.insert(role.id.clone(), name);
            }
            roles.insert(&grant.role, found.map(|r| r.id));
        }
    }
    for grant in &spec.roles {
        let project = grant.project.as_deref().map(|wanted| {
            projects
                .iter()
                .find(|p| p.name == wanted || p.id == wanted)
                .map(|p| p.id.clone())
        });
        let role = roles.get(grant.role.as_str()).cloned().flatten();
        let project_known = !matches!(project, Some(None));
        if role.is_none() {
            resolved.unknown.push(format!("role {:?}", grant.role));
        }
        if !project_known && let Some(name) = &grant.project {
            resolved.unknown.push(format!("project {name:?}"));
        }
        let scope = scope_of(grant.scope, project.flatten());
        if let (Some(role_id), Some(scope)) = (role, scope) {
            resolved.grants.insert(Grant { scope, role_id });
        }
    }
    resolved.unknown.sort();
    resolved.unknown.dedup();
    Ok(resolved)
}
