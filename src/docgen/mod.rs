//! The two generated pages of `docs/`, for `coffer-dev docs`: the API
//! reference, from the CRD schemas, and every condition reason per kind,
//! from the reason lists the controllers and the metrics use. Like `crds/`,
//! they are committed and a test fails when they differ from what the code
//! generates, so the docs cannot drift from the code.

mod api_reference;
mod reasons;

use std::path::{Path, PathBuf};

/// The API reference's file name under `docs/`.
pub const API_REFERENCE: &str = "api-reference.md";
/// The condition reasons' file name under `docs/`.
pub const REASONS: &str = "reasons.md";

/// Every generated page as (file name, Markdown).
pub fn render_all() -> Vec<(&'static str, String)> {
    vec![
        (
            API_REFERENCE,
            api_reference::render(&crate::api::all_crds()),
        ),
        (REASONS, reasons::render()),
    ]
}

/// Writes every generated page into `dir`, replacing what is there.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in render_all() {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        written.push(path);
    }
    Ok(written)
}

/// Text for one cell of a Markdown table: on one line, with `|` escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/api-reference.md` and `docs/reasons.md` must be exactly what
    /// the code generates; `make docs` rewrites them.
    #[test]
    fn committed_docs_match_the_code() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        for (name, text) in render_all() {
            let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            assert!(
                committed == text,
                "docs/{name} is stale: run `make docs` and commit the result"
            );
        }
    }

    #[test]
    fn a_cell_is_one_line_and_keeps_its_pipes() {
        assert_eq!(cell("a |b\n  c"), "a \\|b c");
    }
}
