//! sfgen: compiles object-oriented Python ("stateful entities", `@stateflow` classes) into
//! stateful dataflow programs and writes deployable projects for several runtimes.
//!
//! The pipeline, one module per stage: [`parse`] → [`analyse`] → [`split`] → [`ir`] →
//! [`emit`] → [`write`]. The library does all the work; `main.rs` is a thin CLI.

pub mod analyse;
pub mod cycles;
pub mod diag;
pub mod emit;
pub mod ir;
pub mod parse;
pub mod split;
pub mod syntax;
pub mod write;

use diag::{Code, Diagnostic};

/// The result of compiling one app: the IR when there were no errors, and every
/// diagnostic (errors and warnings) in source order.
pub struct Compiled {
    pub ir: Option<ir::Ir>,
    pub diagnostics: Vec<Diagnostic>,
    /// The source as text (invalid UTF-8 replaced), for rendering diagnostics.
    pub text: String,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }

    /// Renders the diagnostics like rustc does.
    pub fn render(&self, path: &str, color: bool) -> String {
        diag::render(
            &self.diagnostics,
            &diag::Source::new(path, &self.text),
            color,
        )
    }
}

/// The file name part of a path, as generated files mention it.
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// Stack for the compiler's threads. Every stage recurses over the syntax tree, which
/// [`parse::MAX_DEPTH`] bounds; this leaves room for that depth in debug builds too (the
/// memory is reserved, and used only as deep inputs need it).
const STACK: usize = 512 << 20;

/// Runs `f` on a thread with [`STACK`] bytes of stack; a panic in it goes on in the caller.
fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let t = std::thread::Builder::new()
            .name("sfgen".into())
            .stack_size(STACK)
            .spawn_scoped(s, f)
            .expect("cannot start the compiler thread");
        t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Compiles the bytes of an app (read from `path`) to the IR.
pub fn compile(bytes: &[u8], path: &str) -> Compiled {
    with_big_stack(|| compile_here(bytes, path))
}

fn compile_here(bytes: &[u8], path: &str) -> Compiled {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(e) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let at = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).len() as u32;
            let d = Diagnostic::error(
                Code::NotUtf8,
                "the file is not valid UTF-8",
                // the bad byte is U+FFFD in the lossy text the excerpt shows
                syntax::Span::new(at, at + char::REPLACEMENT_CHARACTER.len_utf8() as u32),
            )
            .label("invalid byte here")
            .hint("save the file as UTF-8 (Python source files are UTF-8 by default)");
            return Compiled {
                ir: None,
                diagnostics: vec![d],
                text,
            };
        }
    };
    let module = match parse::parse_module(&text, path) {
        Ok(m) => m,
        Err(d) => {
            return Compiled {
                ir: None,
                diagnostics: vec![d],
                text,
            }
        }
    };
    let (app, mut diagnostics) = analyse::analyse(&module, &text);
    let ir = if diagnostics.iter().any(|d| d.is_error()) {
        None
    } else {
        let cycles = cycles::find(&app);
        diagnostics.extend(cycles::warnings(&cycles));
        let src = diag::Source::new(file_name(path), &text);
        Some(ir::build(&app, &cycles, &src, file_name(path)))
    };
    diag::sort(&mut diagnostics);
    Compiled {
        ir,
        diagnostics,
        text,
    }
}

/// Generates the whole output tree of `target` (with its manifest) from the IR.
pub fn generate(ir: &ir::Ir, target: emit::Target) -> emit::FileTree {
    with_big_stack(|| write::with_manifest(emit::normalise(emit::emit_tree(ir, target))))
}
