//! [`IamAgencyApi`] over HTTP: agencies, grants on the three scopes, and
//! the role and project catalogs, in provider-neutral types; and one
//! listing of every agency with its grants, which answers drift checks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::assignments::list_agency_grants;
use super::catalogs::Catalogs;
use super::client::{IamClient, json};
use super::wire::{
    AgencyEnvelope, AgencyList, CreateAgency, CreateAgencyBody, ProjectList, RoleList,
    UpdateAgency, UpdateAgencyBody, WireAgency,
};
use super::{
    Agency, AgencyCreate, AgencyUpdate, Grant, GrantScope, IamAgencyApi, ListedAgency, Project,
    Role, Validity,
};
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::huawei::client::{Call, HuaweiConnection};
use crate::provider::huawei::transport::Response;
use crate::provider::listing::{ListCap, Tally};
use crate::provider::metrics::ProviderMetrics;
use crate::provider::snapshot::{Listed, Packed, Snapshot};

/// The largest page IAM's agency list serves.
const PER_PAGE: u32 = 500;
/// A listing that has not ended after this many pages is broken (the
/// server ignoring `page`), not large: it would be 100,000 agencies.
const MAX_PAGES: u32 = 200;

/// IAM agencies of one account.
#[derive(Debug)]
pub struct HuaweiAgencies {
    iam: IamClient,
    catalogs: Catalogs,
    /// The last listing of every agency of the account with its grants,
    /// which answers drift checks (see [`IamAgencyApi::listed_agency`]).
    /// A write to an agency or to its grants marks it written.
    snapshot: Snapshot<ListedAgency>,
}

impl HuaweiAgencies {
    pub fn new(
        conn: &HuaweiConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            iam: IamClient::new(conn, metrics, budget)?,
            catalogs: Catalogs::default(),
            snapshot: Snapshot::default(),
        })
    }

    /// Every agency of the account with its grants, by id. The agencies
    /// are listed first: an agency in this listing existed when its grants
    /// were listed, so one the grant list lacks has none (a grant written
    /// since by this process marks the agency written, and it is read by id).
    async fn list_all(&self) -> Result<Packed<ListedAgency>, ProviderError> {
        let agencies = self.list_agencies().await?;
        let mut grants = match list_agency_grants(&self.iam).await {
            Ok(grants) => Some(grants),
            // A custom policy may allow the per-agency grant reads and not
            // this list (iam:permissions:listRoleAssignments): drift checks
            // then read grants per agency, as they did before the list.
            Err(e @ ProviderError::Unauthorized { .. }) => {
                tracing::warn!(error = %e, "listing role assignments was refused; reading each agency's grants instead");
                None
            }
            Err(e) => return Err(e),
        };
        Ok(agencies
            .into_iter()
            .map(|(id, agency)| {
                let grants = grants
                    .as_mut()
                    .map(|all| all.remove(&id).unwrap_or_default());
                (id, ListedAgency { agency, grants })
            })
            .collect())
    }

    /// Every agency of the account, by id, page after page until a short one.
    async fn list_agencies(&self) -> Result<HashMap<String, Agency>, ProviderError> {
        let mut all = HashMap::new();
        let mut tally = Tally::with_cap(ListCap::SNAPSHOT, "agencies");
        for page in 1..=MAX_PAGES {
            let call = Call::new("list_agencies", Method::GET, "every agency")
                .path(&["v3.0", "OS-AGENCY", "agencies"])
                .query(&[
                    ("domain_id", self.iam.domain_id().to_string()),
                    ("page", page.to_string()),
                    ("per_page", PER_PAGE.to_string()),
                ]);
            let read = |resp: &Response| json::<AgencyList>(resp).map(|l| (l, resp.body.len()));
            let (list, bytes) = self.iam.call(&call, read).await?;
            tally.page(list.agencies.len(), bytes)?;
            let last = list.agencies.len() < PER_PAGE as usize;
            all.extend(
                list.agencies
                    .into_iter()
                    .map(agency_from_wire)
                    .map(|a| (a.id.clone(), a)),
            );
            if last {
                return Ok(all);
            }
        }
        Err(ProviderError::Transient {
            message: format!("listing agencies did not end after {MAX_PAGES} pages"),
        })
    }

    /// `result` of a write to agency `id`: whatever it was, a listing from
    /// before it no longer answers for the agency.
    fn wrote<T>(&self, id: &str, result: Result<T, ProviderError>) -> Result<T, ProviderError> {
        self.snapshot.written(id);
        result
    }

    async fn agency_call(&self, call: Call) -> Result<Agency, ProviderError> {
        let env = self.iam.call(&call, json::<AgencyEnvelope>).await?;
        Ok(agency_from_wire(env.agency))
    }

    /// The path of one grant (PUT, HEAD, DELETE) or, without a role, of
    /// the grant list.
    fn grant_path(&self, id: &str, scope: &GrantScope, role: Option<&str>) -> Vec<String> {
        let domain = self.iam.domain_id().to_string();
        let mut path: Vec<String> = match scope {
            GrantScope::Project(project) => vec![
                "v3.0".into(),
                "OS-AGENCY".into(),
                "projects".into(),
                project.clone(),
            ],
            GrantScope::Domain => vec!["v3.0".into(), "OS-AGENCY".into(), "domains".into(), domain],
            GrantScope::AllProjects => {
                vec!["v3.0".into(), "OS-INHERIT".into(), "domains".into(), domain]
            }
        };
        path.extend(["agencies".to_string(), id.to_string(), "roles".to_string()]);
        if let Some(role) = role {
            path.push(role.to_string());
        }
        if matches!(scope, GrantScope::AllProjects) {
            path.push("inherited_to_projects".to_string());
        }
        path
    }
}

/// The duration as a request carries it: `"FOREVER"` or days.
pub fn validity_to_wire(validity: Validity) -> Value {
    match validity {
        Validity::Forever => json!("FOREVER"),
        Validity::Days(days) => json!(days),
    }
}

/// IAM answers in hours (`"24"`, `"480"`), `"FOREVER"` or `null`; some
/// clouds answer the request's words. All read as days.
pub fn validity_from_wire(value: &Value) -> Option<Validity> {
    let hours = |h: u64| {
        (h > 0 && h.is_multiple_of(24))
            .then(|| u32::try_from(h / 24).ok().map(Validity::Days))
            .flatten()
    };
    match value {
        Value::Null => Some(Validity::Forever),
        Value::String(s) if s.eq_ignore_ascii_case("FOREVER") || s.is_empty() => {
            Some(Validity::Forever)
        }
        Value::String(s) if s.eq_ignore_ascii_case("ONEDAY") => Some(Validity::Days(1)),
        Value::String(s) => s.parse().ok().and_then(hours),
        Value::Number(n) => n.as_u64().and_then(hours),
        _ => None,
    }
}

pub fn agency_from_wire(wire: WireAgency) -> Agency {
    Agency {
        validity: validity_from_wire(&wire.duration),
        id: wire.id,
        name: wire.name,
        trust_domain_id: wire.trust_domain_id.unwrap_or_default(),
        trust_domain_name: wire.trust_domain_name,
        description: wire.description.unwrap_or_default(),
        expire_time: wire.expire_time,
        create_time: wire.create_time,
        urn: wire.agency_urn,
    }
}

#[async_trait]
impl IamAgencyApi for HuaweiAgencies {
    async fn get_agency(&self, id: &str) -> Result<Agency, ProviderError> {
        let id = checked_id(id)?;
        let call = Call::new("get_agency", Method::GET, agency_what(id)).path(&[
            "v3.0",
            "OS-AGENCY",
            "agencies",
            id,
        ]);
        self.agency_call(call).await
    }

    async fn find_agencies(&self, name: &str) -> Result<Vec<Agency>, ProviderError> {
        let call = Call::new(
            "list_agencies",
            Method::GET,
            format!("agencies named {name:?}"),
        )
        .path(&["v3.0", "OS-AGENCY", "agencies"])
        .query(&[
            ("domain_id", self.iam.domain_id().to_string()),
            ("name", name.to_string()),
            ("page", "1".to_string()),
            ("per_page", PER_PAGE.to_string()),
        ]);
        let list = self.iam.call(&call, json::<AgencyList>).await?;
        // Names are unique in an account; the filter guards against a
        // server that ignores `name`.
        Ok(list
            .agencies
            .into_iter()
            .filter(|a| a.name == name)
            .map(agency_from_wire)
            .collect())
    }

    async fn create_agency(&self, create: &AgencyCreate) -> Result<Agency, ProviderError> {
        let body = CreateAgencyBody {
            agency: CreateAgency {
                name: &create.name,
                domain_id: self.iam.domain_id(),
                trust_domain_id: create.trust.id.as_deref(),
                trust_domain_name: create.trust.name.as_deref(),
                description: &create.description,
                duration: validity_to_wire(create.validity),
            },
        };
        let call = Call::new(
            "create_agency",
            Method::POST,
            format!("agency {}", create.name),
        )
        .path(&["v3.0", "OS-AGENCY", "agencies"])
        .json(&body)?;
        let created = self.agency_call(call).await?;
        self.snapshot.written(&created.id);
        Ok(created)
    }

    async fn update_agency(
        &self,
        id: &str,
        update: &AgencyUpdate,
    ) -> Result<Agency, ProviderError> {
        let id = checked_id(id)?;
        let body = UpdateAgencyBody {
            agency: UpdateAgency {
                trust_domain_id: update.trust.as_ref().map(|(id, _)| id.as_str()),
                trust_domain_name: update.trust.as_ref().map(|(_, name)| name.as_str()),
                description: update.description.as_deref(),
                duration: update.validity.map(validity_to_wire),
            },
        };
        let call = Call::new("update_agency", Method::PUT, agency_what(id))
            .path(&["v3.0", "OS-AGENCY", "agencies", id])
            .json(&body)?;
        self.wrote(id, self.agency_call(call).await)
    }

    async fn delete_agency(&self, id: &str) -> Result<(), ProviderError> {
        let id = checked_id(id)?;
        let call = Call::new("delete_agency", Method::DELETE, agency_what(id)).path(&[
            "v3.0",
            "OS-AGENCY",
            "agencies",
            id,
        ]);
        match self.wrote(id, self.iam.call(&call, ignore_body).await) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    async fn list_grants(
        &self,
        id: &str,
        scope: &GrantScope,
    ) -> Result<Vec<String>, ProviderError> {
        let id = checked_id(id)?;
        let path = self.grant_path(id, scope, None);
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let call = Call::new("list_agency_grants", Method::GET, agency_what(id)).path(&segments);
        let list = self.iam.call(&call, json::<RoleList>).await?;
        Ok(list.roles.into_iter().map(|r| r.id).collect())
    }

    async fn grant(&self, id: &str, grant: &Grant) -> Result<(), ProviderError> {
        let id = checked_id(id)?;
        let path = self.grant_path(id, &grant.scope, Some(checked_id(&grant.role_id)?));
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let call = Call::new("grant_agency_role", Method::PUT, agency_what(id)).path(&segments);
        self.wrote(id, self.iam.call(&call, ignore_body).await)
    }

    async fn revoke(&self, id: &str, grant: &Grant) -> Result<(), ProviderError> {
        let id = checked_id(id)?;
        let path = self.grant_path(id, &grant.scope, Some(checked_id(&grant.role_id)?));
        let segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let call = Call::new("revoke_agency_role", Method::DELETE, agency_what(id)).path(&segments);
        match self.wrote(id, self.iam.call(&call, ignore_body).await) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    async fn find_role(&self, name: &str) -> Result<Option<Role>, ProviderError> {
        if let Some(role) = self.catalogs.role(name) {
            return Ok(Some(role));
        }
        for key in ["display_name", "name"] {
            let call = Call::new("list_roles", Method::GET, format!("role {name:?}"))
                .path(&["v3", "roles"])
                .query(&[(key, name.to_string())]);
            let list = self.iam.call(&call, json::<RoleList>).await?;
            let found = list
                .roles
                .into_iter()
                .find(|r| r.display_name.as_deref() == Some(name) || r.name == name);
            if let Some(role) = found {
                let role = Role {
                    id: role.id,
                    name: role.name,
                    display_name: role.display_name,
                };
                self.catalogs.keep_role(name, &role);
                return Ok(Some(role));
            }
        }
        Ok(None)
    }

    async fn list_projects(&self) -> Result<Vec<Project>, ProviderError> {
        match self.catalogs.projects() {
            Some(projects) => Ok(projects),
            None => self.list_projects_now().await,
        }
    }

    async fn list_projects_now(&self) -> Result<Vec<Project>, ProviderError> {
        let call = Call::new("list_projects", Method::GET, "projects")
            .path(&["v3", "projects"])
            .query(&[("domain_id", self.iam.domain_id().to_string())]);
        let list = self.iam.call(&call, json::<ProjectList>).await?;
        // `MOS` is a hidden project IAM lists but nothing can be granted on.
        let projects: Vec<Project> = list
            .projects
            .into_iter()
            .filter(|p| p.name != "MOS")
            .map(|p| Project {
                id: p.id,
                name: p.name,
            })
            .collect();
        self.catalogs.keep_projects(&projects);
        Ok(projects)
    }

    async fn listed_agency(
        &self,
        id: &str,
        max_age: Duration,
    ) -> Result<Listed<ListedAgency>, ProviderError> {
        self.snapshot.lookup(id, max_age, || self.list_all()).await
    }
}

fn agency_what(id: &str) -> String {
    format!("agency {id}")
}

/// An empty or dot id would address another resource, and its 404 would
/// read as "deleted".
fn checked_id(id: &str) -> Result<&str, ProviderError> {
    if matches!(id.trim(), "" | "." | "..") {
        return Err(ProviderError::Invalid {
            code: "InvalidAgencyId".to_string(),
            message: format!("{id:?} is not an agency or role id"),
        });
    }
    Ok(id)
}

fn ignore_body(_: &Response) -> Result<(), ProviderError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_hours_read_as_days() {
        assert_eq!(validity_from_wire(&json!("480")), Some(Validity::Days(20)));
        assert_eq!(validity_from_wire(&json!("24")), Some(Validity::Days(1)));
        assert_eq!(
            validity_from_wire(&json!("ONEDAY")),
            Some(Validity::Days(1))
        );
        assert_eq!(
            validity_from_wire(&json!("FOREVER")),
            Some(Validity::Forever)
        );
        assert_eq!(validity_from_wire(&Value::Null), Some(Validity::Forever));
        assert_eq!(validity_from_wire(&json!("25")), None);
    }

    #[test]
    fn durations_are_sent_in_days() {
        assert_eq!(validity_to_wire(Validity::Days(20)), json!(20));
        assert_eq!(validity_to_wire(Validity::Forever), json!("FOREVER"));
    }
}
