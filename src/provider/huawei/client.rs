//! HTTP plumbing for Huawei Cloud: where the services are, one `reqwest`
//! client with timeouts and an optional extra CA bundle, URLs whose query
//! string is exactly the one that gets signed, request-id logging, metrics
//! for every call, and the mapping of failures to [`ProviderError`].
//!
//! Authentication lives in `auth.rs`; this module only carries the headers
//! it adds, marked sensitive so that they never show up in `Debug` output.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use jiff::Timestamp;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Certificate, Method};
use url::Url;

use super::auth::{Authenticator, HuaweiCredentials};
use super::errors::{FailedResponse, map_cbr_error, parse_retry_after};
use super::signer;
use crate::provider::ProviderError;
use crate::provider::metrics::{CallKind, ProviderMetrics};

/// How long to wait for a TCP and TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole call may take, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The `Content-Type` the SDK sends (and signs) on every CBR call.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";
/// The header Huawei puts the request id in; support asks for it.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// Where a Huawei Cloud region is and how to sign in to it.
#[derive(Clone)]
pub struct HuaweiConnection {
    pub region: String,
    /// The region's project; CBR paths carry it.
    pub project_id: String,
    /// The account. Not needed for CBR; kept for IAM calls.
    pub domain_id: Option<String>,
    /// IAM base URL, e.g. `https://iam.cn-north-4.myhuaweicloud.com`.
    pub iam_endpoint: String,
    /// CBR base URL, e.g. `https://cbr.cn-north-4.myhuaweicloud.com`, or an
    /// emulator's `http://127.0.0.1:PORT`.
    pub cbr_endpoint: String,
    /// PEM certificates trusted in addition to the system roots.
    pub ca_bundle: Option<String>,
    pub credentials: HuaweiCredentials,
}

impl HuaweiConnection {
    /// `https://{service}.{region}.myhuaweicloud.com`.
    pub fn default_endpoint(service: &str, region: &str) -> String {
        format!("https://{service}.{region}.myhuaweicloud.com")
    }
}

// Written by hand so that a PEM bundle prints as its size, not its text, and
// the credentials print redacted (see `HuaweiCredentials`).
impl std::fmt::Debug for HuaweiConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HuaweiConnection")
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field("domain_id", &self.domain_id)
            .field("iam_endpoint", &self.iam_endpoint)
            .field("cbr_endpoint", &self.cbr_endpoint)
            .field(
                "ca_bundle",
                &self
                    .ca_bundle
                    .as_ref()
                    .map(|p| format!("<{} bytes>", p.len())),
            )
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// Which Huawei service a call goes to; a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    Cbr,
    Iam,
}

impl Service {
    fn label(self) -> &'static str {
        match self {
            Service::Cbr => "cbr",
            Service::Iam => "iam",
        }
    }
}

/// An error in the connection settings themselves: nothing to retry.
pub fn config_error(message: String) -> ProviderError {
    ProviderError::Invalid {
        code: "InvalidProviderConfig".to_string(),
        message,
    }
}

/// Parses and checks a service base URL. A path prefix is kept, so a
/// gateway or emulator may serve the API below a sub-path.
pub fn parse_base_url(what: &str, endpoint: &str) -> Result<Url, ProviderError> {
    let url = Url::parse(endpoint.trim()).map_err(|e| {
        config_error(format!(
            "the {what} endpoint {endpoint:?} is not a URL: {e}"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(config_error(format!(
            "the {what} endpoint {endpoint:?} must be an http(s) URL with a host"
        )));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(config_error(format!(
            "the {what} endpoint {endpoint:?} must not carry a query or user info"
        )));
    }
    Ok(url)
}

/// The URL for `segments` below `base`, each segment percent-encoded, with
/// the query in canonical form: the signature covers exactly this string.
pub fn build_url(base: &Url, segments: &[&str], query: &[(String, String)]) -> Url {
    let mut url = base.clone();
    let mut path = base.path().trim_end_matches('/').to_string();
    for segment in segments {
        path.push('/');
        path.push_str(&signer::encode(segment));
    }
    url.set_path(&path);
    let canonical = signer::canonical_query(query);
    url.set_query((!canonical.is_empty()).then_some(canonical.as_str()));
    url
}

/// The `Host` header value the HTTP stack sends for `url`: the host, plus
/// the port when it is not the scheme's default.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// One HTTP request, fully built except for authentication.
#[derive(Clone, Debug)]
pub struct Request {
    pub service: Service,
    /// Metric label: what the call does, e.g. `get_vault`.
    pub operation: &'static str,
    /// What the call is about, for "not found" errors, e.g. `vault 2402…`.
    pub what: String,
    pub method: Method,
    /// Built with [`build_url`]; its query is the canonical one.
    pub url: Url,
    /// The decoded query pairs, for signing.
    pub query: Vec<(String, String)>,
    /// Headers in send order; auth headers are added last.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
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

/// The reqwest client plus the metrics every call is counted in.
#[derive(Clone, Debug)]
pub struct Transport {
    http: reqwest::Client,
    metrics: Arc<ProviderMetrics>,
}

impl Transport {
    pub fn new(
        ca_bundle: Option<&str>,
        metrics: Arc<ProviderMetrics>,
    ) -> Result<Self, ProviderError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // A redirect would drop or break the signature; a 3xx becomes an
            // error that points at the endpoint instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("coffer/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_bundle.filter(|p| !p.trim().is_empty()) {
            let certs = Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| config_error(format!("the CA bundle is not valid PEM: {e}")))?;
            if certs.is_empty() {
                return Err(config_error(
                    "the CA bundle holds no PEM certificate".to_string(),
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| config_error(format!("could not build the HTTP client: {e}")))?;
        Ok(Self { http, metrics })
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
        let body = resp.bytes().await.map_err(|e| transport_error(req, &e))?;
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

/// One CBR call as the vault code describes it; [`CbrClient`] turns it
/// into a signed or token-carrying [`Request`].
#[derive(Clone, Debug)]
pub struct Call {
    pub operation: &'static str,
    pub what: String,
    pub method: Method,
    /// Path segments below `/v3/{project_id}/`.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Call {
    pub fn new(operation: &'static str, method: Method, what: impl Into<String>) -> Self {
        Self {
            operation,
            what: what.into(),
            method,
            segments: Vec::new(),
            query: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn path(mut self, segments: &[&str]) -> Self {
        self.segments = segments.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn query(mut self, pairs: &[(&str, String)]) -> Self {
        self.query = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        self
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Result<Self, ProviderError> {
        self.body = serde_json::to_vec(body).map_err(|e| ProviderError::Invalid {
            code: "InvalidRequest".to_string(),
            message: format!("could not encode the request for {}: {e}", self.what),
        })?;
        Ok(self)
    }
}

/// The CBR API of one project, authenticated.
#[derive(Debug)]
pub struct CbrClient {
    transport: Transport,
    base: Url,
    project_id: String,
    auth: Authenticator,
}

impl CbrClient {
    pub fn new(
        conn: &HuaweiConnection,
        metrics: Arc<ProviderMetrics>,
    ) -> Result<Self, ProviderError> {
        if conn.project_id.trim().is_empty() {
            return Err(config_error("the project id is empty".to_string()));
        }
        let base = parse_base_url("CBR", &conn.cbr_endpoint)?;
        let iam = parse_base_url("IAM", &conn.iam_endpoint)?;
        Ok(Self {
            transport: Transport::new(conn.ca_bundle.as_deref(), metrics)?,
            base,
            project_id: conn.project_id.clone(),
            auth: Authenticator::new(&conn.credentials, iam, &conn.project_id),
        })
    }

    /// The request for `call`, without authentication.
    fn request(&self, call: &Call) -> Request {
        let mut segments = vec!["v3", self.project_id.as_str()];
        segments.extend(call.segments.iter().map(String::as_str));
        Request {
            service: Service::Cbr,
            operation: call.operation,
            what: call.what.clone(),
            method: call.method.clone(),
            url: build_url(&self.base, &segments, &call.query),
            query: call.query.clone(),
            headers: vec![
                ("Content-Type".to_string(), JSON_CONTENT_TYPE.to_string()),
                ("X-Project-Id".to_string(), self.project_id.clone()),
            ],
            body: call.body.clone(),
        }
    }

    /// Sends `call` and decodes the 2xx answer. A token that CBR refuses
    /// with 401 is dropped and the call is sent once more with a new one:
    /// tokens can be revoked before they expire.
    pub async fn call<T>(
        &self,
        call: &Call,
        decode: impl Fn(&Response) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let mut retried = false;
        loop {
            let mut req = self.request(call);
            let used = self.auth.authorize(&self.transport, &mut req).await?;
            match self.transport.send(&req, map_cbr_error, &decode).await {
                Err(Failure {
                    status: Some(401),
                    error,
                }) if !retried => {
                    if !self.auth.refused(&used).await {
                        return Err(error);
                    }
                    tracing::info!(
                        operation = call.operation,
                        "CBR refused the IAM token; retrying with a new one"
                    );
                    retried = true;
                }
                other => return other.map_err(|f| f.error),
            }
        }
    }
}

/// Headers whose values are credentials or derived from them.
fn is_secret_header(name: &str) -> bool {
    matches!(name, "authorization" | "x-auth-token" | "x-security-token")
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A connection failure or timeout, with the cause chain but no headers.
fn transport_error(req: &Request, err: &reqwest::Error) -> ProviderError {
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

    fn base(s: &str) -> Url {
        parse_base_url("CBR", s).expect("valid")
    }

    #[test]
    fn default_endpoint_names_service_and_region() {
        assert_eq!(
            HuaweiConnection::default_endpoint("cbr", "cn-north-4"),
            "https://cbr.cn-north-4.myhuaweicloud.com"
        );
    }

    #[test]
    fn url_query_is_the_canonical_one() {
        let query = vec![
            ("name".to_string(), "my vault/1".to_string()),
            ("limit".to_string(), "1000".to_string()),
            ("offset".to_string(), "0".to_string()),
        ];
        let url = build_url(
            &base("https://cbr.example.com"),
            &["v3", "p", "vaults"],
            &query,
        );
        assert_eq!(url.path(), "/v3/p/vaults");
        assert_eq!(url.query(), Some(signer::canonical_query(&query).as_str()));
        assert_eq!(url.query(), Some("limit=1000&name=my%20vault%2F1&offset=0"));
    }

    #[test]
    fn url_keeps_a_base_path_and_encodes_segments() {
        let url = build_url(&base("http://127.0.0.1:8443/cbr/"), &["v3", "a b"], &[]);
        assert_eq!(url.as_str(), "http://127.0.0.1:8443/cbr/v3/a%20b");
    }

    #[test]
    fn host_header_has_the_port_only_when_not_default() {
        assert_eq!(
            host_header(&base("http://127.0.0.1:8443")),
            "127.0.0.1:8443"
        );
        assert_eq!(
            host_header(&base("https://cbr.example.com:443")),
            "cbr.example.com"
        );
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        for bad in [
            "cbr.example.com",
            "ftp://x",
            "https://u:p@x",
            "https://x?a=b",
        ] {
            assert!(
                matches!(
                    parse_base_url("CBR", bad),
                    Err(ProviderError::Invalid { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn ca_bundle_without_certificates_is_rejected() {
        let err = Transport::new(Some("not a pem"), Arc::new(ProviderMetrics::new()))
            .expect_err("rejected");
        assert!(matches!(err, ProviderError::Invalid { .. }));
    }
}
