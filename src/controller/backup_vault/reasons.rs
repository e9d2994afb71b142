//! The condition reasons a BackupVault shows besides the engine's, each
//! with what it means and what to do: CBR's vault states, the Commvault
//! endpoint job, the Rackspace agent and its encryption, and the plans'
//! refusals.

use super::commvault::plan::{JOB_FAILED, JOB_NOT_FOUND, JOB_RUNNING};
use crate::api::conditions::Reason;

pub const REASONS: &[Reason] = &[
    Reason::new(
        "Locked",
        "Huawei CBR: the vault's status is `lock`, so CBR refuses changes to it.",
        "Wait for the operation that locked it to finish, or ask Huawei Cloud support; coffer looks again at the drift check.",
    ),
    Reason::new(
        "Frozen",
        "Huawei CBR: the vault is frozen, usually because the account is in arrears.",
        "Settle the account's billing; the vault thaws and coffer sees it at the drift check.",
    ),
    Reason::new(
        "Error",
        "Huawei CBR reports the vault in status `error`.",
        "Look at the vault in the CBR console, or ask Huawei Cloud support.",
    ),
    Reason::new(
        "UnexpectedStatus",
        "Huawei CBR reports a vault status coffer does not know.",
        "Read `status.atProvider.status`; report it to coffer's maintainers if it is a new CBR state.",
    ),
    Reason::new(
        "VaultLocked",
        "Huawei CBR: `locked` is true at the provider and false in the spec; CBR never unlocks a vault.",
        "Set `locked: true` in the spec (the API server refuses setting it back to false anyway).",
    ),
    Reason::new(
        "ExcludeVolumesDiffer",
        "Huawei CBR: a resource's `excludeVolumes` differs, which CBR cannot change on an associated resource.",
        "Remove the resource from `resources` and add it back with the new list (two applies), or match the spec to the cloud.",
    ),
    Reason::new(
        "ImmutableFieldDiffers",
        "A field the provider cannot change after the create (for CBR the billing's object or protect type, for Commvault the name or plan) differs from the cloud object.",
        "Set the field back to `status.drift`'s observed value, or create a new BackupVault for the new value.",
    ),
    Reason::new(
        "UpdateUnsupported",
        "Commvault: `endpoints`, `owners` or `userGroups` differ, and Commvault documents no S3-vault update; `status.drift` shows it as blocked.",
        "Change it in Commvault by hand, or match the spec to the vault.",
    ),
    Reason::new(
        JOB_RUNNING,
        "Commvault: the job that sets up the vault's S3 endpoints is still running (`percentComplete` in the message).",
        "Nothing: the vault is Ready when the job completes.",
    ),
    Reason::new(
        JOB_FAILED,
        "Commvault: the endpoint job failed, was killed or did not start; coffer does not create the vault again.",
        "Fix the cause the job's reason gives in Commvault, then delete and re-create the BackupVault.",
    ),
    Reason::new(
        JOB_NOT_FOUND,
        "Commvault no longer knows the endpoint job recorded in `status.atProvider.commvault` (its job history was pruned).",
        "Check the vault's endpoints in Command Center; re-create the BackupVault if they are missing.",
    ),
    Reason::new(
        "AgentOffline",
        "Rackspace: the agent that owns the vault is offline and cannot apply encryption requests.",
        "Start the agent on its server; coffer keeps looking at the poll interval.",
    ),
    Reason::new(
        "EncryptionPending",
        "Rackspace: coffer posted a vault-encryption request and waits for the agent to report it.",
        "Nothing, unless it lasts: check the agent is running.",
    ),
    Reason::new(
        "NotEncrypted",
        "Rackspace: the spec asks for encryption and the agent's vault is not encrypted yet.",
        "Nothing: coffer sends the encryption request.",
    ),
    Reason::new(
        "PassphraseUnavailable",
        "Rackspace: the passphrase Secret `encryption.passphraseSecretRef` names is missing, unlabelled, or lacks the key.",
        "Create the Secret with the key, labelled `coffer.dev/credentials=true`.",
    ),
    Reason::new(
        "PassphraseUnknown",
        "Rackspace: the vault is already encrypted with a passphrase coffer never saw, so it cannot send the old passphrase a change needs.",
        "Put the vault's current passphrase under key `passphrase` of `<name>-coffer-passphrase`, or set the passphrase Secret to it.",
    ),
    Reason::new(
        "EncryptionFailed",
        "Rackspace: the agent reported the encryption request failed; coffer makes no new request for the same spec and passphrase.",
        "Read the agent's log; change the spec or the passphrase Secret to try again.",
    ),
];
