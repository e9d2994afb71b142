//! A ceiling on what one list reads across all its pages, in items and in
//! bytes. One page is already bounded ([`super::body::MAX_BODY`]), but a
//! provider that pages without end (or a proxy that answers every page with
//! the first) would otherwise be followed page after page, each kept,
//! until the process runs out of memory. Past the cap the list stops with
//! [`ProviderError::ListTooLarge`], which names the cap.

use super::ProviderError;

/// What one list may read across all its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListCap {
    pub items: usize,
    pub bytes: usize,
}

impl ListCap {
    /// Far above any list coffer makes (a CBR name search finds a handful;
    /// a Command Center's S3 stores are hundreds), and low enough that a
    /// few lists at once stay well inside the chart's 256 MiB limit.
    pub const DEFAULT: ListCap = ListCap {
        items: 50_000,
        bytes: 32 << 20,
    };

    /// A whole account's objects of one type, kept as the snapshot drift
    /// checks read (`provider::snapshot`). Each page is converted to small
    /// records as it arrives, so the bytes are read, not held; the items
    /// are held, a few hundred bytes each. The bench's 90,000 vaults in one
    /// project passed [`Self::DEFAULT`]; past this cap the snapshot leaves
    /// every object to a read by id.
    pub const SNAPSHOT: ListCap = ListCap {
        items: 200_000,
        bytes: 512 << 20,
    };
}

/// What one list has read so far.
#[derive(Debug)]
pub struct Tally {
    cap: ListCap,
    what: String,
    items: usize,
    bytes: usize,
}

impl Tally {
    /// A list of `what` (for the error) under [`ListCap::DEFAULT`].
    pub fn new(what: impl Into<String>) -> Self {
        Self::with_cap(ListCap::DEFAULT, what)
    }

    pub fn with_cap(cap: ListCap, what: impl Into<String>) -> Self {
        Self {
            cap,
            what: what.into(),
            items: 0,
            bytes: 0,
        }
    }

    /// Counts a page of `items` items read from a body of `bytes` bytes;
    /// an error once the list has read more than its cap.
    pub fn page(&mut self, items: usize, bytes: usize) -> Result<(), ProviderError> {
        self.items = self.items.saturating_add(items);
        self.bytes = self.bytes.saturating_add(bytes);
        let cap = match (self.items > self.cap.items, self.bytes > self.cap.bytes) {
            (true, _) => format!("{} items", self.cap.items),
            (_, true) => format!("{} bytes", self.cap.bytes),
            (false, false) => return Ok(()),
        };
        Err(ProviderError::ListTooLarge {
            what: self.what.clone(),
            cap,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: ListCap = ListCap {
        items: 10,
        bytes: 1000,
    };

    #[test]
    fn a_list_within_its_cap_goes_on() {
        let mut tally = Tally::with_cap(SMALL, "vaults");
        assert!(tally.page(5, 400).is_ok());
        assert!(tally.page(5, 600).is_ok());
    }

    #[test]
    fn too_many_items_across_pages_stop_the_list_and_name_the_cap() {
        let mut tally = Tally::with_cap(SMALL, "vaults");
        tally.page(6, 10).expect("first page");
        let err = tally.page(6, 10).expect_err("over the item cap");
        assert_eq!(err.reason(), "ListTooLarge");
        assert!(err.to_string().contains("10 items"), "{err}");
        assert!(err.to_string().contains("vaults"), "{err}");
    }

    #[test]
    fn too_many_bytes_across_pages_stop_the_list_and_name_the_cap() {
        let mut tally = Tally::with_cap(SMALL, "S3 vaults");
        tally.page(1, 900).expect("first page");
        let err = tally.page(1, 200).expect_err("over the byte cap");
        assert!(err.to_string().contains("1000 bytes"), "{err}");
        assert!(!err.is_retryable());
    }
}
