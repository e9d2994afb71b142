//! The state every route shares: the emulated clouds (Huawei, Rackspace), the fault settings and
//! the request recorder, each behind its own lock so a slow list of vaults
//! does not hold up the counters.

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::commvault::CommvaultState;
use super::faults::FaultState;
use super::huawei::HuaweiState;
use super::rackspace::RackspaceState;
use super::recorder::Recorder;

pub struct Shared {
    pub huawei: HuaweiState,
    pub rackspace: RackspaceState,
    pub commvault: CommvaultState,
    pub faults: Mutex<FaultState>,
    pub recorder: Mutex<Recorder>,
}

/// Locks, carrying on after a panic in another handler: the stores validate
/// before they mutate, and an emulator that stops answering helps no test.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
