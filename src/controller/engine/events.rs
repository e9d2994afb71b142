//! Kubernetes Events: what coffer did to a provider, and transitions of a
//! condition. Never one per reconcile, so `kubectl describe` tells a story
//! instead of repeating it. Publishing is best effort: an Event that cannot
//! be written is logged and the reconcile carries on.
//!
//! Written in the background, as client-go's broadcaster writes them: a
//! reconcile queues its Event and goes on, so the slot it holds is not
//! spent on a write nothing waits for (a third of a new object's API-server
//! round trips). Unlike client-go, nothing is dropped: a reconcile waits
//! when [`QUEUED`] Events are waiting, which bounds memory when the API
//! server falls behind.
//!
//! An Event about an object whose namespace is being deleted cannot be
//! written there (the API server refuses every create in it). It is logged
//! instead, and never written into another namespace: what happens in one
//! tenant's namespace is that tenant's to read, not `default`'s readers'.
//!
//! Written straight to the API rather than through kube-runtime's
//! `Recorder`: the Recorder keeps every Event it wrote for six minutes to
//! aggregate repeats into a series, and sweeps that cache on every publish.
//! coffer never repeats an Event (it publishes on transitions only), so at
//! 10,000 new objects the cache was about 15 MiB held for nothing and an
//! O(n) sweep per Event.
//!
//! Written as core/v1 Events, with both generations of fields: `eventTime`,
//! `action`, `reportingComponent` and `reportingInstance` for
//! `events.k8s.io/v1` readers (`kubectl events`), and `firstTimestamp`,
//! `lastTimestamp`, `count` and `source` for core/v1 readers (`kubectl get
//! events --sort-by=.lastTimestamp`, `--field-selector involvedObject.name=`,
//! most dashboards). `events.k8s.io/v1` refuses the core/v1 fields on create
//! (they "need to be unset"), and an Event created without them shows null
//! times to every core/v1 reader; core/v1 takes both. No `series`: coffer
//! never repeats an Event.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, PostParams};
use tokio::sync::mpsc;

/// Name of the controller in every Event coffer writes.
pub const REPORTING_CONTROLLER: &str = "coffer";

/// Event reasons coffer uses, so tests and alerts can match on them.
pub mod reason {
    pub const CREATED: &str = "Created";
    pub const ADOPTED: &str = "Adopted";
    pub const IMPORTED: &str = "Imported";
    pub const UPDATED: &str = "Updated";
    pub const DRIFT_CORRECTED: &str = "DriftCorrected";
    pub const VAULT_MISSING: &str = "VaultMissing";
    pub const DELETING: &str = "Deleting";
    pub const DELETED: &str = "Deleted";
    pub const ORPHANED: &str = "Orphaned";
    /// A call whose answer was lost was found made at the provider.
    pub const RECOVERED: &str = "Recovered";
    pub const SYNCED: &str = "Synced";
    pub const READY: &str = "Ready";
}

/// An Event to publish about one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    pub reason: String,
    /// PascalCase verb for what coffer did or tried (`Create`, `Update`, `Reconcile`).
    pub action: &'static str,
    pub message: String,
}

impl Note {
    pub fn normal(reason: &str, action: &'static str, message: impl Into<String>) -> Self {
        Self {
            warning: false,
            reason: reason.to_string(),
            action,
            message: message.into(),
        }
    }

    pub fn warning(reason: &str, action: &'static str, message: impl Into<String>) -> Self {
        Self {
            warning: true,
            reason: reason.to_string(),
            action,
            message: message.into(),
        }
    }
}

/// Events waiting to be written; a reconcile waits when this many are.
pub const QUEUED: usize = 256;
/// Events written at once.
const WRITERS: usize = 8;

/// Publishes Events for coffer's objects.
#[derive(Clone)]
pub struct Events {
    queue: mpsc::Sender<Event>,
    /// Queued and not yet written (or failed), for [`Events::flush`].
    unwritten: Arc<AtomicUsize>,
    /// `reportingInstance`: the pod, so `kubectl get events` tells replicas apart.
    instance: String,
}

impl Events {
    /// Starts the writers; call within the runtime.
    pub fn new(client: kube::Client, instance: Option<String>) -> Self {
        let (queue, queued) = mpsc::channel(QUEUED);
        let unwritten = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write(client, queued, unwritten.clone()));
        Self {
            queue,
            unwritten,
            instance: instance.unwrap_or_else(|| REPORTING_CONTROLLER.to_string()),
        }
    }

    /// Queues `note` about `regarding`; failures are logged, not returned.
    pub async fn publish(&self, regarding: &ObjectReference, note: Note) {
        let event = event(&self.instance, regarding, note, Timestamp::now());
        self.unwritten.fetch_add(1, Ordering::SeqCst);
        if self.queue.send(event).await.is_err() {
            self.unwritten.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(object = ?regarding.name, "could not publish an Event: the writers have stopped");
        }
    }

    /// Waits, at most `grace`, until every queued Event was written: on
    /// the way out, so that the last reconciles' Events are not lost.
    pub async fn flush(&self, grace: Duration) {
        let written = async {
            while self.unwritten.load(Ordering::SeqCst) > 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(grace, written).await.is_err() {
            let lost = self.unwritten.load(Ordering::SeqCst);
            tracing::warn!(lost, "stopped before every Event was written");
        }
    }
}

/// Writes what is queued, [`WRITERS`] at a time, until every sender is gone.
async fn write(client: kube::Client, queued: mpsc::Receiver<Event>, unwritten: Arc<AtomicUsize>) {
    let events = futures::stream::unfold(queued, |mut queued| async move {
        queued.recv().await.map(|event| (event, queued))
    });
    events
        .for_each_concurrent(WRITERS, |event| {
            let (client, unwritten) = (client.clone(), unwritten.clone());
            async move {
                let result = create(&client, &event).await;
                let object = event.involved_object.name.as_deref();
                match result {
                    Ok(_) => {}
                    Err(kube::Error::Api(status)) if namespace_terminating(&status) => {
                        tracing::info!(
                            namespace = event.metadata.namespace.as_deref(),
                            ?object,
                            reason = event.reason.as_deref(),
                            note = event.message.as_deref(),
                            "the object's namespace is being deleted, so its Event is logged instead"
                        );
                    }
                    Err(error) => tracing::warn!(%error, ?object, "could not publish an Event"),
                }
                unwritten.fetch_sub(1, Ordering::SeqCst);
            }
        })
        .await;
}

async fn create(client: &kube::Client, event: &Event) -> Result<Event, kube::Error> {
    let namespace = event.metadata.namespace.as_deref().unwrap_or("default");
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    api.create(&PostParams::default(), event).await
}

/// The namespace of the Event is being deleted: the API server creates
/// nothing more in it, Events included. Yet that is when coffer says what it
/// kept at the provider, and deleting a namespace is how most objects go.
fn namespace_terminating(status: &kube::core::Status) -> bool {
    status.is_forbidden()
        && (status
            .details
            .iter()
            .flat_map(|d| &d.causes)
            .any(|c| c.reason == "NamespaceTerminating")
            || status.message.contains("because it is being terminated"))
}

/// The Event as written: a unique name under the object's, as kubectl and
/// kube-runtime's Recorder name theirs.
fn event(instance: &str, regarding: &ObjectReference, note: Note, now: Timestamp) -> Event {
    let name = format!(
        "{}.{:x}",
        regarding.name.as_deref().unwrap_or("object"),
        rand::random::<u64>()
    );
    Event {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: regarding.namespace.clone(),
            ..ObjectMeta::default()
        },
        action: Some(note.action.to_string()),
        reason: Some(note.reason),
        // The Events API refuses notes over 1 kB.
        message: Some(truncate(note.message, 1000)),
        type_: Some(if note.warning { "Warning" } else { "Normal" }.to_string()),
        event_time: Some(MicroTime(now)),
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
        count: Some(1),
        // `host` is a node's name; reportingInstance names the pod.
        source: Some(EventSource {
            component: Some(REPORTING_CONTROLLER.to_string()),
            host: None,
        }),
        involved_object: regarding.clone(),
        reporting_component: Some(REPORTING_CONTROLLER.to_string()),
        reporting_instance: Some(instance.to_string()),
        ..Event::default()
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_carries_what_the_events_api_requires() {
        let regarding = ObjectReference {
            name: Some("vault-a".into()),
            namespace: Some("team".into()),
            ..ObjectReference::default()
        };
        let note = Note::warning("VaultMissing", "Observe", "gone");
        let e = event("coffer-0", &regarding, note, Timestamp::UNIX_EPOCH);
        assert!(e.metadata.name.as_deref().unwrap().starts_with("vault-a."));
        assert_eq!(e.metadata.namespace.as_deref(), Some("team"));
        assert_eq!(e.type_.as_deref(), Some("Warning"));
        assert_eq!(e.reason.as_deref(), Some("VaultMissing"));
        assert_eq!(e.action.as_deref(), Some("Observe"));
        assert_eq!(e.reporting_component.as_deref(), Some(REPORTING_CONTROLLER));
        assert_eq!(e.reporting_instance.as_deref(), Some("coffer-0"));
        assert!(e.event_time.is_some());
        assert_eq!(e.involved_object, regarding);
    }

    #[test]
    fn an_event_carries_both_generations_of_timestamps_and_a_count() {
        let regarding = ObjectReference {
            name: Some("vault-a".into()),
            namespace: Some("team".into()),
            ..ObjectReference::default()
        };
        let now: Timestamp = "2026-01-02T03:04:05Z".parse().expect("a time");
        let note = Note::normal("Created", "Create", "created");
        let e = event("coffer-0", &regarding, note, now);
        assert_eq!(e.event_time, Some(MicroTime(now)));
        assert_eq!(e.first_timestamp, Some(Time(now)));
        assert_eq!(e.last_timestamp, Some(Time(now)));
        assert_eq!(e.count, Some(1));
        let source = e.source.expect("source");
        assert_eq!(source.component.as_deref(), Some(REPORTING_CONTROLLER));
        assert!(e.series.is_none());
    }

    /// An API server that refuses every connection.
    fn unreachable_client() -> kube::Client {
        let config = kube::Config::new("http://127.0.0.1:9".parse().expect("a url"));
        kube::Client::try_from(config).expect("a client")
    }

    #[tokio::test]
    async fn a_queued_event_that_cannot_be_written_is_counted_out_and_flush_returns() {
        let events = Events::new(unreachable_client(), Some("coffer-0".into()));
        let regarding = ObjectReference {
            name: Some("vault-a".into()),
            namespace: Some("team".into()),
            ..ObjectReference::default()
        };
        for _ in 0..3 {
            events
                .publish(&regarding, Note::normal("Created", "Create", "created"))
                .await;
        }
        let started = std::time::Instant::now();
        events.flush(Duration::from_secs(10)).await;
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(events.unwritten.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn only_a_terminating_namespace_turns_an_event_into_a_log_line() {
        let refused: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 403, "reason": "Forbidden",
            "message": "events.events.k8s.io \"kept.1\" is forbidden: unable to create new content in namespace team because it is being terminated",
            "details": {"causes": [{"reason": "NamespaceTerminating", "message": "namespace team is being terminated", "field": "metadata.namespace"}]},
        }))
        .expect("status");
        assert!(namespace_terminating(&refused));
        let rbac: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 403, "reason": "Forbidden",
            "message": "events.events.k8s.io is forbidden: User \"x\" cannot create resource",
        }))
        .expect("status");
        assert!(!namespace_terminating(&rbac));
    }

    #[test]
    fn an_event_says_what_its_note_says() {
        let regarding = ObjectReference {
            name: Some("vault-a".into()),
            ..ObjectReference::default()
        };
        let note = Note::normal("Created", "Create", "created vault v1");
        let e = event("coffer-0", &regarding, note, Timestamp::UNIX_EPOCH);
        assert_eq!(e.message.as_deref(), Some("created vault v1"));
        assert_eq!(e.type_.as_deref(), Some("Normal"));
    }

    fn forbidden(message: &str, causes: &[&str]) -> kube::core::Status {
        let causes: Vec<_> = causes
            .iter()
            .map(|reason| serde_json::json!({"reason": reason, "message": "", "field": ""}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": 403, "reason": "Forbidden",
            "message": message, "details": {"causes": causes},
        }))
        .expect("status")
    }

    #[test]
    fn a_terminating_namespace_is_told_by_its_cause_or_by_the_message_alone() {
        assert!(namespace_terminating(&forbidden(
            "forbidden",
            &["NamespaceTerminating"]
        )));
        assert!(namespace_terminating(&forbidden(
            "unable to create new content in namespace team because it is being terminated",
            &[]
        )));
        assert!(!namespace_terminating(&forbidden(
            "forbidden",
            &["FieldValueInvalid"]
        )));
        let mut conflict = forbidden("forbidden", &["NamespaceTerminating"]);
        conflict.code = 409;
        conflict.reason = "Conflict".into();
        assert!(!namespace_terminating(&conflict), "only a refusal counts");
    }

    #[test]
    fn a_note_cut_inside_a_character_ends_before_it() {
        // The thousandth byte is the first of an `é`.
        let text = format!("a{}", "é".repeat(600));
        let cut = truncate(text, 1000);
        assert_eq!(cut.len(), 999);
        assert!(cut.starts_with('a'));
        let short = truncate("short".to_string(), 1000);
        assert_eq!(short, "short");
    }

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let text = "é".repeat(600);
        let cut = truncate(text, 1000);
        assert!(cut.len() <= 1000);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
