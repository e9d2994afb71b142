//! The error answers of Huawei's API gateway, CBR and IAM, each in the body
//! shape the real service uses, so clients are tested against every shape
//! they must parse (see providers.md §1.4 and §2.7).

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The code CBR answers for a request that breaks the API's schema (a wrong
/// type, a missing field, a value out of range). Huawei's CBR error-code page
/// lists only specific codes (6101 bad size, 6105 vault not found...), and no
/// generic one was found; `0400` is chosen by analogy with the observed
/// `BackupService.0403` ("no API permission"). Clients should key on the HTTP
/// status for this one, not on the code.
pub const INVALID_PARAMETER: &str = "BackupService.0400";

/// A CBR error, answered as `{"error_code","error_msg"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CbrError {
    #[error("Invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("Resources of vault over limit: {limit}.")]
    TooManyResources { limit: usize },
    #[error("Size of vault invalid")]
    InvalidSize,
    #[error("Resource not match vault resource type. ({resource_id}: {resource_type})")]
    ResourceTypeMismatch {
        resource_id: String,
        resource_type: &'static str,
    },
    #[error("Resource already in other vault. ({0})")]
    ResourceInOtherVault(String),
    #[error("Duplicate resource. ({0})")]
    DuplicateResource(String),
    /// A non-GET operation named a vault that does not exist: 400, not 404.
    #[error("Vault Not Found")]
    VaultNotFound,
    /// A GET named a vault that does not exist: a plain 404.
    #[error("Vault Not Found")]
    VaultNotFoundOnRead,
    #[error("The vault can not update, error_msg: {0}.")]
    CannotUpdate(String),
    #[error("Vault status is illegal, allow status: {allowed}.")]
    IllegalStatus { allowed: &'static str },
    /// The credentials are valid but not for the project in the path.
    #[error("No permission for project {0}: the credentials belong to another project.")]
    ProjectMismatch(String),
}

impl CbrError {
    pub fn code(&self) -> &'static str {
        match self {
            CbrError::InvalidParameter(_) => INVALID_PARAMETER,
            CbrError::TooManyResources { .. } => "BackupService.6100",
            CbrError::InvalidSize => "BackupService.6101",
            CbrError::ResourceTypeMismatch { .. } => "BackupService.6102",
            CbrError::ResourceInOtherVault(_) => "BackupService.6103",
            CbrError::DuplicateResource(_) => "BackupService.6104",
            CbrError::VaultNotFound | CbrError::VaultNotFoundOnRead => "BackupService.6105",
            CbrError::CannotUpdate(_) => "BackupService.6110",
            CbrError::IllegalStatus { .. } => "BackupService.6112",
            CbrError::ProjectMismatch(_) => "BackupService.0403",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            CbrError::VaultNotFoundOnRead => StatusCode::NOT_FOUND,
            CbrError::ProjectMismatch(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The same failure as a GET reports it.
    pub fn on_read(self) -> Self {
        match self {
            CbrError::VaultNotFound => CbrError::VaultNotFoundOnRead,
            other => other,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        CbrError::InvalidParameter(message.into())
    }
}

impl IntoResponse for CbrError {
    fn into_response(self) -> Response {
        let body = json!({"error_code": self.code(), "error_msg": self.to_string()});
        (self.status(), Json(body)).into_response()
    }
}

/// An answer from the API gateway in front of the services:
/// `{"error_code":"APIGW.NNNN","error_msg","request_id"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Authentication failed; the message follows the gateway's wording.
    #[error("Incorrect IAM authentication information: {0}")]
    Unauthorized(String),
    #[error(
        "The throttling threshold has been reached: policy user over ratelimit,limit:{limit},time:1 second"
    )]
    Throttled { limit: u32, retry_after: Duration },
    #[error("The API does not exist or has not been published in the environment")]
    ApiNotFound,
    #[error("Request entity too large")]
    BodyTooLarge,
    /// A 502 or 503 drawn from the fault rates.
    #[error("Backend unavailable")]
    BackendUnavailable(StatusCode),
    /// A 504: drawn from the fault rates, or a lost response.
    #[error("Backend timeout")]
    BackendTimeout,
    /// A 500 drawn from the fault rates, as CBR reports an internal error.
    #[error("The system is busy. Please try later.")]
    SystemBusy,
    /// Any other status drawn from the fault rates.
    #[error("Fault injected by the emulator")]
    Injected(StatusCode),
}

impl GatewayError {
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::Unauthorized(_) => "APIGW.0301",
            GatewayError::Throttled { .. } => "APIGW.0308",
            GatewayError::ApiNotFound => "APIGW.0101",
            GatewayError::BodyTooLarge => "APIGW.0201",
            GatewayError::BackendUnavailable(_) => "APIGW.0202",
            GatewayError::BackendTimeout => "APIGW.0203",
            // Observed from CBR for internal errors on every API.
            GatewayError::SystemBusy => "CSBS.9999",
            GatewayError::Injected(_) => "Emulator.Fault",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            GatewayError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::ApiNotFound => StatusCode::NOT_FOUND,
            GatewayError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::BackendUnavailable(status) | GatewayError::Injected(status) => *status,
            GatewayError::BackendTimeout => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::SystemBusy => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The gateway's answer for an injected error status.
    pub fn for_status(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match status.as_u16() {
            500 => GatewayError::SystemBusy,
            502 | 503 => GatewayError::BackendUnavailable(status),
            504 => GatewayError::BackendTimeout,
            _ => GatewayError::Injected(status),
        }
    }

    /// Renders the error, carrying the request id as the gateway does.
    pub fn into_response_with_id(self, request_id: &str) -> Response {
        let body = json!({
            "error_code": self.code(),
            "error_msg": self.to_string(),
            "request_id": request_id,
        });
        let mut response = (self.status(), Json(body)).into_response();
        if let GatewayError::Throttled { retry_after, .. } = self {
            // Whole seconds, rounded up: "0" would invite an immediate retry.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// An IAM token error. Keystone-compatible routes answer bad credentials in
/// the nested `{"error":{"code","message","title"}}` shape, and a malformed
/// body with IAM's newer `{"error_code":"IAM.0011","error_msg"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    #[error("The username or password is wrong.")]
    WrongCredentials,
    #[error("The scope {0} does not exist or the user has no access to it.")]
    UnknownScope(String),
    #[error("Request body is invalid. {0}")]
    InvalidBody(String),
}

impl IntoResponse for IamError {
    fn into_response(self) -> Response {
        match self {
            IamError::WrongCredentials | IamError::UnknownScope(_) => {
                let body = json!({"error": {
                    "code": 401,
                    "message": self.to_string(),
                    "title": "Unauthorized",
                }});
                (StatusCode::UNAUTHORIZED, Json(body)).into_response()
            }
            IamError::InvalidBody(_) => {
                let body = json!({"error_code": "IAM.0011", "error_msg": self.to_string()});
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_not_found_is_400_except_on_read() {
        assert_eq!(CbrError::VaultNotFound.status(), StatusCode::BAD_REQUEST);
        let read = CbrError::VaultNotFound.on_read();
        assert_eq!(read.status(), StatusCode::NOT_FOUND);
        assert_eq!(read.code(), "BackupService.6105");
        assert_eq!(read.to_string(), "Vault Not Found");
    }

    #[test]
    fn throttle_message_matches_the_gateway() {
        let err = GatewayError::Throttled {
            limit: 5,
            retry_after: Duration::from_millis(200),
        };
        assert_eq!(
            err.to_string(),
            "The throttling threshold has been reached: policy user over ratelimit,limit:5,time:1 second"
        );
        let response = err.into_response_with_id("abc");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn injected_statuses_map_to_gateway_codes() {
        assert_eq!(GatewayError::for_status(500).code(), "CSBS.9999");
        assert_eq!(
            GatewayError::for_status(503).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(GatewayError::for_status(504).code(), "APIGW.0203");
        assert_eq!(
            GatewayError::for_status(418).status(),
            StatusCode::IM_A_TEAPOT
        );
    }
}
