//! The `sfgen` command line: a thin layer over the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use sfgen::emit::Target;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Emit {
    /// The intermediate representation as YAML.
    Ir,
    /// The dataflow graph as Graphviz DOT.
    Dot,
}

/// Compile a Python app of @stateflow entities into a deployable dataflow project.
#[derive(Parser, Debug)]
#[command(name = "sfgen", version, about)]
struct Cli {
    /// The app: a Python file with @stateflow classes.
    app: PathBuf,
    /// Directory to write the generated project to.
    #[arg(long, value_name = "DIR", required_unless_present = "emit")]
    out: Option<PathBuf>,
    /// The runtime to generate for (`all`: every implemented target, in DIR/<target>/).
    #[arg(long, value_enum, default_value = "local")]
    target: Target,
    /// Write nothing; exit 1 and list the files that differ from what would be generated.
    #[arg(long)]
    check: bool,
    /// Like --check, and show unified diffs.
    #[arg(long)]
    diff: bool,
    /// Print an intermediate form to stdout instead of writing a project.
    #[arg(long, value_enum)]
    emit: Option<Emit>,
    /// Write into a non-empty directory sfgen did not create.
    #[arg(long)]
    force: bool,
}

const USAGE: u8 = 2;
const USER: u8 = 1;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    ExitCode::from(run(cli))
}

fn run(cli: Cli) -> u8 {
    if !cli.target.implemented() {
        eprintln!(
            "error: target {} is not implemented yet (implemented: {})",
            cli.target.name(),
            implemented()
        );
        return USAGE;
    }
    let path = cli.app.to_string_lossy().into_owned();
    let bytes = match std::fs::read(&cli.app) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            return USAGE;
        }
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let compiled = sfgen::compile(&bytes, &path);
    if !compiled.diagnostics.is_empty() {
        eprint!("{}", compiled.render(&path, color));
    }
    let Some(ir) = compiled.ir else { return USER };
    match cli.emit {
        Some(Emit::Ir) => {
            print!("{}", sfgen::ir::to_yaml(&ir));
            return 0;
        }
        Some(Emit::Dot) => {
            print!("{}", sfgen::ir::to_dot(&ir));
            return 0;
        }
        None => {}
    }
    let out = cli.out.expect("clap requires --out without --emit");
    let tree = sfgen::generate(&ir, cli.target);
    if cli.check || cli.diff {
        let on_disk = sfgen::write::read_owned(&out, &tree);
        let changes = sfgen::write::compare(&on_disk, &tree);
        if changes.is_empty() {
            eprintln!("{} is up to date", out.display());
            return 0;
        }
        print!("{}", sfgen::write::report(&changes, cli.diff));
        eprintln!(
            "{} differs from what sfgen would generate ({} file{})",
            out.display(),
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        );
        return USER;
    }
    match sfgen::write::write_tree(&out, &tree, cli.force) {
        Ok(()) => {
            eprintln!(
                "wrote {} files to {} (target {})",
                tree.len(),
                out.display(),
                cli.target.name()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            USAGE
        }
    }
}

fn implemented() -> String {
    sfgen::emit::IMPLEMENTED
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}
