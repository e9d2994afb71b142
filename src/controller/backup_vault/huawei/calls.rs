//! What a plan for a CBR vault is made of: the provider calls, the
//! differences coffer will not act on, and the plan that lists both with
//! the drift. Data only: the planner (`plan.rs`) makes them, the drift
//! reader (`drift.rs`) and the in-flight keys (`in_flight.rs`) read them.

use std::fmt;

use crate::api::managed::Drift;
use crate::provider::huawei::cbr::{Tag, VaultResource, VaultUpdate};

/// One call to the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `PUT` of the changed fields only.
    Update(VaultUpdate),
    AddTags(Vec<Tag>),
    RemoveTags(Vec<Tag>),
    /// By id. Before additions, so a full vault makes room first.
    RemoveResources(Vec<String>),
    AddResources(Vec<VaultResource>),
}

/// A difference coffer will not act on, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocked {
    /// A field CBR cannot change after creation.
    Immutable {
        field: &'static str,
        vault: String,
        spec: String,
    },
    /// The spec says unlocked, the vault is locked: CBR locks one way only.
    Unlock,
    /// CBR changes a server's excluded disks only by removing the server from
    /// the vault, which deletes its backups; that is for the user to decide.
    ExcludeVolumes {
        resource: String,
        vault: Vec<String>,
        spec: Vec<String>,
    },
}

impl Blocked {
    /// The `Synced` condition reason for this difference.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Immutable { .. } => "ImmutableFieldDiffers",
            Self::Unlock => "VaultLocked",
            Self::ExcludeVolumes { .. } => "ExcludeVolumesDiffer",
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Immutable { field, vault, spec } => write!(
                f,
                "{field} is {vault:?} on the vault but {spec:?} in the spec, and CBR cannot change it: \
                 set the spec to match, or create a new BackupVault"
            ),
            Self::Unlock => f.write_str(
                "the vault is locked and CBR cannot unlock it: set locked to true or remove it from the spec",
            ),
            Self::ExcludeVolumes {
                resource,
                vault,
                spec,
            } => write!(
                f,
                "resource {resource} excludes volumes {vault:?} on the vault but {spec:?} in the spec; \
                 CBR changes that only by removing the resource, which deletes its backups: \
                 remove it from the spec, wait, and add it back to do so deliberately"
            ),
        }
    }
}

/// What coffer will do to make the vault match the spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Provider calls, in the order to make them.
    pub calls: Vec<Call>,
    /// Resources coffer asked to add or remove recently that the provider
    /// does not show yet. Not asked again until they settle or time out.
    pub awaiting: Vec<String>,
    /// Differences coffer reports instead of acting on.
    pub blocked: Vec<Blocked>,
    /// One entry per differing field, whatever coffer does about it.
    pub drift: Vec<Drift>,
}

impl Plan {
    /// True when the vault already matches.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.calls.iter().map(describe).collect();
        if parts.is_empty() {
            f.write_str("no changes")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

fn describe(call: &Call) -> String {
    let tags = |tags: &[Tag]| {
        tags.iter()
            .map(|t| format!("{}={}", t.key, t.value))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match call {
        Call::Update(update) => format!("update {}", updated_fields(update).join(", ")),
        Call::AddTags(t) => format!("set tags {}", tags(t)),
        Call::RemoveTags(t) => format!(
            "remove tags {}",
            t.iter()
                .map(|t| t.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Call::RemoveResources(ids) => format!("remove resources {}", ids.join(", ")),
        Call::AddResources(r) => format!(
            "add resources {}",
            r.iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `field=value` for each field an update sets.
pub fn updated_fields(u: &VaultUpdate) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            out.push(format!("{name}={v}"));
        }
    };
    push("name", u.name.clone());
    push("consistentLevel", u.consistent_level.clone());
    push("size", u.size_gb.map(|v| v.to_string()));
    push("autoBind", u.auto_bind.map(|v| v.to_string()));
    push(
        "bindRules",
        u.bind_rules.as_ref().map(|t| format!("{} tags", t.len())),
    );
    push("autoExpand", u.auto_expand.map(|v| v.to_string()));
    push("smnNotify", u.smn_notify.map(|v| v.to_string()));
    push("threshold", u.threshold.map(|v| v.to_string()));
    push("locked", u.locked.map(|v| v.to_string()));
    out
}
