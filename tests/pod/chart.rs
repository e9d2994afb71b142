//! The chart as `helm template` renders it: the Deployment the pods are run
//! from, and the other objects (ServiceAccount, RBAC, Service) applied to the
//! API server as `helm install` would. Nothing here is copied from the
//! chart by hand: every value the pods get is read from the render.

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::Value;

/// One release of the chart, rendered.
pub struct Render {
    pub namespace: String,
    /// Every rendered object but the Deployment, in order.
    pub objects: Vec<Value>,
    pub deployment: Deployment,
}

impl Render {
    /// `helm template RELEASE charts/coffer -n NAMESPACE --set k=v...`.
    /// The CRDs are left out (`crds.install=false`): the test's control
    /// plane serves the generated ones, which the chart test keeps equal.
    pub fn new(helm: &Path, release: &str, namespace: &str, sets: &[String]) -> Self {
        let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/coffer");
        let home = std::env::temp_dir().join("coffer-pod-helm");
        let mut cmd = Command::new(helm);
        cmd.args(["template", release])
            .arg(&chart)
            .args(["-n", namespace, "--set", "crds.install=false"])
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"));
        for set in sets {
            cmd.args(["--set", set]);
        }
        let out = cmd.output().expect("running helm template");
        assert!(
            out.status.success(),
            "helm template failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("helm's output is UTF-8");
        let mut objects = Vec::new();
        let mut deployment = None;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = <Value as serde::Deserialize>::deserialize(doc).expect("rendered YAML");
            if value.is_null() {
                continue;
            }
            if value["kind"] == "Deployment" {
                assert!(deployment.is_none(), "the chart renders one Deployment");
                deployment = Some(serde_json::from_value(value).expect("a Deployment"));
            } else {
                objects.push(value);
            }
        }
        Self {
            namespace: namespace.to_string(),
            objects,
            deployment: deployment.expect("the chart renders a Deployment"),
        }
    }

    pub fn pod_spec(&self) -> &PodSpec {
        self.deployment
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .expect("the Deployment has a pod template")
    }

    pub fn replicas(&self) -> usize {
        self.deployment
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1) as usize
    }

    /// `terminationGracePeriodSeconds`, or Kubernetes' default of 30 s.
    pub fn termination_grace(&self) -> std::time::Duration {
        let secs = self
            .pod_spec()
            .termination_grace_period_seconds
            .unwrap_or(30);
        std::time::Duration::from_secs(secs as u64)
    }

    /// The ServiceAccount the pods run as.
    pub fn service_account(&self) -> String {
        self.pod_spec()
            .service_account_name
            .clone()
            .expect("the chart names its ServiceAccount")
    }

    /// The rendered objects but the Deployment, as one YAML stream for
    /// `kubectl apply`.
    pub fn objects_yaml(&self) -> String {
        self.objects
            .iter()
            .map(|o| serde_yaml::to_string(o).expect("YAML"))
            .collect::<Vec<_>>()
            .join("---\n")
    }

    /// Removes the rule of the Role (the leader-election one) that grants
    /// `resource`, as an administrator trimming RBAC would; returns it.
    pub fn remove_role_rule(&mut self, resource: &str) -> Value {
        let role = self
            .objects
            .iter_mut()
            .find(|o| o["kind"] == "Role")
            .expect("the chart renders a Role");
        let rules = role["rules"].as_array_mut().expect("the Role's rules");
        let at = rules
            .iter()
            .position(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|rs| rs.iter().any(|x| x == resource))
            })
            .unwrap_or_else(|| panic!("no rule of the Role grants {resource}"));
        rules.remove(at)
    }
}
