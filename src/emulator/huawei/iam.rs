//! IAM's `POST /v3/auth/tokens` with the password method: checks the one
//! configured user and answers 201 with the token in `X-Subject-Token` and
//! the documented body, so clients exercise their real token flow. The
//! `assume_role` method (agency tokens) is handed to [`super::assume_role`].

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Identity;
use super::assume_role::{self, AssumeRole};
use super::auth::RequestView;
use super::error::IamError;
use super::token::{Scope, TokenClaims};
use crate::emulator::observe::RequestId;
use crate::emulator::query::decode_query_pairs;
use crate::emulator::state::Shared;

#[derive(Deserialize)]
struct AuthBody {
    auth: Auth,
}

#[derive(Deserialize)]
pub(super) struct Auth {
    pub(super) identity: AuthIdentity,
    pub(super) scope: Option<AuthScope>,
}

#[derive(Deserialize)]
pub(super) struct AuthIdentity {
    methods: Vec<String>,
    password: Option<PasswordIdentity>,
    pub(super) assume_role: Option<AssumeRole>,
}

#[derive(Deserialize)]
struct PasswordIdentity {
    user: PasswordUser,
}

#[derive(Deserialize)]
struct PasswordUser {
    id: Option<String>,
    name: Option<String>,
    password: String,
    domain: Option<NameOrId>,
}

#[derive(Deserialize)]
pub(super) struct AuthScope {
    project: Option<NameOrId>,
    domain: Option<NameOrId>,
}

#[derive(Deserialize)]
pub(super) struct NameOrId {
    id: Option<String>,
    name: Option<String>,
}

impl NameOrId {
    fn matches(&self, id: &str, name: &str) -> bool {
        match (&self.id, &self.name) {
            (Some(given), _) => given == id,
            (None, Some(given)) => given == name,
            (None, None) => false,
        }
    }

    fn describe(&self) -> String {
        self.id
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or("(empty)")
            .to_string()
    }
}

/// `POST /v3/auth/tokens[?nocatalog=true]`
pub async fn create_token(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request_id: Option<axum::Extension<RequestId>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let identity = &shared.huawei.identity;
    let body: AuthBody = match serde_json::from_slice(&raw) {
        Ok(body) => body,
        Err(e) => return IamError::InvalidBody(e.to_string()).into_response(),
    };
    let req = RequestView {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &raw,
    };
    if body
        .auth
        .identity
        .methods
        .iter()
        .any(|m| m == "assume_role")
    {
        let request_id = request_id.map(|id| id.0.0).unwrap_or_default();
        return assume_role::create_agency_token(&shared, &body.auth, &req, &request_id);
    }
    let scope = match authenticate(identity, &body.auth) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    let issued_at = Timestamp::now();
    let Ok(expires_at) = issued_at.checked_add(shared.huawei.token_ttl) else {
        return IamError::InvalidBody("token TTL out of range".to_string()).into_response();
    };
    let claims = TokenClaims {
        scope,
        issued_at,
        expires_at,
        agency: None,
    };
    let body = token_body(identity, &claims);
    token_response(&shared, &req, &claims, body)
}

/// Issues the token for `claims` and answers 201 with it in
/// `X-Subject-Token` and `body`, plus the catalog unless `nocatalog`.
pub(super) fn token_response(
    shared: &Shared,
    req: &RequestView<'_>,
    claims: &TokenClaims,
    mut body: Value,
) -> Response {
    let token = shared.huawei.tokens.issue(claims);
    let no_catalog = decode_query_pairs(req.uri.query())
        .iter()
        .any(|(k, v)| k == "nocatalog" && !v.is_empty());
    if !no_catalog {
        let host = req
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        body["token"]["catalog"] = catalog(&shared.huawei.identity, host);
    }
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}

/// Checks the password identity and resolves the requested scope.
fn authenticate(identity: &Identity, auth: &Auth) -> Result<Scope, IamError> {
    if !auth.identity.methods.iter().any(|m| m == "password") {
        return Err(IamError::InvalidBody(format!(
            "identity.methods {:?} is not supported by the emulator; use [\"password\"]",
            auth.identity.methods
        )));
    }
    let user = &auth
        .identity
        .password
        .as_ref()
        .ok_or_else(|| IamError::InvalidBody("identity.password is required".to_string()))?
        .user;
    let known_user = match (&user.id, &user.name, &user.domain) {
        (Some(id), _, _) => *id == identity.user_id,
        (None, Some(name), Some(domain)) => {
            *name == identity.username && domain.matches(&identity.domain_id, &identity.domain_name)
        }
        (None, Some(_), None) => {
            return Err(IamError::InvalidBody(
                "password.user.domain is required with a user name".to_string(),
            ));
        }
        (None, None, _) => {
            return Err(IamError::InvalidBody(
                "password.user needs an id or a name".to_string(),
            ));
        }
    };
    if !known_user || user.password != identity.password {
        return Err(IamError::WrongCredentials);
    }
    resolve_scope(identity, auth.scope.as_ref())
}

/// The project or domain of the one account that a token asks for.
pub(super) fn resolve_scope(
    identity: &Identity,
    scope: Option<&AuthScope>,
) -> Result<Scope, IamError> {
    let scope = scope.ok_or_else(|| IamError::InvalidBody("auth.scope is required".to_string()))?;
    match (&scope.project, &scope.domain) {
        (Some(project), None) => {
            if project.matches(&identity.project_id, &identity.region) {
                Ok(Scope::Project(identity.project_id.clone()))
            } else {
                Err(IamError::UnknownScope(format!(
                    "project {}",
                    project.describe()
                )))
            }
        }
        (None, Some(domain)) => {
            if domain.matches(&identity.domain_id, &identity.domain_name) {
                Ok(Scope::Domain(identity.domain_id.clone()))
            } else {
                Err(IamError::UnknownScope(format!(
                    "domain {}",
                    domain.describe()
                )))
            }
        }
        _ => Err(IamError::InvalidBody(
            "auth.scope needs exactly one of project or domain".to_string(),
        )),
    }
}

/// The documented token body, without the catalog ([`token_response`] adds
/// it, pointing at the emulator itself).
pub(super) fn token_body(identity: &Identity, claims: &TokenClaims) -> Value {
    let domain = json!({"id": identity.domain_id, "name": identity.domain_name});
    let mut token = json!({
        "expires_at": iam_time(claims.expires_at),
        "issued_at": iam_time(claims.issued_at),
        "methods": ["password"],
        "roles": [{"id": "0", "name": "te_admin"}, {"id": "0", "name": "op_service"}],
        "user": {
            "domain": domain,
            "id": identity.user_id,
            "name": identity.username,
            "password_expires_at": "",
        },
    });
    match &claims.scope {
        Scope::Project(id) => {
            token["project"] = json!({"domain": domain, "id": id, "name": identity.region});
        }
        Scope::Domain(_) => token["domain"] = domain.clone(),
    }
    json!({ "token": token })
}

fn catalog(identity: &Identity, host: &str) -> Value {
    let endpoint = |url: String| {
        json!([{
            "id": uuid::Uuid::new_v4().simple().to_string(),
            "interface": "public",
            "region": identity.region,
            "region_id": identity.region,
            "url": url,
        }])
    };
    json!([
        {
            "endpoints": endpoint(format!("http://{host}/v3")),
            "id": uuid::Uuid::new_v4().simple().to_string(),
            "name": "iam",
            "type": "identity",
        },
        {
            "endpoints": endpoint(format!("http://{host}/v3/{}", identity.project_id)),
            "id": uuid::Uuid::new_v4().simple().to_string(),
            "name": "cbr",
            "type": "cbr",
        },
    ])
}

/// IAM writes token times with microseconds and a `Z`.
fn iam_time(ts: Timestamp) -> String {
    format!(
        "{}.{:06}Z",
        ts.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.subsec_microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity::from_config(&crate::emulator::EmulatorConfig::default())
    }

    fn auth(value: Value) -> Auth {
        serde_json::from_value::<AuthBody>(value)
            .expect("valid shape")
            .auth
    }

    fn password_auth(password: &str, scope: Value) -> Auth {
        let id = identity();
        auth(json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": id.username, "password": password, "domain": {"name": id.domain_name}
            }}},
            "scope": scope,
        }}))
    }

    #[test]
    fn project_scope_by_name_is_the_region() {
        let id = identity();
        let scope = authenticate(
            &id,
            &password_auth(&id.password, json!({"project": {"name": id.region}})),
        );
        assert_eq!(scope, Ok(Scope::Project(id.project_id.clone())));
    }

    #[test]
    fn domain_scope_by_id() {
        let id = identity();
        let scope = authenticate(
            &id,
            &password_auth(&id.password, json!({"domain": {"id": id.domain_id}})),
        );
        assert_eq!(scope, Ok(Scope::Domain(id.domain_id.clone())));
    }

    #[test]
    fn wrong_password_is_refused() {
        let id = identity();
        let scope = authenticate(
            &id,
            &password_auth("nope", json!({"project": {"id": id.project_id}})),
        );
        assert_eq!(scope, Err(IamError::WrongCredentials));
    }

    #[test]
    fn unknown_project_is_refused() {
        let id = identity();
        let scope = authenticate(
            &id,
            &password_auth(&id.password, json!({"project": {"id": "other"}})),
        );
        assert!(matches!(scope, Err(IamError::UnknownScope(_))));
    }

    #[test]
    fn token_times_have_microseconds_and_z() {
        let ts: Timestamp = "2024-01-01T00:00:00.5Z".parse().expect("valid");
        assert_eq!(iam_time(ts), "2024-01-01T00:00:00.500000Z");
    }
}
