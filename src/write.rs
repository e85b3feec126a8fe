//! Writing a generated [`FileTree`] to disk atomically, and comparing a tree with what is
//! on disk (`--check`, `--diff` and the snapshot tests share [`compare`]).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::emit::FileTree;

/// The file in an output directory that lists what sfgen wrote there.
pub const MANIFEST: &str = ".sfgen-manifest";
const MANIFEST_HEAD: &str =
    "# Files written by sfgen. sfgen removes only these when it writes again.\n";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0} exists and is not empty, and sfgen did not create it (no {MANIFEST}); use --force to write into it anyway")]
    NotOurs(PathBuf),
    #[error("{0} exists and is not a directory")]
    NotADirectory(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Adds the manifest to a tree.
pub fn with_manifest(mut tree: FileTree) -> FileTree {
    let mut m = String::from(MANIFEST_HEAD);
    for p in tree.keys() {
        m += p;
        m.push('\n');
    }
    tree.insert(MANIFEST.into(), m);
    tree
}

/// Paths listed in `dir`'s manifest (empty when there is none).
pub fn read_manifest(dir: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(dir.join(MANIFEST)).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.to_string())
            .collect(),
    )
}

/// A difference between a generated tree and what is on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Missing(String),
    Extra(String),
    Changed {
        path: String,
        old: String,
        new: String,
    },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Missing(p) | Change::Extra(p) => p,
            Change::Changed { path, .. } => path,
        }
    }
}

/// Compares the files on disk (`old`) with a generated tree (`new`).
pub fn compare(old: &BTreeMap<String, String>, new: &FileTree) -> Vec<Change> {
    let mut out = vec![];
    for (p, text) in new {
        match old.get(p) {
            None => out.push(Change::Missing(p.clone())),
            Some(o) if o != text => out.push(Change::Changed {
                path: p.clone(),
                old: o.clone(),
                new: text.clone(),
            }),
            _ => {}
        }
    }
    for p in old.keys() {
        if !new.contains_key(p) {
            out.push(Change::Extra(p.clone()));
        }
    }
    out.sort_by(|a, b| a.path().cmp(b.path()));
    out
}

/// A report of changes: one line per file, and unified diffs when `diffs` is set.
pub fn report(changes: &[Change], diffs: bool) -> String {
    let mut s = String::new();
    for c in changes {
        match c {
            Change::Missing(p) => s += &format!("missing: {p}\n"),
            Change::Extra(p) => s += &format!("extra:   {p}\n"),
            Change::Changed { path, .. } => s += &format!("changed: {path}\n"),
        }
    }
    if diffs {
        for c in changes {
            let (path, old, new) = match c {
                Change::Missing(p) => (p.as_str(), "", ""),
                Change::Extra(p) => (p.as_str(), "", ""),
                Change::Changed { path, old, new } => (path.as_str(), old.as_str(), new.as_str()),
            };
            if let Change::Changed { .. } = c {
                let d = similar::TextDiff::from_lines(old, new);
                s += &d
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{path}"), &format!("b/{path}"))
                    .to_string();
            }
        }
    }
    s
}

/// Reads every file of `dir` (relative paths, `/`-separated), skipping unreadable text.
pub fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if !dir.is_dir() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_file() {
            if let Ok(rel) = entry.path().strip_prefix(dir) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = fs::read(entry.path()).unwrap_or_default();
                out.insert(rel, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    out
}

/// The files on disk that `tree` would replace or remove: those it contains, and those the
/// directory's manifest lists.
pub fn read_owned(dir: &Path, tree: &FileTree) -> BTreeMap<String, String> {
    let mut paths: Vec<String> = tree.keys().cloned().collect();
    paths.extend(read_manifest(dir).unwrap_or_default());
    let mut out = BTreeMap::new();
    for p in paths {
        if let Ok(bytes) = fs::read(dir.join(&p)) {
            out.insert(p, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    out
}

/// Writes `tree` (which should include the manifest) to `dir` atomically: the new contents
/// are assembled in a temporary directory beside `dir` and swapped in with renames. Files
/// sfgen did not write are carried over untouched. On any error `dir` is left as it was.
pub fn write_tree(dir: &Path, tree: &FileTree, force: bool) -> Result<(), WriteError> {
    let existed = dir.exists();
    if existed && !dir.is_dir() {
        return Err(WriteError::NotADirectory(dir.to_path_buf()));
    }
    let old_manifest = if existed { read_manifest(dir) } else { None };
    if existed && old_manifest.is_none() && !force {
        let empty = fs::read_dir(dir).map_err(io_err(dir))?.next().is_none();
        if !empty {
            return Err(WriteError::NotOurs(dir.to_path_buf()));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{base}.sfgen-tmp-{}", std::process::id()));
    let old = parent.join(format!(".{base}.sfgen-old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let result = (|| {
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        if existed {
            // Carry over what sfgen does not own.
            let owned: std::collections::BTreeSet<String> = old_manifest
                .clone()
                .unwrap_or_default()
                .into_iter()
                .chain([MANIFEST.to_string()])
                .collect();
            copy_except(dir, &tmp, dir, &owned)?;
        }
        for (p, text) in tree {
            let path = tmp.join(p);
            if let Some(d) = path.parent() {
                fs::create_dir_all(d).map_err(io_err(d))?;
            }
            fs::write(&path, text).map_err(io_err(&path))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if existed {
        fs::rename(dir, &old).map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            io_err(dir)(e)
        })?;
        if let Err(e) = fs::rename(&tmp, dir) {
            // Put the old directory back.
            let _ = fs::rename(&old, dir);
            let _ = fs::remove_dir_all(&tmp);
            return Err(io_err(dir)(e));
        }
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&tmp, dir).map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            io_err(dir)(e)
        })?;
    }
    Ok(())
}

fn copy_except(
    root: &Path,
    to: &Path,
    dir: &Path,
    owned: &std::collections::BTreeSet<String>,
) -> Result<(), WriteError> {
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let rel_s = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let ft = entry.file_type().map_err(io_err(&path))?;
        if ft.is_dir() {
            fs::create_dir_all(to.join(rel)).map_err(io_err(&path))?;
            copy_except(root, to, &path, owned)?;
        } else if !owned.contains(&rel_s) {
            fs::copy(&path, to.join(rel)).map_err(io_err(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> FileTree {
        files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect()
    }

    #[test]
    fn compare_reports_missing_extra_changed() {
        let old = tree(&[("a", "1\n"), ("b", "2\n"), ("c", "3\n")]);
        let new = tree(&[("a", "1\n"), ("b", "two\n"), ("d", "4\n")]);
        let r = report(&compare(&old, &new), true);
        assert_eq!(
            r,
            "changed: b\nextra:   c\nmissing: d\n--- a/b\n+++ b/b\n@@ -1 +1 @@\n-2\n+two\n"
        );
    }

    #[test]
    fn rewrite_keeps_user_files_and_removes_stale_ones() {
        let d = std::env::temp_dir().join(format!("sfgen-write-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let out = d.join("out");
        write_tree(
            &out,
            &with_manifest(tree(&[("x/a.py", "a\n"), ("b.py", "b\n")])),
            false,
        )
        .unwrap();
        fs::write(out.join("notes.txt"), "mine\n").unwrap();
        write_tree(&out, &with_manifest(tree(&[("b.py", "b2\n")])), false).unwrap();
        let now = read_tree(&out);
        assert_eq!(now.get("b.py").map(String::as_str), Some("b2\n"));
        assert_eq!(now.get("notes.txt").map(String::as_str), Some("mine\n"));
        assert!(!now.contains_key("x/a.py"));
        // A directory sfgen did not create is refused.
        let foreign = d.join("foreign");
        fs::create_dir_all(&foreign).unwrap();
        fs::write(foreign.join("keep.txt"), "k").unwrap();
        assert!(matches!(
            write_tree(&foreign, &tree(&[("a", "a\n")]), false),
            Err(WriteError::NotOurs(_))
        ));
        assert_eq!(read_tree(&foreign).len(), 1);
        let _ = fs::remove_dir_all(&d);
    }
}
