//! The schedule drill as a picture: one self-contained HTML page with the wave the reminders cause (reminders
//! received and surveys sent per second) and compliance by timepoint (on time, late, missed), above the audit's
//! figures. `make demo` writes it beside the JSON report.

use plotters::prelude::*;

use crate::drill::Counted;
use crate::report::{canvas, frame, page, per_second, per_second_chart};

/// The page: a title, the audit's rows, the wave, compliance by timepoint.
pub fn html(
    title: &str,
    rows: &[(String, String)],
    (reminders, sent): (&[f64], &[f64]),
    by_timepoint: &[(String, Counted)],
) -> Result<String, String> {
    Ok(page(
        title,
        rows,
        &[
            ("The wave reminders cause", wave_chart(reminders, sent)?),
            ("Compliance by timepoint", compliance_chart(by_timepoint)?),
        ],
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
