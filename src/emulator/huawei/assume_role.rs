//! IAM's agency token (`POST /v3/auth/tokens` with `"methods":
//! ["assume_role"]`): the delegated party trades its own credentials for a
//! token in the delegating account. The token is bound to the agency as it
//! stood at issue, and the gate refuses it once the agency is updated or
//! deleted, because IAM voids the delegated party's tokens then (seed 004).

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::auth::{AuthFailure, RequestView, verify_signature};
use super::error::{GatewayError, IamError};
use super::iam_agency::catalog::{self, TrustDomain};
use super::iam_agency::error::AgencyError;
use super::iam_agency::store::{AgencyRecord, AgencyStore, GrantScope};
use super::iam_request::{AssumeRole, Auth, resolve_scope};
use super::state::HuaweiState;
use super::token::{AgencyBinding, Scope, TokenClaims, TokenError};
use super::token_answer::{token_body, token_response};
use crate::emulator::common::lock;

/// IAM's temporary-credential API bounds `duration_seconds` to 15 minutes
/// .. 24 hours; the emulator holds a requested token lifetime to the same.
const MIN_DURATION_SECS: u64 = 900;
const MAX_DURATION_SECS: u64 = 86_400;

/// Why an agency token was not issued; each answers in its own service's
/// shape, so a bad caller credential reads like any other gateway refusal.
#[derive(Debug)]
enum Refusal {
    /// The caller's own credentials were refused (401).
    Caller(AuthFailure),
    /// IAM refused the agency or the request (IAM's `{"error":{...}}`).
    Agency(AgencyError),
    /// The requested scope, judged as for a user's token.
    Scope(IamError),
}

impl Refusal {
    fn into_response_with_id(self, request_id: &str) -> Response {
        match self {
            Refusal::Caller(failure) => failure.into_response_with_id(request_id),
            Refusal::Agency(e) => e.into_response(),
            Refusal::Scope(e) => e.into_response(),
        }
    }
}

impl From<AgencyError> for Refusal {
    fn from(e: AgencyError) -> Self {
        Refusal::Agency(e)
    }
}

/// Verifies a token and, for an agency token, that its agency has been
/// neither updated nor deleted since the token was issued.
pub fn verify_token(
    huawei: &HuaweiState,
    token: &str,
    now: Timestamp,
) -> Result<TokenClaims, TokenError> {
    let claims = huawei.tokens.verify(token, now)?;
    if let Some(binding) = &claims.agency {
        let store = lock(&huawei.agencies);
        if !store.token_still_valid(&binding.agency_id, binding.epoch) {
            return Err(TokenError::AgencyChanged(binding.agency_id.clone()));
        }
    }
    Ok(claims)
}

/// The gate's check: a voided agency token is refused with the 401 a bad
/// token gets. Other tokens pass here and are judged by the service's own
/// authentication.
pub fn refuse_void_agency_token(
    huawei: &HuaweiState,
    headers: &HeaderMap,
    now: Timestamp,
    request_id: &str,
) -> Option<Response> {
    let token = headers.get("x-auth-token")?.to_str().ok()?;
    match verify_token(huawei, token, now) {
        Err(e @ TokenError::AgencyChanged(_)) => {
            Some(GatewayError::Unauthorized(e.to_string()).into_response_with_id(request_id))
        }
        _ => None,
    }
}

/// Answers an `assume_role` token request: 201 with the token, or IAM's
/// `{"error":{...}}` body saying why not.
pub(super) fn create_agency_token(
    huawei: &HuaweiState,
    auth: &Auth,
    req: &RequestView<'_>,
    request_id: &str,
) -> Response {
    let now = Timestamp::now();
    match issue(huawei, auth, req, now) {
        Ok((claims, body)) => token_response(huawei, req, &claims, body),
        Err(refusal) => refusal.into_response_with_id(request_id),
    }
}

fn issue(
    huawei: &HuaweiState,
    auth: &Auth,
    req: &RequestView<'_>,
    now: Timestamp,
) -> Result<(TokenClaims, Value), Refusal> {
    let identity = &huawei.identity;
    authenticate_caller(huawei, req, now)?;
    let assume = auth
        .identity
        .assume_role
        .as_ref()
        .ok_or_else(|| invalid("auth.identity.assume_role"))?;
    let agency_name = assume
        .xrole_name
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| invalid("auth.identity.assume_role.xrole_name"))?;
    let lifetime = lifetime(huawei, assume.duration_seconds)?;
    let delegator = delegating_domain(huawei, assume)?;
    let scope = resolve_scope(identity, auth.scope.as_ref()).map_err(Refusal::Scope)?;
    // One lock for the lookup, the checks and the epoch, so the token binds
    // to the agency exactly as it was checked.
    let store = lock(&huawei.agencies);
    // The emulator holds agencies of its own account only; a partner
    // account has none it could have delegated.
    let record = store
        .list(Some(agency_name), None)
        .into_iter()
        .next()
        .filter(|_| delegator.id == identity.domain_id)
        .ok_or_else(|| AgencyError::AgencyNotFound(agency_name.to_string()))?;
    check_trust(record, &identity.domain_id, now)?;
    let expires_at = now
        .checked_add(lifetime)
        .map_err(|_| invalid("auth.identity.assume_role.duration_seconds"))?;
    let claims = TokenClaims {
        scope,
        issued_at: now,
        expires_at,
        agency: Some(AgencyBinding {
            agency_id: record.id.clone(),
            epoch: record.tokens_valid_from,
        }),
    };
    let roles = granted_roles(&store, record, &claims.scope, &identity.domain_id);
    let mut body = token_body(identity, &claims);
    let token = &mut body["token"];
    token["methods"] = json!(["assume_role"]);
    token["roles"] = roles;
    // The token acts as the agency in the delegating account; the caller
    // shows up as who assumed it.
    token["assumed_by"] = json!({"user": token["user"].clone()});
    token["user"] = json!({
        "id": record.id,
        "name": format!("{}/{}", delegator.name, record.name),
        "domain": {"id": delegator.id, "name": delegator.name},
    });
    Ok((claims, body))
}

/// The caller proves its own account with a token (not itself an agency
/// token: agencies do not chain) or an AK/SK signature. The emulator knows
/// one account that can sign in, so a verified caller is that account.
fn authenticate_caller(
    huawei: &HuaweiState,
    req: &RequestView<'_>,
    now: Timestamp,
) -> Result<(), Refusal> {
    let unauthorized = |message: String| {
        Refusal::Caller(AuthFailure::Gateway(GatewayError::Unauthorized(message)))
    };
    if let Some(token) = req.headers.get("x-auth-token") {
        let claims = verify_token(huawei, token.to_str().unwrap_or(""), now)
            .map_err(|e| unauthorized(e.to_string()))?;
        if claims.agency.is_some() {
            return Err(AgencyError::Forbidden(
                "an agency token cannot be used to assume an agency".to_string(),
            )
            .into());
        }
        return Ok(());
    }
    if let Some(authorization) = req.headers.get("authorization") {
        return verify_signature(
            &huawei.identity,
            authorization.to_str().unwrap_or(""),
            req,
            now,
        )
        .map(|_| ())
        .map_err(Refusal::Caller);
    }
    Err(unauthorized("x-auth-token not found".to_string()))
}

/// How long the token lives: the configured token TTL, or less if asked.
fn lifetime(huawei: &HuaweiState, requested: Option<u64>) -> Result<SignedDuration, Refusal> {
    let ttl = SignedDuration::try_from(huawei.token_ttl)
        .map_err(|_| invalid("token TTL out of range"))?;
    match requested {
        None => Ok(ttl),
        Some(secs) if (MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(&secs) => {
            // In range, so it fits an i64.
            Ok(ttl.min(SignedDuration::from_secs(secs as i64)))
        }
        Some(_) => Err(invalid("auth.identity.assume_role.duration_seconds")),
    }
}

/// The delegating account, by id or name (at least one; the id is used when
/// both are given); an unknown one is 404.
fn delegating_domain(huawei: &HuaweiState, assume: &AssumeRole) -> Result<TrustDomain, Refusal> {
    let identity = &huawei.identity;
    let found = match (&assume.domain_id, &assume.domain_name) {
        (Some(id), _) => catalog::domain_by_id(identity, id),
        (None, Some(name)) => catalog::domain_by_name(identity, name),
        (None, None) => return Err(invalid("auth.identity.assume_role.domain_id")),
    };
    found.ok_or_else(|| {
        let named = assume
            .domain_id
            .as_deref()
            .or(assume.domain_name.as_deref());
        AgencyError::DomainNotFound(named.unwrap_or_default().to_string()).into()
    })
}

/// Only the account the agency trusts may assume it, and only while it
/// has not expired.
fn check_trust(
    record: &AgencyRecord,
    caller_domain: &str,
    now: Timestamp,
) -> Result<(), AgencyError> {
    if record.trust.id != caller_domain {
        return Err(AgencyError::Forbidden(format!(
            "agency {} trusts account {}, not the caller's account {caller_domain}",
            record.name, record.trust.name
        )));
    }
    if record.expire_time.is_some_and(|expiry| expiry <= now) {
        return Err(AgencyError::Forbidden(format!(
            "agency {} has expired",
            record.name
        )));
    }
    Ok(())
}

/// The roles the agency holds on the token's scope, as the token lists
/// them: direct grants, plus all-projects grants for a project scope.
fn granted_roles(
    store: &AgencyStore,
    record: &AgencyRecord,
    scope: &Scope,
    domain_id: &str,
) -> Value {
    let scopes = match scope {
        Scope::Project(project) => vec![
            GrantScope::Project(project.clone()),
            GrantScope::AllProjects(domain_id.to_string()),
        ],
        Scope::Domain(domain) => vec![GrantScope::Domain(domain.clone())],
    };
    let mut ids: Vec<String> = scopes
        .iter()
        .filter_map(|s| store.grants_on(&record.id, s).ok())
        .flatten()
        .collect();
    ids.sort();
    ids.dedup();
    let roles: Vec<Value> = ids
        .iter()
        .filter_map(|id| catalog::role(id))
        .map(|role| json!({"id": role.id, "name": role.name}))
        .collect();
    json!(roles)
}

fn invalid(field: &str) -> Refusal {
    AgencyError::invalid(field).into()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::emulator::huawei::iam_agency::store::StoredDuration;
    use crate::emulator::huawei::settings::HuaweiSettings;

    fn huawei() -> HuaweiState {
        HuaweiState::new(&HuaweiSettings::default())
    }

    fn trust(id: &str) -> TrustDomain {
        TrustDomain {
            id: id.to_string(),
            name: "t".to_string(),
        }
    }

    #[test]
    fn requested_lifetime_is_bounded_and_never_beyond_the_ttl() {
        let h = huawei();
        let ttl = SignedDuration::try_from(h.token_ttl).expect("fits");
        assert_eq!(lifetime(&h, None).expect("default"), ttl);
        assert_eq!(
            lifetime(&h, Some(900)).expect("minimum"),
            ttl.min(SignedDuration::from_secs(900))
        );
        assert!(lifetime(&h, Some(899)).is_err());
        assert!(lifetime(&h, Some(86_401)).is_err());
    }

    #[test]
    fn only_the_trusted_account_and_only_before_expiry() {
        let mut store = AgencyStore::new(Duration::ZERO);
        let now = Timestamp::now();
        let record = store
            .create(
                "a".to_string(),
                trust("mine"),
                String::new(),
                StoredDuration::Days(1),
                (Instant::now(), now),
            )
            .expect("created")
            .clone();
        assert_eq!(check_trust(&record, "mine", now), Ok(()));
        assert!(matches!(
            check_trust(&record, "theirs", now),
            Err(AgencyError::Forbidden(_))
        ));
        let later = now + SignedDuration::from_hours(25);
        assert!(matches!(
            check_trust(&record, "mine", later),
            Err(AgencyError::Forbidden(m)) if m.contains("expired")
        ));
    }

    #[test]
    fn a_project_token_lists_project_and_all_projects_grants() {
        let mut store = AgencyStore::new(Duration::ZERO);
        let record = store
            .create(
                "a".to_string(),
                trust("d"),
                String::new(),
                StoredDuration::Unset,
                (Instant::now(), Timestamp::now()),
            )
            .expect("created")
            .clone();
        let (cbr, readonly, secu) = (
            catalog::ROLES[3].id,
            catalog::ROLES[0].id,
            catalog::ROLES[2].id,
        );
        let grant = |store: &mut AgencyStore, scope, role| {
            store.grant(&record.id, scope, role).expect("granted");
        };
        grant(&mut store, GrantScope::Project("p".to_string()), cbr);
        grant(
            &mut store,
            GrantScope::AllProjects("d".to_string()),
            readonly,
        );
        grant(&mut store, GrantScope::Domain("d".to_string()), secu);
        let names = |scope: &Scope| -> Vec<String> {
            granted_roles(&store, &record, scope, "d")
                .as_array()
                .expect("array")
                .iter()
                .map(|r| r["name"].as_str().expect("name").to_string())
                .collect()
        };
        let mut project = names(&Scope::Project("p".to_string()));
        project.sort();
        assert_eq!(project, ["readonly", "system_all_1001"]);
        assert_eq!(names(&Scope::Domain("d".to_string())), ["secu_admin"]);
    }
}
