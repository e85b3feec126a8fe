//! Diagnostics: problems in the user's program, with a code, a span, a label and a hint,
//! rendered like rustc's (annotate-snippets).

use annotate_snippets::{Level, Renderer, Snippet};

use crate::syntax::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($($name:ident = $num:literal, $sev:ident, $doc:literal;)*) => {
        /// Every diagnostic sfgen can report. The number never changes once released.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Code { $($name),* }
        impl Code {
            pub fn id(self) -> &'static str { match self { $(Code::$name => $num),* } }
            pub fn severity(self) -> Severity { match self { $(Code::$name => Severity::$sev),* } }
            pub fn describe(self) -> &'static str { match self { $(Code::$name => $doc),* } }
            pub const ALL: &'static [Code] = &[$(Code::$name),*];
        }
    };
}

codes! {
    Syntax = "SF0001", Error, "the file is not valid Python";
    NotUtf8 = "SF0002", Error, "the file is not UTF-8 text";
    NoEntities = "SF0003", Error, "the file defines no @stateflow class";
    MissingKey = "SF0004", Error, "an entity has no __key__ method";
    BadKey = "SF0005", Error, "__key__ does not return exactly one field";
    KeyAssigned = "SF0006", Error, "the key field is assigned outside __init__";
    UndeclaredField = "SF0007", Error, "a field is assigned that __init__ does not declare";
    UnannotatedParam = "SF0008", Error, "a method parameter has no type annotation";
    UnannotatedReturn = "SF0009", Error, "a method has no return type annotation";
    AsyncMethod = "SF0010", Error, "entity methods cannot be async";
    Generator = "SF0011", Error, "entity methods cannot be generators";
    NestedClass = "SF0012", Error, "entities cannot contain nested classes";
    GlobalNonlocal = "SF0013", Error, "global/nonlocal in an entity method";
    VarArgs = "SF0014", Error, "*args/**kwargs on an entity method";
    ForeignAssign = "SF0015", Error, "assignment to another entity's attribute";
    RemoteInTry = "SF0016", Error, "remote operation inside try/with";
    RemoteInNested = "SF0017", Error, "remote operation inside a lambda, comprehension or nested function";
    NotAnEntity = "SF0018", Error, "a parameter is typed with a class that is not @stateflow";
    ReservedName = "SF0019", Error, "a name collides with sfgen's generated internals";
    UnannotatedField = "SF0020", Error, "a field declared in __init__ has no type annotation";
    RemoteInInit = "SF0021", Error, "__init__ performs a remote operation";
    UnknownMember = "SF0022", Error, "a remote call or read names a method or field the entity does not have";
    RemoteInTarget = "SF0023", Error, "remote operation in an unsupported position";
    NoInit = "SF0024", Error, "an entity has no __init__";
    Duplicate = "SF0025", Error, "an entity or method is defined twice";
    NoSelf = "SF0026", Error, "an entity method does not take `self` as its first parameter";
    TooDeep = "SF0027", Error, "the program nests expressions or statements too deeply";
    OpaqueInSplit = "SF0028", Error, "a `match` statement in a method that waits for other entities";
    UnknownType = "SW0001", Warning, "an annotation names a type sfgen does not know";
    UnusedEntityResult = "SW0002", Warning, "a method's declared return type disagrees with what it returns";
    CallCycle = "SW0003", Warning, "a cycle of calls between entities can deadlock under concurrency";
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub span: Span,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub message: String,
    pub span: Span,
    pub label: String,
    pub hint: Option<String>,
    pub notes: Vec<Note>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: String::new(),
            hint: None,
            notes: vec![],
        }
    }
    pub fn label(mut self, l: impl Into<String>) -> Self {
        self.label = l.into();
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
    pub fn note(mut self, span: Span, label: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            label: label.into(),
        });
        self
    }
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// The text of a source file with a line index, for line:col positions.
pub struct Source<'a> {
    pub path: &'a str,
    pub text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub fn new(path: &'a str, text: &'a str) -> Source<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, at: u32) -> (usize, usize) {
        let at = (at as usize).min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= at) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..at)
            .map(|s| s.chars().count())
            .unwrap_or(at - start);
        (line + 1, col + 1)
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, at: u32) -> usize {
        self.line_col(at).0
    }

    fn clamp(&self, s: Span) -> std::ops::Range<usize> {
        let mut lo = (s.lo as usize).min(self.text.len());
        let mut hi = (s.hi as usize).clamp(lo, self.text.len());
        while !self.text.is_char_boundary(lo) {
            lo -= 1;
        }
        while !self.text.is_char_boundary(hi) {
            hi += 1;
        }
        // An empty span on a blank line (say, "unexpected EOF" after a trailing newline)
        // shows no excerpt: point at the end of the last non-blank line before it instead.
        let bytes = self.text.as_bytes();
        if lo == hi {
            while lo > 0 && (lo == bytes.len() || bytes[lo] == b'\n') && bytes[lo - 1] == b'\n' {
                lo -= 1;
            }
            hi = lo;
        }
        // Point at the first line of a multi-line span: excerpts stay short.
        if let Some(nl) = self.text[lo..hi].find('\n') {
            hi = lo + nl;
        }
        lo..hi
    }
}

/// Renders diagnostics like rustc. `color` selects ANSI styling.
pub fn render(diags: &[Diagnostic], src: &Source<'_>, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    // annotate-snippets widens tabs in the excerpt but not under it: show each tab as one
    // space (same length in bytes, so spans stay right) to keep carets under their text.
    let text = src.text.replace('\t', " ");
    let mut out = String::new();
    for d in diags {
        let level = match d.severity() {
            Severity::Error => Level::Error,
            Severity::Warning => Level::Warning,
        };
        let mut message = level.title(&d.message).id(d.code.id());
        // annotate-snippets shows nothing useful for a blank file: name the file only.
        let blank = src.text.trim().is_empty();
        if !blank {
            let mut snippet = Snippet::source(&text)
                .line_start(1)
                .origin(src.path)
                .fold(true);
            snippet = snippet.annotation(level.span(src.clamp(d.span)).label(&d.label));
            for n in &d.notes {
                snippet = snippet.annotation(Level::Info.span(src.clamp(n.span)).label(&n.label));
            }
            message = message.snippet(snippet);
        }
        if let Some(h) = &d.hint {
            message = message.footer(Level::Help.title(h));
        }
        let rendered = renderer.render(message).to_string();
        if blank {
            let (title, rest) = rendered.split_once('\n').unwrap_or((&rendered, ""));
            out += &format!("{title}\n --> {}\n{rest}", src.path);
        } else {
            out += &rendered;
        }
        out += "\n\n";
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        out += &format!(
            "error: could not compile `{}`: {} error{}",
            src.path,
            errors,
            plural(errors)
        );
        if warnings > 0 {
            out += &format!(", {} warning{}", warnings, plural(warnings));
        }
        out += "\n";
    } else if warnings > 0 {
        out += &format!(
            "warning: `{}` compiled with {} warning{}\n",
            src.path,
            warnings,
            plural(warnings)
        );
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Sorts diagnostics by position, then code, so output is stable.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| (a.span.lo, a.code, &a.message).cmp(&(b.span.lo, b.code, &b.message)));
}
