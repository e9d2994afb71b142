//! The share rules of the backup store, with time passed in.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::*;
use crate::emulator::huawei::cbr::model::Resource;
use crate::emulator::huawei::cbr::wire::{ResourceExtraInfo, ResourceType};

const OWNER: &str = "0123456789abcdef0123456789abcdef";
const PEER: &str = "89abcdef0123456789abcdef01234567";

fn server(id: &str) -> Resource {
    Resource {
        id: id.to_string(),
        resource_type: ResourceType::NovaServer,
        name: id.to_string(),
        extra_info: ResourceExtraInfo::default(),
    }
}

/// A store with one server backup of OWNER, available from `t0 + 1s`.
fn store_with_backup() -> (BackupStore, String, Instant) {
    let mut store = BackupStore::new(Duration::from_secs(1));
    let t0 = Instant::now();
    let cp = store.checkpoint(OWNER, "vault-1", &[server("srv-1")], (Timestamp::now(), t0));
    let id = cp.backups[0].to_string();
    (store, id, t0)
}

fn answer(status: MemberStatus, vault_id: Option<String>) -> Answer {
    Answer { status, vault_id }
}

fn later(t0: Instant) -> (Timestamp, Instant) {
    (Timestamp::now(), t0 + Duration::from_secs(2))
}

#[test]
fn a_protecting_backup_cannot_be_shared() {
    let (mut store, id, t0) = store_with_backup();
    let err = store.add_members(OWNER, &id, &[PEER.into()], (Timestamp::now(), t0));
    assert_eq!(err.err(), Some(ShareError::NotAvailable("protecting")));
    assert!(
        store
            .add_members(OWNER, &id, &[PEER.into()], later(t0))
            .is_ok()
    );
}

#[test]
fn only_one_to_ten_members_per_call() {
    let (mut store, id, t0) = store_with_backup();
    let eleven: Vec<String> = (0..11).map(|i| format!("{i:032x}")).collect();
    assert_eq!(
        store.add_members(OWNER, &id, &eleven, later(t0)).err(),
        Some(ShareError::MemberCount {
            given: 11,
            limit: 10
        })
    );
    assert_eq!(
        store.add_members(OWNER, &id, &[], later(t0)).err(),
        Some(ShareError::MemberCount {
            given: 0,
            limit: 10
        })
    );
}

#[test]
fn only_the_owner_manages_members_and_only_the_member_answers() {
    let (mut store, id, t0) = store_with_backup();
    store
        .add_members(OWNER, &id, &[PEER.into()], later(t0))
        .expect("added");
    assert!(matches!(
        store.members(PEER, &id),
        Err(ShareError::NotOwner(_))
    ));
    let by_owner = store.update_member(
        OWNER,
        &id,
        PEER,
        answer(MemberStatus::Rejected, None),
        |_| true,
        Timestamp::now(),
    );
    assert!(matches!(by_owner, Err(ShareError::NotMember(_))));
    let no_vault = store.update_member(
        PEER,
        &id,
        PEER,
        answer(MemberStatus::Accepted, None),
        |_| true,
        Timestamp::now(),
    );
    assert_eq!(no_vault.err(), Some(ShareError::VaultRequired));
    let accepted = store
        .update_member(
            PEER,
            &id,
            PEER,
            answer(MemberStatus::Accepted, Some("v2".into())),
            |_| true,
            Timestamp::now(),
        )
        .expect("accepted");
    assert_eq!(accepted.vault_id.as_deref(), Some("v2"));
    assert!(accepted.image_id.is_some() && accepted.updated_at.is_some());
}

#[test]
fn a_deleted_backup_answers_the_401_quirk_for_its_members() {
    let (mut store, id, _) = store_with_backup();
    store.delete(OWNER, &id).expect("deleted");
    assert_eq!(
        store.members(OWNER, &id).err(),
        Some(ShareError::MalformedUrl)
    );
}

#[test]
fn backup_ids_are_the_same_in_every_run() {
    let (_, first, _) = store_with_backup();
    let (_, again, _) = store_with_backup();
    assert_eq!(first, again);
    let mut store = BackupStore::new(Duration::from_secs(1));
    let now = (Timestamp::now(), Instant::now());
    let a = store
        .checkpoint(OWNER, "v", &[server("srv-1")], now)
        .backups[0];
    let b = store
        .checkpoint(OWNER, "v", &[server("srv-1")], now)
        .backups[0];
    assert_ne!(a, b, "a second backup of a resource gets a new id");
}

/// The emulator overlay (examples/emulator) names the backup `make demo` makes.
#[test]
fn the_demo_backup_has_the_id_the_examples_name() {
    let mut store = BackupStore::new(Duration::from_secs(1));
    let server_id = "7b3f0e7c-4a57-4f0e-9c1a-2d5e8b6a9f10";
    let now = (Timestamp::now(), Instant::now());
    let made = store.checkpoint(OWNER, "v", &[server(server_id)], now);
    assert_eq!(
        made.backups[0].to_string(),
        "47594e14-6edd-4b1c-b772-3ac96f5a9cea"
    );
}

#[test]
fn a_project_of_another_region_is_refused_as_a_member() {
    let (store, id, t0) = store_with_backup();
    let far = "5e0a0b0c0d0e0f000000000000000009";
    let mut store = store.with_other_region(far);
    assert_eq!(
        store
            .add_members(OWNER, &id, &[PEER.into(), far.into()], later(t0))
            .err(),
        Some(ShareError::OtherRegion(far.into()))
    );
    assert!(
        store.members(OWNER, &id).expect("members").is_empty(),
        "nothing was added"
    );
}
