//! The CBR client of one project: where IAM and CBR are, URLs whose query
//! string is exactly the one that gets signed, the `X-Project-Id` header,
//! authentication (signature or token, from `auth.rs`) and the one retry
//! after CBR refuses a token. Round trips go through `transport.rs`.

use std::sync::Arc;

use reqwest::Method;
use url::Url;

use super::auth::{Authenticator, HuaweiCredentials};
use super::authorized;
use super::endpoint::{build_url, parse_base_url};
use super::errors::{FailedResponse, config_error, map_cbr_error};
use super::transport::{Request, Response, Service, Transport};
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::metrics::ProviderMetrics;

/// The `Content-Type` the SDK sends (and signs) on every CBR call.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

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
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        if conn.project_id.trim().is_empty() {
            return Err(config_error("the project id is empty".to_string()));
        }
        let base = parse_base_url("CBR", &conn.cbr_endpoint)?;
        let iam = parse_base_url("IAM", &conn.iam_endpoint)?;
        Ok(Self {
            transport: Transport::new(conn.ca_bundle.as_deref(), metrics, budget)?,
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
        self.call_mapped(call, map_cbr_error, decode).await
    }

    /// As [`Self::call`], with the call's own error mapping. A 401 that the
    /// mapping does not call `Unauthorized` (CBR's "Malformed request url"
    /// for a deleted backup's members) is no credential problem, so it
    /// never costs a token refresh.
    pub async fn call_mapped<T>(
        &self,
        call: &Call,
        map_error: fn(&FailedResponse<'_>) -> ProviderError,
        decode: impl Fn(&Response) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let build = || self.request(call);
        authorized::send(&self.auth, &self.transport, build, map_error, decode).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_endpoint_names_service_and_region() {
        assert_eq!(
            HuaweiConnection::default_endpoint("cbr", "cn-north-4"),
            "https://cbr.cn-north-4.myhuaweicloud.com"
        );
    }
}
