//! The burst as a picture: one self-contained HTML page (inline SVG drawn with plotters, no script, nothing
//! fetched) with the flow per second (requests sent, acknowledged, stored, alerts raised), the queue's depth over
//! time and the latency histogram, above the audit's figures. `make demo` writes it beside the JSON report.

use plotters::prelude::*;

/// When things happened during a burst, in seconds since its first request.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// Each request's first attempt.
    pub sent: Vec<f64>,
    /// Each `202`.
    pub acknowledged: Vec<f64>,
    /// Each submission stored (its `storedAt`).
    pub stored: Vec<f64>,
    /// Each alert raised (its `raisedAt`).
    pub alerts: Vec<f64>,
    /// The queue's depth (visible and in flight), sampled.
    pub queue_depth: Vec<(f64, u64)>,
    /// Each response's latency, in milliseconds.
    pub latencies_ms: Vec<f64>,
}

/// Counts of `times` in each whole second from 0 to `seconds`.
pub fn per_second(times: &[f64], seconds: usize) -> Vec<u32> {
    let mut counts = vec![0; seconds + 1];
    for t in times.iter().filter(|t| t.is_finite() && **t >= 0.0) {
        let second = (*t as usize).min(seconds);
        counts[second] += 1;
    }
    counts
}

/// The page: a title, the audit's rows (label, value) and the three charts.
pub fn html(title: &str, rows: &[(String, String)], timeline: &Timeline) -> Result<String, String> {
    Ok(page(
        title,
        rows,
        &[
            ("Flow per second", flow_chart(timeline)?),
            ("Queue depth", depth_chart(timeline)?),
            ("Latency of each response", latency_chart(timeline)?),
        ],
    ))
}

/// A self-contained report page: a title, rows (label, value), then each chart under its heading.
pub(crate) fn page(title: &str, rows: &[(String, String)], charts: &[(&str, String)]) -> String {
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
    let charts: String = charts
        .iter()
        .map(|(heading, svg)| format!("<h2>{}</h2>\n{svg}\n", escape(heading)))
        .collect();
    format!(
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
{charts}</body></html>
"#,
        title = escape(title),
    )
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const SIZE: (u32, u32) = (960, 320);

/// A white chart-sized SVG canvas drawing into `svg`.
pub(crate) fn canvas(
    svg: &mut String,
) -> Result<DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, String> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    Ok(root)
}

/// Every chart's frame: the same margins and axis label room, so the three line up on the page.
pub(crate) fn frame<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(55);
    builder
}

fn last_second(timeline: &Timeline) -> usize {
    [
        &timeline.sent,
        &timeline.acknowledged,
        &timeline.stored,
        &timeline.alerts,
    ]
    .iter()
    .flat_map(|times| times.iter())
    .chain(timeline.queue_depth.iter().map(|(t, _)| t))
    .fold(0.0f64, |a, b| a.max(*b))
    .ceil() as usize
}

fn flow_chart(timeline: &Timeline) -> Result<String, String> {
    let seconds = last_second(timeline);
    let series = [
        ("sent", &timeline.sent, RGBColor(120, 120, 120)),
        ("acknowledged (202)", &timeline.acknowledged, BLUE),
        ("stored", &timeline.stored, RGBColor(0, 140, 70)),
        ("alerts raised", &timeline.alerts, RED),
    ];
    let counts: Vec<(&str, Vec<u32>, RGBColor)> = series
        .iter()
        .map(|(name, times, color)| (*name, per_second(times, seconds), *color))
        .collect();
    per_second_chart(&counts, seconds, "seconds since the first request")
}

/// Lines of counts per second, each with its name and colour, over `seconds`.
pub(crate) fn per_second_chart(
    counts: &[(&str, Vec<u32>, RGBColor)],
    seconds: usize,
    x_desc: &str,
) -> Result<String, String> {
    let top = counts
        .iter()
        .flat_map(|(_, c, _)| c.iter())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = frame(&root)
            .build_cartesian_2d(0..seconds.max(1) as u32, 0..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("per second")
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, per, color) in counts {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    per.iter().enumerate().map(|(s, n)| (s as u32, *n)),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
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

fn depth_chart(timeline: &Timeline) -> Result<String, String> {
    let seconds = last_second(timeline).max(1) as f64;
    let top = timeline
        .queue_depth
        .iter()
        .map(|(_, d)| *d)
        .max()
        .unwrap_or(1)
        .max(1);
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = frame(&root)
            .build_cartesian_2d(0.0..seconds, 0..top + top / 10 + 1)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("seconds since the first request")
            .y_desc("messages queued or in flight")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                AreaSeries::new(
                    timeline.queue_depth.iter().copied(),
                    0,
                    RGBColor(230, 140, 0).mix(0.3),
                )
                .border_style(RGBColor(230, 140, 0)),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Latency buckets in milliseconds: each bar counts the responses up to its bound.
const BUCKETS_MS: [f64; 12] = [
    25.0,
    50.0,
    75.0,
    100.0,
    150.0,
    200.0,
    300.0,
    500.0,
    750.0,
    1000.0,
    2000.0,
    f64::INFINITY,
];

/// How many latencies fall in each of [`BUCKETS_MS`].
pub fn latency_buckets(latencies_ms: &[f64]) -> Vec<u32> {
    let mut counts = vec![0; BUCKETS_MS.len()];
    for ms in latencies_ms {
        let bucket = BUCKETS_MS
            .iter()
            .position(|bound| ms <= bound)
            .unwrap_or(BUCKETS_MS.len() - 1);
        counts[bucket] += 1;
    }
    counts
}

fn latency_chart(timeline: &Timeline) -> Result<String, String> {
    let counts = latency_buckets(&timeline.latencies_ms);
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let labels: Vec<String> = BUCKETS_MS
        .iter()
        .map(|b| {
            if b.is_finite() {
                format!("≤{b:.0}")
            } else {
                "more".into()
            }
        })
        .collect();
    let mut svg = String::new();
    {
        let root = canvas(&mut svg)?;
        let mut chart = frame(&root)
            .build_cartesian_2d(
                (0..BUCKETS_MS.len() as u32).into_segmented(),
                0..top + top / 10 + 1,
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("milliseconds")
            .y_desc("responses")
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(BLUE.mix(0.6).filled())
                    .margin(4)
                    .data(counts.iter().enumerate().map(|(i, n)| (i as u32, *n))),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline() -> Timeline {
        Timeline {
            sent: vec![0.1, 0.5, 1.2, 2.9],
            acknowledged: vec![0.3, 0.7, 1.4, 3.1],
            stored: vec![1.0, 1.1, 2.5, 4.0],
            alerts: vec![2.5],
            queue_depth: vec![(0.0, 0), (1.0, 2), (2.0, 1), (4.0, 0)],
            latencies_ms: vec![20.0, 90.0, 140.0, 5000.0],
        }
    }

    #[test]
    fn each_event_is_counted_in_its_second_and_late_ones_in_the_last() {
        assert_eq!(per_second(&[0.1, 0.9, 1.0, 7.5], 3), [2, 1, 0, 1]);
        assert_eq!(
            latency_buckets(&[20.0, 25.0, 26.0, 9_999.0]),
            [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        );
    }

    #[test]
    fn the_page_holds_the_figures_and_three_charts_and_escapes_what_it_shows() {
        let rows = [("lost".to_owned(), "0 <none>".to_owned())];
        let page = html("Burst <T-1>", &rows, &timeline()).unwrap();
        assert_eq!(page.matches("<svg").count(), 3);
        assert!(page.contains("Burst &lt;T-1&gt;"));
        assert!(page.contains("0 &lt;none&gt;"));
        assert!(
            page.contains("acknowledged (202)"),
            "the flow chart has its legend"
        );
        assert!(
            !page.contains("<script"),
            "nothing runs, nothing is fetched"
        );
    }
}
