//! The condition reasons a BackupShare shows besides the engine's, each
//! with what it means and what to do: the owner's and the receiver's waits
//! and refusals.

use super::huawei::owner_plan::{BACKUP_NOT_FOUND, NOT_OWNER};
use super::huawei::receiver_plan::{NOT_VISIBLE, OWN_BACKUP, WAITING_FOR_VAULT};
use crate::api::conditions::Reason;

pub const REASONS: &[Reason] = &[
    Reason::new(
        BACKUP_NOT_FOUND,
        "Owner: CBR has no backup with `backupId` in this project (deleted outside coffer, or never made here).",
        "Fix `backupId`; coffer looks again only at the drift check.",
    ),
    Reason::new(
        NOT_OWNER,
        "Owner: the backup belongs to another project, so this project cannot share it.",
        "Share it from the owning project's ProviderConfig; to receive it here, use a `receiver` BackupShare.",
    ),
    Reason::new(
        "BackupNotAvailable",
        "Owner: the backup is not `available` yet (still `protecting`), and CBR shares only finished backups.",
        "Nothing: coffer shares it when the backup finishes.",
    ),
    Reason::new(
        "BackupNotShareable",
        "Owner: the backup is not a cloud-server backup, the only kind CBR shares.",
        "Share a cloud-server (`OS::Nova::Server`) backup instead.",
    ),
    Reason::new(
        NOT_VISIBLE,
        "Receiver: the owner has not shared the backup with this project yet.",
        "Nothing, or check the owner's BackupShare lists this project; coffer polls at the poll interval.",
    ),
    Reason::new(
        WAITING_FOR_VAULT,
        "Receiver: the BackupVault `vaultRef` names, to accept the backup into, is not Ready yet.",
        "Nothing, unless that BackupVault stays not Ready: read its conditions.",
    ),
    Reason::new(
        OWN_BACKUP,
        "Receiver: the backup belongs to this project itself; CBR lets a project answer only other projects' shares.",
        "Use the receiving project's ProviderConfig, or delete this BackupShare.",
    ),
    Reason::new(
        "AcceptedIntoAnotherVault",
        "Receiver: the backup was accepted into another vault than the spec names, and CBR cannot move an accepted backup.",
        "Set the vault back, or reject the backup and accept it again.",
    ),
    Reason::new(
        "Pending",
        "Receiver: coffer sent the answer (accept or reject) and CBR shows the member still pending.",
        "Nothing: coffer reads the member record again soon.",
    ),
];
