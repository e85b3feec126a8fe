//! The intermediate representation: the single contract between the front end (parse,
//! analyse, split) and the emitters. Everything an emitter needs is here, in a fixed order;
//! Python code inside blocks is already printed. `--emit ir` prints it as YAML.

use serde::Serialize;

use crate::analyse::{self, App, Item, ParamKind, RemoteKind};
use crate::diag::Source;
use crate::split::{self, Op, Term};
use crate::syntax::*;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Ir {
    /// File name of the app (no directories: output must not depend on where it lives).
    pub source: String,
    /// The app's module docstring, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docstring: Option<String>,
    /// The app's top-level code and entities, in source order.
    pub module: Vec<ModuleItem>,
    pub entities: Vec<Entity>,
    pub graph: Graph,
    pub events: Vec<EventKind>,
    /// Cycles of calls between entities (`A.f → B.g (line 12)` ...): two concurrent
    /// requests can wait on each other along them; the runtime detects the deadlock.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub call_cycles: Vec<Vec<String>>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ModuleItem {
    /// Plain code (imports, helpers, exceptions) copied as written.
    Code { lines: String, code: String },
    /// The entity of that name.
    Entity(String),
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Entity {
    pub name: String,
    pub key: String,
    pub lines: String,
    pub fields: Vec<Field>,
    pub methods: Vec<Method>,
    /// `class Name(Bases):`
    #[serde(skip)]
    pub header: String,
    /// The class body in order: plain members as code, methods by index.
    #[serde(skip)]
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub enum Member {
    Code(String),
    Method(usize),
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Param {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(skip_serializing_if = "is_positional")]
    pub kind: &'static str,
}

fn is_positional(k: &&'static str) -> bool {
    *k == "positional"
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Method {
    pub name: String,
    pub lines: String,
    pub params: Vec<Param>,
    pub returns: String,
    pub read_only: bool,
    /// Callable by clients and other entities (not dunders, static or class methods).
    pub public: bool,
    pub remote_ops: Vec<RemoteOp>,
    /// The user's method as written (unsplit methods), or the signature stub (split ones).
    #[serde(skip)]
    pub code: String,
    /// Empty for methods without remote operations: they run as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<Block>,
    /// What block code calls for its locals (see `split::SplitMethod::locals_call`).
    #[serde(skip)]
    pub locals_call: &'static str,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RemoteOp {
    pub line: usize,
    pub kind: &'static str,
    /// `Entity.member`
    pub target: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Block {
    pub id: usize,
    pub lines: String,
    /// Variables read from the frame on entry (`maybe` when a path may leave them unbound).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    #[serde(skip)]
    pub input_vars: Vec<(String, bool)>,
    /// The block's own statements, printed (jumps inside them already resolved).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub code: String,
    pub exit: Exit,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Jump {
        to: usize,
        keep: Vec<String>,
    },
    Branch {
        test: String,
        then: usize,
        then_keep: Vec<String>,
        orelse: usize,
        orelse_keep: Vec<String>,
    },
    Return {
        value: String,
    },
    /// A remote operation: suspend, resume at `resume` with the reply in `into`.
    Remote {
        op: &'static str,
        /// Call/Read: the reference expression; Create: the entity; SelfCall: `self`.
        target: String,
        /// Method or field name (empty for Create).
        member: String,
        args: Vec<String>,
        kwargs: Vec<(String, String)>,
        resume: usize,
        into: Option<String>,
        keep: Vec<String>,
    },
    Raise,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Node {
    pub id: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyed_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub events: Vec<&'static str>,
    /// The loop back (replies, continuations) travels through a feedback channel.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub feedback: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct EventKind {
    pub kind: &'static str,
    pub meaning: &'static str,
}

pub const EVENT_KINDS: &[(&str, &str)] = &[
    (
        "create",
        "construct an entity from the state the ingress router built",
    ),
    (
        "call",
        "run a method of an entity; pushes the caller's frame when it comes from another entity",
    ),
    ("read", "read one field of an entity"),
    ("state", "read every field of an entity (clients only)"),
    (
        "reply",
        "the result or error of a call, read or create; resumes the frame on top of the stack",
    ),
];

fn lines(src: &Source<'_>, spans: impl IntoIterator<Item = Span>) -> String {
    let mut lo = usize::MAX;
    let mut hi = 0;
    for s in spans {
        if s == (Span { lo: 0, hi: 0 }) {
            continue;
        }
        lo = lo.min(src.line(s.lo));
        hi = hi.max(src.line(s.hi.saturating_sub(1).max(s.lo)));
    }
    if lo == usize::MAX {
        String::new()
    } else if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}

/// Builds the IR of an analysed app.
pub fn build(app: &App, cycles: &[Vec<crate::cycles::Site>], src: &Source<'_>, file_name: &str) -> Ir {
    let mut module = vec![];
    let mut docstring = None;
    for (i, item) in app.items.iter().enumerate() {
        if let (0, Item::Code(Stmt { kind: StmtKind::Expr(Expr { kind: ExprKind::Const(Const::Str(d)), .. }), .. })) = (i, item) {
            docstring = Some(d.clone());
            continue;
        }
        match item {
            Item::Code(s) => module.push(ModuleItem::Code {
                lines: lines(src, [s.span]),
                code: unparse_stmt(s, ""),
            }),
            Item::Entity(i) => module.push(ModuleItem::Entity(app.entities[*i].name.clone())),
        }
    }
    let entities: Vec<Entity> = app.entities.iter().map(|e| entity(e, src)).collect();
    let graph = graph(app);
    let events = EVENT_KINDS
        .iter()
        .map(|(k, m)| EventKind {
            kind: k,
            meaning: m,
        })
        .collect();
    Ir {
        source: file_name.to_string(),
        docstring,
        call_cycles: cycles
            .iter()
            .map(|c| c.iter().map(|s| format!("{} (line {})", crate::cycles::describe(s), src.line(s.span.lo))).collect())
            .collect(),
        module,
        entities,
        graph,
        events,
    }
}

fn entity(e: &analyse::Entity, src: &Source<'_>) -> Entity {
    let mut methods = vec![];
    let mut members = vec![];
    for s in &e.class.body {
        match &s.kind {
            StmtKind::FunctionDef(f) => {
                if let Some(m) = e.method(&f.name) {
                    if std::ptr::eq(&m.def.body, &m.def.body) && m.def == **f {
                        members.push(Member::Method(methods.len()));
                        methods.push(method(m, s.span, src));
                        continue;
                    }
                }
                members.push(Member::Code(unparse_stmt(s, "")));
            }
            _ => members.push(Member::Code(unparse_stmt(s, ""))),
        }
    }
    // Methods inherited from a plain base class: registered, not printed (the class has them).
    for m in &e.methods {
        let own = e.class.body.iter().any(|s| matches!(&s.kind, StmtKind::FunctionDef(f) if f.name == m.name));
        if !own {
            let span = m.def.body.first().map_or(m.def.name_span, |s| Span::new(m.def.name_span.lo, s.span.hi));
            methods.push(method(m, span, src));
        }
    }
    let mut header_class = e.class.clone();
    header_class.body = vec![];
    let header = unparse_stmt(
        &Stmt::new(StmtKind::ClassDef(Box::new(header_class)), e.span),
        "",
    );
    let header = header
        .lines()
        .find(|l| l.starts_with("class "))
        .unwrap_or("")
        .to_string();
    Entity {
        name: e.name.clone(),
        key: e.key.clone(),
        lines: lines(src, [e.span]),
        fields: e
            .fields
            .iter()
            .map(|f| Field {
                name: f.name.clone(),
                ty: f.ty.show(),
            })
            .collect(),
        methods,
        header,
        members,
    }
}

fn method(m: &analyse::Method, span: Span, src: &Source<'_>) -> Method {
    let params = m
        .params
        .iter()
        .map(|p| Param {
            name: p.name.clone(),
            ty: p.ty.show(),
            default: p.default.clone(),
            kind: match p.kind {
                ParamKind::PositionalOnly => "positional_only",
                ParamKind::Positional => "positional",
                ParamKind::KeywordOnly => "keyword_only",
            },
        })
        .collect();
    let remote_ops = m
        .remote
        .values()
        .map(|r| {
            let (kind, target) = match &r.kind {
                RemoteKind::Call { entity, method } => ("call", format!("{entity}.{method}")),
                RemoteKind::Read { entity, field } => ("read", format!("{entity}.{field}")),
                RemoteKind::Create { entity } => ("create", entity.clone()),
                RemoteKind::SelfCall { method } => ("self_call", format!("self.{method}")),
            };
            RemoteOp {
                line: src.line(r.span.lo),
                kind,
                target,
            }
        })
        .collect();
    let def_stmt = Stmt::new(StmtKind::FunctionDef(Box::new(m.def.clone())), span);
    let mut locals_call = "locals()";
    let (code, blocks) = if m.split {
        let sm = split::split_method(m);
        locals_call = sm.locals_call;
        let blocks = sm
            .blocks
            .iter()
            .map(|b| block(&sm, b, src))
            .collect::<Vec<_>>();
        let mut stub = m.def.clone();
        let n = blocks.len();
        let doc = format!(
            "Split into blocks _sf_{name}_0.._sf_{name}_{last} ({file}:{lines}); the runtime runs them.",
            name = m.name,
            last = n - 1,
            file = src.path.rsplit('/').next().unwrap_or(src.path),
            lines = lines(src, [span]),
        );
        let raise = format!("raise _sf.SplitMethodCalled({})", str_literal(&m.name, '"'));
        stub.body = vec![Stmt::new(
            StmtKind::Raw {
                text: format!("\"\"\"{doc}\"\"\"\n{raise}"),
                col: 0,
            },
            span,
        )];
        (
            unparse_stmt(&Stmt::new(StmtKind::FunctionDef(Box::new(stub)), span), ""),
            blocks,
        )
    } else {
        (unparse_stmt(&def_stmt, ""), vec![])
    };
    Method {
        name: m.name.clone(),
        lines: lines(src, [span]),
        params,
        returns: m.returns.show(),
        read_only: m.read_only,
        public: m.public,
        remote_ops,
        code,
        blocks,
        locals_call,
    }
}

fn keep(sm: &split::SplitMethod, to: usize, into: Option<&str>) -> Vec<String> {
    split::live_at(sm, to, into)
}

/// `return _sf.Jump(N, _sf.keep(_sf_v, locals(), (...)))` for a jump inside block code.
pub fn jump_code(to: usize, keep: &[String], locals_call: &str) -> String {
    format!(
        "_sf.Jump({to}, _sf.keep(_sf_v, {locals_call}, {}))",
        names_tuple(keep)
    )
}

pub fn names_tuple(names: &[String]) -> String {
    match names.len() {
        0 => "()".into(),
        1 => format!("({},)", str_literal(&names[0], '"')),
        _ => format!(
            "({})",
            names
                .iter()
                .map(|n| str_literal(n, '"'))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn block(sm: &split::SplitMethod, b: &split::Block, src: &Source<'_>) -> Block {
    let mut code = unparse_stmts(&b.stmts, "");
    // Resolve the jump markers inside plain statements.
    for target in 0..sm.blocks.len() {
        if !code.contains(split::JUMP_MARKER) {
            break;
        }
        let marker = format!("{}({target})", split::JUMP_MARKER);
        if code.contains(&marker) {
            code = code.replace(&marker, &jump_code(target, &keep(sm, target, None), sm.locals_call));
        }
    }
    let exit = match &b.term {
        Term::Jump(to) => Exit::Jump {
            to: *to,
            keep: keep(sm, *to, None),
        },
        Term::Branch { test, then, orelse } => Exit::Branch {
            test: unparse_expr(test),
            then: *then,
            then_keep: keep(sm, *then, None),
            orelse: *orelse,
            orelse_keep: keep(sm, *orelse, None),
        },
        Term::Return(v) => Exit::Return {
            value: v
                .as_ref()
                .map(unparse_expr)
                .unwrap_or_else(|| "None".into()),
        },
        Term::Unreachable => Exit::Raise,
        Term::Remote { op, into, resume } => {
            let kw = |ks: &[Keyword]| -> Vec<(String, String)> {
                ks.iter()
                    .map(|k| {
                        (
                            k.name.clone().unwrap_or_else(|| "**".into()),
                            unparse_expr(&k.value),
                        )
                    })
                    .collect()
            };
            let args = |xs: &[Expr]| -> Vec<String> { xs.iter().map(unparse_expr).collect() };
            let (op_name, target, member, a, k) = match op {
                Op::Call {
                    target,
                    method,
                    args: xs,
                    keywords,
                } => (
                    "call",
                    unparse_expr(target),
                    method.clone(),
                    args(xs),
                    kw(keywords),
                ),
                Op::Read { target, field } => {
                    ("read", unparse_expr(target), field.clone(), vec![], vec![])
                }
                Op::Create {
                    entity,
                    args: xs,
                    keywords,
                } => (
                    "create",
                    entity.clone(),
                    String::new(),
                    args(xs),
                    kw(keywords),
                ),
                Op::SelfCall {
                    method,
                    args: xs,
                    keywords,
                } => (
                    "call",
                    "self".into(),
                    method.clone(),
                    args(xs),
                    kw(keywords),
                ),
            };
            Exit::Remote {
                op: op_name,
                target,
                member,
                args: a,
                kwargs: k,
                resume: *resume,
                into: into.clone(),
                keep: keep(sm, *resume, into.as_deref()),
            }
        }
    };
    Block {
        id: b.id,
        lines: lines(src, b.spans.iter().copied()),
        inputs: b
            .inputs
            .iter()
            .map(|(n, always)| {
                if *always {
                    n.clone()
                } else {
                    format!("{n} (maybe)")
                }
            })
            .collect(),
        input_vars: b.inputs.clone(),
        code,
        exit,
    }
}

fn graph(app: &App) -> Graph {
    let mut nodes = vec![Node {
        id: "ingress".into(),
        kind: "ingress_router",
        entity: None,
        keyed_by: None,
    }];
    for e in &app.entities {
        nodes.push(Node {
            id: e.name.clone(),
            kind: "keyed_operator",
            entity: Some(e.name.clone()),
            keyed_by: Some(e.key.clone()),
        });
    }
    nodes.push(Node {
        id: "egress".into(),
        kind: "egress_router",
        entity: None,
        keyed_by: None,
    });
    let mut edges = vec![];
    for e in &app.entities {
        edges.push(Edge {
            from: "ingress".into(),
            to: e.name.clone(),
            events: vec!["create", "call", "state"],
            feedback: false,
        });
    }
    for e in &app.entities {
        // Which entities this one sends calls/reads/creates to.
        let mut targets: std::collections::BTreeMap<String, Vec<&'static str>> = Default::default();
        for m in &e.methods {
            for r in m.remote.values() {
                let (t, k) = match &r.kind {
                    RemoteKind::Call { entity, .. } => (entity.clone(), "call"),
                    RemoteKind::Read { entity, .. } => (entity.clone(), "read"),
                    RemoteKind::Create { entity } => (entity.clone(), "create"),
                    RemoteKind::SelfCall { .. } => (e.name.clone(), "call"),
                };
                let v = targets.entry(t).or_default();
                if !v.contains(&k) {
                    v.push(k);
                }
            }
        }
        for (t, mut kinds) in targets {
            kinds.sort();
            edges.push(Edge {
                from: e.name.clone(),
                to: t.clone(),
                events: kinds,
                feedback: true,
            });
            edges.push(Edge {
                from: t,
                to: e.name.clone(),
                events: vec!["reply"],
                feedback: true,
            });
        }
    }
    for e in &app.entities {
        edges.push(Edge {
            from: e.name.clone(),
            to: "egress".into(),
            events: vec!["reply"],
            feedback: false,
        });
    }
    Graph { nodes, edges }
}

/// The dataflow graph as Graphviz DOT.
pub fn to_dot(ir: &Ir) -> String {
    let mut s =
        String::from("digraph sfgen {\n    rankdir=LR;\n    node [fontname=\"Helvetica\"];\n");
    for n in &ir.graph.nodes {
        let (shape, label) = match n.kind {
            "keyed_operator" => (
                "box",
                format!(
                    "{}\\nkeyed by {}",
                    n.id,
                    n.keyed_by.clone().unwrap_or_default()
                ),
            ),
            _ => ("ellipse", n.id.replace('_', " ")),
        };
        s += &format!("    \"{}\" [shape={shape}, label=\"{label}\"];\n", n.id);
    }
    for e in &ir.graph.edges {
        let style = if e.feedback { ", style=dashed" } else { "" };
        s += &format!(
            "    \"{}\" -> \"{}\" [label=\"{}\"{style}];\n",
            e.from,
            e.to,
            e.events.join(", ")
        );
    }
    s += "}\n";
    s
}

/// The IR as YAML.
pub fn to_yaml(ir: &Ir) -> String {
    serde_yaml::to_string(ir).expect("the IR serialises")
}
