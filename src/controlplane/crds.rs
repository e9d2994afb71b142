//! Installing coffer's CRDs from `crds/` and waiting until they serve.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};

use super::ControlPlaneError;

/// Field manager for CRDs installed by tests and the demo.
const MANAGER: &str = "coffer-controlplane";

/// Reads every `*.yaml` CRD in `dir`.
pub fn read_dir(dir: &Path) -> Result<Vec<CustomResourceDefinition>, ControlPlaneError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| ControlPlaneError::Crds(format!("reading {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| ControlPlaneError::Crds(format!("{}: {e}", p.display())))?;
            serde_yaml::from_str(&text)
                .map_err(|e| ControlPlaneError::Crds(format!("{}: {e}", p.display())))
        })
        .collect()
}

/// Applies the CRDs by server-side apply and waits until each is Established.
pub async fn install(
    client: &kube::Client,
    crds: &[CustomResourceDefinition],
) -> Result<(), ControlPlaneError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(MANAGER).force();
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &params, &Patch::Apply(crd))
            .await
            .map_err(|e| ControlPlaneError::Crds(format!("applying {name}: {e}")))?;
    }
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let cond = kube::runtime::conditions::is_crd_established();
        tokio::time::timeout(
            Duration::from_secs(60),
            kube::runtime::wait::await_condition(api.clone(), &name, cond),
        )
        .await
        .map_err(|_| ControlPlaneError::Crds(format!("{name} not established after 60s")))?
        .map_err(|e| ControlPlaneError::Crds(format!("waiting for {name}: {e}")))?;
    }
    Ok(())
}
