//! Emitters: IR → in-memory file trees, one module per target. Emitters see only the IR.

pub mod lambda;
pub mod local;
pub mod python;
pub mod statefun;

use std::collections::BTreeMap;

use crate::ir::Ir;

/// Generated files by relative path (`/`-separated), contents as text.
pub type FileTree = BTreeMap<String, String>;

/// Every target sfgen knows. Order is the order of `--target all`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Target {
    Local,
    Pyflink,
    Beam,
    Statefun,
    Lambda,
    Cloudburst,
    All,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Local => "local",
            Target::Pyflink => "pyflink",
            Target::Beam => "beam",
            Target::Statefun => "statefun",
            Target::Lambda => "lambda",
            Target::Cloudburst => "cloudburst",
            Target::All => "all",
        }
    }

    /// Whether this target's emitter exists yet.
    pub fn implemented(self) -> bool {
        matches!(self, Target::Local | Target::Statefun | Target::Lambda | Target::All)
    }

    /// The concrete targets `self` stands for.
    pub fn expand(self) -> Vec<Target> {
        match self {
            Target::All => IMPLEMENTED.to_vec(),
            t => vec![t],
        }
    }
}

/// Targets with an emitter, in the order `all` writes them.
pub const IMPLEMENTED: &[Target] = &[Target::Local, Target::Statefun, Target::Lambda];

/// Emits the project for one concrete target.
pub fn emit(ir: &Ir, target: Target) -> FileTree {
    match target {
        Target::Local => local::emit(ir),
        Target::Statefun => statefun::emit(ir),
        Target::Lambda => lambda::emit(ir),
        _ => unreachable!("emit called for unimplemented target {}", target.name()),
    }
}

/// Emits `target`; for `all`, every implemented target under `<target>/`.
pub fn emit_tree(ir: &Ir, target: Target) -> FileTree {
    if target != Target::All {
        return emit(ir, target);
    }
    let mut out = FileTree::new();
    for t in target.expand() {
        for (path, text) in emit(ir, t) {
            out.insert(format!("{}/{path}", t.name()), text);
        }
    }
    out
}

/// Makes every file end in exactly one newline with LF line endings.
pub fn normalise(tree: FileTree) -> FileTree {
    tree.into_iter()
        .map(|(p, t)| {
            let t = t.replace("\r\n", "\n");
            let t = t.trim_end_matches('\n').to_string() + "\n";
            (p, t)
        })
        .collect()
}
