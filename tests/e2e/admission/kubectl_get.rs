//! `kubectl get` shows coffer's columns, and knows its short names and
//! its category.

use super::*;

#[test]
fn kubectl_get_shows_the_columns_short_names_and_category() {
    let doc = created_vault("adm-get", |_| {});
    let ns = doc["metadata"]["namespace"]
        .as_str()
        .expect("namespace")
        .to_string();
    let out = env().kubectl(&["get", "bv", "-n", &ns], None);
    assert_accepted(&out);
    let header = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(columns, ["NAME", "READY", "SYNCED", "EXTERNAL-ID", "AGE"]);

    assert_accepted(&apply(&provider_config(&ns, "huawei")));
    let out = env().kubectl(&["get", "pconfig", "-n", &ns, "-o", "name"], None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "providerconfig.coffer.dev/huawei"
    );

    let out = env().kubectl(&["get", "coffer", "-n", &ns, "-o", "name"], None);
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "backupvault.coffer.dev/v",
            "providerconfig.coffer.dev/huawei"
        ],
        "{}",
        output_text(&out)
    );
}

/// The rows of `kubectl get pconfig` in `ns`, as NAME and REGION.
fn provider_config_regions(ns: &str) -> Vec<(String, String)> {
    let out = env().kubectl(&["get", "pconfig", "-n", ns], None);
    assert_accepted(&out);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "READY", "REGION", "AGE"], "{text}");
    // Cells by the header's columns: an empty cell leaves no word.
    let head = text.lines().next().unwrap_or_default();
    let (region, age) = (
        head.find("REGION").expect("REGION"),
        head.find("AGE").expect("AGE"),
    );
    let mut rows: Vec<(String, String)> = lines
        .map(|line| {
            let name = line.split_whitespace().next().unwrap_or_default();
            let cell = line.get(region..age).unwrap_or_default().trim();
            (name.to_string(), cell.to_string())
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn the_region_column_shows_the_region_of_every_cloud() {
    let ns = new_namespace("adm-region");
    assert_accepted(&apply_new(&provider_config(&ns, "huawei")));
    let rackspace = json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": "rackspace", "namespace": ns},
        "spec": {"rackspace": {"region": "DFW", "credentials": {"secretRef": {"name": "rackspace-credentials"}}}}
    });
    assert_accepted(&apply(&rackspace));
    let commvault = json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": "commvault", "namespace": ns},
        "spec": {"commvault": {
            "apiUrl": "https://commandcenter.example.com/commandcenter/api",
            "credentials": {"secretRef": {"name": "commvault-credentials"}}
        }}
    });
    assert_accepted(&apply(&commvault));
    assert_eq!(
        provider_config_regions(&ns),
        [
            // A Command Center is not regional: no region to show.
            ("commvault".to_string(), String::new()),
            ("huawei".to_string(), "cn-north-4".to_string()),
            ("rackspace".to_string(), "DFW".to_string()),
        ]
    );
}
