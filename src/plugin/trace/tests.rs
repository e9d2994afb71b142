use serde_json::json;

use super::render::{head, trace};
use super::*;
use crate::plugin::render::Format;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + second).expect("valid")
}

fn ready(since: i64) -> Value {
    json!([{"type": "Ready", "status": "True", "reason": "Available", "message": "ok",
            "lastTransitionTime": at(since).to_string()},
           {"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "message": "",
            "lastTransitionTime": at(since).to_string()}])
}

fn vault(config: Value) -> Value {
    json!({"metadata": {"name": "v", "namespace": "team-a", "uid": "u1"},
           "spec": {"providerConfigRef": config},
           "status": {"conditions": ready(0), "externalId": "vault-1",
                      "atProvider": {"size": 100}}})
}

fn provider_config() -> Value {
    json!({"metadata": {"name": "cloud", "namespace": "team-a"},
           "spec": {"huaweiCloud": {"region": "r", "credentials": {"secretRef": {"name": "creds"}}}},
           "status": {"conditions": ready(0)}})
}

/// A ClusterProviderConfig as the other engineer's CRD shapes it.
fn cluster_config(spec_ns: Option<&str>, status_ns: Option<&str>) -> Value {
    let mut c = json!({"metadata": {"name": "shared"},
           "spec": {"commvault": {"apiUrl": "https://cc.example.com",
                                  "credentials": {"secretRef": {"name": "cv-creds"}},
                                  "caBundleRef": {"kind": "ConfigMap", "name": "cas", "key": "ca.crt"}},
                    "allowedNamespaces": {"names": ["team-a"]}},
           "status": {"conditions": ready(0), "users": []}});
    if let Some(ns) = spec_ns {
        c["spec"]["credentialsNamespace"] = json!(ns);
    }
    if let Some(ns) = status_ns {
        c["status"]["credentialsNamespace"] = json!(ns);
    }
    c
}

fn labelled(keys: &[&str]) -> SecretKeys {
    SecretKeys {
        labels: [("coffer.dev/credentials".to_string(), "true".to_string())].into(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

fn facts(kind: &'static str, object: Value) -> Facts {
    Facts {
        kind,
        object,
        config: None,
        secret: None,
        ca: None,
        other_side: None,
        vault: None,
        events: Lookup::Found(Vec::new()),
        now: at(4000),
    }
}

fn child(node: &Node, role: Role) -> &Node {
    node.children
        .iter()
        .find(|c| c.role == role)
        .unwrap_or_else(|| panic!("no {role:?} under {node:#?}"))
}

#[test]
fn a_vault_on_a_provider_config_shows_its_secret_ca_and_cloud_object() {
    let obj = vault(json!({"name": "cloud"}));
    let config = provider_config();
    let r = config_ref("BackupVault", &obj).expect("a config");
    assert_eq!(
        (r.kind.as_str(), r.namespace.as_deref()),
        ("ProviderConfig", Some("team-a"))
    );
    let secret = secret_ref(&r.kind, &config).expect("a Secret");
    assert_eq!(secret.namespace.as_deref(), Some("team-a"));
    let mut f = facts("BackupVault", obj);
    f.secret = Some(Ok((
        secret,
        Lookup::Found(labelled(&["accessKey", "secretKey"])),
    )));
    f.ca = Some((ca_of(&r.kind, &config), None));
    f.config = Some((r, Lookup::Found(config)));
    let tree = build(&f);
    assert_eq!((tree.role, tree.state), (Role::Object, State::Ready));
    let pc = child(&tree, Role::ProviderConfig);
    assert_eq!(
        (pc.name.as_str(), pc.ready.as_deref()),
        ("cloud", Some("True"))
    );
    let s = child(pc, Role::Credentials);
    assert_eq!(
        s.keys.as_deref(),
        Some(&["accessKey".to_string(), "secretKey".to_string()][..])
    );
    assert_eq!(s.state, State::Ready);
    assert_eq!(child(pc, Role::CaBundle).name, "system roots");
    let cloud = child(&tree, Role::Cloud);
    assert_eq!(
        (cloud.kind.as_str(), cloud.external_id.as_deref()),
        ("huaweiCloud", Some("vault-1"))
    );
    assert_eq!(cloud.at_provider, Some(json!({"size": 100})));
    assert!(!tree.any_failing());
}

#[test]
fn a_missing_provider_config_is_a_failing_not_found_node() {
    let obj = vault(json!({"name": "nowhere"}));
    let r = config_ref("BackupVault", &obj).expect("a config");
    let mut f = facts("BackupVault", obj);
    f.config = Some((r, Lookup::NotFound));
    let tree = build(&f);
    let pc = child(&tree, Role::ProviderConfig);
    assert_eq!(
        (pc.presence, pc.state, pc.name.as_str()),
        (Presence::NotFound, State::Failing, "nowhere")
    );
    assert!(pc.children.is_empty(), "no Secret without a config");
    assert!(tree.any_failing());
    assert!(head(pc).contains("NOT FOUND"), "{}", head(pc));
}

#[test]
fn a_cluster_provider_configs_secret_is_read_from_its_credentials_namespace() {
    let obj = vault(json!({"kind": "ClusterProviderConfig", "name": "shared"}));
    let r = config_ref("BackupVault", &obj).expect("a config");
    assert_eq!(
        r,
        Ref {
            kind: "ClusterProviderConfig".into(),
            namespace: None,
            name: "shared".into()
        }
    );
    // The spec's namespace wins; else the one coffer resolved in status.
    let both = cluster_config(Some("platform"), Some("elsewhere"));
    let resolved = cluster_config(None, Some("elsewhere"));
    let neither = cluster_config(None, None);
    let ns = |c: &Value| secret_ref("ClusterProviderConfig", c).map(|r| r.namespace);
    assert_eq!(ns(&both), Ok(Some("platform".into())));
    assert_eq!(ns(&resolved), Ok(Some("elsewhere".into())));
    assert!(
        ns(&neither).is_err_and(|why| why.contains("credentialsNamespace")),
        "{:?}",
        ns(&neither)
    );
    let Ca::Ref(ca, key) = ca_of("ClusterProviderConfig", &both) else {
        panic!("a caBundleRef")
    };
    assert_eq!(
        (ca.kind.as_str(), ca.namespace.as_deref(), key.as_str()),
        ("ConfigMap", Some("platform"), "ca.crt")
    );

    let mut f = facts("BackupVault", obj);
    let secret = secret_ref("ClusterProviderConfig", &both).expect("a Secret");
    f.secret = Some(Ok((
        secret,
        Lookup::Found(labelled(&["username", "password"])),
    )));
    f.ca = Some((Ca::Ref(ca, key), Some(Lookup::Found(labelled(&["other"])))));
    f.config = Some((r, Lookup::Found(both)));
    let tree = build(&f);
    let cpc = child(&tree, Role::ProviderConfig);
    assert_eq!(
        (cpc.kind.as_str(), cpc.namespace.as_deref(), cpc.state),
        ("ClusterProviderConfig", None, State::Ready)
    );
    let s = child(cpc, Role::Credentials);
    assert_eq!(
        (s.namespace.as_deref(), s.name.as_str()),
        (Some("platform"), "cv-creds")
    );
    // The ConfigMap lacks the key the config names.
    let ca = child(cpc, Role::CaBundle);
    assert_eq!(
        (ca.state, ca.reason.as_str()),
        (State::Failing, "KeyMissing")
    );
    assert_eq!(child(&tree, Role::Cloud).kind, "commvault");
}

#[test]
fn a_cluster_provider_config_the_cluster_does_not_serve_is_not_found_and_says_why() {
    let obj = vault(json!({"kind": "ClusterProviderConfig", "name": "shared"}));
    let r = config_ref("BackupVault", &obj).expect("a config");
    let mut f = facts("BackupVault", obj);
    f.config = Some((r, Lookup::NotInstalled));
    let cpc = build(&f).children.remove(0);
    assert_eq!(
        (cpc.role, cpc.presence, cpc.state),
        (Role::ProviderConfig, Presence::NotFound, State::Failing)
    );
    assert!(
        cpc.message.contains("CRD is not installed"),
        "{}",
        cpc.message
    );
}

#[test]
fn an_unresolved_credentials_namespace_is_a_failing_secret_node() {
    let config = cluster_config(None, None);
    let mut f = facts("ClusterProviderConfig", config.clone());
    f.secret = Some(secret_ref("ClusterProviderConfig", &config).map(|r| (r, Lookup::NotFound)));
    let tree = build(&f);
    // A config traced itself: its Secret hangs from the root, no cloud node.
    let s = child(&tree, Role::Credentials);
    assert_eq!((s.state, s.reason.as_str()), (State::Failing, "Unresolved"));
    assert!(tree.children.iter().all(|c| c.role != Role::Cloud));
}

#[test]
fn an_unlabelled_secret_fails_and_a_forbidden_one_is_unknown() {
    let r = Ref {
        kind: "Secret".into(),
        namespace: Some("team-a".into()),
        name: "creds".into(),
    };
    let mut f = facts("ProviderConfig", provider_config());
    let unlabelled = SecretKeys {
        labels: BTreeMap::new(),
        keys: vec!["accessKey".into()],
    };
    f.secret = Some(Ok((r.clone(), Lookup::Found(unlabelled))));
    let s = build(&f).children.remove(0);
    assert_eq!(
        (s.state, s.reason.as_str()),
        (State::Failing, "NotLabelled")
    );
    f.secret = Some(Ok((r, Lookup::Forbidden("you may not get secrets".into()))));
    let s = build(&f).children.remove(0);
    assert_eq!(
        (s.presence, s.state, s.keys.is_none()),
        (Presence::Forbidden, State::Unknown, true)
    );
}

fn share(side: &str, backup: &str, ns: &str, name: &str) -> Value {
    let mut spec = json!({"providerConfigRef": {"name": "cloud"}});
    spec[side] = match side {
        "owner" => json!({"backupId": backup, "members": ["p"]}),
        _ => json!({"backupId": backup, "decision": "Accept", "vaultRef": {"name": "into"}}),
    };
    json!({"metadata": {"name": name, "namespace": ns}, "spec": spec,
           "status": {"conditions": ready(0)}})
}

#[test]
fn a_shares_other_side_is_found_by_its_backup_id_in_any_namespace() {
    let owner = share("owner", "b1", "team-a", "give");
    let all = vec![
        owner.clone(),
        share("receiver", "b1", "team-b", "take"),
        share("receiver", "b2", "team-c", "unrelated"),
        share("owner", "b1", "team-d", "another-owner"),
    ];
    let names = |v: Vec<&Value>| -> Vec<String> {
        v.iter()
            .map(|s| {
                s["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(names(other_side(&owner, &all)), ["take"]);
    assert_eq!(names(other_side(&all[1], &all)), ["give", "another-owner"]);
    let mut f = facts("BackupShare", all[1].clone());
    f.other_side = Some((all.clone(), None));
    let tree = build(&f);
    let sides: Vec<_> = tree
        .children
        .iter()
        .filter(|c| c.role == Role::OtherSide)
        .map(|c| c.namespace.clone().unwrap_or_default())
        .collect();
    assert_eq!(sides, ["team-a", "team-d"]);
    assert_eq!(vault_ref(&all[1]).map(|r| r.name), Some("into".to_string()));
}

#[test]
fn no_other_side_is_unknown_not_failing_and_says_where_it_looked() {
    let owner = share("owner", "b1", "team-a", "give");
    let mut f = facts("BackupShare", owner.clone());
    f.other_side = Some((vec![owner], Some("team-a".into())));
    let tree = build(&f);
    let none = child(&tree, Role::OtherSide);
    assert_eq!(
        (none.presence, none.state),
        (Presence::NotFound, State::Unknown)
    );
    assert!(
        none.message.contains("receiver") && none.message.contains("namespace team-a"),
        "{}",
        none.message
    );
    assert!(!tree.any_failing());
}

#[test]
fn events_of_the_last_hour_are_kept_oldest_first() {
    let event = |reason: &str, ago: i64, field: &str| {
        let mut e = json!({"type": "Normal", "reason": reason, "message": reason, "count": 1});
        e[field] = json!(at(4000 - ago).to_string());
        e
    };
    let events = vec![
        event("Recent", 10, "lastTimestamp"),
        event("Old", 3700, "lastTimestamp"),
        event("NewGeneration", 100, "eventTime"),
    ];
    let lines = recent_events(&events, at(4000));
    let reasons: Vec<_> = lines.iter().map(|l| l.reason.as_str()).collect();
    assert_eq!(reasons, ["NewGeneration", "Recent"]);
    assert_eq!(lines[1].age_seconds, 10);
}

#[test]
fn the_tree_prints_without_colour_when_piped_and_as_data_in_json() {
    let obj = vault(json!({"name": "cloud"}));
    let r = config_ref("BackupVault", &obj).expect("a config");
    let mut f = facts("BackupVault", obj);
    f.config = Some((r, Lookup::NotFound));
    let tree = build(&f);
    let mut out = Vec::new();
    trace(&mut out, &tree, Format::Table, false).expect("written");
    let text = String::from_utf8(out).expect("utf-8");
    assert!(!text.contains('\x1b'), "{text:?}");
    assert!(
        text.starts_with("BackupVault team-a/v  Ready=True Synced=True"),
        "{text}"
    );
    assert!(
        text.contains("├─ ProviderConfig team-a/cloud  NOT FOUND"),
        "{text}"
    );
    assert!(text.contains("└─ Events last hour"), "{text}");
    let mut out = Vec::new();
    trace(&mut out, &tree, Format::Table, true).expect("written");
    assert!(String::from_utf8(out).expect("utf-8").contains("\x1b[31m"));
    let mut out = Vec::new();
    trace(&mut out, &tree, Format::Json, false).expect("written");
    let value: Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(value["children"][0]["role"], "providerConfig");
    assert_eq!(value["children"][0]["presence"], "notFound");
    assert_eq!(value["children"][1]["externalId"], "vault-1");
}

#[test]
fn a_watch_prints_again_when_a_node_changes_not_when_events_age() {
    let obj = vault(json!({"name": "cloud"}));
    let r = config_ref("BackupVault", &obj).expect("a config");
    let event = json!({"type": "Normal", "reason": "Created", "message": "m",
                       "lastTimestamp": at(3990).to_string()});
    let mut f = facts("BackupVault", obj);
    f.events = Lookup::Found(vec![event]);
    f.config = Some((r.clone(), Lookup::Found(provider_config())));
    let first = build(&f).change_key();
    f.now = at(4030);
    assert_eq!(build(&f).change_key(), first, "only older");
    f.config = Some((r, Lookup::NotFound));
    assert_ne!(build(&f).change_key(), first, "the config went");
}
