//! The line of objects waiting for a session's slot, first come first
//! served, with every operation in constant time (amortised).
//!
//! At 100,000 objects a session's line holds tens of thousands, and every
//! refused reconcile asks where its object stands. A search of the line
//! per refusal made that quadratic: the bench's 90,000 vaults stalled at
//! 0.3 reconciles a second. Here an object's place is a ticket: leaving
//! only forgets the ticket, and the stale entry is dropped when the front
//! reaches it or when stale entries outnumber the live ones.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Waiting objects of type `T`, in the order they joined.
#[derive(Debug)]
pub struct Line<T> {
    /// Tickets in the order given; a ticket is live while `tickets` maps
    /// its object to it.
    order: VecDeque<(T, u64)>,
    tickets: HashMap<T, u64>,
    next_ticket: u64,
}

impl<T> Default for Line<T> {
    fn default() -> Self {
        Self {
            order: VecDeque::new(),
            tickets: HashMap::new(),
            next_ticket: 0,
        }
    }
}

impl<T: Clone + Eq + Hash> Line<T> {
    /// Puts `object` at the end, unless it already waits (it keeps its place).
    pub fn join(&mut self, object: T) {
        if self.tickets.contains_key(&object) {
            return;
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.tickets.insert(object.clone(), ticket);
        self.order.push_back((object, ticket));
    }

    /// Takes the first waiting object out of the line.
    pub fn next(&mut self) -> Option<T> {
        self.drop_stale_front();
        let (object, _) = self.order.pop_front()?;
        self.tickets.remove(&object);
        Some(object)
    }

    /// Whether `object` waits among the first `first` of the line.
    pub fn among_first(&mut self, object: &T, first: usize) -> bool {
        let Some(ticket) = self.tickets.get(object).copied() else {
            return false;
        };
        if first == 0 {
            return false;
        }
        self.drop_stale_front();
        self.order
            .iter()
            .filter(|entry| self.is_live(entry))
            .take(first)
            .any(|(_, t)| *t == ticket)
    }

    /// Takes `object` out of the line, wherever it waits.
    pub fn leave(&mut self, object: &T) {
        if self.tickets.remove(object).is_some() {
            self.compact_if_mostly_stale();
        }
    }

    /// How many wait.
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }

    fn is_live(&self, (object, ticket): &(T, u64)) -> bool {
        self.tickets.get(object) == Some(ticket)
    }

    fn drop_stale_front(&mut self) {
        while let Some(front) = self.order.front() {
            if self.is_live(front) {
                break;
            }
            self.order.pop_front();
        }
    }

    /// Keeps stale entries below the live ones (plus a little), so a scan
    /// of the first few live entries never wades through many dead ones
    /// and the memory stays in proportion to who waits.
    fn compact_if_mostly_stale(&mut self) {
        if self.order.len() > 2 * self.tickets.len() + 64 {
            let tickets = &self.tickets;
            self.order.retain(|(o, t)| tickets.get(o) == Some(t));
        }
    }

    #[cfg(test)]
    fn entries(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_leave_in_the_order_they_joined_and_join_once() {
        let mut line = Line::default();
        for o in ["a", "b", "a", "c"] {
            line.join(o);
        }
        assert_eq!(line.len(), 3);
        assert_eq!(line.next(), Some("a"));
        assert_eq!(line.next(), Some("b"));
        assert_eq!(line.next(), Some("c"));
        assert_eq!(line.next(), None);
        assert!(line.is_empty());
    }

    #[test]
    fn one_who_left_and_joined_again_waits_at_the_end() {
        let mut line = Line::default();
        for o in ["a", "b", "c"] {
            line.join(o);
        }
        line.leave(&"a");
        line.join("a");
        assert_eq!(line.len(), 3);
        assert_eq!(line.next(), Some("b"));
        assert_eq!(line.next(), Some("c"));
        assert_eq!(line.next(), Some("a"));
        assert_eq!(line.next(), None, "the stale entry of a is not handed out");
    }

    #[test]
    fn among_first_counts_only_those_still_waiting() {
        let mut line = Line::default();
        for o in ["a", "b", "c", "d"] {
            line.join(o);
        }
        assert!(line.among_first(&"b", 2));
        assert!(!line.among_first(&"c", 2));
        line.leave(&"b");
        assert!(!line.among_first(&"b", 2), "b no longer waits");
        assert!(line.among_first(&"c", 2), "c moved up when b left");
        assert!(!line.among_first(&"a", 0));
        assert!(!line.among_first(&"z", 4), "z never waited");
    }

    #[test]
    fn stale_entries_stay_below_the_live_ones() {
        let mut line = Line::default();
        for i in 0..1_000 {
            line.join(i);
        }
        for i in 0..990 {
            line.leave(&i);
        }
        assert_eq!(line.len(), 10);
        assert!(line.entries() <= 2 * 10 + 64 + 1, "{}", line.entries());
        assert_eq!(line.next(), Some(990));
    }

    #[test]
    fn a_line_is_compacted_only_once_stale_entries_pass_twice_the_live_plus_64() {
        // The slack keeps leaving cheap: compacting at every leave would
        // cost the whole line each time someone leaves a short line.
        let mut line = Line::default();
        for i in 0..64 {
            line.join(i);
        }
        for i in 0..64 {
            line.leave(&i);
        }
        assert_eq!(line.entries(), 64, "64 stale entries are within the slack");
        line.join(64);
        line.leave(&64);
        assert_eq!(line.entries(), 0, "the 65th is past it");
    }

    #[test]
    fn a_line_is_empty_only_while_no_one_waits() {
        let mut line = Line::default();
        assert!(line.is_empty());
        line.join("a");
        assert!(!line.is_empty());
        line.leave(&"a");
        assert!(line.is_empty(), "a stale entry is no one waiting");
    }
}
