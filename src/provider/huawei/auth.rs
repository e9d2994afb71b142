//! The two ways coffer signs in to Huawei Cloud: every request signed with
//! an access key (`SDK-HMAC-SHA256`), or an IAM user's password traded for a
//! project-scoped token that is cached, renewed before it expires, fetched by
//! one task at a time, and dropped when CBR refuses it.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use tokio::sync::Mutex;
use url::Url;

use super::endpoint::{build_url, host_header};
use super::errors::{map_iam_token_error, undecodable};
use super::signer;
use super::token_wire::{TokenRequest, TokenResponse};
use super::transport::{Request, Service, Transport};
use super::wire::parse_timestamp;
use crate::provider::ProviderError;

/// The header IAM returns the token in.
const SUBJECT_TOKEN_HEADER: &str = "x-subject-token";
/// The header a token is sent in.
pub const AUTH_TOKEN_HEADER: &str = "X-Auth-Token";
/// Renew when this much of a token's life remains, at most.
const MAX_RENEWAL_MARGIN: SignedDuration = SignedDuration::from_hours(1);
/// Assumed lifetime of a token whose expiry IAM did not say (Huawei's
/// tokens last 24 h; assuming less only renews sooner).
const FALLBACK_LIFETIME: SignedDuration = SignedDuration::from_hours(1);

/// The credentials in a ProviderConfig's Secret.
#[derive(Clone, PartialEq, Eq)]
pub enum HuaweiCredentials {
    /// A permanent access key; every request is signed.
    AccessKey {
        access_key: String,
        secret_key: String,
    },
    /// An IAM user, traded for a token at `{iam}/v3/auth/tokens`.
    Password {
        username: String,
        password: String,
        /// The account name the user belongs to.
        domain_name: String,
    },
}

// Written by hand: keys and passwords must never reach a log line.
impl std::fmt::Debug for HuaweiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AccessKey { .. } => f
                .debug_struct("AccessKey")
                .field("access_key", &"<redacted>")
                .field("secret_key", &"<redacted>")
                .finish(),
            Self::Password {
                username,
                domain_name,
                ..
            } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"<redacted>")
                .field("domain_name", domain_name)
                .finish(),
        }
    }
}

/// Adds authentication to CBR requests.
#[derive(Debug)]
pub enum Authenticator {
    AccessKey(AccessKeySigner),
    Token(TokenCache),
}

/// The token a request was sent with, so that a 401 drops exactly that one
/// and not a newer one another task fetched meanwhile.
pub type UsedToken = Option<Arc<CachedToken>>;

impl Authenticator {
    pub fn new(credentials: &HuaweiCredentials, iam_base: Url, project_id: &str) -> Self {
        Self::scoped(
            credentials,
            iam_base,
            TokenScope::Project(project_id.to_string()),
        )
    }

    /// For IAM's own APIs (agencies), which need a domain-scoped token.
    pub fn for_domain(credentials: &HuaweiCredentials, iam_base: Url, domain_id: &str) -> Self {
        Self::scoped(
            credentials,
            iam_base,
            TokenScope::Domain(domain_id.to_string()),
        )
    }

    fn scoped(credentials: &HuaweiCredentials, iam_base: Url, scope: TokenScope) -> Self {
        match credentials.clone() {
            HuaweiCredentials::AccessKey {
                access_key,
                secret_key,
            } => Self::AccessKey(AccessKeySigner {
                access_key,
                secret_key,
            }),
            HuaweiCredentials::Password {
                username,
                password,
                domain_name,
            } => Self::Token(TokenCache {
                iam_base,
                username,
                password,
                domain_name,
                scope,
                slot: Mutex::new(None),
            }),
        }
    }

    /// Adds the auth headers; call it last, after every other header.
    pub async fn authorize(
        &self,
        transport: &Transport,
        req: &mut Request,
    ) -> Result<UsedToken, ProviderError> {
        match self {
            Self::AccessKey(signer) => {
                signer.sign(req, Timestamp::now());
                Ok(None)
            }
            Self::Token(cache) => {
                let token = cache.current(transport).await?;
                req.headers
                    .push((AUTH_TOKEN_HEADER.to_string(), token.value.clone()));
                Ok(Some(token))
            }
        }
    }

    /// Forgets `used` after the server refused it. Returns whether a retry
    /// with a fresh token can help (never for a signature).
    pub async fn refused(&self, used: &UsedToken) -> bool {
        match (self, used) {
            (Self::Token(cache), Some(token)) => {
                cache.forget(token).await;
                true
            }
            _ => false,
        }
    }
}

/// Signs requests with an access key and secret key.
pub struct AccessKeySigner {
    access_key: String,
    secret_key: String,
}

impl std::fmt::Debug for AccessKeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessKeySigner { .. }")
    }
}

impl AccessKeySigner {
    /// Adds `X-Sdk-Date` and `Authorization`, signing the headers already on
    /// the request plus the `Host` the HTTP stack will send.
    pub fn sign(&self, req: &mut Request, now: Timestamp) {
        req.headers
            .push((signer::DATE_HEADER.to_string(), signer::sdk_date(now)));
        let mut signed_headers = req.headers.clone();
        signed_headers.push(("host".to_string(), host_header(&req.url)));
        let signable = signer::SignableRequest {
            method: req.method.as_str(),
            path: req.url.path(),
            query: &req.query,
            headers: &signed_headers,
            payload_hash: signer::hex_sha256(&req.body),
        };
        let authorization = signer::authorization(&signable, &self.access_key, &self.secret_key);
        req.headers
            .push(("Authorization".to_string(), authorization));
    }
}

/// A token and when it was obtained, by our clock. The lifetime comes from
/// IAM's own `issued_at`/`expires_at`, so a skewed local clock does not
/// shorten or stretch it.
pub struct CachedToken {
    value: String,
    obtained_at: Timestamp,
    lifetime: SignedDuration,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("value", &"<redacted>")
            .field("obtained_at", &self.obtained_at)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// Whether a token obtained at `obtained_at` and valid for `lifetime` should
/// be replaced at `now`: when less than a tenth of its life, or an hour,
/// whichever is shorter, remains. A 24 h token is renewed after 23 h; a
/// 10 min one (an emulator's) after 9 min, rather than on every call.
pub fn renewal_due(obtained_at: Timestamp, lifetime: SignedDuration, now: Timestamp) -> bool {
    let margin = (lifetime / 10).min(MAX_RENEWAL_MARGIN);
    now.duration_since(obtained_at) >= lifetime - margin
}

/// Whether the token may still be used at all.
fn still_valid(token: &CachedToken, now: Timestamp) -> bool {
    now.duration_since(token.obtained_at) < token.lifetime
}

/// How long a token lives, from IAM's answer.
pub fn token_lifetime(
    issued_at: Option<&str>,
    expires_at: Option<&str>,
    now: Timestamp,
) -> SignedDuration {
    let issued = issued_at.and_then(parse_timestamp);
    let expires = expires_at.and_then(parse_timestamp);
    let lifetime = match (issued, expires) {
        (Some(i), Some(e)) => e.duration_since(i),
        // Without issued_at, trust our clock against IAM's.
        (None, Some(e)) => e.duration_since(now),
        _ => FALLBACK_LIFETIME,
    };
    if lifetime.is_positive() {
        lifetime
    } else {
        FALLBACK_LIFETIME
    }
}

/// What a password token is scoped to: a project for CBR, the account
/// (domain) for IAM's own APIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenScope {
    Project(String),
    Domain(String),
}

/// A password token, fetched on demand and shared by all calls.
pub struct TokenCache {
    iam_base: Url,
    username: String,
    password: String,
    domain_name: String,
    scope: TokenScope,
    /// Held across the fetch, so concurrent callers wait for one request
    /// instead of each asking IAM.
    slot: Mutex<Option<Arc<CachedToken>>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("iam_base", &self.iam_base.as_str())
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("domain_name", &self.domain_name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// The cached token, or a new one when renewal is due.
    async fn current(&self, transport: &Transport) -> Result<Arc<CachedToken>, ProviderError> {
        let mut slot = self.slot.lock().await;
        let now = Timestamp::now();
        if let Some(token) = slot.as_ref()
            && !renewal_due(token.obtained_at, token.lifetime, now)
        {
            return Ok(token.clone());
        }
        match self.fetch(transport).await {
            Ok(token) => {
                let token = Arc::new(token);
                *slot = Some(token.clone());
                Ok(token)
            }
            // Renewal starts early, so a failed renewal need not fail calls
            // while the old token still works; the next call tries again.
            Err(e) => match slot.as_ref() {
                Some(old) if still_valid(old, now) => {
                    tracing::warn!(error = %e, "renewing the IAM token failed; using the current one");
                    Ok(old.clone())
                }
                _ => Err(e),
            },
        }
    }

    async fn forget(&self, used: &Arc<CachedToken>) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|t| Arc::ptr_eq(t, used)) {
            *slot = None;
        }
    }

    /// `POST {iam}/v3/auth/tokens?nocatalog=true`: the token is in the
    /// `X-Subject-Token` header, its expiry in the body.
    async fn fetch(&self, transport: &Transport) -> Result<CachedToken, ProviderError> {
        let query = vec![("nocatalog".to_string(), "true".to_string())];
        let (body, what) = match &self.scope {
            TokenScope::Project(id) => (
                TokenRequest::password(&self.username, &self.password, &self.domain_name, id),
                format!("IAM project {id}"),
            ),
            TokenScope::Domain(id) => (
                TokenRequest::password_for_domain(
                    &self.username,
                    &self.password,
                    &self.domain_name,
                    id,
                ),
                format!("IAM domain {id}"),
            ),
        };
        let body = serde_json::to_vec(&body).map_err(|e| ProviderError::Invalid {
            code: "InvalidCredentials".to_string(),
            message: format!("could not encode the token request: {e}"),
        })?;
        let req = Request {
            service: Service::Iam,
            operation: "create_token",
            what,
            method: Method::POST,
            url: build_url(&self.iam_base, &["v3", "auth", "tokens"], &query),
            query,
            headers: vec![(
                "Content-Type".to_string(),
                "application/json;charset=utf8".to_string(),
            )],
            body,
        };
        let token = transport
            .send(&req, map_iam_token_error, |resp| {
                let value = resp
                    .headers
                    .get(SUBJECT_TOKEN_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| ProviderError::Transient {
                        message: "IAM issued no token (no X-Subject-Token header)".to_string(),
                    })?;
                let info: TokenResponse = serde_json::from_slice(&resp.body)
                    .map_err(|e| undecodable("the IAM token", &e, &resp.body))?;
                let now = Timestamp::now();
                Ok(CachedToken {
                    value: value.to_string(),
                    obtained_at: now,
                    lifetime: token_lifetime(
                        info.token.issued_at.as_deref(),
                        info.token.expires_at.as_deref(),
                        now,
                    ),
                })
            })
            .await?;
        tracing::info!(lifetime = %token.lifetime, "obtained an IAM token");
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    #[test]
    fn day_token_is_renewed_one_hour_before_expiry() {
        let got = ts("2024-01-01T00:00:00Z");
        let day = SignedDuration::from_hours(24);
        assert!(!renewal_due(got, day, ts("2024-01-01T22:59:59Z")));
        assert!(renewal_due(got, day, ts("2024-01-01T23:00:00Z")));
    }

    #[test]
    fn short_token_is_renewed_in_its_last_tenth() {
        let got = ts("2024-01-01T00:00:00Z");
        let ten_min = SignedDuration::from_mins(10);
        assert!(!renewal_due(got, ten_min, ts("2024-01-01T00:08:59Z")));
        assert!(renewal_due(got, ten_min, ts("2024-01-01T00:09:00Z")));
    }

    #[test]
    fn expired_token_is_renewed() {
        let got = ts("2024-01-01T00:00:00Z");
        assert!(renewal_due(
            got,
            SignedDuration::from_hours(24),
            ts("2024-01-03T00:00:00Z")
        ));
    }

    #[test]
    fn lifetime_comes_from_iam_clock_not_ours() {
        let now = ts("2030-01-01T00:00:00Z");
        let lifetime = token_lifetime(
            Some("2024-01-01T00:00:00.000000Z"),
            Some("2024-01-02T00:00:00.000000Z"),
            now,
        );
        assert_eq!(lifetime, SignedDuration::from_hours(24));
    }

    #[test]
    fn unreadable_or_past_expiry_falls_back_to_short_lifetime() {
        let now = ts("2024-01-01T00:00:00Z");
        assert_eq!(token_lifetime(None, Some("never"), now), FALLBACK_LIFETIME);
        assert_eq!(
            token_lifetime(None, Some("2023-01-01T00:00:00Z"), now),
            FALLBACK_LIFETIME
        );
        assert_eq!(
            token_lifetime(None, Some("2024-01-01T06:00:00"), now),
            SignedDuration::from_hours(6)
        );
    }

    #[test]
    fn debug_redacts_credentials() {
        let ak = HuaweiCredentials::AccessKey {
            access_key: "AKSECRETID".into(),
            secret_key: "SKSECRETVALUE".into(),
        };
        let pw = HuaweiCredentials::Password {
            username: "ops".into(),
            password: "hunter2".into(),
            domain_name: "acct".into(),
        };
        let printed = format!("{ak:?} {pw:?}");
        for secret in ["AKSECRETID", "SKSECRETVALUE", "hunter2"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("ops"));
        let token = CachedToken {
            value: "MIIT0KENVALUE".into(),
            obtained_at: Timestamp::UNIX_EPOCH,
            lifetime: SignedDuration::from_hours(1),
        };
        assert!(!format!("{token:?}").contains("MIIT0KENVALUE"));
    }

    #[test]
    fn signing_matches_the_sdk_vector() {
        // The same request as the signer's SDK vector, built the way the
        // client builds it: what is sent is what was signed.
        const PROJECT: &str = "0123456789abcdef0123456789abcdef";
        let query = vec![
            ("name".to_string(), "my vault".to_string()),
            ("limit".to_string(), "10".to_string()),
            ("offset".to_string(), "0".to_string()),
        ];
        let base = Url::parse("https://cbr.cn-north-4.myhuaweicloud.com").unwrap();
        let mut req = Request {
            service: Service::Cbr,
            operation: "list_vaults",
            what: "vaults".into(),
            method: Method::GET,
            url: build_url(&base, &["v3", PROJECT, "vaults"], &query),
            query,
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/json;charset=UTF-8".into(),
                ),
                ("X-Project-Id".into(), PROJECT.into()),
            ],
            body: Vec::new(),
        };
        let signer = AccessKeySigner {
            access_key: "AKEXAMPLE0000000000".into(),
            secret_key: "SKEXAMPLE0000000000000000000000000000000".into(),
        };
        signer.sign(&mut req, ts("2024-01-01T00:00:00Z"));
        let auth = &req.headers.last().unwrap().1;
        assert!(auth.ends_with(
            "Signature=7f3c41f912ba4dcdc621ee732824dde60592d13ee7ed92a1c39966d44030272f"
        ));
        assert_eq!(req.url.query(), Some("limit=10&name=my%20vault&offset=0"));
    }
}
