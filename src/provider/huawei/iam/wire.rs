//! IAM agency request and response bodies, as the API documents them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize)]
pub struct CreateAgencyBody<'a> {
    pub agency: CreateAgency<'a>,
}

#[derive(Serialize)]
pub struct CreateAgency<'a> {
    pub name: &'a str,
    pub domain_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_domain_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_domain_name: Option<&'a str>,
    pub description: &'a str,
    /// `"FOREVER"` or a number of days.
    pub duration: Value,
}

#[derive(Serialize)]
pub struct UpdateAgencyBody<'a> {
    pub agency: UpdateAgency<'a>,
}

/// Seed 004: only what changes, the trust pair together or not at all.
#[derive(Serialize, Default)]
pub struct UpdateAgency<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_domain_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_domain_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<Value>,
}

#[derive(Deserialize)]
pub struct AgencyEnvelope {
    pub agency: WireAgency,
}

#[derive(Deserialize)]
pub struct AgencyList {
    #[serde(default)]
    pub agencies: Vec<WireAgency>,
}

#[derive(Deserialize)]
pub struct WireAgency {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub trust_domain_id: Option<String>,
    #[serde(default)]
    pub trust_domain_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Hours as a string, `"FOREVER"`, or `null`; some clouds answer a number.
    #[serde(default)]
    pub duration: Value,
    #[serde(default)]
    pub expire_time: Option<String>,
    #[serde(default)]
    pub create_time: Option<String>,
    #[serde(default)]
    pub agency_urn: Option<String>,
}

#[derive(Deserialize)]
pub struct RoleList {
    #[serde(default)]
    pub roles: Vec<WireRole>,
}

#[derive(Deserialize)]
pub struct WireRole {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Deserialize)]
pub struct ProjectList {
    #[serde(default)]
    pub projects: Vec<WireProject>,
}

#[derive(Deserialize)]
pub struct WireProject {
    pub id: String,
    pub name: String,
}

/// A page of `GET /v3.0/OS-PERMISSION/role-assignments`.
#[derive(Deserialize)]
pub struct RoleAssignmentList {
    #[serde(default)]
    pub role_assignments: Vec<WireRoleAssignment>,
    /// Every record the query matches, across all pages.
    #[serde(default)]
    pub total_num: Option<u64>,
}

/// One grant: to a user, a group or (the only kind coffer asks for) an
/// agency, of a role, on a scope.
#[derive(Deserialize)]
pub struct WireRoleAssignment {
    #[serde(default)]
    pub agency: Option<WireId>,
    pub role: WireId,
    #[serde(default)]
    pub scope: WireAssignmentScope,
    /// On a domain scope: granted on all the account's projects.
    #[serde(default)]
    pub is_inherited: bool,
}

/// Exactly one of these is set.
#[derive(Deserialize, Default)]
pub struct WireAssignmentScope {
    #[serde(default)]
    pub project: Option<WireId>,
    #[serde(default)]
    pub domain: Option<WireId>,
    #[serde(default)]
    pub enterprise_project: Option<WireId>,
}

#[derive(Deserialize)]
pub struct WireId {
    pub id: String,
}
