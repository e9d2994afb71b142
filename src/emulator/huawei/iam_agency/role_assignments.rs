//! `GET /v3.0/OS-PERMISSION/role-assignments` (ShowDomainRoleAssignments):
//! every grant of the account in one paged list, so a client can check
//! many agencies' grants without a read per agency. The query is checked
//! as the API documents it (Huawei IAM API reference, "Querying
//! Permissions Assignment Records"; the official SDK's
//! `ShowDomainRoleAssignmentsRequest`): one form of `subject` and one of
//! `scope` at most, `page` only with `per_page` (1 to 50), and
//! `is_inherited` telling a domain's own grants from its all-projects
//! grants only where the query names the domain scope. Without a scope
//! every record comes back, each with its own `is_inherited`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::AgencyError;
use super::handlers::page_of;
use super::store::GrantScope;
use crate::emulator::common::lock;
use crate::emulator::huawei::state::HuaweiState;
use crate::emulator::query::{decode_query_pairs, query_map};

/// The largest page the API documents.
const MAX_PER_PAGE: usize = 50;

/// Whose grants the query asks for. The emulator holds agencies' grants
/// only, so a query for users or groups is valid and finds nothing.
#[derive(Debug, PartialEq, Eq)]
enum Subject {
    Anyone,
    Agencies,
    Agency(String),
    UsersOrGroups,
}

/// Where the grants the query asks for apply.
#[derive(Debug, PartialEq, Eq)]
enum Scope {
    Any,
    /// Every project, or one.
    Projects(Option<String>),
    /// The domain's own grants, or (inherited) its all-projects grants.
    Domain {
        id: Option<String>,
        inherited: bool,
    },
    /// The emulator has no enterprise projects.
    EnterpriseProjects,
}

/// A query as the API accepts it.
#[derive(Debug)]
struct Query {
    subject: Subject,
    role_id: Option<String>,
    scope: Scope,
    page: Option<(usize, usize)>,
}

/// `GET /v3.0/OS-PERMISSION/role-assignments?domain_id=..`
pub async fn show_domain_role_assignments(
    State(huawei): State<Arc<HuaweiState>>,
    uri: Uri,
) -> Result<Response, AgencyError> {
    let query = query_map(&decode_query_pairs(uri.query()));
    let domain_id = query
        .get("domain_id")
        .ok_or_else(|| AgencyError::invalid("domain_id"))?;
    if *domain_id != huawei.identity.domain_id {
        return Err(AgencyError::Forbidden(format!(
            "domain {domain_id} is not the caller's account"
        )));
    }
    let query = parse(&query)?;
    let store = lock(&huawei.agencies);
    let matching: Vec<Value> = store
        .all_grants()
        .filter(|(agency, scope, role)| query.matches(agency, scope, role))
        .map(|(agency, scope, role)| view(agency, scope, role))
        .collect();
    let total = matching.len();
    let (skip, take) = query
        .page
        .map_or((0, usize::MAX), |(page, per)| ((page - 1) * per, per));
    let page: Vec<Value> = matching.into_iter().skip(skip).take(take).collect();
    Ok(Json(json!({ "role_assignments": page, "total_num": total })).into_response())
}

fn parse(query: &BTreeMap<String, String>) -> Result<Query, AgencyError> {
    let get = |key: &str| query.get(key).map(String::as_str);
    // Checked even where it has no effect, as a schema check does.
    if let Some(value) = get("include_group") {
        boolean("include_group", value)?;
    }
    let inherited = get("is_inherited")
        .map(|v| boolean("is_inherited", v))
        .transpose()?
        .unwrap_or(false);
    Ok(Query {
        subject: subject(get)?,
        role_id: get("role_id").map(str::to_string),
        scope: scope(get, inherited)?,
        page: page_of(query.get("page"), query.get("per_page"), MAX_PER_PAGE)?,
    })
}

fn boolean(field: &str, value: &str) -> Result<bool, AgencyError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(AgencyError::invalid(field)),
    }
}

/// `subject`, `subject.user_id`, `subject.group_id` and `subject.agency_id`
/// exclude each other.
fn subject<'q>(get: impl Fn(&str) -> Option<&'q str>) -> Result<Subject, AgencyError> {
    let given: Vec<(&str, &str)> = [
        "subject",
        "subject.user_id",
        "subject.group_id",
        "subject.agency_id",
    ]
    .into_iter()
    .filter_map(|key| get(key).map(|value| (key, value)))
    .collect();
    match given.as_slice() {
        [] => Ok(Subject::Anyone),
        [("subject", "agency")] => Ok(Subject::Agencies),
        [("subject", "user" | "group")] => Ok(Subject::UsersOrGroups),
        [("subject", _)] => Err(AgencyError::invalid("subject")),
        [("subject.agency_id", id)] => Ok(Subject::Agency(id.to_string())),
        [(_, _)] => Ok(Subject::UsersOrGroups),
        _ => Err(AgencyError::invalid(
            "subject: only one of subject, subject.user_id, subject.group_id, subject.agency_id",
        )),
    }
}

/// `scope`, `scope.project_id`, `scope.domain_id` and
/// `scope.enterprise_projects_id` exclude each other; `is_inherited` counts
/// only with the domain scope.
fn scope<'q>(get: impl Fn(&str) -> Option<&'q str>, inherited: bool) -> Result<Scope, AgencyError> {
    let keys = [
        "scope",
        "scope.project_id",
        "scope.domain_id",
        "scope.enterprise_projects_id",
    ];
    let given: Vec<(&str, &str)> = keys
        .into_iter()
        .filter_map(|key| get(key).map(|value| (key, value)))
        .collect();
    match given.as_slice() {
        [] => Ok(Scope::Any),
        [("scope", "project")] => Ok(Scope::Projects(None)),
        [("scope", "domain")] => Ok(Scope::Domain {
            id: None,
            inherited,
        }),
        [("scope", "enterprise_project")] => Ok(Scope::EnterpriseProjects),
        [("scope", _)] => Err(AgencyError::invalid("scope")),
        [("scope.project_id", id)] => Ok(Scope::Projects(Some(id.to_string()))),
        [("scope.domain_id", id)] => Ok(Scope::Domain {
            id: Some(id.to_string()),
            inherited,
        }),
        [(_, _)] => Ok(Scope::EnterpriseProjects),
        _ => Err(AgencyError::invalid(
            "scope: only one of scope, scope.project_id, scope.domain_id, scope.enterprise_projects_id",
        )),
    }
}

impl Query {
    fn matches(&self, agency: &str, scope: &GrantScope, role: &str) -> bool {
        let subject = match &self.subject {
            Subject::Anyone | Subject::Agencies => true,
            Subject::Agency(id) => id == agency,
            Subject::UsersOrGroups => false,
        };
        let scope = match (&self.scope, scope) {
            (Scope::Any, _) => true,
            (Scope::Projects(wanted), GrantScope::Project(id)) => {
                wanted.as_ref().is_none_or(|w| w == id)
            }
            (
                Scope::Domain {
                    id: wanted,
                    inherited: false,
                },
                GrantScope::Domain(id),
            )
            | (
                Scope::Domain {
                    id: wanted,
                    inherited: true,
                },
                GrantScope::AllProjects(id),
            ) => wanted.as_ref().is_none_or(|w| w == id),
            _ => false,
        };
        subject && scope && self.role_id.as_deref().is_none_or(|r| r == role)
    }
}

/// One record as the API answers it: an all-projects grant is the
/// domain's, marked inherited.
fn view(agency: &str, scope: &GrantScope, role: &str) -> Value {
    let (scope, inherited) = match scope {
        GrantScope::Project(id) => (json!({"project": {"id": id}}), false),
        GrantScope::Domain(id) => (json!({"domain": {"id": id}}), false),
        GrantScope::AllProjects(id) => (json!({"domain": {"id": id}}), true),
    };
    json!({
        "agency": {"id": agency},
        "role": {"id": role},
        "scope": scope,
        "is_inherited": inherited,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<Query, AgencyError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(&map)
    }

    #[test]
    fn two_subject_forms_or_two_scope_forms_are_refused() {
        let both = [("subject", "agency"), ("subject.agency_id", "a")];
        assert!(matches!(query(&both), Err(AgencyError::Invalid(_))));
        let both = [("scope", "project"), ("scope.domain_id", "d")];
        assert!(matches!(query(&both), Err(AgencyError::Invalid(_))));
    }

    #[test]
    fn unknown_values_and_pages_past_fifty_are_refused() {
        for bad in [
            vec![("subject", "robot")],
            vec![("scope", "region")],
            vec![("is_inherited", "yes")],
            vec![("page", "1"), ("per_page", "51")],
            vec![("page", "0"), ("per_page", "50")],
            vec![("page", "1")],
        ] {
            assert!(
                matches!(query(&bad), Err(AgencyError::Invalid(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn is_inherited_picks_the_all_projects_grants_only_on_the_domain_scope() {
        let all = GrantScope::AllProjects("d".into());
        let own = GrantScope::Domain("d".into());
        let inherited = query(&[("scope", "domain"), ("is_inherited", "true")]).expect("valid");
        assert!(inherited.matches("a", &all, "r") && !inherited.matches("a", &own, "r"));
        let domain = query(&[("scope", "domain")]).expect("valid");
        assert!(!domain.matches("a", &all, "r") && domain.matches("a", &own, "r"));
        let any = query(&[("is_inherited", "false")]).expect("valid");
        assert!(any.matches("a", &all, "r") && any.matches("a", &own, "r"));
    }
}
