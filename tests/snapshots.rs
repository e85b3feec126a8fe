//! Whole generated trees of every example, committed under `snapshots/<example>/`:
//! `ir.yaml` and one folder per implemented target. `SFGEN_BLESS=1 cargo test` rewrites
//! them (never when `CI` is set); otherwise any difference fails with unified diffs.

mod common;

use std::collections::BTreeMap;

use common::*;
use sfgen::emit::{FileTree, IMPLEMENTED};
use sfgen::write::{compare, read_tree, report};

fn check_tree(dir: &std::path::Path, tree: &FileTree, failures: &mut Vec<String>) {
    let on_disk = read_tree(dir);
    let changes = compare(&on_disk, tree);
    if changes.is_empty() {
        return;
    }
    if blessing() {
        let _ = std::fs::remove_dir_all(dir);
        for (p, text) in tree {
            let path = dir.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        eprintln!("blessed {}", dir.display());
    } else {
        failures.push(format!("{} differs from what sfgen generates (SFGEN_BLESS=1 cargo test --test snapshots to accept):\n{}", dir.display(), report(&changes, true)));
    }
}

#[test]
fn snapshots_are_up_to_date() {
    let mut failures = vec![];
    for (name, app) in examples() {
        let bytes = std::fs::read(&app).unwrap();
        let c = sfgen::compile(&bytes, "app.py");
        let ir = c.ir.unwrap_or_else(|| panic!("example {name} does not compile"));
        let snap = root().join("snapshots").join(&name);
        let ir_tree: BTreeMap<String, String> = [("ir.yaml".to_string(), sfgen::ir::to_yaml(&ir))].into();
        // ir.yaml sits beside the target folders: compare it on its own.
        let on_disk: BTreeMap<String, String> = read_tree(&snap).into_iter().filter(|(p, _)| p == "ir.yaml").collect();
        let changes = compare(&on_disk, &ir_tree);
        if !changes.is_empty() {
            if blessing() {
                std::fs::create_dir_all(&snap).unwrap();
                std::fs::write(snap.join("ir.yaml"), &ir_tree["ir.yaml"]).unwrap();
            } else {
                failures.push(format!("{}/ir.yaml differs:\n{}", snap.display(), report(&changes, true)));
            }
        }
        for t in IMPLEMENTED {
            let tree = sfgen::generate(&ir, *t);
            check_tree(&snap.join(t.name()), &tree, &mut failures);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Output must not depend on where the app lives or on the run.
#[test]
fn generation_is_deterministic_and_path_independent() {
    for (_, app) in examples() {
        let bytes = std::fs::read(&app).unwrap();
        let a = sfgen::compile(&bytes, "app.py");
        let b = sfgen::compile(&bytes, "/some/where/else/app.py");
        for t in IMPLEMENTED {
            let ta = sfgen::generate(a.ir.as_ref().unwrap(), *t);
            let tb = sfgen::generate(b.ir.as_ref().unwrap(), *t);
            assert_eq!(ta, tb);
            for (p, text) in &ta {
                assert!(!text.contains('\r'), "{p} has CR");
                assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{p} must end in exactly one newline");
                assert!(!text.contains(env!("CARGO_MANIFEST_DIR")), "{p} mentions an absolute path");
            }
        }
    }
}
