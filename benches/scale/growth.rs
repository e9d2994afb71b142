//! How coffer's memory grows with the number of objects, across runs: the
//! latest steady run at each size found in `target/bench`, as a table
//! (printed, and written to `memory-growth.json`) and a plot
//! (`memory-growth.png`, RSS and per-object memory against objects, the
//! objects axis logarithmic).
//!
//! Per-object memory is what the objects added: RSS once converged minus
//! RSS before the first object (the same process, with its caches empty),
//! over the number of objects.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;
use serde_json::Value;

/// One size: the latest steady run with that many objects.
#[derive(Clone, Debug, Serialize)]
pub struct Size {
    pub objects: u64,
    pub rss_empty_mib: f64,
    pub rss_converged_mib: f64,
    pub kib_per_object: f64,
    /// The run it comes from.
    pub finished_at: String,
}

/// Every size in `dir`'s steady runs, smallest first.
pub fn sizes(dir: &Path) -> Vec<Size> {
    let mut latest: BTreeMap<u64, Size> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("scale-steady-") && name.ends_with(".json")) {
            continue;
        }
        let Some(size) = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|run| size_of(&run))
        else {
            continue;
        };
        let newer = latest
            .get(&size.objects)
            .is_none_or(|known| known.finished_at < size.finished_at);
        if newer {
            latest.insert(size.objects, size);
        }
    }
    latest.into_values().collect()
}

fn size_of(run: &Value) -> Option<Size> {
    let figures = &run["figures"];
    let objects = figures["objects"].as_u64()?;
    let empty = figures["rss_mib"]["idle"].as_f64()?;
    let converged = figures["rss_mib"]["converged"].as_f64()?;
    Some(Size {
        objects,
        rss_empty_mib: empty,
        rss_converged_mib: converged,
        kib_per_object: (converged - empty) * 1024.0 / objects.max(1) as f64,
        finished_at: run["finished_at"].as_str()?.to_string(),
    })
}

/// Prints the table and writes the JSON and the plot beside the runs.
pub fn report(dir: &Path) {
    let sizes = sizes(dir);
    println!("scale: memory by size (latest steady run at each size):");
    for s in &sizes {
        println!(
            "scale:   {:>7} objects  RSS {:>7.1} MiB ({:>5.1} empty)  {:>5.2} KiB per object  ({})",
            s.objects, s.rss_converged_mib, s.rss_empty_mib, s.kib_per_object, s.finished_at
        );
    }
    let json = dir.join("memory-growth.json");
    if let Ok(text) = serde_json::to_string_pretty(&sizes) {
        let _ = std::fs::write(&json, text);
    }
    let png = dir.join("memory-growth.png");
    match draw(&sizes, &png) {
        Ok(()) => println!("scale: memory growth plot {}", png.display()),
        Err(e) => println!("scale: no memory growth plot ({e})"),
    }
}

fn draw(sizes: &[Size], path: &Path) -> Result<(), String> {
    if sizes.len() < 2 {
        return Err("fewer than two sizes measured".into());
    }
    // The font is registered by the run's own plot, drawn just before.
    let root = BitMapBackend::new(path, (1000, 800)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled("coffer memory by number of objects", ("sans-serif", 24))
        .map_err(|e| e.to_string())?;
    let panels = root.split_evenly((2, 1));
    let first = sizes[0].objects as f64;
    let last = sizes[sizes.len() - 1].objects as f64;
    let x = (first / 2.0)..(last * 2.0);
    let series: [(&str, Vec<(f64, f64)>); 2] = [
        (
            "RSS once converged (MiB)",
            sizes
                .iter()
                .map(|s| (s.objects as f64, s.rss_converged_mib))
                .collect(),
        ),
        (
            "memory per object (KiB)",
            sizes
                .iter()
                .map(|s| (s.objects as f64, s.kib_per_object))
                .collect(),
        ),
    ];
    for (panel, (name, points)) in panels.iter().zip(series.iter()) {
        let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.15;
        let mut chart = ChartBuilder::on(panel)
            .caption(*name, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(32)
            .y_label_area_size(60)
            .build_cartesian_2d(x.clone().log_scale(), 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("objects")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BLUE.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 4, BLUE.filled())))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().map(|p| {
                Text::new(
                    format!("{:.1}", p.1),
                    (p.0, p.1 + top * 0.04),
                    ("sans-serif", 12),
                )
            }))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}
