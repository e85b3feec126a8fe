//! The `statefun` target: every conformance case replays through the real StateFun SDK
//! (`client.py --local replay`: the in-process harness plays the runtime's side of the
//! request-reply protocol); the Python tests in `tests/statefun/` check the protocol, HTTP,
//! concurrency and bad input; the deployment files pass their validators; with a tansu
//! broker on the machine, the bank case runs end to end through real Kafka topics. The SDK
//! lives in the `statefun` venv (`scripts/setup-venvs.sh statefun`), which CI must have.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use sfgen::emit::Target;

fn statefun_dir() -> PathBuf {
    root().join("tests/statefun")
}

fn project(app: &Path, tag: &str) -> PathBuf {
    write_temp(&generate(app, Target::Statefun), &format!("statefun-{tag}"))
}

#[test]
fn conformance_cases_replay_through_the_sdk() {
    let Some(venv) = require_venv("statefun") else { return };
    replay_all_cases(Target::Statefun, &venv, &["--local"]);
}

/// Runs one test module of tests/statefun against a generated project.
fn python_tests(venv: &Path, app: &Path, tag: &str, pattern: &str) {
    let dir = project(app, tag);
    let (ok, out) = run(Command::new(venv)
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(statefun_dir())
        .args(["-p", pattern])
        .env("SFGEN_STATEFUN_PROJECT", &dir)
        .env("SFGEN_CASES", shared_conformance().join("cases"))
        .env("PYTHONDONTWRITEBYTECODE", "1"));
    assert!(ok, "python tests {pattern} failed:\n{out}");
    eprintln!("{}", out.lines().rev().take(3).collect::<Vec<_>>().join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn protocol_http_concurrency_and_bad_input_on_the_bank() {
    let Some(venv) = require_venv("statefun") else { return };
    python_tests(&venv, &root().join("examples/bank/app.py"), "bank", "test_bank.py");
}

#[test]
fn state_that_cannot_be_stored_and_unknown_classes() {
    let Some(venv) = require_venv("statefun") else { return };
    python_tests(&venv, &statefun_dir().join("fixtures/edge/app.py"), "edge", "test_edge.py");
}

/// module.yaml against the schema written from StateFun's documented fields (and the
/// schema against StateFun's documented examples, and against planted mistakes); every YAML
/// file through yamllint; docker-compose.yml against the compose spec; the Dockerfile
/// through hadolint.
#[test]
fn deployment_files_validate() {
    let (Some(py), Some(yamllint), Some(cjs), Some(hadolint)) =
        (venv_python("tools").or_else(|| require_tool("python3")), require_tool("yamllint"), require_tool("check-jsonschema"), require_tool("hadolint"))
    else {
        return;
    };
    let validate = statefun_dir().join("validate_module.py");
    let (ok, out) = run(Command::new(&py).arg(&validate).arg(statefun_dir().join("documented-examples.yaml")));
    assert!(ok, "the schema rejects StateFun's documented examples:\n{out}");
    for (name, app) in examples() {
        let dir = project(&app, &format!("deploy-{name}"));
        let module = dir.join("module.yaml");
        let (ok, out) = run(Command::new(&py).arg(&validate).arg("--self-test").arg(&module));
        assert!(ok, "{name}: module.yaml:\n{out}");
        let yamls = ["module.yaml", "docker-compose.yml", "kafka/topics.yaml", "flink-conf/flink-conf.yaml"];
        let (ok, out) = run(Command::new(&yamllint).args(["-s", "-d", "relaxed"]).args(yamls.iter().map(|y| dir.join(y))));
        assert!(ok, "{name}: yamllint:\n{out}");
        let (ok, out) = run(Command::new(&cjs).args(["--builtin-schema", "vendor.compose-spec"]).arg(dir.join("docker-compose.yml")));
        assert!(ok, "{name}: docker-compose.yml against the compose spec:\n{out}");
        let (ok, out) = run(Command::new(&hadolint).arg(dir.join("functions/Dockerfile")));
        assert!(ok, "{name}: hadolint functions/Dockerfile:\n{out}");
        let (ok, out) = run(Command::new("sh").arg("-n").arg(dir.join("kafka/create-topics.sh")));
        assert!(ok, "{name}: kafka/create-topics.sh:\n{out}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// What the issue promises is in the tree, for every example.
#[test]
fn the_project_has_every_promised_file() {
    for (name, app) in examples() {
        let tree = generate(&app, Target::Statefun);
        for f in [
            "functions/app.py",
            "functions/entities.py",
            "functions/sfgen_runtime.py",
            "functions/topology.py",
            "functions/requirements.txt",
            "functions/Dockerfile",
            "module.yaml",
            "docker-compose.yml",
            "flink-conf/flink-conf.yaml",
            "kafka/topics.yaml",
            "kafka/create-topics.sh",
            "client.py",
            "sfgen_client.py",
            "statefun_harness.py",
            "requirements.txt",
            "README.md",
        ] {
            assert!(tree.contains_key(f), "{name}: {f} is missing");
        }
        let reqs = &tree["functions/requirements.txt"];
        assert!(reqs.contains("apache-flink-statefun==3.3.0") && reqs.contains("aiohttp"), "{reqs}");
        for (p, text) in &tree {
            let imports = text.lines().any(|l| {
                let l = l.trim_start();
                (l.starts_with("import ") || l.starts_with("from ")) && (l.contains("pickle") || l.contains("marshal") || l.contains("shelve"))
            });
            assert!(!imports, "{name}/{p} imports pickle, marshal or shelve");
        }
    }
}

/// Real topics: tansu, the aiohttp functions service, the harness's Kafka bridge in the
/// JVM runtime's place, and client.py over Kafka. Skipped, with a message, when tansu
/// (`cargo install tansu --locked --features dynostore`) is not on the machine.
#[test]
fn end_to_end_through_kafka_when_a_broker_is_available() {
    let Some(venv) = require_venv("statefun") else { return };
    let Some(tansu) = program("tansu") else {
        eprintln!("SKIPPED: no tansu broker on this machine (cargo install tansu --locked --features dynostore); the Kafka end-to-end test did not run");
        return;
    };
    for case in ["bank", "hotel"] {
        let case = shared_conformance().join("cases").join(case);
        let dir = project(&case.join("app.py"), &format!("e2e-{}", case.file_name().unwrap().to_string_lossy()));
        let (ok, out) = run(Command::new(&venv).arg(statefun_dir().join("e2e_kafka.py")).arg(&tansu).arg(&dir).arg(&case));
        assert!(ok, "end to end through Kafka:\n{out}");
        eprintln!("{}", out.trim());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
