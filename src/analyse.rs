//! Finds `@stateflow` classes and builds a parser-free model of the app: entities, fields,
//! key, methods, the types of everything that can hold an entity reference, and the remote
//! operations of every method. Reports every problem at once.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Code, Diagnostic};
use crate::syntax::*;

/// A type, as far as sfgen needs to know it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ty {
    Int,
    Float,
    Str,
    Bool,
    Bytes,
    None,
    Any,
    Entity(String),
    List(Box<Ty>),
    Set(Box<Ty>),
    Dict(Box<Ty>, Box<Ty>),
    Tuple(Vec<Ty>),
    Optional(Box<Ty>),
    /// A name sfgen does not interpret (a user class, an unknown type).
    Other(String),
}

impl Ty {
    /// The entity this type refers to, directly or through `Optional`.
    pub fn entity(&self) -> Option<&str> {
        match self {
            Ty::Entity(e) => Some(e),
            Ty::Optional(t) => t.entity(),
            _ => None,
        }
    }

    /// The type of the items iterating over a value of this type yields.
    pub fn elem(&self) -> Option<Ty> {
        match self {
            Ty::List(t) | Ty::Set(t) => Some((**t).clone()),
            Ty::Dict(k, _) => Some((**k).clone()),
            Ty::Tuple(ts) if !ts.is_empty() && ts.iter().all(|t| t == &ts[0]) => {
                Some(ts[0].clone())
            }
            Ty::Optional(t) => t.elem(),
            Ty::Str => Some(Ty::Str),
            _ => None,
        }
    }

    /// Whether values of this type may contain entity references.
    pub fn mentions_entity(&self) -> bool {
        match self {
            Ty::Entity(_) => true,
            Ty::List(t) | Ty::Set(t) | Ty::Optional(t) => t.mentions_entity(),
            Ty::Dict(k, v) => k.mentions_entity() || v.mentions_entity(),
            Ty::Tuple(ts) => ts.iter().any(|t| t.mentions_entity()),
            _ => false,
        }
    }

    /// Python-like spelling, for the IR and messages.
    pub fn show(&self) -> String {
        match self {
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Str => "str".into(),
            Ty::Bool => "bool".into(),
            Ty::Bytes => "bytes".into(),
            Ty::None => "None".into(),
            Ty::Any => "Any".into(),
            Ty::Entity(e) => e.clone(),
            Ty::List(t) => format!("List[{}]", t.show()),
            Ty::Set(t) => format!("Set[{}]", t.show()),
            Ty::Dict(k, v) => format!("Dict[{}, {}]", k.show(), v.show()),
            Ty::Tuple(ts) => format!(
                "Tuple[{}]",
                ts.iter().map(|t| t.show()).collect::<Vec<_>>().join(", ")
            ),
            Ty::Optional(t) => format!("Optional[{}]", t.show()),
            Ty::Other(n) => n.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ParamKind {
    PositionalOnly,
    Positional,
    KeywordOnly,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    pub ty: Ty,
    pub default: Option<String>,
    pub kind: ParamKind,
}

/// A remote operation found in a method.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RemoteKind {
    /// `ref.method(...)` on a reference to `entity`.
    Call { entity: String, method: String },
    /// `ref.field` on a reference to `entity`.
    Read { entity: String, field: String },
    /// `Entity(...)`.
    Create { entity: String },
    /// `self.method(...)` where `method` is split.
    SelfCall { method: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct RemoteOp {
    pub kind: RemoteKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Method {
    pub name: String,
    pub def: FuncDef,
    pub params: Vec<ParamInfo>,
    pub returns: Ty,
    pub read_only: bool,
    /// Whether the method (transitively through self) performs remote operations and so
    /// must be split into blocks.
    pub split: bool,
    /// Remote operations in source order, keyed by the span of the expression.
    pub remote: BTreeMap<Span, RemoteOp>,
    /// Types of locals that matter (entity references and containers of them).
    pub locals: BTreeMap<String, Ty>,
    /// Methods of self this method calls.
    pub self_calls: BTreeSet<String>,
    /// Whether clients and other entities may call it.
    pub public: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub name: String,
    pub name_span: Span,
    pub key: String,
    pub fields: Vec<Field>,
    pub methods: Vec<Method>,
    /// The class as written, without the `@stateflow` decorator.
    pub class: ClassDef,
    pub span: Span,
}

impl Entity {
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A top-level statement of the app, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// Plain module code (imports, helpers, exception classes), copied as written.
    Code(Stmt),
    /// The entity with this index in [`App::entities`].
    Entity(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct App {
    pub items: Vec<Item>,
    pub entities: Vec<Entity>,
}

impl App {
    pub fn entity(&self, name: &str) -> Option<&Entity> {
        self.entities.iter().find(|e| e.name == name)
    }
}

/// Builtins and methods that do not change their arguments (for the read-only analysis).
const PURE_FUNCS: &[&str] = &[
    "len",
    "str",
    "int",
    "float",
    "bool",
    "repr",
    "sum",
    "min",
    "max",
    "abs",
    "round",
    "sorted",
    "list",
    "dict",
    "tuple",
    "set",
    "frozenset",
    "any",
    "all",
    "isinstance",
    "enumerate",
    "zip",
    "range",
    "reversed",
    "print",
    "hash",
    "id",
    "format",
    "divmod",
    "pow",
    "ord",
    "chr",
    "type",
    "iter",
    "map",
    "filter",
];
const PURE_METHODS: &[&str] = &[
    "get",
    "keys",
    "values",
    "items",
    "copy",
    "count",
    "index",
    "startswith",
    "endswith",
    "upper",
    "lower",
    "strip",
    "split",
    "join",
    "format",
    "find",
    "replace",
    "isdigit",
    "isalpha",
    "issubset",
    "issuperset",
    "union",
    "intersection",
    "difference",
    "lstrip",
    "rstrip",
    "title",
    "encode",
    "decode",
];

fn is_stateflow_decorator(d: &Expr) -> bool {
    match &d.kind {
        ExprKind::Name(n) => n == "stateflow",
        ExprKind::Attribute(b, a) => a == "stateflow" && b.as_name() == Some("stateflow"),
        ExprKind::Call { func, .. } => is_stateflow_decorator(func),
        _ => false,
    }
}

fn is_stateflow_import(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::ImportFrom {
            module: Some(m), ..
        } => m == "stateflow",
        StmtKind::Import(names) => names.iter().all(|a| a.name == "stateflow"),
        _ => false,
    }
}

/// Names that generated code defines at module level.
const RESERVED_TOP: &[&str] = &["ENTITIES", "_sf", "sfgen_runtime"];

struct Ctx<'a> {
    diags: Vec<Diagnostic>,
    entity_names: BTreeSet<String>,
    /// Module-level classes that are not entities.
    plain_classes: BTreeSet<String>,
    /// The module's plain classes, for the methods entities inherit from them.
    plain_defs: BTreeMap<String, ClassDef>,
    /// Every name bound at module level (for unknown-type warnings).
    module_names: BTreeSet<String>,
    fields: BTreeMap<String, BTreeMap<String, Ty>>,
    methods: BTreeMap<String, BTreeMap<String, Ty>>,
    /// Calls to methods of self, per (entity, calling method), with where they are: once
    /// it is known which methods are split, those in a position that cannot suspend are
    /// errors.
    self_sites: BTreeMap<(String, String), Vec<SelfSite>>,
    src: &'a str,
}

impl<'a> Ctx<'a> {
    fn new(src: &'a str) -> Ctx<'a> {
        Ctx {
            diags: vec![],
            entity_names: BTreeSet::new(),
            plain_classes: BTreeSet::new(),
            plain_defs: BTreeMap::new(),
            module_names: BTreeSet::new(),
            fields: BTreeMap::new(),
            methods: BTreeMap::new(),
            self_sites: BTreeMap::new(),
            src,
        }
    }
}

/// Where an expression is, for the positions a remote operation cannot be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// An ordinary position of a method body: the split can suspend here.
    Plain,
    /// Inside a `try` or `with` statement (`kw`, whose first line is at `span`).
    Guarded { kw: &'static str, span: Span },
    /// Inside a lambda, comprehension or nested function (`what`).
    Nested(&'static str),
    /// A `for` target.
    ForTarget,
    /// In `__init__`.
    Init,
    /// Inside a statement sfgen keeps as text (`match`): it cannot be split.
    Opaque,
    /// Not called but taken as a value (`key=self.price_of`): called later, by code that
    /// cannot suspend.
    Escaped,
}

/// A call `self.<method>(...)` in a method body.
#[derive(Clone, Debug)]
struct SelfSite {
    method: String,
    span: Span,
    place: Place,
}

/// Analyses a parsed module. Returns the model and every diagnostic (errors and warnings);
/// the model is only meaningful when there is no error.
pub fn analyse(module: &Module, src: &str) -> (App, Vec<Diagnostic>) {
    let mut cx = Ctx::new(src);

    // Pass 1: which classes are entities, what the module defines.
    let mut entity_defs: Vec<(&ClassDef, Span)> = vec![];
    let mut first_plain_class: Option<&ClassDef> = None;
    for s in &module.body {
        match &s.kind {
            StmtKind::ClassDef(c) if c.decorators.iter().any(is_stateflow_decorator) => {
                if !cx.entity_names.insert(c.name.clone()) {
                    let mut d = Diagnostic::error(
                        Code::Duplicate,
                        format!("entity `{}` is defined twice", c.name),
                        c.name_span,
                    )
                    .label("second definition")
                    .hint("give each @stateflow class its own name, or merge the two definitions");
                    if let Some((first, _)) = entity_defs.iter().find(|(e, _)| e.name == c.name) {
                        d = d.note(first.name_span, "first defined here");
                    }
                    cx.diags.push(d);
                    continue;
                }
                entity_defs.push((c, s.span));
            }
            StmtKind::ClassDef(c) => {
                cx.plain_classes.insert(c.name.clone());
                cx.plain_defs.insert(c.name.clone(), (**c).clone());
                cx.module_names.insert(c.name.clone());
                first_plain_class.get_or_insert(c);
            }
            _ => {}
        }
        bound_names(s, &mut cx.module_names);
    }
    for s in &module.body {
        for (n, span) in bound_name_spans(s) {
            if RESERVED_TOP.contains(&n.as_str()) || n.starts_with("_sf_") {
                cx.diags.push(reserved(&n, span));
            }
        }
    }
    if entity_defs.is_empty() {
        let d = match (module.body.is_empty(), first_plain_class) {
            (true, _) => Diagnostic::error(
                Code::NoEntities,
                "no @stateflow class in this file: it is empty",
                Span::new(0, 0),
            ),
            (false, Some(c)) => Diagnostic::error(
                Code::NoEntities,
                "no @stateflow class in this file",
                c.name_span,
            )
            .label(format!("`{}` is not marked @stateflow", c.name)),
            (false, None) => Diagnostic::error(
                Code::NoEntities,
                "no @stateflow class in this file",
                module.body[0].span,
            )
            .label("the file defines no class"),
        };
        cx.diags.push(d.hint(
            "mark each stateful entity class with `@stateflow` (`from stateflow import stateflow`)",
        ));
    }

    // Pass 2: fields and method signatures of every entity (needed to type remote calls).
    for (c, _) in &entity_defs {
        let fields = collect_fields(&mut cx, c);
        let mut readable: BTreeMap<String, Ty> = fields
            .iter()
            .map(|f| (f.name.clone(), f.ty.clone()))
            .collect();
        // A `@property` reads like a field from other entities (`o.total`): the entity
        // computes it when the read arrives.
        let inherited = inherited_defs(&cx, c);
        let own = c.body.iter().filter_map(|s| match &s.kind {
            StmtKind::FunctionDef(f) => Some(&**f),
            _ => None,
        });
        for f in own.chain(inherited.iter()) {
            if f.decorators.iter().any(|d| d.as_name() == Some("property")) {
                let ty = f.returns.as_ref().map(|r| ann_type(&cx, r)).unwrap_or(Ty::Any);
                readable.entry(f.name.clone()).or_insert(ty);
            }
        }
        cx.fields.insert(c.name.clone(), readable);
        let mut sigs = BTreeMap::new();
        for s in &c.body {
            if let StmtKind::FunctionDef(f) = &s.kind {
                let ret = f
                    .returns
                    .as_ref()
                    .map(|r| ann_type(&cx, r))
                    .unwrap_or(Ty::Any);
                sigs.insert(f.name.clone(), ret);
            }
        }
        for f in inherited.iter().filter(|f| plain_callable(f)) {
            let ret = f.returns.as_ref().map(|r| ann_type(&cx, r)).unwrap_or(Ty::Any);
            sigs.entry(f.name.clone()).or_insert(ret);
        }
        cx.methods.insert(c.name.clone(), sigs);
    }

    // Pass 3: each entity in full.
    let mut entities = vec![];
    for (c, span) in &entity_defs {
        entities.push(entity(&mut cx, c, *span));
    }
    decide_split(&mut entities, &mut cx);

    let mut items = vec![];
    let mut idx = 0;
    for s in &module.body {
        match &s.kind {
            StmtKind::ClassDef(c) if c.decorators.iter().any(is_stateflow_decorator) => {
                if let Some(i) = entities.iter().position(|e| e.name == c.name) {
                    if i == idx {
                        items.push(Item::Entity(i));
                        idx += 1;
                    }
                }
            }
            _ if is_stateflow_import(s) => {}
            _ => items.push(Item::Code(s.clone())),
        }
    }
    (App { items, entities }, cx.diags)
}

fn reserved(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(Code::ReservedName, format!("`{name}` collides with a name sfgen generates"), span)
        .label("reserved name")
        .hint("rename it: names starting with `_sf_` and the module names `ENTITIES`, `_sf`, `sfgen_runtime` are sfgen's")
}

/// Names a top-level statement binds.
fn bound_names(s: &Stmt, out: &mut BTreeSet<String>) {
    out.extend(bound_name_spans(s).into_iter().map(|(n, _)| n));
}

/// Names a statement binds, each with the span of where it is bound (the name itself
/// when the syntax tree has its span, else the statement).
fn bound_name_spans(s: &Stmt) -> Vec<(String, Span)> {
    let mut out = vec![];
    match &s.kind {
        StmtKind::ClassDef(c) => out.push((c.name.clone(), c.name_span)),
        StmtKind::FunctionDef(f) => out.push((f.name.clone(), f.name_span)),
        StmtKind::Assign(ts, _) => ts.iter().for_each(|t| target_name_spans(t, &mut out)),
        StmtKind::AnnAssign { target, .. } | StmtKind::AugAssign(target, _, _) => {
            target_name_spans(target, &mut out)
        }
        StmtKind::For { target, .. } => target_name_spans(target, &mut out),
        // `type Alias = ...` (kept as text).
        StmtKind::Raw { text, .. } => {
            let mut words = text.split_whitespace();
            if words.next() == Some("type") {
                if let Some(n) = words.next() {
                    let n: String = n
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !n.is_empty() {
                        out.push((n, s.span));
                    }
                }
            }
        }
        StmtKind::With { items, .. } => items
            .iter()
            .filter_map(|(_, t)| t.as_ref())
            .for_each(|t| target_name_spans(t, &mut out)),
        StmtKind::Import(names) | StmtKind::ImportFrom { names, .. } => {
            for a in names {
                let n = a
                    .asname
                    .clone()
                    .unwrap_or_else(|| a.name.split('.').next().unwrap_or("").to_string());
                if n != "*" {
                    out.push((n, s.span));
                }
            }
        }
        _ => {}
    }
    out
}

/// Names bound by an assignment target, with their spans.
fn target_name_spans(t: &Expr, out: &mut Vec<(String, Span)>) {
    match &t.kind {
        ExprKind::Name(n) => out.push((n.clone(), t.span)),
        ExprKind::Tuple(xs) | ExprKind::List(xs) => {
            xs.iter().for_each(|x| target_name_spans(x, out))
        }
        ExprKind::Starred(x) => target_name_spans(x, out),
        _ => {}
    }
}

/// The type an annotation denotes.
fn ann_type(cx: &Ctx<'_>, e: &Expr) -> Ty {
    match &e.kind {
        ExprKind::Const(Const::None) => Ty::None,
        ExprKind::Const(Const::Str(s)) => {
            let s = s.trim();
            if is_identifier(s) {
                name_type(cx, s)
            } else {
                // A string holding a generic (`"List[Account]"`): read it with a tiny parser.
                parse_str_type(cx, s).unwrap_or(Ty::Any)
            }
        }
        ExprKind::Name(n) => name_type(cx, n),
        ExprKind::Attribute(base, a) if matches!(base.as_name(), Some("typing") | Some("t")) => {
            name_type(cx, a)
        }
        ExprKind::Subscript(base, arg) => {
            let head = match &base.kind {
                ExprKind::Name(n) => n.as_str(),
                ExprKind::Attribute(_, a) => a.as_str(),
                _ => "",
            };
            let args: Vec<&Expr> = match &arg.kind {
                ExprKind::Tuple(xs) => xs.iter().collect(),
                _ => vec![arg],
            };
            let a = |i: usize| args.get(i).map(|x| ann_type(cx, x)).unwrap_or(Ty::Any);
            match head {
                "List" | "list" | "Sequence" | "Iterable" | "MutableSequence" | "Collection" => {
                    Ty::List(Box::new(a(0)))
                }
                "Set" | "set" | "FrozenSet" | "frozenset" | "AbstractSet" | "MutableSet" => {
                    Ty::Set(Box::new(a(0)))
                }
                "Dict" | "dict" | "Mapping" | "MutableMapping" | "DefaultDict" | "OrderedDict" => {
                    Ty::Dict(Box::new(a(0)), Box::new(a(1)))
                }
                "Optional" => Ty::Optional(Box::new(a(0))),
                "Tuple" | "tuple" => {
                    let has_ellipsis = args
                        .iter()
                        .any(|x| matches!(x.kind, ExprKind::Const(Const::Ellipsis)));
                    if has_ellipsis {
                        Ty::List(Box::new(a(0)))
                    } else {
                        Ty::Tuple(args.iter().map(|x| ann_type(cx, x)).collect())
                    }
                }
                "Union" => union(args.iter().map(|x| ann_type(cx, x)).collect()),
                _ => Ty::Any,
            }
        }
        ExprKind::BinOp(l, "|", r) => union(vec![ann_type(cx, l), ann_type(cx, r)]),
        _ => Ty::Any,
    }
}

fn union(ts: Vec<Ty>) -> Ty {
    let non_none: Vec<Ty> = ts.iter().filter(|t| **t != Ty::None).cloned().collect();
    if non_none.len() == 1 {
        if non_none.len() < ts.len() {
            Ty::Optional(Box::new(non_none[0].clone()))
        } else {
            non_none[0].clone()
        }
    } else {
        Ty::Any
    }
}

fn is_identifier(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_alphabetic() || c == '_')
        && cs.all(|c| c.is_alphanumeric() || c == '_')
}

/// Reads a type written as a string, like `"List[Account]"` or `"Optional[Node]"`.
fn parse_str_type(cx: &Ctx<'_>, s: &str) -> Option<Ty> {
    fn go(cx: &Ctx<'_>, s: &str) -> Option<(Ty, usize)> {
        let name_len = s
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(s.len());
        let name = s[..name_len].rsplit('.').next()?;
        if !s[name_len..].starts_with('[') {
            return Some((name_type(cx, name), name_len));
        }
        let mut args = vec![];
        let mut at = name_len + 1;
        loop {
            let rest = s[at..].trim_start();
            at = s.len() - rest.len();
            let (t, n) = go(cx, rest)?;
            args.push(t);
            at += n;
            let rest = s[at..].trim_start();
            at = s.len() - rest.len();
            if rest.starts_with(',') {
                at += 1;
            } else if rest.starts_with(']') {
                at += 1;
                break;
            } else {
                return None;
            }
        }
        let a = |i: usize| Box::new(args.get(i).cloned().unwrap_or(Ty::Any));
        let t = match name {
            "List" | "list" | "Sequence" | "Iterable" => Ty::List(a(0)),
            "Set" | "set" => Ty::Set(a(0)),
            "Dict" | "dict" | "Mapping" => Ty::Dict(a(0), a(1)),
            "Optional" => Ty::Optional(a(0)),
            "Tuple" | "tuple" => Ty::Tuple(args.clone()),
            "Union" => union(args.clone()),
            _ => Ty::Any,
        };
        Some((t, at))
    }
    let (t, n) = go(cx, s)?;
    (n == s.len()).then_some(t)
}

fn name_type(cx: &Ctx<'_>, n: &str) -> Ty {
    match n {
        "int" => Ty::Int,
        "float" => Ty::Float,
        "str" => Ty::Str,
        "bool" => Ty::Bool,
        "bytes" => Ty::Bytes,
        "None" | "NoneType" => Ty::None,
        "List" | "list" => Ty::List(Box::new(Ty::Any)),
        "Dict" | "dict" => Ty::Dict(Box::new(Ty::Any), Box::new(Ty::Any)),
        "Set" | "set" => Ty::Set(Box::new(Ty::Any)),
        "Tuple" | "tuple" => Ty::List(Box::new(Ty::Any)),
        _ if cx.entity_names.contains(n) => Ty::Entity(n.to_string()),
        _ => Ty::Other(n.to_string()),
    }
}

/// Names in an annotation that sfgen does not know (for SW0001).
fn unknown_type_names(cx: &Ctx<'_>, e: &Expr, out: &mut Vec<(String, Span)>) {
    const KNOWN: &[&str] = &[
        "Any",
        "object",
        "Optional",
        "Union",
        "List",
        "Dict",
        "Set",
        "FrozenSet",
        "Tuple",
        "Sequence",
        "Iterable",
        "Mapping",
        "MutableMapping",
        "MutableSequence",
        "Collection",
        "DefaultDict",
        "OrderedDict",
        "AbstractSet",
        "MutableSet",
        "Callable",
        "typing",
        "t",
        "complex",
    ];
    walk_expr(e, &mut |x| {
        if let ExprKind::Name(n) = &x.kind {
            let known = matches!(
                name_type(cx, n),
                Ty::Int
                    | Ty::Float
                    | Ty::Str
                    | Ty::Bool
                    | Ty::Bytes
                    | Ty::None
                    | Ty::Entity(_)
                    | Ty::List(_)
                    | Ty::Dict(..)
                    | Ty::Set(_)
            ) || KNOWN.contains(&n.as_str())
                || cx.module_names.contains(n);
            if !known {
                out.push((n.clone(), x.span));
            }
        }
    });
}

fn collect_fields(cx: &mut Ctx<'_>, c: &ClassDef) -> Vec<Field> {
    let mut fields: Vec<Field> = vec![];
    let Some(init) = c.body.iter().find_map(|s| match &s.kind {
        StmtKind::FunctionDef(f) if f.name == "__init__" => Some(f),
        _ => None,
    }) else {
        cx.diags.push(
            Diagnostic::error(
                Code::NoInit,
                format!("entity `{}` has no `__init__`", c.name),
                c.name_span,
            )
            .label("no `__init__`")
            .hint("add `def __init__(self, ...) -> None:` that declares every field as `self.name: Type = value`"),
        );
        return fields;
    };
    walk_stmts(&init.body, false, &mut |s| match &s.kind {
        StmtKind::AnnAssign {
            target, annotation, ..
        } => {
            if let Some(n) = target.as_self_attr() {
                if !fields.iter().any(|f| f.name == n) {
                    warn_unknown_types(cx, annotation);
                    check_not_plain_class(cx, annotation, &format!("field `{n}`"));
                    let ty = ann_type(cx, annotation);
                    fields.push(Field {
                        name: n.to_string(),
                        ty,
                        span: target.span,
                    });
                }
            }
        }
        StmtKind::Assign(ts, _) => {
            for t in ts {
                let mut attrs = vec![];
                self_attr_targets(t, &mut attrs);
                for (n, sp) in attrs {
                    if !fields.iter().any(|f| f.name == n) {
                        cx.diags.push(
                            Diagnostic::error(Code::UnannotatedField, format!("field `{n}` has no type annotation"), sp)
                                .label("declared here without a type")
                                .hint(format!("write `self.{n}: Type = ...` so sfgen knows whether it holds entity references")),
                        );
                        fields.push(Field {
                            name: n,
                            ty: Ty::Any,
                            span: sp,
                        });
                    }
                }
            }
        }
        _ => {}
    });
    fields
}

/// `self.x` targets (also inside tuples).
fn self_attr_targets(t: &Expr, out: &mut Vec<(String, Span)>) {
    match &t.kind {
        ExprKind::Attribute(..) => {
            if let Some(n) = t.as_self_attr() {
                out.push((n.to_string(), t.span))
            }
        }
        ExprKind::Tuple(xs) | ExprKind::List(xs) => {
            xs.iter().for_each(|x| self_attr_targets(x, out))
        }
        ExprKind::Starred(x) => self_attr_targets(x, out),
        _ => {}
    }
}

/// The name at the root of `a.b[c].d` (`a`).
fn root_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Name(n) => Some(n),
        ExprKind::Attribute(b, _) | ExprKind::Subscript(b, _) => root_name(b),
        _ => None,
    }
}

/// The field of self at the root of `self.f[...]...` (`f`).
fn root_self_field(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Attribute(b, a) if b.as_name() == Some("self") => Some(a),
        ExprKind::Attribute(b, _) | ExprKind::Subscript(b, _) => root_self_field(b),
        _ => None,
    }
}

fn entity(cx: &mut Ctx<'_>, c: &ClassDef, span: Span) -> Entity {
    let name = c.name.clone();
    let fields: Vec<Field> = {
        let fs = &cx.fields[&name];
        // Keep declaration order: collect again in order from the map built from it.
        let mut v = collect_fields_quiet(c);
        v.retain(|f| fs.contains_key(&f.name));
        v
    };
    if name.starts_with("_sf_") {
        cx.diags.push(reserved(&name, c.name_span));
    }
    for f in &fields {
        if f.name.starts_with("_sf_") {
            cx.diags.push(reserved(&f.name, f.span));
        }
    }

    // The key.
    let mut key = String::new();
    let key_fn = c.body.iter().find_map(|s| match &s.kind {
        StmtKind::FunctionDef(f) if f.name == "__key__" => Some(f),
        _ => None,
    });
    let has_init = c
        .body
        .iter()
        .any(|s| matches!(&s.kind, StmtKind::FunctionDef(f) if f.name == "__init__"));
    let field_list = fields
        .iter()
        .map(|f| format!("`{}`", f.name))
        .collect::<Vec<_>>()
        .join(", ");
    let example = fields.first().map(|f| f.name.as_str()).unwrap_or("<field>");
    match key_fn {
        None => cx.diags.push(
            Diagnostic::error(
                Code::MissingKey,
                format!("entity `{name}` has no `__key__` method"),
                c.name_span,
            )
            .label("no `__key__`")
            .hint(format!(
                "add `def __key__(self): return self.{example}`, returning the field that \
                     identifies each `{name}` and never changes"
            )),
        ),
        Some(f) => {
            let body: Vec<&Stmt> = f.body.iter().filter(|s| !is_docstring(s)).collect();
            let bad = |msg: String, span: Span, label: &str, hint: String| {
                Diagnostic::error(Code::BadKey, msg, span)
                    .label(label)
                    .hint(hint)
            };
            let store_hint = "compute the key in `__init__`, store it in a field \
                              (`self.key: str = ...`) and write `return self.key`"
                .to_string();
            match body.as_slice() {
                [Stmt {
                    kind: StmtKind::Return(Some(e)),
                    span,
                }] => match e.as_self_attr() {
                    Some(k) if fields.iter().any(|f| f.name == k) => key = k.to_string(),
                    // Without `__init__` there are no fields: NoInit says it all.
                    Some(_) if !has_init => {}
                    Some(k) => cx.diags.push(bad(
                        format!("`__key__` returns `self.{k}`, which is not a field of `{name}`"),
                        e.span,
                        "not declared in `__init__`",
                        if field_list.is_empty() {
                            format!("declare `self.{k}: Type = ...` in `__init__`")
                        } else {
                            format!(
                                "return one of the fields declared in `__init__` ({field_list}), \
                                 or declare `self.{k}` there"
                            )
                        },
                    )),
                    None => cx.diags.push(bad(
                        "`__key__` must return one field of the entity".into(),
                        if e.span == Span::default() {
                            *span
                        } else {
                            e.span
                        },
                        "not a field of `self`",
                        store_hint,
                    )),
                },
                [] => cx.diags.push(bad(
                    "`__key__` must return one field of the entity".into(),
                    f.name_span,
                    "`__key__` returns nothing",
                    format!(
                        "write `return self.{example}`, the field that identifies each `{name}`"
                    ),
                )),
                [first, ..] => cx.diags.push(bad(
                    "`__key__` must be a single `return self.<field>`".into(),
                    first.span,
                    "sfgen reads the key from a field, not from code",
                    store_hint,
                )),
            }
        }
    }

    // Class body: nested classes are not allowed; methods are analysed.
    let mut methods = vec![];
    let mut seen: BTreeMap<String, Span> = BTreeMap::new();
    for s in &c.body {
        match &s.kind {
            StmtKind::ClassDef(inner) => cx.diags.push(
                Diagnostic::error(
                    Code::NestedClass,
                    format!("class `{}` is nested inside entity `{name}`", inner.name),
                    inner.name_span,
                )
                .label("nested class")
                .hint("move the class to module level"),
            ),
            StmtKind::FunctionDef(f) => {
                if let Some(first) = seen.get(&f.name) {
                    cx.diags.push(
                        Diagnostic::error(
                            Code::Duplicate,
                            format!("method `{}` is defined twice in `{name}`", f.name),
                            f.name_span,
                        )
                        .label("second definition")
                        .note(*first, "first defined here")
                        .hint("remove or rename one of them: Python would silently keep only the last one"),
                    );
                    continue;
                }
                seen.insert(f.name.clone(), f.name_span);
                methods.push(method(cx, &name, &key, &fields, f));
            }
            _ => {}
        }
    }
    // Methods inherited from plain classes of the module: callable like the entity's own
    // (they run as written; remote operations in them are not compiled).
    for f in inherited_defs(cx, c).into_iter().filter(plain_callable) {
        if seen.contains_key(&f.name) {
            continue;
        }
        let params = inherited_params(cx, &f);
        let returns = f.returns.as_ref().map(|r| ann_type(cx, r)).unwrap_or(Ty::Any);
        methods.push(Method {
            name: f.name.clone(),
            params,
            returns,
            read_only: false,
            split: false,
            remote: BTreeMap::new(),
            locals: BTreeMap::new(),
            self_calls: BTreeSet::new(),
            public: true,
            def: f,
        });
    }
    let mut class = c.clone();
    class.decorators.retain(|d| !is_stateflow_decorator(d));
    Entity {
        name,
        name_span: c.name_span,
        key,
        fields,
        methods,
        class,
        span,
    }
}

fn collect_fields_quiet(c: &ClassDef) -> Vec<Field> {
    let mut cx = Ctx::new("");
    collect_fields(&mut cx, c)
}

fn is_docstring(s: &Stmt) -> bool {
    matches!(
        &s.kind,
        StmtKind::Expr(Expr {
            kind: ExprKind::Const(Const::Str(_)),
            ..
        })
    )
}

fn is_static(f: &FuncDef) -> bool {
    f.decorators
        .iter()
        .any(|d| matches!(d.as_name(), Some("staticmethod") | Some("classmethod")))
}

struct MethodCx<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    entity: &'c str,
    key: &'c str,
    fields: &'c [Field],
    init: bool,
    locals: BTreeMap<String, Ty>,
    remote: BTreeMap<Span, RemoteOp>,
    self_calls: BTreeSet<String>,
    sites: Vec<SelfSite>,
    /// Types of the parameters of lambdas passed where their arguments are known
    /// (`sorted(items, key=lambda i: ...)`), by the span of the lambda.
    lambda_hints: BTreeMap<Span, Vec<Option<Ty>>>,
    writes: bool,
}

fn method(cx: &mut Ctx<'_>, entity: &str, key: &str, fields: &[Field], f: &FuncDef) -> Method {
    let is_init = f.name == "__init__";
    let is_dunder = f.name.starts_with("__") && f.name.ends_with("__");
    let static_ = is_static(f);
    // Parameters and results of these cross entities: their types must be JSON-like.
    let crosses = is_init || (!is_dunder && !static_);
    if f.name.starts_with("_sf_") {
        cx.diags.push(reserved(&f.name, f.name_span));
    }
    if f.is_async {
        cx.diags.push(
            Diagnostic::error(
                Code::AsyncMethod,
                format!("entity method `{}` is `async`", f.name),
                f.name_span,
            )
            .label("declared with `async def`")
            .hint("write a plain `def`: sfgen suspends methods at remote calls by itself"),
        );
    }
    // Parameters.
    let mut params = vec![];
    let all: Vec<(&Param, ParamKind)> = f
        .params
        .posonly
        .iter()
        .map(|p| (p, ParamKind::PositionalOnly))
        .chain(f.params.args.iter().map(|p| (p, ParamKind::Positional)))
        .chain(f.params.kwonly.iter().map(|p| (p, ParamKind::KeywordOnly)))
        .collect();
    for (v, stars) in f
        .params
        .vararg
        .iter()
        .map(|v| (v, "*"))
        .chain(f.params.kwarg.iter().map(|v| (v, "**")))
    {
        let ann = v
            .annotation
            .as_ref()
            .map(unparse_expr)
            .unwrap_or_else(|| "Any".into());
        let hint = if stars == "*" {
            format!(
                "take one list instead (`{}: List[{ann}]`): calls between entities are checked \
                 against the signature",
                v.name
            )
        } else {
            format!(
                "list each keyword parameter with its type, or take one dict (`{}: Dict[str, {ann}]`)",
                v.name
            )
        };
        // The span of the parameter starts at its name: widen it to the stars.
        let lo = v.span.lo.saturating_sub(stars.len() as u32);
        let span = if cx.src.get(lo as usize..v.span.lo as usize) == Some(stars) {
            Span::new(lo, v.span.hi)
        } else {
            v.span
        };
        cx.diags.push(
            Diagnostic::error(
                Code::VarArgs,
                format!("entity method `{}` takes `{stars}{}`", f.name, v.name),
                span,
            )
            .label("variadic parameter")
            .hint(hint),
        );
    }
    if !static_ {
        let hint_static = if is_dunder {
            ""
        } else {
            "; for a helper that needs no entity, mark it @staticmethod or move it to module level"
        };
        let with_self = std::iter::once("self".to_string())
            .chain(all.iter().map(|(p, _)| match &p.annotation {
                Some(a) => format!("{}: {}", p.name, unparse_expr(a)),
                None => p.name.clone(),
            }))
            .collect::<Vec<_>>()
            .join(", ");
        match all.first() {
            None => cx.diags.push(
                Diagnostic::error(
                    Code::NoSelf,
                    format!("method `{}` has no `self` parameter", f.name),
                    f.name_span,
                )
                .label("Python passes the entity as the first argument")
                .hint(format!("write `def {}({with_self})`{hint_static}", f.name)),
            ),
            Some((p, _)) if p.name != "self" => cx.diags.push(
                Diagnostic::error(
                    Code::NoSelf,
                    format!(
                        "the first parameter of method `{}` is `{}`, not `self`",
                        f.name, p.name
                    ),
                    p.span,
                )
                .label("Python passes the entity here")
                .hint(format!(
                    "add `self` first (`def {}({with_self})`): sfgen finds the fields and \
                     methods of the entity through `self`{hint_static}",
                    f.name
                )),
            ),
            _ => {}
        }
    }
    let mut locals = BTreeMap::new();
    for (i, (p, kind)) in all.iter().enumerate() {
        if p.name.starts_with("_sf_") {
            cx.diags.push(reserved(&p.name, p.span));
        }
        if i == 0 && !static_ {
            // `self` (whatever it is called).
            continue;
        }
        let ty = match &p.annotation {
            Some(a) => {
                warn_unknown_types(cx, a);
                if crosses {
                    check_not_plain_class(
                        cx,
                        a,
                        &format!("parameter `{}` of `{}`", p.name, f.name),
                    );
                }
                ann_type(cx, a)
            }
            None => {
                if crosses {
                    cx.diags.push(
                        Diagnostic::error(
                            Code::UnannotatedParam,
                            format!(
                                "parameter `{}` of `{}` has no type annotation",
                                p.name, f.name
                            ),
                            p.span,
                        )
                        .label("missing type")
                        .hint(format!(
                            "write `{}: Type` with a JSON-like type (`int`, `str`, `List[str]`, \
                             ...) or, for a reference to an entity, its class (`{}: {entity}`)",
                            p.name, p.name
                        )),
                    );
                }
                Ty::Any
            }
        };
        if ty.mentions_entity() || ty != Ty::Any {
            locals.insert(p.name.clone(), ty.clone());
        }
        params.push(ParamInfo {
            name: p.name.clone(),
            ty,
            default: p.default.as_ref().map(unparse_expr),
            kind: *kind,
        });
    }
    let returns = match &f.returns {
        Some(r) => {
            warn_unknown_types(cx, r);
            if crosses {
                check_not_plain_class(cx, r, &format!("the result of `{}`", f.name));
            }
            ann_type(cx, r)
        }
        None => {
            if crosses && !is_init {
                cx.diags.push(
                    Diagnostic::error(
                        Code::UnannotatedReturn,
                        format!("method `{}` has no return type annotation", f.name),
                        f.name_span,
                    )
                    .label("missing `-> Type`")
                    .hint("annotate the return type (`-> None` when it returns nothing)"),
                );
            }
            Ty::Any
        }
    };

    let mut mc = MethodCx {
        cx,
        entity,
        key,
        fields,
        init: is_init,
        locals,
        remote: BTreeMap::new(),
        self_calls: BTreeSet::new(),
        sites: vec![],
        lambda_hints: BTreeMap::new(),
        writes: false,
    };
    // Types of locals: two rounds so that `x = y` after `y = ref.get()` is typed too.
    for _ in 0..2 {
        mc.infer_locals(&f.body);
    }
    mc.check_body(&f.body, Place::Plain);
    if f.returns.is_some() && !is_init {
        mc.check_returns(f, &returns);
    }
    let MethodCx {
        remote,
        self_calls,
        writes,
        locals,
        sites,
        ..
    } = mc;
    cx.self_sites
        .insert((entity.to_string(), f.name.clone()), sites);
    Method {
        name: f.name.clone(),
        def: f.clone(),
        params,
        returns,
        read_only: !writes,
        split: false,
        remote,
        locals,
        self_calls,
        public: !is_dunder && !static_,
    }
}

/// The methods (and properties) an entity inherits from plain classes of the module, its
/// bases depth first (Python's order for single inheritance), without those the entity
/// defines itself or an earlier base already gave.
fn inherited_defs(cx: &Ctx<'_>, c: &ClassDef) -> Vec<FuncDef> {
    let mut names: BTreeSet<String> = c
        .body
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::FunctionDef(f) => Some(f.name.clone()),
            _ => None,
        })
        .collect();
    let mut out = vec![];
    let mut visited = BTreeSet::new();
    let mut stack: Vec<String> = c.bases.iter().rev().filter_map(|b| b.as_name().map(String::from)).collect();
    while let Some(base) = stack.pop() {
        let Some(def) = cx.plain_defs.get(&base) else { continue };
        if !visited.insert(base) {
            continue;
        }
        for s in &def.body {
            if let StmtKind::FunctionDef(f) = &s.kind {
                if names.insert(f.name.clone()) {
                    out.push((**f).clone());
                }
            }
        }
        stack.extend(def.bases.iter().rev().filter_map(|b| b.as_name().map(String::from)));
    }
    out
}

/// An inherited method other entities may call: not a dunder, static, class method or
/// property.
fn plain_callable(f: &FuncDef) -> bool {
    let dunder = f.name.starts_with("__") && f.name.ends_with("__");
    let special = f.decorators.iter().any(|d| {
        matches!(d.as_name(), Some("staticmethod" | "classmethod" | "property"))
            || matches!(&d.kind, ExprKind::Attribute(_, a) if a == "setter" || a == "deleter")
    });
    !dunder && !special && !f.is_async
}

fn inherited_params(cx: &Ctx<'_>, f: &FuncDef) -> Vec<ParamInfo> {
    let p = &f.params;
    let kinds = p
        .posonly
        .iter()
        .map(|x| (x, ParamKind::PositionalOnly))
        .chain(p.args.iter().map(|x| (x, ParamKind::Positional)))
        .chain(p.kwonly.iter().map(|x| (x, ParamKind::KeywordOnly)));
    kinds
        .skip(1) // self
        .map(|(x, kind)| ParamInfo {
            name: x.name.clone(),
            ty: x.annotation.as_ref().map(|a| ann_type(cx, a)).unwrap_or(Ty::Any),
            default: x.default.as_ref().map(unparse_expr),
            kind,
        })
        .collect()
}

/// NotAnEntity for plain (non-@stateflow) classes named in a type annotation of `place`
/// (`parameter `x` of `m``, `the return type of `m``, `field `f``).
fn check_not_plain_class(cx: &mut Ctx<'_>, ann: &Expr, place: &str) {
    let mut hits = vec![];
    walk_expr(ann, &mut |x| {
        let n = match &x.kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Const(Const::Str(s)) if is_identifier(s.trim()) => Some(s.trim().to_string()),
            _ => None,
        };
        if let Some(n) = n {
            if cx.plain_classes.contains(&n) && !cx.entity_names.contains(&n) {
                hits.push((n, x.span));
            }
        }
    });
    for (n, sp) in hits {
        cx.diags.push(
            Diagnostic::error(
                Code::NotAnEntity,
                format!("the type of {place} names `{n}`, which is not a @stateflow class"),
                sp,
            )
            .label("plain class: its objects cannot cross entities or be stored as state")
            .hint(format!(
                "mark `class {n}` with @stateflow to make it an entity, or use JSON-like data \
                 instead (dict, list, str, int, float, bool, None)"
            )),
        );
    }
}

/// SW0001 for the names in an annotation sfgen does not know.
fn warn_unknown_types(cx: &mut Ctx<'_>, ann: &Expr) {
    let mut unknown = vec![];
    unknown_type_names(cx, ann, &mut unknown);
    for (n, sp) in unknown {
        cx.diags.push(
            Diagnostic::error(Code::UnknownType, format!("unknown type `{n}`"), sp)
                .label("not defined or imported in this file")
                .hint(format!(
                    "define or import `{n}`; if it is an entity, mark its class with @stateflow \
                     (values crossing entities must be JSON-like)"
                )),
        );
    }
}

impl MethodCx<'_, '_> {
    fn field_ty(&self, entity: &str, f: &str) -> Option<Ty> {
        self.cx.fields.get(entity).and_then(|m| m.get(f)).cloned()
    }

    fn method_ret(&self, entity: &str, m: &str) -> Option<Ty> {
        self.cx
            .methods
            .get(entity)
            .and_then(|ms| ms.get(m))
            .cloned()
    }

    /// The type of an expression, when it can be known.
    fn type_of(&self, e: &Expr) -> Option<Ty> {
        match &e.kind {
            ExprKind::Name(n) if n == "self" => Some(Ty::Entity(self.entity.to_string())),
            ExprKind::Name(n) => self.locals.get(n).cloned(),
            ExprKind::Const(Const::Int(_)) => Some(Ty::Int),
            ExprKind::Const(Const::Str(_)) => Some(Ty::Str),
            ExprKind::Attribute(b, a) => {
                let e = self.type_of(b)?.entity()?.to_string();
                self.field_ty(&e, a)
            }
            ExprKind::Call { func, args, .. } => match &func.kind {
                ExprKind::Name(n)
                    if self.cx.entity_names.contains(n) && !self.locals.contains_key(n) =>
                {
                    Some(Ty::Entity(n.clone()))
                }
                ExprKind::Name(n) if matches!(n.as_str(), "list" | "sorted" | "reversed") => args
                    .first()
                    .and_then(|a| self.type_of(a))
                    .and_then(|t| t.elem())
                    .map(|t| Ty::List(Box::new(t))),
                ExprKind::Name(n) if n == "range" => Some(Ty::List(Box::new(Ty::Int))),
                ExprKind::Attribute(b, m) => {
                    let bt = self.type_of(b)?;
                    if let Some(e) = bt.entity() {
                        return self.method_ret(e, m);
                    }
                    match (&bt, m.as_str()) {
                        (Ty::List(t), "pop") => Some((**t).clone()),
                        (Ty::Dict(_, v), "get" | "pop" | "setdefault") => Some((**v).clone()),
                        (Ty::Dict(_, v), "values") => Some(Ty::List(v.clone())),
                        (Ty::Dict(k, _), "keys") => Some(Ty::List(k.clone())),
                        (Ty::Dict(k, v), "items") => Some(Ty::List(Box::new(Ty::Tuple(vec![
                            (**k).clone(),
                            (**v).clone(),
                        ])))),
                        (Ty::List(_) | Ty::Dict(..) | Ty::Set(_), "copy") => Some(bt.clone()),
                        _ => None,
                    }
                }
                _ => None,
            },
            ExprKind::Subscript(b, idx) => {
                let bt = self.type_of(b)?;
                let bt = if let Ty::Optional(t) = bt { *t } else { bt };
                match (&bt, &idx.kind) {
                    (Ty::List(_), ExprKind::Slice { .. }) => Some(bt.clone()),
                    (Ty::List(t), _) => Some((**t).clone()),
                    (Ty::Dict(_, v), _) => Some((**v).clone()),
                    (Ty::Tuple(ts), ExprKind::Const(Const::Int(i))) => {
                        i.parse::<usize>().ok().and_then(|i| ts.get(i).cloned())
                    }
                    (Ty::Tuple(ts), ExprKind::UnaryOp("-", x)) => match &x.kind {
                        ExprKind::Const(Const::Int(i)) => i
                            .parse::<usize>()
                            .ok()
                            .filter(|i| *i >= 1 && *i <= ts.len())
                            .map(|i| ts[ts.len() - i].clone()),
                        _ => None,
                    },
                    _ => None,
                }
            }
            ExprKind::IfExp { body, orelse, .. } => {
                self.type_of(body).or_else(|| self.type_of(orelse))
            }
            ExprKind::BoolOp(_, xs) => xs.iter().rev().find_map(|x| self.type_of(x)),
            ExprKind::NamedExpr(_, v) => self.type_of(v),
            ExprKind::List(xs) => {
                let t = xs
                    .iter()
                    .find_map(|x| self.type_of(x).filter(|t| t.mentions_entity()))?;
                Some(Ty::List(Box::new(t)))
            }
            ExprKind::Tuple(xs) => Some(Ty::Tuple(
                xs.iter()
                    .map(|x| self.type_of(x).unwrap_or(Ty::Any))
                    .collect(),
            )),
            _ => None,
        }
    }

    fn bind(&mut self, target: &Expr, ty: Option<Ty>) {
        let Some(ty) = ty else { return };
        match &target.kind {
            ExprKind::Name(n) => {
                // Annotated types win; an entity type wins over others.
                match self.locals.get(n) {
                    Some(old) if old.mentions_entity() || !ty.mentions_entity() => {}
                    _ => {
                        self.locals.insert(n.clone(), ty);
                    }
                }
            }
            ExprKind::Tuple(xs) | ExprKind::List(xs) => {
                let elems: Vec<Option<Ty>> = match &ty {
                    Ty::Tuple(ts) if ts.len() == xs.len() => ts.iter().cloned().map(Some).collect(),
                    t => xs.iter().map(|_| t.elem()).collect(),
                };
                for (x, t) in xs.iter().zip(elems) {
                    self.bind(x, t);
                }
            }
            _ => {}
        }
    }

    fn infer_locals(&mut self, body: &[Stmt]) {
        let mut work: Vec<(Expr, Option<Ty>, bool)> = vec![];
        walk_stmts(body, false, &mut |s| match &s.kind {
            StmtKind::AnnAssign {
                target, annotation, ..
            } if target.as_name().is_some() => {
                work.push((target.clone(), None, true));
                work.push((annotation.clone(), None, false));
            }
            StmtKind::Assign(ts, v) => {
                for t in ts {
                    work.push((t.clone(), None, false));
                    work.push((v.clone(), None, false));
                }
            }
            StmtKind::For { target, iter, .. } => {
                work.push((target.clone(), None, false));
                work.push((
                    Expr::new(
                        ExprKind::Call {
                            func: Box::new(Expr::name("__sf_iter__", iter.span)),
                            args: vec![iter.clone()],
                            keywords: vec![],
                        },
                        iter.span,
                    ),
                    None,
                    false,
                ));
            }
            _ => {}
        });
        let mut i = 0;
        while i + 1 < work.len() {
            let (target, _, annotated) = &work[i];
            let (value, _, _) = &work[i + 1];
            if *annotated {
                let t = ann_type(self.cx, value);
                if let Some(n) = target.as_name() {
                    self.locals.insert(n.to_string(), t);
                }
            } else if let ExprKind::Call { func, args, .. } = &value.kind {
                if func.as_name() == Some("__sf_iter__") {
                    let t = self.iter_elem(&args[0]);
                    self.bind(&target.clone(), t);
                } else {
                    let t = self.type_of(value);
                    self.bind(&target.clone(), t);
                }
            } else {
                let t = self.type_of(value);
                self.bind(&target.clone(), t);
            }
            i += 2;
        }
    }

    fn iter_elem(&self, iter: &Expr) -> Option<Ty> {
        if let ExprKind::Call { func, args, .. } = &iter.kind {
            match func.as_name() {
                Some("range") => return Some(Ty::Int),
                Some("enumerate") => {
                    let t = args
                        .first()
                        .and_then(|a| self.type_of(a))
                        .and_then(|t| t.elem())
                        .unwrap_or(Ty::Any);
                    return Some(Ty::Tuple(vec![Ty::Int, t]));
                }
                Some("zip") => {
                    return Some(Ty::Tuple(
                        args.iter()
                            .map(|a| self.type_of(a).and_then(|t| t.elem()).unwrap_or(Ty::Any))
                            .collect(),
                    ))
                }
                Some("reversed") | Some("sorted") | Some("list") => {
                    return args
                        .first()
                        .and_then(|a| self.type_of(a))
                        .and_then(|t| t.elem())
                }
                _ => {}
            }
        }
        self.type_of(iter)?.elem()
    }

    /// SW0002: `return` values that disagree with the declared result type in a way that
    /// matters (entity references typed as plain data, values from a `-> None` method).
    fn check_returns(&mut self, f: &FuncDef, declared: &Ty) {
        let mut values = vec![];
        walk_stmts(&f.body, false, &mut |s| {
            if let StmtKind::Return(Some(v)) = &s.kind {
                values.push(v);
            }
        });
        let name = &f.name;
        for v in values {
            if matches!(v.kind, ExprKind::Const(Const::None)) {
                continue;
            }
            let actual = self.type_of(v);
            let got = actual.as_ref().and_then(|t| t.entity());
            let d = if *declared == Ty::None {
                // Only values whose type is known: `return helper()` may well be None.
                let Some(t) = actual
                    .as_ref()
                    .filter(|t| !matches!(t, Ty::None | Ty::Any | Ty::Other(_)))
                else {
                    continue;
                };
                let shown = format!("`-> {}`", t.show());
                Diagnostic::error(
                    Code::UnusedEntityResult,
                    format!("`{name}` is declared `-> None` but returns a value"),
                    v.span,
                )
                .label("returns a value")
                .hint(format!(
                    "annotate the method with {shown}, or return nothing"
                ))
            } else if let (Some(got), false) = (got, matches!(declared, Ty::Any)) {
                match declared.entity() {
                    Some(want) if want == got => continue,
                    Some(want) => Diagnostic::error(
                        Code::UnusedEntityResult,
                        format!("`{name}` is declared to return entity `{want}` but returns entity `{got}`"),
                        v.span,
                    )
                    .label(format!("reference to entity `{got}`"))
                    .hint(format!(
                        "declare `-> {got}`: callers call methods of the declared entity on the result"
                    )),
                    None if declared.mentions_entity() => continue,
                    None => Diagnostic::error(
                        Code::UnusedEntityResult,
                        format!(
                            "`{name}` returns a reference to entity `{got}` but is declared `-> {}`",
                            declared.show()
                        ),
                        v.span,
                    )
                    .label(format!("reference to entity `{got}`"))
                    .hint(format!(
                        "declare `-> {got}`: callers only treat results typed with an entity class \
                         as references, so calls on this one would not reach the entity"
                    )),
                }
            } else if declared.entity().is_some()
                && matches!(actual, Some(Ty::Int | Ty::Str))
                && matches!(v.kind, ExprKind::Const(_))
            {
                let want = declared.entity().unwrap_or_default();
                Diagnostic::error(
                    Code::UnusedEntityResult,
                    format!(
                        "`{name}` is declared to return entity `{want}` but returns a constant"
                    ),
                    v.span,
                )
                .label("not an entity reference")
                .hint(format!("return a `{want}`, or declare the type it returns"))
            } else {
                continue;
            };
            self.cx.diags.push(d);
        }
    }

    fn check_body(&mut self, body: &[Stmt], place: Place) {
        for s in body {
            self.check_stmt(s, place);
        }
    }

    fn check_stmt(&mut self, s: &Stmt, place: Place) {
        match &s.kind {
            StmtKind::FunctionDef(f) => {
                if f.name.starts_with("_sf_") {
                    self.cx.diags.push(reserved(&f.name, f.name_span));
                }
                // Decorators and defaults run in the method; the body does not.
                for e in stmt_exprs(s) {
                    self.check_expr(e, place, false, false);
                }
                // A nested function: remote operations inside it cannot be split.
                self.check_nested_def(f, "a nested function");
                return;
            }
            StmtKind::ClassDef(c) => {
                self.cx.diags.push(
                    Diagnostic::error(
                        Code::NestedClass,
                        format!("class `{}` is defined inside an entity method", c.name),
                        c.name_span,
                    )
                    .label("nested class")
                    .hint("move the class to module level"),
                );
                return;
            }
            StmtKind::Global(_) | StmtKind::Nonlocal(_) => self.global_diag(s),
            StmtKind::Raw { text, .. } => {
                self.check_opaque(s.span, text);
                return;
            }
            _ => {}
        }
        for t in stmt_targets(s) {
            self.check_target(t);
        }
        let inner = match &s.kind {
            StmtKind::Try { .. } => Place::Guarded {
                kw: "try",
                span: s.span,
            },
            StmtKind::With { .. } => Place::Guarded {
                kw: "with",
                span: s.span,
            },
            _ => place,
        };
        for e in stmt_exprs(s) {
            // Remote operations in `for` targets cannot be hoisted (assignment targets can).
            let in_target =
                matches!(&s.kind, StmtKind::For { target, .. } if std::ptr::eq(target, e));
            self.check_expr(e, place, false, in_target);
        }
        for b in stmt_bodies(s) {
            self.check_body(b, inner);
        }
    }

    /// A statement sfgen keeps as source text (`match`): it cannot be split, so it must
    /// not perform remote operations. Finds them by scanning the text for entity
    /// references (`ref.x`), entity creations (`Entity(`) and calls of methods of self.
    fn check_opaque(&mut self, span: Span, text: &str) {
        let kw = text.split_whitespace().next().unwrap_or("this").to_string();
        if text.contains("self.") && !self.init {
            // Whatever it does to self, assume it changes it.
            self.writes = true;
        }
        let words = identifiers(text);
        for (i, (at, w)) in words.iter().enumerate() {
            let after = text[at + w.len()..].trim_start();
            let next = words.get(i + 1).map(|(_, n)| n.as_str()).unwrap_or("");
            let lo = span.lo + *at as u32;
            let what = if w == "self" && after.starts_with('.') {
                let is_method = self
                    .cx
                    .methods
                    .get(self.entity)
                    .is_some_and(|ms| ms.contains_key(next));
                if is_method {
                    self.sites.push(SelfSite {
                        method: next.to_string(),
                        span: Span::new(lo, lo + (w.len() + 1 + next.len()) as u32),
                        place: Place::Opaque,
                    });
                }
                continue;
            } else if after.starts_with('.')
                && self.locals.get(w).and_then(|t| t.entity()).is_some()
            {
                format!("`{w}` is an entity reference: `{w}.{next}` is a remote operation")
            } else if after.starts_with('(')
                && self.cx.entity_names.contains(w)
                && !self.locals.contains_key(w)
            {
                format!("`{w}(...)` creates an entity remotely")
            } else {
                continue;
            };
            self.cx
                .diags
                .push(opaque_diag(Span::new(lo, lo + w.len() as u32), &kw, what));
        }
    }

    fn global_diag(&mut self, s: &Stmt) {
        let (kw, hint) = match &s.kind {
            StmtKind::Global(_) => (
                "global",
                "keep shared state in fields of an entity: every operator instance has its own \
                 copy of the module, so a global is neither shared nor kept",
            ),
            _ => (
                "nonlocal",
                "keep the value in a local of the method or in a field of the entity",
            ),
        };
        self.cx.diags.push(
            Diagnostic::error(
                Code::GlobalNonlocal,
                format!("`{kw}` in an entity method"),
                s.span,
            )
            .label(format!("`{kw}` statement"))
            .hint(hint),
        );
    }

    /// A function defined inside a method: nothing in its body may be remote.
    fn check_nested_def(&mut self, f: &FuncDef, what: &'static str) {
        let saved = self.locals.clone();
        for p in all_params(&f.params) {
            match &p.annotation {
                Some(a) if p.name != "self" => {
                    let t = ann_type(self.cx, a);
                    self.locals.insert(p.name.clone(), t);
                }
                _ => {
                    self.locals.remove(&p.name);
                }
            }
        }
        for _ in 0..2 {
            self.infer_locals(&f.body);
        }
        self.check_nested_body(&f.body, what);
        self.locals = saved;
    }

    fn check_nested_body(&mut self, body: &[Stmt], what: &'static str) {
        for s in body {
            match &s.kind {
                StmtKind::FunctionDef(g) => {
                    for e in stmt_exprs(s) {
                        self.nested_expr(e, what, false);
                    }
                    self.check_nested_def(g, what);
                    continue;
                }
                StmtKind::ClassDef(_) => continue,
                // `nonlocal` is how a nested function changes a local of the method: fine.
                StmtKind::Global(_) => self.global_diag(s),
                _ => {}
            }
            for t in stmt_targets(s) {
                self.check_target(t);
            }
            for e in stmt_exprs(s) {
                self.nested_expr(e, what, false);
            }
            for b in stmt_bodies(s) {
                self.check_nested_body(b, what);
            }
        }
    }

    /// Checks an expression in a scope that cannot suspend (`what`: a lambda, a
    /// comprehension, a nested function): every remote operation in it is an error.
    fn nested_expr(&mut self, e: &Expr, what: &'static str, callee: bool) {
        match &e.kind {
            ExprKind::Lambda(params, body) => {
                for d in all_params(params).filter_map(|p| p.default.as_ref()) {
                    self.nested_expr(d, what, false);
                }
                let saved = self.locals.clone();
                let hints = self.lambda_hints.get(&e.span).cloned().unwrap_or_default();
                for (i, p) in all_params(params).enumerate() {
                    match hints.get(i).cloned().flatten() {
                        Some(t) => {
                            self.locals.insert(p.name.clone(), t);
                        }
                        None => {
                            self.locals.remove(&p.name);
                        }
                    }
                }
                self.nested_expr(body, what, false);
                self.locals = saved;
                return;
            }
            ExprKind::ListComp(elt, gens)
            | ExprKind::SetComp(elt, gens)
            | ExprKind::GeneratorExp(elt, gens) => {
                self.comprehension(gens, &[elt], what);
                return;
            }
            ExprKind::DictComp(k, v, gens) => {
                self.comprehension(gens, &[k, v], what);
                return;
            }
            _ => {}
        }
        if !callee {
            if let Some(k) = self.remote_kind(e) {
                let d = self.nested_diag(e, &k, what);
                self.cx.diags.push(d);
            }
        }
        self.note_site(e, Place::Nested(what), callee);
        self.note_self_use(e);
        self.note_lambda_hints(e);
        for (c, callee) in children(e) {
            self.nested_expr(c, what, callee);
        }
    }

    fn comprehension(&mut self, gens: &[Comprehension], elts: &[&Expr], what: &'static str) {
        let saved = self.locals.clone();
        for g in gens {
            self.nested_expr(&g.iter, what, false);
            let t = self.iter_elem(&g.iter);
            self.rebind(&g.target, t);
            for c in &g.ifs {
                self.nested_expr(c, what, false);
            }
        }
        for x in elts {
            self.nested_expr(x, what, false);
        }
        self.locals = saved;
    }

    /// Binds the names of `target` anew (shadowing outer locals) to `ty`, if known.
    fn rebind(&mut self, target: &Expr, ty: Option<Ty>) {
        let mut names = vec![];
        target_names(target, &mut names);
        for n in names {
            self.locals.remove(&n);
        }
        self.bind(target, ty);
    }

    fn nested_diag(&self, x: &Expr, k: &RemoteKind, what: &str) -> Diagnostic {
        let hint = match what {
            "a lambda" => {
                "do the remote operation in a statement of the method and use its result \
                 (for a sort key: collect the keys in a `for` loop first)"
            }
            "a nested function" => {
                "inline the function into the method, or do the remote operation in the \
                 method and pass the result as an argument"
            }
            _ => {
                "write a `for` loop instead: loops in the method body may contain remote operations"
            }
        };
        Diagnostic::error(
            Code::RemoteInNested,
            format!("{} inside {what}", describe_remote(k)),
            x.span,
        )
        .label(format!("cannot suspend inside {what}"))
        .hint(hint)
    }

    /// The attribute of another entity that assigning `t` changes, if any
    /// (`item.stock`, `item.tags[0]`, `self.items[0].stock`).
    fn foreign_attr(&self, t: &Expr) -> Option<(String, String)> {
        let mut cur = t;
        loop {
            match &cur.kind {
                ExprKind::Attribute(b, a) => {
                    if b.as_name() != Some("self") {
                        if let Some(e) = self.type_of(b).and_then(|t| t.entity().map(String::from))
                        {
                            return Some((e, a.clone()));
                        }
                    }
                    cur = b;
                }
                ExprKind::Subscript(b, _) => cur = b,
                _ => return None,
            }
        }
    }

    fn check_target(&mut self, t: &Expr) {
        match &t.kind {
            ExprKind::Tuple(xs) | ExprKind::List(xs) => {
                xs.iter().for_each(|x| self.check_target(x))
            }
            ExprKind::Starred(x) => self.check_target(x),
            ExprKind::Name(n) if n.starts_with("_sf_") => {
                self.cx.diags.push(reserved(n, t.span));
            }
            ExprKind::Attribute(..) | ExprKind::Subscript(..) => {
                if let Some((e, a)) = self.foreign_attr(t) {
                    self.cx.diags.push(
                        Diagnostic::error(
                            Code::ForeignAssign,
                            format!("assignment to `{a}` of another entity (`{e}`)"),
                            t.span,
                        )
                        .label("an entity changes only its own state")
                        .hint(format!(
                            "add a method to `{e}` that changes `{a}`, and call it"
                        )),
                    );
                    return;
                }
                if root_name(t) != Some("self") || self.init {
                    return;
                }
                let Some(f) = root_self_field(t) else { return };
                self.writes = true;
                let direct = t.as_self_attr().is_some();
                if f == self.key && direct {
                    self.cx.diags.push(
                        Diagnostic::error(
                            Code::KeyAssigned,
                            format!("the key field `{f}` is assigned outside `__init__`"),
                            t.span,
                        )
                        .label("the key changes here")
                        .hint(format!(
                            "an entity's key never changes: create a new `{}` with the new key \
                             instead, or key the entity by another field",
                            self.entity
                        )),
                    );
                } else if direct && !self.fields.iter().any(|x| x.name == f) {
                    let is_method = self
                        .cx
                        .methods
                        .get(self.entity)
                        .is_some_and(|ms| ms.contains_key(f));
                    let hint = if is_method {
                        format!("`{f}` is a method of `{}`: pick another name for the field and declare it in `__init__`", self.entity)
                    } else {
                        format!("declare it in `__init__`: `self.{f}: Type = ...`")
                    };
                    self.cx.diags.push(
                        Diagnostic::error(
                            Code::UndeclaredField,
                            format!("field `{f}` is not declared in `__init__`"),
                            t.span,
                        )
                        .label("assigned here")
                        .hint(hint),
                    );
                }
            }
            _ => {}
        }
    }

    /// Classifies a remote operation at `e` (not looking inside).
    fn remote_kind(&self, e: &Expr) -> Option<RemoteKind> {
        match &e.kind {
            ExprKind::Call { func, .. } => match &func.kind {
                ExprKind::Name(n)
                    if self.cx.entity_names.contains(n) && !self.locals.contains_key(n) =>
                {
                    Some(RemoteKind::Create { entity: n.clone() })
                }
                ExprKind::Attribute(b, m) => {
                    if b.as_name() == Some("self") {
                        return None;
                    }
                    let t = self.type_of(b)?;
                    let ent = t.entity()?;
                    Some(RemoteKind::Call {
                        entity: ent.to_string(),
                        method: m.clone(),
                    })
                }
                _ => None,
            },
            ExprKind::Attribute(b, a) => {
                if b.as_name() == Some("self") {
                    return None;
                }
                let t = self.type_of(b)?;
                let ent = t.entity()?;
                Some(RemoteKind::Read {
                    entity: ent.to_string(),
                    field: a.clone(),
                })
            }
            _ => None,
        }
    }

    fn check_expr(&mut self, e: &Expr, place: Place, callee: bool, in_target: bool) {
        // Nested scopes: no remote operations inside.
        match &e.kind {
            ExprKind::Lambda(..) => return self.nested_expr(e, "a lambda", false),
            ExprKind::ListComp(..) | ExprKind::SetComp(..) | ExprKind::DictComp(..) => {
                return self.nested_expr(e, "a comprehension", false)
            }
            ExprKind::GeneratorExp(..) => {
                return self.nested_expr(e, "a generator expression", false)
            }
            ExprKind::Yield(_) | ExprKind::YieldFrom(_) => self.cx.diags.push(
                Diagnostic::error(
                    Code::Generator,
                    "entity methods cannot be generators",
                    e.span,
                )
                .label("`yield` makes the method a generator")
                .hint("collect the values in a list and return the list"),
            ),
            _ => {}
        }
        let kind = if callee { None } else { self.remote_kind(e) };
        if let Some(k) = kind {
            self.record(e, k, place, in_target);
        }
        let site = if self.init {
            Place::Init
        } else if in_target {
            Place::ForTarget
        } else {
            place
        };
        self.note_site(e, site, callee);
        self.note_self_use(e);
        self.note_lambda_hints(e);
        let is_call = matches!(e.kind, ExprKind::Call { .. });
        for (c, callee) in children(e) {
            self.check_expr(c, place, callee, in_target && !is_call);
        }
    }

    /// Records a call of a method of self, with where it is.
    fn note_site(&mut self, e: &Expr, place: Place, callee: bool) {
        if let (Some(m), false) = (e.as_self_attr(), callee) {
            let is_method = self
                .cx
                .methods
                .get(self.entity)
                .is_some_and(|ms| ms.contains_key(m));
            if is_method && !self.fields.iter().any(|f| f.name == m) {
                self.sites.push(SelfSite {
                    method: m.to_string(),
                    span: e.span,
                    place: Place::Escaped,
                });
            }
        }
        if let ExprKind::Call { func, .. } = &e.kind {
            if let ExprKind::Attribute(b, m) = &func.kind {
                let known = self
                    .cx
                    .methods
                    .get(self.entity)
                    .is_some_and(|ms| ms.contains_key(m));
                if b.as_name() == Some("self") && known {
                    self.sites.push(SelfSite {
                        method: m.clone(),
                        span: e.span,
                        place,
                    });
                }
            }
        }
    }

    /// Types the parameters of lambdas passed as a sort key or to `map`/`filter`, so that
    /// remote operations on them are found.
    fn note_lambda_hints(&mut self, e: &Expr) {
        let ExprKind::Call {
            func,
            args,
            keywords,
        } = &e.kind
        else {
            return;
        };
        let key_elem = match &func.kind {
            ExprKind::Name(n) if matches!(n.as_str(), "sorted" | "min" | "max") => {
                if args.len() == 1 {
                    Some(self.iter_elem(&args[0]))
                } else {
                    Some(args.first().and_then(|a| self.type_of(a)))
                }
            }
            ExprKind::Attribute(b, m) if m == "sort" => {
                Some(self.type_of(b).and_then(|t| t.elem()))
            }
            ExprKind::Name(n) if matches!(n.as_str(), "map" | "filter") => {
                if let Some(l) = args.first() {
                    if matches!(l.kind, ExprKind::Lambda(..)) {
                        let tys = args[1..].iter().map(|a| self.iter_elem(a)).collect();
                        self.lambda_hints.insert(l.span, tys);
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(t) = key_elem {
            for k in keywords {
                if k.name.as_deref() == Some("key") && matches!(k.value.kind, ExprKind::Lambda(..))
                {
                    self.lambda_hints.insert(k.value.span, vec![t.clone()]);
                }
            }
        }
    }

    /// Records uses of self that matter: calls to methods of self, mutations of fields.
    fn note_self_use(&mut self, e: &Expr) {
        if let ExprKind::Call { func, args, .. } = &e.kind {
            if let ExprKind::Attribute(b, m) = &func.kind {
                if b.as_name() == Some("self") {
                    if self
                        .cx
                        .methods
                        .get(self.entity)
                        .is_some_and(|ms| ms.contains_key(m))
                    {
                        self.self_calls.insert(m.clone());
                    }
                } else if root_self_field(b).is_some()
                    && !PURE_METHODS.contains(&m.as_str())
                    && !self.init
                {
                    // `self.items.append(x)`: mutates a field.
                    self.writes = true;
                }
            }
            let pure = func.as_name().is_some_and(|n| PURE_FUNCS.contains(&n))
                || matches!(&func.kind, ExprKind::Attribute(b, _) if b.as_name() == Some("self"));
            if !pure && !self.init && args.iter().any(|a| root_self_field(a).is_some()) {
                // A field handed to code that may change it.
                self.writes = true;
            }
        }
    }

    fn record(&mut self, e: &Expr, k: RemoteKind, place: Place, in_target: bool) {
        // Check the member exists.
        match &k {
            RemoteKind::Call { entity, method } => {
                let ok = self
                    .cx
                    .methods
                    .get(entity)
                    .is_some_and(|ms| ms.contains_key(method));
                if !ok {
                    let is_field = self.field_ty(entity, method).is_some();
                    let hint = if is_field {
                        format!("`{method}` is a field of `{entity}`: read it without calling it (`.{method}`)")
                    } else {
                        format!(
                            "add a method `{method}` to `{entity}`, or call one it has{}",
                            self.cx.member_list(entity, true)
                        )
                    };
                    let func = match &e.kind {
                        ExprKind::Call { func, .. } => &**func,
                        _ => e,
                    };
                    self.cx.diags.push(
                        Diagnostic::error(
                            Code::UnknownMember,
                            format!("`{entity}` has no method `{method}`"),
                            member_span(func, method),
                        )
                        .label(format!("no method `{method}` in `{entity}`"))
                        .hint(hint),
                    );
                    return;
                }
            }
            RemoteKind::Read { entity, field } if self.field_ty(entity, field).is_none() => {
                let is_method = self
                    .cx
                    .methods
                    .get(entity)
                    .is_some_and(|ms| ms.contains_key(field));
                let hint = if is_method {
                    format!("`{field}` is a method of `{entity}`: call it (`.{field}(...)`)")
                } else {
                    format!(
                        "declare `self.{field}` in `{entity}.__init__`, or read a field it has{}",
                        self.cx.member_list(entity, false)
                    )
                };
                self.cx.diags.push(
                    Diagnostic::error(
                        Code::UnknownMember,
                        format!("`{entity}` has no field `{field}`"),
                        member_span(e, field),
                    )
                    .label(format!("no field `{field}` in `{entity}`"))
                    .hint(hint),
                );
                return;
            }
            _ => {}
        }
        if self.init {
            self.cx.diags.push(
                Diagnostic::error(
                    Code::RemoteInInit,
                    "`__init__` performs a remote operation",
                    e.span,
                )
                .label(format!("{} in a constructor", describe_remote(&k)))
                .hint("the constructor must finish without waiting for other entities: do this in a method that clients call after creating the entity"),
            );
            return;
        }
        if let Place::Guarded { kw, span } = place {
            self.cx
                .diags
                .push(guarded_diag(e.span, &describe_remote(&k), kw, span));
            return;
        }
        if in_target {
            self.cx
                .diags
                .push(target_diag(e.span, &describe_remote(&k)));
            return;
        }
        self.remote.insert(
            e.span,
            RemoteOp {
                kind: k,
                span: e.span,
            },
        );
    }
}

/// Sub-expressions, each with whether it is the function of a call (whose attribute is
/// then not a remote read: `item.get_price` in `item.get_price()`).
fn children(e: &Expr) -> Vec<(&Expr, bool)> {
    match &e.kind {
        ExprKind::Call {
            func,
            args,
            keywords,
        } => std::iter::once((&**func, true))
            .chain(args.iter().map(|a| (a, false)))
            .chain(keywords.iter().map(|k| (&k.value, false)))
            .collect(),
        _ => expr_children(e).into_iter().map(|c| (c, false)).collect(),
    }
}

/// Targets a statement assigns or deletes.
fn stmt_targets(s: &Stmt) -> Vec<&Expr> {
    match &s.kind {
        StmtKind::Assign(ts, _) => ts.iter().collect(),
        StmtKind::AugAssign(t, _, _) | StmtKind::AnnAssign { target: t, .. } => vec![t],
        StmtKind::Delete(ts) => ts.iter().collect(),
        StmtKind::For { target, .. } => vec![target],
        StmtKind::With { items, .. } => items.iter().filter_map(|(_, t)| t.as_ref()).collect(),
        _ => vec![],
    }
}

/// The span of `.member` at the end of an attribute expression `x.member`.
fn member_span(e: &Expr, member: &str) -> Span {
    let n = member.len() as u32;
    if matches!(e.kind, ExprKind::Attribute(..)) && e.span.hi >= e.span.lo + n {
        Span::new(e.span.hi - n, e.span.hi)
    } else {
        e.span
    }
}

/// How a message names a remote operation.
fn describe_remote(k: &RemoteKind) -> String {
    match k {
        RemoteKind::Call { entity, method } => format!("remote call to `{entity}.{method}`"),
        RemoteKind::Read { entity, field } => format!("remote read of `{entity}.{field}`"),
        RemoteKind::Create { entity } => format!("remote creation of a `{entity}`"),
        RemoteKind::SelfCall { method } => {
            format!("call to `self.{method}` (which performs remote operations)")
        }
    }
}

fn guarded_diag(at: Span, what: &str, kw: &str, stmt: Span) -> Diagnostic {
    let hint = if kw == "try" {
        "move it before the `try` and keep its result in a local; to react to a failure of \
         the callee, have it return a value that says so instead of raising"
    } else {
        "move it before the `with` and keep its result in a local: the context cannot stay \
         open while the method waits for the reply"
    };
    Diagnostic::error(Code::RemoteInTry, format!("{what} inside `{kw}`"), at)
        .label(format!("cannot suspend inside `{kw}`"))
        .note(stmt, format!("the `{kw}` statement starts here"))
        .hint(hint)
}

fn opaque_diag(at: Span, kw: &str, label: String) -> Diagnostic {
    Diagnostic::error(
        Code::RemoteInTarget,
        format!("remote operation inside a `{kw}` statement"),
        at,
    )
    .label(label)
    .hint(format!(
        "sfgen cannot split a `{kw}` statement: do the remote operation before it and use a \
         local, or rewrite it with `if`/`elif`"
    ))
}

/// The identifiers of a piece of source text, with their byte offsets (skipping string
/// literals and comments, roughly).
fn identifiers(text: &str) -> Vec<(usize, String)> {
    let mut out = vec![];
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' {
            while chars.next_if(|(_, c)| *c != '\n').is_some() {}
        } else if c == '"' || c == '\'' {
            while let Some((_, d)) = chars.next() {
                if d == '\\' {
                    chars.next();
                } else if d == c || d == '\n' {
                    break;
                }
            }
        } else if c.is_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some((j, d)) = chars.next_if(|(_, d)| d.is_alphanumeric() || *d == '_') {
                end = j + d.len_utf8();
            }
            out.push((i, text[i..end].to_string()));
        } else if c.is_ascii_digit() {
            while chars
                .next_if(|(_, d)| d.is_alphanumeric() || *d == '_' || *d == '.')
                .is_some()
            {}
        }
    }
    out
}

fn target_diag(at: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        Code::RemoteInTarget,
        format!("{what} inside a `for` target"),
        at,
    )
    .label("cannot suspend while assigning the loop variable")
    .hint("loop over a plain local variable and do the assignment inside the loop body")
}

impl Ctx<'_> {
    /// `: `a`, `b`` listing the methods (or fields) of an entity, for hints.
    fn member_list(&self, entity: &str, methods: bool) -> String {
        let names: Vec<String> = if methods {
            self.methods
                .get(entity)
                .map(|ms| {
                    ms.keys()
                        .filter(|m| !(m.starts_with("__") && m.ends_with("__")))
                        .map(|m| format!("`{m}`"))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            self.fields
                .get(entity)
                .map(|fs| fs.keys().map(|f| format!("`{f}`")).collect())
                .unwrap_or_default()
        };
        if names.is_empty() {
            String::new()
        } else {
            format!(": {}", names.join(", "))
        }
    }
}

/// A method is split when it performs remote operations or calls a split method of self.
/// Calls to split methods of self become `SelfCall` remote operations; where such a call
/// cannot suspend (try/with, nested scopes, `for` targets, `__init__`) it is an error.
fn decide_split(entities: &mut [Entity], cx: &mut Ctx<'_>) {
    for e in entities.iter_mut() {
        let mut split: BTreeSet<String> = e
            .methods
            .iter()
            .filter(|m| !m.remote.is_empty())
            .map(|m| m.name.clone())
            .collect();
        loop {
            let before = split.len();
            for m in &e.methods {
                if m.self_calls.iter().any(|c| split.contains(c)) {
                    split.insert(m.name.clone());
                }
            }
            if split.len() == before {
                break;
            }
        }
        // Read-only: no writes of its own and calls only read-only methods of self.
        loop {
            let writers: BTreeSet<String> = e
                .methods
                .iter()
                .filter(|m| !m.read_only)
                .map(|m| m.name.clone())
                .collect();
            let mut changed = false;
            for m in e.methods.iter_mut() {
                if m.read_only && m.self_calls.iter().any(|c| writers.contains(c)) {
                    m.read_only = false;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let no_sites = vec![];
        let sites = |m: &str| {
            cx.self_sites
                .get(&(e.name.clone(), m.to_string()))
                .unwrap_or(&no_sites)
        };
        // Why each split method is split: its first remote operation, or its first call
        // of a split method of self.
        let mut reason: BTreeMap<String, (Span, String)> = BTreeMap::new();
        for m in &e.methods {
            if let Some(op) = m.remote.values().next() {
                reason.insert(
                    m.name.clone(),
                    (
                        op.span,
                        format!("`{}` performs a {} here", m.name, describe_remote(&op.kind)),
                    ),
                );
            } else if let Some(s) = sites(&m.name).iter().find(|s| split.contains(&s.method)) {
                reason.insert(
                    m.name.clone(),
                    (
                        s.span,
                        format!(
                            "`{}` calls `{}` here, which performs remote operations",
                            m.name, s.method
                        ),
                    ),
                );
            }
        }
        let mut diags = vec![];
        for m in e.methods.iter_mut() {
            m.split = split.contains(&m.name) && m.name != "__init__";
            for s in sites(&m.name).iter().filter(|s| split.contains(&s.method)) {
                let what = describe_remote(&RemoteKind::SelfCall {
                    method: s.method.clone(),
                });
                let d = match s.place {
                    Place::Plain => {
                        m.remote.insert(
                            s.span,
                            RemoteOp {
                                kind: RemoteKind::SelfCall {
                                    method: s.method.clone(),
                                },
                                span: s.span,
                            },
                        );
                        continue;
                    }
                    Place::Guarded { kw, span } => guarded_diag(s.span, &what, kw, span),
                    Place::ForTarget => target_diag(s.span, &what),
                    Place::Escaped => Diagnostic::error(
                        Code::RemoteInNested,
                        format!("`self.{}` is used as a function value", s.method),
                        s.span,
                    )
                    .label("whoever calls it later cannot suspend")
                    .hint(format!(
                        "`{}` performs remote operations, so it can only be called directly in \
                         a statement of the method (for a sort key: collect the keys in a `for` \
                         loop first)",
                        s.method
                    )),
                    Place::Opaque => opaque_diag(
                        s.span,
                        "match",
                        format!("`{}` performs remote operations", s.method),
                    ),
                    Place::Nested(where_) => Diagnostic::error(
                        Code::RemoteInNested,
                        format!("call to `self.{}` inside {where_}", s.method),
                        s.span,
                    )
                    .label(format!("cannot suspend inside {where_}"))
                    .hint(format!(
                        "`{}` performs remote operations, so it can only be called where the \
                         method can suspend: call it in a statement of the method and use the result",
                        s.method
                    )),
                    Place::Init => Diagnostic::error(
                        Code::RemoteInInit,
                        format!("`__init__` calls `self.{}`, which performs remote operations", s.method),
                        s.span,
                    )
                    .label("remote operation in a constructor")
                    .hint("the constructor must finish without waiting for other entities: call it from a method that clients call after creating the entity"),
                };
                let d = match reason.get(&s.method) {
                    Some((span, label)) if *span != s.span => d.note(*span, label.clone()),
                    _ => d,
                };
                diags.push(d);
            }
            // A statement kept as text (`match`) cannot live in a split method: sfgen does
            // not see which variables it reads and binds, nor its `return`s.
            if m.split {
                let why = reason.get(&m.name).cloned();
                walk_stmts(&m.def.body, false, &mut |st| {
                    if matches!(st.kind, StmtKind::Raw { .. }) {
                        let d = Diagnostic::error(
                            Code::OpaqueInSplit,
                            format!("a `match` statement in `{}`, which waits for other entities", m.name),
                            Span::new(st.span.lo, st.span.lo + 5),
                        )
                        .label("sfgen keeps `match` as written and cannot carry it across a wait")
                        .hint("rewrite it with `if`/`elif`, or move it into a method of self that makes no remote operation");
                        diags.push(match &why {
                            Some((span, label)) => d.note(*span, label.clone()),
                            None => d,
                        });
                    }
                });
            }
        }
        cx.diags.extend(diags);
    }
}
