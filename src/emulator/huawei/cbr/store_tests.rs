//! Tests of the vault store's lifecycle: delayed association, delayed
//! deletion, ownership of resources across vaults, and tags.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::emulator::huawei::cbr::wire::{CreateVaultBody, UpdateVaultBody};

const ASSOCIATION: Duration = Duration::from_secs(1);
const DELETION: Duration = Duration::from_secs(2);

fn store() -> VaultStore {
    VaultStore::new(ASSOCIATION, DELETION)
}

fn new_vault(name: &str, resources: serde_json::Value) -> NewVault {
    let body: CreateVaultBody = serde_json::from_value(json!({"vault": {
        "name": name,
        "billing": {"consistent_level": "crash_consistent", "object_type": "server",
                    "protect_type": "backup", "size": 100},
        "resources": resources,
    }}))
    .expect("wire shape");
    validate::new_vault(body.vault).expect("valid")
}

fn server(id: &str) -> ResourceCreate {
    serde_json::from_value(json!({"id": id, "type": "OS::Nova::Server"})).expect("wire shape")
}

fn create(store: &mut VaultStore, name: &str) -> String {
    store
        .create("p", new_vault(name, json!([])), Timestamp::now())
        .expect("created")
        .id
        .to_string()
}

fn resource_ids(store: &VaultStore, id: &str) -> Vec<String> {
    store
        .get(id)
        .expect("exists")
        .resources
        .iter()
        .map(|r| r.id.clone())
        .collect()
}

#[test]
fn created_resources_are_associated_at_once() {
    let mut store = store();
    let vault = store
        .create(
            "p",
            new_vault("a", json!([{"id": "s1", "type": "OS::Nova::Server"}])),
            Timestamp::now(),
        )
        .expect("created")
        .id
        .to_string();
    assert_eq!(resource_ids(&store, &vault), vec!["s1"]);
}

#[test]
fn added_resources_appear_after_the_association_delay() {
    let mut store = store();
    let vault = create(&mut store, "a");
    let t0 = Instant::now();
    let ids = store
        .add_resources(&vault, &[server("s1"), server("s2")], t0)
        .expect("accepted");
    assert_eq!(ids, vec!["s1", "s2"]);
    store.settle(t0 + ASSOCIATION / 2);
    assert!(resource_ids(&store, &vault).is_empty());
    store.settle(t0 + ASSOCIATION);
    assert_eq!(resource_ids(&store, &vault), vec!["s1", "s2"]);
}

#[test]
fn removed_resources_leave_after_the_association_delay() {
    let mut store = store();
    let vault = create(&mut store, "a");
    let t0 = Instant::now();
    store
        .add_resources(&vault, &[server("s1")], t0)
        .expect("accepted");
    store.settle(t0 + ASSOCIATION);
    let t1 = t0 + ASSOCIATION;
    assert_eq!(
        store.remove_resources(&vault, &["s1".to_string()], t1),
        Ok(vec!["s1".to_string()])
    );
    store.settle(t1);
    assert_eq!(resource_ids(&store, &vault), vec!["s1"]);
    store.settle(t1 + ASSOCIATION);
    assert!(resource_ids(&store, &vault).is_empty());
}

#[test]
fn resource_in_another_vault_is_6103_and_repeat_is_6104() {
    let mut store = store();
    let a = create(&mut store, "a");
    let b = create(&mut store, "b");
    let now = Instant::now();
    store
        .add_resources(&a, &[server("s1")], now)
        .expect("accepted");
    // Still pending, yet already claimed.
    assert_eq!(
        store.add_resources(&b, &[server("s1")], now),
        Err(CbrError::ResourceInOtherVault("s1".to_string()))
    );
    assert_eq!(
        store.add_resources(&a, &[server("s1")], now),
        Err(CbrError::DuplicateResource("s1".to_string()))
    );
}

#[test]
fn removing_a_resource_the_vault_does_not_hold_is_refused() {
    let mut store = store();
    let vault = create(&mut store, "a");
    let now = Instant::now();
    assert!(matches!(
        store.remove_resources(&vault, &["nope".to_string()], now),
        Err(CbrError::InvalidParameter(_))
    ));
    store
        .add_resources(&vault, &[server("s1")], now)
        .expect("accepted");
    store
        .remove_resources(&vault, &["s1".to_string()], now)
        .expect("queued");
    assert!(
        store
            .remove_resources(&vault, &["s1".to_string()], now)
            .is_err()
    );
}

#[test]
fn deleted_vault_is_deleting_then_gone() {
    let mut store = store();
    let vault = create(&mut store, "a");
    let t0 = Instant::now();
    store.delete(&vault, t0).expect("deleted");
    assert_eq!(store.get(&vault).map(VaultRecord::status), Ok("deleting"));
    store.settle(t0 + DELETION - Duration::from_millis(1));
    assert!(store.get(&vault).is_ok());
    store.settle(t0 + DELETION);
    assert_eq!(
        store.get(&vault).map(|v| v.id),
        Err(CbrError::VaultNotFound)
    );
}

#[test]
fn deleting_vault_refuses_changes_with_6112() {
    let mut store = store();
    let vault = create(&mut store, "a");
    let now = Instant::now();
    store.delete(&vault, now).expect("deleted");
    let err = store.delete(&vault, now).expect_err("already deleting");
    assert_eq!(err.code(), "BackupService.6112");
    assert!(store.upsert_tags(&vault, vec![]).is_err());
}

#[test]
fn deleting_vault_keeps_its_resources_until_it_is_gone() {
    let mut store = store();
    let t0 = Instant::now();
    let a = store
        .create(
            "p",
            new_vault("a", json!([{"id": "s1", "type": "OS::Nova::Server"}])),
            Timestamp::now(),
        )
        .expect("created")
        .id
        .to_string();
    let b = create(&mut store, "b");
    store.delete(&a, t0).expect("deleted");
    assert!(store.add_resources(&b, &[server("s1")], t0).is_err());
    store.settle(t0 + DELETION);
    assert!(
        store
            .add_resources(&b, &[server("s1")], t0 + DELETION)
            .is_ok()
    );
}

#[test]
fn missing_or_malformed_ids_are_not_found() {
    let mut store = store();
    assert_eq!(
        store.get("not-a-uuid").map(|v| v.id),
        Err(CbrError::VaultNotFound)
    );
    let missing = uuid::Uuid::new_v4().to_string();
    let update: UpdateVaultBody = serde_json::from_value(json!({"vault": {}})).expect("shape");
    assert_eq!(
        store.update(&missing, update.vault).map(|v| v.id),
        Err(CbrError::VaultNotFound)
    );
}

#[test]
fn tags_upsert_by_key_and_stop_at_ten() {
    let mut store = store();
    let vault = create(&mut store, "a");
    let tag = |k: &str, v: &str| Tag {
        key: k.to_string(),
        value: v.to_string(),
    };
    store
        .upsert_tags(&vault, vec![tag("a", "1")])
        .expect("added");
    store
        .upsert_tags(&vault, vec![tag("a", "2")])
        .expect("replaced");
    assert_eq!(store.get(&vault).expect("exists").tags, vec![tag("a", "2")]);
    let nine: Vec<Tag> = (0..9).map(|i| tag(&format!("k{i}"), "v")).collect();
    store.upsert_tags(&vault, nine).expect("ten in all");
    assert!(
        store
            .upsert_tags(&vault, vec![tag("eleventh", "v")])
            .is_err()
    );
    store
        .delete_tags(&vault, &["a".to_string(), "absent".to_string()])
        .expect("deleted");
    assert_eq!(store.get(&vault).expect("exists").tags.len(), 9);
}

#[test]
fn a_vault_holds_at_most_256_resources() {
    let mut store = store();
    let vault = create(&mut store, "a");
    let now = Instant::now();
    let batch = |from: usize, n: usize| {
        (from..from + n)
            .map(|i| server(&format!("s{i}")))
            .collect::<Vec<_>>()
    };
    store
        .add_resources(&vault, &batch(0, 200), now)
        .expect("200");
    assert_eq!(
        store.add_resources(&vault, &batch(200, 57), now),
        Err(CbrError::TooManyResources { limit: 256 })
    );
    store
        .add_resources(&vault, &batch(200, 56), now)
        .expect("256 in all");
}

#[test]
fn list_order_is_newest_first() {
    let mut store = store();
    create(&mut store, "first");
    create(&mut store, "second");
    let names: Vec<&str> = store
        .newest_first()
        .map(|v| v.settings.name.as_str())
        .collect();
    assert_eq!(names, vec!["second", "first"]);
}

#[test]
fn deleted_vault_frees_resources_it_was_about_to_take() {
    // Association slower than deletion: the add is still queued when the
    // vault goes away, and must not keep the resource claimed.
    let mut store = VaultStore::new(Duration::from_secs(5), Duration::from_secs(1));
    let a = create(&mut store, "a");
    let b = create(&mut store, "b");
    let t0 = Instant::now();
    store
        .add_resources(&a, &[server("s1")], t0)
        .expect("queued");
    store.delete(&a, t0).expect("deleted");
    let t1 = t0 + Duration::from_secs(1);
    store.settle(t1);
    assert_eq!(
        store.add_resources(&b, &[server("s1")], t1),
        Ok(vec!["s1".to_string()])
    );
}

#[test]
fn a_vault_is_seen_only_by_the_project_that_made_it() {
    let mut store = VaultStore::new(Duration::ZERO, Duration::ZERO);
    let id = create(&mut store, "mine");
    assert!(store.get_in("p", &id).is_ok());
    assert!(matches!(
        store.get_in("other", &id),
        Err(CbrError::VaultNotFound)
    ));
    assert_eq!(store.newest_first_in("p").count(), 1);
    assert_eq!(store.newest_first_in("other").count(), 0);
}
