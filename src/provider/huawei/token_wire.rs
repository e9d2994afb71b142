//! IAM's token call (`POST /v3/auth/tokens`) as it travels: the password
//! request, project- or domain-scoped, and the parts of the answer coffer
//! reads. Kept apart from the CBR bodies in `wire.rs`.

use serde::{Deserialize, Serialize};

use super::wire::string_or_number;

/// `POST /v3/auth/tokens` body for a project-scoped password token.
#[derive(Serialize)]
pub struct TokenRequest<'a> {
    pub auth: TokenAuth<'a>,
}

impl<'a> TokenRequest<'a> {
    pub fn password(
        user: &'a str,
        password: &'a str,
        domain: &'a str,
        project_id: &'a str,
    ) -> Self {
        TokenRequest {
            auth: TokenAuth {
                identity: Identity {
                    methods: ["password"],
                    password: PasswordIdentity {
                        user: PasswordUser {
                            name: user,
                            password,
                            domain: Named { name: domain },
                        },
                    },
                },
                scope: Scope {
                    project: Some(ById { id: project_id }),
                    domain: None,
                },
            },
        }
    }

    /// The same user, with a token scoped to the account (IAM agencies).
    pub fn password_for_domain(
        user: &'a str,
        password: &'a str,
        domain: &'a str,
        domain_id: &'a str,
    ) -> Self {
        let mut request = Self::password(user, password, domain, domain_id);
        request.auth.scope = Scope {
            project: None,
            domain: Some(ById { id: domain_id }),
        };
        request
    }
}

// The body holds the password; a derived Debug would print it.
impl std::fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenRequest { .. }")
    }
}

#[derive(Serialize)]
pub struct TokenAuth<'a> {
    pub identity: Identity<'a>,
    pub scope: Scope<'a>,
}

#[derive(Serialize)]
pub struct Identity<'a> {
    pub methods: [&'static str; 1],
    pub password: PasswordIdentity<'a>,
}

#[derive(Serialize)]
pub struct PasswordIdentity<'a> {
    pub user: PasswordUser<'a>,
}

#[derive(Serialize)]
pub struct PasswordUser<'a> {
    pub name: &'a str,
    pub password: &'a str,
    pub domain: Named<'a>,
}

#[derive(Serialize)]
pub struct Named<'a> {
    pub name: &'a str,
}

#[derive(Serialize)]
pub struct Scope<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<ById<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<ById<'a>>,
}

#[derive(Serialize)]
pub struct ById<'a> {
    pub id: &'a str,
}

/// The parts of the token response body coffer reads; the token itself is
/// in the `X-Subject-Token` header.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenResponse {
    pub token: TokenInfo,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct TokenInfo {
    #[serde(default, deserialize_with = "string_or_number")]
    pub expires_at: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub issued_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_request_scopes_to_the_project() {
        let body = serde_json::to_value(TokenRequest::password("u", "p", "acct", "proj")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"auth":{
                "identity":{"methods":["password"],"password":{"user":{
                    "name":"u","password":"p","domain":{"name":"acct"}}}},
                "scope":{"project":{"id":"proj"}}}})
        );
        assert_eq!(
            format!("{:?}", TokenRequest::password("u", "hunter2", "a", "p")),
            "TokenRequest { .. }"
        );
    }
}
