//! What a `POST /v3/auth/tokens` body says: the identity methods (a
//! password, or an agency to assume) and the scope asked for, read as IAM
//! reads them, and that scope resolved against the one account.

use serde::Deserialize;

use super::error::IamError;
use super::identity::Identity;
use super::token::Scope;

#[derive(Deserialize)]
pub struct AuthBody {
    pub auth: Auth,
}

#[derive(Deserialize)]
pub struct Auth {
    pub identity: AuthIdentity,
    pub scope: Option<AuthScope>,
}

#[derive(Deserialize)]
pub struct AuthIdentity {
    pub methods: Vec<String>,
    pub password: Option<PasswordIdentity>,
    pub assume_role: Option<AssumeRole>,
}

#[derive(Deserialize)]
pub struct PasswordIdentity {
    pub user: PasswordUser,
}

#[derive(Deserialize)]
pub struct PasswordUser {
    pub id: Option<String>,
    pub name: Option<String>,
    pub password: String,
    pub domain: Option<NameOrId>,
}

#[derive(Deserialize)]
pub struct AuthScope {
    pub project: Option<NameOrId>,
    pub domain: Option<NameOrId>,
}

#[derive(Deserialize)]
pub struct NameOrId {
    pub id: Option<String>,
    pub name: Option<String>,
}

impl NameOrId {
    pub fn matches(&self, id: &str, name: &str) -> bool {
        match (&self.id, &self.name) {
            (Some(given), _) => given == id,
            (None, Some(given)) => given == name,
            (None, None) => false,
        }
    }

    pub fn describe(&self) -> String {
        self.id
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or("(empty)")
            .to_string()
    }
}

/// The `assume_role` identity: the delegating account and its agency.
#[derive(Deserialize)]
pub struct AssumeRole {
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
    /// `xrole_name` in IAM's token API; `agency_name` is what the
    /// temporary-credential API and providers.md call it, so both are read.
    #[serde(alias = "agency_name")]
    pub xrole_name: Option<String>,
    /// Optional cap on the token's lifetime, as the temporary-credential
    /// API takes it; without it the token lives as long as a user's.
    pub duration_seconds: Option<u64>,
}

/// The project or domain of the one account that a token asks for.
pub fn resolve_scope(identity: &Identity, scope: Option<&AuthScope>) -> Result<Scope, IamError> {
    let scope = scope.ok_or_else(|| IamError::InvalidBody("auth.scope is required".to_string()))?;
    match (&scope.project, &scope.domain) {
        (Some(project), None) => {
            if project.matches(&identity.project_id, &identity.region) {
                Ok(Scope::Project(identity.project_id.clone()))
            } else {
                Err(IamError::UnknownScope(format!(
                    "project {}",
                    project.describe()
                )))
            }
        }
        (None, Some(domain)) => {
            if domain.matches(&identity.domain_id, &identity.domain_name) {
                Ok(Scope::Domain(identity.domain_id.clone()))
            } else {
                Err(IamError::UnknownScope(format!(
                    "domain {}",
                    domain.describe()
                )))
            }
        }
        _ => Err(IamError::InvalidBody(
            "auth.scope needs exactly one of project or domain".to_string(),
        )),
    }
}
