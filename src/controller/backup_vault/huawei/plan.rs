//! The pure heart of the BackupVault-on-CBR pair: the spec and the vault as
//! the provider reports it go in, the provider calls that make them match
//! come out, with one drift entry per differing field. No client, no clock:
//! every rule here is tested from plain fixtures, and the same [`Plan`] is
//! what status, Events and the `Synced` condition show.
//!
//! What is managed: a field the spec leaves out keeps whatever the vault has.
//! `tags`, when set, is authoritative for every key except coffer's ownership
//! tag (keys not listed are removed); when unset, tags are not managed.
//! `resources` works the same way, by resource id.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use super::calls::{Blocked, Call, Plan, updated_fields};
use super::drift;
pub use super::in_flight::{InFlight, awaits, awaits_created, settled};
use crate::api::backup_vault::{HuaweiResource, HuaweiVault};
use crate::provider::huawei::cbr::{Tag, Vault, VaultCreate, VaultResource, VaultUpdate};

pub use crate::api::OWNERSHIP_TAG;

/// The create request for `spec`, carrying the ownership tag so that a vault
/// created by a request whose answer was lost is still found as coffer's own.
pub fn create_request(spec: &HuaweiVault, uid: &str) -> VaultCreate {
    let mut tags = desired_tags(spec).unwrap_or_default();
    tags.push(owner_tag(uid));
    VaultCreate {
        name: spec.name.clone(),
        description: spec.description.clone(),
        consistent_level: wire(&spec.billing.consistent_level),
        object_type: wire(&spec.billing.object_type),
        protect_type: wire(&spec.billing.protect_type),
        size_gb: spec.billing.size,
        cloud_type: spec.billing.cloud_type.as_ref().map(wire),
        is_multi_az: spec.billing.is_multi_az,
        auto_bind: spec.auto_bind,
        bind_rules: spec.bind_rules.as_ref().map(|r| sorted_tags(&r.tags)),
        auto_expand: spec.auto_expand,
        smn_notify: spec.smn_notify,
        threshold: spec.threshold,
        locked: spec.locked,
        tags,
        resources: spec
            .resources
            .iter()
            .flatten()
            .map(vault_resource)
            .collect(),
        enterprise_project_id: spec.enterprise_project_id.clone(),
    }
}

/// The ownership tag of the object with `uid`.
pub fn owner_tag(uid: &str) -> Tag {
    Tag::new(OWNERSHIP_TAG, uid)
}

/// The calls that make `vault` match `spec`, leaving alone the resource
/// requests still `in_flight`.
pub fn plan(spec: &HuaweiVault, uid: &str, vault: &Vault, in_flight: &InFlight) -> Plan {
    let mut plan = Plan {
        blocked: immutable_differences(spec, vault),
        ..Plan::default()
    };
    let update = update(spec, vault, &mut plan.blocked);
    if !update.is_empty() {
        plan.calls.push(Call::Update(update));
    }
    plan_tags(spec, uid, vault, &mut plan);
    plan_resources(spec, vault, in_flight, &mut plan);
    plan.drift = drift::of(spec, vault, &plan);
    plan
}

/// The changeable fields that differ, and only those.
fn update(spec: &HuaweiVault, vault: &Vault, blocked: &mut Vec<Blocked>) -> VaultUpdate {
    fn differs<T: PartialEq + Clone>(want: Option<&T>, have: &T) -> Option<T> {
        want.filter(|w| *w != have).cloned()
    }
    let auto_expand = spec.auto_expand.unwrap_or(vault.auto_expand);
    // With auto-expand on, CBR grows the vault by itself; the spec's size is
    // then a floor, or coffer would shrink back every expansion.
    let size_gb = if auto_expand {
        Some(spec.billing.size).filter(|size| *size > vault.size_gb)
    } else {
        differs(Some(&spec.billing.size), &vault.size_gb)
    };
    let locked = match (spec.locked, vault.locked) {
        (Some(true), false) => Some(true),
        (Some(false), true) => {
            blocked.push(Blocked::Unlock);
            None
        }
        _ => None,
    };
    let bind_rules = spec
        .bind_rules
        .as_ref()
        .map(|r| sorted_tags(&r.tags))
        .filter(|want| *want != sorted(vault.bind_rules.clone()));
    VaultUpdate {
        name: differs(Some(&spec.name), &vault.name),
        consistent_level: differs(
            Some(&wire(&spec.billing.consistent_level)),
            &vault.consistent_level,
        ),
        size_gb,
        auto_bind: differs(spec.auto_bind.as_ref(), &vault.auto_bind),
        bind_rules,
        auto_expand: differs(spec.auto_expand.as_ref(), &vault.auto_expand),
        smn_notify: differs(spec.smn_notify.as_ref(), &vault.smn_notify),
        threshold: differs(spec.threshold.as_ref(), &vault.threshold),
        locked,
    }
}

/// Fields fixed at creation that the vault has differently, most often a
/// vault adopted after a lost create answer whose spec changed meanwhile.
fn immutable_differences(spec: &HuaweiVault, vault: &Vault) -> Vec<Blocked> {
    let billing = &spec.billing;
    let checks: [(&'static str, Option<String>, Option<String>); 6] = [
        (
            "description",
            spec.description.clone(),
            Some(vault.description.clone().unwrap_or_default()),
        ),
        (
            "billing.objectType",
            Some(wire(&billing.object_type)),
            Some(vault.object_type.clone()),
        ),
        (
            "billing.protectType",
            Some(wire(&billing.protect_type)),
            Some(vault.protect_type.clone()),
        ),
        (
            "billing.cloudType",
            billing.cloud_type.as_ref().map(wire),
            vault.cloud_type.clone(),
        ),
        (
            "billing.isMultiAz",
            billing.is_multi_az.map(|b| b.to_string()),
            Some(vault.is_multi_az.to_string()),
        ),
        (
            "enterpriseProjectId",
            spec.enterprise_project_id.clone(),
            vault.enterprise_project_id.clone(),
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(field, want, have)| {
            let want = want?;
            let have = have.unwrap_or_default();
            (want != have).then_some(Blocked::Immutable {
                field,
                vault: have,
                spec: want,
            })
        })
        .collect()
}

fn plan_tags(spec: &HuaweiVault, uid: &str, vault: &Vault, plan: &mut Plan) {
    let have: BTreeMap<&str, &str> = vault
        .tags
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    let want = desired_tags(spec);
    let owner = owner_tag(uid);
    let mut add: Vec<Tag> = want
        .iter()
        .flatten()
        .chain(std::iter::once(&owner))
        .filter(|t| have.get(t.key.as_str()) != Some(&t.value.as_str()))
        .cloned()
        .collect();
    add.sort();
    if !add.is_empty() {
        plan.calls.push(Call::AddTags(add));
    }
    // Only when the spec manages tags, and never coffer's own.
    if let Some(want) = want.as_ref() {
        let keys: BTreeSet<&str> = want.iter().map(|t| t.key.as_str()).collect();
        let mut remove: Vec<Tag> = vault
            .tags
            .iter()
            .filter(|t| t.key != OWNERSHIP_TAG && !keys.contains(t.key.as_str()))
            .cloned()
            .collect();
        remove.sort();
        if !remove.is_empty() {
            plan.calls.push(Call::RemoveTags(remove));
        }
    }
}

fn plan_resources(spec: &HuaweiVault, vault: &Vault, in_flight: &InFlight, plan: &mut Plan) {
    let Some(wanted) = spec.resources.as_ref() else {
        return;
    };
    let want: BTreeMap<&str, &HuaweiResource> = wanted.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut remove = Vec::new();
    for have in &vault.resources {
        match want.get(have.id.as_str()) {
            None if in_flight.removed.contains(&have.id) => plan.awaiting.push(have.id.clone()),
            None => remove.push(have.id.clone()),
            Some(want) => {
                let spec_excludes = sorted(want.exclude_volumes.clone());
                let vault_excludes = sorted(have.exclude_volumes.clone());
                if spec_excludes != vault_excludes {
                    plan.blocked.push(Blocked::ExcludeVolumes {
                        resource: have.id.clone(),
                        vault: vault_excludes,
                        spec: spec_excludes,
                    });
                }
            }
        }
    }
    let present: BTreeSet<&str> = vault.resources.iter().map(|r| r.id.as_str()).collect();
    let mut add = Vec::new();
    for (id, resource) in &want {
        if present.contains(id) {
            continue;
        }
        if in_flight.added.contains(*id) {
            plan.awaiting.push(id.to_string());
        } else {
            add.push(vault_resource(resource));
        }
    }
    if !remove.is_empty() {
        plan.calls.push(Call::RemoveResources(remove));
    }
    if !add.is_empty() {
        plan.calls.push(Call::AddResources(add));
    }
}

/// The spec's tags without the ownership key (which admission refuses
/// anyway); `None` when tags are unmanaged.
fn desired_tags(spec: &HuaweiVault) -> Option<Vec<Tag>> {
    spec.tags.as_ref().map(|tags| {
        let tags: Vec<_> = tags
            .iter()
            .filter(|t| t.key != OWNERSHIP_TAG)
            .cloned()
            .collect();
        sorted_tags(&tags)
    })
}

fn sorted_tags(tags: &[crate::api::backup_vault::HuaweiTag]) -> Vec<Tag> {
    sorted(
        tags.iter()
            .map(|t| Tag::new(t.key.clone(), t.value.clone()))
            .collect(),
    )
}

fn vault_resource(r: &HuaweiResource) -> VaultResource {
    VaultResource {
        id: r.id.clone(),
        type_: r.type_.clone(),
        exclude_volumes: sorted(r.exclude_volumes.clone()),
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// The provider's spelling of an API enum: its serde name (`crash_consistent`).
fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
