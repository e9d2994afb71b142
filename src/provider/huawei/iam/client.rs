//! The IAM client of one account: the IAM base URL, the headers IAM wants
//! (`Content-Type: application/json;charset=utf8` and, signed with AK/SK,
//! `X-Domain-Id`, since IAM is a global service without a project),
//! domain-scoped tokens for password sign-in, and the one retry after IAM
//! refuses a token.

use std::sync::Arc;

use url::Url;

use super::super::auth::Authenticator;
use super::super::authorized;
use super::super::client::{Call, HuaweiConnection};
use super::super::endpoint::{build_url, parse_base_url};
use super::super::errors::config_error;
use super::super::transport::{Request, Response, Service, Transport};
use super::errors::map_iam_error;
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::metrics::ProviderMetrics;

/// The `Content-Type` IAM's agency APIs document.
pub const IAM_CONTENT_TYPE: &str = "application/json;charset=utf8";

/// IAM for one account, authenticated.
#[derive(Debug)]
pub struct IamClient {
    transport: Transport,
    base: Url,
    domain_id: String,
    auth: Authenticator,
}

impl IamClient {
    /// Needs the ProviderConfig's `domainId`: agencies live in an account,
    /// and a domain-scoped token names it.
    pub fn new(
        conn: &HuaweiConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        let domain_id = conn
            .domain_id
            .clone()
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| {
                config_error(
                    "IAM agencies need the account id: set huaweiCloud.domainId in the ProviderConfig"
                        .to_string(),
                )
            })?;
        let base = parse_base_url("IAM", &conn.iam_endpoint)?;
        Ok(Self {
            transport: Transport::new(conn.ca_bundle.as_deref(), metrics, budget)?,
            auth: Authenticator::for_domain(&conn.credentials, base.clone(), &domain_id),
            base,
            domain_id,
        })
    }

    pub fn domain_id(&self) -> &str {
        &self.domain_id
    }

    /// The request for `call`, whose segments are the whole path below the
    /// IAM base URL (IAM paths carry no project).
    fn request(&self, call: &Call) -> Request {
        let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
        Request {
            service: Service::Iam,
            operation: call.operation,
            what: call.what.clone(),
            method: call.method.clone(),
            url: build_url(&self.base, &segments, &call.query),
            query: call.query.clone(),
            headers: vec![
                ("Content-Type".to_string(), IAM_CONTENT_TYPE.to_string()),
                ("X-Domain-Id".to_string(), self.domain_id.clone()),
            ],
            body: call.body.clone(),
        }
    }

    /// Sends `call` and decodes the 2xx answer; a refused token is dropped
    /// and the call sent once more with a new one.
    pub async fn call<T>(
        &self,
        call: &Call,
        decode: impl Fn(&Response) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let build = || self.request(call);
        authorized::send(&self.auth, &self.transport, build, map_iam_error, decode).await
    }
}

/// An IAM answer's body as `T`; a body that is not one is the provider's fault.
pub(super) fn json<T: serde::de::DeserializeOwned>(resp: &Response) -> Result<T, ProviderError> {
    serde_json::from_slice(&resp.body)
        .map_err(|e| super::super::errors::undecodable("IAM", &e, &resp.body))
}
