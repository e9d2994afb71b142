//! The IAM agency, grant and catalog routes: each checks the caller's
//! account, runs one store operation and answers in IAM's shape and status.

use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::catalog::{self, TrustDomain};
use super::error::AgencyError;
use super::store::{self, AgencyChange, AgencyStore, GrantScope, StoredDuration};
use super::wire::{CreateAgencyBody, UpdateAgencyBody};
use crate::emulator::common::lock;
use crate::emulator::huawei::identity::Identity;
use crate::emulator::huawei::state::HuaweiState;
use crate::emulator::query::{decode_query_pairs, query_map};

const MAX_NAME: usize = 64;
const MAX_DESCRIPTION: usize = 255;

fn agencies(huawei: &HuaweiState) -> MutexGuard<'_, AgencyStore> {
    lock(&huawei.agencies)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AgencyError> {
    serde_json::from_slice(body).map_err(|e| AgencyError::invalid(format!("body: {e}")))
}

fn agency_response(status: StatusCode, agency: Value) -> Response {
    (status, Json(json!({ "agency": agency }))).into_response()
}

/// Resolves the delegated account; the name wins when both are given.
fn resolve_trust(
    identity: &Identity,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<TrustDomain, AgencyError> {
    match (name, id) {
        (Some(name), _) => catalog::domain_by_name(identity, name),
        (None, Some(id)) => catalog::domain_by_id(identity, id),
        (None, None) => return Err(AgencyError::invalid("agency.trust_domain_id")),
    }
    .ok_or(AgencyError::TrustDomainNotFound)
}

fn check_description(description: Option<&str>) -> Result<(), AgencyError> {
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(AgencyError::invalid("agency.description"));
    }
    Ok(())
}

fn own_domain(identity: &Identity, domain_id: &str) -> Result<(), AgencyError> {
    if domain_id != identity.domain_id {
        return Err(AgencyError::Forbidden(format!(
            "domain {domain_id} is not the caller's account"
        )));
    }
    Ok(())
}

/// `POST /v3.0/OS-AGENCY/agencies`
pub async fn create_agency(
    State(huawei): State<Arc<HuaweiState>>,
    body: Bytes,
) -> Result<Response, AgencyError> {
    let identity = &huawei.identity;
    let new = parse::<CreateAgencyBody>(&body)?.agency;
    own_domain(identity, &new.domain_id)?;
    if new.name.is_empty() || new.name.chars().count() > MAX_NAME {
        return Err(AgencyError::invalid("agency.name"));
    }
    check_description(new.description.as_deref())?;
    let trust = resolve_trust(
        identity,
        new.trust_domain_id.as_deref(),
        new.trust_domain_name.as_deref(),
    )?;
    let duration = StoredDuration::parse(new.duration.as_ref())?;
    let mut store = agencies(&huawei);
    let record = store.create(
        new.name,
        trust,
        new.description.unwrap_or_default(),
        duration,
        (Instant::now(), Timestamp::now()),
    )?;
    Ok(agency_response(
        StatusCode::CREATED,
        store::written_view(record, &identity.domain_id),
    ))
}

/// `GET /v3.0/OS-AGENCY/agencies/{agency_id}`
pub async fn show_agency(
    State(huawei): State<Arc<HuaweiState>>,
    Path(agency_id): Path<String>,
) -> Result<Response, AgencyError> {
    let store = agencies(&huawei);
    let record = store.show(&agency_id, Instant::now())?;
    Ok(agency_response(
        StatusCode::OK,
        store::read_view(record, &huawei.identity.domain_id),
    ))
}

/// `GET /v3.0/OS-AGENCY/agencies?domain_id=..&name=..&trust_domain_id=..`
pub async fn list_agencies(
    State(huawei): State<Arc<HuaweiState>>,
    uri: Uri,
) -> Result<Response, AgencyError> {
    let identity = &huawei.identity;
    let query = query_map(&decode_query_pairs(uri.query()));
    let domain_id = query
        .get("domain_id")
        .ok_or_else(|| AgencyError::invalid("domain_id"))?;
    own_domain(identity, domain_id)?;
    let page = page_of(query.get("page"), query.get("per_page"), 500)?;
    let store = agencies(&huawei);
    let found = store.list(
        query.get("name").map(String::as_str),
        query.get("trust_domain_id").map(String::as_str),
    );
    let views: Vec<Value> = found
        .into_iter()
        .skip(page.map_or(0, |(page, per)| (page - 1) * per))
        .take(page.map_or(usize::MAX, |(_, per)| per))
        .map(|a| store::read_view(a, &identity.domain_id))
        .collect();
    Ok(Json(json!({ "agencies": views })).into_response())
}

/// `page` (≥ 1) and `per_page` (1 to `max_per_page`: 500 for agencies,
/// 50 for role assignments) come together or not at all.
pub(super) fn page_of(
    page: Option<&String>,
    per_page: Option<&String>,
    max_per_page: usize,
) -> Result<Option<(usize, usize)>, AgencyError> {
    match (page, per_page) {
        (None, None) => Ok(None),
        (Some(page), Some(per)) => {
            let page = page.parse::<usize>().ok().filter(|p| *p >= 1);
            let per = per
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=max_per_page).contains(p));
            match (page, per) {
                (Some(page), Some(per)) => Ok(Some((page, per))),
                (None, _) => Err(AgencyError::invalid("page")),
                (_, None) => Err(AgencyError::invalid("per_page")),
            }
        }
        _ => Err(AgencyError::invalid(
            "page and per_page must be given together",
        )),
    }
}

/// `PUT /v3.0/OS-AGENCY/agencies/{agency_id}` (seed 004)
pub async fn update_agency(
    State(huawei): State<Arc<HuaweiState>>,
    Path(agency_id): Path<String>,
    body: Bytes,
) -> Result<Response, AgencyError> {
    let identity = &huawei.identity;
    let update = parse::<UpdateAgencyBody>(&body)?.agency;
    // Seed 004: the trust id and name exist together or not at all.
    let trust = match (&update.trust_domain_id, &update.trust_domain_name) {
        (None, None) => None,
        (Some(id), Some(name)) => Some(resolve_trust(identity, Some(id), Some(name))?),
        (Some(_), None) => return Err(AgencyError::invalid("agency.trust_domain_name")),
        (None, Some(_)) => return Err(AgencyError::invalid("agency.trust_domain_id")),
    };
    if trust.is_none() && update.description.is_none() && update.duration.is_none() {
        return Err(AgencyError::invalid("agency: at least one field to change"));
    }
    check_description(update.description.as_deref())?;
    let duration = match &update.duration {
        Some(value) => Some(StoredDuration::parse(Some(value))?),
        None => None,
    };
    let change = AgencyChange {
        trust,
        description: update.description,
        duration,
    };
    let mut store = agencies(&huawei);
    let record = store.update(&agency_id, change, Timestamp::now())?;
    Ok(agency_response(
        StatusCode::OK,
        store::written_view(record, &identity.domain_id),
    ))
}

/// `DELETE /v3.0/OS-AGENCY/agencies/{agency_id}`
pub async fn delete_agency(
    State(huawei): State<Arc<HuaweiState>>,
    Path(agency_id): Path<String>,
) -> Result<Response, AgencyError> {
    agencies(&huawei).delete(&agency_id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// PUT, HEAD or DELETE of one grant, after checking scope and role.
fn grant_call(
    huawei: &HuaweiState,
    method: &Method,
    agency_id: &str,
    scope: GrantScope,
    role_id: &str,
) -> Result<Response, AgencyError> {
    check_scope(&huawei.identity, &scope)?;
    catalog::role(role_id).ok_or_else(|| AgencyError::RoleNotFound(role_id.to_string()))?;
    let mut store = agencies(huawei);
    match *method {
        Method::PUT => store.grant(agency_id, scope, role_id)?,
        Method::DELETE => store.revoke(agency_id, scope, role_id)?,
        // HEAD: 204 when granted, 404 with no body when not.
        _ if store.has_grant(agency_id, &scope, role_id)? => {}
        _ => return Ok(StatusCode::NOT_FOUND.into_response()),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn check_scope(identity: &Identity, scope: &GrantScope) -> Result<(), AgencyError> {
    match scope {
        GrantScope::Project(project) if *project != identity.project_id => {
            Err(AgencyError::ProjectNotFound(project.clone()))
        }
        GrantScope::Domain(domain) | GrantScope::AllProjects(domain)
            if *domain != identity.domain_id =>
        {
            Err(AgencyError::DomainNotFound(domain.clone()))
        }
        _ => Ok(()),
    }
}

fn list_grants(
    huawei: &HuaweiState,
    agency_id: &str,
    scope: GrantScope,
) -> Result<Response, AgencyError> {
    check_scope(&huawei.identity, &scope)?;
    // The inherited list has no display name (providers.md §4.1).
    let display = !matches!(scope, GrantScope::AllProjects(_));
    let roles: Vec<Value> = agencies(huawei)
        .grants_on(agency_id, &scope)?
        .iter()
        .filter_map(|id| catalog::role(id))
        .map(|role| catalog::role_view(role, display))
        .collect();
    Ok(Json(json!({ "roles": roles })).into_response())
}

/// `PUT|HEAD|DELETE /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}`
pub async fn project_grant(
    State(huawei): State<Arc<HuaweiState>>,
    method: Method,
    Path((project, agency, role)): Path<(String, String, String)>,
) -> Result<Response, AgencyError> {
    grant_call(
        &huawei,
        &method,
        &agency,
        GrantScope::Project(project),
        &role,
    )
}

/// `PUT|HEAD|DELETE /v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}`
pub async fn domain_grant(
    State(huawei): State<Arc<HuaweiState>>,
    method: Method,
    Path((domain, agency, role)): Path<(String, String, String)>,
) -> Result<Response, AgencyError> {
    grant_call(&huawei, &method, &agency, GrantScope::Domain(domain), &role)
}

/// `PUT|HEAD|DELETE /v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}/inherited_to_projects`
pub async fn all_projects_grant(
    State(huawei): State<Arc<HuaweiState>>,
    method: Method,
    Path((domain, agency, role)): Path<(String, String, String)>,
) -> Result<Response, AgencyError> {
    grant_call(
        &huawei,
        &method,
        &agency,
        GrantScope::AllProjects(domain),
        &role,
    )
}

/// `GET /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles`
pub async fn list_project_grants(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, agency)): Path<(String, String)>,
) -> Result<Response, AgencyError> {
    list_grants(&huawei, &agency, GrantScope::Project(project))
}

/// `GET /v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles`
pub async fn list_domain_grants(
    State(huawei): State<Arc<HuaweiState>>,
    Path((domain, agency)): Path<(String, String)>,
) -> Result<Response, AgencyError> {
    list_grants(&huawei, &agency, GrantScope::Domain(domain))
}

/// `GET /v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/inherited_to_projects`
pub async fn list_all_projects_grants(
    State(huawei): State<Arc<HuaweiState>>,
    Path((domain, agency)): Path<(String, String)>,
) -> Result<Response, AgencyError> {
    list_grants(&huawei, &agency, GrantScope::AllProjects(domain))
}

/// `GET /v3/roles?name=..&display_name=..`: the system role catalog.
pub async fn list_roles(uri: Uri) -> Response {
    let query = query_map(&decode_query_pairs(uri.query()));
    let roles: Vec<Value> = catalog::ROLES
        .iter()
        .filter(|r| query.get("name").is_none_or(|n| r.name == n))
        .filter(|r| {
            query
                .get("display_name")
                .is_none_or(|n| r.display_name == n)
        })
        .map(|r| catalog::role_view(r, true))
        .collect();
    let total = roles.len();
    Json(json!({
        "roles": roles,
        "links": {"self": "/v3/roles", "previous": null, "next": null},
        "total_number": total,
    }))
    .into_response()
}

/// `GET /v3/projects?domain_id=..&name=..`: the caller's projects.
pub async fn list_projects(State(huawei): State<Arc<HuaweiState>>, uri: Uri) -> Response {
    let identity = &huawei.identity;
    let query = query_map(&decode_query_pairs(uri.query()));
    let matches = query
        .get("domain_id")
        .is_none_or(|d| *d == identity.domain_id)
        && query.get("name").is_none_or(|n| *n == identity.region)
        && query.get("id").is_none_or(|i| *i == identity.project_id);
    let projects: Vec<Value> = if matches {
        vec![catalog::project_view(identity)]
    } else {
        Vec::new()
    };
    Json(json!({
        "projects": projects,
        "links": {"self": "/v3/projects", "previous": null, "next": null},
    }))
    .into_response()
}
