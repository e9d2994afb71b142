//! The PNG of a run: five panels over time (objects Ready, provider calls
//! per second, Kubernetes writes per second, operator RSS, operator CPU),
//! with the phases marked.

use std::path::Path;

use plotters::prelude::*;

use super::record::Run;

/// DejaVu Sans, where Debian and Ubuntu put it.
const FONTS: [&str; 2] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

pub fn draw(run: &Run, path: &Path) -> Result<(), String> {
    let font = FONTS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or("no DejaVuSans.ttf to draw text with")?;
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "the font could not be read")?;

    let s = &run.samples;
    if s.len() < 4 {
        return Err("fewer than four samples".into());
    }
    // Over three samples: the API server's counters are read every third.
    let rate = |f: fn(&super::sampler::Sample) -> u64| -> Vec<(f64, f64)> {
        s.windows(4)
            .map(|w| {
                let dt = (w[3].t - w[0].t).max(1e-3);
                (w[3].t, f(&w[3]).saturating_sub(f(&w[0])) as f64 / dt)
            })
            .collect()
    };
    let series: [(&str, Vec<(f64, f64)>); 5] = [
        (
            "objects Ready",
            s.iter().map(|x| (x.t, x.ready as f64)).collect(),
        ),
        ("provider calls/s", rate(|x| x.provider_calls)),
        (
            "Kubernetes writes/s (coffer's kinds, Events)",
            rate(|x| x.kube_writes),
        ),
        (
            "operator RSS (MiB)",
            s.iter().map(|x| (x.t, x.rss_mib)).collect(),
        ),
        (
            "operator CPU (% of one core)",
            s.iter().map(|x| (x.t, x.cpu_percent)).collect(),
        ),
    ];
    let end = s.last().map_or(1.0, |x| x.t).max(1.0);

    let root = BitMapBackend::new(path, (1200, 1500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let title = format!(
        "coffer scale bench, {} mode: {} cores, {} MiB",
        run.mode, run.machine.cores, run.machine.memory_mib
    );
    let root = root
        .titled(&title, ("sans-serif", 24))
        .map_err(|e| e.to_string())?;
    let panels = root.split_evenly((series.len(), 1));
    for (panel, (name, points)) in panels.iter().zip(series.iter()) {
        let top = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
        let mut chart = ChartBuilder::on(panel)
            .caption(*name, ("sans-serif", 18))
            .margin(8)
            .x_label_area_size(28)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
        for (phase, at) in &run.phases {
            chart
                .draw_series(LineSeries::new([(*at, 0.0), (*at, top)], BLACK.mix(0.3)))
                .map_err(|e| e.to_string())?
                .label(phase.as_str());
            chart
                .draw_series(std::iter::once(Text::new(
                    phase.clone(),
                    (*at, top * 0.95),
                    ("sans-serif", 11),
                )))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                BLUE.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}
