//! IAM agency answers mapped to [`ProviderError`]. IAM's agency APIs use the
//! Keystone shape `{"error":{"code","message","title"}}`, which
//! `parse_error_body` reads like every other shape.

use super::super::errors::{FailedResponse, map_cbr_error, parse_error_body};
use crate::provider::ProviderError;

/// The message IAM gives when the delegated account does not exist (seed 004).
const TRUST_DOMAIN_NOT_FOUND: &str = "TrustDomainNotFound";

/// Like CBR's mapping, except that a 404 about the delegated account is a
/// spec to fix, not a missing agency: read as "not found", it would make a
/// controller think the agency was deleted and create it again.
pub fn map_iam_error(resp: &FailedResponse<'_>) -> ProviderError {
    if resp.status == 404 {
        let detail = parse_error_body(resp.body);
        let says_trust = detail
            .message
            .as_deref()
            .is_some_and(|m| m.contains(TRUST_DOMAIN_NOT_FOUND));
        if says_trust {
            return ProviderError::Invalid {
                code: TRUST_DOMAIN_NOT_FOUND.to_string(),
                message: format!(
                    "IAM knows no such delegated account (HTTP 404: {}); check huaweiCloud.trustDomain",
                    resp.body
                ),
            };
        }
    }
    map_cbr_error(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(status: u16, body: &str) -> ProviderError {
        map_iam_error(&FailedResponse {
            status,
            body,
            retry_after: None,
            request_id: None,
            what: "agency a",
        })
    }

    #[test]
    fn unknown_trust_domain_is_a_spec_error_not_a_missing_agency() {
        let body = r#"{"error":{"code":404,"message":"TrustDomainNotFound","title":"Not Found"}}"#;
        assert!(matches!(failed(404, body), ProviderError::Invalid { .. }));
    }

    #[test]
    fn missing_agency_is_not_found_and_a_duplicate_is_a_conflict() {
        let body =
            r#"{"error":{"code":404,"message":"Could not find agency: x.","title":"Not Found"}}"#;
        assert!(failed(404, body).is_not_found());
        let body = r#"{"error":{"code":409,"message":"Duplicate entry","title":"Conflict"}}"#;
        assert!(matches!(failed(409, body), ProviderError::Conflict { .. }));
    }
}
