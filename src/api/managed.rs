//! What every managed kind shares: the management policy, the annotations
//! that steer a single object, and the status the reconcile engine writes —
//! the external id, the observation, the conditions, the plan, the drift and
//! what is in flight. One generic status, so every kind shows the same
//! fields in the same places and Argo CD, `kubectl` and alerts read them alike.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::conditions::Condition;

/// `"true"` stops every provider call for the object until removed.
pub const PAUSED_ANNOTATION: &str = "coffer.dev/paused";
/// A duration (`30s`, `5m`, `1h`): how often this object is checked for
/// drift, instead of the operator's resync interval.
pub const POLL_INTERVAL_ANNOTATION: &str = "coffer.dev/poll-interval";
/// Any token: reconcile now, even while backing off; answered by
/// `status.lastHandledReconcileAt` set to the same token.
pub const RECONCILE_REQUESTED_ANNOTATION: &str = "coffer.dev/reconcile-requested-at";
/// The provider's id of an existing cloud object to import (with
/// `managementPolicy: ObserveOnly`, or to take over deliberately).
pub const EXTERNAL_ID_ANNOTATION: &str = "coffer.dev/external-id";
/// Set by coffer, with its finalizer, just before the first create of an
/// object whose cloud cannot find a lost create by tag: the create-pending
/// marker (its `since`) until coffer first writes the object's status,
/// which then carries it. One write for both, instead of two.
pub const CREATE_STARTED_ANNOTATION: &str = "coffer.dev/create-started";
/// Set to the `since` of `status.createPending` to let coffer create again
/// after a create whose outcome it cannot find out.
pub const RETRY_CREATE_ANNOTATION: &str = "coffer.dev/retry-create";
/// Set to the `since` of `status.callPending` to let coffer make a call
/// that must not be made twice again, after one whose outcome it cannot
/// find out.
pub const RETRY_CALL_ANNOTATION: &str = "coffer.dev/retry-call";

/// How much of the cloud object coffer manages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ManagementPolicy {
    /// Create, update and delete the cloud object to match the spec.
    #[default]
    Full,
    /// Only read it: import an existing object (by the `coffer.dev/external-id`
    /// annotation, or by name where names are unique), show `atProvider`, and
    /// report the plan and drift as if coffer would act. Never creates,
    /// updates or deletes; deleting this object leaves the cloud object alone.
    ObserveOnly,
}

/// What coffer last saw of the cloud object and what it will do about it.
/// `A` is the kind's view of the object (`atProvider`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedStatus<A> {
    /// The provider's id of the cloud object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The cloud object as the provider last reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_provider: Option<A>,
    /// `Ready`: the cloud object exists and is usable. `Synced`: the last
    /// reconcile made it match the spec (or, observing only, read it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The generation of the spec the status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The provider calls the next reconcile will make, in order; listed
    /// even when coffer will not make them (observing only, paused, or
    /// blocked by a field the provider cannot change).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<PlannedCall>,
    /// One entry per field where the cloud object differs from the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Drift>,
    /// Calls coffer made whose effect the provider does not show yet (and
    /// pending job or request ids); not made again while listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_flight: Vec<InFlightCall>,
    /// Set just before a create whose result the provider cannot be searched
    /// for, cleared once its id is recorded. Found set with no cloud object,
    /// it stops coffer from creating blindly a second time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_pending: Option<CreatePending>,
    /// Set just before a provider call that must never be made twice for
    /// one change (a request the provider does not deduplicate), cleared
    /// once its answer is recorded. Found set, coffer does not make that
    /// call again until it has found out whether the first one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_pending: Option<CallPending>,
    /// When coffer started deleting the cloud object, RFC 3339: set before
    /// its first delete call, so that a delete interrupted by an error or a
    /// restart is finished, not forgotten. The finalizer stays until the
    /// provider no longer shows the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_started: Option<String>,
    /// The last `coffer.dev/reconcile-requested-at` token coffer acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

// Written by hand: the derive would require `A: Default`.
impl<A> Default for ManagedStatus<A> {
    fn default() -> Self {
        Self {
            external_id: None,
            at_provider: None,
            conditions: Vec::new(),
            observed_generation: None,
            plan: Vec::new(),
            drift: Vec::new(),
            in_flight: Vec::new(),
            create_pending: None,
            call_pending: None,
            delete_started: None,
            last_handled_reconcile_at: None,
        }
    }
}

/// One provider call in a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedCall {
    /// What the call does, e.g. `create`, `update`, `addTags`.
    pub operation: String,
    /// What it acts on, e.g. `vault 2402…` or `vault team-a` before it exists.
    pub target: String,
    /// The fields it sends (names, never secret values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// A field where the cloud object differs from the spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// The spec path, e.g. `huaweiCloud.threshold`.
    pub field: String,
    /// The value the spec asks for, as text.
    pub desired: String,
    /// The value the provider reports, as text.
    pub observed: String,
    /// What coffer does about it.
    pub action: DriftAction,
    /// Why coffer does not update it, when the action is `blocked` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What coffer does about a difference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DriftAction {
    /// A planned call changes it.
    #[default]
    Update,
    /// The provider cannot change it; the reason says what the user can do.
    Blocked,
    /// Left as it is on purpose (the reason says why).
    None,
}

/// A call made whose effect is not visible at the provider yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InFlightCall {
    /// What is awaited, e.g. `addResource/srv-1` or `job/4711`.
    pub call: String,
    /// When the call was made.
    pub since: Time,
}

/// A once-only call that was started and whose answer is not recorded yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallPending {
    /// Which call, as the pair names the change it makes, e.g.
    /// `encrypt/<fingerprint>`; never a secret.
    pub call: String,
    /// When coffer started it, RFC 3339; the value `coffer.dev/retry-call`
    /// must carry to allow the call again.
    pub since: String,
}

/// A create that was started and whose outcome is not recorded yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePending {
    /// When coffer started the create, RFC 3339; the value
    /// `coffer.dev/retry-create` must carry to allow another create.
    pub since: String,
}
