use super::*;
use prometheus_client::encoding::text::encode;
use tokio::time::timeout;

const ACCOUNT: &str = "ns/account";
const SECOND: Duration = Duration::from_secs(1);

fn budget(qps: f64, burst: u32, max_in_flight: u32) -> RateBudget {
    let limits = BudgetLimits {
        qps,
        burst,
        max_in_flight,
    };
    RateBudget::new(ACCOUNT, limits, BudgetMetrics::default())
}

/// Starts `n` acquirers `spacing` apart, each dropping its permit at
/// once; returns when each one started, in arrival order.
async fn start_times(budget: Arc<RateBudget>, n: u32, spacing: Duration) -> Vec<Duration> {
    let t0 = Instant::now();
    let tasks = (0..n).map(|i| {
        let budget = Arc::clone(&budget);
        tokio::spawn(async move {
            sleep_until(t0 + spacing * i).await;
            let _permit = budget.acquire().await.expect("no fence");
            t0.elapsed()
        })
    });
    let finished = futures::future::join_all(tasks).await;
    finished
        .into_iter()
        .map(|t| t.expect("acquirer finished"))
        .collect()
}

/// The most starts in any closed window of length `width`.
fn most_starts_within(starts: &[Duration], width: Duration) -> usize {
    let mut sorted = starts.to_vec();
    sorted.sort();
    let in_window = |i: usize| sorted[i..].partition_point(|t| *t <= sorted[i] + width);
    (0..sorted.len()).map(in_window).max().unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn burst_passes_at_once_and_the_next_call_waits_one_interval() {
    let budget = budget(5.0, 3, 100);
    let t0 = Instant::now();
    for _ in 0..3 {
        let _permit = budget.acquire().await.expect("no fence");
        assert_eq!(t0.elapsed(), Duration::ZERO);
    }
    let _permit = budget.acquire().await.expect("no fence");
    assert_eq!(t0.elapsed(), Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn no_one_second_window_exceeds_rate_plus_burst() {
    let budget = Arc::new(budget(5.0, 5, 100));
    let starts = start_times(budget, 100, SECOND / 10).await;
    assert_eq!(most_starts_within(&starts, SECOND), 10);
    // 100 arrivals in 10 s against 5 qps: the budget really was the limit.
    assert!(starts[99] >= Duration::from_secs(19), "{:?}", starts[99]);
}

#[tokio::test(start_paused = true)]
async fn waiting_callers_start_in_arrival_order() {
    let budget = Arc::new(budget(2.0, 1, 100));
    let starts = start_times(budget, 20, Duration::from_millis(1)).await;
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
}

#[tokio::test(start_paused = true)]
async fn max_in_flight_blocks_until_a_permit_drops() {
    let budget = budget(1000.0, 10, 2);
    let first = budget.acquire().await.expect("no fence");
    let _second = budget.acquire().await.expect("no fence");
    assert!(timeout(SECOND, budget.acquire()).await.is_err());
    drop(first);
    let t0 = Instant::now();
    let _third = budget.acquire().await.expect("no fence");
    assert_eq!(t0.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn calls_freed_together_by_max_in_flight_keep_the_burst() {
    let budget = Arc::new(budget(5.0, 5, 10));
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(budget.acquire().await.expect("no fence"));
    }
    let release = tokio::spawn(async move {
        tokio::time::sleep(3 * SECOND).await;
        drop(held);
    });
    let starts = start_times(budget, 10, Duration::ZERO).await;
    release.await.expect("release finished");
    assert_eq!(most_starts_within(&starts, Duration::ZERO), 5);
}

#[tokio::test(start_paused = true)]
async fn hold_off_delays_every_caller() {
    let budget = Arc::new(budget(100.0, 10, 100));
    budget.hold_off(Duration::from_secs(3));
    let starts = start_times(budget, 5, Duration::ZERO).await;
    assert_eq!(starts.iter().min(), Some(&Duration::from_secs(3)));
}

#[tokio::test(start_paused = true)]
async fn an_earlier_hold_off_never_shortens_a_later_one() {
    let budget = budget(100.0, 10, 100);
    let t0 = Instant::now();
    budget.hold_off(Duration::from_secs(3));
    budget.hold_off(Duration::from_secs(1));
    let _permit = budget.acquire().await.expect("no fence");
    assert_eq!(t0.elapsed(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn hold_off_moves_a_waiting_caller_later_by_the_delay() {
    let budget = Arc::new(budget(1.0, 1, 100));
    let t0 = Instant::now();
    drop(budget.acquire().await.expect("no fence"));
    let waiter = tokio::spawn({
        let budget = Arc::clone(&budget);
        async move {
            let _permit = budget.acquire().await.expect("no fence");
            t0.elapsed()
        }
    });
    tokio::task::yield_now().await;
    budget.hold_off(Duration::from_secs(5));
    let started = waiter.await.expect("waiter finished");
    assert_eq!(started, Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn unlimited_never_waits() {
    let budget = RateBudget::new(ACCOUNT, BudgetLimits::UNLIMITED, BudgetMetrics::default());
    let t0 = Instant::now();
    let mut permits = Vec::new();
    for _ in 0..10_000 {
        permits.push(budget.acquire().await.expect("no fence"));
    }
    assert_eq!(t0.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn metrics_count_calls_and_the_calls_that_waited() {
    let metrics = BudgetMetrics::default();
    let mut registry = Registry::with_prefix("coffer");
    metrics.register(&mut registry);
    let limits = BudgetLimits {
        qps: 1.0,
        burst: 1,
        max_in_flight: 10,
    };
    let budget = RateBudget::new(ACCOUNT, limits, metrics.clone());
    drop(budget.acquire().await.expect("no fence"));
    drop(budget.acquire().await.expect("no fence"));
    assert_eq!((metrics.calls(ACCOUNT), metrics.waits(ACCOUNT)), (2, 1));
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    for line in [
        r#"coffer_provider_budget_calls_total{provider_config="ns/account"} 2"#,
        r#"coffer_provider_budget_waits_total{provider_config="ns/account"} 1"#,
        "# TYPE coffer_provider_budget_wait_seconds histogram",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_fence_past_its_deadline_refuses_every_call() {
    let fence = crate::fence::Fence::until_renewed(SECOND * 10);
    assert!(fence.renewed(Instant::now()));
    let budget = budget(100.0, 10, 10).fenced(fence);
    drop(budget.acquire().await.expect("within the deadline"));
    tokio::time::advance(SECOND * 10).await;
    assert_eq!(
        budget.acquire().await.err(),
        Some(ProviderError::NotLeader),
        "a call after the deadline"
    );
    assert_eq!(
        budget.series.calls.get(),
        1,
        "a refused call is not counted"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_that_waited_past_the_deadline_is_refused() {
    let fence = crate::fence::Fence::until_renewed(SECOND * 10);
    assert!(fence.renewed(Instant::now()));
    // One call every 20 s: the second waits past the deadline.
    let budget = budget(0.05, 1, 10).fenced(fence);
    drop(budget.acquire().await.expect("the first call"));
    assert_eq!(budget.acquire().await.err(), Some(ProviderError::NotLeader));
}
