//! The engine's side of a call that must never be made twice for one
//! change (a POST the provider does not deduplicate): the `callPending`
//! marker written, fenced, before it; after a crash, the pair asked whether
//! the provider made it; and the call withheld while nobody can tell.
//! Parallel to the create-pending marker of `create`, which shares the
//! fenced write.

use jiff::Timestamp;

use super::{Progress, Run};
use crate::api::managed::{CallPending, ManagedStatus, RETRY_CALL_ANNOTATION};
use crate::controller::engine::error::Error;
use crate::controller::engine::events::{Note, reason};
use crate::controller::engine::external::{Blocked, External, Managed, Plan, Recovery};
use crate::controller::engine::status;

impl<K: Managed, E> Run<'_, K, E> {
    /// Writes the status with a marker `mark` sets, only if the object is
    /// still at the resourceVersion it was read at: two writers cannot both
    /// pass the fence, and a crash after it leaves the marker in place.
    pub(super) async fn fence(
        &mut self,
        mark: impl FnOnce(&mut ManagedStatus<K::AtProvider>),
        what: &'static str,
    ) -> Result<(), Error> {
        let mut fenced = self.status.clone();
        mark(&mut fenced);
        let written = status::apply_fenced(
            self.api,
            self.obj,
            self.resource_version.as_deref(),
            &fenced,
        )
        .await
        .map_err(Error::kube(what))?;
        self.wrote(&written);
        self.status = fenced;
        Ok(())
    }

    /// Writes the call-pending marker for once-only call `key`, fenced by
    /// resourceVersion like the create-pending marker: two writers cannot
    /// both start the call, and a crash after the call leaves the marker.
    pub(super) async fn fence_call(
        &mut self,
        progress: &mut Progress<K::AtProvider>,
        key: &str,
    ) -> Result<(), Error> {
        let marker = CallPending {
            call: key.to_string(),
            since: Timestamp::now().to_string(),
        };
        let set = |s: &mut ManagedStatus<K::AtProvider>| s.call_pending = Some(marker.clone());
        self.fence(set, "record that a call is starting").await?;
        progress.call_pending = Some(marker);
        Ok(())
    }

    /// A once-only call was started and its answer never recorded: asks
    /// the pair whether the provider made it. Made: its record is written
    /// at once. Not made, or the user allows it with
    /// `coffer.dev/retry-call`: the marker goes and the plan may make it.
    pub(super) async fn recover<P: External<Kind = K, Env = E>>(
        &mut self,
        ext: &P,
        id: &str,
        observed: P::Observed,
        progress: &mut Progress<K::AtProvider>,
    ) -> Result<P::Observed, Error> {
        let Some(pending) = progress.call_pending.clone() else {
            return Ok(observed);
        };
        if self.policy.retry_call.as_deref() == Some(pending.since.as_str()) {
            progress.call_pending = None;
            return Ok(observed);
        }
        let found = ext
            .recover(id, &observed, &pending)
            .await
            .map_err(Error::provider(format!(
                "find out whether {} was made",
                pending.call
            )))?;
        match found {
            Recovery::Made(found) => {
                progress.call_pending = None;
                progress.observed = Some((ext.at_provider(&found), ext.health(&found)));
                let message = format!(
                    "{} was made at {} but its answer was lost; found it at the provider and recorded it",
                    pending.call, pending.since
                );
                // Held until this report, which records it, lands.
                self.publish(Note::normal(reason::RECOVERED, "Observe", message))
                    .await;
                self.report(progress, None, false).await?;
                Ok(found)
            }
            Recovery::NotMade => {
                progress.call_pending = None;
                Ok(observed)
            }
            Recovery::Unknown => Ok(observed),
        }
    }
}

/// Takes out of `plan` every once-only call of the change still `pending`,
/// whatever the pair planned: the engine never makes such a call twice.
pub(super) fn withhold<P: External>(ext: &P, plan: &mut Plan<P::Call>, pending: &CallPending) {
    plan.calls
        .retain(|c| ext.once_only(c).as_deref() != Some(pending.call.as_str()));
    plan.blocked.push(Blocked {
            reason: "CallOutcomeUnknown",
            message: format!(
                "coffer started {} at {} but never learned whether the provider made it, and cannot find out; \
                 it is not made again: once you have checked that it was not made, set annotation {RETRY_CALL_ANNOTATION}={} to make it again",
                pending.call, pending.since, pending.since
            ),
        });
}
