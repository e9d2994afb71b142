//! The IAM pair against a small fake: how it reads an agency IAM is slow to
//! show, and that a name match is never taken for coffer's own.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::*;
use crate::api::agency::{AgencyDuration, TrustDomain};
use crate::provider::huawei::iam::{
    Agency, AgencyCreate, AgencyUpdate, Grant, GrantScope, Project, Role, Validity,
};

/// Agencies by id; GET misses the ids in `lagging`, as IAM does right
/// after a create, while the list shows them.
#[derive(Debug, Default)]
struct FakeIam {
    agencies: Mutex<Vec<Agency>>,
    lagging: Mutex<BTreeSet<String>>,
}

impl FakeIam {
    fn with(agency: Agency, lagging: bool) -> Arc<Self> {
        let fake = Self::default();
        if lagging {
            fake.lagging.lock().expect("lock").insert(agency.id.clone());
        }
        fake.agencies.lock().expect("lock").push(agency);
        Arc::new(fake)
    }
}

fn not_found(id: &str) -> ProviderError {
    ProviderError::NotFound {
        what: format!("agency {id}"),
        message: "HTTP 404".into(),
    }
}

#[async_trait]
impl IamAgencyApi for FakeIam {
    async fn get_agency(&self, id: &str) -> Result<Agency, ProviderError> {
        if self.lagging.lock().expect("lock").contains(id) {
            return Err(not_found(id));
        }
        let agencies = self.agencies.lock().expect("lock");
        agencies
            .iter()
            .find(|a| a.id == id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }
    async fn find_agencies(&self, name: &str) -> Result<Vec<Agency>, ProviderError> {
        let agencies = self.agencies.lock().expect("lock");
        Ok(agencies
            .iter()
            .filter(|a| a.name == name)
            .cloned()
            .collect())
    }
    async fn create_agency(&self, _: &AgencyCreate) -> Result<Agency, ProviderError> {
        unimplemented!("not used by these tests")
    }
    async fn update_agency(&self, _: &str, _: &AgencyUpdate) -> Result<Agency, ProviderError> {
        unimplemented!("not used by these tests")
    }
    async fn delete_agency(&self, _: &str) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn list_grants(&self, _: &str, _: &GrantScope) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
    async fn grant(&self, _: &str, _: &Grant) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn revoke(&self, _: &str, _: &Grant) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn find_role(&self, _: &str) -> Result<Option<Role>, ProviderError> {
        Ok(None)
    }
    async fn list_projects(&self) -> Result<Vec<Project>, ProviderError> {
        Ok(Vec::new())
    }
}

fn spec() -> HuaweiAgency {
    HuaweiAgency {
        name: "ops".into(),
        description: None,
        trust_domain: Some(TrustDomain {
            name: Some("central-ops".into()),
            id: None,
        }),
        cloud_service: None,
        duration: AgencyDuration::Forever,
        roles: Vec::new(),
    }
}

fn agency(id: &str) -> Agency {
    Agency {
        id: id.into(),
        name: "ops".into(),
        trust_domain_id: "3ebe1024db46485cb02ef08d3c348477".into(),
        validity: Some(Validity::Forever),
        ..Agency::default()
    }
}

#[tokio::test]
async fn a_new_agency_get_misses_is_read_from_the_list() {
    let pair = IamAgency::new(spec(), FakeIam::with(agency("a1"), true));
    let observed = pair.get("a1").await.expect("read");
    assert_eq!(observed.map(|o| o.agency.id).as_deref(), Some("a1"));
}

#[tokio::test]
async fn an_agency_neither_get_nor_list_shows_is_gone() {
    let pair = IamAgency::new(spec(), FakeIam::with(agency("a1"), true));
    assert!(pair.get("a2").await.expect("read").is_none());
}

#[tokio::test]
async fn a_name_match_is_never_taken_for_coffers_own() {
    let pair = IamAgency::new(spec(), FakeIam::with(agency("a1"), false));
    let found = pair.find().await.expect("listed");
    assert_eq!(found.len(), 1);
    assert!(
        !found[0].owned,
        "only the engine's create marker may claim it"
    );
}

#[test]
fn status_shows_each_roles_name_beside_its_id() {
    let grant = |scope, role_id: &str| Grant {
        scope,
        role_id: role_id.into(),
    };
    let named = grant(GrantScope::Domain, "r-cbr");
    let extra = grant(GrantScope::Project("p1".into()), "r-extra");
    let mut resolved = plan::Resolved::default();
    resolved.grants.insert(named.clone());
    resolved
        .role_names
        .insert("r-cbr".into(), "CBR ReadOnlyAccess".into());
    let observed = Observed {
        agency: agency("a1"),
        grants: BTreeSet::from([named, extra]),
        resolved,
    };
    let roles = at_provider(&observed).roles;
    assert_eq!(
        roles,
        vec![
            ObservedGrant {
                scope: "Project/p1".into(),
                role_id: "r-extra".into(),
                role: None,
            },
            ObservedGrant {
                scope: "Domain".into(),
                role_id: "r-cbr".into(),
                role: Some("CBR ReadOnlyAccess".into()),
            },
        ]
    );
}

#[tokio::test]
async fn a_listing_shows_the_grants_a_read_per_scope_would_and_no_others() {
    let iam = FakeIam::with(agency("a-1"), false);
    let grant = |scope| Grant {
        scope,
        role_id: "r".into(),
    };
    let listed = crate::provider::huawei::iam::ListedAgency {
        agency: agency("a-1"),
        grants: Some(BTreeSet::from([
            grant(GrantScope::Domain),
            grant(GrantScope::AllProjects),
            // A project the account's project list lacks (as `MOS`): never read.
            grant(GrantScope::Project("unlisted".into())),
        ])),
    };
    let observed = observe::observe_listed(iam.as_ref(), &spec(), listed)
        .await
        .expect("observed");
    assert_eq!(
        observed.grants,
        BTreeSet::from([grant(GrantScope::Domain), grant(GrantScope::AllProjects)])
    );
}
