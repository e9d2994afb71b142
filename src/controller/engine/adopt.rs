//! Whether an object coffer holds no id for is already in the cloud, and if
//! so whether it is coffer's to take: the rules that keep a lost create
//! answer from becoming a duplicate, and a stranger's object from being
//! taken over by accident. Pure: candidates in, a decision out.

use super::error::Error;
use super::external::{Candidate, Lookup};

/// What to do when the object has no (live) id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision<O> {
    /// coffer's own object: by its ownership tag, or by name where the
    /// create-pending marker shows coffer created it.
    Adopt(O),
    /// Observing only: an existing object found by a name only it has.
    Import(O),
    /// Nothing is there and creating cannot make a duplicate.
    Create,
    /// Observing only, and nothing to observe.
    NotFound,
}

/// What is known when deciding.
pub struct Facts<'a> {
    pub lookup: Lookup,
    pub observe_only: bool,
    pub noun: &'static str,
    pub name: &'a str,
    /// `status.createPending.since`, when a create was started and not recorded.
    pub pending_since: Option<&'a str>,
    /// `coffer.dev/retry-create`: the user allows a create past that marker.
    pub retry_create: Option<&'a str>,
}

/// Decides from `candidates` (empty when the cloud cannot be searched).
pub fn decide<O>(
    facts: &Facts<'_>,
    candidates: Vec<Candidate<O>>,
    id_of: impl Fn(&O) -> String,
) -> Result<Decision<O>, Error> {
    let (mut owned, mut named): (Vec<_>, Vec<_>) = candidates.into_iter().partition(|c| c.owned);
    if owned.len() > 1 {
        return Err(Error::AmbiguousAdoption {
            noun: facts.noun,
            name: facts.name.to_string(),
            ids: owned.iter().map(|c| id_of(&c.observed)).collect(),
        });
    }
    if let Some(mine) = owned.pop() {
        return Ok(Decision::Adopt(mine.observed));
    }
    if facts.observe_only {
        return Ok(match named.len() {
            1 => Decision::Import(named.remove(0).observed),
            _ => Decision::NotFound,
        });
    }
    let pending = facts.pending_since.is_some();
    if facts.lookup == Lookup::UniqueName
        && let Some(found) = named.pop()
    {
        if pending {
            return Ok(Decision::Adopt(found.observed));
        }
        return Err(Error::AdoptionRefused {
            noun: facts.noun,
            name: facts.name.to_string(),
            id: id_of(&found.observed),
        });
    }
    match facts.pending_since {
        Some(since) if facts.lookup == Lookup::None && facts.retry_create != Some(since) => {
            Err(Error::CreateOutcomeUnknown {
                noun: facts.noun,
                since: since.to_string(),
            })
        }
        _ => Ok(Decision::Create),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(lookup: Lookup) -> Facts<'static> {
        Facts {
            lookup,
            observe_only: false,
            noun: "vault",
            name: "team-a",
            pending_since: None,
            retry_create: None,
        }
    }

    fn owned(id: &str) -> Candidate<String> {
        Candidate {
            observed: id.to_string(),
            owned: true,
        }
    }

    fn stranger(id: &str) -> Candidate<String> {
        Candidate {
            observed: id.to_string(),
            owned: false,
        }
    }

    fn run(f: &Facts<'_>, c: Vec<Candidate<String>>) -> Result<Decision<String>, Error> {
        decide(f, c, Clone::clone)
    }

    #[test]
    fn the_tagged_object_is_adopted_and_strangers_are_ignored() {
        let got = run(
            &facts(Lookup::OwnershipTag),
            vec![stranger("a"), owned("b")],
        );
        assert_eq!(got.ok(), Some(Decision::Adopt("b".into())));
        let none = run(&facts(Lookup::OwnershipTag), vec![stranger("a")]);
        assert_eq!(none.ok(), Some(Decision::Create));
    }

    #[test]
    fn two_tagged_objects_are_ambiguous() {
        let err =
            run(&facts(Lookup::OwnershipTag), vec![owned("a"), owned("b")]).expect_err("ambiguous");
        assert!(matches!(err, Error::AmbiguousAdoption { ids, .. } if ids == ["a", "b"]));
    }

    #[test]
    fn a_unique_name_is_adopted_only_behind_the_pending_marker() {
        let refused = run(&facts(Lookup::UniqueName), vec![stranger("x")]).expect_err("refused");
        assert_eq!(refused.reason(), "AlreadyExists");
        assert!(
            refused.to_string().contains("coffer.dev/external-id=x"),
            "{refused}"
        );
        let mut mine = facts(Lookup::UniqueName);
        mine.pending_since = Some("t0");
        assert_eq!(
            run(&mine, vec![stranger("x")]).ok(),
            Some(Decision::Adopt("x".into()))
        );
    }

    #[test]
    fn observe_only_imports_a_unique_name_and_never_creates() {
        let mut f = facts(Lookup::OwnershipTag);
        f.observe_only = true;
        assert_eq!(
            run(&f, vec![stranger("x")]).ok(),
            Some(Decision::Import("x".into()))
        );
        assert_eq!(
            run(&f, vec![stranger("x"), stranger("y")]).ok(),
            Some(Decision::NotFound)
        );
        assert_eq!(run(&f, vec![]).ok(), Some(Decision::NotFound));
    }

    #[test]
    fn an_unsearchable_pending_create_stops_until_the_user_decides() {
        let mut f = facts(Lookup::None);
        f.pending_since = Some("t0");
        let err = run(&f, vec![]).expect_err("unknown outcome");
        assert_eq!(err.reason(), "CreateOutcomeUnknown");
        f.retry_create = Some("t-old");
        assert!(run(&f, vec![]).is_err(), "a retry for another marker");
        f.retry_create = Some("t0");
        assert_eq!(run(&f, vec![]).ok(), Some(Decision::Create));
    }

    #[test]
    fn a_searchable_pending_create_with_nothing_found_creates() {
        let mut f = facts(Lookup::UniqueName);
        f.pending_since = Some("t0");
        assert_eq!(run(&f, vec![]).ok(), Some(Decision::Create));
    }
}
