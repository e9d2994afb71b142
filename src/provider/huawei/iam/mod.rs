//! Huawei IAM agencies and their role grants, behind [`IamAgencyApi`] in
//! provider-neutral types: durations in days (IAM answers in hours), grants
//! as (scope, role id) pairs. [`HuaweiAgencies`] speaks IAM over HTTP.

pub mod agencies;
pub mod assignments;
pub mod catalogs;
pub mod client;
pub mod errors;
pub mod wire;

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use agencies::HuaweiAgencies;

use crate::provider::ProviderError;
use crate::provider::snapshot::Listed;

/// How long an agency is valid, normalised: IAM's `null`, `"FOREVER"`,
/// `"ONEDAY"`, `"24"` hours and `1` day all read as one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Validity {
    Forever,
    Days(u32),
}

/// An agency as IAM reports it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Agency {
    pub id: String,
    pub name: String,
    pub trust_domain_id: String,
    /// Only show and list carry it.
    pub trust_domain_name: Option<String>,
    pub description: String,
    /// `None` when IAM's answer could not be read as a duration.
    pub validity: Option<Validity>,
    pub expire_time: Option<String>,
    pub create_time: Option<String>,
    pub urn: Option<String>,
}

/// The delegated account as a request names it. IAM checks the name first
/// and, when both are given, the name wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustParty {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// Everything needed to create an agency in the caller's account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyCreate {
    pub name: String,
    pub trust: TrustParty,
    pub description: String,
    pub validity: Validity,
}

/// What an update changes; `None` leaves a field as it is. Seed 004: the
/// trust id and name go together, so `trust` carries both.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AgencyUpdate {
    pub trust: Option<(String, String)>,
    pub description: Option<String>,
    pub validity: Option<Validity>,
}

/// Where a grant applies; the account is always the caller's own.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GrantScope {
    /// One project, by id.
    Project(String),
    Domain,
    AllProjects,
}

/// A role on a scope.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub scope: GrantScope,
    pub role_id: String,
}

/// An agency and its grants, as one listing of the account shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedAgency {
    pub agency: Agency,
    /// Every grant the listing shows, on any project: the caller keeps
    /// those on the scopes it reads. `None` when the credentials may read
    /// each agency's grants but not list the account's: read them per scope.
    pub grants: Option<BTreeSet<Grant>>,
}

/// A role from the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
}

/// A project of the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
}

/// The IAM calls an Agency controller makes.
#[async_trait]
pub trait IamAgencyApi: Send + Sync + std::fmt::Debug {
    /// `GET /v3.0/OS-AGENCY/agencies/{id}`; `NotFound` when missing.
    async fn get_agency(&self, id: &str) -> Result<Agency, ProviderError>;
    /// The agencies of the account with exactly this name (at most one).
    async fn find_agencies(&self, name: &str) -> Result<Vec<Agency>, ProviderError>;
    async fn create_agency(&self, create: &AgencyCreate) -> Result<Agency, ProviderError>;
    async fn update_agency(&self, id: &str, update: &AgencyUpdate)
    -> Result<Agency, ProviderError>;
    /// A missing agency counts as deleted.
    async fn delete_agency(&self, id: &str) -> Result<(), ProviderError>;
    /// The role ids granted on one scope.
    async fn list_grants(&self, id: &str, scope: &GrantScope)
    -> Result<Vec<String>, ProviderError>;
    async fn grant(&self, id: &str, grant: &Grant) -> Result<(), ProviderError>;
    /// A grant already gone counts as revoked.
    async fn revoke(&self, id: &str, grant: &Grant) -> Result<(), ProviderError>;
    /// A role by display name (`CBR FullAccess`) or by name (`readonly`).
    /// A role found in the last few minutes may be answered from a copy.
    async fn find_role(&self, name: &str) -> Result<Option<Role>, ProviderError>;
    /// Every project of the account, possibly as listed a few minutes ago.
    async fn list_projects(&self) -> Result<Vec<Project>, ProviderError>;
    /// Every project of the account, listed now: for a name the list from
    /// [`IamAgencyApi::list_projects`] lacks.
    async fn list_projects_now(&self) -> Result<Vec<Project>, ProviderError> {
        self.list_projects().await
    }
    /// Agency `id` and its grants as a listing of every agency and every
    /// grant of the account, at most `max_age` old, shows them (see
    /// [`crate::provider::snapshot`]). `Unknown` once this client has
    /// written the agency or its grants since the listing; a client that
    /// keeps no listing answers `Unknown` always.
    async fn listed_agency(
        &self,
        _id: &str,
        _max_age: Duration,
    ) -> Result<Listed<ListedAgency>, ProviderError> {
        Ok(Listed::Unknown)
    }
}
