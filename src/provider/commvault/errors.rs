//! Every way Commvault says no, mapped to [`ProviderError`]: the HTTP
//! status with its `{"errorMessage","errorCode"}` body, a login refused
//! with HTTP 200 and `errList`, and a create refused with HTTP 200 and a
//! non-zero `response.errorCode`.

use std::time::Duration;

use super::wire::{Code, ErrEntry, ErrorBody};
use crate::provider::ProviderError;

/// A non-2xx answer, mapped by its status. `what` names the object for
/// "not found" messages.
pub fn for_status(
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    what: &str,
) -> ProviderError {
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let code = parsed
        .error_code
        .as_ref()
        .map_or_else(|| format!("HTTP {status}"), Code::to_string);
    let message = parsed
        .error_message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| snippet(body, status));
    match status {
        400 | 422 => ProviderError::Invalid { code, message },
        401 | 403 => ProviderError::Unauthorized { code, message },
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
        500..=599 | 408 => ProviderError::Transient {
            message: format!("HTTP {status} ({code}): {message}"),
        },
        _ => ProviderError::Invalid { code, message },
    }
}

/// A login answered with HTTP 200 and `errList` (a wrong password, a locked
/// account): the credentials are refused.
pub fn login_refused(errors: &[ErrEntry], locked: bool) -> ProviderError {
    let message = errors
        .iter()
        .filter_map(|e| e.err_log_message.clone())
        .next()
        .unwrap_or_else(|| "the login answer carries no token".to_string());
    let code = match locked {
        true => "AccountLocked".to_string(),
        false => errors
            .iter()
            .find_map(|e| e.error_code.as_ref().map(Code::to_string))
            .unwrap_or_else(|| "LoginFailed".to_string()),
    };
    ProviderError::Unauthorized { code, message }
}

/// A create answered with HTTP 200 whose `errorCode` is not 0: refused, and
/// nothing was made.
pub fn create_refused(code: &Code, message: Option<String>) -> ProviderError {
    ProviderError::Invalid {
        code: format!("errorCode {code}"),
        message: message
            .filter(|m| !m.trim().is_empty())
            .unwrap_or_else(|| "Commvault refused the S3 vault".to_string()),
    }
}

/// A 2xx body that is not what the API documents.
pub fn unreadable(what: &str, error: &serde_json::Error) -> ProviderError {
    ProviderError::Transient {
        message: format!("the answer to {what} could not be read: {error}"),
    }
}

fn snippet(body: &str, status: u16) -> String {
    let body = body.trim();
    if body.is_empty() {
        return format!("HTTP {status} with an empty body");
    }
    body.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_their_kinds() {
        let e = for_status(
            404,
            r#"{"errorMessage":"no such job","errorCode":"VALUE_NOT_FOUND"}"#,
            None,
            "job 7",
        );
        assert!(e.is_not_found(), "{e}");
        let e = for_status(409, r#"{"errorMessage":"exists","errorCode":0}"#, None, "x");
        assert!(matches!(e, ProviderError::Conflict { .. }));
        assert!(e.leaves_doubt());
        let e = for_status(400, r#"{"errorMessage":"bad","errorCode":2}"#, None, "x");
        assert_eq!(
            e,
            ProviderError::Invalid {
                code: "2".into(),
                message: "bad".into()
            }
        );
        assert!(for_status(503, "", None, "x").is_retryable());
        assert!(matches!(
            for_status(401, "", None, "x"),
            ProviderError::Unauthorized { .. }
        ));
    }

    #[test]
    fn a_refused_login_names_the_server_message() {
        let errors = vec![ErrEntry {
            err_log_message: Some("Invalid Username or Password".into()),
            error_code: Some(Code::Number(5)),
        }];
        let e = login_refused(&errors, false);
        assert!(matches!(&e, ProviderError::Unauthorized { code, message }
            if code == "5" && message == "Invalid Username or Password"));
    }

    #[test]
    fn a_refused_create_is_not_retryable_and_leaves_no_doubt() {
        let e = create_refused(&Code::Number(2), Some("plan not usable".into()));
        assert!(!e.is_retryable());
        assert!(!e.leaves_doubt());
        assert!(e.to_string().contains("plan not usable"));
    }
}
