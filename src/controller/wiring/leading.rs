//! Whether this process leads yet: a standby fills and keeps its caches
//! (every watch runs from the start), but reconciles nothing, sweeps
//! nothing and writes nothing until it leads. A takeover then needs no
//! relist: at 100,000 objects a relist is most of a minute of the API
//! server's time and of the new leader's CPU.

use tokio::sync::watch;

/// Read side: cloned into every part that must wait for the leadership.
#[derive(Clone, Debug)]
pub struct Leading(watch::Receiver<bool>);

/// Write side: held by whoever wins the leadership.
#[derive(Debug)]
pub struct Lead(watch::Sender<bool>);

/// A pair not leading yet.
pub fn standby() -> (Lead, Leading) {
    let (tx, rx) = watch::channel(false);
    (Lead(tx), Leading(rx))
}

impl Lead {
    /// From now on this process leads; it never stops leading (a leader
    /// that loses its lease exits).
    pub fn begin(&self) {
        self.0.send_replace(true);
    }
}

impl Leading {
    /// Already leading: a process without leader election, or a test.
    pub fn already() -> Self {
        let (lead, leading) = standby();
        lead.begin();
        // The receiver keeps the last value after the sender is gone.
        drop(lead);
        leading
    }

    /// Whether this process leads now.
    pub fn now(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once this process leads; never, if it never does.
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|leads| *leads).await.is_err() {
            // The Lead was dropped without beginning: the process stops.
            std::future::pending::<()>().await;
        }
    }
}

/// Drops what arrives on `rx` until this process leads, then hands the
/// receiver on: a standby's wakes are not kept (a takeover wakes every
/// object anyway), so they cannot pile up while it waits, for days maybe.
pub async fn drop_until_leading<T>(
    mut rx: futures::channel::mpsc::UnboundedReceiver<T>,
    leading: &Leading,
) -> futures::channel::mpsc::UnboundedReceiver<T> {
    use futures::StreamExt;
    let leads = leading.wait();
    tokio::pin!(leads);
    loop {
        tokio::select! {
            biased;
            () = &mut leads => return rx,
            item = rx.next() => {
                if item.is_none() {
                    return rx;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn a_standby_waits_and_a_leader_does_not() {
        let (lead, leading) = standby();
        assert!(!leading.now());
        let waiting = tokio::spawn({
            let leading = leading.clone();
            async move { leading.wait().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        lead.begin();
        waiting.await.unwrap();
        assert!(leading.now());
        assert!(Leading::already().now());
    }

    #[tokio::test]
    async fn wakes_before_the_lead_are_dropped_and_those_after_kept() {
        let (lead, leading) = standby();
        let (tx, rx) = futures::channel::mpsc::unbounded();
        tx.unbounded_send("before").unwrap();
        let handed = tokio::spawn(async move { drop_until_leading(rx, &leading).await });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        lead.begin();
        let mut rx = handed.await.unwrap();
        tx.unbounded_send("after").unwrap();
        drop(tx);
        assert_eq!(rx.next().await, Some("after"));
        assert_eq!(rx.next().await, None);
    }
}
