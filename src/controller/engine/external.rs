//! The two traits the engine is generic over: [`Managed`], what it needs of
//! a Kubernetes kind, and [`External`], the small client each (kind, cloud)
//! pair implements — observe, a pure plan, create, one planned call,
//! delete, health and the `atProvider` view. Everything else (finalizer,
//! adoption, crash-safe create, conditions, Events, backoff, policies) is
//! the engine's, written once.

use std::collections::BTreeSet;
use std::fmt::Debug;

use async_trait::async_trait;
use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::Context;
use super::error::Error;
use super::events::Note;
use super::slots::{SessionKey, SessionRef};
use crate::api::conditions::Reason;
use crate::api::managed::{CallPending, Drift, ManagedStatus, ManagementPolicy, PlannedCall};
use crate::api::{DeletionPolicy, ProviderConfigKind, ProviderConfigRef};
use crate::provider::ProviderError;

/// What the engine needs of a managed Kubernetes kind.
pub trait Managed:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The kind, as metrics and per-object state name it.
    const KIND: &'static str;
    /// Held while the cloud object may still exist.
    const FINALIZER: &'static str;
    /// What the cloud object is called in messages: `vault`, `agency`.
    const NOUN: &'static str;
    /// The Event reason when the cloud object vanished outside coffer.
    const MISSING_REASON: &'static str;
    /// The condition reasons the kind's own pairs show, besides the
    /// engine's ([`super::reasons::REASONS`]), each with what it means and
    /// what to do: a fixed set, so that they can label a metric, and the
    /// kind's rows of docs/reasons.md.
    const REASONS: &'static [Reason] = &[];
    /// The kind's view of the cloud object in `status.atProvider`.
    type AtProvider: Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync;

    /// The ProviderConfig or ClusterProviderConfig the object uses.
    fn provider_config_ref(&self) -> &ProviderConfigRef;
    fn deletion_policy(&self) -> DeletionPolicy;
    fn management_policy(&self) -> ManagementPolicy;
    fn managed_status(&self) -> Option<&ManagedStatus<Self::AtProvider>>;

    /// Secrets in the object's namespace, besides its ProviderConfig's,
    /// whose change should reconcile it (a passphrase Secret).
    fn referenced_secrets(&self) -> Vec<&str> {
        Vec::new()
    }

    /// When this object's change (its status too) is news for other
    /// objects of its kind, a key naming them (see [`Managed::woken_by`]):
    /// a receiver's answer, for the owner's share of the same backup.
    fn wakes(&self) -> Option<String> {
        None
    }

    /// Whether a change of an object whose [`Managed::wakes`] is `key`
    /// should reconcile this one.
    fn woken_by(&self, _key: &str) -> bool {
        false
    }

    /// The provider session the object uses: its ProviderConfig's or its
    /// ClusterProviderConfig's. It also names whose share of the concurrent
    /// reconciles its reconcile takes (see [`super::slots`]).
    fn session(&self) -> SessionKey {
        SessionKey::of(self.session_ref())
    }

    /// [`Managed::session`] without its copies, for scans of whole stores.
    fn session_ref(&self) -> SessionRef<'_> {
        let reference = self.provider_config_ref();
        match reference.kind() {
            ProviderConfigKind::ProviderConfig => SessionRef::Namespaced {
                namespace: self.meta().namespace.as_deref().unwrap_or_default(),
                name: &reference.name,
            },
            ProviderConfigKind::ClusterProviderConfig => SessionRef::ClusterWide {
                name: &reference.name,
            },
        }
    }

    /// Whether the object uses the config `config` names.
    fn uses(&self, config: &SessionKey) -> bool {
        config.is(self.session_ref())
    }
}

/// How a cloud object can be found again when coffer holds no id for it,
/// which decides whether a create needs the pending marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The cloud tags what coffer creates with the object's uid and can be
    /// searched by it: a lost create answer is found by the tag.
    OwnershipTag,
    /// Names are unique in the account and can be listed, but carry no
    /// owner: a match is coffer's only if its create-pending marker says so.
    UniqueName,
    /// The object cannot be searched at all.
    None,
    /// The spec names the cloud object itself (a share is the member list
    /// of the backup the spec names): finding it is reading it, which a
    /// first reconcile needs like any other, and it carries no marker.
    SpecNamed,
}

impl Lookup {
    /// Whether a create must be fenced by the create-pending marker.
    pub fn needs_marker(self) -> bool {
        !matches!(self, Self::OwnershipTag | Self::SpecNamed)
    }
}

/// A cloud object found without an id.
#[derive(Clone, Debug)]
pub struct Candidate<O> {
    pub observed: O,
    /// Carries this object's ownership marker (tag).
    pub owned: bool,
}

/// What a successful create returns.
#[derive(Clone, Debug)]
pub struct Created<O> {
    pub observed: O,
    /// Parts of the create the provider does not show yet (see [`External::awaits`]).
    pub awaiting: Vec<String>,
}

/// What became of a once-only call whose answer was never recorded (the
/// process stopped, or the answer was lost, between the call and the
/// status write). See [`External::recover`].
#[derive(Clone, Debug)]
pub enum Recovery<O> {
    /// The provider shows the call was made; `O` is the object with the
    /// call's record in it, which the engine records at once.
    Made(O),
    /// The provider shows it was not made: it may be made now.
    NotMade,
    /// Nothing tells: the call is withheld until the user says.
    Unknown,
}

/// The cloud object's own state, as `Ready` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    Available {
        message: String,
    },
    /// Still being set up; `Ready=False` with `reason`, not a fault.
    Progressing {
        reason: String,
        message: String,
    },
    /// On its way out: the provider finishes the delete by itself (a CBR
    /// vault in `deleting`).
    Deleting,
    /// A delete stopped halfway: the object is on its way out, but only
    /// another call finishes it (a Commvault client retired and not yet
    /// deleted). `remaining` names that call for messages; the pair's
    /// [`External::delete`] makes it, given this observation.
    PartlyDeleted {
        remaining: String,
    },
    /// Exists but is not usable.
    Degraded {
        reason: String,
        message: String,
    },
}

/// Whether a condition's reason is progress or trouble: decides, once for
/// every pair, whether its Event is Normal or a Warning (Argo CD and most
/// alerting read a Warning as something to fix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Normal work still under way (a job running, a vault being waited for).
    Progress,
    /// Something a user may have to act on.
    Trouble,
}

impl Health {
    /// What `Ready=False` with this health means to a user. Only a
    /// pair's `Progressing` is progress; the reason it gives says which.
    pub fn tone(&self) -> Tone {
        match self {
            Self::Progressing { .. }
            | Self::Available { .. }
            | Self::Deleting
            | Self::PartlyDeleted { .. } => Tone::Progress,
            Self::Degraded { .. } => Tone::Trouble,
        }
    }

    /// Whether the object is on its way out, by coffer's delete or another's.
    pub fn is_going(&self) -> bool {
        matches!(self, Self::Deleting | Self::PartlyDeleted { .. })
    }
}

/// A difference the pair will not act on, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// The `Synced` reason, e.g. `ImmutableFieldDiffers`.
    pub reason: &'static str,
    /// What differs and what the user can do.
    pub message: String,
}

/// What a pair will do to make the cloud object match the spec. Made by a
/// pure function: the same spec, observation and in-flight set always give
/// the same plan, which is what status, Events and tests show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan<C> {
    /// Provider calls, in the order to make them.
    pub calls: Vec<C>,
    /// One entry per differing field.
    pub drift: Vec<Drift>,
    /// Differences no call will fix.
    pub blocked: Vec<Blocked>,
    /// Changes asked for recently that the provider does not show yet.
    pub awaiting: Vec<String>,
}

impl<C> Default for Plan<C> {
    fn default() -> Self {
        Self {
            calls: Vec::new(),
            drift: Vec::new(),
            blocked: Vec::new(),
            awaiting: Vec::new(),
        }
    }
}

/// One (kind, cloud) pair: the cloud side of one object, connected.
#[async_trait]
pub trait External: Sized + Send + Sync {
    type Kind: Managed;
    /// The cloud object as the provider reports it.
    type Observed: Clone + Debug + Send + Sync;
    /// One call a plan may list.
    type Call: Clone + Debug + Send + Sync;

    /// What `connect` reaches beyond the object (provider sessions, cached
    /// Secrets), held in [`Context::env`]; the engine never looks into it.
    type Env: Send + Sync + 'static;

    /// How the object is found without an id.
    const LOOKUP: Lookup;

    /// Reads the spec and the provider session the object needs.
    fn connect(obj: &Self::Kind, ctx: &Context<Self::Env>) -> Result<Self, Error>;

    /// The cloud object's name as the spec gives it, for messages.
    fn name(&self) -> &str;

    /// The object with `id`; `Ok(None)` when the provider has no such object.
    async fn get(&self, id: &str) -> Result<Option<Self::Observed>, ProviderError>;

    /// The object with `id` as a provider listing no older than `max_age`
    /// shows it (see `provider::snapshot`): what a drift check reads, so
    /// that one list call serves every object of a provider session.
    /// `None` when no listing answers for it (none kept, the object not in
    /// it, or written since), and the engine reads it with
    /// [`External::get`]. The engine decides no write on what this answers:
    /// before acting it reads the object with `get`.
    async fn listed(
        &self,
        _id: &str,
        _max_age: std::time::Duration,
    ) -> Result<Option<Self::Observed>, ProviderError> {
        Ok(None)
    }

    /// Objects that may be this one, by ownership tag or by name (see
    /// [`Lookup`]). Never called when `LOOKUP` is `None`.
    async fn find(&self) -> Result<Vec<Candidate<Self::Observed>>, ProviderError>;

    /// The calls that make `observed` match the spec, leaving alone what is
    /// `in_flight`. Pure.
    fn plan(&self, observed: &Self::Observed, in_flight: &BTreeSet<String>) -> Plan<Self::Call>;

    /// The create call as a plan shows it.
    fn planned_create(&self) -> PlannedCall;

    /// Creates the object.
    async fn create(&self) -> Result<Created<Self::Observed>, ProviderError>;

    /// Makes one planned call on object `id`; returns the object when the
    /// answer carries it.
    async fn call(
        &self,
        id: &str,
        call: &Self::Call,
    ) -> Result<Option<Self::Observed>, ProviderError>;

    /// Starts deleting the object, or makes what remains of a delete that
    /// stopped halfway ([`Health::PartlyDeleted`]); already gone is
    /// success. The engine releases the finalizer only once a later
    /// [`External::get`] no longer finds the object, so `get` must see a
    /// half-deleted object as such, never as gone.
    async fn delete(&self, observed: &Self::Observed) -> Result<(), ProviderError>;

    fn health(&self, observed: &Self::Observed) -> Health;

    fn at_provider(&self, observed: &Self::Observed) -> <Self::Kind as Managed>::AtProvider;

    /// The provider's id of `observed`.
    fn id(observed: &Self::Observed) -> String;

    /// `call` as status and Events show it.
    fn describe(&self, call: &Self::Call) -> PlannedCall;

    /// Events a successful `call` on object `id` deserves beyond the
    /// engine's own (an IAM agency update voids the delegated tokens). The
    /// engine publishes them; a pair never holds an Event recorder.
    fn notes_after(&self, _id: &str, _call: &Self::Call) -> Vec<Note> {
        Vec::new()
    }

    /// How an object taken over without an id was found, for its Event.
    fn found_how(&self) -> &'static str {
        match Self::LOOKUP {
            Lookup::OwnershipTag => "found by name and ownership tag",
            Lookup::SpecNamed => "found where the spec names it",
            Lookup::UniqueName | Lookup::None => {
                "found by name after a create whose answer was lost"
            }
        }
    }

    /// What `call` leaves in flight until the provider shows it (keys the
    /// pair chooses, e.g. `addResource/srv-1`).
    fn awaits(&self, _call: &Self::Call) -> Vec<String> {
        Vec::new()
    }

    /// The key of a call the provider does not deduplicate, which must
    /// never be made twice for one change (a POST that starts a request):
    /// the engine fences it with the `callPending` marker in status and
    /// records its answer at once. `None`: the call is idempotent.
    fn once_only(&self, _call: &Self::Call) -> Option<String> {
        None
    }

    /// Finds out, after a once-only call whose answer was never recorded,
    /// whether the provider made it (see [`Recovery`]).
    async fn recover(
        &self,
        _id: &str,
        _observed: &Self::Observed,
        _pending: &CallPending,
    ) -> Result<Recovery<Self::Observed>, ProviderError> {
        Ok(Recovery::Unknown)
    }

    /// Why the cloud object outlives its Kubernetes object whatever the
    /// deletion policy (it belongs to something coffer does not manage and
    /// the provider cannot delete it); `None` when `Delete` deletes it.
    const KEPT_ON_DELETE: Option<&'static str> = None;

    /// Whether `observed` shows the effect of in-flight `key`.
    /// How soon to look again although nothing is planned or in flight:
    /// the cloud object waits on someone else (a share member that has not
    /// answered yet). `None`: at the next drift check.
    fn recheck(&self, _observed: &Self::Observed) -> Option<std::time::Duration> {
        None
    }

    fn settled(&self, _observed: &Self::Observed, _key: &str) -> bool {
        true
    }
}

#[cfg(test)]
#[path = "external_tests.rs"]
mod tests;
