//! BackupShare on Huawei Cloud CBR: one [`External`] per side.
//!
//! A share member has no id of its own beyond (backup id, member project
//! id), so what the engine calls "the cloud object" differs per side:
//!
//! - **Owner** ([`OwnerShare`]): the object is the member set of one
//!   backup. `External::id` is the backup id. `get` lists the members
//!   (and reads the backup's status); a deleted backup — CBR's 404, or its
//!   401 `Malformed request url` quirk — is observed as "backup deleted",
//!   which `Ready=False, reason BackupNotFound` shows and which plans no call,
//!   so nothing retries in a loop. `LOOKUP` is `OwnershipTag`: the spec
//!   names the backup, so the member set found by `find` is this object's
//!   by definition; `find` reports nothing only when none of the spec's
//!   members is shared yet, and then `create` is "share with the members"
//!   (adds in POSTs of at most 10). While the object is being deleted,
//!   `get` reports the share gone once none of the spec's members remains,
//!   which is how the engine's `Delete` policy ends.
//! - **Receiver** ([`ReceiverShare`]): the object is this project's one
//!   member record of the backup. `External::id` is again the backup id
//!   (the member id is the ProviderConfig's project). `get` shows the
//!   member record; one that is not visible (not shared yet, unshared, or
//!   the backup deleted: CBR cannot tell these apart for a receiver) is
//!   observed as such, `Ready=False, reason ShareNotVisible`, and polled at
//!   the poll interval. `find` always returns that observation as owned,
//!   so the engine never creates: the owner makes the record. Deleting a
//!   receiver never calls CBR (its deletion policy is always `Orphan`).
//!
//! Plans are pure (`owner_plan`, `receiver_plan`).

pub mod members;
pub mod owner;
pub mod owner_plan;
pub mod receiver;
pub mod receiver_plan;

pub use owner::OwnerShare;
pub use receiver::ReceiverShare;

#[cfg(test)]
mod tests;
