//! Kubernetes Events: what coffer did to a provider, and transitions of a
//! condition. Never one per reconcile, so `kubectl describe` tells a story
//! instead of repeating it. Publishing is best effort: an Event that cannot
//! be written is logged and the reconcile carries on.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

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
    recorder: Recorder,
}

impl Events {
    pub fn new(client: kube::Client, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: REPORTING_CONTROLLER.to_string(),
            instance,
        };
        Self {
            recorder: Recorder::new(client, reporter),
        }
    }

    /// Publishes `note` about `regarding`; failures are logged, not returned.
    pub async fn publish(&self, regarding: &ObjectReference, note: Note) {
        let event = Event {
            type_: if note.warning {
                EventType::Warning
            } else {
                EventType::Normal
            },
            reason: note.reason,
            // The Events API refuses notes over 1 kB.
            note: Some(truncate(note.message, 1000)),
            action: note.action.to_string(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&event, regarding).await {
            tracing::warn!(%error, object = ?regarding.name, "could not publish an Event");
        }
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
    fn long_notes_are_cut_on_a_character_boundary() {
        let text = "é".repeat(600);
        let cut = truncate(text, 1000);
        assert!(cut.len() <= 1000);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
