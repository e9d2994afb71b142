//! Every condition reason a ProviderConfig shows, each with what it means
//! and what to do: its own, and those of reading its Secret and of the
//! provider's answer, which it shares with the managed kinds and names
//! from the engine's list so each is explained once.

use super::report::{DELETION_BLOCKED, VALID};
use crate::api::conditions::Reason;
use crate::controller::engine::reasons as engine;

pub const REASONS: &[Reason] = &[
    Reason::new(
        VALID,
        "`Ready=True`: the provider accepted the credentials in one cheap authenticated call.",
        "Nothing.",
    ),
    Reason::new(
        DELETION_BLOCKED,
        "`Ready=False`: the ProviderConfig is being deleted, but objects still use it; `status.users` counts them by kind. It goes once they are gone, so their finalizers can still reach the cloud.",
        "Delete (or re-point) the objects that use it first.",
    ),
    Reason::new(
        "InUse",
        "The reconcile of a deleted ProviderConfig stopped because objects still use it (the reason of `coffer_reconcile_errors_total`; the condition says `DeletionBlocked`).",
        "As for `DeletionBlocked`.",
    ),
    engine::INVALID_OBJECT,
    engine::KUBERNETES_ERROR,
    engine::PROVIDER_CONFIG_INVALID,
    engine::SECRET_NOT_FOUND,
    engine::SECRET_KEY_MISSING,
    engine::NOT_FOUND,
    engine::CONFLICT,
    engine::THROTTLED,
    engine::INVALID_REQUEST,
    engine::UNAUTHORIZED,
    engine::PROVIDER_UNAVAILABLE,
    engine::ENDPOINT_REFUSED,
    engine::DEADLINE_EXCEEDED,
    engine::LIST_TOO_LARGE,
];
