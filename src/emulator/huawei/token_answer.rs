//! IAM's answer to a token request that succeeded, for a password and an
//! agency token alike: 201 with the token in `X-Subject-Token`, the
//! documented body, and the catalog (pointing back at the emulator) unless
//! `nocatalog` is asked for.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::auth::RequestView;
use super::identity::Identity;
use super::state::HuaweiState;
use super::token::{Scope, TokenClaims};
use crate::emulator::query::decode_query_pairs;

/// Issues the token for `claims` and answers 201 with it in
/// `X-Subject-Token` and `body`, plus the catalog unless `nocatalog`.
pub fn token_response(
    huawei: &HuaweiState,
    req: &RequestView<'_>,
    claims: &TokenClaims,
    mut body: Value,
) -> Response {
    let token = huawei.tokens.issue(claims);
    let no_catalog = decode_query_pairs(req.uri.query())
        .iter()
        .any(|(k, v)| k == "nocatalog" && !v.is_empty());
    if !no_catalog {
        let host = req
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        body["token"]["catalog"] = catalog(&huawei.identity, host);
    }
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&token) {
        response.headers_mut().insert("x-subject-token", value);
    }
    response
}

/// The documented token body, without the catalog ([`token_response`] adds
/// it, pointing at the emulator itself).
pub fn token_body(identity: &Identity, claims: &TokenClaims) -> Value {
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

    #[test]
    fn token_times_have_microseconds_and_z() {
        let ts: Timestamp = "2024-01-01T00:00:00.5Z".parse().expect("valid");
        assert_eq!(iam_time(ts), "2024-01-01T00:00:00.500000Z");
    }
}
