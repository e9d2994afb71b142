//! The line of a session whose share is taken: a slot kept for the woken
//! object is nobody else's, passes on when it is not claimed in time, and
//! a session is forgotten only when nothing runs, is kept or waits.

use super::*;

const KIND: &str = "BackupVault";

fn session() -> SessionKey {
    SessionKey::namespaced("team-a", "slow")
}

fn take<'a>(slots: &'a Slots, object: &str) -> Option<Slot<'a>> {
    slots.take(KIND, session(), "team-a", object)
}

fn key() -> Key {
    (KIND, session(), None)
}

fn object(name: &str) -> Object {
    ("team-a".to_string(), name.to_string())
}

/// Slots of `share` whose wakes are written down.
fn woken_slots(share: usize) -> (Slots, Arc<Mutex<Vec<String>>>) {
    let woken = Arc::new(Mutex::new(Vec::new()));
    let seen = woken.clone();
    let wake: Wake = Arc::new(move |_: &str, name: &str| {
        seen.lock().unwrap().push(name.to_string());
    });
    (Slots::new(share).wake(KIND, wake), woken)
}

#[test]
fn a_slot_kept_for_a_woken_object_is_not_taken_by_a_newcomer() {
    let slots = Slots::new(2);
    let first = take(&slots, "a");
    let _second = take(&slots, "b");
    assert!(take(&slots, "c").is_none());
    drop(first);
    assert!(take(&slots, "newcomer").is_none(), "the slot is c's");
    let claimed = take(&slots, "c");
    assert!(claimed.is_some());
    assert_eq!(slots.held(KIND, &session(), "team-a"), 2);
}

#[test]
fn a_session_that_still_runs_is_not_forgotten() {
    let slots = Slots::new(2);
    let first = take(&slots, "a");
    let _second = take(&slots, "b");
    drop(first);
    assert_eq!(slots.held(KIND, &session(), "team-a"), 1);
    let _third = take(&slots, "c");
    assert!(take(&slots, "d").is_none(), "b and c hold the share");
}

#[test]
fn a_kept_slot_not_claimed_in_time_passes_to_the_next_in_line() {
    let (slots, woken) = woken_slots(1);
    let running = take(&slots, "hot");
    assert!(take(&slots, "first").is_none());
    assert!(take(&slots, "second").is_none());
    drop(running);
    let now = Instant::now();
    let mut state = slots.state.lock().unwrap();
    assert!(state.expire(&key(), now).is_empty(), "still first's");
    assert_eq!(state.kept[&key()].len(), 1);
    let later = now + KEEP + Duration::from_secs(1);
    assert_eq!(state.expire(&key(), later), [object("second")]);
    let kept = &state.kept[&key()];
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].0, object("second"));
    assert!(kept[0].1 > later, "kept for second from now on");
    drop(state);
    assert_eq!(*woken.lock().unwrap(), ["first"]);
}

#[test]
fn a_kept_slot_passes_on_at_the_instant_its_keep_ends_and_is_kept_once() {
    // Were it both passed on and still kept at that instant, one freed
    // slot would be kept for two objects, past the session's share.
    let slots = Slots::new(1);
    let running = take(&slots, "hot");
    assert!(take(&slots, "first").is_none());
    assert!(take(&slots, "second").is_none());
    drop(running);
    let mut state = slots.state.lock().unwrap();
    let until = state.kept[&key()][0].1;
    assert_eq!(state.expire(&key(), until), [object("second")]);
    let kept: Vec<&Object> = state.kept[&key()].iter().map(|(o, _)| o).collect();
    assert_eq!(kept, [&object("second")]);
}

#[test]
fn a_slot_given_back_is_kept_for_the_whole_keep() {
    let slots = Slots::new(1);
    let running = take(&slots, "hot");
    assert!(take(&slots, "first").is_none());
    drop(running);
    let state = slots.state.lock().unwrap();
    let (who, until) = &state.kept[&key()][0];
    assert_eq!(*who, object("first"));
    assert!(*until > Instant::now() + KEEP - Duration::from_secs(1));
}

#[test]
fn a_gone_object_leaves_only_its_own_kinds_lines() {
    let (slots, woken) = woken_slots(1);
    let running = take(&slots, "hot");
    assert!(take(&slots, "patient").is_none());
    slots.forget("Agency", "team-a", "patient");
    drop(running);
    assert_eq!(*woken.lock().unwrap(), ["patient"]);
}

#[test]
fn an_object_waits_behind_those_ahead_of_it() {
    let slots = Slots::new(1);
    let running = take(&slots, "hot");
    assert!(take(&slots, "first").is_none());
    assert!(take(&slots, "second").is_none());
    assert!(take(&slots, "second").is_none(), "one ahead, none free");
    let mut state = slots.state.lock().unwrap();
    let line = state.waiting.get_mut(&key()).unwrap();
    assert!(line.among_first(&object("first"), 1));
    assert!(!line.among_first(&object("second"), 1));
    assert!(line.among_first(&object("second"), 2));
    assert!(!line.among_first(&object("hot"), 2));
    drop(state);
    drop(running);
}

#[test]
fn a_slot_kept_for_an_object_deleted_while_it_waited_passes_on() {
    let (slots, woken) = woken_slots(1);
    let running = take(&slots, "hot");
    assert!(take(&slots, "deleted").is_none());
    assert!(take(&slots, "next").is_none());
    drop(running);
    assert_eq!(*woken.lock().unwrap(), ["deleted"]);
    slots.forget(KIND, "team-a", "deleted");
    assert_eq!(*woken.lock().unwrap(), ["deleted", "next"]);
    assert!(take(&slots, "next").is_some(), "the slot is kept for next");
}

#[test]
fn a_kept_slot_not_claimed_in_time_passes_on_when_another_slot_is_given_back() {
    // Refused objects wait for their wake and ask for nothing meanwhile,
    // so expiry cannot wait for someone to ask.
    let (slots, woken) = woken_slots(2);
    let first = take(&slots, "a");
    let second = take(&slots, "b");
    for name in ["slow-to-claim", "next", "last"] {
        assert!(take(&slots, name).is_none());
    }
    drop(first);
    {
        let mut state = slots.state.lock().unwrap();
        state.kept.get_mut(&key()).unwrap()[0].1 = Instant::now();
    }
    drop(second);
    assert_eq!(*woken.lock().unwrap(), ["slow-to-claim", "next", "last"]);
}

#[test]
fn sessions_are_labelled_so_that_the_two_kinds_never_meet() {
    assert_eq!(session().label(), "team-a/slow");
    let cluster_wide = SessionKey::ClusterWide {
        name: "shared".into(),
    };
    assert_eq!(cluster_wide.label(), "ClusterProviderConfig/shared");
    assert_eq!(format!("{:?}", Slots::new(3)), "Slots { share: 3 }");
}
