//! One authorized round trip to a Command Center: the base URL, the
//! `Authtoken` header (a `QSDK ` token from `POST Login`), renewal that is
//! single-flight (one renewal shared by every caller refused with the same
//! token) and happens on a 401 and before the 30-minute idle expiry, the
//! rate budget, a metric per call, and every failure mapped to
//! [`ProviderError`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use tokio::sync::Mutex;
use url::Url;

use super::errors;
use super::session::{self, Need, Token};
use super::wire::{LoginRequest, LoginResponse, RenewRequest, RenewResponse};
use crate::provider::budget::RateBudget;
use crate::provider::metrics::{CallKind, ProviderMetrics};
use crate::provider::{ProviderError, body, tls};
/// What coffer calls itself in `deviceId`.
const DEVICE_ID: &str = "coffer";

/// Where a Command Center is and who signs in.
#[derive(Clone)]
pub struct CommvaultConnection {
    /// The API base, e.g. `https://cc.example.com/commandcenter/api`.
    pub api_url: String,
    pub username: String,
    pub password: String,
    pub ca_bundle: Option<String>,
}

// Written by hand: the password must never reach a log line.
impl std::fmt::Debug for CommvaultConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommvaultConnection")
            .field("api_url", &self.api_url)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A 2xx answer.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// One call: metric label, method, path under the base, body, and what it
/// is about (for "not found" messages).
pub struct Call<'a> {
    pub operation: &'static str,
    pub method: Method,
    pub path: &'a str,
    pub body: Option<Vec<u8>>,
    pub what: String,
}

/// The HTTP client and the session token of one ProviderConfig.
pub struct CommvaultClient {
    http: reqwest::Client,
    base: Url,
    conn: CommvaultConnection,
    token: Mutex<Option<Token>>,
    metrics: Arc<ProviderMetrics>,
    budget: Arc<RateBudget>,
}

impl CommvaultClient {
    pub fn new(
        conn: CommvaultConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        let invalid = |message: String| ProviderError::Invalid {
            code: "InvalidProviderConfig".into(),
            message,
        };
        // A base without its trailing `/` would lose its last segment on join.
        let mut base = conn.api_url.trim().to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        let base = Url::parse(&base)
            .map_err(|e| invalid(format!("commvault.apiUrl {base:?} is not a URL: {e}")))?;
        let http = tls::http_client(conn.ca_bundle.as_deref())?;
        Ok(Self {
            http,
            base,
            conn,
            token: Mutex::new(None),
            metrics,
            budget,
        })
    }

    /// `call` with a valid token; once more with a renewed one after a 401.
    pub async fn authorized(&self, call: &Call<'_>) -> Result<Answer, ProviderError> {
        let token = self.usable_token().await?;
        match self.send(call, Some(&token)).await {
            Err((Some(StatusCode::UNAUTHORIZED), _)) => {}
            other => return other.map_err(|(_, e)| e),
        }
        let token = self.renewed_after(&token).await?;
        self.send(call, Some(&token)).await.map_err(|(_, e)| e)
    }

    /// Logs out, so the token cannot be used again.
    pub async fn logout(&self) -> Result<(), ProviderError> {
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.take() {
            let call = self.post("logout", "Logout", &serde_json::json!({}))?;
            self.send(&call, Some(&token.value))
                .await
                .map_err(|(_, e)| e)?;
        }
        Ok(())
    }

    /// A JSON POST to `path`.
    pub fn post<T: Serialize>(
        &self,
        operation: &'static str,
        path: &'static str,
        body: &T,
    ) -> Result<Call<'static>, ProviderError> {
        let body = serde_json::to_vec(body).map_err(|e| ProviderError::Invalid {
            code: "Serialize".into(),
            message: e.to_string(),
        })?;
        Ok(Call {
            operation,
            method: Method::POST,
            path,
            body: Some(body),
            what: path.to_string(),
        })
    }

    /// The token to send now, logging in or renewing first if needed.
    async fn usable_token(&self) -> Result<String, ProviderError> {
        let mut slot = self.token.lock().await;
        let need = session::before_call(slot.as_ref(), Instant::now());
        self.fulfil(&mut slot, need).await
    }

    /// The token to retry with after `refused` was answered 401.
    async fn renewed_after(&self, refused: &str) -> Result<String, ProviderError> {
        let mut slot = self.token.lock().await;
        let need = session::after_refusal(slot.as_ref(), refused);
        self.fulfil(&mut slot, need).await
    }

    /// Does what `need` says while holding the token lock, so that one
    /// renewal or login serves every waiting caller.
    async fn fulfil(&self, slot: &mut Option<Token>, need: Need) -> Result<String, ProviderError> {
        let value = match need {
            Need::Use(value) => value,
            Need::Renew(old) => match self.renew(&old).await {
                Ok(value) => value,
                // A session Commvault no longer renews: sign in afresh.
                Err(e) if !e.is_retryable() => self.login().await?,
                Err(e) => return Err(e),
            },
            Need::Login => self.login().await?,
        };
        *slot = Some(Token {
            value: value.clone(),
            last_used: Instant::now(),
        });
        Ok(value)
    }

    /// `POST Login`: a token, or the server's refusal (which may come as
    /// HTTP 200 with `errList`).
    async fn login(&self) -> Result<String, ProviderError> {
        let request = LoginRequest {
            username: &self.conn.username,
            password: base64::engine::general_purpose::STANDARD.encode(&self.conn.password),
            device_id: DEVICE_ID,
            mode: 4,
            client_type: 30,
        };
        let call = self.post("login", "Login", &request)?;
        let answer = self.send(&call, None).await.map_err(|(_, e)| e)?;
        let login: LoginResponse =
            serde_json::from_slice(&answer.body).map_err(|e| errors::unreadable("Login", &e))?;
        match (login.token, login.user_name) {
            (Some(token), Some(_)) if !token.is_empty() => Ok(token),
            _ => Err(errors::login_refused(
                &login.err_list,
                login.is_account_locked.unwrap_or(false),
            )),
        }
    }

    /// `POST RenewLoginToken` with the old token as `sessionId`.
    async fn renew(&self, old: &str) -> Result<String, ProviderError> {
        let request = RenewRequest {
            session_id: old,
            device_id: DEVICE_ID,
        };
        let call = self.post("renew_login_token", "RenewLoginToken", &request)?;
        let answer = self.send(&call, Some(old)).await.map_err(|(_, e)| e)?;
        let renewed: RenewResponse = serde_json::from_slice(&answer.body)
            .map_err(|e| errors::unreadable("RenewLoginToken", &e))?;
        renewed
            .token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ProviderError::Unauthorized {
                code: "RenewFailed".into(),
                message: "Commvault did not renew the session token".into(),
            })
    }

    /// One round trip, within the rate budget and counted. A failure keeps
    /// its status for the one decision made on it: renew after a 401.
    async fn send(
        &self,
        call: &Call<'_>,
        token: Option<&str>,
    ) -> Result<Answer, (Option<StatusCode>, ProviderError)> {
        let _permit = self.budget.acquire().await.map_err(|e| (None, e))?;
        let started = Instant::now();
        let outcome = self.exchange(call, token).await;
        if let Err((_, error)) = &outcome
            && let Some(after) = error.retry_after()
        {
            self.budget.hold_off(after);
        }
        let kind = CallKind {
            provider: "commvault",
            service: "commandcenter",
            operation: call.operation,
        };
        self.metrics.observe(
            kind,
            outcome.as_ref().map(|_| ()).map_err(|(_, e)| e),
            started.elapsed(),
        );
        outcome
    }

    async fn exchange(
        &self,
        call: &Call<'_>,
        token: Option<&str>,
    ) -> Result<Answer, (Option<StatusCode>, ProviderError)> {
        let url = self.base.join(call.path).map_err(|e| {
            let error = ProviderError::Invalid {
                code: "InvalidPath".into(),
                message: format!("{}: {e}", call.path),
            };
            (None, error)
        })?;
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .header("Accept", "application/json");
        if let Some(token) = token {
            let mut value = reqwest::header::HeaderValue::from_str(token).map_err(|_| {
                let error = ProviderError::Unauthorized {
                    code: "InvalidToken".into(),
                    message: "the session token is not a valid header value".into(),
                };
                (None, error)
            })?;
            value.set_sensitive(true);
            request = request.header("Authtoken", value);
        }
        if let Some(body) = &call.body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        let transient = |e: reqwest::Error| {
            let error = tls::classify(&e).unwrap_or_else(|| ProviderError::Transient {
                message: format!("{} {} failed: {e}", call.method, call.path),
            });
            (None, error)
        };
        let response = request.send().await.map_err(transient)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = body::read_limited(response, body::MAX_BODY)
            .await
            .map_err(|e| {
                let message = format!("{} {}: {e}", call.method, call.path);
                (Some(status), ProviderError::Transient { message })
            })?;
        tracing::debug!(
            operation = call.operation,
            method = %call.method,
            path = call.path,
            status = status.as_u16(),
            "commvault call"
        );
        if status.is_success() {
            return Ok(Answer {
                status: status.as_u16(),
                body,
            });
        }
        let text = String::from_utf8_lossy(&body);
        let error = errors::for_status(status.as_u16(), &text, retry_after, &call.what);
        Err((Some(status), error))
    }
}
