//! What an SRE reads from a live `coffer run`: every metric name the
//! chart's alerts and dashboard query is one the process exports, with
//! objects of every kind present; and the object-state gauges match the
//! objects' conditions, through a transition from Ready to not Ready (the
//! emulator refusing the credentials) and back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use coffer::api::{BackupVault, ProviderConfig};
use coffer::controlplane::process::{Supervised, free_port};
use coffer::emulator::FaultConfig;
use kube::api::{ListParams, PostParams};
use serde_json::json;

use super::backup_share::{create_share, owner_spec};
use super::{PATIENCE, Running, eventually};
use crate::support::{env, output_text};

/// `coffer run` for the test's namespace, serving its metrics on `port`.
fn operator(run: &Running, port: u16, log: &Path) -> Supervised {
    Supervised::spawn_with_env(
        "coffer run",
        Path::new(env!("CARGO_BIN_EXE_coffer")),
        &[
            "run".into(),
            format!("--metrics-addr=127.0.0.1:{port}"),
            format!("--watch-namespace={}", run.ns),
            "--resync-interval=1s".into(),
            "--log-format=text".into(),
            run.allowed_endpoints_flag(),
        ],
        &[("KUBECONFIG", env().kubeconfig.as_os_str())],
        log,
    )
    .expect("starting coffer run")
}

/// One scrape: every sample as (series name, labels, value).
pub(super) struct Scrape(Vec<(String, BTreeMap<String, String>, f64)>);

impl Scrape {
    pub(super) async fn of(port: u16) -> Option<Self> {
        let body = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        Some(Self(body.lines().filter_map(sample).collect()))
    }

    fn names(&self) -> BTreeSet<String> {
        self.0.iter().map(|(name, _, _)| name.clone()).collect()
    }

    /// The value of series `name` whose labels include `labels`.
    pub(super) fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.0
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| *v)
    }

    /// `coffer_objects_by_condition` of `kind`, by (condition, status, reason).
    fn by_condition(&self, kind: &str) -> BTreeMap<(String, String, String), u64> {
        self.0
            .iter()
            .filter(|(n, l, v)| {
                n == "coffer_objects_by_condition"
                    && l.get("kind").map(String::as_str) == Some(kind)
                    && *v > 0.0
            })
            .map(|(_, l, v)| {
                let label = |k: &str| l.get(k).cloned().unwrap_or_default();
                (
                    (label("condition"), label("status"), label("reason")),
                    *v as u64,
                )
            })
            .collect()
    }
}

/// `name{k="v",…} value` (label values here hold no comma or quote).
fn sample(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    if line.starts_with('#') || line.is_empty() {
        return None;
    }
    let (series, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match series.split_once('{') {
        Some((name, rest)) => (name, rest.trim_end_matches('}')),
        None => (series, ""),
    };
    let labels = labels
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
        .collect();
    Some((name.to_string(), labels, value))
}

/// The metric names the chart's alerts and dashboard use, as Prometheus's
/// parser reads them (`tools/promql-check`, built by install-tools.sh).
fn chart_metric_names() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chart = root.join("charts/coffer");
    let rendered = env().helm(&[
        "template",
        "coffer",
        &chart.to_string_lossy(),
        "-f",
        &chart.join("ci/monitoring-values.yaml").to_string_lossy(),
    ]);
    assert!(rendered.status.success(), "{}", output_text(&rendered));
    let mut check = Command::new(promql_check(root))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running promql-check");
    {
        use std::io::Write;
        let mut stdin = check.stdin.take().expect("stdin");
        stdin
            .write_all(&rendered.stdout)
            .expect("writing the chart");
    }
    let out = check.wait_with_output().expect("promql-check");
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// `PROMQL_CHECK` as `scripts/install-tools.sh env` names it, built first
/// if the cache lacks it.
fn promql_check(root: &Path) -> PathBuf {
    let script = root.join("scripts/install-tools.sh");
    let built = Command::new(&script)
        .arg("monitoring")
        .output()
        .expect("install-tools.sh");
    assert!(built.status.success(), "{}", output_text(&built));
    let env = Command::new(&script)
        .arg("env")
        .output()
        .expect("install-tools.sh env");
    String::from_utf8_lossy(&env.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("PROMQL_CHECK="))
        .map(PathBuf::from)
        .expect("install-tools.sh env names PROMQL_CHECK")
}

/// ProviderConfig `name` for the emulator with the Secret `creds`, with
/// `huawei` merged into its `huaweiCloud` block and `spec` into its spec.
async fn create_provider_config(
    run: &Running,
    name: &str,
    huawei: serde_json::Value,
    spec: serde_json::Value,
) {
    let c = run.emulator.config();
    let mut block = json!({
        "region": c.region, "projectId": c.project_id,
        "endpoints": {"iam": run.emulator.base_url(), "cbr": run.emulator.base_url()},
        "credentials": {"type": "AccessKey", "secretRef": {"name": "creds"}},
    });
    if let (Some(base), Some(extra)) = (block.as_object_mut(), huawei.as_object()) {
        base.extend(extra.clone());
    }
    let mut spec = spec;
    spec["huaweiCloud"] = block;
    let pc: ProviderConfig = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": name}, "spec": spec,
    }))
    .expect("provider config");
    run.api::<ProviderConfig>()
        .create(&PostParams::default(), &pc)
        .await
        .expect("creating a ProviderConfig");
}

async fn create_vault_on(run: &Running, name: &str, config: &str) {
    let mut bv: BackupVault = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": name},
        "spec": {"providerConfigRef": {"name": config}, "huaweiCloud": {
            "name": name,
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server",
                        "protectType": "backup", "size": 100},
        }},
    }))
    .expect("backup vault");
    bv.metadata.namespace = Some(run.ns.clone());
    run.api::<BackupVault>()
        .create(&PostParams::default(), &bv)
        .await
        .expect("creating a BackupVault");
}

#[tokio::test]
async fn a_live_coffer_run_exports_every_metric_the_chart_queries() {
    let wanted = chart_metric_names();
    let run =
        Running::start_instead("ops-names", |_| {}, |_, _, _| futures::future::pending()).await;
    let c = run.emulator.config().clone();
    create_provider_config(&run, "iam", json!({"domainId": c.domain_id}), json!({})).await;
    // A budget of one call a second, so that some calls wait their turn.
    create_provider_config(
        &run,
        "slow",
        json!({}),
        json!({"rateLimit": {"qps": 1, "burst": 1, "maxInFlight": 1}}),
    )
    .await;
    let dir = tempfile::tempdir().expect("a log directory");
    let port = free_port().expect("a free port");
    let _operator = operator(&run, port, &dir.path().join("operator.log"));

    // Every kind: vaults (one on the slow budget's config, one naming a
    // ProviderConfig that does not exist, so that reconciles fail), an
    // Agency and a BackupShare.
    run.create_vault("vault", json!({})).await;
    for name in ["slow-1", "slow-2", "slow-3"] {
        create_vault_on(&run, name, "slow").await;
    }
    create_vault_on(&run, "lost", "missing").await;
    let mut agency = super::agency::agency_object("agency", json!({}));
    agency.spec.provider_config_ref.name = "iam".into();
    run.api::<coffer::api::Agency>()
        .create(&PostParams::default(), &agency)
        .await
        .expect("creating the Agency");
    create_share(
        &run,
        "share",
        owner_spec(
            "47594e14-6edd-4b1c-b772-3ac96f5a9cea",
            std::slice::from_ref(&c.peer_project_id),
            "Delete",
        ),
    )
    .await;

    let deadline = tokio::time::Instant::now() + PATIENCE;
    let scrape = loop {
        let scrape = Scrape::of(port).await;
        let exported = scrape.as_ref().map(Scrape::names).unwrap_or_default();
        let missing: Vec<_> = wanted.difference(&exported).cloned().collect();
        let absent_kinds: Vec<_> = ["BackupVault", "Agency", "BackupShare", "ProviderConfig"]
            .into_iter()
            .filter(|kind| {
                let count = scrape
                    .as_ref()
                    .and_then(|s| s.value("coffer_objects", &[("kind", kind)]));
                count < Some(1.0)
            })
            .collect();
        if missing.is_empty() && absent_kinds.is_empty() {
            break scrape.expect("a scrape");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {PATIENCE:?}, the chart queries metrics coffer run does not export: {missing:?}; \
             kinds not counted: {absent_kinds:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(scrape.value("coffer_leader", &[]), Some(1.0));
    assert!(
        scrape.names().contains("coffer_build_info"),
        "no coffer_build_info"
    );
}

/// What the API server shows of the namespace's BackupVaults: how many, how
/// many Ready and Synced, and how many by (condition, status, reason).
async fn vault_conditions(
    run: &Running,
) -> (u64, u64, u64, BTreeMap<(String, String, String), u64>) {
    let vaults = run
        .api::<BackupVault>()
        .list(&ListParams::default())
        .await
        .expect("listing BackupVaults")
        .items;
    let mut by = BTreeMap::new();
    let (mut ready, mut synced) = (0, 0);
    for bv in &vaults {
        let conditions = bv.status.as_ref().map(|s| s.conditions.clone());
        for type_ in ["Ready", "Synced"] {
            let c = conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == type_)
                .map(|c| (c.status.clone(), c.reason.clone()))
                .unwrap_or(("None".into(), "None".into()));
            if c.0 == "True" {
                *if type_ == "Ready" {
                    &mut ready
                } else {
                    &mut synced
                } += 1;
            }
            *by.entry((type_.to_string(), c.0, c.1)).or_default() += 1;
        }
    }
    (vaults.len() as u64, ready, synced, by)
}

/// Waits until the scraped BackupVault gauges equal what the API server
/// shows, and `settled` holds of that; returns it.
async fn gauges_match(
    run: &Running,
    port: u16,
    what: &str,
    settled: impl Fn(&(u64, u64, u64, BTreeMap<(String, String, String), u64>)) -> bool,
) -> BTreeMap<(String, String, String), u64> {
    let vault = [("kind", "BackupVault")];
    eventually(what, || async {
        let shown = vault_conditions(run).await;
        if !settled(&shown) {
            return None;
        }
        let scrape = Scrape::of(port).await?;
        let scraped = (
            scrape.value("coffer_objects", &vault)? as u64,
            scrape.value("coffer_objects_ready", &vault)? as u64,
            scrape.value("coffer_objects_synced", &vault)? as u64,
            scrape.by_condition("BackupVault"),
        );
        // The API server again: the gauges must match one state, not a blur.
        (scraped == shown && vault_conditions(run).await == shown).then_some(shown.3)
    })
    .await
}

#[tokio::test]
async fn object_gauges_follow_the_conditions_from_ready_to_not_ready_and_back() {
    let run =
        Running::start_instead("ops-gauges", |_| {}, |_, _, _| futures::future::pending()).await;
    let dir = tempfile::tempdir().expect("a log directory");
    let port = free_port().expect("a free port");
    let _operator = operator(&run, port, &dir.path().join("operator.log"));
    run.create_vault("one", json!({})).await;
    run.create_vault("two", json!({})).await;
    let ready = gauges_match(&run, port, "two Ready vaults counted", |s| s.1 == 2).await;
    let key = |c: &str, s: &str, r: &str| (c.to_string(), s.to_string(), r.to_string());
    assert_eq!(ready.get(&key("Ready", "True", "Available")), Some(&2));

    // The provider refuses every call: at their next drift check both
    // vaults are not Ready, with reason Unauthorized.
    run.emulator
        .set_faults(FaultConfig {
            error_rates: [(401, 1.0)].into(),
            ..FaultConfig::default()
        })
        .expect("faults");
    let refused = gauges_match(&run, port, "two refused vaults counted", |s| {
        s.1 == 0 && s.3.get(&key("Ready", "False", "Unauthorized")) == Some(&2)
    })
    .await;
    assert_eq!(
        refused.get(&key("Synced", "False", "Unauthorized")),
        Some(&2)
    );
    eventually("the longest not-Ready time counts up", || async {
        let scrape = Scrape::of(port).await?;
        let longest = scrape.value(
            "coffer_objects_not_ready_longest_seconds",
            &[("kind", "BackupVault")],
        )?;
        (longest >= 1.0).then_some(())
    })
    .await;

    run.emulator
        .set_faults(FaultConfig::default())
        .expect("faults off");
    let back = gauges_match(&run, port, "both vaults Ready again", |s| {
        s.1 == 2 && s.2 == 2
    })
    .await;
    assert_eq!(back.get(&key("Ready", "True", "Available")), Some(&2));
    assert_eq!(back.get(&key("Ready", "False", "Unauthorized")), None);
    // Each became Ready for the first time once: the recovery is not timed.
    let scrape = Scrape::of(port).await.expect("a scrape");
    assert_eq!(
        scrape.value(
            "coffer_object_time_to_ready_seconds_count",
            &[("kind", "BackupVault")]
        ),
        Some(2.0)
    );
}
