//! Watching several namespaces into one cache: one watch per namespace, so
//! that coffer needs rights in those namespaces only (`--watch-namespaces`),
//! merged into the one event stream a reflector and a controller take.
//!
//! A reflector's store is replaced whole when a list ends (`InitDone`), so
//! the lists of several watches cannot simply be interleaved: the second
//! namespace's list would drop the first's objects. Here the first lists of
//! all namespaces make one list, which ends when the last of them does; a
//! later relist of one namespace (after its watch fell behind) is passed on
//! as changes of that namespace alone: each object listed as applied, and
//! the objects of that namespace the cache holds and the list did not name
//! as deleted. Nothing of a namespace is kept here between its relists:
//! the cache itself says what the namespace held.

use std::collections::HashSet;

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use kube::Resource;
use kube::runtime::reflector::Store;
use kube::runtime::watcher::{Error, Event};

/// One namespace's watch, or every namespace's when `None`.
pub type WatchOne<'a, K> = dyn Fn(Option<&str>) -> BoxStream<'static, Result<Event<K>, Error>> + 'a;

/// The events of `namespaces` (every namespace when empty) as one stream for
/// the reflector that fills `store`, each namespace watched by `watch`.
pub fn watch_each<K>(
    namespaces: &[String],
    store: Store<K>,
    watch: &WatchOne<'_, K>,
) -> BoxStream<'static, Result<Event<K>, Error>>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    match namespaces {
        [] => watch(None),
        [one] => watch(Some(one)),
        many => {
            let streams = many.iter().map(|ns| watch(Some(ns)));
            merge(many.to_vec(), streams, store).boxed()
        }
    }
}

/// The watches `streams` of `namespaces` (in the same order) as one stream.
fn merge<K>(
    namespaces: Vec<String>,
    streams: impl Iterator<Item = BoxStream<'static, Result<Event<K>, Error>>>,
    store: Store<K>,
) -> impl Stream<Item = Result<Event<K>, Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    let tagged = streams
        .enumerate()
        .map(|(i, s)| s.map(move |event| (i, event)).boxed());
    let mut lists = Lists::new(namespaces, store);
    stream::select_all(tagged).flat_map(move |(i, event)| stream::iter(lists.on(i, event)))
}

/// Where each namespace's lists stand.
struct Lists<K: Resource<DynamicType = ()> + Clone + 'static> {
    namespaces: Vec<String>,
    store: Store<K>,
    /// Whether the combined first list has begun.
    started: bool,
    /// Whether each namespace's first list has ended.
    listed: Vec<bool>,
    /// The names each namespace's relist under way has named so far.
    relisting: Vec<Option<HashSet<String>>>,
    /// Objects deleted in a namespace already listed while another still
    /// lists: played as deletions once the one list has ended.
    deleted_while_listing: Vec<K>,
}

impl<K: Resource<DynamicType = ()> + Clone + 'static> Lists<K> {
    fn new(namespaces: Vec<String>, store: Store<K>) -> Self {
        let n = namespaces.len();
        Self {
            namespaces,
            store,
            started: false,
            listed: vec![false; n],
            relisting: vec![None; n],
            deleted_while_listing: Vec::new(),
        }
    }

    /// Until every namespace has been listed once, their lists are one.
    fn first_list_open(&self) -> bool {
        self.listed.iter().any(|done| !done)
    }

    /// What namespace `i`'s `event` becomes in the merged stream.
    fn on(&mut self, i: usize, event: Result<Event<K>, Error>) -> Vec<Result<Event<K>, Error>> {
        let event = match event {
            Ok(event) => event,
            Err(e) => return vec![Err(e)],
        };
        let first_list_open = self.first_list_open();
        match event {
            Event::Init if first_list_open => {
                // A namespace that lists again before every first list has
                // ended only adds to the one list (the reflector's buffer).
                let first = !self.started;
                self.started = true;
                first.then_some(Ok(Event::Init)).into_iter().collect()
            }
            Event::Init => {
                self.relisting[i] = Some(HashSet::new());
                Vec::new()
            }
            Event::InitApply(obj) => match self.relisting[i].as_mut() {
                Some(seen) if !first_list_open => {
                    seen.insert(obj.meta().name.clone().unwrap_or_default());
                    vec![Ok(Event::Apply(obj))]
                }
                _ => vec![Ok(Event::InitApply(obj))],
            },
            Event::InitDone if !self.listed[i] => {
                self.listed[i] = true;
                if self.first_list_open() {
                    return Vec::new();
                }
                let deleted = std::mem::take(&mut self.deleted_while_listing);
                std::iter::once(Ok(Event::InitDone))
                    .chain(deleted.into_iter().map(|obj| Ok(Event::Delete(obj))))
                    .collect()
            }
            // A change in a namespace already listed while another still
            // lists. The reflector is filling its buffer, which replaces the
            // store when the one list ends: a change written to the store
            // now would be lost then (a Secret created at start-up missing
            // until the next relist). So it joins the buffer, and a
            // deletion waits until the list has ended.
            Event::Apply(obj) if first_list_open => {
                self.deleted_while_listing
                    .retain(|gone| !same_object(gone, &obj));
                vec![Ok(Event::InitApply(obj))]
            }
            Event::Delete(obj) if first_list_open => {
                self.deleted_while_listing.push(obj);
                Vec::new()
            }
            Event::InitDone => match self.relisting[i].take() {
                Some(seen) if !first_list_open => self.gone(i, &seen),
                _ => Vec::new(),
            },
            other => vec![Ok(other)],
        }
    }

    /// Deletions of the objects of namespace `i` the cache holds and its
    /// relist did not name.
    fn gone(&self, i: usize, seen: &HashSet<String>) -> Vec<Result<Event<K>, Error>> {
        let namespace = self.namespaces[i].as_str();
        self.store
            .state()
            .iter()
            .filter(|obj| obj.meta().namespace.as_deref() == Some(namespace))
            .filter(|obj| !seen.contains(obj.meta().name.as_deref().unwrap_or_default()))
            .map(|obj| Ok(Event::Delete(obj.as_ref().clone())))
            .collect()
    }
}

fn same_object<K: Resource>(a: &K, b: &K) -> bool {
    a.meta().namespace == b.meta().namespace && a.meta().name == b.meta().name
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Secret;
    use kube::runtime::reflector;
    use kube::runtime::reflector::store::Writer;

    use super::*;

    fn secret(namespace: &str, name: &str) -> Secret {
        let mut s = Secret::default();
        s.metadata.namespace = Some(namespace.into());
        s.metadata.name = Some(name.into());
        s
    }

    fn names(store: &Store<Secret>) -> Vec<String> {
        let mut names: Vec<String> = store
            .state()
            .iter()
            .map(|s| {
                format!(
                    "{}/{}",
                    s.metadata.namespace.as_deref().unwrap_or_default(),
                    s.metadata.name.as_deref().unwrap_or_default()
                )
            })
            .collect();
        names.sort();
        names
    }

    /// Feeds namespace `i`'s `events` through `lists` into `writer`.
    fn feed(
        lists: &mut Lists<Secret>,
        writer: &mut Writer<Secret>,
        i: usize,
        events: Vec<Event<Secret>>,
    ) {
        for event in events {
            for merged in lists.on(i, Ok(event)) {
                writer.apply_watcher_event(&merged.expect("no error"));
            }
        }
    }

    fn list(namespace: &str, names: &[&str]) -> Vec<Event<Secret>> {
        let mut events = vec![Event::Init];
        events.extend(names.iter().map(|n| Event::InitApply(secret(namespace, n))));
        events.push(Event::InitDone);
        events
    }

    #[test]
    fn the_first_lists_of_every_namespace_fill_one_cache() {
        let (store, mut writer) = reflector::store::<Secret>();
        let mut lists = Lists::new(vec!["a".into(), "b".into()], store.clone());
        feed(&mut lists, &mut writer, 0, list("a", &["one", "two"]));
        assert!(
            names(&store).is_empty(),
            "ready before namespace b was listed"
        );
        feed(&mut lists, &mut writer, 1, list("b", &["three"]));
        assert_eq!(names(&store), ["a/one", "a/two", "b/three"]);
    }

    #[test]
    fn a_relist_of_one_namespace_leaves_the_others_alone() {
        let (store, mut writer) = reflector::store::<Secret>();
        let mut lists = Lists::new(vec!["a".into(), "b".into()], store.clone());
        feed(&mut lists, &mut writer, 0, list("a", &["one", "two"]));
        feed(&mut lists, &mut writer, 1, list("b", &["three"]));
        // Namespace a's watch fell behind; "two" went while it was away.
        feed(&mut lists, &mut writer, 0, list("a", &["one", "four"]));
        assert_eq!(names(&store), ["a/four", "a/one", "b/three"]);
    }

    #[test]
    fn a_change_in_a_listed_namespace_while_another_lists_is_kept() {
        let (store, mut writer) = reflector::store::<Secret>();
        let mut lists = Lists::new(vec!["a".into(), "b".into()], store.clone());
        feed(&mut lists, &mut writer, 0, list("a", &["one", "two"]));
        // Namespace b is still listing: a Secret is created in a, another deleted.
        let mut b = list("b", &["three"]);
        let b_done = b.split_off(2);
        feed(&mut lists, &mut writer, 1, b);
        feed(
            &mut lists,
            &mut writer,
            0,
            vec![
                Event::Apply(secret("a", "new")),
                Event::Delete(secret("a", "two")),
            ],
        );
        feed(&mut lists, &mut writer, 1, b_done);
        assert_eq!(names(&store), ["a/new", "a/one", "b/three"]);
    }

    #[test]
    fn an_object_deleted_and_made_again_while_listing_stays() {
        let (store, mut writer) = reflector::store::<Secret>();
        let mut lists = Lists::new(vec!["a".into(), "b".into()], store.clone());
        feed(&mut lists, &mut writer, 0, list("a", &["one"]));
        feed(
            &mut lists,
            &mut writer,
            0,
            vec![
                Event::Delete(secret("a", "one")),
                Event::Apply(secret("a", "one")),
            ],
        );
        feed(&mut lists, &mut writer, 1, list("b", &[]));
        assert_eq!(names(&store), ["a/one"]);
    }

    #[test]
    fn changes_pass_through() {
        let (store, mut writer) = reflector::store::<Secret>();
        let mut lists = Lists::new(vec!["a".into(), "b".into()], store.clone());
        feed(&mut lists, &mut writer, 0, list("a", &["one"]));
        feed(&mut lists, &mut writer, 1, list("b", &[]));
        feed(
            &mut lists,
            &mut writer,
            1,
            vec![Event::Apply(secret("b", "new"))],
        );
        feed(
            &mut lists,
            &mut writer,
            0,
            vec![Event::Delete(secret("a", "one"))],
        );
        assert_eq!(names(&store), ["b/new"]);
    }
}
