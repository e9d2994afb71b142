//! What every cloud's routes share: the fault settings (one set for all
//! clouds, as the admin API sets it) and the request recorder, each behind
//! its own lock so a slow list of vaults does not hold up the counters.
//! Each cloud keeps its own state beside this; nothing here knows a cloud.

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::faults::{FaultConfig, FaultError, FaultState};
use super::recorder::Recorder;

pub struct Common {
    pub faults: Mutex<FaultState>,
    pub recorder: Mutex<Recorder>,
}

impl Common {
    /// Faults as `faults` says, and a request log of `log_capacity` entries.
    pub fn new(faults: FaultConfig, log_capacity: usize) -> Result<Self, FaultError> {
        Ok(Self {
            faults: Mutex::new(FaultState::new(faults)?),
            recorder: Mutex::new(Recorder::new(log_capacity)),
        })
    }
}

/// Locks, carrying on after a panic in another handler: the stores validate
/// before they mutate, and an emulator that stops answering helps no test.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
