//! sfgen's own Python syntax tree: what `parse` produces and every later stage reads.
//!
//! It mirrors Python's `ast` closely enough to print any parsed program back as valid
//! Python ([`unparse`]), but owes nothing to the parser crate, which stays behind `parse`.

/// A byte range in the source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub lo: u32,
    pub hi: u32,
}

impl Span {
    pub fn new(lo: u32, hi: u32) -> Span {
        Span { lo, hi }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    None,
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    /// Integer literal, as decimal digits (arbitrary size).
    Int(String),
    Float(f64),
    Complex {
        real: f64,
        imag: f64,
    },
    Ellipsis,
    Tuple(Vec<Const>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoolOp {
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Keyword {
    /// `None` for `**mapping`.
    pub name: Option<String>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comprehension {
    pub target: Expr,
    pub iter: Expr,
    pub ifs: Vec<Expr>,
    pub is_async: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FPart {
    Lit(String),
    Expr {
        value: Box<Expr>,
        conversion: Option<char>,
        spec: Option<Vec<FPart>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Name(String),
    Const(Const),
    Attribute(Box<Expr>, String),
    Subscript(Box<Expr>, Box<Expr>),
    Slice {
        lower: Option<Box<Expr>>,
        upper: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        keywords: Vec<Keyword>,
    },
    BinOp(Box<Expr>, &'static str, Box<Expr>),
    UnaryOp(&'static str, Box<Expr>),
    BoolOp(BoolOp, Vec<Expr>),
    Compare(Box<Expr>, Vec<(&'static str, Expr)>),
    IfExp {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    Lambda(Box<Params>, Box<Expr>),
    List(Vec<Expr>),
    Tuple(Vec<Expr>),
    Set(Vec<Expr>),
    /// `None` key for `**mapping`.
    Dict(Vec<(Option<Expr>, Expr)>),
    ListComp(Box<Expr>, Vec<Comprehension>),
    SetComp(Box<Expr>, Vec<Comprehension>),
    GeneratorExp(Box<Expr>, Vec<Comprehension>),
    DictComp(Box<Expr>, Box<Expr>, Vec<Comprehension>),
    FString(Vec<FPart>),
    Starred(Box<Expr>),
    NamedExpr(Box<Expr>, Box<Expr>),
    Await(Box<Expr>),
    Yield(Option<Box<Expr>>),
    YieldFrom(Box<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
    pub fn name(n: &str, span: Span) -> Expr {
        Expr::new(ExprKind::Name(n.to_string()), span)
    }
    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name(n) => Some(n),
            _ => None,
        }
    }
    /// `self.<attr>` → `attr`.
    pub fn as_self_attr(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Attribute(base, attr) if base.as_name() == Some("self") => Some(attr),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub annotation: Option<Expr>,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Params {
    pub posonly: Vec<Param>,
    pub args: Vec<Param>,
    pub vararg: Option<Param>,
    pub kwonly: Vec<Param>,
    pub kwarg: Option<Param>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FuncDef {
    pub name: String,
    pub params: Params,
    pub body: Vec<Stmt>,
    pub decorators: Vec<Expr>,
    pub returns: Option<Expr>,
    pub is_async: bool,
    /// Span of the name, for diagnostics.
    pub name_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClassDef {
    pub name: String,
    pub bases: Vec<Expr>,
    pub keywords: Vec<Keyword>,
    pub body: Vec<Stmt>,
    pub decorators: Vec<Expr>,
    pub name_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Handler {
    pub typ: Option<Expr>,
    pub name: Option<String>,
    pub body: Vec<Stmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alias {
    pub name: String,
    pub asname: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    FunctionDef(Box<FuncDef>),
    ClassDef(Box<ClassDef>),
    Return(Option<Expr>),
    Delete(Vec<Expr>),
    Assign(Vec<Expr>, Expr),
    AugAssign(Expr, &'static str, Expr),
    AnnAssign {
        target: Expr,
        annotation: Expr,
        value: Option<Expr>,
        simple: bool,
    },
    For {
        target: Expr,
        iter: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
        is_async: bool,
    },
    While {
        test: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    If {
        test: Expr,
        body: Vec<Stmt>,
        orelse: Vec<Stmt>,
    },
    With {
        items: Vec<(Expr, Option<Expr>)>,
        body: Vec<Stmt>,
        is_async: bool,
    },
    Raise {
        exc: Option<Expr>,
        cause: Option<Expr>,
    },
    Try {
        body: Vec<Stmt>,
        handlers: Vec<Handler>,
        orelse: Vec<Stmt>,
        finalbody: Vec<Stmt>,
        star: bool,
    },
    Assert {
        test: Expr,
        msg: Option<Expr>,
    },
    Import(Vec<Alias>),
    ImportFrom {
        module: Option<String>,
        names: Vec<Alias>,
        level: u32,
    },
    Global(Vec<String>),
    Nonlocal(Vec<String>),
    Expr(Expr),
    Pass,
    Break,
    Continue,
    /// A statement kept as its source text (`match`, `type X = ...`): printed verbatim,
    /// re-indented. `col` is the column its first line started at.
    Raw {
        text: String,
        col: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

impl Stmt {
    pub fn new(kind: StmtKind, span: Span) -> Stmt {
        Stmt { kind, span }
    }
}

/// A parsed module.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub body: Vec<Stmt>,
}

// ---------------------------------------------------------------------------------------
// Walking

/// Calls `f` on `e` and every expression nested in it (pre-order), including those inside
/// lambdas and comprehensions.
pub fn walk_expr<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    for c in expr_children(e) {
        walk_expr(c, f);
    }
}

/// Direct sub-expressions of `e`, in Python's evaluation order.
pub fn expr_children(e: &Expr) -> Vec<&Expr> {
    use ExprKind::*;
    let mut v: Vec<&Expr> = Vec::new();
    match &e.kind {
        Name(_) | Const(_) => {}
        Attribute(b, _) => v.push(b),
        Subscript(a, b) => {
            v.push(a);
            v.push(b)
        }
        Slice { lower, upper, step } => {
            for x in [lower, upper, step].into_iter().flatten() {
                v.push(x)
            }
        }
        Call {
            func,
            args,
            keywords,
        } => {
            v.push(func);
            v.extend(args.iter());
            v.extend(keywords.iter().map(|k| &k.value));
        }
        BinOp(a, _, b) => {
            v.push(a);
            v.push(b)
        }
        UnaryOp(_, a) => v.push(a),
        BoolOp(_, xs) | List(xs) | Tuple(xs) | Set(xs) => v.extend(xs.iter()),
        Compare(a, rest) => {
            v.push(a);
            v.extend(rest.iter().map(|(_, x)| x))
        }
        IfExp { test, body, orelse } => {
            v.push(test);
            v.push(body);
            v.push(orelse)
        }
        Lambda(p, body) => {
            for d in all_params(p).filter_map(|p| p.default.as_ref()) {
                v.push(d)
            }
            v.push(body)
        }
        Dict(items) => {
            for (k, x) in items {
                if let Some(k) = k {
                    v.push(k)
                }
                v.push(x)
            }
        }
        ListComp(a, gens) | SetComp(a, gens) | GeneratorExp(a, gens) => {
            push_gens(&mut v, gens);
            v.push(a)
        }
        DictComp(a, b, gens) => {
            push_gens(&mut v, gens);
            v.push(a);
            v.push(b)
        }
        FString(parts) => push_fparts(&mut v, parts),
        Starred(a) | Await(a) | YieldFrom(a) => v.push(a),
        NamedExpr(t, x) => {
            v.push(x);
            v.push(t)
        }
        Yield(a) => {
            if let Some(a) = a {
                v.push(a)
            }
        }
    }
    v
}

fn push_gens<'a>(v: &mut Vec<&'a Expr>, gens: &'a [Comprehension]) {
    for g in gens {
        v.push(&g.iter);
        v.push(&g.target);
        v.extend(g.ifs.iter());
    }
}

fn push_fparts<'a>(v: &mut Vec<&'a Expr>, parts: &'a [FPart]) {
    for p in parts {
        if let FPart::Expr { value, spec, .. } = p {
            v.push(value);
            if let Some(s) = spec {
                push_fparts(v, s)
            }
        }
    }
}

pub fn all_params(p: &Params) -> impl Iterator<Item = &Param> {
    p.posonly
        .iter()
        .chain(p.args.iter())
        .chain(p.vararg.iter())
        .chain(p.kwonly.iter())
        .chain(p.kwarg.iter())
}

/// Expressions directly held by a statement (not those of nested statements).
pub fn stmt_exprs(s: &Stmt) -> Vec<&Expr> {
    use StmtKind::*;
    let mut v: Vec<&self::Expr> = Vec::new();
    match &s.kind {
        FunctionDef(f) => {
            v.extend(f.decorators.iter());
            v.extend(all_params(&f.params).filter_map(|p| p.default.as_ref()));
        }
        ClassDef(c) => {
            v.extend(c.decorators.iter());
            v.extend(c.bases.iter());
            v.extend(c.keywords.iter().map(|k| &k.value));
        }
        Return(e) => v.extend(e.iter()),
        Delete(ts) => v.extend(ts.iter()),
        Assign(ts, x) => {
            v.push(x);
            v.extend(ts.iter())
        }
        AugAssign(t, _, x) => {
            v.push(t);
            v.push(x)
        }
        AnnAssign { target, value, .. } => {
            v.extend(value.iter());
            v.push(target)
        }
        For { target, iter, .. } => {
            v.push(iter);
            v.push(target)
        }
        While { test, .. } | If { test, .. } => v.push(test),
        With { items, .. } => {
            for (a, b) in items {
                v.push(a);
                v.extend(b.iter())
            }
        }
        Raise { exc, cause } => {
            v.extend(exc.iter());
            v.extend(cause.iter())
        }
        Try { handlers, .. } => v.extend(handlers.iter().filter_map(|h| h.typ.as_ref())),
        Assert { test, msg } => {
            v.push(test);
            v.extend(msg.iter())
        }
        Expr(e) => v.push(e),
        Import(_)
        | ImportFrom { .. }
        | Global(_)
        | Nonlocal(_)
        | Pass
        | Break
        | Continue
        | Raw { .. } => {}
    }
    v
}

/// Statement lists directly nested in a statement (bodies, else branches, handlers).
pub fn stmt_bodies(s: &Stmt) -> Vec<&[Stmt]> {
    use StmtKind::*;
    match &s.kind {
        FunctionDef(f) => vec![&f.body],
        ClassDef(c) => vec![&c.body],
        For { body, orelse, .. } | While { body, orelse, .. } | If { body, orelse, .. } => {
            vec![body, orelse]
        }
        With { body, .. } => vec![body],
        Try {
            body,
            handlers,
            orelse,
            finalbody,
            ..
        } => {
            let mut v: Vec<&[Stmt]> = vec![body];
            v.extend(handlers.iter().map(|h| h.body.as_slice()));
            v.push(orelse);
            v.push(finalbody);
            v
        }
        _ => vec![],
    }
}

/// Calls `f` on every statement in `body`, recursively (pre-order), not entering nested
/// function or class definitions when `into_defs` is false.
pub fn walk_stmts<'a>(body: &'a [Stmt], into_defs: bool, f: &mut dyn FnMut(&'a Stmt)) {
    for s in body {
        f(s);
        let is_def = matches!(s.kind, StmtKind::FunctionDef(_) | StmtKind::ClassDef(_));
        if is_def && !into_defs {
            continue;
        }
        for b in stmt_bodies(s) {
            walk_stmts(b, into_defs, f);
        }
    }
}

/// Names bound by an assignment target (`a`, `a, b`, `*rest`), not attributes/subscripts.
pub fn target_names(t: &Expr, out: &mut Vec<String>) {
    match &t.kind {
        ExprKind::Name(n) => out.push(n.clone()),
        ExprKind::Tuple(xs) | ExprKind::List(xs) => xs.iter().for_each(|x| target_names(x, out)),
        ExprKind::Starred(x) => target_names(x, out),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Printing back as Python

mod prec {
    pub const TUPLE: u8 = 0;
    pub const NAMED: u8 = 1;
    pub const LAMBDA: u8 = 2;
    pub const IFEXP: u8 = 3;
    pub const OR: u8 = 4;
    pub const AND: u8 = 5;
    pub const NOT: u8 = 6;
    pub const CMP: u8 = 7;
    pub const BOR: u8 = 8;
    pub const BXOR: u8 = 9;
    pub const BAND: u8 = 10;
    pub const SHIFT: u8 = 11;
    pub const ARITH: u8 = 12;
    pub const TERM: u8 = 13;
    pub const FACTOR: u8 = 14;
    pub const POWER: u8 = 15;
    pub const AWAIT: u8 = 16;
    pub const ATOM: u8 = 17;
}

fn binop_prec(op: &str) -> u8 {
    match op {
        "|" => prec::BOR,
        "^" => prec::BXOR,
        "&" => prec::BAND,
        "<<" | ">>" => prec::SHIFT,
        "+" | "-" => prec::ARITH,
        "*" | "@" | "/" | "//" | "%" => prec::TERM,
        "**" => prec::POWER,
        _ => prec::ATOM,
    }
}

/// Prints an expression as Python source.
pub fn unparse_expr(e: &Expr) -> String {
    let mut p = Printer::default();
    p.expr(e, prec::TUPLE)
}

/// Python 3.11 rules for f-strings (the generated code's floor): an expression inside a
/// replacement field may contain no backslash and no quote character of an enclosing
/// f-string, so literals there pick a quote that fits, or triple quotes for newlines.
#[derive(Default)]
struct Printer {
    /// Delimiters of the enclosing f-strings (`"`, `'`, `"""` or `'''`).
    banned: Vec<&'static str>,
    /// Inside a replacement field: no backslashes.
    in_field: bool,
    /// Something inside a field could not be written under those rules: the enclosing
    /// f-string tries its next quote.
    failed: bool,
}

impl Printer {
    fn expr(&mut self, e: &Expr, min: u8) -> String {
        use ExprKind::*;
        let (s, own) = match &e.kind {
            Name(n) => (n.clone(), prec::ATOM),
            Const(c) => (self.constant(c), prec::ATOM),
            Attribute(b, a) => {
                let base = self.expr(b, prec::ATOM);
                // `1 .real`: an int literal needs a space before the dot.
                let sep = if matches!(b.kind, Const(self::Const::Int(_))) {
                    " ."
                } else {
                    "."
                };
                (format!("{base}{sep}{a}"), prec::ATOM)
            }
            Subscript(v, i) => {
                let idx = match &i.kind {
                    Tuple(xs) if !xs.is_empty() => self.seq(xs, xs.len() == 1),
                    _ => self.expr(i, prec::TUPLE),
                };
                (format!("{}[{}]", self.expr(v, prec::ATOM), idx), prec::ATOM)
            }
            Slice { lower, upper, step } => {
                let mut s = String::new();
                if let Some(l) = lower {
                    s += &self.expr(l, prec::NAMED + 1);
                }
                s.push(':');
                if let Some(u) = upper {
                    s += &self.expr(u, prec::NAMED + 1);
                }
                if let Some(st) = step {
                    s.push(':');
                    s += &self.expr(st, prec::NAMED + 1);
                }
                (s, prec::ATOM)
            }
            Call {
                func,
                args,
                keywords,
            } => {
                let mut parts: Vec<String> = Vec::new();
                let lone_genexp = args.len() == 1
                    && keywords.is_empty()
                    && matches!(args[0].kind, GeneratorExp(..));
                for a in args {
                    if lone_genexp {
                        parts.push(self.comp_inner(&args[0]));
                    } else {
                        parts.push(self.expr(a, prec::NAMED))
                    }
                }
                for k in keywords {
                    match &k.name {
                        Some(n) => parts.push(format!("{n}={}", self.expr(&k.value, prec::NAMED))),
                        None => parts.push(format!("**{}", self.expr(&k.value, prec::OR))),
                    }
                }
                (
                    format!("{}({})", self.expr(func, prec::ATOM), parts.join(", ")),
                    prec::ATOM,
                )
            }
            BinOp(a, op, b) => {
                let p = binop_prec(op);
                let (l, r) = if *op == "**" {
                    (p + 1, prec::FACTOR)
                } else {
                    (p, p + 1)
                };
                (format!("{} {op} {}", self.expr(a, l), self.expr(b, r)), p)
            }
            UnaryOp(op, a) => {
                if *op == "not" {
                    (format!("not {}", self.expr(a, prec::NOT)), prec::NOT)
                } else {
                    (format!("{op}{}", self.expr(a, prec::FACTOR)), prec::FACTOR)
                }
            }
            BoolOp(op, xs) => {
                let (p, word) = match op {
                    self::BoolOp::And => (prec::AND, " and "),
                    self::BoolOp::Or => (prec::OR, " or "),
                };
                let parts: Vec<String> = xs.iter().map(|x| self.expr(x, p + 1)).collect();
                (parts.join(word), p)
            }
            Compare(a, rest) => {
                let mut s = self.expr(a, prec::CMP + 1);
                for (op, x) in rest {
                    s += &format!(" {op} {}", self.expr(x, prec::CMP + 1));
                }
                (s, prec::CMP)
            }
            IfExp { test, body, orelse } => (
                format!(
                    "{} if {} else {}",
                    self.expr(body, prec::IFEXP + 1),
                    self.expr(test, prec::IFEXP + 1),
                    self.expr(orelse, prec::IFEXP)
                ),
                prec::IFEXP,
            ),
            Lambda(params, body) => {
                let ps = self.params(params, false);
                let sep = if ps.is_empty() { "" } else { " " };
                (
                    format!("lambda{sep}{ps}: {}", self.expr(body, prec::LAMBDA)),
                    prec::LAMBDA,
                )
            }
            List(xs) => (format!("[{}]", self.items(xs)), prec::ATOM),
            Tuple(xs) => (format!("({})", self.seq(xs, xs.len() == 1)), prec::ATOM),
            Set(xs) => {
                if xs.is_empty() {
                    ("set()".to_string(), prec::ATOM)
                } else {
                    (format!("{{{}}}", self.items(xs)), prec::ATOM)
                }
            }
            Dict(items) => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|(k, v)| match k {
                        Some(k) => format!(
                            "{}: {}",
                            self.expr(k, prec::NAMED + 1),
                            self.expr(v, prec::NAMED + 1)
                        ),
                        None => format!("**{}", self.expr(v, prec::BOR)),
                    })
                    .collect();
                (format!("{{{}}}", parts.join(", ")), prec::ATOM)
            }
            ListComp(..) => (format!("[{}]", self.comp_inner(e)), prec::ATOM),
            SetComp(..) | DictComp(..) => (format!("{{{}}}", self.comp_inner(e)), prec::ATOM),
            GeneratorExp(..) => (format!("({})", self.comp_inner(e)), prec::ATOM),
            FString(parts) => (self.fstring(parts), prec::ATOM),
            Starred(a) => (format!("*{}", self.expr(a, prec::BOR)), prec::ATOM),
            NamedExpr(t, v) => (
                format!(
                    "{} := {}",
                    self.expr(t, prec::ATOM),
                    self.expr(v, prec::NAMED + 1)
                ),
                prec::NAMED,
            ),
            Await(a) => (format!("await {}", self.expr(a, prec::ATOM)), prec::AWAIT),
            Yield(a) => match a {
                Some(a) => (format!("(yield {})", self.expr(a, prec::TUPLE)), prec::ATOM),
                None => ("(yield)".to_string(), prec::ATOM),
            },
            YieldFrom(a) => (
                format!("(yield from {})", self.expr(a, prec::TUPLE)),
                prec::ATOM,
            ),
        };
        if own < min {
            format!("({s})")
        } else {
            s
        }
    }

    fn items(&mut self, xs: &[Expr]) -> String {
        xs.iter()
            .map(|x| self.expr(x, prec::NAMED))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Tuple elements. A tuple may print without parentheses (`a, b = ...`), where Python
    /// allows no bare `:=` inside, so assignment expressions get parentheses.
    fn seq(&mut self, xs: &[Expr], trailing_comma: bool) -> String {
        let s = xs
            .iter()
            .map(|x| self.expr(x, prec::NAMED + 1))
            .collect::<Vec<_>>()
            .join(", ");
        if trailing_comma {
            s + ","
        } else {
            s
        }
    }

    fn comp_inner(&mut self, e: &Expr) -> String {
        use ExprKind::*;
        let (head, gens) = match &e.kind {
            ListComp(a, g) | SetComp(a, g) | GeneratorExp(a, g) => (self.expr(a, prec::NAMED), g),
            DictComp(k, v, g) => (
                format!(
                    "{}: {}",
                    self.expr(k, prec::NAMED + 1),
                    self.expr(v, prec::NAMED + 1)
                ),
                g,
            ),
            _ => unreachable!("comp_inner on a non-comprehension"),
        };
        let mut s = head;
        for g in gens {
            let kw = if g.is_async { " async for " } else { " for " };
            s += &format!(
                "{kw}{} in {}",
                self.target(&g.target),
                self.expr(&g.iter, prec::OR)
            );
            for c in &g.ifs {
                s += &format!(" if {}", self.expr(c, prec::OR));
            }
        }
        s
    }

    /// An assignment or loop target: tuples without parentheses read better.
    fn target(&mut self, t: &Expr) -> String {
        match &t.kind {
            ExprKind::Tuple(xs) if !xs.is_empty() => self.seq(xs, xs.len() == 1),
            _ => self.expr(t, prec::NAMED + 1),
        }
    }

    fn constant(&mut self, c: &Const) -> String {
        match c {
            Const::None => "None".into(),
            Const::Bool(true) => "True".into(),
            Const::Bool(false) => "False".into(),
            Const::Str(s) if self.in_field => self.field_literal(s, false),
            Const::Bytes(b) if self.in_field => {
                self.field_literal(&String::from_utf8_lossy(b), true)
            }
            Const::Str(s) => str_literal(s, '"'),
            Const::Bytes(b) => bytes_literal(b),
            Const::Int(i) => i.clone(),
            Const::Float(f) => float_literal(*f),
            Const::Complex { real, imag } => {
                if *real == 0.0 {
                    format!("{}j", float_literal(*imag))
                } else {
                    format!("({} + {}j)", float_literal(*real), float_literal(*imag))
                }
            }
            Const::Ellipsis => "...".into(),
            Const::Tuple(xs) => {
                let parts: Vec<String> = xs.iter().map(|x| self.constant(x)).collect();
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
        }
    }

    /// A str (or ASCII bytes) literal inside a replacement field: no backslash, no banned
    /// quote. Sets `failed` when there is no way.
    fn field_literal(&mut self, text: &str, bytes: bool) -> String {
        let prefix = if bytes { "b" } else { "" };
        if bytes && !text.is_ascii() {
            self.failed = true;
            return format!("{prefix}\"\"");
        }
        for triple in [false, true] {
            for q in ['"', '\''] {
                if text.contains(q) {
                    continue;
                }
                let raw_ok = |c: char| {
                    c != '\\' && (c == '\t' || (c == '\n' && triple) || !(c.is_control() || is_unprintable(c)))
                };
                let d: String = std::iter::repeat_n(q, if triple { 3 } else { 1 }).collect();
                let lit = format!("{prefix}{d}{text}{d}");
                if text.chars().all(raw_ok) && !self.banned.iter().any(|b| lit.contains(b)) {
                    return lit;
                }
            }
        }
        self.failed = true;
        format!("{prefix}{}", str_literal(text, '"'))
    }

    fn fstring(&mut self, parts: &[FPart]) -> String {
        let outer_failed = self.failed;
        let mut first = None;
        for delim in ["\"", "'", "\"\"\"", "\'\'\'"] {
            self.failed = false;
            self.banned.push(delim);
            let body = self.fparts(parts, delim);
            self.banned.pop();
            let text = format!("f{delim}{body}{delim}");
            if !self.failed && !self.banned.iter().any(|b| text.contains(b)) {
                self.failed = outer_failed;
                return text;
            }
            first.get_or_insert(text);
        }
        // No quoting works under 3.11's rules (only odd hand-made trees get here): the
        // first try, and the enclosing f-string (if any) tries its next quote.
        self.failed = true;
        first.unwrap_or_default()
    }

    fn fparts(&mut self, parts: &[FPart], delim: &str) -> String {
        let q = delim.chars().next().unwrap();
        let triple = delim.len() == 3;
        let mut s = String::new();
        for p in parts {
            match p {
                FPart::Lit(t) => {
                    let lit = if self.in_field {
                        // a nested f-string: its text may need no escapes either
                        if t.contains(q) || t.chars().any(|c| c == '\\' || (c == '\n' && !triple) || (c != '\n' && c != '\t' && (c.is_control() || is_unprintable(c)))) {
                            self.failed = true;
                        }
                        t.clone()
                    } else {
                        escape_in(t, q)
                    };
                    s += &lit.replace('{', "{{").replace('}', "}}");
                }
                FPart::Expr {
                    value,
                    conversion,
                    spec,
                } => {
                    let was_in_field = self.in_field;
                    self.in_field = true;
                    // a lambda's `:` would start the format spec: it gets parentheses
                    let mut x = self.expr(value, prec::IFEXP);
                    if x.starts_with('{') {
                        x.insert(0, ' ');
                    }
                    let newline = !triple && x.contains('\n');
                    if newline || x.contains('\\') || self.banned.iter().any(|b| x.contains(b)) {
                        self.failed = true;
                    }
                    s.push('{');
                    s += &x;
                    if let Some(c) = conversion {
                        s.push('!');
                        s.push(*c);
                    }
                    if let Some(spec) = spec {
                        s.push(':');
                        s += &self.fparts(spec, delim);
                    }
                    s.push('}');
                    self.in_field = was_in_field;
                }
            }
        }
        s
    }

    fn param(&mut self, p: &Param, annotations: bool) -> String {
        let mut s = p.name.clone();
        let annotated = annotations && p.annotation.is_some();
        if annotations {
            if let Some(a) = &p.annotation {
                s += &format!(": {}", self.expr(a, prec::NAMED + 1));
            }
        }
        if let Some(d) = &p.default {
            let eq = if annotated { " = " } else { "=" };
            s += &format!("{eq}{}", self.expr(d, prec::NAMED + 1));
        }
        s
    }

    fn params(&mut self, p: &Params, annotations: bool) -> String {
        let mut parts: Vec<String> = Vec::new();
        for x in &p.posonly {
            parts.push(self.param(x, annotations));
        }
        if !p.posonly.is_empty() {
            parts.push("/".into());
        }
        for x in &p.args {
            parts.push(self.param(x, annotations));
        }
        if let Some(v) = &p.vararg {
            parts.push(format!("*{}", self.param(v, annotations)));
        } else if !p.kwonly.is_empty() {
            parts.push("*".into());
        }
        for x in &p.kwonly {
            parts.push(self.param(x, annotations));
        }
        if let Some(k) = &p.kwarg {
            parts.push(format!("**{}", self.param(k, annotations)));
        }
        parts.join(", ")
    }
}

/// A Python string literal for `s`, quoted with `quote` where it can be.
pub fn str_literal(s: &str, quote: char) -> String {
    let q = if s.contains(quote) && !s.contains(other_quote(quote)) {
        other_quote(quote)
    } else {
        quote
    };
    format!("{q}{}{q}", escape_in(s, q))
}

/// The body of a string literal quoted with `q`: escapes for `q`, backslashes, control
/// and unprintable characters.
fn escape_in(s: &str, q: char) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c)
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_unprintable(c) => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"))
                } else {
                    out.push_str(&format!("\\U{n:08x}"))
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn other_quote(q: char) -> char {
    if q == '"' {
        '\''
    } else {
        '"'
    }
}

/// Characters that should be escaped to keep generated files plain, readable text.
fn is_unprintable(c: char) -> bool {
    let n = c as u32;
    (0x80..0xa0).contains(&n)
        || (0xd800..0xe000).contains(&n)
        || matches!(n, 0x2028 | 0x2029 | 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff)
}

fn bytes_literal(b: &[u8]) -> String {
    let mut out = String::from("b\"");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// A float literal that reads back as the same value.
pub fn float_literal(f: f64) -> String {
    if f.is_infinite() {
        return "1e999".into(); // only reachable from literals that overflowed
    }
    if f.is_nan() {
        return "float(\"nan\")".into();
    }
    let s = format!("{f:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") {
        s
    } else {
        format!("{s}.0")
    }
}

/// Prints statements as Python source, each line prefixed with `indent`.
pub fn unparse_stmts(body: &[Stmt], indent: &str) -> String {
    let mut out = String::new();
    for s in body {
        unparse_stmt_into(s, indent, &mut out);
    }
    out
}

pub fn unparse_stmt(s: &Stmt, indent: &str) -> String {
    let mut out = String::new();
    unparse_stmt_into(s, indent, &mut out);
    out
}

fn block(body: &[Stmt], indent: &str, out: &mut String) {
    let inner = format!("{indent}    ");
    if body.is_empty() {
        out.push_str(&inner);
        out.push_str("pass\n");
    }
    for s in body {
        unparse_stmt_into(s, &inner, out);
    }
}

fn unparse_stmt_into(s: &Stmt, indent: &str, out: &mut String) {
    use StmtKind::*;
    let mut p = Printer::default();
    let line = |out: &mut String, text: String| {
        out.push_str(indent);
        out.push_str(&text);
        out.push('\n');
    };
    match &s.kind {
        FunctionDef(f) => {
            for d in &f.decorators {
                line(out, format!("@{}", p.expr(d, prec::NAMED)));
            }
            let kw = if f.is_async { "async def" } else { "def" };
            let ret = f
                .returns
                .as_ref()
                .map(|r| format!(" -> {}", p.expr(r, prec::TUPLE)))
                .unwrap_or_default();
            line(
                out,
                format!("{kw} {}({}){ret}:", f.name, p.params(&f.params, true)),
            );
            block(&f.body, indent, out);
        }
        ClassDef(c) => {
            for d in &c.decorators {
                line(out, format!("@{}", p.expr(d, prec::NAMED)));
            }
            let mut args: Vec<String> = c.bases.iter().map(|b| p.expr(b, prec::NAMED)).collect();
            for k in &c.keywords {
                match &k.name {
                    Some(n) => args.push(format!("{n}={}", p.expr(&k.value, prec::NAMED))),
                    None => args.push(format!("**{}", p.expr(&k.value, prec::OR))),
                }
            }
            let args = if args.is_empty() {
                String::new()
            } else {
                format!("({})", args.join(", "))
            };
            line(out, format!("class {}{args}:", c.name));
            block(&c.body, indent, out);
        }
        Return(e) => match e {
            Some(e) => line(out, format!("return {}", p.target(e))),
            None => line(out, "return".into()),
        },
        Delete(ts) => {
            let parts: Vec<String> = ts.iter().map(|t| p.target(t)).collect();
            line(out, format!("del {}", parts.join(", ")))
        }
        Assign(ts, v) => {
            let mut s = String::new();
            for t in ts {
                s += &p.target(t);
                s += " = ";
            }
            s += &p.target(v);
            line(out, s)
        }
        AugAssign(t, op, v) => line(out, format!("{} {op}= {}", p.target(t), p.target(v))),
        AnnAssign {
            target,
            annotation,
            value,
            simple,
        } => {
            let parens = !*simple && matches!(target.kind, ExprKind::Name(_));
            let t = if parens {
                format!("({})", p.target(target))
            } else {
                p.target(target)
            };
            let mut s = format!("{t}: {}", p.expr(annotation, prec::NAMED + 1));
            if let Some(v) = value {
                s += &format!(" = {}", p.target(v));
            }
            line(out, s)
        }
        For {
            target,
            iter,
            body,
            orelse,
            is_async,
        } => {
            let kw = if *is_async { "async for" } else { "for" };
            line(
                out,
                format!("{kw} {} in {}:", p.target(target), p.target(iter)),
            );
            block(body, indent, out);
            if !orelse.is_empty() {
                line(out, "else:".into());
                block(orelse, indent, out);
            }
        }
        While { test, body, orelse } => {
            line(out, format!("while {}:", p.expr(test, prec::NAMED)));
            block(body, indent, out);
            if !orelse.is_empty() {
                line(out, "else:".into());
                block(orelse, indent, out);
            }
        }
        If { test, body, orelse } => {
            line(out, format!("if {}:", p.expr(test, prec::NAMED)));
            block(body, indent, out);
            let mut rest = orelse;
            loop {
                match rest.as_slice() {
                    [] => break,
                    [Stmt {
                        kind: If { test, body, orelse },
                        ..
                    }] => {
                        line(out, format!("elif {}:", p.expr(test, prec::NAMED)));
                        block(body, indent, out);
                        rest = orelse;
                    }
                    _ => {
                        line(out, "else:".into());
                        block(rest, indent, out);
                        break;
                    }
                }
            }
        }
        With {
            items,
            body,
            is_async,
        } => {
            let kw = if *is_async { "async with" } else { "with" };
            let parts: Vec<String> = items
                .iter()
                .map(|(e, v)| match v {
                    Some(v) => format!("{} as {}", p.expr(e, prec::NAMED + 1), p.target(v)),
                    None => p.expr(e, prec::NAMED + 1),
                })
                .collect();
            line(out, format!("{kw} {}:", parts.join(", ")));
            block(body, indent, out);
        }
        Raise { exc, cause } => {
            let mut s = "raise".to_string();
            if let Some(e) = exc {
                s += &format!(" {}", p.expr(e, prec::NAMED + 1));
            }
            if let Some(c) = cause {
                s += &format!(" from {}", p.expr(c, prec::NAMED + 1));
            }
            line(out, s)
        }
        Try {
            body,
            handlers,
            orelse,
            finalbody,
            star,
        } => {
            line(out, "try:".into());
            block(body, indent, out);
            let ex = if *star { "except*" } else { "except" };
            for h in handlers {
                let mut s = ex.to_string();
                if let Some(t) = &h.typ {
                    s += &format!(" {}", p.expr(t, prec::NAMED + 1));
                }
                if let Some(n) = &h.name {
                    s += &format!(" as {n}");
                }
                s.push(':');
                line(out, s);
                block(&h.body, indent, out);
            }
            if !orelse.is_empty() {
                line(out, "else:".into());
                block(orelse, indent, out);
            }
            if !finalbody.is_empty() {
                line(out, "finally:".into());
                block(finalbody, indent, out);
            }
        }
        Assert { test, msg } => {
            let mut s = format!("assert {}", p.expr(test, prec::NAMED + 1));
            if let Some(m) = msg {
                s += &format!(", {}", p.expr(m, prec::NAMED + 1));
            }
            line(out, s)
        }
        Import(names) => line(out, format!("import {}", aliases(names))),
        ImportFrom {
            module,
            names,
            level,
        } => {
            let dots = ".".repeat(*level as usize);
            line(
                out,
                format!(
                    "from {dots}{} import {}",
                    module.as_deref().unwrap_or(""),
                    aliases(names)
                ),
            )
        }
        Global(ns) => line(out, format!("global {}", ns.join(", "))),
        Nonlocal(ns) => line(out, format!("nonlocal {}", ns.join(", "))),
        Expr(e) => line(out, p.target(e)),
        Pass => line(out, "pass".into()),
        Break => line(out, "break".into()),
        Continue => line(out, "continue".into()),
        Raw { text, col } => {
            for (i, l) in text.lines().enumerate() {
                let l = if i == 0 {
                    l
                } else {
                    strip_cols(l, *col as usize)
                };
                if l.trim().is_empty() {
                    out.push('\n');
                } else {
                    line(out, l.to_string());
                }
            }
        }
    }
}

fn strip_cols(l: &str, n: usize) -> &str {
    let ws = l.len() - l.trim_start_matches([' ', '\t']).len();
    &l[ws.min(n)..]
}

fn aliases(names: &[Alias]) -> String {
    names
        .iter()
        .map(|a| match &a.asname {
            Some(x) => format!("{} as {x}", a.name),
            None => a.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
