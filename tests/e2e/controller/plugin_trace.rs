//! `kubectl coffer trace`, run by the real kubectl through its plugin
//! discovery, against objects coffer reconciled: its JSON checked field by
//! field against the objects it shows, its table piped (no colour), its exit
//! codes, a BackupShare's other side found in another namespace, and never
//! a Secret's value anywhere in what it prints.

use std::process::Output;

use coffer::api::{BackupShare, BackupVault, ProviderConfig};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::backup_share::{
    create_share, is_ready as share_ready, make_backup, owner_spec, peer_provider_config,
    share_when,
};
use super::plugin::{json_of, kubectl_coffer, plugin_dir};
use super::{Running, condition};
use crate::support::{env, output_text};

/// The child of `node` in `role`; the first when there are several.
fn child<'a>(node: &'a Value, role: &str) -> &'a Value {
    node["children"]
        .as_array()
        .and_then(|c| c.iter().find(|n| n["role"] == role))
        .unwrap_or_else(|| panic!("no {role} node in {node:#}"))
}

/// Asserts that no value of the Secret `creds` is in `out`, as it is or as
/// the API server sends it (base64).
fn no_secret_value(run: &Running, out: &Output) {
    use base64::Engine;
    let c = run.emulator.config();
    let text = output_text(out);
    for value in [&c.access_key, &c.secret_key] {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        for form in [value.as_str(), &encoded] {
            assert!(!text.contains(form), "a Secret's value in: {text}");
        }
    }
}

#[tokio::test]
async fn trace_shows_a_ready_vault_its_config_secret_keys_cloud_id_and_events_never_a_secret_value()
{
    let run = Running::start("trace").await;
    run.ready_vault("good", json!({})).await;
    // The ProviderConfig's own check runs beside the vault's: on a loaded
    // machine it may not have reported yet when the vault is Ready.
    super::eventually("the ProviderConfig reports Ready", || async {
        let pc = run.api::<ProviderConfig>().get("cloud").await.expect("get");
        let conditions = pc.status.map(|s| s.conditions).unwrap_or_default();
        conditions.iter().any(|c| c.type_ == "Ready").then_some(())
    })
    .await;
    let dir = plugin_dir();
    let admin = env().kubeconfig.clone();
    let ns = run.ns.as_str();
    // Events are written in the background: those before the trace must
    // show, and it may show ones written while it ran.
    let held_before = run.event_reasons("good").await;

    let out = kubectl_coffer(
        dir.path(),
        &admin,
        &["trace", "bv/good", "-n", ns, "-o", "json"],
    )
    .await;
    no_secret_value(&run, &out);
    let tree = json_of(&out);
    let bv = run.api::<BackupVault>().get("good").await.expect("get");

    // The object, as its conditions say.
    let (ready, reason, message) = condition(&bv, "Ready").expect("Ready");
    let (synced, _, _) = condition(&bv, "Synced").expect("Synced");
    assert_eq!(
        (
            &tree["role"],
            &tree["kind"],
            &tree["namespace"],
            &tree["name"]
        ),
        (
            &json!("object"),
            &json!("BackupVault"),
            &json!(ns),
            &json!("good")
        )
    );
    assert_eq!(
        (&tree["ready"], &tree["synced"], &tree["state"]),
        (&json!(ready), &json!(synced), &json!("ready"))
    );
    assert_eq!(
        (&tree["reason"], &tree["message"]),
        (&json!(reason), &json!(message))
    );

    // Its ProviderConfig, as its own condition says.
    let pc = run.api::<ProviderConfig>().get("cloud").await.expect("get");
    let pc_ready = pc
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
        .expect("the ProviderConfig's Ready");
    let config = child(&tree, "providerConfig");
    assert_eq!(
        (&config["kind"], &config["namespace"], &config["name"]),
        (&json!("ProviderConfig"), &json!(ns), &json!("cloud"))
    );
    assert_eq!(
        (&config["ready"], &config["reason"]),
        (&json!(pc_ready.status), &json!(pc_ready.reason))
    );

    // Its Secret: there, labelled, its key names.
    let secret = child(config, "credentials");
    assert_eq!(
        (&secret["kind"], &secret["namespace"], &secret["name"]),
        (&json!("Secret"), &json!(ns), &json!("creds"))
    );
    assert_eq!(
        (&secret["presence"], &secret["state"]),
        (&json!("found"), &json!("ready"))
    );
    assert_eq!(secret["keys"], json!(["accessKey", "secretKey"]));
    assert_eq!(secret["labels"]["coffer.dev/credentials"], "true");
    assert_eq!(child(config, "caBundle")["name"], "system roots");

    // The cloud object.
    let status = bv.status.as_ref().expect("status");
    let cloud = child(&tree, "cloud");
    assert_eq!(cloud["kind"], "huaweiCloud");
    assert_eq!(cloud["externalId"], json!(status.external_id));
    assert_eq!(
        cloud["atProvider"],
        serde_json::to_value(&status.at_provider).expect("json")
    );

    // Its Events: the ones the cluster holds about it (none: no field).
    let shown: Vec<String> = child(&tree, "events")["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    let held_after = run.event_reasons("good").await;
    assert!(!held_before.is_empty(), "coffer wrote no Event about good");
    for reason in &held_before {
        assert!(shown.contains(reason), "{reason} not shown: {shown:?}");
    }
    for reason in &shown {
        assert!(
            held_after.contains(reason),
            "{reason} is no Event of good: {held_after:?}"
        );
    }

    // The table, piped: the same, no colour, no value.
    let table = kubectl_coffer(dir.path(), &admin, &["trace", "bv/good", "-n", ns]).await;
    no_secret_value(&run, &table);
    let text = output_text(&table);
    assert!(table.status.success(), "{text}");
    assert!(!text.contains('\x1b'), "colour in a pipe: {text:?}");
    let id = status.external_id.as_deref().expect("an id");
    for line in [
        format!("BackupVault {ns}/good  Ready=True Synced=True"),
        format!("Secret {ns}/creds"),
        "keys: accessKey, secretKey".to_string(),
        format!("huaweiCloud {id}"),
        "Events last hour".to_string(),
    ] {
        assert!(text.contains(&line), "{line:?} missing: {text}");
    }
}

#[tokio::test]
async fn trace_shows_a_missing_provider_config_as_not_found_and_exits_as_documented() {
    let run = Running::start("trace-orphan").await;
    run.create_vault("orphaned", json!({})).await;
    run.api::<BackupVault>()
        .patch(
            "orphaned",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"providerConfigRef": {"name": "nowhere"}}})),
        )
        .await
        .expect("patch");
    let dir = plugin_dir();
    let admin = env().kubeconfig.clone();
    let ns = run.ns.as_str();

    // A trace that finds a broken link is done: 0.
    let tree = json_of(
        &kubectl_coffer(
            dir.path(),
            &admin,
            &["trace", "bv/orphaned", "-n", ns, "-o", "json"],
        )
        .await,
    );
    let config = child(&tree, "providerConfig");
    assert_eq!(
        (&config["name"], &config["presence"], &config["state"]),
        (&json!("nowhere"), &json!("notFound"), &json!("failing")),
        "{tree:#}"
    );
    assert!(config.get("children").is_none(), "{tree:#}");
    let table = kubectl_coffer(dir.path(), &admin, &["trace", "bv/orphaned", "-n", ns]).await;
    assert!(
        output_text(&table).contains(&format!("ProviderConfig {ns}/nowhere  NOT FOUND")),
        "{}",
        output_text(&table)
    );

    // A CI gate: 1 with --exit-code.
    let gate = kubectl_coffer(
        dir.path(),
        &admin,
        &["trace", "bv/orphaned", "-n", ns, "--exit-code"],
    )
    .await;
    assert_eq!(gate.status.code(), Some(1), "{}", output_text(&gate));

    // Nothing to trace: 2, an error.
    let none = kubectl_coffer(dir.path(), &admin, &["trace", "bv/never", "-n", ns]).await;
    assert_eq!(none.status.code(), Some(2), "{}", output_text(&none));
    assert!(
        output_text(&none).contains("not found"),
        "{}",
        output_text(&none)
    );
    // A kind the cluster may not serve yet: told apart from a missing object
    // by the API group's discovery document, whichever this cluster is.
    let served = run
        .client
        .list_api_group_resources("coffer.dev/v1alpha1")
        .await
        .expect("discovery")
        .resources
        .iter()
        .any(|r| r.name == "clusterproviderconfigs");
    let cpc = kubectl_coffer(dir.path(), &admin, &["trace", "cpc/never"]).await;
    assert_eq!(cpc.status.code(), Some(2), "{}", output_text(&cpc));
    let said = match served {
        true => "ClusterProviderConfig",
        false => "its CRD is not installed",
    };
    assert!(output_text(&cpc).contains(said), "{}", output_text(&cpc));
}

#[tokio::test]
async fn trace_of_a_backup_share_shows_the_other_side_in_any_namespace() {
    let run = Running::start("trace-share").await;
    peer_provider_config(&run).await;
    let backup = make_backup(&run, "src").await;
    let peer = run.emulator.config().peer_project_id.clone();
    create_share(
        &run,
        "out",
        owner_spec(&backup, std::slice::from_ref(&peer), "Delete"),
    )
    .await;
    let vault: BackupVault = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault", "metadata": {"name": "shared-in"},
        "spec": {"providerConfigRef": {"name": "peer"}, "huaweiCloud": {"name": "shared-in",
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server", "protectType": "backup", "size": 100}}},
    }))
    .expect("vault");
    run.api::<BackupVault>()
        .create(&PostParams::default(), &vault)
        .await
        .expect("creating the receiver's vault");
    create_share(
        &run,
        "in",
        json!({"providerConfigRef": {"name": "peer"},
        "receiver": {"backupId": backup, "decision": "Accept", "vaultRef": {"name": "shared-in"}}}),
    )
    .await;
    share_when(&run, "in", "the receiver share Ready", share_ready).await;
    share_when(&run, "out", "the owner share Ready", share_ready).await;
    // Another receiver of the same backup, in a namespace no controller of
    // this test watches: found all the same, without conditions.
    let far_ns = env().namespace("trace-far").await;
    let far: BackupShare = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupShare", "metadata": {"name": "far"},
        "spec": {"providerConfigRef": {"name": "elsewhere"},
                 "receiver": {"backupId": backup, "decision": "Reject"}},
    }))
    .expect("share");
    Api::<BackupShare>::namespaced(run.client.clone(), &far_ns)
        .create(&PostParams::default(), &far)
        .await
        .expect("creating the far receiver");
    let dir = plugin_dir();
    let admin = env().kubeconfig.clone();
    let ns = run.ns.as_str();

    // (namespace, name, Ready) of each other side; Ready "" when none.
    let sides = |tree: &Value| -> Vec<(String, String, String)> {
        let mut sides: Vec<_> = tree["children"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| n["role"] == "otherSide")
            // Every test's emulator hands out the same backup ids, so
            // shares of tests running at once match too: only this test's
            // two namespaces are its to check.
            .filter(|n| {
                [ns, far_ns.as_str()].contains(&n["namespace"].as_str().unwrap_or_default())
            })
            .map(|n| {
                (
                    n["namespace"].as_str().unwrap_or_default().to_string(),
                    n["name"].as_str().unwrap_or_default().to_string(),
                    n["ready"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        sides.sort();
        sides
    };
    let owner = json_of(
        &kubectl_coffer(
            dir.path(),
            &admin,
            &["trace", "bs/out", "-n", ns, "-o", "json"],
        )
        .await,
    );
    let mut expected = vec![
        (ns.to_string(), "in".to_string(), "True".to_string()),
        (far_ns.clone(), "far".to_string(), String::new()),
    ];
    expected.sort();
    assert_eq!(sides(&owner), expected, "{owner:#}");

    // As YAML: the same tree.
    let out = kubectl_coffer(
        dir.path(),
        &admin,
        &["trace", "bs/in", "-n", ns, "-o", "yaml"],
    )
    .await;
    assert!(out.status.success(), "{}", output_text(&out));
    let receiver: Value = serde_yaml::from_slice(&out.stdout).expect("yaml");
    assert_eq!(
        sides(&receiver),
        [(ns.to_string(), "out".to_string(), "True".to_string())],
        "{receiver:#}"
    );
    let into = child(&receiver, "vault");
    assert_eq!(
        (&into["kind"], &into["name"], &into["ready"]),
        (&json!("BackupVault"), &json!("shared-in"), &json!("True")),
        "{receiver:#}"
    );
}
