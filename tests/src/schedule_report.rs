//! The schedule drill as a picture: one self-contained HTML page with the wave the reminders cause (reminders
//! received and surveys sent per second) and compliance by timepoint (on time, late, missed), above the audit's
//! figures. `make demo` writes it beside the JSON report.

use plotters::prelude::*;

use crate::drill::Counted;
use crate::report::{canvas, escape, frame, per_second, per_second_chart};

/// The page: a title, the audit's rows, the wave, compliance by timepoint.
pub fn html(
    title: &str,
    rows: &[(String, String)],
    (reminders, sent): (&[f64], &[f64]),
    by_timepoint: &[(String, Counted)],
) -> Result<String, String> {
    let table: String = rows
        .iter()
        .map(|(label, value)| {
            format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(label),
                escape(value)
            )
        })
        .collect();
    Ok(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1000px; }}
h1 {{ font-size: 1.4rem; }} h2 {{ font-size: 1.1rem; margin-top: 2rem; }}
table {{ border-collapse: collapse; }} th {{ text-align: left; font-weight: normal; color: #555; padding: 2px 1.5rem 2px 0; }}
td {{ font-variant-numeric: tabular-nums; }}
</style></head>
<body>
<h1>{title}</h1>
<table>{table}</table>
<h2>The wave reminders cause</h2>
{wave}
<h2>Compliance by timepoint</h2>
{compliance}
</body></html>
"#,
        title = escape(title),
        wave = wave_chart(reminders, sent)?,
        compliance = compliance_chart(by_timepoint)?,
    ))
}

fn wave_chart(reminders: &[f64], sent: &[f64]) -> Result<String, String> {
    let seconds = reminders
        .iter()
        .chain(sent)
        .fold(0.0f64, |a, b| a.max(*b))
        .ceil() as usize;
    let counts = [
        (
            "reminders received",
            per_second(reminders, seconds),
            RGBColor(230, 140, 0),
        ),
        ("surveys sent", per_second(sent, seconds), BLUE),
    ];
    per_second_chart(&counts, seconds, "seconds since the first enrolment")
}

fn compliance_chart(by_timepoint: &[(String, Counted)]) -> Result<String, String> {
    let top = by_timepoint
        .iter()
        .map(|(_, c)| c.expected)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        // A segmented range a..b has a segment for each of a..=b.
        let last = by_timepoint.len().saturating_sub(1) as u32;
        let mut chart = frame(&root)
            .build_cartesian_2d((0..last).into_segmented(), 0..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = by_timepoint.iter().map(|(name, _)| name.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_label_formatter(&|slot| match slot {
                SegmentValue::CenterOf(n) => names.get(*n as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc("surveys due")
            .draw()
            .map_err(|e| e.to_string())?;
        let parts = [
            ("on time", RGBColor(0, 140, 70)),
            ("late", RGBColor(230, 140, 0)),
            ("missed", RED),
        ];
        for (part, (name, color)) in parts.into_iter().enumerate() {
            let bars = by_timepoint
                .iter()
                .enumerate()
                .map(move |(slot, (_, counted))| {
                    let stack = [counted.on_time, counted.late, counted.missed];
                    let below: u64 = stack[..part].iter().sum();
                    let slot = slot as u32;
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(slot), below),
                            (SegmentValue::Exact(slot + 1), below + stack[part]),
                        ],
                        color.filled(),
                    )
                });
            chart
                .draw_series(bars)
                .map_err(|e| e.to_string())?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}
