//! The `lambda` target: every conformance case replays through the generated handler in
//! process against DynamoDB emulated by moto (`client.py --local replay`); the Python tests
//! in `tests/lambda/` check the HTTP API, request ids, leases under concurrent invocations
//! and a killed invocation, and the SAM / Terraform files. They run in the `lambda` venv
//! (`scripts/setup-venvs.sh lambda`), which CI must have.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use sfgen::emit::Target;

/// The apps the Python tests use, generated into one directory: `bank` (the example) and
/// `misc` (tests/lambda/apps/misc).
fn test_projects(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sfgen-lambda-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let apps = [("bank", root().join("examples/bank/app.py")), ("misc", root().join("tests/lambda/apps/misc/app.py"))];
    for (name, app) in apps {
        for (p, text) in generate(&app, Target::Lambda) {
            let path = dir.join(name).join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }
    dir
}

/// Runs Python test modules of tests/lambda with the lambda venv; panics with the output.
fn python_tests(venv: &Path, tag: &str, modules: &[&str]) {
    let projects = test_projects(tag);
    let (ok, out) = run(Command::new(venv)
        .args(["-m", "unittest", "-v"])
        .args(modules)
        .current_dir(root().join("tests/lambda"))
        .env("SFGEN_LAMBDA_PROJECTS", &projects)
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    assert!(ok, "python tests {modules:?} failed:\n{out}");
    for line in out.lines() {
        if line.starts_with("concurrency:") || line.starts_with("crash:") || line.starts_with("SKIPPED") || line.starts_with("Ran ") || line.starts_with("OK") {
            eprintln!("{line}");
        }
    }
    let _ = std::fs::remove_dir_all(&projects);
}

#[test]
fn conformance_cases_replay_through_the_handler_against_moto() {
    let Some(venv) = require_venv("lambda") else { return };
    replay_all_cases(Target::Lambda, &venv, &["--local"]);
}

#[test]
fn http_api_request_ids_leases_and_a_killed_invocation() {
    let Some(venv) = require_venv("lambda") else { return };
    python_tests(&venv, "http", &["test_http", "test_crash"]);
}

#[test]
fn concurrent_invocations_keep_the_bank_consistent() {
    let Some(venv) = require_venv("lambda") else { return };
    python_tests(&venv, "concurrency", &["test_concurrency"]);
}

#[test]
fn sam_and_terraform_files_validate() {
    let Some(venv) = require_venv("lambda") else { return };
    python_tests(&venv, "deploy", &["test_deploy"]);
}

/// What the issue promises is in the tree, for every example.
#[test]
fn the_project_has_every_promised_file() {
    for (name, app) in examples() {
        let tree = generate(&app, Target::Lambda);
        for f in [
            "src/handler.py",
            "src/state.py",
            "src/entities.py",
            "src/sfgen_runtime.py",
            "template.yaml",
            "samconfig.toml",
            "terraform/versions.tf",
            "terraform/main.tf",
            "terraform/variables.tf",
            "terraform/outputs.tf",
            "events/create.json",
            "events/call.json",
            "events/state.json",
            "requirements.txt",
            "client.py",
            "sfgen_client.py",
            "README.md",
        ] {
            assert!(tree.contains_key(f), "{name}: {f} is missing");
        }
        for p in ["README.md", "template.yaml", "samconfig.toml", "terraform/variables.tf"] {
            let text = &tree[p];
            assert!(!text.contains("{{") && !text.contains("{%"), "{name}/{p}: an unrendered template tag");
        }
        assert!(tree["README.md"].contains("sam deploy") && tree["README.md"].contains("terraform apply"));
        assert!(tree["terraform/variables.tf"].contains("\"sfgen-"), "{name}: the default resource name");
    }
}
