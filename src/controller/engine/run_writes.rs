//! The reconcile's own writes to its object, besides the status: the
//! finalizer added with the create-pending marker before a first create
//! (`finalizing::When::WithTheCreate`), and the versions those writes
//! replaced, kept for the retry that may read the cache before it shows
//! them (`own_writes`).

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::Run;
use crate::api::managed::{CREATE_STARTED_ANNOTATION, CreatePending, ManagedStatus};
use crate::controller::engine::error::Error;
use crate::controller::engine::external::Managed;
use crate::controller::engine::finalizing;

/// The create-pending marker: in status, or, until coffer first writes the
/// status, the annotation written with the finalizer before a first create.
pub(super) fn create_pending<K: Managed, A>(
    obj: &K,
    status: &ManagedStatus<A>,
) -> Option<CreatePending> {
    let unwritten = status.external_id.is_none() && status.conditions.is_empty();
    status.create_pending.clone().or_else(|| {
        let since = obj.annotations().get(CREATE_STARTED_ANNOTATION)?;
        unwritten.then(|| CreatePending {
            since: since.clone(),
        })
    })
}

impl<K: Managed, E> Run<'_, K, E> {
    /// The version of the object as the cache had it, when the object
    /// passed to [`Run::new`] is already the answer to a write of this
    /// reconcile (its finalizer).
    pub fn read_at(mut self, resource_version: Option<&str>) -> Self {
        if let Some(rv) = resource_version
            && Some(rv) != self.resource_version.as_deref()
        {
            self.superseded.push(rv.to_string());
        }
        self
    }

    /// Keeps the versions this reconcile wrote over for the next reconcile,
    /// which may read the cache before it shows the writes.
    pub(super) fn remember(&mut self) {
        self.ctx.own_writes.record(self.obj, &self.superseded);
    }

    /// This reconcile wrote the object; `written` is the API server's answer.
    pub(super) fn wrote(&mut self, written: &K) {
        if let Some(rv) = self.resource_version.take() {
            self.superseded.push(rv);
        }
        self.resource_version = written.resource_version();
    }

    /// Adds the finalizer this object does not hold yet, with the
    /// create-pending `marker` when a first create follows: one write,
    /// fenced by resourceVersion like the status marker, so two writers
    /// cannot both start the create.
    pub(super) async fn hold(&mut self, marker: Option<&CreatePending>) -> Result<(), Error> {
        if self.held {
            return Ok(());
        }
        let annotations: BTreeMap<String, String> = marker
            .map(|m| (CREATE_STARTED_ANNOTATION.to_string(), m.since.clone()))
            .into_iter()
            .collect();
        let what = match marker {
            Some(_) => "add the finalizer and record that a create is starting",
            None => "add the finalizer",
        };
        let held = finalizing::add_with(
            self.api,
            K::FINALIZER,
            self.obj,
            self.resource_version.as_deref(),
            &annotations,
        )
        .await
        .map_err(Error::kube(what))?;
        self.held = true;
        self.wrote(&held);
        Ok(())
    }
}
