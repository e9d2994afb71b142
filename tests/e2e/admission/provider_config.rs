//! ProviderConfig: the rules a ProviderConfig must keep, one test each.

use serde_json::json;

use super::*;

#[test]
fn provider_config_without_a_provider_block_is_rejected() {
    let mut doc = provider_config(&new_namespace("adm-pc-oneof"), "huawei");
    doc["spec"] = json!({});
    assert_rejected(
        &apply_new(&doc),
        "spec",
        "spec must set exactly one provider block: huaweiCloud, rackspace or commvault.",
    );
}

#[test]
fn region_that_is_not_a_region_id_is_rejected() {
    let out = apply_provider_config("adm-pc-region", |hw| hw["region"] = json!("CN North 4"));
    assert_rejected(
        &out,
        "spec.huaweiCloud.region",
        "huaweiCloud.region must be a region ID such as cn-north-4: lower-case letters, digits and '-', starting and ending with a letter or digit.",
    );
}

#[test]
fn project_id_that_is_not_32_hex_characters_is_rejected() {
    let out = apply_provider_config("adm-pc-proj", |hw| {
        hw["projectId"] = json!("0123456789ABCDEF0123456789abcdef")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.projectId",
        "huaweiCloud.projectId must be a project ID: exactly 32 lower-case hexadecimal characters.",
    );
}

#[test]
fn domain_id_that_is_not_32_hex_characters_is_rejected() {
    let out = apply_provider_config("adm-pc-dom", |hw| hw["domainId"] = json!("my-account"));
    assert_rejected(
        &out,
        "spec.huaweiCloud.domainId",
        "huaweiCloud.domainId must be an account (domain) ID: exactly 32 lower-case hexadecimal characters.",
    );
}

#[test]
fn iam_endpoint_that_is_not_an_http_url_is_rejected() {
    let out = apply_provider_config("adm-pc-iam", |hw| {
        hw["endpoints"]["iam"] = json!("ftp://iam.example.com")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.endpoints.iam",
        "huaweiCloud.endpoints.iam must be an http:// or https:// URL with a host, such as https://iam.cn-north-4.myhuaweicloud.com.",
    );
}

#[test]
fn cbr_endpoint_that_is_not_an_http_url_is_rejected() {
    let out = apply_provider_config("adm-pc-cbr", |hw| {
        hw["endpoints"]["cbr"] = json!("cbr.example.com:443")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.endpoints.cbr",
        "huaweiCloud.endpoints.cbr must be an http:// or https:// URL with a host, such as https://cbr.cn-north-4.myhuaweicloud.com.",
    );
}

#[test]
fn unknown_credentials_type_is_rejected() {
    let out = apply_provider_config("adm-pc-type", |hw| {
        hw["credentials"]["type"] = json!("Token")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.credentials.type",
        r#"Unsupported value: "Token": supported values: "AccessKey", "Password""#,
    );
}

#[test]
fn secret_ref_that_is_not_a_dns_subdomain_is_rejected() {
    let out = apply_provider_config("adm-pc-secret", |hw| {
        hw["credentials"]["secretRef"]["name"] = json!("Huawei Keys")
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.credentials.secretRef.name",
        "secretRef.name must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.",
    );
}

#[test]
fn an_endpoint_with_user_info_a_query_or_a_fragment_is_rejected_for_every_cloud() {
    let ns = new_namespace("adm-pc-plain");
    let huawei = |field: &str, url: &str| {
        let mut doc = provider_config(&ns, "huawei");
        doc["spec"]["huaweiCloud"]["endpoints"][field] = json!(url);
        (doc, format!("spec.huaweiCloud.endpoints.{field}"))
    };
    let rackspace = |url: &str| {
        let doc = json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": "rax", "namespace": ns},
            "spec": {"rackspace": {"identityEndpoint": url, "region": "DFW",
                "credentials": {"secretRef": {"name": "rackspace-credentials"}}}},
        });
        (doc, "spec.rackspace.identityEndpoint".to_string())
    };
    let commvault = |url: &str| {
        let doc = json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": "cv", "namespace": ns},
            "spec": {"commvault": {"apiUrl": url,
                "credentials": {"secretRef": {"name": "commvault-credentials"}}}},
        });
        (doc, "spec.commvault.apiUrl".to_string())
    };
    for bad in [
        "https://admin:hunter2@cc.example.com/commandcenter/api",
        "https://cc.example.com/commandcenter/api?token=x",
        "https://cc.example.com/commandcenter/api#frag",
    ] {
        for (doc, field) in [
            huawei("iam", bad),
            huawei("cbr", bad),
            rackspace(bad),
            commvault(bad),
        ] {
            assert_rejected(
                &apply_new(&doc),
                &field,
                "must not carry user info (user@), a query (?) or a fragment (#)",
            );
        }
    }
}
