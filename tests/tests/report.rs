//! The burst report as people see it: the page `make demo` writes, opened in a headless browser, shows its three
//! charts (a screenshot with many colours, not a blank page) and its figures.

use std::collections::BTreeSet;
use std::process::Command;

use intake_e2e::report::{Timeline, html};

/// A burst's shape: arrivals peaking mid-window, acknowledgements just after, storage trailing behind.
fn burst() -> Timeline {
    let mut rng = fastrand::Rng::with_seed(7);
    let mut timeline = Timeline::default();
    for _ in 0..3_000 {
        let sent = (rng.f64() + rng.f64()) * 15.0;
        let latency = 40.0 + rng.f64() * rng.f64() * 400.0;
        timeline.sent.push(sent);
        timeline.acknowledged.push(sent + latency / 1000.0);
        timeline.stored.push(sent + 1.0 + rng.f64() * 20.0);
        timeline.latencies_ms.push(latency);
        if rng.u8(..) < 10 {
            timeline.alerts.push(sent + 2.0);
        }
    }
    timeline.queue_depth = (0..50)
        .map(|s| {
            (
                s as f64,
                (3_000.0 * (1.0 - ((s as f64 - 18.0) / 20.0).powi(2))).max(0.0) as u64,
            )
        })
        .collect();
    timeline
}

fn chromium() -> Command {
    let mut command = Command::new("chromium");
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
    ]);
    command
}

#[test]
#[ignore = "needs chromium: run `make report-check`"]
fn the_burst_report_renders_its_charts_in_a_headless_browser() {
    let rows = [("lost, doubled".to_owned(), "0, 0".to_owned())];
    let page = html("Burst report", &rows, &burst()).unwrap();
    let folder = std::env::temp_dir().join(format!("burst-report-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("report.html");
    std::fs::write(&file, page).unwrap();
    let url = format!("file://{}", file.display());

    // What the browser built from the page: the three charts and the figures.
    let dom = chromium()
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8(dom.stdout).unwrap();
    assert_eq!(
        dom.matches("<svg").count(),
        3,
        "three charts in the rendered page"
    );
    assert!(dom.contains("0, 0") && dom.contains("acknowledged (202)"));

    // What a person sees: a screenshot with the charts' colours, not a blank page.
    let png = folder.join("report.png");
    let shot = chromium()
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1100,1500")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    let channels = frame.color_type.samples();
    let colours: BTreeSet<&[u8]> = pixels[..frame.buffer_size()].chunks(channels).collect();
    assert!(
        colours.len() > 50,
        "{} colours: a blank page?",
        colours.len()
    );
    let has = |r: u8, g: u8, b: u8| colours.iter().any(|c| c[0] == r && c[1] == g && c[2] == b);
    assert!(has(0, 0, 255), "the acknowledged line (blue) is drawn");
    assert!(has(255, 0, 0), "the alerts line (red) is drawn");
    std::fs::remove_dir_all(&folder).unwrap();
}
