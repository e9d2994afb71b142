//! IAM's `POST /v3/auth/tokens` with the password method: checks the one
//! configured user and answers 201 with the token in `X-Subject-Token` and
//! the documented body, so clients exercise their real token flow. The
//! `assume_role` method (agency tokens) is handed to [`super::assume_role`];
//! both read the body with [`super::iam_request`] and answer with
//! [`super::token_answer`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::assume_role;
use super::auth::RequestView;
use super::error::IamError;
use super::iam_request::{Auth, AuthBody, resolve_scope};
use super::identity::Identity;
use super::state::HuaweiState;
use super::token::{Scope, TokenClaims};
use super::token_answer::{token_body, token_response};
use crate::emulator::observe::RequestId;

/// `POST /v3/auth/tokens[?nocatalog=true]`
pub async fn create_token(
    axum::extract::State(huawei): axum::extract::State<Arc<HuaweiState>>,
    request_id: Option<axum::Extension<RequestId>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let identity = &huawei.identity;
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
        return assume_role::create_agency_token(&huawei, &body.auth, &req, &request_id);
    }
    let scope = match authenticate(identity, &body.auth) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    let issued_at = Timestamp::now();
    let Ok(expires_at) = issued_at.checked_add(huawei.token_ttl) else {
        return IamError::InvalidBody("token TTL out of range".to_string()).into_response();
    };
    let claims = TokenClaims {
        scope,
        issued_at,
        expires_at,
        agency: None,
    };
    let body = token_body(identity, &claims);
    token_response(&huawei, &req, &claims, body)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn identity() -> Identity {
        Identity::from_settings(&crate::emulator::huawei::settings::HuaweiSettings::default())
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
}
