//! One [`Drift`] entry per field where a CBR vault differs from its spec,
//! read off the plan (what will be updated, what is blocked) plus the
//! differences coffer leaves alone on purpose. Pure.

use super::calls::{Blocked, Call, Plan};
use crate::api::backup_vault::HuaweiVault;
use crate::api::managed::{Drift, DriftAction};
use crate::provider::huawei::cbr::{Tag, Vault, VaultUpdate};

const ABSENT: &str = "(absent)";

/// The drift of `vault` from `spec`, given the `plan` made for them.
pub fn of(spec: &HuaweiVault, vault: &Vault, plan: &Plan) -> Vec<Drift> {
    let mut out = Vec::new();
    for call in &plan.calls {
        match call {
            Call::Update(update) => updated(update, vault, &mut out),
            Call::AddTags(tags) => {
                for t in tags {
                    let old = vault.tags.iter().find(|h| h.key == t.key);
                    out.push(update(
                        &format!("tags[{}]", t.key),
                        &t.value,
                        old.map_or(ABSENT, |h| h.value.as_str()),
                    ));
                }
            }
            Call::RemoveTags(tags) => out.extend(
                tags.iter()
                    .map(|t: &Tag| update(&format!("tags[{}]", t.key), ABSENT, &t.value)),
            ),
            Call::RemoveResources(ids) => out.extend(
                ids.iter()
                    .map(|id| update(&format!("resources[{id}]"), ABSENT, "associated")),
            ),
            Call::AddResources(resources) => out.extend(
                resources
                    .iter()
                    .map(|r| update(&format!("resources[{}]", r.id), "associated", ABSENT)),
            ),
        }
    }
    out.extend(plan.blocked.iter().map(blocked));
    if spec.auto_expand.unwrap_or(vault.auto_expand) && vault.size_gb > spec.billing.size {
        out.push(Drift {
            field: field("billing.size"),
            desired: spec.billing.size.to_string(),
            observed: vault.size_gb.to_string(),
            action: DriftAction::None,
            reason: Some(
                "autoExpand is on: CBR grew the vault, and the spec's size is a floor".into(),
            ),
        });
    }
    out
}

/// The fields an update sends, with the values the vault has now.
fn updated(u: &VaultUpdate, vault: &Vault, out: &mut Vec<Drift>) {
    let mut push = |name: &str, want: Option<String>, have: String| {
        if let Some(want) = want {
            out.push(update(name, &want, &have));
        }
    };
    push("name", u.name.clone(), vault.name.clone());
    push(
        "billing.consistentLevel",
        u.consistent_level.clone(),
        vault.consistent_level.clone(),
    );
    push(
        "billing.size",
        u.size_gb.map(|v| v.to_string()),
        vault.size_gb.to_string(),
    );
    push(
        "autoBind",
        u.auto_bind.map(|v| v.to_string()),
        vault.auto_bind.to_string(),
    );
    push(
        "bindRules.tags",
        u.bind_rules.as_ref().map(|t| tag_list(t)),
        tag_list(&vault.bind_rules),
    );
    push(
        "autoExpand",
        u.auto_expand.map(|v| v.to_string()),
        vault.auto_expand.to_string(),
    );
    push(
        "smnNotify",
        u.smn_notify.map(|v| v.to_string()),
        vault.smn_notify.to_string(),
    );
    push(
        "threshold",
        u.threshold.map(|v| v.to_string()),
        vault.threshold.to_string(),
    );
    push(
        "locked",
        u.locked.map(|v| v.to_string()),
        vault.locked.to_string(),
    );
}

fn blocked(b: &Blocked) -> Drift {
    let (path, desired, observed) = match b {
        Blocked::Immutable { field, vault, spec } => {
            (field.to_string(), spec.clone(), vault.clone())
        }
        Blocked::Unlock => ("locked".into(), "false".into(), "true".into()),
        Blocked::ExcludeVolumes {
            resource,
            vault,
            spec,
        } => (
            format!("resources[{resource}].excludeVolumes"),
            spec.join(","),
            vault.join(","),
        ),
    };
    Drift {
        field: field(&path),
        desired,
        observed,
        action: DriftAction::Blocked,
        reason: Some(b.to_string()),
    }
}

fn update(path: &str, desired: &str, observed: &str) -> Drift {
    Drift {
        field: field(path),
        desired: desired.to_string(),
        observed: observed.to_string(),
        action: DriftAction::Update,
        reason: None,
    }
}

fn field(path: &str) -> String {
    format!("huaweiCloud.{path}")
}

fn tag_list(tags: &[Tag]) -> String {
    tags.iter()
        .map(|t| format!("{}={}", t.key, t.value))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;
