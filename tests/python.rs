//! Generated Python is compiled and linted; the runtime's own Python tests run.

mod common;

use std::process::Command;

use common::*;
use sfgen::emit::IMPLEMENTED;

/// Every example and conformance app, generated for every implemented target into one
/// directory per app.
fn generate_all(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sfgen-py-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut apps: Vec<(String, std::path::PathBuf)> = examples();
    apps.extend(conformance_cases().into_iter().map(|c| (format!("case_{}", c.file_name().unwrap().to_string_lossy()), c.join("app.py"))));
    for (name, app) in apps {
        for t in IMPLEMENTED {
            let tree = generate(&app, *t);
            for (p, text) in tree {
                let path = dir.join(&name).join(t.name()).join(p);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
        }
    }
    dir
}

#[test]
fn generated_python_compiles() {
    let dir = generate_all("compile");
    let (ok, out) = run(Command::new(python()).args(["-m", "compileall", "-q"]).arg(&dir));
    assert!(ok, "python3 -m compileall failed:\n{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generated_python_passes_ruff() {
    let Some(ruff) = require_tool("ruff") else { return };
    let dir = generate_all("ruff");
    let (ok, out) = run(Command::new(ruff).args(["check", "--no-cache", "--isolated"]).arg(&dir));
    assert!(ok, "ruff check found problems in generated code:\n{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runtime_templates_pass_ruff() {
    let Some(ruff) = require_tool("ruff") else { return };
    let (ok, out) = run(Command::new(ruff).args(["check", "--no-cache", "--isolated"]).arg(root().join("templates")).arg(root().join("tests/runtime")));
    assert!(ok, "ruff check:\n{out}");
}

#[test]
fn runtime_unit_tests_pass() {
    let (ok, out) = run(Command::new(python()).args(["-m", "unittest", "discover", "-s", "tests/runtime"]).current_dir(root()));
    assert!(ok, "python runtime tests failed:\n{out}");
    eprintln!("{}", out.lines().rev().take(3).collect::<Vec<_>>().join("\n"));
}
