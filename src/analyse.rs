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
    /// Every name bound at module level (for unknown-type warnings).
    module_names: BTreeSet<String>,
    fields: BTreeMap<String, BTreeMap<String, Ty>>,
    methods: BTreeMap<String, BTreeMap<String, Ty>>,
    _src: &'a str,
}

/// Analyses a parsed module. Returns the model and every diagnostic (errors and warnings);
/// the model is only meaningful when there is no error.
pub fn analyse(module: &Module, src: &str) -> (App, Vec<Diagnostic>) {
    let mut cx = Ctx {
        diags: vec![],
        entity_names: BTreeSet::new(),
        plain_classes: BTreeSet::new(),
        module_names: BTreeSet::new(),
        fields: BTreeMap::new(),
        methods: BTreeMap::new(),
        _src: src,
    };

    // Pass 1: which classes are entities, what the module defines.
    let mut entity_defs: Vec<(&ClassDef, Span)> = vec![];
    for s in &module.body {
        match &s.kind {
            StmtKind::ClassDef(c) if c.decorators.iter().any(is_stateflow_decorator) => {
                if !cx.entity_names.insert(c.name.clone()) {
                    cx.diags.push(
                        Diagnostic::error(
                            Code::Duplicate,
                            format!("entity `{}` is defined twice", c.name),
                            c.name_span,
                        )
                        .label("second definition")
                        .hint("give each @stateflow class its own name"),
                    );
                    continue;
                }
                entity_defs.push((c, s.span));
            }
            StmtKind::ClassDef(c) => {
                cx.plain_classes.insert(c.name.clone());
                cx.module_names.insert(c.name.clone());
            }
            _ => {}
        }
        bound_names(s, &mut cx.module_names);
    }
    for s in &module.body {
        let mut names = BTreeSet::new();
        bound_names(s, &mut names);
        for n in names {
            if RESERVED_TOP.contains(&n.as_str()) || n.starts_with("_sf_") {
                cx.diags.push(reserved(&n, s.span));
            }
        }
    }
    if entity_defs.is_empty() {
        cx.diags.push(
            Diagnostic::error(Code::NoEntities, "no @stateflow class in this file", Span::new(0, 0))
                .label("sfgen compiles the @stateflow classes of this file")
                .hint("mark each stateful entity class with `@stateflow` (from stateflow import stateflow)"),
        );
    }

    // Pass 2: fields and method signatures of every entity (needed to type remote calls).
    for (c, _) in &entity_defs {
        let fields = collect_fields(&mut cx, c);
        cx.fields.insert(
            c.name.clone(),
            fields
                .iter()
                .map(|f| (f.name.clone(), f.ty.clone()))
                .collect(),
        );
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
        cx.methods.insert(c.name.clone(), sigs);
    }

    // Pass 3: each entity in full.
    let mut entities = vec![];
    for (c, span) in &entity_defs {
        entities.push(entity(&mut cx, c, *span));
    }
    decide_split(&mut entities);

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
    match &s.kind {
        StmtKind::ClassDef(c) => {
            out.insert(c.name.clone());
        }
        StmtKind::FunctionDef(f) => {
            out.insert(f.name.clone());
        }
        StmtKind::Assign(ts, _) => {
            let mut v = vec![];
            ts.iter().for_each(|t| target_names(t, &mut v));
            out.extend(v);
        }
        StmtKind::AnnAssign { target, .. } | StmtKind::AugAssign(target, _, _) => {
            let mut v = vec![];
            target_names(target, &mut v);
            out.extend(v);
        }
        StmtKind::Import(names) | StmtKind::ImportFrom { names, .. } => {
            for a in names {
                let n = a
                    .asname
                    .clone()
                    .unwrap_or_else(|| a.name.split('.').next().unwrap_or("").to_string());
                out.insert(n);
            }
        }
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
            .label("no constructor")
            .hint("declare every field in `__init__` as `self.name: Type = value`"),
        );
        return fields;
    };
    walk_stmts(&init.body, false, &mut |s| match &s.kind {
        StmtKind::AnnAssign {
            target, annotation, ..
        } => {
            if let Some(n) = target.as_self_attr() {
                if !fields.iter().any(|f| f.name == n) {
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
    match key_fn {
        None => cx.diags.push(
            Diagnostic::error(Code::MissingKey, format!("entity `{name}` has no `__key__` method"), c.name_span)
                .label("no key")
                .hint("add `def __key__(self): return self.<field>`: the field that identifies each instance"),
        ),
        Some(f) => {
            let body: Vec<&Stmt> = f.body.iter().filter(|s| !is_docstring(s)).collect();
            let field = match body.as_slice() {
                [Stmt { kind: StmtKind::Return(Some(e)), .. }] => e.as_self_attr().map(|a| a.to_string()),
                _ => None,
            };
            match field {
                Some(k) if fields.iter().any(|f| f.name == k) => key = k,
                _ => cx.diags.push(
                    Diagnostic::error(Code::BadKey, "`__key__` must return exactly one field of the entity", body.first().map(|s| s.span).unwrap_or(f.name_span))
                        .label("not a single `return self.<field>`")
                        .hint("write `return self.<field>` with a field declared in `__init__`; the key never changes"),
                ),
            }
        }
    }

    // Class body: nested classes are not allowed; methods are analysed.
    let mut methods = vec![];
    let mut seen = BTreeSet::new();
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
                if !seen.insert(f.name.clone()) {
                    cx.diags.push(
                        Diagnostic::error(
                            Code::Duplicate,
                            format!("method `{}` is defined twice in `{name}`", f.name),
                            f.name_span,
                        )
                        .label("second definition")
                        .hint("remove or rename one of them"),
                    );
                    continue;
                }
                methods.push(method(cx, &name, &key, &fields, f));
            }
            _ => {}
        }
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
    let mut cx = Ctx {
        diags: vec![],
        entity_names: BTreeSet::new(),
        plain_classes: BTreeSet::new(),
        module_names: BTreeSet::new(),
        fields: BTreeMap::new(),
        methods: BTreeMap::new(),
        _src: "",
    };
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
    writes: bool,
}

fn method(cx: &mut Ctx<'_>, entity: &str, key: &str, fields: &[Field], f: &FuncDef) -> Method {
    let is_init = f.name == "__init__";
    let is_dunder = f.name.starts_with("__") && f.name.ends_with("__");
    let static_ = is_static(f);
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
            .label("async def")
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
    for v in f.params.vararg.iter().chain(f.params.kwarg.iter()) {
        cx.diags.push(
            Diagnostic::error(Code::VarArgs, format!("`{}` takes variadic arguments", f.name), v.span)
                .label("*args / **kwargs")
                .hint("list each parameter with its type: calls between entities are checked against the signature"),
        );
    }
    let mut locals = BTreeMap::new();
    for (i, (p, kind)) in all.iter().enumerate() {
        if p.name.starts_with("_sf_") {
            cx.diags.push(reserved(&p.name, p.span));
        }
        if i == 0 && !static_ {
            if !matches!(p.name.as_str(), "self" | "cls") {
                // A method whose first parameter is not self: leave it alone.
            }
            continue;
        }
        let ty = match &p.annotation {
            Some(a) => {
                let mut unknown = vec![];
                unknown_type_names(cx, a, &mut unknown);
                for (n, sp) in unknown {
                    let d = Diagnostic::error(Code::UnknownType, format!("unknown type `{n}`"), sp)
                        .label("sfgen does not know this type")
                        .hint("if it is an entity, mark its class with @stateflow; values crossing entities must be JSON-like");
                    cx.diags.push(d);
                }
                let t = ann_type(cx, a);
                check_not_plain_class(cx, a, &f.name);
                t
            }
            None => {
                if !is_dunder && !static_ || is_init {
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
                            "write `{}: Type`; entity references are typed with the entity class",
                            p.name
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
            check_not_plain_class(cx, r, &f.name);
            ann_type(cx, r)
        }
        None => {
            if !is_dunder && !static_ {
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
        writes: false,
    };
    // Types of locals: two rounds so that `x = y` after `y = ref.get()` is typed too.
    for _ in 0..2 {
        mc.infer_locals(&f.body);
    }
    mc.check_body(&f.body, Region::Plain);
    let MethodCx {
        remote,
        self_calls,
        writes,
        locals,
        ..
    } = mc;
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

fn check_not_plain_class(cx: &mut Ctx<'_>, ann: &Expr, method: &str) {
    let mut hits = vec![];
    walk_expr(ann, &mut |x| {
        let n = match &x.kind {
            ExprKind::Name(n) => Some(n.clone()),
            ExprKind::Const(Const::Str(s)) if is_identifier(s.trim()) => Some(s.trim().to_string()),
            _ => None,
        };
        if let Some(n) = n {
            if cx.plain_classes.contains(&n) {
                hits.push((n, x.span));
            }
        }
    });
    for (n, sp) in hits {
        cx.diags.push(
            Diagnostic::error(Code::NotAnEntity, format!("`{n}` is used as an entity type in `{method}` but is not a @stateflow class"), sp)
                .label("not @stateflow")
                .hint(format!("mark `class {n}` with @stateflow, or pass plain data (values crossing entities must be JSON-like)")),
        );
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Region {
    Plain,
    /// Inside `try` or `with`.
    Guarded,
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
                ExprKind::Name(n) if self.cx.entity_names.contains(n) => {
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
            } => {
                if target.as_name().is_some() {
                    work.push((target.clone(), None, true));
                    work.push((annotation.clone(), None, false));
                }
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

    fn check_body(&mut self, body: &[Stmt], region: Region) {
        for s in body {
            self.check_stmt(s, region);
        }
    }

    fn check_stmt(&mut self, s: &Stmt, region: Region) {
        match &s.kind {
            StmtKind::FunctionDef(f) => {
                // A nested function: remote operations inside it cannot be split.
                self.check_nested_def(f);
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
            StmtKind::Global(_) | StmtKind::Nonlocal(_) => {
                let kw = if matches!(s.kind, StmtKind::Global(_)) {
                    "global"
                } else {
                    "nonlocal"
                };
                self.cx.diags.push(
                    Diagnostic::error(Code::GlobalNonlocal, format!("`{kw}` in an entity method"), s.span)
                        .label(format!("`{kw}` statement"))
                        .hint("keep state in fields of the entity: module globals are not shared between partitions"),
                );
            }
            _ => {}
        }
        // Assignment targets.
        let targets: Vec<&Expr> = match &s.kind {
            StmtKind::Assign(ts, _) => ts.iter().collect(),
            StmtKind::AugAssign(t, _, _) | StmtKind::AnnAssign { target: t, .. } => vec![t],
            StmtKind::Delete(ts) => ts.iter().collect(),
            StmtKind::For { target, .. } => vec![target],
            _ => vec![],
        };
        for t in &targets {
            self.check_target(t);
        }
        let guarded = matches!(s.kind, StmtKind::Try { .. } | StmtKind::With { .. });
        for e in stmt_exprs(s) {
            // Remote operations in `for` targets cannot be hoisted (assignment targets can).
            let in_target =
                matches!(&s.kind, StmtKind::For { target, .. } if std::ptr::eq(target, e));
            self.check_expr(e, region, false, in_target);
        }
        let inner = if guarded { Region::Guarded } else { region };
        for b in stmt_bodies(s) {
            self.check_body(b, inner);
        }
    }

    fn check_nested_def(&mut self, f: &FuncDef) {
        let mut hits = vec![];
        walk_stmts(&f.body, true, &mut |s| {
            for e in stmt_exprs(s) {
                walk_expr(e, &mut |x| hits.push(x.clone()));
            }
        });
        for x in hits {
            if self.remote_kind(&x).is_some() {
                self.cx
                    .diags
                    .push(self.nested_diag(&x, "a nested function"));
            }
        }
    }

    fn nested_diag(&self, x: &Expr, what: &str) -> Diagnostic {
        Diagnostic::error(
            Code::RemoteInNested,
            format!("remote operation inside {what}"),
            x.span,
        )
        .label("cannot suspend here")
        .hint("compute the value in a statement of the method before, and use the local variable")
    }

    fn check_target(&mut self, t: &Expr) {
        match &t.kind {
            ExprKind::Tuple(xs) | ExprKind::List(xs) => {
                xs.iter().for_each(|x| self.check_target(x))
            }
            ExprKind::Starred(x) => self.check_target(x),
            ExprKind::Name(n) => {
                if n.starts_with("_sf_") {
                    self.cx.diags.push(reserved(n, t.span));
                }
            }
            ExprKind::Attribute(..) | ExprKind::Subscript(..) => {
                let root = root_name(t);
                if root == Some("self") {
                    if let Some(f) = root_self_field(t) {
                        if !self.init {
                            self.writes = true;
                            let direct = t.as_self_attr().is_some();
                            if f == self.key && direct {
                                self.cx.diags.push(
                                    Diagnostic::error(Code::KeyAssigned, format!("the key field `{f}` is assigned outside `__init__`"), t.span)
                                        .label("key changes here")
                                        .hint("an entity's key never changes: create a new entity instead"),
                                );
                            } else if direct && !self.fields.iter().any(|x| x.name == f) {
                                self.cx.diags.push(
                                    Diagnostic::error(
                                        Code::UndeclaredField,
                                        format!("field `{f}` is not declared in `__init__`"),
                                        t.span,
                                    )
                                    .label("assigned here")
                                    .hint(format!(
                                        "declare it in `__init__`: `self.{f}: Type = ...`"
                                    )),
                                );
                            }
                        }
                    }
                } else if let ExprKind::Attribute(b, a) = &t.kind {
                    if let Some(e) = self.type_of(b).and_then(|t| t.entity().map(String::from)) {
                        self.cx.diags.push(
                            Diagnostic::error(
                                Code::ForeignAssign,
                                format!("assignment to attribute `{a}` of another entity (`{e}`)"),
                                t.span,
                            )
                            .label("entities change only their own state")
                            .hint(format!("add a method to `{e}` that sets `{a}` and call it")),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// Classifies a remote operation at `e` (not looking inside).
    fn remote_kind(&self, e: &Expr) -> Option<RemoteKind> {
        match &e.kind {
            ExprKind::Call { func, .. } => match &func.kind {
                ExprKind::Name(n) if self.cx.entity_names.contains(n) => {
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

    fn check_expr(&mut self, e: &Expr, region: Region, callee: bool, in_target: bool) {
        // Nested scopes: no remote operations inside.
        match &e.kind {
            ExprKind::Lambda(..)
            | ExprKind::ListComp(..)
            | ExprKind::SetComp(..)
            | ExprKind::DictComp(..)
            | ExprKind::GeneratorExp(..) => {
                let what = if matches!(e.kind, ExprKind::Lambda(..)) {
                    "a lambda"
                } else {
                    "a comprehension"
                };
                let mut hits = vec![];
                for c in expr_children(e) {
                    walk_expr(c, &mut |x| hits.push(x.clone()));
                }
                for x in hits {
                    if let Some(k) = self.remote_kind(&x) {
                        if !matches!(&k, RemoteKind::Read { .. }) || !is_call_func_of_any(e, &x) {
                            self.cx.diags.push(self.nested_diag(&x, what));
                        }
                    }
                    self.note_self_use(&x);
                }
                return;
            }
            ExprKind::Yield(_) | ExprKind::YieldFrom(_) => self.cx.diags.push(
                Diagnostic::error(
                    Code::Generator,
                    "entity methods cannot be generators",
                    e.span,
                )
                .label("`yield` here")
                .hint("return a list instead"),
            ),
            ExprKind::Await(_) => {}
            _ => {}
        }
        let kind = if callee { None } else { self.remote_kind(e) };
        if let Some(k) = kind {
            self.record(e, k, region, in_target);
        }
        self.note_self_use(e);
        match &e.kind {
            ExprKind::Call {
                func,
                args,
                keywords,
            } => {
                self.check_expr(func, region, true, false);
                for a in args {
                    self.check_expr(a, region, false, false);
                }
                for k in keywords {
                    self.check_expr(&k.value, region, false, false);
                }
            }
            _ => {
                for c in expr_children(e) {
                    self.check_expr(c, region, false, in_target);
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

    fn record(&mut self, e: &Expr, k: RemoteKind, region: Region, in_target: bool) {
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
                        format!("`{method}` is a field of `{entity}`: read it without calling it")
                    } else {
                        format!("add the method to `{entity}` or fix the name")
                    };
                    self.cx.diags.push(
                        Diagnostic::error(
                            Code::UnknownMember,
                            format!("`{entity}` has no method `{method}`"),
                            e.span,
                        )
                        .label("unknown method")
                        .hint(hint),
                    );
                    return;
                }
            }
            RemoteKind::Read { entity, field } => {
                if self.field_ty(entity, field).is_none() {
                    let is_method = self
                        .cx
                        .methods
                        .get(entity)
                        .is_some_and(|ms| ms.contains_key(field));
                    let hint = if is_method {
                        format!("`{field}` is a method of `{entity}`: call it (`.{field}(...)`)")
                    } else {
                        format!("declare `self.{field}` in `{entity}.__init__` or fix the name")
                    };
                    self.cx.diags.push(
                        Diagnostic::error(
                            Code::UnknownMember,
                            format!("`{entity}` has no field `{field}`"),
                            e.span,
                        )
                        .label("unknown field")
                        .hint(hint),
                    );
                    return;
                }
            }
            _ => {}
        }
        if self.init {
            self.cx.diags.push(
                Diagnostic::error(Code::RemoteInInit, "`__init__` performs a remote operation", e.span)
                    .label("remote operation in a constructor")
                    .hint("constructors run before the entity exists: do this in a method called after creation"),
            );
            return;
        }
        if region == Region::Guarded {
            self.cx.diags.push(
                Diagnostic::error(Code::RemoteInTry, "remote operation inside `try` or `with`", e.span)
                    .label("cannot suspend inside try/with")
                    .hint("move the remote call before the `try`/`with` block and keep its result in a local"),
            );
            return;
        }
        if in_target {
            self.cx.diags.push(
                Diagnostic::error(
                    Code::RemoteInTarget,
                    "remote operation inside a `for` target",
                    e.span,
                )
                .label("here")
                .hint("loop over a local variable and assign inside the loop body"),
            );
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

fn is_call_func_of_any(_scope: &Expr, _x: &Expr) -> bool {
    false
}

/// A method is split when it performs remote operations or calls a split method of self.
/// Calls to split methods of self become `SelfCall` remote operations.
fn decide_split(entities: &mut [Entity]) {
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
        for m in e.methods.iter_mut() {
            m.split = split.contains(&m.name) && m.name != "__init__";
            // Calls to split methods of self, found by walking the body again.
            let mut calls = vec![];
            walk_stmts(&m.def.body, false, &mut |s| {
                for x in stmt_exprs(s) {
                    walk_expr(x, &mut |x| {
                        if let ExprKind::Call { func, .. } = &x.kind {
                            if let ExprKind::Attribute(b, name) = &func.kind {
                                if b.as_name() == Some("self") && split.contains(name) {
                                    calls.push((x.span, name.clone()));
                                }
                            }
                        }
                    });
                }
            });
            for (span, name) in calls {
                m.remote.insert(
                    span,
                    RemoteOp {
                        kind: RemoteKind::SelfCall { method: name },
                        span,
                    },
                );
            }
        }
    }
}
