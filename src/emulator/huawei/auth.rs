//! Authentication of CBR calls, as Huawei's API gateway does it: an IAM token
//! in `X-Auth-Token`, or an `SDK-HMAC-SHA256` signature recomputed with the
//! shared signer over exactly the headers the client says it signed.

use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::error::{CbrError, GatewayError};
use super::identity::Identity;
use super::token::{Scope, TokenIssuer};
use crate::emulator::query::decode_query_pairs;
use crate::provider::huawei::signer::{
    self, MAX_CLOCK_SKEW_SECS, SignableRequest, expected_signature, hex_sha256,
    parse_authorization, parse_sdk_date,
};

const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
const PROJECT_HEADER: &str = "x-project-id";

/// The parts of a request that authentication reads.
pub struct RequestView<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Why a call was refused before it reached CBR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// The gateway could not authenticate the caller (401).
    Gateway(GatewayError),
    /// Authenticated, but for another project than the path's (403).
    Project(CbrError),
}

impl AuthFailure {
    pub fn into_response_with_id(self, request_id: &str) -> Response {
        match self {
            AuthFailure::Gateway(e) => e.into_response_with_id(request_id),
            AuthFailure::Project(e) => e.into_response(),
        }
    }
}

fn unauthorized(message: impl Into<String>) -> AuthFailure {
    AuthFailure::Gateway(GatewayError::Unauthorized(message.into()))
}

/// Admits a CBR call made with a project-scoped token or a valid signature
/// for the configured project, and only for that project's paths.
pub fn authenticate(
    identity: &Identity,
    tokens: &TokenIssuer,
    req: &RequestView<'_>,
    now: Timestamp,
) -> Result<(), AuthFailure> {
    let credential_project = if let Some(token) = req.headers.get("x-auth-token") {
        token_project(tokens, token.to_str().unwrap_or(""), now)?
    } else if let Some(authorization) = req.headers.get("authorization") {
        verify_signature(identity, authorization.to_str().unwrap_or(""), req, now)?
    } else {
        return Err(unauthorized("x-auth-token not found"));
    };
    let path_project = req.uri.path().split('/').nth(2).unwrap_or("");
    for project in [credential_project.as_str(), path_project] {
        if project != identity.project_id {
            return Err(AuthFailure::Project(CbrError::ProjectMismatch(
                project.to_string(),
            )));
        }
    }
    Ok(())
}

/// The project a valid token is scoped to.
fn token_project(tokens: &TokenIssuer, token: &str, now: Timestamp) -> Result<String, AuthFailure> {
    let claims = tokens
        .verify(token, now)
        .map_err(|e| unauthorized(e.to_string()))?;
    match claims.scope {
        Scope::Project(project) => Ok(project),
        // A domain-scoped token names no project, so no project path accepts it.
        Scope::Domain(domain) => Err(AuthFailure::Project(CbrError::ProjectMismatch(format!(
            "(domain-scoped token for {domain})"
        )))),
    }
}

/// Verifies an AK/SK signature and returns the project it is for: the
/// signed `X-Project-Id`, or the configured one when the header is absent.
pub(super) fn verify_signature(
    identity: &Identity,
    authorization: &str,
    req: &RequestView<'_>,
    now: Timestamp,
) -> Result<String, AuthFailure> {
    let parsed = parse_authorization(authorization).ok_or_else(|| {
        unauthorized(format!(
            "verify aksk signature fail, Authorization is not \"{} Access=AK, SignedHeaders=h1;h2, Signature=hex\"",
            signer::ALGORITHM
        ))
    })?;
    if parsed.access_key != identity.access_key {
        return Err(unauthorized(format!(
            "Get secretKey failed,ak:{},err:ak not exist",
            parsed.access_key
        )));
    }
    for required in ["host", signer::DATE_HEADER] {
        if !parsed.signed_headers.iter().any(|h| h == required) {
            return Err(unauthorized(format!(
                "verify aksk signature fail, SignedHeaders must include {required}"
            )));
        }
    }
    let date = header_str(req.headers, signer::DATE_HEADER)
        .and_then(parse_sdk_date)
        .ok_or_else(|| {
            unauthorized(
                "verify aksk signature fail, X-Sdk-Date is missing or not YYYYMMDDTHHMMSSZ",
            )
        })?;
    let skew = now.duration_since(date).as_secs().abs();
    if skew > MAX_CLOCK_SKEW_SECS {
        return Err(unauthorized(format!(
            "verify aksk signature fail, signature expired: X-Sdk-Date is {skew}s away from server time (limit {MAX_CLOCK_SKEW_SECS}s)"
        )));
    }
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = decode_query_pairs(req.uri.query());
    let payload_hash = header_str(req.headers, CONTENT_SHA256_HEADER)
        .map(str::to_string)
        .unwrap_or_else(|| hex_sha256(req.body));
    let signable = SignableRequest {
        method: req.method.as_str(),
        path: req.uri.path(),
        query: &query,
        headers: &headers,
        payload_hash,
    };
    let expected = expected_signature(&signable, &parsed, &identity.secret_key);
    if !constant_time_eq(expected.as_bytes(), parsed.signature.as_bytes()) {
        // The gateway logs its canonical request; handing it to the caller
        // is what makes a signing bug debuggable against the emulator.
        let canonical = signable.canonical_request(&parsed.signed_headers);
        return Err(unauthorized(format!(
            "verify aksk signature fail, canonicalRequest: {canonical:?}"
        )));
    }
    Ok(header_str(req.headers, PROJECT_HEADER)
        .unwrap_or(&identity.project_id)
        .to_string())
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::huawei::settings::HuaweiSettings;
    use crate::emulator::huawei::token::TokenClaims;
    use axum::http::HeaderValue;

    struct Fixture {
        identity: Identity,
        tokens: TokenIssuer,
    }

    fn fixture() -> Fixture {
        Fixture {
            identity: Identity::from_settings(&HuaweiSettings::default()),
            tokens: TokenIssuer::default(),
        }
    }

    fn vaults_uri(project: &str) -> Uri {
        format!("/v3/{project}/vaults?limit=10&name=my%20vault")
            .parse()
            .expect("valid uri")
    }

    /// Signs like the SDK: host, content-type, x-project-id and x-sdk-date.
    fn signed_headers(
        f: &Fixture,
        method: &str,
        uri: &Uri,
        payload_hash: String,
        date: Timestamp,
    ) -> HeaderMap {
        let mut pairs = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("host".to_string(), "127.0.0.1:8780".to_string()),
            ("x-project-id".to_string(), f.identity.project_id.clone()),
            ("x-sdk-date".to_string(), signer::sdk_date(date)),
        ];
        let query = decode_query_pairs(uri.query());
        let request = SignableRequest {
            method,
            path: uri.path(),
            query: &query,
            headers: &pairs,
            payload_hash,
        };
        let authorization =
            signer::authorization(&request, &f.identity.access_key, &f.identity.secret_key);
        pairs.push(("authorization".to_string(), authorization));
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(&value).expect("value"),
            );
        }
        headers
    }

    fn check(
        f: &Fixture,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AuthFailure> {
        let view = RequestView {
            method,
            uri,
            headers,
            body,
        };
        authenticate(&f.identity, &f.tokens, &view, Timestamp::now())
    }

    #[test]
    fn accepts_a_request_signed_like_the_sdk() {
        let f = fixture();
        let uri = vaults_uri(&f.identity.project_id);
        let headers = signed_headers(&f, "GET", &uri, hex_sha256(b""), Timestamp::now());
        assert_eq!(check(&f, &Method::GET, &uri, &headers, b""), Ok(()));
    }

    #[test]
    fn refuses_a_tampered_body() {
        let f = fixture();
        let uri = vaults_uri(&f.identity.project_id);
        let headers = signed_headers(&f, "POST", &uri, hex_sha256(b"{\"a\":1}"), Timestamp::now());
        let result = check(&f, &Method::POST, &uri, &headers, b"{\"a\":2}");
        assert!(
            matches!(result, Err(AuthFailure::Gateway(GatewayError::Unauthorized(m))) if m.contains("canonicalRequest"))
        );
    }

    #[test]
    fn unsigned_payload_header_replaces_the_body_hash() {
        let f = fixture();
        let uri = vaults_uri(&f.identity.project_id);
        let unsigned = "UNSIGNED-PAYLOAD".to_string();
        let mut headers = signed_headers(&f, "POST", &uri, unsigned.clone(), Timestamp::now());
        // Without the header the server hashes the body and the check fails;
        // with it, the header's value stands in for the body hash.
        assert!(check(&f, &Method::POST, &uri, &headers, b"anything").is_err());
        headers.insert(
            CONTENT_SHA256_HEADER,
            HeaderValue::from_str(&unsigned).expect("ascii"),
        );
        assert_eq!(
            check(&f, &Method::POST, &uri, &headers, b"anything"),
            Ok(())
        );
    }

    #[test]
    fn refuses_a_date_beyond_the_skew_window() {
        let f = fixture();
        let uri = vaults_uri(&f.identity.project_id);
        let old = Timestamp::now() - jiff::SignedDuration::from_mins(16);
        let headers = signed_headers(&f, "GET", &uri, hex_sha256(b""), old);
        let result = check(&f, &Method::GET, &uri, &headers, b"");
        assert!(
            matches!(result, Err(AuthFailure::Gateway(GatewayError::Unauthorized(m))) if m.contains("signature expired"))
        );
    }

    #[test]
    fn refuses_an_unknown_access_key() {
        let mut f = fixture();
        let uri = vaults_uri(&f.identity.project_id);
        let headers = signed_headers(&f, "GET", &uri, hex_sha256(b""), Timestamp::now());
        f.identity.access_key = "ANOTHERKEY".to_string();
        let result = check(&f, &Method::GET, &uri, &headers, b"");
        assert!(
            matches!(result, Err(AuthFailure::Gateway(GatewayError::Unauthorized(m))) if m.contains("ak not exist"))
        );
    }

    #[test]
    fn refuses_a_path_for_another_project() {
        let f = fixture();
        let uri = vaults_uri("ffffffffffffffffffffffffffffffff");
        let headers = signed_headers(&f, "GET", &uri, hex_sha256(b""), Timestamp::now());
        let result = check(&f, &Method::GET, &uri, &headers, b"");
        assert!(matches!(result, Err(AuthFailure::Project(_))));
    }

    #[test]
    fn token_must_be_project_scoped_to_the_path() {
        let f = fixture();
        let now = Timestamp::now();
        let expires_at = now + jiff::SignedDuration::from_hours(1);
        let token_for = |scope| {
            let mut headers = HeaderMap::new();
            let token = f.tokens.issue(&TokenClaims {
                scope,
                issued_at: now,
                expires_at,
                agency: None,
            });
            headers.insert(
                "x-auth-token",
                HeaderValue::from_str(&token).expect("ascii"),
            );
            headers
        };
        let uri = vaults_uri(&f.identity.project_id);
        let project = token_for(Scope::Project(f.identity.project_id.clone()));
        assert_eq!(check(&f, &Method::GET, &uri, &project, b""), Ok(()));
        let domain = token_for(Scope::Domain(f.identity.domain_id.clone()));
        assert!(matches!(
            check(&f, &Method::GET, &uri, &domain, b""),
            Err(AuthFailure::Project(_))
        ));
    }

    #[test]
    fn no_credentials_is_401() {
        let f = fixture();
        let uri = vaults_uri(&f.identity.project_id);
        let result = check(&f, &Method::GET, &uri, &HeaderMap::new(), b"");
        assert_eq!(result, Err(unauthorized("x-auth-token not found")));
    }
}
