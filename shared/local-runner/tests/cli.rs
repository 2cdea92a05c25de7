//! The `local-runner` binary as a user runs it: usage and exit codes, Ctrl-C stopping a demo cleanly
//! with exit code 130, the same state directory replaying the interrupted demo to its end, and once
//! finished, printing its saved summary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_local-runner");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-runner-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn manifest(dir: &Path) -> serde_json::Value {
    let raw = std::fs::read_to_string(dir.join("runner.json")).expect("manifest");
    serde_json::from_str(&raw).expect("manifest is JSON")
}

#[test]
fn usage_and_its_exit_codes() {
    let help = run(&["help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("local-runner demo"));
    let bad = run(&["demo", "--hours", "soon"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--hours takes a number"));
    let no_config = Command::new(BIN)
        .args(["run", "--state-dir", "/nonexistent/never-created"])
        .env_remove("CHANNEL_SETTINGS")
        .output()
        .unwrap();
    assert_eq!(no_config.status.code(), Some(2), "{}", text(&no_config.stderr));
    assert!(text(&no_config.stderr).contains("CHANNEL_SETTINGS"));
}

#[test]
fn ctrl_c_stops_a_demo_cleanly_and_the_state_directory_replays_it() {
    let dir = temp_dir("cli-demo");
    let dir_arg = dir.to_str().unwrap().to_owned();
    let args = [
        "demo",
        "--hours",
        "2",
        "--time-scale",
        "600",
        "--products",
        "20",
        "--orders",
        "3",
        "--seed",
        "5",
        "--state-dir",
        dir_arg.as_str(),
    ];
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // Interrupt once the channel is running (the first progress line).
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("a progress line on stderr");
        if line.starts_with("[d1") {
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let interrupted = child.wait_with_output().unwrap();
    assert_eq!(interrupted.status.code(), Some(130));
    assert!(
        text(&interrupted.stdout).is_empty(),
        "no summary for an interrupted demo"
    );
    assert_eq!(manifest(&dir)["status"], "interrupted");
    assert!(!dir.join("runner.lock").exists(), "the lock is released");
    let said: Vec<String> = lines.try_iter().collect();
    assert!(
        said.iter()
            .any(|l| l.contains("interrupted; rerun with --state-dir")),
        "{said:?}"
    );

    // The same directory: the demo is played again to its end (its world was in memory).
    let replayed = run(&["demo", "--quiet", "--state-dir", dir_arg.as_str()]);
    let summary = text(&replayed.stdout);
    assert_eq!(
        replayed.status.code(),
        Some(0),
        "{summary}\n{}",
        text(&replayed.stderr)
    );
    assert!(summary.contains("All invariants hold."), "{summary}");
    assert!(
        summary.contains("demo, 20 products, 3 orders, seed 5, x600"),
        "{summary}"
    );
    assert!(dir.join("interrupted-1").join("state.jsonl").is_file());
    assert_eq!(manifest(&dir)["status"], "finished");

    // Finished: its saved summary, at once; other parameters are refused.
    let again = run(&["demo", "--state-dir", dir_arg.as_str()]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(text(&again.stdout), summary);
    let other = run(&["demo", "--seed", "6", "--state-dir", dir_arg.as_str()]);
    assert_eq!(other.status.code(), Some(2));
    assert!(
        text(&other.stderr).contains("--seed 5"),
        "{}",
        text(&other.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
