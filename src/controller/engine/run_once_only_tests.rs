//! A once-only call (a POST the provider does not deduplicate): its
//! `callPending` marker is written before it, and lifted only by an answer
//! that proves what became of the call.

use super::*;
use crate::controller::engine::fixtures::answering_context;

fn posting(refuse: Option<ProviderError>) -> Toy {
    Toy {
        calls: vec!["post"],
        once: Some("post"),
        refuse,
        ..Toy::with("available")
    }
}

#[tokio::test]
async fn a_once_only_call_made_is_recorded_at_once() {
    let obj = recorded(true);
    let (ctx, sent) = answering_context(&obj);
    let toy = posting(None);
    let (ended, progress, _) =
        pass_in(&ctx, &toy, &obj, Policy::default(), Read::Direct, |_| {}).await;
    done(ended);
    assert_eq!(toy.made(), ["post"]);
    assert_eq!(progress.call_pending, None);
    let status_writes = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.starts_with("PATCH") && r.ends_with("/status"))
        .count();
    assert_eq!(status_writes, 2, "the marker, then the call's record");
}

#[tokio::test]
async fn a_once_only_call_refused_outright_lifts_its_marker_and_one_in_doubt_keeps_it() {
    let refused = ProviderError::Invalid {
        code: "BackupService.6101".into(),
        message: "bad size".into(),
    };
    let in_doubt = ProviderError::Transient {
        message: "502 Bad Gateway".into(),
    };
    for (refusal, kept) in [(refused, false), (in_doubt, true)] {
        let obj = recorded(true);
        let (ctx, _) = answering_context(&obj);
        let toy = posting(Some(refusal.clone()));
        let (ended, progress, _) =
            pass_in(&ctx, &toy, &obj, Policy::default(), Read::Direct, |_| {}).await;
        assert!(ended.is_err(), "{refusal}");
        assert_eq!(toy.made(), ["post"]);
        assert_eq!(progress.call_pending.is_some(), kept, "{refusal}");
    }
}
