//! The command line: exit codes, --check/--diff, --emit, atomic and owned output.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn sfgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sfgen"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sfgen-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn hotel() -> PathBuf {
    root().join("examples/hotel/app.py")
}

fn status(cmd: &mut Command) -> (i32, String, String) {
    let o = cmd.output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![];
    for e in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().flatten() {
        if e.file_type().is_file() {
            v.push((e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()));
        }
    }
    v
}

#[test]
fn generating_twice_gives_identical_trees() {
    let d = tmp("twice");
    let (a, b) = (d.join("a"), d.join("b"));
    assert_eq!(status(sfgen().arg(hotel()).arg("--out").arg(&a)).0, 0);
    assert_eq!(status(sfgen().arg(hotel()).arg("--out").arg(&b)).0, 0);
    assert_eq!(snapshot(&a), snapshot(&b));
    // Writing again over its own output is fine and changes nothing.
    assert_eq!(status(sfgen().arg(hotel()).arg("--out").arg(&a)).0, 0);
    assert_eq!(snapshot(&a), snapshot(&b));
}

#[test]
fn check_and_diff_see_drift() {
    let d = tmp("check");
    let out = d.join("out");
    assert_eq!(status(sfgen().arg(hotel()).arg("--out").arg(&out)).0, 0);
    let (code, _, err) = status(sfgen().arg(hotel()).arg("--out").arg(&out).arg("--check"));
    assert_eq!(code, 0, "{err}");
    let ent = out.join("entities.py");
    let text = std::fs::read_to_string(&ent).unwrap().replace("return self.price", "return self.price * 2");
    std::fs::write(&ent, text).unwrap();
    std::fs::write(out.join("client.py"), "edited\n").unwrap();
    std::fs::remove_file(out.join("README.md")).unwrap();
    let (code, stdout, _) = status(sfgen().arg(hotel()).arg("--out").arg(&out).arg("--check"));
    assert_eq!(code, 1);
    assert!(stdout.contains("changed: entities.py") && stdout.contains("changed: client.py") && stdout.contains("missing: README.md"), "{stdout}");
    let (code, stdout, _) = status(sfgen().arg(hotel()).arg("--out").arg(&out).arg("--diff"));
    assert_eq!(code, 1);
    assert!(stdout.contains("-        return self.price * 2") && stdout.contains("+        return self.price"), "{stdout}");
}

#[test]
fn errors_leave_out_untouched() {
    let d = tmp("errors");
    let out = d.join("out");
    assert_eq!(status(sfgen().arg(hotel()).arg("--out").arg(&out)).0, 0);
    std::fs::write(out.join("mine.txt"), "user file\n").unwrap();
    let before = snapshot(&out);
    let bad = d.join("bad.py");
    std::fs::write(&bad, "from stateflow import stateflow\n\n@stateflow\nclass A:\n    def __init__(self, k: str):\n        self.k: str = k\n\n    def f(self, x) -> int:\n        return x\n").unwrap();
    let (code, _, err) = status(sfgen().arg(&bad).arg("--out").arg(&out));
    assert_eq!(code, 1);
    assert!(err.contains("SF0004") && err.contains("SF0008"), "both errors in one run:\n{err}");
    assert!(err.contains("bad.py:8:17"), "file:line:col:\n{err}");
    assert_eq!(snapshot(&out), before);
}

#[test]
fn refuses_foreign_directories_unless_forced() {
    let d = tmp("foreign");
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("precious.txt"), "keep").unwrap();
    let (code, _, err) = status(sfgen().arg(hotel()).arg("--out").arg(&out));
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(snapshot(&out).len(), 1);
    let (code, _, _) = status(sfgen().arg(hotel()).arg("--out").arg(&out).arg("--force"));
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(out.join("precious.txt")).unwrap(), "keep");
}

#[test]
fn unimplemented_targets_fail_clearly() {
    let d = tmp("targets");
    for t in ["pyflink", "beam", "cloudburst"] {
        let (code, _, err) = status(sfgen().arg(hotel()).arg("--out").arg(d.join(t)).arg("--target").arg(t));
        assert_eq!(code, 2, "{t}");
        assert!(err.contains(&format!("target {t} is not implemented yet")), "{err}");
        assert!(!d.join(t).exists());
    }
    // `all` writes every implemented target in its own folder.
    let (code, _, _) = status(sfgen().arg(hotel()).arg("--out").arg(d.join("all")).arg("--target").arg("all"));
    assert_eq!(code, 0);
    for t in ["local", "statefun", "lambda"] {
        assert!(d.join("all").join(t).join("client.py").is_file(), "{t}");
    }
    assert!(!d.join("all/beam").exists());
    let (code, _, _) = status(sfgen().arg(hotel()).arg("--target").arg("nope").arg("--out").arg(d.join("x")));
    assert_eq!(code, 2);
}

#[test]
fn emit_ir_and_dot() {
    let (code, ir, _) = status(sfgen().arg(hotel()).arg("--emit").arg("ir"));
    assert_eq!(code, 0);
    for needle in ["name: Hotel", "name: User", "name: Search", "key: hotel_id", "read_only: true", "target: Hotel.available", "kind: call"] {
        assert!(ir.contains(needle), "missing {needle:?} in\n{ir}");
    }
    let (code, dot, _) = status(sfgen().arg(hotel()).arg("--emit").arg("dot"));
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph sfgen {") && dot.contains("\"Search\" -> \"Hotel\""), "{dot}");
}

#[test]
fn io_errors_are_usage_errors() {
    let (code, _, err) = status(sfgen().arg("/nonexistent/app.py").arg("--out").arg("/tmp/x"));
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}
