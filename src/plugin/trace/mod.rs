//! `kubectl coffer trace KIND/NAME`: one object as a tree, from its spec to
//! its cloud — its ProviderConfig (or ClusterProviderConfig) with that
//! one's credentials Secret and CA bundle, the cloud object's id and state,
//! a BackupShare's other side, and the object's Events of the last hour.
//!
//! [`fetch`] reads what the tree needs; this module turns what was read
//! into the tree, purely, so every branch is tested from JSON fixtures;
//! [`render`] prints it. A Secret is only ever kept as its labels and key
//! names ([`SecretKeys`]): its values are dropped while the API server's
//! answer is parsed, so nothing after that can print them.

pub mod fetch;
mod refs;
pub mod render;

pub use refs::{Ca, Ref, ca_of, config_ref, other_side, secret_ref, vault_ref};
use refs::{cloud_block, ref_of};

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::fleet::{self, State, is_config};

/// Where one looked-for object stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup<T> {
    Found(T),
    /// The API server has no such object.
    NotFound,
    /// The API server does not serve the kind: its CRD is not installed.
    NotInstalled,
    /// The caller may not read it; the text says which right is missing.
    Forbidden(String),
}

/// A Secret or ConfigMap as trace reads it: never its values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretKeys {
    pub labels: BTreeMap<String, String>,
    pub keys: Vec<String>,
}

/// Everything [`fetch`] read for one trace.
pub struct Facts {
    /// The traced object's kind (`BackupVault`, ...) and JSON.
    pub kind: &'static str,
    pub object: Value,
    /// The config the object names, unless it is a config itself.
    pub config: Option<(Ref, Lookup<Value>)>,
    /// The credentials Secret of the config (the object's own, for a config),
    /// or why it is not known which.
    pub secret: Option<Result<(Ref, Lookup<SecretKeys>), String>>,
    /// The config's CA source, with the referenced object when there is one.
    pub ca: Option<(Ca, Option<Lookup<SecretKeys>>)>,
    /// For a BackupShare: the other side's objects, and the namespace they
    /// were looked for in when not all could be listed.
    pub other_side: Option<(Vec<Value>, Option<String>)>,
    /// For an accepting receiver: its `vaultRef` BackupVault.
    pub vault: Option<(Ref, Lookup<Value>)>,
    /// Events about the object (any age; the tree keeps the last hour's).
    pub events: Lookup<Vec<Value>>,
    pub now: Timestamp,
}

/// What a node is in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    Object,
    ProviderConfig,
    Credentials,
    CaBundle,
    Cloud,
    OtherSide,
    Vault,
    Events,
}

/// Whether the object a node stands for was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Presence {
    Found,
    NotFound,
    /// The caller may not read it: whether it exists is unknown.
    Forbidden,
    /// Nothing to look up (system roots, an inline bundle, an Events count).
    NotApplicable,
}

/// One Event, as the tree shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventLine {
    #[serde(rename = "type")]
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub count: i64,
    /// When it last happened, as the Event says.
    pub last_seen: String,
    pub age_seconds: i64,
}

/// One node of the trace; `-o json|yaml` prints the root as it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub role: Role,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub presence: Presence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced: Option<String>,
    pub state: State,
    pub reason: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// A Secret's or ConfigMap's key names, never their values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventLine>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

/// The label coffer reads credentials and CA bundles by.
const CREDENTIALS_LABEL: &str = "coffer.dev/credentials";
/// How far back Events are shown.
const EVENTS_WINDOW_SECONDS: i64 = 3600;

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

impl Node {
    fn new(role: Role, r: &Ref, presence: Presence, state: State) -> Self {
        Self {
            role,
            kind: r.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            presence,
            ready: None,
            synced: None,
            state,
            reason: String::new(),
            message: String::new(),
            labels: None,
            keys: None,
            external_id: None,
            at_provider: None,
            events: Vec::new(),
            children: Vec::new(),
        }
    }

    fn said(mut self, reason: &str, message: impl Into<String>) -> Self {
        self.reason = reason.to_string();
        self.message = message.into();
        self
    }

    /// What `--watch` compares: every node's identity, presence, state,
    /// reason and message, and the Events by when they happened (not by
    /// their age, which changes every second).
    pub fn change_key(&self) -> Vec<String> {
        let mut key = vec![format!(
            "{:?} {} {:?}/{} {:?} {:?} {} {}",
            self.role,
            self.kind,
            self.namespace,
            self.name,
            self.presence,
            self.state,
            self.reason,
            self.message
        )];
        key.extend(
            self.events
                .iter()
                .map(|e| format!("{} {} {}", e.last_seen, e.reason, e.count)),
        );
        key.extend(self.children.iter().flat_map(Node::change_key));
        key
    }

    /// Whether this node or any below it is failing: `--exit-code`'s test.
    pub fn any_failing(&self) -> bool {
        self.state == State::Failing || self.children.iter().any(Node::any_failing)
    }
}

/// The tree of what was read.
pub fn build(facts: &Facts) -> Node {
    let mut root = object_node(Role::Object, facts.kind, &facts.object, facts.now);
    let config = facts.config.as_ref().map(|(r, found)| match found {
        Lookup::Found(obj) => object_node(Role::ProviderConfig, &r.kind, obj, facts.now),
        other => missing(Role::ProviderConfig, r, other),
    });
    let mut config_children = Vec::new();
    if let Some(secret) = &facts.secret {
        config_children.push(secret_node(secret));
    }
    if let Some((ca, found)) = &facts.ca {
        config_children.push(ca_node(ca, found.as_ref()));
    }
    match config {
        Some(mut config) => {
            config.children = config_children;
            root.children.push(config);
        }
        // The object is a config: its Secret and CA hang from it directly.
        None => root.children.extend(config_children),
    }
    if !is_config(facts.kind) {
        root.children.push(cloud_node(facts));
    }
    if let Some((r, found)) = &facts.vault {
        root.children.push(match found {
            Lookup::Found(obj) => object_node(Role::Vault, "BackupVault", obj, facts.now),
            other => missing(Role::Vault, r, other),
        });
    }
    if let Some((shares, only_in)) = &facts.other_side {
        root.children
            .extend(other_side_nodes(&facts.object, shares, only_in, facts.now));
    }
    root.children.push(events_node(&facts.events, facts.now));
    root
}

/// A coffer object's node: its conditions, as `status` reads them.
fn object_node(role: Role, kind: &str, obj: &Value, now: Timestamp) -> Node {
    let row = fleet::row(kind, obj, now);
    let mut node = Node::new(role, &ref_of(kind, obj), Presence::Found, row.state)
        .said(&row.reason, row.message);
    node.ready = Some(row.ready).filter(|s| !s.is_empty());
    node.synced = Some(row.synced).filter(|s| !s.is_empty());
    node
}

/// A node for an object that could not be read.
fn missing<T>(role: Role, r: &Ref, found: &Lookup<T>) -> Node {
    let what = match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    };
    match found {
        Lookup::Found(_) | Lookup::NotFound => {
            Node::new(role, r, Presence::NotFound, State::Failing)
                .said("NotFound", format!("{what} not found"))
        }
        Lookup::NotInstalled => Node::new(role, r, Presence::NotFound, State::Failing).said(
            "NotInstalled",
            format!(
                "{what} not found: this cluster does not serve {}s (the CRD is not installed)",
                r.kind
            ),
        ),
        Lookup::Forbidden(right) => Node::new(role, r, Presence::Forbidden, State::Unknown)
            .said("Forbidden", format!("cannot read {what}: {right}")),
    }
}

fn secret_node(secret: &Result<(Ref, Lookup<SecretKeys>), String>) -> Node {
    match secret {
        Err(why) => Node::new(
            Role::Credentials,
            &Ref {
                kind: "Secret".into(),
                namespace: None,
                name: String::new(),
            },
            Presence::NotFound,
            State::Failing,
        )
        .said("Unresolved", why.clone()),
        Ok((r, Lookup::Found(keys))) => keys_node(Role::Credentials, r, keys, None),
        Ok((r, other)) => missing(Role::Credentials, r, other),
    }
}

/// A found Secret or ConfigMap: its labels and key names, failing when
/// coffer would not read it (no label) or the key it needs is not there.
fn keys_node(role: Role, r: &Ref, found: &SecretKeys, key: Option<&str>) -> Node {
    let labelled = found.labels.get(CREDENTIALS_LABEL).map(String::as_str) == Some("true");
    let node = Node::new(role, r, Presence::Found, State::Ready);
    let mut node = match (labelled, key) {
        (false, _) => Node {
            state: State::Failing,
            ..node
        }
        .said(
            "NotLabelled",
            format!("coffer reads only objects labelled {CREDENTIALS_LABEL}=true"),
        ),
        (true, Some(key)) if !found.keys.iter().any(|k| k == key) => Node {
            state: State::Failing,
            ..node
        }
        .said("KeyMissing", format!("it has no key {key:?}")),
        (true, _) => node.said("Found", "labelled for coffer"),
    };
    node.labels = Some(found.labels.clone());
    node.keys = Some(found.keys.clone());
    node
}

fn ca_node(ca: &Ca, found: Option<&Lookup<SecretKeys>>) -> Node {
    let plain = |name: &str, message: &str| {
        Node::new(
            Role::CaBundle,
            &Ref {
                kind: "CA bundle".into(),
                namespace: None,
                name: name.into(),
            },
            Presence::NotApplicable,
            State::Ready,
        )
        .said("", message)
    };
    match (ca, found) {
        (Ca::SystemRoots, _) => plain("system roots", "no caBundle or caBundleRef"),
        (Ca::Inline, _) => plain("inline", "caBundle, in the config's spec"),
        (Ca::Ref(r, key), Some(Lookup::Found(keys))) => {
            let mut node = keys_node(Role::CaBundle, r, keys, Some(key));
            if node.state == State::Ready {
                node.message = format!("key {key:?}");
            }
            node
        }
        (Ca::Ref(r, _), Some(other)) => missing(Role::CaBundle, r, other),
        (Ca::Ref(r, _), None) => missing(Role::CaBundle, r, &Lookup::<()>::NotFound),
    }
}

/// The cloud object: its provider's id and what the provider last said.
fn cloud_node(facts: &Facts) -> Node {
    let status = &facts.object["status"];
    let cloud = facts
        .config
        .as_ref()
        .and_then(|(_, c)| match c {
            Lookup::Found(config) => cloud_block(config).map(|(name, _)| name),
            _ => None,
        })
        .or_else(|| cloud_block(&facts.object).map(|(name, _)| name))
        .unwrap_or("cloud");
    let id = text(&status["externalId"]);
    let r = Ref {
        kind: cloud.to_string(),
        namespace: None,
        name: id.clone().unwrap_or_else(|| "-".into()),
    };
    let mut node = match &id {
        Some(_) => {
            Node::new(Role::Cloud, &r, Presence::Found, State::Ready).said("", "status.externalId")
        }
        None => Node::new(Role::Cloud, &r, Presence::NotFound, State::Unknown).said(
            "NoExternalId",
            "no status.externalId: coffer has not found or made the cloud object (yet)",
        ),
    };
    node.external_id = id;
    node.at_provider = Some(status["atProvider"].clone()).filter(|v| !v.is_null());
    node
}

fn other_side_nodes(
    share: &Value,
    shares: &[Value],
    only_in: &Option<String>,
    now: Timestamp,
) -> Vec<Node> {
    let found: Vec<Node> = other_side(share, shares)
        .into_iter()
        .map(|s| object_node(Role::OtherSide, "BackupShare", s, now))
        .collect();
    if !found.is_empty() {
        return found;
    }
    let (side, backup) = match share["spec"]["owner"].is_object() {
        true => ("receiver", &share["spec"]["owner"]["backupId"]),
        false => ("owner", &share["spec"]["receiver"]["backupId"]),
    };
    let backup = backup.as_str().unwrap_or_default();
    let where_ = match only_in {
        Some(ns) => format!("in namespace {ns} (you may not list BackupShares in every namespace)"),
        None => "in this cluster".into(),
    };
    // Not failing: the other project may well be managed elsewhere.
    vec![
        Node::new(
            Role::OtherSide,
            &Ref {
                kind: "BackupShare".into(),
                namespace: None,
                name: "-".into(),
            },
            Presence::NotFound,
            State::Unknown,
        )
        .said(
            "NotFound",
            format!("no {side} BackupShare of backup {backup} {where_}"),
        ),
    ]
}

/// When an Event last happened: `lastTimestamp`, else `eventTime`, else
/// `firstTimestamp` (core/v1 Events carry one generation or the other).
fn last_seen(event: &Value) -> Option<Timestamp> {
    ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .find_map(|f| event[*f].as_str().and_then(|t| t.parse().ok()))
}

/// The Events of the last hour, oldest first.
pub fn recent_events(events: &[Value], now: Timestamp) -> Vec<EventLine> {
    let mut lines: Vec<(Timestamp, EventLine)> = events
        .iter()
        .filter_map(|e| {
            let seen = last_seen(e)?;
            let age = now.duration_since(seen).as_secs().max(0);
            (age <= EVENTS_WINDOW_SECONDS).then(|| {
                let line = EventLine {
                    type_: text(&e["type"]).unwrap_or_default(),
                    reason: text(&e["reason"]).unwrap_or_default(),
                    message: text(&e["message"]).unwrap_or_default(),
                    count: e["count"].as_i64().unwrap_or(1),
                    last_seen: seen.to_string(),
                    age_seconds: age,
                };
                (seen, line)
            })
        })
        .collect();
    lines.sort_by_key(|line| line.0);
    lines.into_iter().map(|(_, line)| line).collect()
}

fn events_node(events: &Lookup<Vec<Value>>, now: Timestamp) -> Node {
    let r = Ref {
        kind: "Events".into(),
        namespace: None,
        name: "last hour".into(),
    };
    match events {
        Lookup::Found(all) => {
            let lines = recent_events(all, now);
            let warnings = lines.iter().filter(|l| l.type_ == "Warning").count();
            let state = match warnings {
                0 => State::Ready,
                _ => State::Progressing,
            };
            let mut node = Node::new(Role::Events, &r, Presence::NotApplicable, state)
                .said("", format!("{} ({warnings} warnings)", lines.len()));
            node.events = lines;
            node
        }
        other => missing(Role::Events, &r, other),
    }
}

#[cfg(test)]
mod tests;
