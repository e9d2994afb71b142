//! Kubernetes Events: what coffer did to a provider, and transitions of a
//! condition. Never one per reconcile, so `kubectl describe` tells a story
//! instead of repeating it. Publishing is best effort: an Event that cannot
//! be written is logged and the reconcile carries on.
//!
//! Written straight to `events.k8s.io/v1` rather than through kube-runtime's
//! `Recorder`: the Recorder keeps every Event it wrote for six minutes to
//! aggregate repeats into a series, and sweeps that cache on every publish.
//! coffer never repeats an Event (it publishes on transitions only), so at
//! 10,000 new objects the cache was about 15 MiB held for nothing and an
//! O(n) sweep per Event.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};

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

/// Publishes Events for coffer's objects.
#[derive(Clone)]
pub struct Events {
    client: kube::Client,
    /// `reportingInstance`: the pod, so `kubectl get events` tells replicas apart.
    instance: String,
}

impl Events {
    pub fn new(client: kube::Client, instance: Option<String>) -> Self {
        Self {
            client,
            instance: instance.unwrap_or_else(|| REPORTING_CONTROLLER.to_string()),
        }
    }

    /// Publishes `note` about `regarding`; failures are logged, not returned.
    pub async fn publish(&self, regarding: &ObjectReference, note: Note) {
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let event = event(&self.instance, regarding, note, Timestamp::now());
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        if let Err(error) = api.create(&PostParams::default(), &event).await {
            tracing::warn!(%error, object = ?regarding.name, "could not publish an Event");
        }
    }
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
        note: Some(truncate(note.message, 1000)),
        type_: Some(if note.warning { "Warning" } else { "Normal" }.to_string()),
        event_time: Some(MicroTime(now)),
        regarding: Some(regarding.clone()),
        reporting_controller: Some(REPORTING_CONTROLLER.to_string()),
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
        assert_eq!(
            e.reporting_controller.as_deref(),
            Some(REPORTING_CONTROLLER)
        );
        assert_eq!(e.reporting_instance.as_deref(), Some("coffer-0"));
        assert!(e.event_time.is_some());
        assert_eq!(e.regarding, Some(regarding));
    }

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let text = "é".repeat(600);
        let cut = truncate(text, 1000);
        assert!(cut.len() <= 1000);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
