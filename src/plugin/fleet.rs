//! The fleet as `kubectl coffer` shows it: one row per coffer object, read
//! from its JSON (so a kind is one line in [`KINDS`], not a type), with the
//! failing ones first. Pure: the same objects and clock give the same rows.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// One of coffer's kinds, as the API server serves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub plural: &'static str,
    /// Cluster-scoped: listed with `-A` only (it is in no namespace), and
    /// its CRD may be missing (an older install) or its list refused (a
    /// user with only a namespace's rights); neither is an error for a
    /// command about the namespaced objects, so such a kind is then left out.
    pub cluster_scoped: bool,
}

const fn namespaced(name: &'static str, plural: &'static str) -> Kind {
    Kind {
        name,
        plural,
        cluster_scoped: false,
    }
}

/// coffer's kinds.
pub const KINDS: &[Kind] = &[
    namespaced("BackupVault", "backupvaults"),
    namespaced("BackupShare", "backupshares"),
    namespaced("Agency", "agencies"),
    namespaced("ProviderConfig", "providerconfigs"),
    Kind {
        name: "ClusterProviderConfig",
        plural: "clusterproviderconfigs",
        cluster_scoped: true,
    },
];

/// Whether `kind` is a ProviderConfig of either scope.
pub fn is_config(kind: &str) -> bool {
    matches!(kind, "ProviderConfig" | "ClusterProviderConfig")
}

/// Where an object stands, from its conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    /// Synced=False or Ready=False for a reason that is trouble.
    Failing,
    /// Not Ready yet, nothing wrong said (being set up, deleting, paused).
    Progressing,
    /// No conditions yet: coffer has not reported on it.
    Unknown,
    Ready,
}

/// Reasons of `Ready=False` that are progress, not trouble.
const PROGRESS: &[&str] = &[
    "Deleting",
    "NotFound",
    "ReconcilePaused",
    "ObserveOnly",
    "EndpointJobRunning",
    "Creating",
    "AwaitingAnswer",
];

/// One object, as a row.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The ProviderConfig it uses; for a ProviderConfig, its cloud.
    pub provider: String,
    pub ready: String,
    pub synced: String,
    pub state: State,
    /// The reason that explains the state (Synced's when it fails).
    pub reason: String,
    pub message: String,
    /// Seconds in this state: since the explaining condition last changed.
    pub for_seconds: Option<i64>,
}

/// A condition as an object's status holds it.
struct Cond<'a> {
    status: &'a str,
    reason: &'a str,
    message: &'a str,
    since: Option<Timestamp>,
}

fn condition<'a>(obj: &'a Value, type_: &str) -> Option<Cond<'a>> {
    let c = obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?;
    Some(Cond {
        status: c["status"].as_str().unwrap_or("Unknown"),
        reason: c["reason"].as_str().unwrap_or_default(),
        message: c["message"].as_str().unwrap_or_default(),
        since: c["lastTransitionTime"]
            .as_str()
            .and_then(|t| t.parse().ok()),
    })
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The row of `obj`, a coffer object of `kind`, at `now`.
pub fn row(kind: &str, obj: &Value, now: Timestamp) -> Row {
    let ready = condition(obj, "Ready");
    let synced = condition(obj, "Synced");
    let provider = match is_config(kind) {
        true => ["huaweiCloud", "rackspace", "commvault"]
            .iter()
            .find(|cloud| !obj["spec"][**cloud].is_null())
            .map_or(String::new(), |c| c.to_string()),
        // A ClusterProviderConfig may share a ProviderConfig's name.
        false => match obj["spec"]["providerConfigRef"]["kind"].as_str() {
            Some("ClusterProviderConfig") => {
                format!("cpc/{}", text(&obj["spec"]["providerConfigRef"]["name"]))
            }
            _ => text(&obj["spec"]["providerConfigRef"]["name"]),
        },
    };
    let synced_false = synced.as_ref().filter(|s| s.status == "False");
    let paused = synced_false.filter(|s| s.reason == "ReconcilePaused");
    let (state, explaining) = if let Some(s) = synced_false.filter(|_| paused.is_none()) {
        (State::Failing, Some(s))
    } else if let Some(r) = ready.as_ref().filter(|r| r.status == "True") {
        (State::Ready, Some(r))
    } else if let Some(s) = paused {
        (State::Progressing, Some(s))
    } else if let Some(r) = &ready {
        match PROGRESS.contains(&r.reason) {
            true => (State::Progressing, Some(r)),
            false => (State::Failing, Some(r)),
        }
    } else {
        (State::Unknown, synced.as_ref())
    };
    Row {
        kind: kind.to_string(),
        namespace: text(&obj["metadata"]["namespace"]),
        name: text(&obj["metadata"]["name"]),
        provider,
        ready: ready.as_ref().map_or("", |c| c.status).to_string(),
        synced: synced.as_ref().map_or("", |c| c.status).to_string(),
        state,
        reason: explaining.map_or("", |c| c.reason).to_string(),
        message: explaining.map_or("", |c| c.message).to_string(),
        for_seconds: explaining
            .and_then(|c| c.since)
            .map(|since| now.duration_since(since).as_secs().max(0)),
    }
}

/// Failing first, then progressing, unknown, ready; each by kind,
/// namespace and name.
pub fn sort(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (a.state, &a.kind, &a.namespace, &a.name).cmp(&(b.state, &b.kind, &b.namespace, &b.name))
    });
}

/// How many rows are in each state, and the failing ones by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub total: usize,
    pub by_state: BTreeMap<String, usize>,
    pub failing_by_reason: BTreeMap<String, usize>,
}

pub fn summary(rows: &[Row]) -> Summary {
    let mut s = Summary {
        total: rows.len(),
        ..Summary::default()
    };
    for row in rows {
        let state = serde_json::to_value(row.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *s.by_state.entry(state).or_default() += 1;
        if row.state == State::Failing {
            *s.failing_by_reason.entry(row.reason.clone()).or_default() += 1;
        }
    }
    s
}

/// One planned provider call or one drifted field of one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// `update vault 2402…: size=200` or `size: 100 → 200 (update)`.
    pub text: String,
}

/// Every pending call of `obj`'s `status.plan`.
pub fn plan_lines(kind: &str, obj: &Value) -> Vec<Line> {
    entries(obj, "plan")
        .map(|call| {
            let fields: Vec<String> = call["fields"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(str::to_string))
                .collect();
            let head = format!("{} {}", text(&call["operation"]), text(&call["target"]));
            match fields.is_empty() {
                true => head,
                false => format!("{head}: {}", fields.join(", ")),
            }
        })
        .map(|text| line(kind, obj, text))
        .collect()
}

/// Every drifted field of `obj`'s `status.drift`.
pub fn drift_lines(kind: &str, obj: &Value) -> Vec<Line> {
    entries(obj, "drift")
        .map(|d| {
            let mut t = format!(
                "{}: {} → {} ({})",
                text(&d["field"]),
                text(&d["observed"]),
                text(&d["desired"]),
                d["action"].as_str().unwrap_or("update")
            );
            if let Some(reason) = d["reason"].as_str() {
                t.push_str(&format!(": {reason}"));
            }
            t
        })
        .map(|text| line(kind, obj, text))
        .collect()
}

fn entries<'a>(obj: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    obj["status"][field].as_array().into_iter().flatten()
}

fn line(kind: &str, obj: &Value, text: String) -> Line {
    Line {
        kind: kind.to_string(),
        namespace: self::text(&obj["metadata"]["namespace"]),
        name: self::text(&obj["metadata"]["name"]),
        text,
    }
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
