//! Turns Huawei's error responses (several body shapes, status codes and
//! CBR's own "not found" and "duplicate" codes) into [`ProviderError`], so a
//! controller can act on them without knowing Huawei's conventions.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;

use crate::provider::ProviderError;

/// How much of a response body an error message keeps.
pub const MAX_BODY_CHARS: usize = 500;

/// CBR answers "vault not found" on non-GET calls with HTTP 400 and this code.
pub const VAULT_NOT_FOUND: &str = "BackupService.6105";
/// CBR's "duplicate vault".
pub const DUPLICATE_VAULT: &str = "BackupService.6106";

/// The code and message found in an error body, whichever shape it had.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorDetail {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Reads the error code and message from any of the shapes Huawei services
/// use: `{"error_code","error_msg"}` (CBR, newer IAM, the API gateway),
/// `{"errorCode","errorMsg"}`, `{"code","message"}`, or any of these nested
/// one level down, as Keystone's `{"error":{"code":404,"message":…}}`.
/// A body that is not JSON, or has none of these keys, gives an empty detail.
pub fn parse_error_body(body: &str) -> ErrorDetail {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return ErrorDetail::default();
    };
    let top = detail_of(&value);
    if top.code.is_some() || top.message.is_some() {
        return top;
    }
    // One level down: the first nested object that carries a code or message.
    value
        .as_object()
        .into_iter()
        .flat_map(|obj| obj.values())
        .map(detail_of)
        .find(|d| d.code.is_some() || d.message.is_some())
        .unwrap_or_default()
}

fn detail_of(value: &Value) -> ErrorDetail {
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| value.get(n))
            .and_then(scalar_text)
    };
    ErrorDetail {
        code: field(&["error_code", "errorCode", "code"]),
        message: field(&["error_msg", "errorMsg", "message"]),
    }
}

/// A string or number as text; codes are sometimes numbers (Keystone).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The body cut to [`MAX_BODY_CHARS`] characters, on a character boundary.
pub fn truncate_body(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(MAX_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_string(),
    }
}

/// Parses a `Retry-After` value: delta-seconds or an HTTP-date. A date in
/// the past means "now".
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is RFC 2822 with the
    // obsolete `GMT` zone, which jiff's RFC 2822 parser accepts.
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let wait = at.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// What the client knows about a failed HTTP response.
#[derive(Clone, Debug)]
pub struct FailedResponse<'a> {
    pub status: u16,
    pub body: &'a str,
    /// The parsed `Retry-After` header, if there was one.
    pub retry_after: Option<Duration>,
    /// The `X-Request-Id` header, which Huawei support asks for.
    pub request_id: Option<&'a str>,
    /// What the call was about, e.g. `vault 2402…`; used in "not found".
    pub what: &'a str,
}

/// Maps a non-2xx CBR response to a [`ProviderError`].
pub fn map_cbr_error(resp: &FailedResponse<'_>) -> ProviderError {
    let detail = parse_error_body(resp.body);
    let code = detail.code.as_deref().unwrap_or("");
    let message = describe(resp);
    let code_or_status = || {
        detail
            .code
            .clone()
            .unwrap_or_else(|| format!("HTTP {}", resp.status))
    };
    match resp.status {
        // The gateway answers 404 for a path it does not route at all. That is
        // a wrong endpoint, and must not look like a deleted vault: a
        // controller would then try to create it again.
        404 if code.starts_with("APIGW.") => ProviderError::Invalid {
            code: code_or_status(),
            message: format!("{message}; check the CBR endpoint"),
        },
        404 => not_found(resp, message),
        400 if code == VAULT_NOT_FOUND => not_found(resp, message),
        409 => ProviderError::Conflict { message },
        400 if code == DUPLICATE_VAULT => ProviderError::Conflict { message },
        429 => ProviderError::Throttled {
            code: code_or_status(),
            message,
            retry_after: resp.retry_after,
        },
        401 | 403 => ProviderError::Unauthorized {
            code: code_or_status(),
            message,
        },
        400..=499 => ProviderError::Invalid {
            code: code_or_status(),
            message,
        },
        500..=599 => ProviderError::Transient { message },
        // Redirects are not followed (they would drop the signature), so a
        // 3xx means the endpoint is wrong, which no retry fixes.
        _ => ProviderError::Invalid {
            code: code_or_status(),
            message: format!("{message}; check the endpoint"),
        },
    }
}

/// Maps a non-2xx answer to `POST /v3/auth/tokens`. Every 4xx but 429 means
/// the user, password, account or project is wrong, which the user fixes in
/// the Secret or the ProviderConfig.
pub fn map_iam_token_error(resp: &FailedResponse<'_>) -> ProviderError {
    match resp.status {
        400..=499 if resp.status != 429 => {
            let detail = parse_error_body(resp.body);
            ProviderError::Unauthorized {
                code: detail
                    .code
                    .unwrap_or_else(|| format!("HTTP {}", resp.status)),
                message: format!("getting an IAM token failed: {}", describe(resp)),
            }
        }
        _ => map_cbr_error(resp),
    }
}

fn not_found(resp: &FailedResponse<'_>, message: String) -> ProviderError {
    ProviderError::NotFound {
        what: resp.what.to_string(),
        message,
    }
}

/// `HTTP 400 (request id …): <body>` — the status, the id Huawei support
/// needs, and the body as the provider wrote it.
fn describe(resp: &FailedResponse<'_>) -> String {
    let body = truncate_body(resp.body);
    let body = if body.is_empty() {
        "(empty body)".to_string()
    } else {
        body
    };
    match resp.request_id {
        Some(id) => format!("HTTP {} (request id {id}): {body}", resp.status),
        None => format!("HTTP {}: {body}", resp.status),
    }
}

/// An error in the connection settings themselves: nothing to retry.
pub fn config_error(message: String) -> ProviderError {
    ProviderError::Invalid {
        code: "InvalidProviderConfig".to_string(),
        message,
    }
}

/// A response that arrived with a 2xx status but could not be read.
pub fn undecodable(what: &str, err: &serde_json::Error, body: &[u8]) -> ProviderError {
    ProviderError::Transient {
        message: format!(
            "could not read the response for {what}: {err}; body: {}",
            truncate_body(&String::from_utf8_lossy(body))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(status: u16, body: &str) -> FailedResponse<'_> {
        FailedResponse {
            status,
            body,
            retry_after: None,
            request_id: Some("req-1"),
            what: "vault v1",
        }
    }

    fn cbr(status: u16, body: &str) -> ProviderError {
        map_cbr_error(&failed(status, body))
    }

    #[test]
    fn parses_snake_case_shape() {
        let d = parse_error_body(r#"{"error_code":"BackupService.6101","error_msg":"bad size"}"#);
        assert_eq!(d.code.as_deref(), Some("BackupService.6101"));
        assert_eq!(d.message.as_deref(), Some("bad size"));
    }

    #[test]
    fn parses_camel_case_shape() {
        let d = parse_error_body(
            r#"{"errorCode":"APIGW.0301","errorMsg":"Incorrect IAM authentication information"}"#,
        );
        assert_eq!(d.code.as_deref(), Some("APIGW.0301"));
        assert_eq!(
            d.message.as_deref(),
            Some("Incorrect IAM authentication information")
        );
    }

    #[test]
    fn parses_code_message_shape() {
        let d = parse_error_body(r#"{"code":"IAM.0007","message":"invalid parameter"}"#);
        assert_eq!(d.code.as_deref(), Some("IAM.0007"));
        assert_eq!(d.message.as_deref(), Some("invalid parameter"));
    }

    #[test]
    fn parses_nested_keystone_shape_with_numeric_code() {
        let d = parse_error_body(
            r#"{"error":{"code":404,"message":"TrustDomainNotFound","title":"Not Found"}}"#,
        );
        assert_eq!(d.code.as_deref(), Some("404"));
        assert_eq!(d.message.as_deref(), Some("TrustDomainNotFound"));
    }

    #[test]
    fn non_json_body_has_no_detail() {
        assert_eq!(
            parse_error_body("<html>502 Bad Gateway</html>"),
            ErrorDetail::default()
        );
    }

    #[test]
    fn status_404_is_not_found() {
        let err = cbr(
            404,
            r#"{"error_code":"BackupService.6105","error_msg":"Vault Not Found"}"#,
        );
        assert!(matches!(&err, ProviderError::NotFound { what, .. } if what == "vault v1"));
    }

    #[test]
    fn status_400_with_6105_is_not_found() {
        let err = cbr(
            400,
            r#"{"error_code":"BackupService.6105","error_msg":"Vault Not Found"}"#,
        );
        assert!(err.is_not_found());
    }

    #[test]
    fn gateway_404_is_invalid_not_not_found() {
        let err = cbr(
            404,
            r#"{"error_code":"APIGW.0101","error_msg":"The API does not exist"}"#,
        );
        assert!(matches!(err, ProviderError::Invalid { code, .. } if code == "APIGW.0101"));
    }

    #[test]
    fn status_409_and_6106_are_conflict() {
        assert!(matches!(cbr(409, "{}"), ProviderError::Conflict { .. }));
        let err = cbr(
            400,
            r#"{"error_code":"BackupService.6106","error_msg":"duplicate"}"#,
        );
        assert!(matches!(err, ProviderError::Conflict { .. }));
    }

    #[test]
    fn status_429_is_throttled_with_retry_after() {
        let mut resp = failed(
            429,
            r#"{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}"#,
        );
        resp.retry_after = Some(Duration::from_secs(3));
        let err = map_cbr_error(&resp);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
        assert!(matches!(err, ProviderError::Throttled { code, .. } if code == "APIGW.0308"));
    }

    #[test]
    fn status_401_and_403_are_unauthorized() {
        for status in [401, 403] {
            let err = cbr(status, r#"{"errorCode":"APIGW.0301","errorMsg":"denied"}"#);
            assert!(
                matches!(&err, ProviderError::Unauthorized { code, .. } if code == "APIGW.0301"),
                "{status}: {err:?}"
            );
        }
    }

    #[test]
    fn other_4xx_is_invalid_and_terminal() {
        let err = cbr(
            400,
            r#"{"error_code":"BackupService.6101","error_msg":"bad size"}"#,
        );
        assert!(
            matches!(&err, ProviderError::Invalid { code, .. } if code == "BackupService.6101")
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn status_5xx_with_html_body_is_transient_and_keeps_the_body() {
        let err = cbr(502, "<html>Bad Gateway</html>");
        let ProviderError::Transient { message } = &err else {
            panic!("expected Transient, got {err:?}");
        };
        assert_eq!(
            message,
            "HTTP 502 (request id req-1): <html>Bad Gateway</html>"
        );
    }

    #[test]
    fn error_without_code_uses_the_status() {
        let err = cbr(422, "");
        assert!(matches!(err, ProviderError::Invalid { code, .. } if code == "HTTP 422"));
    }

    #[test]
    fn long_bodies_are_truncated_on_a_char_boundary() {
        let body = "é".repeat(MAX_BODY_CHARS + 10);
        let cut = truncate_body(&body);
        assert_eq!(cut.chars().count(), MAX_BODY_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn token_rejection_is_unauthorized() {
        let err = map_iam_token_error(&failed(
            400,
            r#"{"error":{"code":400,"message":"The request you have made requires authentication.","title":"Bad Request"}}"#,
        ));
        assert!(matches!(err, ProviderError::Unauthorized { code, .. } if code == "400"));
        let err = map_iam_token_error(&failed(503, "busy"));
        assert!(matches!(err, ProviderError::Transient { .. }));
    }

    #[test]
    fn retry_after_accepts_seconds() {
        assert_eq!(
            parse_retry_after(" 120 ", Timestamp::UNIX_EPOCH),
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn retry_after_accepts_an_http_date() {
        let now: Timestamp = "1994-11-06T08:49:07Z".parse().expect("valid");
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(30))
        );
    }

    #[test]
    fn retry_after_in_the_past_is_zero() {
        let now: Timestamp = "2000-01-01T00:00:00Z".parse().expect("valid");
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_rejects_garbage() {
        assert_eq!(parse_retry_after("soon", Timestamp::UNIX_EPOCH), None);
        assert_eq!(parse_retry_after("-5", Timestamp::UNIX_EPOCH), None);
    }
}
