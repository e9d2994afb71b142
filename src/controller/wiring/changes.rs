//! Which watch events are worth a reconcile: an object whose wake key
//! ([`engine::wake_key`]: spec, deletion, steering annotations) has not
//! changed since the last event is not passed on. kube-runtime's
//! `predicate_filter` does the same, keyed by name, namespace and uid as
//! three strings (about 250 bytes an object); this keeps two hashes (16
//! bytes an object), which matters at 10,000 objects, and forgets an
//! object when its Delete event passes.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::watcher::{Error, Event};

use crate::controller::engine::settled::settled;
use crate::controller::engine::{self, Managed, Policy};

/// Passes on the events of `events` whose object's wake key changed. The
/// first event of an object its status shows settled is held back too: the
/// resync sweep reads it at its moment of the interval (see
/// [`engine::settled`]).
pub fn only_changed<K, S>(events: S) -> impl Stream<Item = Result<Event<K>, Error>>
where
    K: Managed,
    S: Stream<Item = Result<Event<K>, Error>>,
{
    let mut seen: HashMap<u64, u64> = HashMap::new();
    events.filter_map(move |event| {
        let passed = match event {
            Ok(Event::Apply(obj)) => changed(&mut seen, &obj).then_some(Ok(Event::Apply(obj))),
            Ok(Event::InitApply(obj)) => {
                changed(&mut seen, &obj).then_some(Ok(Event::InitApply(obj)))
            }
            Ok(Event::Delete(obj)) => {
                seen.remove(&identity(&obj));
                Some(Ok(Event::Delete(obj)))
            }
            other => Some(other),
        };
        futures::future::ready(passed)
    })
}

/// Records `obj`'s wake key; true when it is different, or new and not
/// settled.
fn changed<K: Managed>(seen: &mut HashMap<u64, u64>, obj: &K) -> bool {
    let key = engine::wake_key(obj).unwrap_or_default();
    match seen.insert(identity(obj), key) {
        Some(before) => before != key,
        None => !Policy::of(obj).is_ok_and(|policy| settled(obj, &policy)),
    }
}

/// Namespace, name and uid, hashed: a recreated object is a new one.
fn identity<K: Resource>(obj: &K) -> u64 {
    let meta = obj.meta();
    let mut hasher = DefaultHasher::new();
    (&meta.namespace, &meta.name, &meta.uid).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::engine::fixtures::object;
    use futures::executor::block_on;

    fn names<K: Managed>(events: Vec<Result<Event<K>, Error>>) -> Vec<String> {
        let passed: Vec<_> = block_on(only_changed(futures::stream::iter(events)).collect());
        passed
            .into_iter()
            .map(|e| match e {
                Ok(Event::Apply(o)) => format!("apply {}", o.meta().generation.unwrap_or(0)),
                Ok(Event::InitApply(o)) => format!("init {}", o.meta().generation.unwrap_or(0)),
                Ok(Event::Delete(_)) => "delete".into(),
                Ok(Event::Init) => "init".into(),
                Ok(Event::InitDone) => "done".into(),
                Err(_) => "error".into(),
            })
            .collect()
    }

    #[test]
    fn a_status_write_is_dropped_and_a_spec_change_passes() {
        let first = object();
        let mut status_only = object();
        status_only.status = Some(Default::default());
        let mut spec_change = object();
        spec_change.metadata.generation = Some(2);
        let passed = names(vec![
            Ok(Event::Apply(first)),
            Ok(Event::Apply(status_only)),
            Ok(Event::Apply(spec_change)),
        ]);
        assert_eq!(passed, vec!["apply 1", "apply 2"]);
    }

    #[test]
    fn a_settled_object_is_first_held_back_then_its_changes_pass() {
        let settled = crate::controller::engine::settled::tests::settled_vault();
        let mut changed = settled.clone();
        changed.metadata.generation = Some(2);
        let passed = names(vec![
            Ok(Event::Init),
            Ok(Event::InitApply(settled.clone())),
            Ok(Event::InitDone),
            Ok(Event::Apply(settled)),
            Ok(Event::Apply(changed)),
        ]);
        assert_eq!(passed, vec!["init", "done", "apply 2"]);
    }

    #[test]
    fn a_relist_passes_only_what_changed_and_a_delete_forgets() {
        let passed = names(vec![
            Ok(Event::Apply(object())),
            Ok(Event::Init),
            Ok(Event::InitApply(object())),
            Ok(Event::InitDone),
            Ok(Event::Delete(object())),
            Ok(Event::Apply(object())),
        ]);
        assert_eq!(passed, vec!["apply 1", "init", "done", "delete", "apply 1"]);
    }
}
