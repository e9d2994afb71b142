//! Proof that the test control plane is a real Kubernetes API server: the
//! behaviours below (CEL admission, status subresource, server-side apply,
//! optimistic concurrency on Leases, server-side dry run) cannot be faked
//! by a mock.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};

use crate::support::{env, output_text};

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.coffer.dev
spec:
  group: smoke.coffer.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "self.minReplicas <= self.maxReplicas"
              message: "minReplicas must not be greater than maxReplicas"
            properties:
              minReplicas: {type: integer}
              maxReplicas: {type: integer}
          status:
            type: object
            properties:
              phase: {type: string}
"#;

async fn install_widget_crd(client: &kube::Client) -> ApiResource {
    let crd: CustomResourceDefinition = serde_yaml::from_str(WIDGET_CRD).expect("widget CRD");
    coffer::controlplane::crds::install(client, &[crd])
        .await
        .expect("installing the widget CRD");
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("smoke.coffer.dev", "v1", "Widget"),
        "widgets",
    )
}

#[tokio::test]
async fn apiserver_is_the_pinned_release() {
    let env = env();
    let info = env
        .client()
        .await
        .apiserver_version()
        .await
        .expect("GET /version");
    assert_eq!(
        info.git_version,
        format!("v{}", coffer::controlplane::binaries::KUBE_VERSION)
    );
    for pid in [env.etcd_pid, env.apiserver_pid] {
        // SAFETY: signal 0 only checks that the process exists.
        assert_eq!(
            unsafe { libc::kill(pid as libc::pid_t, 0) },
            0,
            "process {pid} is not running"
        );
    }
}

#[tokio::test]
async fn cel_rule_rejects_an_invalid_object_with_its_message() {
    let env = env();
    install_widget_crd(&env.client().await).await;
    let ns = env.namespace("smoke-cel").await;
    let bad = format!(
        "apiVersion: smoke.coffer.dev/v1\nkind: Widget\nmetadata: {{name: bad, namespace: {ns}}}\nspec: {{minReplicas: 5, maxReplicas: 1}}\n"
    );
    let out = env.kubectl(&["apply", "-f", "-"], Some(&bad));
    assert!(
        !out.status.success(),
        "an invalid widget was accepted: {}",
        output_text(&out)
    );
    assert!(
        output_text(&out).contains("minReplicas must not be greater than maxReplicas"),
        "the rejection does not carry the rule's message: {}",
        output_text(&out)
    );
    let good = bad
        .replace("maxReplicas: 1", "maxReplicas: 9")
        .replace("name: bad", "name: good");
    let out = env.kubectl(&["apply", "-f", "-"], Some(&good));
    assert!(
        out.status.success(),
        "a valid widget was rejected: {}",
        output_text(&out)
    );
}

#[tokio::test]
async fn status_subresource_is_written_by_server_side_apply() {
    let env = env();
    let client = env.client().await;
    let ar = install_widget_crd(&client).await;
    let ns = env.namespace("smoke-status").await;
    let api: Api<DynamicObject> = Api::namespaced_with(client, &ns, &ar);
    let widget: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "smoke.coffer.dev/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"minReplicas": 1, "maxReplicas": 2}
    }))
    .expect("widget");
    api.create(&PostParams::default(), &widget)
        .await
        .expect("creating a widget");

    let status = serde_json::json!({
        "apiVersion": "smoke.coffer.dev/v1", "kind": "Widget", "status": {"phase": "Ready"}
    });
    api.patch_status(
        "w",
        &PatchParams::apply("smoke-test"),
        &Patch::Apply(&status),
    )
    .await
    .expect("SSA on status");

    let got = api.get("w").await.expect("reading the widget back");
    assert_eq!(got.data["status"]["phase"], "Ready");
    assert_eq!(
        got.data["spec"]["maxReplicas"], 2,
        "writing status must not touch spec"
    );
    let managed = got.metadata.managed_fields.unwrap_or_default();
    assert!(
        managed
            .iter()
            .any(|m| m.manager.as_deref() == Some("smoke-test")
                && m.operation.as_deref() == Some("Apply")
                && m.subresource.as_deref() == Some("status")),
        "no Apply entry for the status subresource in managedFields: {managed:?}"
    );
}

#[tokio::test]
async fn lease_is_created_and_renewed_with_optimistic_concurrency() {
    let env = env();
    let ns = env.namespace("smoke-lease").await;
    let api: Api<Lease> = Api::namespaced(env.client().await, &ns);
    let now = || MicroTime(k8s_openapi::jiff::Timestamp::now());
    let lease: Lease = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "coffer-leader"},
        "spec": {"holderIdentity": "test-a", "leaseDurationSeconds": 15}
    }))
    .expect("lease");
    let mut created = api
        .create(&PostParams::default(), &lease)
        .await
        .expect("creating a lease");
    let stale = created.clone();

    tokio::time::sleep(Duration::from_millis(20)).await;
    if let Some(spec) = created.spec.as_mut() {
        spec.renew_time = Some(now());
    }
    let renewed = api
        .replace("coffer-leader", &PostParams::default(), &created)
        .await
        .expect("renewing the lease");
    assert_ne!(
        renewed.metadata.resource_version,
        stale.metadata.resource_version
    );
    assert!(
        renewed
            .spec
            .as_ref()
            .and_then(|s| s.renew_time.as_ref())
            .is_some()
    );

    // A second holder with the old resourceVersion must lose.
    let mut rival = stale;
    if let Some(spec) = rival.spec.as_mut() {
        spec.holder_identity = Some("test-b".into());
    }
    match api
        .replace("coffer-leader", &PostParams::default(), &rival)
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 409, "expected a conflict, got {status:?}")
        }
        other => panic!("a stale lease update was accepted: {other:?}"),
    }
}

#[tokio::test]
async fn kubectl_server_side_dry_run_goes_through_the_harness_kubeconfig() {
    let env = env();
    let ns = env.namespace("smoke-dryrun").await;
    let cm = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: dry, namespace: {ns}}}\ndata: {{a: b}}\n"
    );
    let out = env.kubectl(&["apply", "--dry-run=server", "-f", "-"], Some(&cm));
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("(server dry run)"),
        "{}",
        output_text(&out)
    );
    let out = env.kubectl(&["get", "configmap", "dry", "-n", &ns], None);
    assert!(
        !out.status.success(),
        "a dry run created the object: {}",
        output_text(&out)
    );
}

#[tokio::test]
async fn coffer_crds_are_installed_and_explained() {
    let env = env();
    // The apiserver publishes a new CRD's OpenAPI a few seconds after it is
    // Established; kubectl explain reads that.
    let mut out = env.kubectl(&["explain", "backupvaults.spec.providerConfigRef"], None);
    for _ in 0..60 {
        if out.status.success() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        out = env.kubectl(&["explain", "backupvaults.spec.providerConfigRef"], None);
    }
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("ProviderConfig"),
        "{}",
        output_text(&out)
    );
}
