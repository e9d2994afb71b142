//! What the engine assumes of a kind or a pair that says nothing more than
//! it must, which provider session an object uses, and what a cloud
//! object's health and lookup mean to the engine.

use std::time::Duration;

use super::*;
use crate::api::backup_vault::VaultObservation;
use crate::api::{Agency, AgencySpec, BackupVault};
use crate::controller::engine::fixtures::object;

/// A pair that implements only what it must: every default is the engine's.
struct Plain;

#[async_trait]
impl External for Plain {
    type Kind = BackupVault;
    type Observed = String;
    type Call = String;
    type Env = ();

    const LOOKUP: Lookup = Lookup::OwnershipTag;

    fn connect(_: &BackupVault, _: &Context<()>) -> Result<Self, Error> {
        Ok(Plain)
    }

    fn name(&self) -> &str {
        "team-a"
    }

    async fn get(&self, _id: &str) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }

    async fn find(&self) -> Result<Vec<Candidate<String>>, ProviderError> {
        Ok(Vec::new())
    }

    fn plan(&self, _observed: &String, _in_flight: &BTreeSet<String>) -> Plan<String> {
        Plan::default()
    }

    fn planned_create(&self) -> PlannedCall {
        PlannedCall::default()
    }

    async fn create(&self) -> Result<Created<String>, ProviderError> {
        unreachable!("never created here")
    }

    async fn call(&self, _id: &str, _call: &String) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }

    async fn delete(&self, _observed: &String) -> Result<(), ProviderError> {
        Ok(())
    }

    fn health(&self, observed: &String) -> Health {
        Health::Available {
            message: observed.clone(),
        }
    }

    fn at_provider(&self, _observed: &String) -> VaultObservation {
        VaultObservation::default()
    }

    fn id(observed: &String) -> String {
        observed.clone()
    }

    fn describe(&self, _call: &String) -> PlannedCall {
        PlannedCall::default()
    }
}

#[tokio::test]
async fn a_pair_that_says_nothing_more_gets_the_engines_safe_defaults() {
    let (id, vault, call) = ("v1", "v1".to_string(), "update".to_string());
    let pending = CallPending {
        call: "post".into(),
        since: "t0".into(),
    };
    assert!(
        matches!(Plain.listed(id, Duration::from_secs(60)).await, Ok(None)),
        "read by id"
    );
    assert_eq!(Plain.once_only(&call), None, "every call idempotent");
    assert!(Plain.awaits(&call).is_empty(), "nothing awaited");
    assert!(Plain.notes_after(id, &call).is_empty());
    assert!(matches!(
        Plain.recover(id, &vault, &pending).await,
        Ok(Recovery::Unknown)
    ));
    assert_eq!(Plain.recheck(&vault), None, "at the drift check");
    assert!(Plain.settled(&vault, "addTags"), "nothing left in flight");
    assert_eq!(Plain.found_how(), "found by name and ownership tag");
}

fn agency() -> Agency {
    let mut agency = Agency::new(
        "team-a",
        AgencySpec {
            provider_config_ref: ProviderConfigRef::namespaced("cloud"),
            deletion_policy: Default::default(),
            management_policy: Default::default(),
            huawei_cloud: None,
        },
    );
    agency.metadata.namespace = Some("team-a".into());
    agency
}

#[test]
fn a_kind_that_says_nothing_more_references_no_secret_and_wakes_no_one() {
    let agency = agency();
    assert!(agency.referenced_secrets().is_empty());
    assert_eq!(agency.wakes(), None);
    assert!(!agency.woken_by("backup-1"));
}

#[test]
fn an_object_uses_the_config_its_reference_names_in_its_namespace() {
    let vault = object();
    assert_eq!(vault.session(), SessionKey::namespaced("team-a", "cloud"));
    assert!(vault.uses(&SessionKey::namespaced("team-a", "cloud")));
    assert!(!vault.uses(&SessionKey::namespaced("team-a", "other")));
    assert!(!vault.uses(&SessionKey::namespaced("team-b", "cloud")));
    assert!(!vault.uses(&SessionKey::ClusterWide {
        name: "cloud".into()
    }));
    let mut shared = object();
    shared.spec.provider_config_ref.kind = Some(ProviderConfigKind::ClusterProviderConfig);
    let cluster_wide = SessionKey::ClusterWide {
        name: "cloud".into(),
    };
    assert_eq!(shared.session(), cluster_wide);
    assert!(shared.uses(&cluster_wide));
    assert!(!shared.uses(&SessionKey::ClusterWide {
        name: "other".into()
    }));
    assert!(!shared.uses(&SessionKey::namespaced("team-a", "cloud")));
}

#[test]
fn only_a_lookup_that_cannot_find_a_lost_create_needs_the_marker() {
    assert!(!Lookup::OwnershipTag.needs_marker());
    assert!(!Lookup::SpecNamed.needs_marker());
    assert!(Lookup::UniqueName.needs_marker());
    assert!(Lookup::None.needs_marker());
}

#[test]
fn only_a_degraded_object_is_trouble_and_only_a_deleted_one_is_going() {
    let progressing = Health::Progressing {
        reason: "EndpointJobRunning".into(),
        message: "running".into(),
    };
    let degraded = Health::Degraded {
        reason: "Frozen".into(),
        message: "frozen".into(),
    };
    let partly = Health::PartlyDeleted {
        remaining: "DELETE Client/41".into(),
    };
    assert_eq!(progressing.tone(), Tone::Progress);
    assert_eq!(Health::Deleting.tone(), Tone::Progress);
    assert_eq!(degraded.tone(), Tone::Trouble);
    assert!(Health::Deleting.is_going() && partly.is_going());
    assert!(!progressing.is_going() && !degraded.is_going());
}
