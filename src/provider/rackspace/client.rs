//! Identity v2.0 tokens, the Cloud Backup endpoint from the service catalog,
//! one authorized round trip with the rate budget and metrics, and Rackspace
//! faults (`{"message","errors"}`) mapped to [`ProviderError`]. The token is
//! renewed before it expires (there is no refresh token) and once after a 401.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use reqwest::header::HeaderMap;
use url::Url;

use super::wire::{
    ApiKeyCredentials, Fault, PasswordCredentials, TokenAuth, TokenRequest, TokenResponse,
};
use crate::provider::budget::RateBudget;
use crate::provider::endpoints::EndpointPolicy;
use crate::provider::metrics::{CallKind, ProviderMetrics};
use crate::provider::{ProviderError, body, tls};
/// A token this close to its expiry is renewed before use.
const RENEW_BEFORE: SignedDuration = SignedDuration::from_mins(5);
/// The catalog type of Cloud Backup.
pub const BACKUP_SERVICE_TYPE: &str = "rax:backup";
/// JSON Patch, which agent updates must carry.
pub const JSON_PATCH: &str = "application/json-patch+json";

/// The user's secret: an API key (preferred) or the account password.
#[derive(Clone)]
pub enum RackspaceSecret {
    ApiKey(String),
    Password(String),
}

// Written by hand: never print the secret.
impl std::fmt::Debug for RackspaceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Self::Password(_) => f.write_str("Password(<redacted>)"),
        }
    }
}

/// Where the account is and how to sign in.
#[derive(Clone, Debug)]
pub struct RackspaceConnection {
    /// Identity v2.0 base, e.g. `https://identity.api.rackspacecloud.com/v2.0`.
    pub identity_endpoint: String,
    /// The catalog region of Cloud Backup, e.g. `DFW`.
    pub region: String,
    pub username: String,
    pub secret: RackspaceSecret,
    /// PEM of CAs to trust besides the system roots, for Identity and the
    /// Cloud Backup URLs its catalog hands out alike.
    pub ca_bundle: Option<String>,
    /// Where coffer may send requests: Identity's catalog hands out the
    /// Cloud Backup URL, which gets the token, so it is checked too.
    pub allowed: EndpointPolicy,
}

/// A token and the Cloud Backup base URL the catalog gave with it.
#[derive(Clone)]
struct Session {
    token: String,
    expires: Timestamp,
    /// `https://dfw.backup.api.rackspacecloud.com/v2/{tenant}`, no trailing slash.
    backup_url: String,
}

/// A 2xx answer.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One call to Cloud Backup, before authorization.
pub struct Call<'a> {
    /// Metric label, e.g. `get_agent`.
    pub operation: &'static str,
    /// For "not found" messages, e.g. `agent 8f13…`.
    pub what: String,
    pub method: Method,
    /// Under the catalog URL, starting with `/`.
    pub path: String,
    pub query: &'a [(&'a str, String)],
    /// Content type and bytes.
    pub body: Option<(&'static str, Vec<u8>)>,
}

/// The authorized HTTP client of one ProviderConfig.
pub struct Client {
    http: reqwest::Client,
    conn: RackspaceConnection,
    session: tokio::sync::Mutex<Option<Session>>,
    metrics: Arc<ProviderMetrics>,
    budget: Arc<RateBudget>,
}

impl Client {
    pub fn new(
        conn: RackspaceConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        let http = tls::http_client(conn.ca_bundle.as_deref())?;
        Ok(Self {
            http,
            conn,
            session: tokio::sync::Mutex::new(None),
            metrics,
            budget,
        })
    }

    /// Sends `call` with a valid token; after a 401, once more with a new one.
    pub async fn send(&self, call: &Call<'_>) -> Result<Answer, ProviderError> {
        let session = self.session(false).await?;
        match self.send_with(&session, call).await {
            Err((Some(401), _)) => {
                let session = self.session(true).await?;
                self.send_with(&session, call).await.map_err(|(_, e)| e)
            }
            other => other.map_err(|(_, e)| e),
        }
    }

    async fn send_with(
        &self,
        session: &Session,
        call: &Call<'_>,
    ) -> Result<Answer, (Option<u16>, ProviderError)> {
        let mut url = Url::parse(&format!("{}{}", session.backup_url, call.path))
            .map_err(|e| (None, config(format!("bad Cloud Backup URL: {e}"))))?;
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        let mut builder = self
            .http
            .request(call.method.clone(), url)
            .header("X-Auth-Token", sensitive(&session.token))
            .header("Accept", "application/json");
        if let Some((content_type, body)) = &call.body {
            builder = builder
                .header("Content-Type", *content_type)
                .body(body.clone());
        }
        self.round_trip("backup", call.operation, &call.what, builder)
            .await
    }

    /// The current session, renewed when close to expiry or when `force`d.
    async fn session(&self, force: bool) -> Result<Session, ProviderError> {
        let mut held = self.session.lock().await;
        if let Some(session) = held.as_ref()
            && !force
            && Timestamp::now() + RENEW_BEFORE < session.expires
        {
            return Ok(session.clone());
        }
        let session = self.authenticate().await?;
        *held = Some(session.clone());
        Ok(session)
    }

    /// `POST {identity}/tokens`, then the `rax:backup` endpoint of the region.
    async fn authenticate(&self) -> Result<Session, ProviderError> {
        let username = self.conn.username.clone();
        let auth = match &self.conn.secret {
            RackspaceSecret::ApiKey(api_key) => TokenAuth {
                api_key: Some(ApiKeyCredentials {
                    username,
                    api_key: api_key.clone(),
                }),
                password: None,
            },
            RackspaceSecret::Password(password) => TokenAuth {
                api_key: None,
                password: Some(PasswordCredentials {
                    username,
                    password: password.clone(),
                }),
            },
        };
        let body = serde_json::to_vec(&TokenRequest { auth })
            .map_err(|e| config(format!("cannot encode the token request: {e}")))?;
        let url = format!(
            "{}/tokens",
            self.conn.identity_endpoint.trim_end_matches('/')
        );
        let builder = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body);
        let answer = self
            .round_trip("identity", "create_token", "token", builder)
            .await
            .map_err(|(_, e)| e)?;
        let response: TokenResponse =
            serde_json::from_slice(&answer.body).map_err(|e| ProviderError::Transient {
                message: format!("could not read the Identity token response: {e}"),
            })?;
        let expires: Timestamp =
            response
                .access
                .token
                .expires
                .parse()
                .map_err(|e| ProviderError::Transient {
                    message: format!("the token's expiry is not a timestamp: {e}"),
                })?;
        let endpoint = response
            .access
            .service_catalog
            .iter()
            .filter(|entry| entry.type_ == BACKUP_SERVICE_TYPE)
            .flat_map(|entry| entry.endpoints.iter())
            .find(|e| {
                e.region
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(&self.conn.region))
            })
            .ok_or_else(|| ProviderError::Invalid {
                code: "NoBackupEndpoint".into(),
                message: format!(
                    "the service catalog has no {BACKUP_SERVICE_TYPE} endpoint in region {}; check rackspace.region",
                    self.conn.region
                ),
            })?;
        // The catalog chose this URL, not the ProviderConfig: the admin's
        // list decides whether the token may go there.
        self.conn
            .allowed
            .check(&endpoint.public_url)
            .map_err(ProviderError::EndpointNotAllowed)?;
        Ok(Session {
            token: response.access.token.id,
            expires,
            backup_url: endpoint.public_url.trim_end_matches('/').to_string(),
        })
    }

    /// One request with the budget, a metric, and the failure mapped.
    async fn round_trip(
        &self,
        service: &'static str,
        operation: &'static str,
        what: &str,
        builder: reqwest::RequestBuilder,
    ) -> Result<Answer, (Option<u16>, ProviderError)> {
        let _permit = self.budget.acquire().await.map_err(|e| (None, e))?;
        let started = Instant::now();
        let outcome = match builder.send().await {
            Err(e) => Err((
                None,
                tls::classify(&e).unwrap_or_else(|| ProviderError::Transient {
                    message: format!("{operation} failed: {}", chain(&e)),
                }),
            )),
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                match body::read_limited(resp, body::MAX_BODY).await {
                    Err(e) => Err((
                        Some(status),
                        ProviderError::Transient {
                            message: format!("{operation}: {}", chain(&e)),
                        },
                    )),
                    Ok(body) if (200..300).contains(&status) => Ok(Answer {
                        status,
                        headers,
                        body,
                    }),
                    Ok(body) => Err((Some(status), map_fault(status, &headers, &body, what))),
                }
            }
        };
        if let Err((status, error)) = &outcome {
            tracing::info!(service, operation, status, error = %error, "provider call failed");
            if let Some(after) = error.retry_after() {
                self.budget.hold_off(after);
            }
        }
        let kind = CallKind {
            provider: "rackspace",
            service,
            operation,
        };
        self.metrics.observe(
            kind,
            outcome.as_ref().map(|_| ()).map_err(|(_, e)| e),
            started.elapsed(),
        );
        outcome
    }
}

/// A Rackspace fault as the typed error: 403 is the API refusing the
/// request as it stands (terminal, with its own sentence); 503 with
/// `Retry-After` is back-pressure.
pub fn map_fault(status: u16, headers: &HeaderMap, body: &[u8], what: &str) -> ProviderError {
    let fault: Fault = serde_json::from_slice(body).unwrap_or_else(|_| Fault {
        message: String::from_utf8_lossy(body).chars().take(300).collect(),
        errors: Vec::new(),
    });
    let mut message = fault.message.clone();
    for error in &fault.errors {
        message.push_str("; ");
        message.push_str(error);
    }
    let retry_after = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let code = status.to_string();
    match status {
        401 => ProviderError::Unauthorized { code, message },
        404 => ProviderError::NotFound {
            what: what.to_string(),
            message,
        },
        409 => ProviderError::Conflict { message },
        429 => ProviderError::Throttled {
            code,
            message,
            retry_after,
        },
        503 if retry_after.is_some() => ProviderError::Throttled {
            code,
            message,
            retry_after,
        },
        500..=599 => ProviderError::Transient {
            message: format!("{status}: {message}"),
        },
        _ => ProviderError::Invalid { code, message },
    }
}

/// The id at the end of a `Location` (the docs' example uses the singular
/// `vault-encryption-request/`, so only the last segment counts).
pub fn id_from_location(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next().unwrap_or(location);
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

fn sensitive(token: &str) -> reqwest::header::HeaderValue {
    let mut value = reqwest::header::HeaderValue::from_str(token)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("invalid"));
    value.set_sensitive(true);
    value
}

fn config(message: String) -> ProviderError {
    ProviderError::Invalid {
        code: "InvalidProviderConfig".into(),
        message,
    }
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_id_is_the_last_segment_of_the_location() {
        let id = id_from_location(
            "https://dfw.backup.api.rackspacecloud.com/v2/1100/agents/a/vault-encryption-request/9072bb51",
        );
        assert_eq!(id.as_deref(), Some("9072bb51"));
        assert_eq!(id_from_location("/x/y/").as_deref(), Some("y"));
    }

    #[test]
    fn a_403_keeps_the_apis_sentence_and_is_terminal() {
        let body = br#"{"message":"An old password was supplied, but the vault is unencrypted"}"#;
        let e = map_fault(403, &HeaderMap::new(), body, "agent a");
        assert!(!e.is_retryable());
        assert!(
            e.to_string().contains("but the vault is unencrypted"),
            "{e}"
        );
    }

    #[test]
    fn a_503_with_retry_after_is_throttling() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "7".parse().expect("value"));
        let e = map_fault(503, &headers, b"{}", "agent a");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(matches!(
            map_fault(503, &HeaderMap::new(), b"", "x"),
            ProviderError::Transient { .. }
        ));
    }
}
