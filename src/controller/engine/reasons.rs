//! Every condition reason the engine shows, for any kind, each with what it
//! means and what to do: the fixed set the `reason` label of
//! `coffer_objects_by_condition` takes, and the rows of docs/reasons.md.
//! The ProviderConfig controller shows some of the same reasons and names
//! them from here, so each is explained once; `report` takes the names of
//! the ones it sets from here too.

use crate::api::conditions::Reason;
use crate::provider::error::ENDPOINT_NOT_ALLOWED;

pub const AVAILABLE: Reason = Reason::new(
    "Available",
    "`Ready=True`: the cloud object exists and is usable.",
    "Nothing.",
);
pub const NOT_FOUND: Reason = Reason::new(
    "NotFound",
    "The provider answered that something the call named does not exist (a project, a plan, a client, an agent, a backup).",
    "Check the ids in the spec and the ProviderConfig against the cloud's console; coffer tries again at the next drift check.",
);
pub const RECONCILE_SUCCESS: Reason = Reason::new(
    "ReconcileSuccess",
    "`Synced=True`: the last reconcile found the cloud object matching the spec, or made it match.",
    "Nothing.",
);
pub const OBSERVING_ONLY: Reason = Reason::new(
    "ObserveOnly",
    "`Synced=True` with `managementPolicy: ObserveOnly`: coffer read the cloud object and shows `status.plan` and `status.drift`, but calls nothing that changes it.",
    "Read `status.drift`; set `managementPolicy: Full` to let coffer make the planned calls.",
);
pub const RECONCILE_PAUSED: Reason = Reason::new(
    "ReconcilePaused",
    "`Synced=False`: the annotation `coffer.dev/paused: \"true\"` is set, so coffer makes no provider call for this object.",
    "Remove the annotation to resume.",
);
pub const BEING_DELETED: Reason = Reason::new(
    "Deleting",
    "`Ready=False`: the object is being deleted and coffer is deleting (or letting go of) the cloud object, as `deletionPolicy` says.",
    "Nothing; if it lasts, read `Synced` and the Events for what the delete waits on.",
);
pub const AMBIGUOUS_ADOPTION: Reason = Reason::new(
    "AmbiguousAdoption",
    "More than one cloud object carries this object's ownership tag, so coffer cannot tell which is its own.",
    "Delete or untag the extra cloud objects, or name the right one with the annotation `coffer.dev/external-id`.",
);
pub const ALREADY_EXISTS: Reason = Reason::new(
    "AlreadyExists",
    "A cloud object of this name exists that coffer did not create, and coffer does not take over what is not its own.",
    "Choose another name, or import that object: annotation `coffer.dev/external-id: <its id>` with `managementPolicy: ObserveOnly`, check `status.drift`, then switch to `Full`.",
);
pub const CREATE_OUTCOME_UNKNOWN: Reason = Reason::new(
    "CreateOutcomeUnknown",
    "A create was started but its answer was lost, and the cloud cannot be searched for what it made; coffer will not create a second one on a guess.",
    "If the cloud object exists, set `coffer.dev/external-id` to its id; if not, set `coffer.dev/retry-create` to the marker's `since` (the message gives both).",
);
pub const CALL_OUTCOME_UNKNOWN: Reason = Reason::new(
    "CallOutcomeUnknown",
    "A call that must not be made twice (a Rackspace vault-encryption request) was sent, its answer was lost, and nothing shows whether it was made.",
    "Check the agent's events at the provider; set `coffer.dev/retry-call` to `status.callPending.since` to allow the call again.",
);
pub const KUBERNETES_ERROR: Reason = Reason::new(
    "KubernetesError",
    "A request to the Kubernetes API server failed (a status write, a finalizer, a Secret coffer keeps).",
    "Usually passes by itself; if it stays, read the operator's log and check its RBAC (the chart's ClusterRole).",
);
pub const INVALID_OBJECT: Reason = Reason::new(
    "InvalidObject",
    "The object lacks metadata coffer needs (a uid or a namespace) or could not be decoded.",
    "Re-create the object from its manifest; the Warning Event names the field.",
);
pub const INVALID_SPEC: Reason = Reason::new(
    "InvalidSpec",
    "The spec cannot be acted on as written (for example no provider block for this kind's cloud), in a way the API server's validation does not catch.",
    "Fix the spec as the message says.",
);
pub const INVALID_ANNOTATION: Reason = Reason::new(
    "InvalidAnnotation",
    "A `coffer.dev/` annotation has a value coffer cannot read (for example a `coffer.dev/poll-interval` that is not a duration of at least 5 s).",
    "Fix or remove the annotation the message names.",
);
pub const CONFLICT: Reason = Reason::new(
    "Conflict",
    "The provider refused a call because of the cloud object's current state (HTTP 409), for example a name taken or an operation already running.",
    "Usually passes by itself; otherwise the provider's message in the condition says what is in the way.",
);
pub const THROTTLED: Reason = Reason::new(
    "Throttled",
    "The provider answered 429 for longer than `--failure-grace`; coffer keeps retrying with backoff, honouring `Retry-After`.",
    "Nothing, or lower `spec.rateLimit` of the ProviderConfig when many objects share one account.",
);
pub const INVALID_REQUEST: Reason = Reason::new(
    "InvalidRequest",
    "The provider refused a call as invalid (HTTP 400 or 422, or Commvault's `errorCode`), with its own message.",
    "Fix the spec field the provider's message names; coffer does not retry the same request until the spec changes or the drift check comes.",
);
pub const UNAUTHORIZED: Reason = Reason::new(
    "Unauthorized",
    "The provider refused the credentials (a failed sign-in or HTTP 401/403), or the account lacks the permission the call needs.",
    "Check the values in the ProviderConfig's Secret and the account's permissions (for Huawei CBR `CBR FullAccess`, for agencies `Security Administrator`).",
);
pub const PROVIDER_UNAVAILABLE: Reason = Reason::new(
    "ProviderUnavailable",
    "The provider failed (5xx, a timeout, a refused connection) for longer than `--failure-grace`; coffer keeps retrying with backoff.",
    "Nothing, unless it lasts: check the endpoint in the ProviderConfig, the network path (proxy, NetworkPolicy) and the provider's status page.",
);
pub const PROVIDER_CONFIG_NOT_FOUND: Reason = Reason::new(
    "ProviderConfigNotFound",
    "The ProviderConfig that `spec.providerConfigRef` names does not exist in the object's namespace, or the ClusterProviderConfig it names does not exist.",
    "Create it, or fix the name; coffer goes on as soon as it appears.",
);
pub const PROVIDER_CONFIG_NOT_ALLOWED: Reason = Reason::new(
    "ProviderConfigNotAllowed",
    "The ClusterProviderConfig that `spec.providerConfigRef` names does not allow the object's namespace (by name in `allowedNamespaces.names` or by label through `allowedNamespaces.selector`), or this coffer runs without ClusterProviderConfigs. No provider call is made.",
    "Ask a cluster admin to allow the namespace (the message says what to add or label), or use a ProviderConfig in the object's namespace.",
);
pub const PROVIDER_CONFIG_INVALID: Reason = Reason::new(
    "ProviderConfigInvalid",
    "The ProviderConfig has no provider block, or one for another cloud than this object needs.",
    "Point `spec.providerConfigRef` at a ProviderConfig of the object's cloud, or fix that ProviderConfig.",
);
pub const SECRET_NOT_FOUND: Reason = Reason::new(
    "SecretNotFound",
    "The credential Secret the ProviderConfig names does not exist in its namespace, or is not labelled `coffer.dev/credentials=true` (coffer reads no other Secret).",
    "Create the Secret, or `kubectl label secret <name> coffer.dev/credentials=true`.",
);
pub const SECRET_KEY_MISSING: Reason = Reason::new(
    "SecretKeyMissing",
    "The credential Secret lacks a key the cloud needs, or its value is not text (Huawei: `accessKey` and `secretKey`, or `username`, `password` and `domainName`; Rackspace: `username` and `apiKey` or `password`; Commvault: `username` and `password`).",
    "Add the key the message names to the Secret.",
);
pub const ENDPOINT_REFUSED: Reason = Reason::new(
    ENDPOINT_NOT_ALLOWED,
    "An endpoint URL (in the ProviderConfig, or one the provider handed out) is outside the endpoints the cluster admin allows (`--allowed-endpoints`, the chart's `allowedEndpoints`), so coffer sent it no request and no credential.",
    "Use one of the allowed endpoints, or ask the cluster admin to add it to the chart's `allowedEndpoints`.",
);
pub const DEADLINE_EXCEEDED: Reason = Reason::new(
    super::error::DEADLINE_EXCEEDED,
    "A reconcile ran past its deadline (`--reconcile-deadline`, 1 minute by default): the provider or its endpoint answered too slowly, or not at all. What it learned before the cut is kept; coffer retries with backoff.",
    "If it lasts, check that the endpoint answers (a proxy, a firewall that drops instead of refusing); a slow but working cloud may need a longer `operator.reconcileDeadline`.",
);
pub const LIST_TOO_LARGE: Reason = Reason::new(
    "ListTooLarge",
    "One provider list read more than coffer reads across all its pages (50,000 items or 32 MiB): a provider paging without end, or an account far larger than coffer expects.",
    "Check the provider's answers (the message names the list and the cap); coffer does not retry it until the object or its ProviderConfig changes.",
);

/// Every reason the engine itself shows, for any kind: its own, the ones
/// [`super::Error::reason`] gives (the provider's and the ProviderConfig's
/// among them) and the health of a cloud object found or not. A kind adds
/// its own in [`super::Managed::REASONS`].
pub const REASONS: &[Reason] = &[
    AVAILABLE,
    NOT_FOUND,
    RECONCILE_SUCCESS,
    OBSERVING_ONLY,
    RECONCILE_PAUSED,
    BEING_DELETED,
    AMBIGUOUS_ADOPTION,
    ALREADY_EXISTS,
    CREATE_OUTCOME_UNKNOWN,
    CALL_OUTCOME_UNKNOWN,
    KUBERNETES_ERROR,
    INVALID_OBJECT,
    INVALID_SPEC,
    INVALID_ANNOTATION,
    CONFLICT,
    THROTTLED,
    INVALID_REQUEST,
    UNAUTHORIZED,
    PROVIDER_UNAVAILABLE,
    PROVIDER_CONFIG_NOT_FOUND,
    PROVIDER_CONFIG_NOT_ALLOWED,
    PROVIDER_CONFIG_INVALID,
    SECRET_NOT_FOUND,
    SECRET_KEY_MISSING,
    ENDPOINT_REFUSED,
    DEADLINE_EXCEEDED,
    LIST_TOO_LARGE,
];
