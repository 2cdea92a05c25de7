//! Buyer data only while needed: after the short demo's orders have lived their whole life
//! (imported, created, shipped, cancelled, returned, refunded), nothing the channel keeps, logs or
//! sends holds a buyer's name, street, phone or email. Scanned: every file of the state directory
//! (state store and queue journals, manifest, summaries), every log line at debug level, and the
//! summary. The buyers are the scenario's fixture buyers, each distinct, and Walmart's relay
//! emails. And what stays on disk is readable by its owner only.
//!
//! The same run holds the deployed roles' key conditions to the code: every partition an operation
//! touched (table, status index, idempotency claims) matches one of its function's
//! `dynamodb:LeadingKeys` patterns (`infra_checks::topology::leading_key_patterns`), so the least
//! privilege the template grants is never less than what the functions do.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use domain::Operation;
use infra_checks::topology::{glob_matches, leading_key_patterns};
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
    let mut options = DemoOptions::new(params.clone(), 720.0, dir.clone()).expect("options");
    let touched = Arc::new(Mutex::new(Default::default()));
    options.partitions_touched = Some(touched.clone());
    let channel = options.settings.id.to_string();
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

    // Least privilege by key: nothing an operation touched lies outside its role's patterns.
    let touched = touched.lock().expect("partitions").clone();
    let mut outside = Vec::new();
    for op in Operation::ALL {
        let partitions = touched.get(&op).cloned().unwrap_or_default();
        assert!(
            !partitions.is_empty(),
            "{op:?} touched nothing: the check would prove nothing"
        );
        let patterns: Vec<String> = leading_key_patterns(op)
            .iter()
            .map(|p| p.replace("${ChannelId}", &channel))
            .collect();
        println!(
            "{op:?}: {} partitions, e.g. {:?}",
            partitions.len(),
            partitions.iter().take(6).collect::<Vec<_>>()
        );
        for partition in partitions {
            if !patterns.iter().any(|p| glob_matches(p, &partition)) {
                outside.push(format!("{op:?}: {partition} (allowed {patterns:?})"));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "partitions outside the roles' key conditions:\n{}",
        outside.join("\n")
    );

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
