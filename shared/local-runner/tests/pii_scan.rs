//! Buyer data only while needed: after the short demo's orders have lived their whole life
//! (imported, created, shipped, cancelled, returned, refunded), nothing the channel keeps, logs or
//! sends holds a buyer's name, street, phone or email. Scanned: every file of the state directory
//! (state store and queue journals, manifest, summaries), every log line at debug level, and the
//! summary. The buyers are the scenario's fixture buyers, each distinct, and Walmart's relay
//! emails. And what stays on disk is readable by its owner only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use local_runner::demo::{self, DemoOptions, DemoOutcome};
use local_runner::scenario::{ScenarioParams, fixture_buyer};

#[derive(Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("log buffer poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("state directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_buyer_data_remains_after_the_orders_whole_life() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let dir = std::env::temp_dir().join(format!("local-runner-pii-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let params = ScenarioParams {
        products: 50,
        orders: 10,
        hours: 3.0,
        seed: 7,
    };
    let options = DemoOptions::new(params.clone(), 720.0, dir.clone()).expect("options");
    let summary = match demo::run(options, std::future::pending())
        .await
        .expect("demo runs")
    {
        DemoOutcome::Finished(summary) => summary,
        other => panic!("the demo did not finish: {other:?}"),
    };
    let text = summary.render();
    assert!(summary.orders.created_in_commerce > 0, "no order lived\n{text}");
    assert!(summary.orders.shipped + summary.orders.refunded > 0, "{text}");

    let mut haystacks: Vec<(String, String)> = files_under(&dir)
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("state file is readable");
            (
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect();
    let captured = String::from_utf8_lossy(&logs.0.lock().expect("log buffer")).into_owned();
    assert!(captured.contains("order"), "logs were captured");
    haystacks.push(("captured logs".into(), captured));
    haystacks.push(("summary".into(), text.clone()));
    haystacks.push((
        "summary JSON".into(),
        serde_json::to_string(&summary).expect("summary serialises"),
    ));

    let mut needles = vec!["relay.walmart.com".to_owned()];
    // Every order the buyers placed (retries take the next number too).
    for n in 0..params.orders * 3 {
        let buyer = fixture_buyer(n);
        needles.extend([buyer.name, buyer.address1, buyer.phone]);
        needles.extend(buyer.address2);
    }
    needles.push("Larkspur Hollow".to_owned());
    needles.push("Quillon".to_owned());
    let mut found = Vec::new();
    for (place, haystack) in &haystacks {
        for needle in &needles {
            if let Some(at) = haystack.find(needle.as_str()) {
                let from = haystack[..at].char_indices().rev().nth(150).map_or(0, |(i, _)| i);
                let to = (at + needle.len() + 150).min(haystack.len());
                let to = (to..=haystack.len())
                    .find(|i| haystack.is_char_boundary(*i))
                    .unwrap_or(haystack.len());
                found.push(format!("{needle:?} in {place}: …{}…", &haystack[from..to]));
            }
        }
    }
    assert!(found.is_empty(), "buyer data left behind:\n{}", found.join("\n"));

    // What stays on disk is the owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        for file in files_under(&dir) {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
