//! Authentication of IAM agency calls: a domain-scoped token for the
//! caller's own account, or an AK/SK signature that also signs
//! `X-Domain-Id` (IAM is a global service, so the gateway needs the account
//! rather than a project). A project-scoped token is refused, which is what
//! makes clients fetch the domain-scoped token IAM requires.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use super::error::AgencyError;
use crate::emulator::huawei::auth::{RequestView, verify_signature};
use crate::emulator::huawei::error::GatewayError;
use crate::emulator::huawei::identity::Identity;
use crate::emulator::huawei::token::{Scope, TokenIssuer};
use crate::emulator::operation::Operation;

const DOMAIN_HEADER: &str = "x-domain-id";

/// The operations IAM serves to a domain-scoped caller, as opposed to the
/// project-scoped CBR ones; the gate authenticates them with [`authenticate`].
pub fn is_domain_scoped(op: Operation) -> bool {
    use Operation::*;
    matches!(
        op,
        CreateAgency
            | ShowAgency
            | ListAgencies
            | UpdateAgency
            | DeleteAgency
            | KeystoneListPermissions
            | KeystoneListProjects
            | AssociateAgencyWithProjectPermission
            | CheckProjectPermissionForAgency
            | RemoveProjectPermissionFromAgency
            | ListProjectPermissionsForAgency
            | AssociateAgencyWithDomainPermission
            | CheckDomainPermissionForAgency
            | RemoveDomainPermissionFromAgency
            | ListDomainPermissionsForAgency
            | AssociateAgencyWithAllProjectsPermission
            | CheckAllProjectsPermissionForAgency
            | RemoveAllProjectsPermissionFromAgency
            | ListAllProjectsPermissionsForAgency
            | ShowDomainRoleAssignments
    )
}

/// Admits a call made for the configured account; the `Err` is the answer
/// (boxed: a response is large, and admission is the common case).
pub fn authenticate(
    identity: &Identity,
    tokens: &TokenIssuer,
    req: &RequestView<'_>,
    now: Timestamp,
    request_id: &str,
) -> Result<(), Box<Response>> {
    let unauthorized = |message: String| {
        Box::new(GatewayError::Unauthorized(message).into_response_with_id(request_id))
    };
    if let Some(token) = req.headers.get("x-auth-token") {
        let claims = tokens
            .verify(token.to_str().unwrap_or(""), now)
            .map_err(|e| unauthorized(e.to_string()))?;
        return match claims.scope {
            Scope::Domain(domain) if domain == identity.domain_id => Ok(()),
            Scope::Domain(domain) => Err(forbidden(format!("the token is for domain {domain}"))),
            Scope::Project(project) => Err(forbidden(format!(
                "IAM agency APIs need a domain-scoped token; this one is scoped to project {project}"
            ))),
        };
    }
    if let Some(authorization) = req.headers.get("authorization") {
        verify_signature(identity, authorization.to_str().unwrap_or(""), req, now)
            .map_err(|failure| Box::new(failure.into_response_with_id(request_id)))?;
        return match header_str(req.headers, DOMAIN_HEADER) {
            Some(domain) if domain == identity.domain_id => Ok(()),
            Some(domain) => Err(forbidden(format!(
                "X-Domain-Id {domain} is not the caller's account"
            ))),
            None => Err(unauthorized(
                "verify aksk signature fail, a global service needs the signed header X-Domain-Id"
                    .to_string(),
            )),
        };
    }
    Err(unauthorized("x-auth-token not found".to_string()))
}

fn forbidden(reason: String) -> Box<Response> {
    Box::new(AgencyError::Forbidden(reason).into_response())
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}
