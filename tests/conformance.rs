//! Every conformance case (shared and the project's own) is compiled for the local target,
//! replayed with the generated `client.py replay`, and compared with its `expected.json`
//! by the shared `check.py`. Plain Python is the oracle.

mod common;

use std::process::Command;

use common::*;
use sfgen::emit::Target;

#[test]
fn conformance_cases_pass_on_the_local_target() {
    replay_all_cases(Target::Local, std::path::Path::new(&python()), &[]);
}

/// The copy of the shared cases kept in the repo must not drift from the original.
#[test]
fn vendored_shared_cases_match_the_original() {
    let original = root().join("../shared/conformance");
    if !original.join("cases").is_dir() {
        eprintln!("SKIPPED: ../shared/conformance is not beside this checkout");
        return;
    }
    let a = sfgen::write::read_tree(&original);
    let b = sfgen::write::read_tree(&root().join("tests/shared"));
    let changes = sfgen::write::compare(&b, &a);
    assert!(changes.is_empty(), "tests/shared differs from ../shared/conformance; copy it again:\n{}", sfgen::write::report(&changes, false));
}

/// Own cases' expected results come from the oracle, never from hand: recompute them.
#[test]
fn own_expected_results_are_the_oracles() {
    let oracle = shared_conformance().join("oracle.py");
    for case in conformance_cases() {
        let (ok, out) = run(Command::new(python()).arg(&oracle).arg(&case));
        assert!(ok, "oracle failed on {}:\n{out}", case.display());
        let expected = std::fs::read_to_string(case.join("expected.json")).unwrap();
        let stdout = out; // the oracle prints nothing on stderr when it succeeds
        assert_eq!(stdout, expected, "{}/expected.json is not what oracle.py computes", case.display());
    }
}
