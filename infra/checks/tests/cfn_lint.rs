//! cfn-lint (which also runs the SAM transform) passes on the template, and fails on a broken copy,
//! so a green run means the linter really looked.
//!
//! cfn-lint comes from the venv: `CFN_LINT` if set, else `<workspace>/.venv/bin/cfn-lint`, else
//! `cfn-lint` on PATH; none of them is a failure. Ignored by a plain `cargo test`: `tests/run.sh`
//! (which the test command runs) installs cfn-lint and runs it.

use std::path::PathBuf;
use std::process::{Command, Output};

use infra_checks::{template_path, workspace_root};

fn cfn_lint() -> PathBuf {
    if let Ok(path) = std::env::var("CFN_LINT") {
        return PathBuf::from(path);
    }
    let venv = workspace_root().join(".venv/bin/cfn-lint");
    if venv.exists() {
        return venv;
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("cfn-lint"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.exists());
    on_path.unwrap_or_else(|| {
        panic!(
            "cfn-lint is needed: {} does not exist and none is on PATH. Run tests/run.sh (it \
             installs cfn-lint into the venv), or set CFN_LINT.",
            venv.display()
        )
    })
}

fn lint(template: &std::path::Path) -> Output {
    let linter = cfn_lint();
    Command::new(&linter)
        .arg(template)
        // Offline: the SAM transform and the rules need a region, nothing else.
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", linter.display()))
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn cfn_lint_passes_on_the_template() {
    let output = lint(&template_path());
    assert!(
        output.status.success(),
        "cfn-lint infra/template.yaml: {}",
        describe(&output)
    );
}

#[test]
fn cfn_lint_fails_on_a_broken_copy() {
    let text = std::fs::read_to_string(template_path()).expect("read template");
    // A runtime Lambda does not have, and a reference to a resource that does not exist.
    let broken = text
        .replacen("Runtime: provided.al2023", "Runtime: provided.al1999", 1)
        .replacen(
            "Resource: !GetAtt OrderImportLogGroup.Arn",
            "Resource: !GetAtt NoSuchLogGroup.Arn",
            1,
        );
    assert_ne!(
        broken, text,
        "the template changed: update this test's replacements"
    );
    let dir = std::env::temp_dir().join(format!("infra-checks-cfn-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("template.yaml");
    std::fs::write(&path, broken).expect("write broken copy");
    let output = lint(&path);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !output.status.success(),
        "cfn-lint accepted a broken template: {}",
        describe(&output)
    );
    let report = describe(&output);
    assert!(report.contains("NoSuchLogGroup"), "{report}");
}
