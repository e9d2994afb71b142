//! Every agency's grants from IAM's role-assignment list
//! (ShowDomainRoleAssignments, `GET /v3.0/OS-PERMISSION/role-assignments`),
//! so that a drift check needs no read per agency: with three scopes to
//! read, that was three reads per agency per interval, and now it is a few
//! pages for the whole account.
//!
//! Two lists, both `subject=agency`, 50 records a page (the most the API
//! serves). The API documents the all-projects grants as those of
//! `scope=domain&is_inherited=true`; a query without a scope answers each
//! record with its own `is_inherited`, but whether it includes the
//! inherited ones is not documented. So the inherited ones are listed on
//! their own, and the rest without a scope: together they are every grant
//! the per-scope reads would find, whichever way the unscoped list reads.

use std::collections::{BTreeSet, HashMap};

use reqwest::Method;

use super::client::{IamClient, json};
use super::wire::{RoleAssignmentList, WireRoleAssignment};
use super::{Grant, GrantScope};
use crate::provider::ProviderError;
use crate::provider::huawei::client::Call;
use crate::provider::huawei::transport::Response;
use crate::provider::listing::{ListCap, Tally};

/// The largest page the API serves.
const PER_PAGE: u32 = 50;
/// Far past the list cap ([`Tally`], 50,000 records): a list still going
/// here is a server ignoring `page`, not a large account.
const MAX_PAGES: u32 = 1_001;

/// Grants by agency id; an agency with none is not in it.
pub type GrantsByAgency = HashMap<String, BTreeSet<Grant>>;

/// Which of the two lists a page belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// `scope=domain&is_inherited=true`: every record is an all-projects grant.
    Inherited,
    /// No scope: each record says where it applies.
    Unscoped,
}

/// Every grant of every agency of the account.
pub async fn list_agency_grants(iam: &IamClient) -> Result<GrantsByAgency, ProviderError> {
    let mut tally = Tally::with_cap(ListCap::SNAPSHOT, "agency role assignments");
    let mut grants = GrantsByAgency::new();
    for part in [Part::Inherited, Part::Unscoped] {
        list_part(iam, part, &mut tally, &mut grants).await?;
    }
    Ok(grants)
}

/// One of the two lists, page after page, into `grants`.
async fn list_part(
    iam: &IamClient,
    part: Part,
    tally: &mut Tally,
    grants: &mut GrantsByAgency,
) -> Result<(), ProviderError> {
    let mut seen: u64 = 0;
    for page in 1..=MAX_PAGES {
        let mut query = vec![
            ("domain_id", iam.domain_id().to_string()),
            ("subject", "agency".to_string()),
            ("page", page.to_string()),
            ("per_page", PER_PAGE.to_string()),
        ];
        if part == Part::Inherited {
            query.push(("scope", "domain".to_string()));
            query.push(("is_inherited", "true".to_string()));
        }
        let call = Call::new("list_role_assignments", Method::GET, "agency grants")
            .path(&["v3.0", "OS-PERMISSION", "role-assignments"])
            .query(&query);
        let read =
            |resp: &Response| json::<RoleAssignmentList>(resp).map(|list| (list, resp.body.len()));
        let (list, bytes) = iam.call(&call, read).await?;
        let count = list.role_assignments.len();
        tally.page(count, bytes)?;
        seen += count as u64;
        for record in &list.role_assignments {
            if let Some((agency, grant)) = grant_of(record, iam.domain_id(), part) {
                grants.entry(agency).or_default().insert(grant);
            }
        }
        let short = count < PER_PAGE as usize;
        if short || list.total_num.is_some_and(|total| seen >= total) {
            return Ok(());
        }
    }
    Err(ProviderError::Transient {
        message: format!("listing agency role assignments did not end after {MAX_PAGES} pages"),
    })
}

/// The agency and grant one record shows, on the scopes coffer manages: a
/// project, the account (`domain_id`), or all its projects. A user's or a
/// group's grant, an enterprise project's, or another account's is not one.
fn grant_of(record: &WireRoleAssignment, domain_id: &str, part: Part) -> Option<(String, Grant)> {
    let agency = record.agency.as_ref()?.id.clone();
    let scope = &record.scope;
    let scope = match (&scope.project, &scope.domain) {
        (Some(project), None) => GrantScope::Project(project.id.clone()),
        (None, Some(domain)) if domain.id == domain_id => {
            match part == Part::Inherited || record.is_inherited {
                true => GrantScope::AllProjects,
                false => GrantScope::Domain,
            }
        }
        _ => return None,
    };
    let grant = Grant {
        scope,
        role_id: record.role.id.clone(),
    };
    Some((agency, grant))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(value: serde_json::Value) -> WireRoleAssignment {
        serde_json::from_value(value).expect("a record")
    }

    fn grant(scope: GrantScope) -> Option<(String, Grant)> {
        Some((
            "a".to_string(),
            Grant {
                scope,
                role_id: "r".to_string(),
            },
        ))
    }

    #[test]
    fn records_read_as_the_scope_the_per_scope_reads_would_find_them_on() {
        let project = record(json!({"agency": {"id": "a"}, "role": {"id": "r"},
            "scope": {"project": {"id": "p"}}, "is_inherited": false}));
        let domain = record(json!({"agency": {"id": "a"}, "role": {"id": "r"},
            "scope": {"domain": {"id": "d"}}, "is_inherited": false}));
        let inherited = record(json!({"agency": {"id": "a"}, "role": {"id": "r"},
            "scope": {"domain": {"id": "d"}}, "is_inherited": true}));
        let unscoped = Part::Unscoped;
        assert_eq!(
            grant_of(&project, "d", unscoped),
            grant(GrantScope::Project("p".into()))
        );
        assert_eq!(grant_of(&domain, "d", unscoped), grant(GrantScope::Domain));
        assert_eq!(
            grant_of(&inherited, "d", unscoped),
            grant(GrantScope::AllProjects)
        );
        // The inherited list's records are all-projects grants, whatever
        // their own flag says.
        assert_eq!(
            grant_of(&domain, "d", Part::Inherited),
            grant(GrantScope::AllProjects)
        );
    }

    #[test]
    fn grants_coffer_does_not_manage_are_left_out() {
        let user = record(json!({"user": {"id": "u"}, "role": {"id": "r"},
            "scope": {"project": {"id": "p"}}}));
        let enterprise = record(json!({"agency": {"id": "a"}, "role": {"id": "r"},
            "scope": {"enterprise_project": {"id": "e"}}}));
        let elsewhere = record(json!({"agency": {"id": "a"}, "role": {"id": "r"},
            "scope": {"domain": {"id": "other"}}}));
        for r in [user, enterprise, elsewhere] {
            assert_eq!(grant_of(&r, "d", Part::Unscoped), None);
        }
    }
}
