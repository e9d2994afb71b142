//! A new Agency's writes, and the marker that lets coffer adopt its own
//! agency after a crash: IAM names are unique but untagged, so the create
//! is fenced by a marker, written with the finalizer in one patch.

use std::collections::BTreeMap;

use coffer::api::Agency;
use coffer::api::managed::CREATE_STARTED_ANNOTATION;
use coffer::controller::agency::FINALIZER;
use coffer::emulator::{FaultConfig, Operation};
use coffer::provider::huawei::iam::{AgencyCreate, IamAgencyApi, TrustParty, Validity};
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use super::agency::{agency_object, agency_when, create_agency, external_id, iam, is_ready, start};
use super::quiet::count_writes;
use super::{RESYNC, eventually};

#[tokio::test]
async fn a_new_agency_costs_its_finalizer_with_the_marker_one_status_and_one_event() {
    let run = start("ag-writes").await;
    let agency_writes = count_writes(run.api::<Agency>()).await;
    let event_writes = count_writes(run.api::<Event>()).await;
    create_agency(&run, "fresh", json!({})).await;
    let agency = agency_when(&run, "fresh", "fresh Ready", is_ready).await;
    // Leave room for a late write to show up.
    tokio::time::sleep(RESYNC * 3).await;
    let (agency_writes, event_writes) = (agency_writes.stop().await, event_writes.stop().await);

    let since = agency.annotations().get(CREATE_STARTED_ANNOTATION);
    assert!(since.is_some(), "{:?}", agency.annotations());
    assert!(agency.finalizers().iter().any(|f| f == FINALIZER));
    let status = agency.status.as_ref().expect("status");
    assert_eq!(status.create_pending, None);
    // The test's own create, the finalizer with the marker, the status.
    assert_eq!(agency_writes, 3);
    assert_eq!(event_writes, 1);
    let creates = run.emulator.requests(Some(Operation::CreateAgency));
    assert_eq!(creates.len(), 1, "{creates:#?}");
    assert!(!external_id(&agency).is_empty());
}

#[tokio::test]
async fn after_a_crash_past_the_create_the_marker_adopts_the_agency_coffer_made() {
    let run = start("ag-crash").await;
    // As a crash leaves it: the agency made, the Agency carrying the
    // finalizer and the marker, its status never written.
    let made = iam(&run)
        .create_agency(&AgencyCreate {
            name: "crashed".into(),
            trust: TrustParty {
                id: None,
                name: Some("central-ops".into()),
            },
            description: "central ops reads our backups".into(),
            validity: Validity::Days(20),
        })
        .await
        .expect("the agency coffer made before it stopped");
    let mut annotations = BTreeMap::new();
    annotations.insert(
        CREATE_STARTED_ANNOTATION.to_string(),
        "2026-11-30T07:00:00Z".to_string(),
    );
    let mut object = agency_object("crashed", json!({}));
    object.metadata.annotations = Some(annotations);
    object.metadata.finalizers = Some(vec![FINALIZER.to_string()]);
    run.api::<Agency>()
        .create(&PostParams::default(), &object)
        .await
        .expect("creating the Agency");
    let agency = agency_when(&run, "crashed", "crashed adopted and Ready", is_ready).await;
    assert_eq!(external_id(&agency), made.id);
    assert_eq!(
        run.emulator.requests(Some(Operation::CreateAgency)).len(),
        1,
        "created again"
    );
    eventually("an Adopted Event", || async {
        let events = run.api::<Event>().list(&Default::default()).await.ok()?;
        events
            .items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Adopted"))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_adoption_whose_status_write_is_refused_publishes_no_event() {
    let run = start("ag-stale").await;
    iam(&run)
        .create_agency(&AgencyCreate {
            name: "stale".into(),
            trust: TrustParty {
                id: None,
                name: Some("central-ops".into()),
            },
            description: "central ops reads our backups".into(),
            validity: Validity::Days(20),
        })
        .await
        .expect("the agency coffer made before it stopped");
    // Every IAM answer takes a while, so the reconcile is still reading
    // when the object changes under it: its fenced status write is refused.
    run.emulator
        .set_faults(FaultConfig {
            latency_ms: 800,
            ..FaultConfig::default()
        })
        .expect("latency");
    let mut object = agency_object("stale", json!({}));
    object.metadata.annotations = Some(BTreeMap::from([(
        CREATE_STARTED_ANNOTATION.to_string(),
        "2026-11-30T07:00:00Z".to_string(),
    )]));
    object.metadata.finalizers = Some(vec![FINALIZER.to_string()]);
    run.api::<Agency>()
        .create(&PostParams::default(), &object)
        .await
        .expect("creating the Agency");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let label = json!({"metadata": {"labels": {"team": "ops"}}});
    run.api::<Agency>()
        .patch("stale", &PatchParams::default(), &Patch::Merge(&label))
        .await
        .expect("a change while coffer reads");
    agency_when(&run, "stale", "stale adopted and Ready", is_ready).await;
    // The race this test is about took place: a write of this test's
    // controllers was refused as stale.
    let refused = run.metrics.reconciles.error_count("Agency", "stale_write");
    assert!(
        refused >= 1,
        "no write was refused as stale: the race did not happen"
    );
    // Leave room for a late Event.
    tokio::time::sleep(RESYNC * 2).await;
    let adopted = run
        .event_reasons("stale")
        .await
        .into_iter()
        .filter(|r| r == "Adopted")
        .count();
    assert_eq!(adopted, 1, "one adoption, one Adopted Event");
}
