//! IAM agency errors in the Keystone shape the agency APIs answer:
//! `{"error":{"code":<status>,"message","title"}}` (providers.md §1.4, seed 004).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgencyError {
    #[error("Invalid input for field '{0}'.")]
    Invalid(String),
    #[error("Could not find agency: {0}.")]
    AgencyNotFound(String),
    /// The seed's exact message for an unknown delegated account.
    #[error("TrustDomainNotFound")]
    TrustDomainNotFound,
    #[error("Could not find role: {0}.")]
    RoleNotFound(String),
    #[error("Could not find project: {0}.")]
    ProjectNotFound(String),
    #[error("Could not find domain: {0}.")]
    DomainNotFound(String),
    /// A grant HEAD or DELETE named a grant that is not there.
    #[error("Could not find role assignment.")]
    GrantNotFound,
    #[error("Conflict occurred attempting to store agency - Duplicate entry {0}.")]
    Duplicate(String),
    /// The caller asked about another account than its own.
    #[error("You are not authorized to perform the requested action: {0}.")]
    Forbidden(String),
}

impl AgencyError {
    pub fn status(&self) -> StatusCode {
        match self {
            AgencyError::Invalid(_) => StatusCode::BAD_REQUEST,
            AgencyError::Forbidden(_) => StatusCode::FORBIDDEN,
            AgencyError::Duplicate(_) => StatusCode::CONFLICT,
            _ => StatusCode::NOT_FOUND,
        }
    }

    fn title(&self) -> &'static str {
        match self.status() {
            StatusCode::BAD_REQUEST => "Bad Request",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::CONFLICT => "Conflict",
            _ => "Not Found",
        }
    }

    pub fn invalid(field: impl Into<String>) -> Self {
        AgencyError::Invalid(field.into())
    }
}

impl IntoResponse for AgencyError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "code": self.status().as_u16(),
            "message": self.to_string(),
            "title": self.title(),
        }});
        (self.status(), Json(body)).into_response()
    }
}
