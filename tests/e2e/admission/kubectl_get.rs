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
