//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared conformance folder: `$SFGEN_SHARED`, `../shared/conformance` beside the
/// checkout, or the copy kept in `tests/shared` (for machines without it).
pub fn shared_conformance() -> PathBuf {
    if let Some(p) = std::env::var_os("SFGEN_SHARED") {
        return PathBuf::from(p);
    }
    let beside = root().join("../shared/conformance");
    if beside.join("cases").is_dir() {
        return beside;
    }
    root().join("tests/shared")
}

/// Every conformance case: the shared ones and the project's own.
pub fn conformance_cases() -> Vec<PathBuf> {
    let mut out = vec![];
    for dir in [shared_conformance().join("cases"), root().join("tests/conformance")] {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("app.py").is_file())
            .collect();
        v.sort();
        out.extend(v);
    }
    out
}

/// The example apps (`examples/<name>/app.py`), sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("app.py").is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().join("app.py")))
        .collect();
    v.sort();
    v
}

/// Compiles an app file and generates `target`; panics with the rendered diagnostics.
pub fn generate(app: &Path, target: sfgen::emit::Target) -> sfgen::emit::FileTree {
    let bytes = std::fs::read(app).unwrap();
    let c = sfgen::compile(&bytes, "app.py");
    let ir = c.ir.as_ref().unwrap_or_else(|| panic!("{} does not compile:\n{}", app.display(), c.render("app.py", false)));
    sfgen::generate(ir, target)
}

/// Writes a tree to a fresh temporary directory and returns it.
pub fn write_temp(tree: &sfgen::emit::FileTree, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sfgen-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (p, text) in tree {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

pub fn python() -> String {
    std::env::var("SFGEN_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs a command; returns (success, stdout + stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text += &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Whether snapshot files may be rewritten in this run.
pub fn blessing() -> bool {
    std::env::var_os("SFGEN_BLESS").is_some_and(|v| v == "1") && std::env::var_os("CI").is_none()
}

/// A tool from the project's tools venv (`scripts/setup-venvs.sh tools`), or from PATH.
pub fn tool(name: &str) -> Option<PathBuf> {
    let venvs = std::env::var_os("SFGEN_VENVS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/sfgen/venvs")
    });
    let p = venvs.join("tools/bin").join(name);
    if p.is_file() {
        return Some(p);
    }
    let ok = Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from(name))
}

/// A required tool: in CI its absence is a failure, elsewhere the test is skipped.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    match tool(name) {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!("{name} is not installed: run scripts/setup-venvs.sh tools"),
        None => {
            eprintln!("SKIPPED: {name} is not installed (scripts/setup-venvs.sh tools installs it)");
            None
        }
    }
}

/// An app compiled for the local target and written to a fresh temporary directory.
pub fn local_project(app: &Path, name: &str) -> PathBuf {
    write_temp(&generate(app, sfgen::emit::Target::Local), name)
}

/// The python of the project's venv `name` (`scripts/setup-venvs.sh NAME`), if it exists.
pub fn venv_python(name: &str) -> Option<PathBuf> {
    let venvs = std::env::var_os("SFGEN_VENVS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/sfgen/venvs")
    });
    let p = venvs.join(name).join("bin/python");
    p.is_file().then_some(p)
}

/// A required venv: in CI its absence is a failure, elsewhere the test is skipped.
pub fn require_venv(name: &str) -> Option<PathBuf> {
    match venv_python(name) {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!("the {name} venv is missing: run scripts/setup-venvs.sh {name}"),
        None => {
            eprintln!("SKIPPED: the {name} venv is missing (scripts/setup-venvs.sh {name} creates it)");
            None
        }
    }
}

/// A program on PATH or in ~/.cargo/bin (e.g. `tansu`), if there is one.
pub fn program(name: &str) -> Option<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push(home.join(".cargo/bin"));
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Every conformance case, generated for `target` and replayed (two at a time) with
/// `PYTHON DIR/client.py ARGS... replay SCENARIO` (`args` come before `replay`), compared
/// with expected.json by check.py; panics listing every case that differs.
pub fn replay_all_cases(target: sfgen::emit::Target, python: &Path, args: &[&str]) {
    use std::sync::Mutex;
    let check = shared_conformance().join("check.py");
    let cases = conformance_cases();
    assert!(cases.len() >= 13, "expected the shared and own cases, found {}", cases.len());
    let queue = Mutex::new(cases.clone());
    let failures = Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(case) = queue.lock().unwrap().pop() else { break };
                let name = case.file_name().unwrap().to_string_lossy().into_owned();
                let tree = generate(&case.join("app.py"), target);
                let dir = write_temp(&tree, &format!("{}-conf-{name}", target.name()));
                let (ok, out) = run(Command::new(self::python())
                    .arg(&check)
                    .arg(&case)
                    .arg("--")
                    .arg(python)
                    .arg(dir.join("client.py"))
                    .args(args)
                    .arg("replay")
                    .arg("{scenario}"));
                if ok {
                    eprintln!("{}", out.trim());
                } else {
                    failures.lock().unwrap().push(format!("{name}:\n{out}"));
                }
                let _ = std::fs::remove_dir_all(&dir);
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {} cases fail on the {} target:\n{}", failures.len(), cases.len(), target.name(), failures.join("\n"));
    eprintln!("{} conformance: all {} cases pass", target.name(), cases.len());
}
