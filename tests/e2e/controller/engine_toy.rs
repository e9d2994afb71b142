//! The engine alone: a kind of this test's own (`Lamp`, its CRD installed
//! here) and a cloud of its own (lamps in a map), run through
//! `engine::reconcile` with an `engine::Context` whose `env` is that toy
//! cloud. No coffer Context, cache, ProviderConfig or provider client is
//! built: what the engine does once for every pair (finalizer, create and
//! the recorded id, one call per difference, nothing written when nothing
//! changed, drift corrected, delete and let go) shows on a pair it has
//! never seen.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use coffer::api::managed::{Drift, DriftAction, ManagedStatus, ManagementPolicy, PlannedCall};
use coffer::api::{DeletionPolicy, ProviderConfigRef};
use coffer::controller::engine::{
    self, Candidate, Context, Created, Error, External, Health, Lookup, Managed, Plan, Timing,
};
use coffer::provider::ProviderError;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::{CustomResource, CustomResourceExt, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::support::env;

/// A lamp somewhere: the toy kind's spec.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "toy.coffer.dev",
    version = "v1",
    kind = "Lamp",
    namespaced,
    status = "LampStatus"
)]
#[serde(rename_all = "camelCase")]
pub struct LampSpec {
    pub name: String,
    pub bright: bool,
}

/// What the toy cloud shows of a lamp.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LampObservation {
    pub bright: bool,
}

pub type LampStatus = ManagedStatus<LampObservation>;

impl Managed for Lamp {
    const KIND: &'static str = "Lamp";
    const FINALIZER: &'static str = "toy.coffer.dev/lamp";
    const NOUN: &'static str = "lamp";
    const MISSING_REASON: &'static str = "LampMissing";
    type AtProvider = LampObservation;

    fn provider_config_ref(&self) -> &ProviderConfigRef {
        // The toy reaches its lamp without one.
        static NONE: ProviderConfigRef = ProviderConfigRef {
            kind: None,
            name: String::new(),
        };
        &NONE
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        DeletionPolicy::Delete
    }

    fn management_policy(&self) -> ManagementPolicy {
        ManagementPolicy::Full
    }

    fn managed_status(&self) -> Option<&LampStatus> {
        self.status.as_ref()
    }
}

/// A lamp in the toy cloud, tagged with the uid of the object it was made for.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ToyLamp {
    id: String,
    name: String,
    bright: bool,
    owner: String,
}

/// The toy cloud: its lamps, and every change it was asked to make.
#[derive(Default)]
pub(super) struct ToyCloud {
    lamps: Mutex<BTreeMap<String, ToyLamp>>,
    writes: Mutex<Vec<String>>,
    /// Lamps whose every call never answers, as an endpoint that accepts
    /// and stays silent.
    pub(super) hanging: Mutex<BTreeSet<String>>,
    /// The lamps called about (read or created), one entry a call, as the
    /// cloud saw them.
    reached: Mutex<Vec<String>>,
}

impl ToyCloud {
    fn write(&self, what: String) {
        self.writes.lock().unwrap().push(what);
    }

    fn writes(&self) -> Vec<String> {
        self.writes.lock().unwrap().clone()
    }

    fn lamps(&self) -> Vec<ToyLamp> {
        self.lamps.lock().unwrap().values().cloned().collect()
    }

    pub(super) fn calls_about(&self, name: &str) -> usize {
        self.reached
            .lock()
            .unwrap()
            .iter()
            .filter(|r| *r == name)
            .count()
    }

    /// Records a call about lamp `name`, which never ends if it hangs.
    async fn reach(&self, name: &str) {
        self.reached.lock().unwrap().push(name.to_string());
        let hangs = self.hanging.lock().unwrap().contains(name);
        if hangs {
            std::future::pending::<()>().await;
        }
    }
}

#[derive(Clone, Debug)]
pub(super) enum LampCall {
    SetBright(bool),
}

/// The (Lamp, toy cloud) pair.
pub(super) struct ToyPair {
    spec: LampSpec,
    uid: String,
    cloud: Arc<ToyCloud>,
}

#[async_trait]
impl External for ToyPair {
    type Kind = Lamp;
    type Observed = ToyLamp;
    type Call = LampCall;
    type Env = Arc<ToyCloud>;
    const LOOKUP: Lookup = Lookup::OwnershipTag;

    fn connect(lamp: &Lamp, ctx: &Context<Arc<ToyCloud>>) -> Result<Self, Error> {
        Ok(Self {
            spec: lamp.spec.clone(),
            uid: lamp.uid().ok_or(Error::MissingMetadata("uid"))?,
            cloud: ctx.env.clone(),
        })
    }

    fn name(&self) -> &str {
        &self.spec.name
    }

    async fn get(&self, id: &str) -> Result<Option<ToyLamp>, ProviderError> {
        self.cloud.reach(&self.spec.name).await;
        Ok(self.cloud.lamps.lock().unwrap().get(id).cloned())
    }

    async fn find(&self) -> Result<Vec<Candidate<ToyLamp>>, ProviderError> {
        self.cloud.reach(&self.spec.name).await;
        let lamps = self.cloud.lamps();
        let mine = lamps.into_iter().filter(|l| l.owner == self.uid);
        Ok(mine
            .map(|observed| Candidate {
                observed,
                owned: true,
            })
            .collect())
    }

    fn plan(&self, observed: &ToyLamp, _in_flight: &BTreeSet<String>) -> Plan<LampCall> {
        if observed.bright == self.spec.bright {
            return Plan::default();
        }
        Plan {
            calls: vec![LampCall::SetBright(self.spec.bright)],
            drift: vec![Drift {
                field: "bright".into(),
                desired: self.spec.bright.to_string(),
                observed: observed.bright.to_string(),
                action: DriftAction::Update,
                reason: None,
            }],
            ..Plan::default()
        }
    }

    fn planned_create(&self) -> PlannedCall {
        PlannedCall {
            operation: "create".into(),
            target: format!("lamp {}", self.spec.name),
            fields: vec![format!("bright={}", self.spec.bright)],
        }
    }

    async fn create(&self) -> Result<Created<ToyLamp>, ProviderError> {
        self.cloud.reach(&self.spec.name).await;
        let lamp = ToyLamp {
            id: format!("lamp-{}", self.cloud.lamps().len() + 1),
            name: self.spec.name.clone(),
            bright: self.spec.bright,
            owner: self.uid.clone(),
        };
        self.cloud.write(format!("create {}", lamp.id));
        let mut lamps = self.cloud.lamps.lock().unwrap();
        lamps.insert(lamp.id.clone(), lamp.clone());
        Ok(Created {
            observed: lamp,
            awaiting: Vec::new(),
        })
    }

    async fn call(&self, id: &str, call: &LampCall) -> Result<Option<ToyLamp>, ProviderError> {
        let LampCall::SetBright(bright) = call;
        self.cloud.write(format!("bright {id} {bright}"));
        let mut lamps = self.cloud.lamps.lock().unwrap();
        let lamp = lamps.get_mut(id).expect("a planned lamp exists");
        lamp.bright = *bright;
        Ok(Some(lamp.clone()))
    }

    async fn delete(&self, observed: &ToyLamp) -> Result<(), ProviderError> {
        self.cloud.write(format!("delete {}", observed.id));
        self.cloud.lamps.lock().unwrap().remove(&observed.id);
        Ok(())
    }

    fn health(&self, observed: &ToyLamp) -> Health {
        Health::Available {
            message: format!("lamp {} is on", observed.name),
        }
    }

    fn at_provider(&self, observed: &ToyLamp) -> LampObservation {
        LampObservation {
            bright: observed.bright,
        }
    }

    fn id(observed: &ToyLamp) -> String {
        observed.id.clone()
    }

    fn describe(&self, call: &LampCall) -> PlannedCall {
        let LampCall::SetBright(bright) = call;
        PlannedCall {
            operation: "setBright".into(),
            target: format!("lamp {}", self.spec.name),
            fields: vec![format!("bright={bright}")],
        }
    }
}

/// Installs the Lamp CRD (once for the whole run) and waits until it serves.
pub(super) async fn install_crd(client: &kube::Client, ns: &str) {
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    match crds.create(&PostParams::default(), &Lamp::crd()).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => panic!("creating the Lamp CRD: {e}"),
    }
    let lamps = Api::<Lamp>::namespaced(client.clone(), ns);
    for _ in 0..100 {
        if lamps.list(&Default::default()).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the Lamp CRD was never served");
}

/// One reconcile of lamp `name` as the API server holds it now; `None`
/// once the object is gone.
async fn reconcile(
    ctx: &Arc<Context<Arc<ToyCloud>>>,
    api: &Api<Lamp>,
    name: &str,
) -> Option<Result<(), Error>> {
    let lamp = api.get_opt(name).await.expect("reading the lamp")?;
    let result = engine::reconcile::<ToyPair>(Arc::new(lamp), ctx.clone()).await;
    Some(result.map(|_| ()))
}

/// Reconciles lamp `name` until `done` holds of it, at most ten times.
async fn reconcile_until(
    ctx: &Arc<Context<Arc<ToyCloud>>>,
    api: &Api<Lamp>,
    name: &str,
    done: impl Fn(&Lamp) -> bool,
) -> Lamp {
    for _ in 0..10 {
        if let Some(Err(e)) = reconcile(ctx, api, name).await {
            panic!("reconcile failed: {e}");
        }
        let lamp = api.get(name).await.expect("reading the lamp");
        if done(&lamp) {
            return lamp;
        }
    }
    panic!("lamp {name} never got there: {:?}", api.get(name).await);
}

fn condition(lamp: &Lamp, type_: &str) -> Option<String> {
    let status = lamp.status.as_ref()?;
    let found = status.conditions.iter().find(|c| c.type_ == type_)?;
    Some(found.status.clone())
}

fn settled(lamp: &Lamp, bright: bool) -> bool {
    let status = lamp.status.as_ref();
    condition(lamp, "Ready").as_deref() == Some("True")
        && condition(lamp, "Synced").as_deref() == Some("True")
        && status.and_then(|s| s.at_provider.as_ref()) == Some(&LampObservation { bright })
}

#[tokio::test]
async fn the_engine_runs_a_toy_kind_on_a_toy_cloud_without_coffers_context() {
    let client = env().client().await;
    let ns = env().namespace("toy").await;
    install_crd(&client, &ns).await;
    let cloud = Arc::new(ToyCloud::default());
    let timing = Timing {
        resync_interval: Duration::from_secs(600),
        poll_interval: Duration::from_millis(200),
        settle_time: Duration::from_secs(120),
        failure_grace: Duration::from_secs(60),
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        reconcile_deadline: Duration::from_secs(60),
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        cloud.clone(),
        Arc::default(),
        timing,
        Some("toy".into()),
    ));
    let api = Api::<Lamp>::namespaced(client.clone(), &ns);
    let lamp = Lamp::new(
        "desk",
        LampSpec {
            name: "desk".into(),
            bright: false,
        },
    );
    api.create(&PostParams::default(), &lamp)
        .await
        .expect("creating the lamp");

    // Created once, its id recorded, behind the engine's finalizer.
    let lamp = reconcile_until(&ctx, &api, "desk", |l| settled(l, false)).await;
    let status = lamp.status.clone().expect("status");
    assert_eq!(status.external_id.as_deref(), Some("lamp-1"));
    assert_eq!(lamp.finalizers(), ["toy.coffer.dev/lamp"]);
    assert_eq!(cloud.writes(), ["create lamp-1"]);
    assert_eq!(cloud.lamps()[0].owner, lamp.uid().expect("uid"));

    // Nothing to change: no call to the cloud, no write to Kubernetes.
    let before = lamp.resource_version();
    assert!(matches!(reconcile(&ctx, &api, "desk").await, Some(Ok(()))));
    let again = api.get("desk").await.expect("reading the lamp");
    assert_eq!(again.resource_version(), before);
    assert_eq!(cloud.writes(), ["create lamp-1"]);

    // A spec change is one call.
    let bright = json!({"spec": {"bright": true}});
    api.patch("desk", &PatchParams::default(), &Patch::Merge(&bright))
        .await
        .expect("brightening the lamp");
    reconcile_until(&ctx, &api, "desk", |l| settled(l, true)).await;
    assert_eq!(cloud.writes(), ["create lamp-1", "bright lamp-1 true"]);

    // A change made behind coffer's back is drift, corrected by one call.
    cloud
        .lamps
        .lock()
        .unwrap()
        .get_mut("lamp-1")
        .unwrap()
        .bright = false;
    reconcile_until(&ctx, &api, "desk", |l| settled(l, true)).await;
    let writes = cloud.writes();
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert_eq!(writes[2], "bright lamp-1 true");
    assert!(cloud.lamps()[0].bright);

    // Delete: the cloud lamp goes, then the finalizer, then the object.
    api.delete("desk", &DeleteParams::default())
        .await
        .expect("deleting the lamp");
    for _ in 0..10 {
        match reconcile(&ctx, &api, "desk").await {
            None => break,
            Some(Ok(())) => {}
            Some(Err(Error::Deleting { .. })) => {}
            Some(Err(e)) => panic!("delete failed: {e}"),
        }
    }
    assert!(
        api.get_opt("desk").await.expect("reading").is_none(),
        "the lamp object is gone"
    );
    assert!(cloud.lamps().is_empty());
    assert_eq!(
        cloud.writes().last().map(String::as_str),
        Some("delete lamp-1")
    );
}
