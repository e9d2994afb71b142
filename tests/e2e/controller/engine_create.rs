//! Crash-safe create, end to end: a create whose answer is lost after the
//! cloud made the vault must never become a second vault. CBR finds its
//! vault again by name and ownership tag; a cloud that cannot be searched
//! (a test-only pair, [`Unsearchable`]) stops behind the create-pending
//! marker until the user says what happened.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use coffer::api::managed::{EXTERNAL_ID_ANNOTATION, PlannedCall, RETRY_CREATE_ANNOTATION};
use coffer::api::{BackupVault, ProviderConfig, backup_vault::VaultObservation};
use coffer::controller::backup_vault::huawei::CbrVault;
use coffer::controller::backup_vault::huawei::plan::Call;
use coffer::controller::caches::{self, Caches, Change};
use coffer::controller::engine::{self, Candidate, Created, Error, External, Health, Lookup, Plan};
use coffer::controller::providers::ProviderClients;
use coffer::controller::{Context, Env, HuaweiFactory, Metrics, Settings};
use coffer::emulator::{FaultConfig, FaultKind, Operation};
use coffer::provider::ProviderError;
use coffer::provider::huawei::cbr::{CbrVaultApi, Vault};
use coffer::provider::metrics::ProviderMetrics;
use futures::StreamExt;
use futures::channel::mpsc::UnboundedSender;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{PredicateConfig, WatchStreamExt, reflector, watcher};
use serde_json::json;

use super::engine::{annotate, has_condition, status};
use super::{RESYNC, Running, condition, is_ready};

/// Every answer to CreateVault is lost, after the vault was made.
fn lose_every_create_answer(run: &Running) {
    run.emulator
        .set_faults(FaultConfig {
            lost_response_rate: 1.0,
            ..FaultConfig::default()
        })
        .expect("faults");
}

/// The CreateVault requests the emulator received.
fn creates(run: &Running) -> usize {
    run.emulator.requests(Some(Operation::CreateVault)).len()
}

/// The ids of the vaults named `name` at the emulator.
async fn vaults_named(run: &Running, name: &str) -> Vec<String> {
    let found = run.cbr.find_by_name(name).await.expect("listing vaults");
    found.into_iter().map(|v| v.id).collect()
}

#[tokio::test]
async fn a_lost_create_answer_makes_no_duplicate() {
    let run = Running::start("eng-lost").await;
    lose_every_create_answer(&run);

    run.create_vault("team-a", json!({})).await;
    let bv = run.vault_when("team-a", "Ready", is_ready).await;
    // Leave room for a wrong second create to show up.
    tokio::time::sleep(RESYNC * 3).await;

    let requests = run.emulator.requests(Some(Operation::CreateVault));
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].fault, Some(FaultKind::LostResponse));
    assert_eq!(
        vaults_named(&run, "team-a").await,
        [status(&bv).external_id.expect("externalId")]
    );
}

#[tokio::test]
async fn an_unsearchable_lost_create_stops_until_the_user_names_the_vault() {
    let run = Running::start_instead("eng-unknown", |_| {}, unsearchable_controller).await;
    lose_every_create_answer(&run);

    run.create_vault("team-a", json!({})).await;
    let bv = run
        .vault_when("team-a", "Synced=False CreateOutcomeUnknown", |bv| {
            has_condition(bv, "Synced", "False", "CreateOutcomeUnknown")
        })
        .await;
    let since = status(&bv).create_pending.expect("createPending").since;
    let (_, _, message) = condition(&bv, "Synced").expect("Synced");
    assert!(message.contains(EXTERNAL_ID_ANNOTATION), "{message}");
    assert!(
        message.contains(&format!("{RETRY_CREATE_ANNOTATION}={since}")),
        "{message}"
    );
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(
        creates(&run),
        1,
        "created again without knowing the outcome"
    );

    let made = vaults_named(&run, "team-a").await;
    assert_eq!(made.len(), 1);
    annotate(&run, "team-a", EXTERNAL_ID_ANNOTATION, Some(&made[0])).await;
    run.vault_when("team-a", "Ready as the named vault", |bv| {
        is_ready(bv) && status(bv).external_id.as_ref() == Some(&made[0])
    })
    .await;
    tokio::time::sleep(RESYNC * 2).await;
    assert_eq!(creates(&run), 1);
    let bv = run.api::<BackupVault>().get("team-a").await.expect("get");
    assert_eq!(
        status(&bv).create_pending,
        None,
        "the create-pending marker outlived the recorded externalId"
    );
}

#[tokio::test]
async fn an_unsearchable_lost_create_is_made_again_when_the_user_allows_it() {
    let run = Running::start_instead("eng-retry", |_| {}, unsearchable_controller).await;
    lose_every_create_answer(&run);
    run.create_vault("team-a", json!({})).await;
    let bv = run
        .vault_when("team-a", "Synced=False CreateOutcomeUnknown", |bv| {
            has_condition(bv, "Synced", "False", "CreateOutcomeUnknown")
        })
        .await;
    let since = status(&bv).create_pending.expect("createPending").since;
    let lost = vaults_named(&run, "team-a").await;
    run.emulator
        .set_faults(FaultConfig::default())
        .expect("faults off");

    annotate(&run, "team-a", RETRY_CREATE_ANNOTATION, Some(&since)).await;
    let bv = run.vault_when("team-a", "Ready", is_ready).await;

    assert_eq!(creates(&run), 2);
    let id = status(&bv).external_id.expect("externalId");
    assert!(
        !lost.contains(&id),
        "{id} is the vault whose answer was lost"
    );
    assert_eq!(status(&bv).create_pending, None);
}

/// BackupVault on CBR as if CBR could not be searched: every method is
/// [`CbrVault`]'s, only the lookup differs.
struct Unsearchable(CbrVault);

#[async_trait]
impl External for Unsearchable {
    type Kind = BackupVault;
    type Observed = Vault;
    type Call = Call;

    type Env = Env;
    const LOOKUP: Lookup = Lookup::None;

    fn connect(bv: &BackupVault, ctx: &Context) -> Result<Self, Error> {
        CbrVault::connect(bv, ctx).map(Self)
    }

    fn name(&self) -> &str {
        self.0.name()
    }

    async fn get(&self, id: &str) -> Result<Option<Vault>, ProviderError> {
        self.0.get(id).await
    }

    async fn find(&self) -> Result<Vec<Candidate<Vault>>, ProviderError> {
        self.0.find().await
    }

    fn plan(&self, vault: &Vault, in_flight: &BTreeSet<String>) -> Plan<Call> {
        self.0.plan(vault, in_flight)
    }

    fn planned_create(&self) -> PlannedCall {
        self.0.planned_create()
    }

    async fn create(&self) -> Result<Created<Vault>, ProviderError> {
        self.0.create().await
    }

    async fn call(&self, id: &str, call: &Call) -> Result<Option<Vault>, ProviderError> {
        self.0.call(id, call).await
    }

    async fn delete(&self, vault: &Vault) -> Result<(), ProviderError> {
        self.0.delete(vault).await
    }

    fn health(&self, vault: &Vault) -> Health {
        self.0.health(vault)
    }

    fn at_provider(&self, vault: &Vault) -> VaultObservation {
        self.0.at_provider(vault)
    }

    fn id(vault: &Vault) -> String {
        CbrVault::id(vault)
    }

    fn describe(&self, call: &Call) -> PlannedCall {
        self.0.describe(call)
    }

    fn awaits(&self, call: &Call) -> Vec<String> {
        self.0.awaits(call)
    }

    fn settled(&self, vault: &Vault, key: &str) -> bool {
        self.0.settled(vault, key)
    }
}

/// Wakes every vault in `vaults` at any change of a `T`.
fn wake_all<T>(
    vaults: Store<BackupVault>,
    wake: UnboundedSender<ObjectRef<BackupVault>>,
) -> impl FnMut(Change, &T) + Send {
    move |_, _| {
        for vault in vaults.state() {
            let _ = wake.unbounded_send(ObjectRef::from_obj(vault.as_ref()));
        }
    }
}

/// A BackupVault controller on the engine through [`Unsearchable`], wired
/// as `coffer run` wires its own: a ProviderConfig or Secret arriving wakes
/// every vault (a vault reconciled before its Secret reached the cache
/// waits for that change, as in `coffer run`).
async fn unsearchable_controller(client: kube::Client, settings: Settings, metrics: Arc<Metrics>) {
    let ns = settings
        .watch_namespaces
        .first()
        .cloned()
        .expect("one namespace");
    let (configs, config_writer) = reflector::store::<ProviderConfig>();
    let (secrets, secret_writer) = reflector::store::<Secret>();
    let (vaults, vault_writer) = reflector::store::<BackupVault>();
    let caches = Caches::new(configs, secrets);
    let factory = Arc::new(HuaweiFactory::new(Arc::new(ProviderMetrics::default())));
    let providers = ProviderClients::new(factory, metrics.budgets.clone())
        .allowing(settings.allowed_endpoints.clone());
    let env = Env {
        caches: caches.clone(),
        providers,
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        env,
        metrics.reconciles.clone(),
        settings.timing(),
        settings.instance.clone(),
    ));
    let (wake, woken) = futures::channel::mpsc::unbounded::<ObjectRef<BackupVault>>();
    let config_cache = caches::reflect(
        Api::<ProviderConfig>::namespaced(client.clone(), &ns),
        watcher::Config::default(),
        config_writer,
        wake_all(vaults.clone(), wake.clone()),
    );
    let secret_cache = caches::reflect(
        Api::<Secret>::namespaced(client.clone(), &ns),
        watcher::Config::default().labels(&caches::credentials_selector()),
        secret_writer,
        wake_all(vaults.clone(), wake),
    );
    let events = watcher(
        Api::<BackupVault>::namespaced(client, &ns),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(vault_writer)
    .applied_objects()
    .predicate_filter(engine::wake_key, PredicateConfig::default());
    let controller = Controller::for_stream(events, vaults)
        .reconcile_on(woken)
        .run(engine::reconcile::<Unsearchable>, engine::error_policy, ctx)
        .for_each(|_| futures::future::ready(()));
    let controller = async {
        caches.wait_until_ready().await;
        controller.await;
    };
    tokio::select! {
        () = config_cache => panic!("the ProviderConfig cache stopped"),
        () = secret_cache => panic!("the Secret cache stopped"),
        () = controller => {}
    }
}
