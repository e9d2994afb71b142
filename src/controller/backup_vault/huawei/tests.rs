//! The CBR pair against the in-memory fake: which calls each step makes.

use std::sync::Arc;

use super::*;
use crate::controller::backup_vault::fixtures::{UID, resource, spec, vault};
use crate::controller::engine::adopt::{Decision, Facts, decide};
use crate::provider::huawei::cbr::Tag;
use crate::provider::memory::MemoryVaults;

fn pair(fake: &Arc<MemoryVaults>) -> CbrVault {
    CbrVault::new(spec(), UID.into(), fake.clone())
}

fn untagged(id: &str) -> Vault {
    let mut v = vault(id);
    v.tags.clear();
    v
}

fn adopt(candidates: Vec<Candidate<Vault>>) -> Result<Decision<Vault>, Error> {
    let facts = Facts {
        lookup: Lookup::OwnershipTag,
        observe_only: false,
        noun: "vault",
        name: "team-a-vault",
        pending_since: None,
        retry_create: None,
    };
    decide(&facts, candidates, CbrVault::id)
}

#[test]
fn adoption_needs_exact_name_and_ownership_tag() {
    let mut other_name = vault("v2");
    other_name.name = "team-a-vault-old".into();
    let mut foreign = vault("v3");
    foreign.tags = vec![Tag::new("coffer-uid", "someone-else")];
    let found = candidates(
        vec![vault("v1"), other_name, foreign, untagged("v4")],
        "team-a-vault",
        UID,
    );
    match adopt(found) {
        Ok(Decision::Adopt(v)) => assert_eq!(v.id, "v1"),
        other => panic!("expected v1 adopted: {other:?}"),
    }
}

#[test]
fn two_owned_vaults_are_ambiguous() {
    let found = candidates(vec![vault("v1"), vault("v2")], "team-a-vault", UID);
    let err = adopt(found).expect_err("ambiguous");
    assert!(matches!(err, Error::AmbiguousAdoption { ids, .. } if ids == ["v1", "v2"]));
}

#[test]
fn a_vault_being_deleted_is_not_a_candidate() {
    let mut going = vault("v1");
    going.status = DELETING.into();
    assert!(candidates(vec![going], "team-a-vault", UID).is_empty());
}

#[tokio::test]
async fn the_id_is_read_directly_and_a_missing_one_is_none() {
    let fake = Arc::new(MemoryVaults::with(vec![vault("v1")]));
    let p = pair(&fake);
    assert_eq!(
        p.get("v1").await.ok().flatten().map(|v| v.id),
        Some("v1".into())
    );
    assert_eq!(p.get("gone").await.ok(), Some(None));
    assert_eq!(fake.calls(), ["get v1", "get gone"]);
}

#[tokio::test]
async fn a_vault_that_matches_the_spec_plans_no_call_and_shows_no_drift() {
    let fake = Arc::new(MemoryVaults::with(vec![vault("v1")]));
    let plan = pair(&fake).plan(&vault("v1"), &BTreeSet::new());
    assert_eq!(plan, engine::Plan::default());
}

#[tokio::test]
async fn one_put_for_all_changed_fields() {
    let fake = Arc::new(MemoryVaults::with(vec![vault("v1")]));
    let mut want = spec();
    want.billing.size = 200;
    want.threshold = Some(90);
    let p = CbrVault::new(want, UID.into(), fake.clone());
    let plan = p.plan(&vault("v1"), &BTreeSet::new());
    assert_eq!(plan.calls.len(), 1);
    let updated = p.call("v1", &plan.calls[0]).await.expect("called");
    assert_eq!(fake.calls(), ["update v1"]);
    assert_eq!(updated.map(|v| (v.size_gb, v.threshold)), Some((200, 90)));
    let shown = p.describe(&plan.calls[0]);
    assert_eq!(shown.operation, "update");
    assert_eq!(shown.fields, ["size=200", "threshold=90"]);
}

#[tokio::test]
async fn deleting_a_vault_already_gone_succeeds() {
    let fake = Arc::new(MemoryVaults::with(vec![]));
    fake.fail_next(ProviderError::NotFound {
        what: "vault".into(),
        message: "BackupService.6105".into(),
    });
    assert!(pair(&fake).delete(&vault("v1")).await.is_ok());
}

#[test]
fn vault_states_map_to_health() {
    for (state, want) in [
        ("deleting", None),
        ("lock", Some("Locked")),
        ("frozen", Some("Frozen")),
        ("error", Some("Error")),
        ("weird", Some("UnexpectedStatus")),
    ] {
        let mut v = vault("v1");
        v.status = state.into();
        match (health(&v), want) {
            (Health::Deleting, None) => {}
            (Health::Degraded { reason, .. }, Some(want)) => assert_eq!(reason, want, "{state}"),
            (other, _) => panic!("{state}: {other:?}"),
        }
    }
    assert!(matches!(health(&vault("v1")), Health::Available { .. }));
}

#[test]
fn resource_calls_stay_in_flight_until_the_vault_shows_them() {
    let fake = Arc::new(MemoryVaults::default());
    let mut want = spec();
    want.resources = Some(vec![crate::api::backup_vault::HuaweiResource {
        id: "srv-1".into(),
        type_: "OS::Nova::Server".into(),
        exclude_volumes: vec![],
    }]);
    let p = CbrVault::new(want, UID.into(), fake);
    let plan = p.plan(&vault("v1"), &BTreeSet::new());
    let keys = p.awaits(&plan.calls[0]);
    assert_eq!(keys, ["addResource/srv-1"]);
    assert!(!p.settled(&vault("v1"), &keys[0]));
    let mut have = vault("v1");
    have.resources.push(resource("srv-1"));
    assert!(p.settled(&have, &keys[0]));
    let waiting = p.plan(&vault("v1"), &keys.iter().cloned().collect());
    assert!(waiting.calls.is_empty());
    assert_eq!(waiting.awaiting, ["srv-1"]);
}
