//! One run, written whole to `target/bench/scale-<mode>-<time>.json` (the
//! machine, the parameters, every figure, each target with its limit and
//! whether it was met, and the time series) with a PNG of the series
//! beside it.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use super::machine::Machine;
use super::sampler::Sample;

/// A figure with a limit the issue sets.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub name: String,
    pub measured: f64,
    pub limit: f64,
    pub unit: String,
    pub met: bool,
}

impl Target {
    /// A figure that must stay at or under `limit`.
    pub fn at_most(name: &str, measured: f64, limit: f64, unit: &str) -> Target {
        Target {
            name: name.to_string(),
            measured,
            limit,
            unit: unit.to_string(),
            met: measured <= limit,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Run {
    pub mode: String,
    pub finished_at: String,
    pub machine: Machine,
    pub parameters: Value,
    pub figures: Value,
    pub targets: Vec<Target>,
    /// Phase boundaries, in seconds since the run started, for the plot.
    pub phases: Vec<(String, f64)>,
    pub samples: Vec<Sample>,
}

/// Where runs are written: `target/bench`, under CARGO_TARGET_DIR when set.
pub fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench")
}

/// Writes the JSON and the PNG; answers the JSON's path.
pub fn write(run: &Run) -> PathBuf {
    let dir = dir();
    std::fs::create_dir_all(&dir).expect("creating target/bench");
    let stamp = run.finished_at.replace([':', '.'], "-");
    let json = dir.join(format!("scale-{}-{stamp}.json", run.mode));
    let text = serde_json::to_string_pretty(run).expect("a run serializes");
    std::fs::write(&json, text).expect("writing the run");
    let png = json.with_extension("png");
    match super::plot::draw(run, &png) {
        Ok(()) => println!("scale: plot {}", png.display()),
        Err(e) => println!("scale: no plot ({e})"),
    }
    json
}
