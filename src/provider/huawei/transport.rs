//! One HTTP round trip to a Huawei service: the shared provider HTTP client
//! ([`crate::provider::tls`]: timeouts, the extra CAs), auth headers marked sensitive
//! so they never show in `Debug` output, request-id logging, a metric for
//! every call whatever its outcome, and failures mapped to [`ProviderError`].

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use jiff::Timestamp;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::errors::{FailedResponse, config_error, parse_retry_after};
use crate::provider::budget::{BudgetLimits, BudgetMetrics, RateBudget};
use crate::provider::metrics::{CallKind, ProviderMetrics};
use crate::provider::tls::{self, REQUEST_TIMEOUT};
use crate::provider::{ProviderError, body};

/// The header Huawei puts the request id in; support asks for it.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// Which Huawei service a call goes to; a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Cbr,
    Iam,
}

impl Service {
    pub fn label(self) -> &'static str {
        match self {
            Service::Cbr => "cbr",
            Service::Iam => "iam",
        }
    }
}

/// One HTTP request, fully built except for authentication.
#[derive(Clone)]
pub struct Request {
    pub service: Service,
    /// Metric label: what the call does, e.g. `get_vault`.
    pub operation: &'static str,
    /// What the call is about, for "not found" errors, e.g. `vault 2402…`.
    pub what: String,
    pub method: Method,
    /// Built with [`super::endpoint::build_url`]; its query is the canonical one.
    pub url: Url,
    /// The decoded query pairs, for signing.
    pub query: Vec<(String, String)>,
    /// Headers in send order; auth headers are added last.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

// Written by hand: once authorized, the headers hold a token or signature,
// and the body of a token request holds the password.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let secret = is_secret_header(&n.to_ascii_lowercase());
                (n.as_str(), if secret { "<redacted>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish_non_exhaustive()
    }
}

/// A 2xx response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A failed call. The status is kept for the one decision the caller makes
/// on it: retry once with a new token after a 401.
#[derive(Debug)]
pub struct Failure {
    pub status: Option<u16>,
    pub error: ProviderError,
}

impl From<Failure> for ProviderError {
    fn from(f: Failure) -> Self {
        f.error
    }
}

/// The reqwest client, the metrics every call is counted in, and the rate
/// budget every call waits for.
#[derive(Clone, Debug)]
pub struct Transport {
    http: reqwest::Client,
    metrics: Arc<ProviderMetrics>,
    budget: Arc<RateBudget>,
}

/// A budget that never waits, for clients built outside a ProviderConfig.
pub fn unlimited() -> Arc<RateBudget> {
    Arc::new(RateBudget::new(
        "unlimited",
        BudgetLimits::UNLIMITED,
        BudgetMetrics::default(),
    ))
}

impl Transport {
    pub fn new(
        ca_bundle: Option<&str>,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        let http = tls::http_client(ca_bundle)?;
        Ok(Self {
            http,
            metrics,
            budget,
        })
    }

    /// Sends `req`, maps a non-2xx answer with `map_error`, decodes a 2xx
    /// answer with `decode`, and counts the call with its final result, so a
    /// 2xx that cannot be read counts as the failure it is.
    pub async fn send<T>(
        &self,
        req: &Request,
        map_error: fn(&FailedResponse<'_>) -> ProviderError,
        decode: impl FnOnce(&Response) -> Result<T, ProviderError>,
    ) -> Result<T, Failure> {
        let _permit = self.budget.acquire().await.map_err(|error| Failure {
            status: None,
            error,
        })?;
        let started = Instant::now();
        let outcome = match self.exchange(req).await {
            Ok(resp) if (200..300).contains(&resp.status) => {
                decode(&resp).map_err(|error| Failure {
                    status: Some(resp.status),
                    error,
                })
            }
            Ok(resp) => {
                let body = String::from_utf8_lossy(&resp.body);
                let failed = FailedResponse {
                    status: resp.status,
                    body: &body,
                    retry_after: header(&resp.headers, "retry-after")
                        .and_then(|v| parse_retry_after(v, Timestamp::now())),
                    request_id: header(&resp.headers, REQUEST_ID_HEADER),
                    what: &req.what,
                };
                Err(Failure {
                    status: Some(resp.status),
                    error: map_error(&failed),
                })
            }
            Err(error) => Err(Failure {
                status: None,
                error,
            }),
        };
        if let Err(Failure { error, .. }) = &outcome
            && let Some(after) = error.retry_after()
        {
            // The account is throttled, not this object: hold every call back.
            self.budget.hold_off(after);
        }
        let elapsed = started.elapsed();
        let kind = CallKind {
            provider: "huawei",
            service: req.service.label(),
            operation: req.operation,
        };
        self.metrics.observe(
            kind,
            outcome.as_ref().map(|_| ()).map_err(|f| &f.error),
            elapsed,
        );
        outcome
    }

    /// One round trip; only transport failures are errors here.
    async fn exchange(&self, req: &Request) -> Result<Response, ProviderError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| config_error(format!("bad header name {name:?}: {e}")))?;
            // The value is not echoed: it may be a token or a signature.
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| config_error(format!("the value of header {name} is not valid")))?;
            value.set_sensitive(is_secret_header(name.as_str()));
            headers.insert(name, value);
        }
        let mut builder = self
            .http
            .request(req.method.clone(), req.url.clone())
            .headers(headers);
        if !req.body.is_empty() {
            builder = builder.body(req.body.clone());
        }
        let started = Instant::now();
        let resp = builder.send().await.map_err(|e| transport_error(req, &e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = body::read_limited(resp, body::MAX_BODY)
            .await
            .map_err(|e| unreadable_body(req, &e))?;
        let request_id = header(&headers, REQUEST_ID_HEADER).unwrap_or("-");
        tracing::debug!(
            service = req.service.label(),
            operation = req.operation,
            method = %req.method,
            path = req.url.path(),
            status,
            request_id,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "provider call"
        );
        if !(200..300).contains(&status) {
            tracing::info!(
                service = req.service.label(),
                operation = req.operation,
                status,
                request_id,
                "provider call failed"
            );
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

/// Headers whose values are credentials or derived from them.
fn is_secret_header(name: &str) -> bool {
    matches!(name, "authorization" | "x-auth-token" | "x-security-token")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// An answer too big to read, or one that broke off while it was read.
fn unreadable_body(req: &Request, err: &body::BodyError) -> ProviderError {
    match err {
        body::BodyError::Read(e) => transport_error(req, e),
        too_large => ProviderError::Transient {
            message: format!("{} {}: {too_large}", req.method, req.url.path()),
        },
    }
}

/// A TLS failure as what it is; any other connection failure or timeout as
/// transient, with the cause chain but no headers.
fn transport_error(req: &Request, err: &reqwest::Error) -> ProviderError {
    if let Some(tls) = tls::classify(err) {
        tracing::info!(
            service = req.service.label(),
            operation = req.operation,
            error = %tls,
            "provider call failed"
        );
        return tls;
    }
    let mut message = if err.is_timeout() {
        format!(
            "{} {} timed out after {}s",
            req.method,
            req.url.path(),
            REQUEST_TIMEOUT.as_secs()
        )
    } else {
        format!("{} {} failed", req.method, req.url.path())
    };
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::info!(
        service = req.service.label(),
        operation = req.operation,
        error = %message,
        "provider call failed"
    );
    ProviderError::Transient { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_debug_hides_auth_headers_and_body() {
        let req = Request {
            service: Service::Iam,
            operation: "create_token",
            what: "token".into(),
            method: Method::POST,
            url: Url::parse("https://iam.example.com/v3/auth/tokens").unwrap(),
            query: vec![],
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Auth-Token".into(), "MIITOKEN".into()),
                (
                    "Authorization".into(),
                    "SDK-HMAC-SHA256 Signature=abc".into(),
                ),
            ],
            body: br#"{"password":"hunter2"}"#.to_vec(),
        };
        let printed = format!("{req:?}");
        for secret in ["MIITOKEN", "Signature=abc", "hunter2"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("application/json"));
    }

    #[test]
    fn ca_bundle_without_certificates_is_rejected() {
        let err = Transport::new(
            Some("not a pem"),
            Arc::new(ProviderMetrics::new()),
            unlimited(),
        )
        .expect_err("rejected");
        assert_eq!(err.reason(), "CaBundleInvalid");
    }
}
