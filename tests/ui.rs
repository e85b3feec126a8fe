//! UI tests: every `tests/ui/*.py` is compiled and its rendered diagnostics are compared
//! with `tests/ui/<name>.stderr`.
//!
//! To update the expected output after an intended change, run
//! `SFGEN_BLESS=1 cargo test --test ui` (ignored when `CI` is set) and review the diff.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use sfgen::diag::Code;

/// Codes that need no UI test yet, with the reason.
const EXEMPT: &[(Code, &str)] = &[];

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("ui")
}

fn blessing() -> bool {
    std::env::var_os("SFGEN_BLESS").is_some_and(|v| v == "1") && std::env::var_os("CI").is_none()
}

/// The `.py` files of the UI directory, sorted.
fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(ui_dir())
        .expect("tests/ui exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    v.sort();
    v
}

/// Compiles one case and renders its diagnostics as the CLI would, without color.
fn render(py: &Path) -> String {
    let name = py.file_name().unwrap().to_str().unwrap();
    let bytes = fs::read(py).unwrap_or_else(|e| panic!("reading {}: {e}", py.display()));
    let compiled = sfgen::compile(&bytes, name);
    compiled.render(name, false)
}

fn unified_diff(expected: &str, actual: &str, path: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{path} (expected)"), &format!("{path} (actual)"))
        .to_string()
}

#[test]
fn ui() {
    let bless = blessing();
    let cases = cases();
    assert!(
        !cases.is_empty(),
        "no UI tests found in {}",
        ui_dir().display()
    );
    let mut failures = vec![];
    for py in &cases {
        let actual = render(py);
        let stderr = py.with_extension("stderr");
        let shown = format!("tests/ui/{}", stderr.file_name().unwrap().to_str().unwrap());
        let expected = fs::read_to_string(&stderr).ok();
        if expected.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if bless {
            fs::write(&stderr, &actual).unwrap_or_else(|e| panic!("writing {shown}: {e}"));
            eprintln!("blessed {shown}");
            continue;
        }
        match expected {
            None => failures.push(format!(
                "{shown} is missing; the actual output is:\n{actual}\n\
                 (run `SFGEN_BLESS=1 cargo test --test ui` to create it)"
            )),
            Some(expected) => failures.push(format!(
                "{shown} differs from the actual output:\n{}",
                unified_diff(&expected, &actual, &shown)
            )),
        }
    }
    // `.stderr` files without a program are stale.
    for e in fs::read_dir(ui_dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "stderr") && !p.with_extension("py").exists() {
            failures.push(format!("{} has no matching .py file", p.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} UI test(s) failed (bless with `SFGEN_BLESS=1 cargo test --test ui`):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Every diagnostic code is shown by at least one UI test.
#[test]
fn every_code_has_a_ui_test() {
    let mut all = String::new();
    for py in cases() {
        let stderr = py.with_extension("stderr");
        // When blessing, the files may not exist yet: render instead.
        all += &fs::read_to_string(&stderr).unwrap_or_else(|_| render(&py));
    }
    let exempt: BTreeSet<&str> = EXEMPT.iter().map(|(c, _)| c.id()).collect();
    let missing: Vec<String> = Code::ALL
        .iter()
        .filter(|c| !exempt.contains(c.id()))
        .filter(|c| !all.contains(&format!("[{}]", c.id())))
        .map(|c| format!("{} ({:?}: {})", c.id(), c, c.describe()))
        .collect();
    assert!(
        missing.is_empty(),
        "no UI test in tests/ui shows these diagnostics:\n  {}",
        missing.join("\n  ")
    );
    // An exemption for a code that now has a test is stale.
    let stale: Vec<&str> = EXEMPT
        .iter()
        .filter(|(c, _)| all.contains(&format!("[{}]", c.id())))
        .map(|(c, _)| c.id())
        .collect();
    assert!(
        stale.is_empty(),
        "these codes are exempt but have a UI test now; remove the exemption: {stale:?}"
    );
}

/// Half-typed programs are what an editor sends: compiling any prefix of a UI program
/// (cut at a line end or in the middle of a line) reports diagnostics and never panics.
#[test]
fn no_panic_on_truncated_programs() {
    for py in cases() {
        let bytes = fs::read(&py).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut cuts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i + 1).collect();
        cuts.extend(text.match_indices(['(', '.', ':']).map(|(i, _)| i + 1));
        for cut in cuts {
            let prefix = &text[..cut];
            let result = std::panic::catch_unwind(|| {
                let compiled = sfgen::compile(prefix.as_bytes(), "prefix.py");
                compiled.render("prefix.py", false)
            });
            assert!(
                result.is_ok(),
                "sfgen panicked on the first {cut} bytes of {}:\n{prefix}",
                py.display()
            );
        }
    }
}
