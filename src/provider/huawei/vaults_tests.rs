//! The CBR vault client: listings, pages and their caps.

use super::*;

fn wire(id: &str, name: &str) -> WireVault {
    WireVault {
        id: id.into(),
        name: Some(name.into()),
        ..Default::default()
    }
}

fn page(vaults: Vec<WireVault>, count: Option<i64>) -> VaultPage {
    VaultPage { vaults, count }
}

#[test]
fn paging_stops_when_the_total_is_reached() {
    assert_eq!(next_offset(0, 1000, Some(2500)), Some(1000));
    assert_eq!(next_offset(2000, 500, Some(2500)), None);
}

#[test]
fn paging_follows_short_pages_while_the_total_says_more() {
    // A server that caps pages at 100 must not end the listing early.
    assert_eq!(next_offset(0, 100, Some(250)), Some(100));
}

#[test]
fn paging_without_a_total_ends_on_an_empty_page() {
    assert_eq!(next_offset(0, 3, None), Some(3));
    assert_eq!(next_offset(3, 0, None), None);
}

#[tokio::test]
async fn collect_pages_walks_every_page_in_order() {
    let pages = [
        page(vec![wire("a", "x"), wire("b", "x-1")], Some(3)),
        page(vec![wire("c", "x")], Some(3)),
    ];
    let mut asked = Vec::new();
    let all = collect_pages(|offset| {
        asked.push(offset);
        let p = pages[asked.len() - 1].clone();
        async move { Ok((p, 100)) }
    })
    .await
    .expect("lists");
    assert_eq!(asked, vec![0, 2]);
    let ids: Vec<_> = all.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "b", "c"]);
}

#[tokio::test]
async fn collect_pages_gives_up_on_a_listing_that_never_ends() {
    let err = collect_pages(|_| async { Ok((page(vec![wire("a", "x")], None), 100)) })
        .await
        .expect_err("stops");
    assert!(matches!(err, ProviderError::Transient { .. }));
}

#[tokio::test]
async fn collect_pages_stops_at_the_list_cap_and_names_it() {
    let cap = ListCap {
        items: 25,
        bytes: 1 << 20,
    };
    let mut asked = 0;
    let full = || page((0..10).map(|i| wire(&i.to_string(), "x")).collect(), None);
    let err = collect_pages_within(cap, |_| {
        asked += 1;
        let p = full();
        async move { Ok((p, 1000)) }
    })
    .await
    .expect_err("stops at the cap");
    assert_eq!(asked, 3, "pages read past the cap");
    assert!(err.to_string().contains("25 items"), "{err}");
    let bytes = ListCap {
        items: 1000,
        bytes: 2500,
    };
    let err = collect_pages_within(bytes, |_| async move { Ok((full(), 1000)) })
        .await
        .expect_err("stops at the byte cap");
    assert!(err.to_string().contains("2500 bytes"), "{err}");
}

#[tokio::test]
async fn collect_pages_passes_errors_through() {
    let err = collect_pages(|_| async {
        Err(ProviderError::Unauthorized {
            code: "APIGW.0301".into(),
            message: "no".into(),
        })
    })
    .await
    .expect_err("fails");
    assert!(matches!(err, ProviderError::Unauthorized { .. }));
}

#[test]
fn find_keeps_only_exact_names_once_each() {
    let vaults = vec![
        wire("a", "team-a"),
        wire("b", "team-a-2"),
        wire("c", "Team-A"),
        wire("d", "team-a"),
        wire("a", "team-a"),
    ];
    let ids: Vec<_> = exact_name_matches(vaults, "team-a")
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(ids, vec!["a", "d"]);
}

#[test]
fn ids_that_would_address_another_path_are_refused() {
    for bad in ["", " ", ".", ".."] {
        assert!(
            matches!(checked_id(bad), Err(ProviderError::Invalid { .. })),
            "{bad:?}"
        );
    }
    assert_eq!(checked_id("2402058d-8373").ok(), Some("2402058d-8373"));
}

#[test]
fn new_accepts_a_local_emulator_endpoint() {
    let conn = HuaweiConnection {
        region: "local-1".into(),
        project_id: "0123456789abcdef0123456789abcdef".into(),
        domain_id: None,
        iam_endpoint: "http://127.0.0.1:18080".into(),
        cbr_endpoint: "http://127.0.0.1:18080".into(),
        ca_bundle: None,
        credentials: super::super::auth::HuaweiCredentials::AccessKey {
            access_key: "AK".into(),
            secret_key: "SK".into(),
        },
    };
    let vaults = HuaweiVaults::new(conn, Arc::new(ProviderMetrics::new())).expect("builds");
    assert!(!format!("{vaults:?}").contains("\"SK\""));
}
