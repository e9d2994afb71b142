//! Where the operator's bytes go, counted rather than guessed: the bench
//! process builds what the operator keeps per object — the slimmed object
//! in a reflector store, and the controller's reference to it — from the
//! very objects the API server holds after converging, and counts the heap
//! bytes each takes with a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use coffer::controller::caches::slim_managed;
use coffer::controller::engine::Managed;
use kube::api::{Api, ListParams};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::watcher;
use serde_json::json;

/// The system allocator, counting the bytes live.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Bytes per object of kind `K` in `namespace`: in a store as the operator
/// keeps it, and as the controller's queue refers to it. Also the size of
/// one object as JSON, for scale.
pub async fn of<K: Managed>(api: Api<K>) -> serde_json::Value {
    let mut objects = Vec::new();
    let mut params = ListParams::default().limit(2000);
    loop {
        let page = api.list(&params).await.expect("listing for the census");
        objects.extend(page.items);
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    let n = objects.len().max(1) as f64;
    let json_bytes: usize = objects
        .iter()
        .map(|o| serde_json::to_vec(o).map_or(0, |v| v.len()))
        .sum();

    let before = live();
    let (store, mut writer) = reflector::store::<K>();
    for obj in &objects {
        let mut obj = obj.clone();
        slim_managed(&mut obj);
        writer.apply_watcher_event(&watcher::Event::Apply(obj));
    }
    let in_store = live() - before;

    let before = live();
    let refs: Vec<ObjectRef<K>> = objects.iter().map(ObjectRef::from_obj).collect();
    let in_refs = live() - before;
    drop((refs, store));

    json!({
        "kind": K::KIND,
        "objects": objects.len(),
        "json_bytes_per_object": json_bytes as f64 / n,
        "store_bytes_per_object": in_store as f64 / n,
        "object_ref_bytes_per_object": in_refs as f64 / n,
    })
}
