//! Splits methods that perform remote operations into blocks that suspend at each remote
//! operation and resume when its reply arrives.
//!
//! Statements (and whole `if`/`for`/`while` statements) without a remote operation stay as
//! ordinary Python inside a block. Remote operations inside expressions are hoisted in
//! Python's evaluation order: whatever Python evaluates before them is computed first into a
//! temporary, and `and`/`or`/conditional expressions keep their short-circuits as branches.
//! Liveness decides which variables travel in the frame at each exit.

use std::collections::{BTreeMap, BTreeSet};

use crate::analyse::{Method, RemoteKind};
use crate::syntax::*;

/// A remote operation at the end of a block.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Call {
        target: Expr,
        method: String,
        args: Vec<Expr>,
        keywords: Vec<Keyword>,
    },
    Read {
        target: Expr,
        field: String,
    },
    Create {
        entity: String,
        args: Vec<Expr>,
        keywords: Vec<Keyword>,
    },
    SelfCall {
        method: String,
        args: Vec<Expr>,
        keywords: Vec<Keyword>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Jump(usize),
    Branch {
        test: Expr,
        then: usize,
        orelse: usize,
    },
    Return(Option<Expr>),
    Remote {
        op: Op,
        into: Option<String>,
        resume: usize,
    },
    /// The block ends in `raise`.
    Unreachable,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub id: usize,
    pub stmts: Vec<Stmt>,
    pub term: Term,
    /// Source spans of the statements the block came from.
    pub spans: Vec<Span>,
    /// Variables read from the frame at the start: (name, always bound).
    pub inputs: Vec<(String, bool)>,
    /// Live variables on entry.
    pub live_in: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SplitMethod {
    pub blocks: Vec<Block>,
    /// How block code gets its locals for `_sf.keep`: `locals()` (which ruff understands),
    /// or the runtime's alias of the builtin when the method has a variable `locals`.
    pub locals_call: &'static str,
}

/// The name of the marker call that stands for "jump to block N" inside plain statements;
/// the emitter replaces it with the real jump and its live variables.
pub const JUMP_MARKER: &str = "_sf_jump_to";
/// The function that wraps a method's return value inside block code.
pub const RETURN_MARKER: &str = "_sf.Return";

struct B {
    stmts: Vec<Stmt>,
    term: Option<Term>,
    spans: Vec<Span>,
}

struct Builder<'m> {
    m: &'m Method,
    blocks: Vec<B>,
    cur: Option<usize>,
    loops: Vec<(usize, usize)>,
    n_tmp: usize,
    used_names: BTreeSet<String>,
    cur_span: Span,
}

const NOSPAN: Span = Span { lo: 0, hi: 0 };

fn name(n: &str) -> Expr {
    Expr::name(n, NOSPAN)
}

fn call(f: &str, args: Vec<Expr>) -> Expr {
    Expr::new(
        ExprKind::Call {
            func: Box::new(name(f)),
            args,
            keywords: vec![],
        },
        NOSPAN,
    )
}

/// `_sf.<f>(args)`: a helper of the runtime core (immune to the app's own names, e.g. a
/// parameter called `list` or `len`).
fn sf_call(f: &str, args: Vec<Expr>) -> Expr {
    Expr::new(
        ExprKind::Call {
            func: Box::new(Expr::new(ExprKind::Attribute(Box::new(name("_sf")), f.to_string()), NOSPAN)),
            args,
            keywords: vec![],
        },
        NOSPAN,
    )
}

fn int(n: usize) -> Expr {
    Expr::new(ExprKind::Const(Const::Int(n.to_string())), NOSPAN)
}

fn assign(target: &str, value: Expr) -> Stmt {
    Stmt::new(StmtKind::Assign(vec![name(target)], value), NOSPAN)
}

/// Splits `m` into blocks. The method must have passed analysis.
pub fn split_method(m: &Method) -> SplitMethod {
    let mut b = Builder {
        m,
        blocks: vec![],
        cur: None,
        loops: vec![],
        n_tmp: 0,
        // the frame dict and the runtime module of every block function
        used_names: ["_sf_v", "_sf"].into_iter().map(String::from).collect(),
        cur_span: m.def.name_span,
    };
    let entry = b.new_block();
    b.cur = Some(entry);
    b.lower_body(&m.def.body);
    if b.cur.is_some() {
        b.terminate(Term::Return(None));
    }
    let blocks = cleanup(b.blocks);
    let params: Vec<String> = m.params.iter().map(|p| p.name.clone()).collect();
    let locals = local_names(m, &blocks);
    let mut sm = analyse_blocks(blocks, &params, &locals);
    if locals.contains("locals") {
        sm.locals_call = "_sf.frame_locals()";
    }
    sm
}

impl Builder<'_> {
    fn new_block(&mut self) -> usize {
        self.blocks.push(B {
            stmts: vec![],
            term: None,
            spans: vec![],
        });
        self.blocks.len() - 1
    }

    fn emit(&mut self, s: Stmt) {
        if let Some(c) = self.cur {
            let span = self.cur_span;
            let b = &mut self.blocks[c];
            b.stmts.push(s);
            b.spans.push(span);
        }
    }

    fn terminate(&mut self, t: Term) {
        if let Some(c) = self.cur.take() {
            let span = self.cur_span;
            self.blocks[c].term = Some(t);
            self.blocks[c].spans.push(span);
        }
    }

    fn fresh(&mut self, base: &str) -> String {
        let first = format!("_sf_{base}");
        if base != "t" && self.used_names.insert(first.clone()) {
            return first;
        }
        loop {
            self.n_tmp += 1;
            let n = format!("_sf_{base}{}", self.n_tmp);
            if self.used_names.insert(n.clone()) {
                return n;
            }
        }
    }

    fn remote_at(&self, e: &Expr) -> Option<&RemoteKind> {
        if e.span == NOSPAN {
            return None;
        }
        self.m
            .remote
            .get(&e.span)
            .map(|r| &r.kind)
            .filter(|_| matches!(e.kind, ExprKind::Call { .. } | ExprKind::Attribute(..)))
    }

    fn has_remote(&self, e: &Expr) -> bool {
        let mut found = false;
        walk_expr(e, &mut |x| {
            if !found && self.remote_at(x).is_some() {
                found = true;
            }
        });
        found
    }

    fn stmt_has_remote(&self, s: &Stmt) -> bool {
        let mut found = false;
        walk_stmts(std::slice::from_ref(s), false, &mut |x| {
            if !found && stmt_exprs(x).iter().any(|e| self.has_remote(e)) {
                found = true;
            }
        });
        found
    }

    fn lower_body(&mut self, body: &[Stmt]) {
        for s in body {
            if self.cur.is_none() {
                return; // the rest is unreachable
            }
            self.lower_stmt(s);
        }
    }

    fn lower_stmt(&mut self, s: &Stmt) {
        self.cur_span = s.span;
        match &s.kind {
            StmtKind::Return(v) => {
                let v = v.as_ref().map(|v| self.hoist(v));
                self.terminate(Term::Return(v));
                return;
            }
            StmtKind::Break if !self.loops.is_empty() => {
                let after = self.loops.last().unwrap().1;
                self.terminate(Term::Jump(after));
                return;
            }
            StmtKind::Continue if !self.loops.is_empty() => {
                let head = self.loops.last().unwrap().0;
                self.terminate(Term::Jump(head));
                return;
            }
            _ => {}
        }
        if !self.stmt_has_remote(s) {
            let s = self.rewrite_plain(s, false);
            let ends = matches!(s.kind, StmtKind::Raise { .. });
            self.emit(s);
            if ends {
                self.terminate(Term::Unreachable);
            }
            return;
        }
        match &s.kind {
            StmtKind::Expr(e) => {
                if self.remote_at(e).is_some() {
                    self.suspend_expr(e, None);
                } else {
                    let e2 = self.hoist(e);
                    if !matches!(e2.kind, ExprKind::Name(_)) {
                        self.emit(Stmt::new(StmtKind::Expr(e2), s.span));
                    }
                }
            }
            StmtKind::Assign(targets, value) => {
                if let ([t], Some(_)) = (targets.as_slice(), self.remote_at(value)) {
                    if let Some(n) = t.as_name() {
                        self.suspend_expr(value, Some(n.to_string()));
                        return;
                    }
                }
                let v = self.hoist(value);
                if !targets.iter().any(|t| self.has_remote(t)) {
                    self.emit(Stmt::new(StmtKind::Assign(targets.clone(), v), s.span));
                    return;
                }
                // Python evaluates the value, then each target's containers and indexes.
                let v = if is_stable(&v) {
                    v
                } else {
                    let t = self.fresh("t");
                    self.emit(assign(&t, v));
                    name(&t)
                };
                for t in targets {
                    let t = self.hoist_target(t);
                    self.emit(Stmt::new(StmtKind::Assign(vec![t], v.clone()), s.span));
                }
            }
            StmtKind::Delete(targets) => {
                for t in targets {
                    let t = self.hoist_target(t);
                    self.emit(Stmt::new(StmtKind::Delete(vec![t]), s.span));
                }
            }
            StmtKind::AnnAssign {
                target,
                annotation,
                value,
                simple,
            } => {
                let v = value.as_ref().map(|v| self.hoist(v));
                self.emit(Stmt::new(
                    StmtKind::AnnAssign {
                        target: target.clone(),
                        annotation: annotation.clone(),
                        value: v,
                        simple: *simple,
                    },
                    s.span,
                ));
            }
            StmtKind::AugAssign(target, op, value) => {
                self.lower_augassign(target, op, value, s.span)
            }
            StmtKind::If { test, body, orelse } => {
                let test = self.hoist(test);
                let then_b = self.new_block();
                let else_b = if orelse.is_empty() {
                    None
                } else {
                    Some(self.new_block())
                };
                let join = self.new_block();
                self.terminate(Term::Branch {
                    test,
                    then: then_b,
                    orelse: else_b.unwrap_or(join),
                });
                self.cur = Some(then_b);
                self.lower_body(body);
                self.terminate(Term::Jump(join));
                if let Some(e) = else_b {
                    self.cur = Some(e);
                    self.lower_body(orelse);
                    self.terminate(Term::Jump(join));
                }
                self.cur = Some(join);
            }
            StmtKind::While { test, body, orelse } => {
                let head = self.new_block();
                self.terminate(Term::Jump(head));
                self.cur = Some(head);
                self.cur_span = s.span;
                let test = self.hoist(test);
                let body_b = self.new_block();
                let else_b = if orelse.is_empty() {
                    None
                } else {
                    Some(self.new_block())
                };
                let after = self.new_block();
                self.terminate(Term::Branch {
                    test,
                    then: body_b,
                    orelse: else_b.unwrap_or(after),
                });
                self.loops.push((head, after));
                self.cur = Some(body_b);
                self.lower_body(body);
                self.terminate(Term::Jump(head));
                self.loops.pop();
                if let Some(e) = else_b {
                    self.cur = Some(e);
                    self.lower_body(orelse);
                    self.terminate(Term::Jump(after));
                }
                self.cur = Some(after);
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
                ..
            } => {
                let it = self.hoist(iter);
                let seq = self.fresh("seq");
                let idx = self.fresh("i");
                self.emit(assign(&seq, sf_call("loop_seq", vec![it])));
                self.emit(assign(&idx, int(0)));
                let head = self.new_block();
                self.terminate(Term::Jump(head));
                self.cur = Some(head);
                let test = Expr::new(
                    ExprKind::Compare(
                        Box::new(name(&idx)),
                        vec![("<", sf_call("loop_len", vec![name(&seq)]))],
                    ),
                    NOSPAN,
                );
                let body_b = self.new_block();
                let else_b = if orelse.is_empty() {
                    None
                } else {
                    Some(self.new_block())
                };
                let after = self.new_block();
                self.terminate(Term::Branch {
                    test,
                    then: body_b,
                    orelse: else_b.unwrap_or(after),
                });
                self.cur = Some(body_b);
                self.cur_span = s.span;
                let item = Expr::new(
                    ExprKind::Subscript(Box::new(name(&seq)), Box::new(name(&idx))),
                    NOSPAN,
                );
                self.emit(Stmt::new(
                    StmtKind::Assign(vec![target.clone()], item),
                    s.span,
                ));
                self.emit(Stmt::new(
                    StmtKind::AugAssign(name(&idx), "+", int(1)),
                    s.span,
                ));
                self.loops.push((head, after));
                self.lower_body(body);
                self.terminate(Term::Jump(head));
                self.loops.pop();
                if let Some(e) = else_b {
                    self.cur = Some(e);
                    self.lower_body(orelse);
                    self.terminate(Term::Jump(after));
                }
                self.cur = Some(after);
            }
            StmtKind::Raise { exc, cause } => {
                let exc = exc.as_ref().map(|e| self.hoist(e));
                let cause = cause.as_ref().map(|e| self.hoist(e));
                self.emit(Stmt::new(StmtKind::Raise { exc, cause }, s.span));
                self.terminate(Term::Unreachable);
            }
            StmtKind::Assert { test, msg } => {
                let test = self.hoist(test);
                match msg {
                    Some(m) if self.has_remote(m) => {
                        let fail = self.new_block();
                        let join = self.new_block();
                        self.terminate(Term::Branch {
                            test,
                            then: join,
                            orelse: fail,
                        });
                        self.cur = Some(fail);
                        let m = self.hoist(m);
                        self.emit(Stmt::new(
                            StmtKind::Raise {
                                exc: Some(call("AssertionError", vec![m])),
                                cause: None,
                            },
                            s.span,
                        ));
                        self.terminate(Term::Unreachable);
                        self.cur = Some(join);
                    }
                    _ => self.emit(Stmt::new(
                        StmtKind::Assert {
                            test,
                            msg: msg.clone(),
                        },
                        s.span,
                    )),
                }
            }
            // Analysis rejects remote operations anywhere else (try, with, targets, nested
            // scopes); keep the statement as it is.
            _ => {
                let s = self.rewrite_plain(s, false);
                self.emit(s);
            }
        }
    }

    fn lower_augassign(&mut self, target: &Expr, op: &'static str, value: &Expr, span: Span) {
        match &target.kind {
            ExprKind::Name(_) => {
                let v = self.hoist(value);
                self.emit(Stmt::new(StmtKind::AugAssign(target.clone(), op, v), span));
            }
            _ => {
                // Python loads the target's current value before evaluating the right side.
                let store = self.stable_target(target);
                let old = self.fresh("t");
                self.emit(assign(&old, store.clone()));
                let v = self.hoist(value);
                self.emit(Stmt::new(StmtKind::AugAssign(name(&old), op, v), span));
                self.emit(Stmt::new(StmtKind::Assign(vec![store], name(&old)), span));
            }
        }
    }

    /// A target whose containers can be evaluated again after a suspension: `self.f`,
    /// `self.f[k]`, `local[k]` with the key moved to a temporary when needed.
    fn stable_target(&mut self, t: &Expr) -> Expr {
        if self.remote_at(t).is_some() {
            // `a.items()[0] = v`: the container comes from a remote call.
            return self.hoist(t);
        }
        match &t.kind {
            ExprKind::Attribute(b, a) => {
                let b = self.stable_target(b);
                Expr::new(ExprKind::Attribute(Box::new(b), a.clone()), t.span)
            }
            ExprKind::Subscript(b, i) => {
                let b = self.stable_target(b);
                let i = self.stable_index(i);
                Expr::new(ExprKind::Subscript(Box::new(b), Box::new(i)), t.span)
            }
            _ => t.clone(),
        }
    }

    /// The index of a subscript target computed now, in order: a value, or each bound of
    /// a slice (`del self.lst[r.get():]`), or each element of a tuple of those.
    fn stable_index(&mut self, i: &Expr) -> Expr {
        match &i.kind {
            ExprKind::Slice { lower, upper, step } => {
                let mut part = |p: &Option<Box<Expr>>| p.as_ref().map(|x| Box::new(self.stable_index(x)));
                let (lower, upper, step) = (part(lower), part(upper), part(step));
                Expr::new(ExprKind::Slice { lower, upper, step }, i.span)
            }
            ExprKind::Tuple(xs) => {
                let xs = xs.iter().map(|x| self.stable_index(x)).collect();
                Expr::new(ExprKind::Tuple(xs), i.span)
            }
            _ if is_stable(i) => i.clone(),
            _ => {
                let tmp = self.fresh("t");
                let v = self.hoist(i);
                self.emit(assign(&tmp, v));
                name(&tmp)
            }
        }
    }

    /// An assignment target with the remote operations in its containers and indexes
    /// hoisted, in evaluation order.
    fn hoist_target(&mut self, t: &Expr) -> Expr {
        match &t.kind {
            ExprKind::Tuple(xs) | ExprKind::List(xs) => {
                let xs = xs.iter().map(|x| self.hoist_target(x)).collect();
                let kind = if matches!(t.kind, ExprKind::Tuple(_)) {
                    ExprKind::Tuple(xs)
                } else {
                    ExprKind::List(xs)
                };
                Expr::new(kind, t.span)
            }
            ExprKind::Starred(x) => {
                Expr::new(ExprKind::Starred(Box::new(self.hoist_target(x))), t.span)
            }
            ExprKind::Attribute(..) | ExprKind::Subscript(..) if self.has_remote(t) => {
                self.stable_target(t)
            }
            _ => t.clone(),
        }
    }

    /// Suspends on the remote operation `e`, storing the reply in `into`.
    fn suspend_expr(&mut self, e: &Expr, into: Option<String>) -> Option<String> {
        let kind = self
            .remote_at(e)
            .cloned()
            .expect("suspend_expr on a remote operation");
        let op = match (&kind, &e.kind) {
            (
                RemoteKind::Call { method, .. },
                ExprKind::Call {
                    func,
                    args,
                    keywords,
                },
            ) => {
                let ExprKind::Attribute(base, _) = &func.kind else {
                    unreachable!("remote call without receiver")
                };
                let mut parts = vec![(**base).clone()];
                parts.extend(args.iter().cloned());
                let (mut parts, keywords) = self.hoist_call_parts(parts, keywords);
                let target = parts.remove(0);
                Op::Call {
                    target,
                    method: method.clone(),
                    args: parts,
                    keywords,
                }
            }
            (RemoteKind::Read { field, .. }, ExprKind::Attribute(base, _)) => {
                let target = self.hoist(base);
                Op::Read {
                    target,
                    field: field.clone(),
                }
            }
            (RemoteKind::Create { entity }, ExprKind::Call { args, keywords, .. }) => {
                let (args, keywords) = self.hoist_call_parts(args.clone(), keywords);
                Op::Create {
                    entity: entity.clone(),
                    args,
                    keywords,
                }
            }
            (RemoteKind::SelfCall { method }, ExprKind::Call { args, keywords, .. }) => {
                let (args, keywords) = self.hoist_call_parts(args.clone(), keywords);
                Op::SelfCall {
                    method: method.clone(),
                    args,
                    keywords,
                }
            }
            _ => unreachable!("remote kind does not match the expression"),
        };
        let resume = self.new_block();
        self.terminate(Term::Remote {
            op,
            into: into.clone(),
            resume,
        });
        self.cur = Some(resume);
        into
    }

    fn hoist_call_parts(
        &mut self,
        parts: Vec<Expr>,
        keywords: &[Keyword],
    ) -> (Vec<Expr>, Vec<Keyword>) {
        let n = parts.len();
        let mut all = parts;
        all.extend(keywords.iter().map(|k| k.value.clone()));
        let all = self.hoist_seq(&all.iter().collect::<Vec<_>>(), &vec![false; all.len()]);
        let (p, k) = all.split_at(n);
        let kws = keywords
            .iter()
            .zip(k)
            .map(|(kw, v)| Keyword {
                name: kw.name.clone(),
                value: v.clone(),
                span: kw.span,
            })
            .collect();
        (p.to_vec(), kws)
    }

    /// Hoists a sequence of expressions evaluated left to right: everything before the last
    /// one holding a remote operation is computed into a temporary unless it is stable.
    fn hoist_seq(&mut self, xs: &[&Expr], func_pos: &[bool]) -> Vec<Expr> {
        let last = xs.iter().rposition(|x| self.has_remote(x));
        let Some(last) = last else {
            return xs.iter().map(|x| (*x).clone()).collect();
        };
        let mut out = vec![];
        for (i, x) in xs.iter().enumerate() {
            if i < last {
                out.push(self.to_temp(x, func_pos[i]));
            } else if i == last {
                out.push(self.hoist_starred(x));
            } else {
                out.push((*x).clone());
            }
        }
        out
    }

    fn hoist_starred(&mut self, x: &Expr) -> Expr {
        match &x.kind {
            ExprKind::Starred(inner) => {
                Expr::new(ExprKind::Starred(Box::new(self.hoist(inner))), x.span)
            }
            _ => self.hoist(x),
        }
    }

    /// The value of `x` as it is now, in a form that survives a later suspension.
    fn to_temp(&mut self, x: &Expr, func_pos: bool) -> Expr {
        if let (true, ExprKind::Attribute(base, attr)) = (func_pos, &x.kind) {
            if is_self_field(base) {
                // `self.items.append(b.f())`: Python takes the receiver before the
                // arguments run (a callback may replace the field meanwhile). Fields are
                // JSON, so it can wait in the frame; the runtime keeps it the same object
                // as the field while that holds it.
                let t = self.fresh("t");
                self.emit(assign(&t, (**base).clone()));
                return Expr::new(ExprKind::Attribute(Box::new(name(&t)), attr.clone()), x.span);
            }
        }
        if is_stable(x) || (func_pos && is_dotted(x)) {
            return x.clone();
        }
        if let ExprKind::Starred(inner) = &x.kind {
            let v = self.to_temp(inner, false);
            return Expr::new(ExprKind::Starred(Box::new(v)), x.span);
        }
        if let (true, ExprKind::Attribute(base, attr)) = (func_pos, &x.kind) {
            // `r.pair().index(...)`: keep the object, not a bound method (frames are JSON).
            let b = self.to_temp(base, false);
            return Expr::new(ExprKind::Attribute(Box::new(b), attr.clone()), x.span);
        }
        let v = self.hoist(x);
        if is_stable(&v) {
            return v;
        }
        let t = self.fresh("t");
        self.emit(assign(&t, v));
        name(&t)
    }

    /// Returns an expression equal to `e` with every remote operation replaced by the
    /// variable holding its reply, emitting the blocks that compute them.
    fn hoist(&mut self, e: &Expr) -> Expr {
        if !self.has_remote(e) {
            return e.clone();
        }
        if self.remote_at(e).is_some() {
            let base = match self.remote_at(e) {
                Some(RemoteKind::Call { method, .. }) | Some(RemoteKind::SelfCall { method }) => {
                    method.clone()
                }
                Some(RemoteKind::Read { field, .. }) => field.clone(),
                Some(RemoteKind::Create { entity }) => entity.to_lowercase(),
                None => "r".into(),
            };
            let tmp = self.fresh(&base);
            self.suspend_expr(e, Some(tmp.clone()));
            return name(&tmp);
        }
        match &e.kind {
            ExprKind::BoolOp(op, values) => {
                if !values[1..].iter().any(|v| self.has_remote(v)) {
                    let mut vs = vec![self.hoist(&values[0])];
                    vs.extend(values[1..].iter().cloned());
                    return Expr::new(ExprKind::BoolOp(*op, vs), e.span);
                }
                let t = self.fresh("t");
                let v0 = self.hoist(&values[0]);
                self.emit(assign(&t, v0));
                let join = self.new_block();
                for v in &values[1..] {
                    let next = self.new_block();
                    let (then, orelse) = match op {
                        BoolOp::And => (next, join),
                        BoolOp::Or => (join, next),
                    };
                    self.terminate(Term::Branch {
                        test: name(&t),
                        then,
                        orelse,
                    });
                    self.cur = Some(next);
                    let vi = self.hoist(v);
                    self.emit(assign(&t, vi));
                }
                self.terminate(Term::Jump(join));
                self.cur = Some(join);
                name(&t)
            }
            ExprKind::IfExp { test, body, orelse }
                if self.has_remote(body) || self.has_remote(orelse) =>
            {
                let t = self.fresh("t");
                let test = self.hoist(test);
                let (b1, b2, join) = (self.new_block(), self.new_block(), self.new_block());
                self.terminate(Term::Branch {
                    test,
                    then: b1,
                    orelse: b2,
                });
                for (blk, x) in [(b1, body), (b2, orelse)] {
                    self.cur = Some(blk);
                    let v = self.hoist(x);
                    self.emit(assign(&t, v));
                    self.terminate(Term::Jump(join));
                }
                self.cur = Some(join);
                name(&t)
            }
            ExprKind::Compare(left, rest)
                if rest.len() > 1 && rest[1..].iter().any(|(_, x)| self.has_remote(x)) =>
            {
                // `a < b < c.f()`: c.f() runs only when `a < b` holds.
                let r = self.fresh("t");
                let join = self.new_block();
                let mut prev = self.to_temp(left, false);
                for (i, (op, x)) in rest.iter().enumerate() {
                    if i > 0 {
                        let next = self.new_block();
                        self.terminate(Term::Branch {
                            test: name(&r),
                            then: next,
                            orelse: join,
                        });
                        self.cur = Some(next);
                    }
                    let cur = self.to_temp(x, false);
                    self.emit(assign(
                        &r,
                        Expr::new(
                            ExprKind::Compare(Box::new(prev.clone()), vec![(op, cur.clone())]),
                            NOSPAN,
                        ),
                    ));
                    prev = cur;
                }
                self.terminate(Term::Jump(join));
                self.cur = Some(join);
                name(&r)
            }
            ExprKind::NamedExpr(t, v) => {
                let v = self.hoist(v);
                Expr::new(ExprKind::NamedExpr(t.clone(), Box::new(v)), e.span)
            }
            _ => {
                let children = expr_children(e);
                let func_pos: Vec<bool> = match &e.kind {
                    ExprKind::Call { .. } => (0..children.len()).map(|i| i == 0).collect(),
                    _ => vec![false; children.len()],
                };
                let new = self.hoist_seq(&children, &func_pos);
                replace_children(e, new)
            }
        }
    }

    /// A plain statement as it appears inside a block: `return x` becomes the return marker,
    /// and `break`/`continue` of a split loop become jumps.
    fn rewrite_plain(&self, s: &Stmt, in_plain_loop: bool) -> Stmt {
        let mut s = s.clone();
        self.rewrite_in(&mut s, in_plain_loop);
        s
    }

    fn rewrite_in(&self, s: &mut Stmt, in_plain_loop: bool) {
        match &mut s.kind {
            StmtKind::Return(v) => {
                let v = v
                    .take()
                    .unwrap_or_else(|| Expr::new(ExprKind::Const(Const::None), NOSPAN));
                s.kind = StmtKind::Return(Some(call(RETURN_MARKER, vec![v])));
            }
            StmtKind::Break if !in_plain_loop && !self.loops.is_empty() => {
                s.kind = StmtKind::Return(Some(call(
                    JUMP_MARKER,
                    vec![int(self.loops.last().unwrap().1)],
                )));
            }
            StmtKind::Continue if !in_plain_loop && !self.loops.is_empty() => {
                s.kind = StmtKind::Return(Some(call(
                    JUMP_MARKER,
                    vec![int(self.loops.last().unwrap().0)],
                )));
            }
            StmtKind::FunctionDef(_) | StmtKind::ClassDef(_) => {}
            StmtKind::For { body, orelse, .. } | StmtKind::While { body, orelse, .. } => {
                body.iter_mut().for_each(|x| self.rewrite_in(x, true));
                orelse
                    .iter_mut()
                    .for_each(|x| self.rewrite_in(x, in_plain_loop));
            }
            StmtKind::If { body, orelse, .. } => {
                body.iter_mut()
                    .chain(orelse.iter_mut())
                    .for_each(|x| self.rewrite_in(x, in_plain_loop));
            }
            StmtKind::With { body, .. } => body
                .iter_mut()
                .for_each(|x| self.rewrite_in(x, in_plain_loop)),
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finalbody,
                ..
            } => {
                body.iter_mut()
                    .chain(handlers.iter_mut().flat_map(|h| h.body.iter_mut()))
                    .chain(orelse.iter_mut())
                    .chain(finalbody.iter_mut())
                    .for_each(|x| self.rewrite_in(x, in_plain_loop));
            }
            _ => {}
        }
    }
}

/// Values whose evaluation has no effect and cannot change across a suspension of this frame.
fn is_stable(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Name(_) | ExprKind::Const(_) | ExprKind::Lambda(..)
    )
}

/// `self.a` or `self.a.b`: a field of self (or a part of one), not `self` itself.
fn is_self_field(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Attribute(b, _) => b.as_name() == Some("self") || is_self_field(b),
        _ => false,
    }
}

fn is_dotted(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Name(_) => true,
        ExprKind::Attribute(b, _) => is_dotted(b),
        _ => false,
    }
}

/// Rebuilds `e` with its direct children (in [`expr_children`] order) replaced.
fn replace_children(e: &Expr, new: Vec<Expr>) -> Expr {
    use ExprKind::*;
    let mut it = new.into_iter();
    let mut next = || it.next().expect("child count matches");
    let kind = match &e.kind {
        Name(_) | Const(_) => e.kind.clone(),
        Attribute(_, a) => Attribute(Box::new(next()), a.clone()),
        Subscript(..) => {
            let a = next();
            Subscript(Box::new(a), Box::new(next()))
        }
        Slice { lower, upper, step } => {
            let lower = lower.as_ref().map(|_| Box::new(next()));
            let upper = upper.as_ref().map(|_| Box::new(next()));
            let step = step.as_ref().map(|_| Box::new(next()));
            Slice { lower, upper, step }
        }
        Call { args, keywords, .. } => {
            let func = Box::new(next());
            let args = args.iter().map(|_| next()).collect();
            let keywords = keywords
                .iter()
                .map(|k| Keyword {
                    name: k.name.clone(),
                    value: next(),
                    span: k.span,
                })
                .collect();
            Call {
                func,
                args,
                keywords,
            }
        }
        BinOp(_, op, _) => {
            let a = next();
            BinOp(Box::new(a), op, Box::new(next()))
        }
        UnaryOp(op, _) => UnaryOp(op, Box::new(next())),
        BoolOp(op, xs) => BoolOp(*op, xs.iter().map(|_| next()).collect()),
        List(xs) => List(xs.iter().map(|_| next()).collect()),
        Tuple(xs) => Tuple(xs.iter().map(|_| next()).collect()),
        Set(xs) => Set(xs.iter().map(|_| next()).collect()),
        Compare(_, rest) => {
            let a = next();
            Compare(
                Box::new(a),
                rest.iter().map(|(op, _)| (*op, next())).collect(),
            )
        }
        IfExp { .. } => {
            let test = next();
            let body = next();
            IfExp {
                test: Box::new(test),
                body: Box::new(body),
                orelse: Box::new(next()),
            }
        }
        Dict(items) => Dict(
            items
                .iter()
                .map(|(k, _)| {
                    let k2 = k.as_ref().map(|_| next());
                    (k2, next())
                })
                .collect(),
        ),
        FString(parts) => FString(replace_fparts(parts, &mut next)),
        Starred(_) => Starred(Box::new(next())),
        Await(_) => Await(Box::new(next())),
        YieldFrom(_) => YieldFrom(Box::new(next())),
        Yield(a) => Yield(a.as_ref().map(|_| Box::new(next()))),
        // Nested scopes and named expressions are handled by the caller / have no remote ops.
        Lambda(..) | ListComp(..) | SetComp(..) | GeneratorExp(..) | DictComp(..)
        | NamedExpr(..) => e.kind.clone(),
    };
    Expr::new(kind, e.span)
}

fn replace_fparts(parts: &[FPart], next: &mut dyn FnMut() -> Expr) -> Vec<FPart> {
    parts
        .iter()
        .map(|p| match p {
            FPart::Lit(s) => FPart::Lit(s.clone()),
            FPart::Expr {
                conversion, spec, ..
            } => {
                let value = Box::new(next());
                let spec = spec.as_ref().map(|s| replace_fparts(s, next));
                FPart::Expr {
                    value,
                    conversion: *conversion,
                    spec,
                }
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Cleanup: drop unreachable blocks, fold empty jump blocks, merge straight-line chains.

fn marker_targets(stmts: &[Stmt]) -> Vec<usize> {
    let mut out = vec![];
    walk_stmts(stmts, false, &mut |s| {
        if let StmtKind::Return(Some(e)) = &s.kind {
            if let Some(n) = jump_marker(e) {
                out.push(n);
            }
        }
    });
    out
}

/// `_sf_jump_to(N)` → N.
pub fn jump_marker(e: &Expr) -> Option<usize> {
    if let ExprKind::Call { func, args, .. } = &e.kind {
        if func.as_name() == Some(JUMP_MARKER) {
            if let Some(ExprKind::Const(Const::Int(n))) = args.first().map(|a| &a.kind) {
                return n.parse().ok();
            }
        }
    }
    None
}

fn term_targets(t: &Term) -> Vec<usize> {
    match t {
        Term::Jump(n) => vec![*n],
        Term::Branch { then, orelse, .. } => vec![*then, *orelse],
        Term::Remote { resume, .. } => vec![*resume],
        Term::Return(_) | Term::Unreachable => vec![],
    }
}

fn successors(b: &B) -> Vec<usize> {
    let mut v = marker_targets(&b.stmts);
    if let Some(t) = &b.term {
        v.extend(term_targets(t));
    }
    v
}

fn retarget_stmts(stmts: &mut [Stmt], map: &dyn Fn(usize) -> usize) {
    for s in stmts.iter_mut() {
        retarget_stmt(s, map);
    }
}

fn retarget_stmt(s: &mut Stmt, map: &dyn Fn(usize) -> usize) {
    if let StmtKind::Return(Some(e)) = &mut s.kind {
        if let Some(n) = jump_marker(e) {
            *e = call(JUMP_MARKER, vec![int(map(n))]);
        }
    }
    match &mut s.kind {
        StmtKind::For { body, orelse, .. }
        | StmtKind::While { body, orelse, .. }
        | StmtKind::If { body, orelse, .. } => {
            retarget_stmts(body, map);
            retarget_stmts(orelse, map);
        }
        StmtKind::With { body, .. } => retarget_stmts(body, map),
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finalbody,
            ..
        } => {
            retarget_stmts(body, map);
            for h in handlers.iter_mut() {
                retarget_stmts(&mut h.body, map);
            }
            retarget_stmts(orelse, map);
            retarget_stmts(finalbody, map);
        }
        _ => {}
    }
}

fn retarget_term(t: &mut Term, map: &dyn Fn(usize) -> usize) {
    match t {
        Term::Jump(n) => *n = map(*n),
        Term::Branch { then, orelse, .. } => {
            *then = map(*then);
            *orelse = map(*orelse);
        }
        Term::Remote { resume, .. } => *resume = map(*resume),
        _ => {}
    }
}

fn cleanup(mut blocks: Vec<B>) -> Vec<B> {
    for b in blocks.iter_mut() {
        if b.term.is_none() {
            b.term = Some(Term::Return(None));
        }
    }
    // Empty blocks that only jump: send their predecessors straight on.
    let forward = |blocks: &[B], mut n: usize| -> usize {
        let mut seen = BTreeSet::new();
        while blocks[n].stmts.is_empty() && seen.insert(n) {
            match blocks[n].term {
                Some(Term::Jump(m)) if n != 0 => n = m,
                _ => break,
            }
        }
        n
    };
    let fwd: Vec<usize> = (0..blocks.len()).map(|n| forward(&blocks, n)).collect();
    for b in blocks.iter_mut() {
        retarget_stmts(&mut b.stmts, &|n| fwd[n]);
        if let Some(t) = b.term.as_mut() {
            retarget_term(t, &|n| fwd[n]);
        }
    }
    // Merge a block into its only predecessor when that one jumps straight to it. A merged
    // block's successors keep their predecessor counts (they now follow `i` instead), so
    // one pass does it; `i` goes on absorbing while it ends in such a jump.
    let mut reach = reachable(&blocks);
    let mut preds = vec![0usize; blocks.len()];
    for (i, b) in blocks.iter().enumerate() {
        if reach[i] {
            for s in successors(b) {
                preds[s] += 1;
            }
        }
    }
    for i in 0..blocks.len() {
        while reach[i] {
            let Some(Term::Jump(j)) = blocks[i].term else { break };
            if j == i || j == 0 || preds[j] != 1 {
                break;
            }
            let tail = std::mem::replace(
                &mut blocks[j],
                B {
                    stmts: vec![],
                    term: Some(Term::Unreachable),
                    spans: vec![],
                },
            );
            reach[j] = false;
            let b = &mut blocks[i];
            b.stmts.extend(tail.stmts);
            b.spans.extend(tail.spans);
            b.term = tail.term;
        }
    }
    // Drop unreachable blocks and number the rest in order.
    let reach = reachable(&blocks);
    let mut new_id = vec![usize::MAX; blocks.len()];
    let mut n = 0;
    for (i, r) in reach.iter().enumerate() {
        if *r {
            new_id[i] = n;
            n += 1;
        }
    }
    let mut out = vec![];
    for (i, mut b) in blocks.into_iter().enumerate() {
        if !reach[i] {
            continue;
        }
        retarget_stmts(&mut b.stmts, &|n| new_id[n]);
        if let Some(t) = b.term.as_mut() {
            retarget_term(t, &|n| new_id[n]);
        }
        out.push(b);
    }
    out
}

fn reachable(blocks: &[B]) -> Vec<bool> {
    let mut seen = vec![false; blocks.len()];
    let mut stack = vec![0];
    while let Some(n) = stack.pop() {
        if seen[n] {
            continue;
        }
        seen[n] = true;
        stack.extend(successors(&blocks[n]));
    }
    seen
}

// ---------------------------------------------------------------------------------------
// Liveness: which variables each block reads from the frame and passes on.

/// Every local variable name of the method (parameters, assigned names, temporaries).
fn local_names(m: &Method, blocks: &[B]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = m.params.iter().map(|p| p.name.clone()).collect();
    for b in blocks {
        walk_stmts(&b.stmts, false, &mut |s| out.extend(stmt_binds(s)));
        if let Some(Term::Remote { into: Some(v), .. }) = &b.term {
            out.insert(v.clone());
        }
    }
    walk_stmts(&m.def.body, false, &mut |s| out.extend(stmt_binds(s)));
    out.remove("self");
    out
}

/// Names a statement binds (not looking into nested statements).
fn stmt_binds(s: &Stmt) -> Vec<String> {
    let mut v = vec![];
    match &s.kind {
        StmtKind::Assign(ts, _) => ts.iter().for_each(|t| target_names(t, &mut v)),
        StmtKind::AugAssign(t, _, _)
        | StmtKind::AnnAssign { target: t, .. }
        | StmtKind::For { target: t, .. } => target_names(t, &mut v),
        StmtKind::With { items, .. } => items
            .iter()
            .filter_map(|(_, t)| t.as_ref())
            .for_each(|t| target_names(t, &mut v)),
        StmtKind::Try { handlers, .. } => v.extend(handlers.iter().filter_map(|h| h.name.clone())),
        StmtKind::FunctionDef(f) => v.push(f.name.clone()),
        StmtKind::ClassDef(c) => v.push(c.name.clone()),
        StmtKind::Import(ns) | StmtKind::ImportFrom { names: ns, .. } => {
            v.extend(ns.iter().map(|a| {
                a.asname
                    .clone()
                    .unwrap_or_else(|| a.name.split('.').next().unwrap_or("").to_string())
            }))
        }
        _ => {}
    }
    for e in stmt_exprs(s) {
        walk_expr(e, &mut |x| {
            if let ExprKind::NamedExpr(t, _) = &x.kind {
                target_names(t, &mut v)
            }
        });
    }
    v
}

/// Names read by a statement, including inside nested statements and scopes.
fn stmt_reads(s: &Stmt, out: &mut BTreeSet<String>) {
    walk_stmts(std::slice::from_ref(s), true, &mut |x| {
        let stores: Vec<&Expr> = match &x.kind {
            StmtKind::Assign(ts, _) => ts.iter().collect(),
            StmtKind::AnnAssign { target, .. } | StmtKind::For { target, .. } => vec![target],
            StmtKind::With { items, .. } => items.iter().filter_map(|(_, t)| t.as_ref()).collect(),
            _ => vec![],
        };
        for e in stmt_exprs(x) {
            if stores.iter().any(|t| std::ptr::eq(*t, e)) {
                target_reads(e, out);
            } else {
                expr_reads(e, out);
            }
        }
        if let StmtKind::AnnAssign { annotation, .. } = &x.kind {
            // Annotations of locals are not evaluated.
            let _ = annotation;
        }
    });
}

/// Names an assignment target reads: not the names it binds, but `a` and `i` in `a[i] = v`.
fn target_reads(t: &Expr, out: &mut BTreeSet<String>) {
    match &t.kind {
        ExprKind::Name(_) => {}
        ExprKind::Tuple(xs) | ExprKind::List(xs) => xs.iter().for_each(|x| target_reads(x, out)),
        ExprKind::Starred(x) => target_reads(x, out),
        _ => expr_reads(t, out),
    }
}

/// Names an expression reads from the enclosing function: not the parameters of a lambda
/// nor the targets of a comprehension, which are its own scope.
fn expr_reads(e: &Expr, out: &mut BTreeSet<String>) {
    let own_scope: Vec<String> = match &e.kind {
        ExprKind::Lambda(params, _) => all_params(params).map(|p| p.name.clone()).collect(),
        ExprKind::ListComp(_, gens) | ExprKind::SetComp(_, gens) | ExprKind::GeneratorExp(_, gens) | ExprKind::DictComp(_, _, gens) => {
            let mut v = vec![];
            gens.iter().for_each(|g| target_names(&g.target, &mut v));
            v
        }
        ExprKind::Name(n) => {
            out.insert(n.clone());
            return;
        }
        _ => vec![],
    };
    if own_scope.is_empty() {
        for c in expr_children(e) {
            expr_reads(c, out);
        }
        return;
    }
    let mut inner = BTreeSet::new();
    for c in expr_children(e) {
        expr_reads(c, &mut inner);
    }
    out.extend(inner.into_iter().filter(|n| !own_scope.contains(n)));
}

fn term_reads(t: &Term, out: &mut BTreeSet<String>) {
    let mut exprs: Vec<&Expr> = vec![];
    match t {
        Term::Branch { test, .. } => exprs.push(test),
        Term::Return(Some(e)) => exprs.push(e),
        Term::Remote { op, .. } => match op {
            Op::Call {
                target,
                args,
                keywords,
                ..
            } => {
                exprs.push(target);
                exprs.extend(args.iter());
                exprs.extend(keywords.iter().map(|k| &k.value));
            }
            Op::Read { target, .. } => exprs.push(target),
            Op::Create { args, keywords, .. } | Op::SelfCall { args, keywords, .. } => {
                exprs.extend(args.iter());
                exprs.extend(keywords.iter().map(|k| &k.value));
            }
        },
        _ => {}
    }
    for e in exprs {
        expr_reads(e, out);
    }
}

/// Names definitely bound by a straight-line statement (compound statements may not run).
fn must_binds(s: &Stmt) -> Vec<String> {
    match &s.kind {
        StmtKind::Assign(..)
        | StmtKind::AugAssign(..)
        | StmtKind::Import(_)
        | StmtKind::ImportFrom { .. }
        | StmtKind::FunctionDef(_)
        | StmtKind::ClassDef(_) => stmt_binds(s),
        StmtKind::AnnAssign { value: Some(_), .. } => stmt_binds(s),
        _ => vec![],
    }
}

fn analyse_blocks(blocks: Vec<B>, params: &[String], locals: &BTreeSet<String>) -> SplitMethod {
    let n = blocks.len();
    // use: read before any definite binding in the block; def: definitely bound.
    let mut uses: Vec<BTreeSet<String>> = vec![];
    let mut defs: Vec<BTreeSet<String>> = vec![];
    // kills: names a block leaves unbound (`del x` with no binding after it)
    let mut kills: Vec<BTreeSet<String>> = vec![];
    for b in &blocks {
        let mut used = BTreeSet::new();
        let mut defined = BTreeSet::new();
        let mut killed = BTreeSet::new();
        for s in &b.stmts {
            let mut r = BTreeSet::new();
            stmt_reads(s, &mut r);
            for x in r {
                if locals.contains(&x) && !defined.contains(&x) {
                    used.insert(x);
                }
            }
            for x in must_binds(s) {
                killed.remove(&x);
                defined.insert(x);
            }
            // `del x`, here or inside a plain `if`/`for`/... of the block: x may be
            // unbound after it (a later binding in the block binds it again)
            walk_stmts(std::slice::from_ref(s), false, &mut |d| {
                if let StmtKind::Delete(ts) = &d.kind {
                    for t in ts {
                        if let Some(x) = t.as_name() {
                            defined.remove(x);
                            killed.insert(x.to_string());
                        }
                    }
                }
            });
        }
        kills.push(killed);
        let mut r = BTreeSet::new();
        if let Some(t) = &b.term {
            term_reads(t, &mut r);
        }
        for x in r {
            if locals.contains(&x) && !defined.contains(&x) {
                used.insert(x);
            }
        }
        uses.push(used);
        defs.push(defined);
    }
    let succ: Vec<Vec<usize>> = blocks.iter().map(successors).collect();
    // Backward liveness. At a suspension, `into` is bound by the runtime on resumption.
    let mut live_in: Vec<BTreeSet<String>> = vec![BTreeSet::new(); n];
    loop {
        let mut changed = false;
        for i in (0..n).rev() {
            let mut out = BTreeSet::new();
            for &s in &succ[i] {
                out.extend(live_in[s].iter().cloned());
            }
            if let Some(Term::Remote { into: Some(v), .. }) = &blocks[i].term {
                out.remove(v);
            }
            let mut inn: BTreeSet<String> = out.difference(&defs[i]).cloned().collect();
            inn.extend(uses[i].iter().cloned());
            if inn != live_in[i] {
                live_in[i] = inn;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Forward: which live variables may be unbound on entry (not definitely assigned).
    // Only live ones matter: a variable unbound on some path from the entry to a block
    // where it is live was live all along that path, so it starts in the entry's live set;
    // keeping the sets within the live sets keeps long methods linear.
    let mut unbound_in: Vec<BTreeSet<String>> = vec![BTreeSet::new(); n];
    unbound_in[0] = live_in[0].iter().filter(|x| !params.contains(*x)).cloned().collect();
    loop {
        let mut changed = false;
        for i in 0..n {
            let into = match &blocks[i].term {
                Some(Term::Remote { into: Some(v), .. }) => Some(v.as_str()),
                _ => None,
            };
            let out: Vec<String> = unbound_in[i]
                .iter()
                .chain(kills[i].iter())
                .filter(|x| !defs[i].contains(*x) && Some(x.as_str()) != into)
                .cloned()
                .collect();
            for &s in &succ[i] {
                if s == 0 {
                    continue;
                }
                for x in &out {
                    if live_in[s].contains(x) && unbound_in[s].insert(x.clone()) {
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = vec![];
    for (i, b) in blocks.into_iter().enumerate() {
        let inputs = uses[i]
            .iter()
            .filter(|x| live_in[i].contains(*x))
            .map(|x| (x.clone(), !unbound_in[i].contains(x)))
            .collect();
        out.push(Block {
            id: i,
            stmts: b.stmts,
            term: b.term.unwrap_or(Term::Unreachable),
            spans: b.spans,
            inputs,
            live_in: live_in[i].iter().cloned().collect(),
        });
    }
    SplitMethod { blocks: out, locals_call: "locals()" }
}

/// The variables live when control reaches `target` (what a jump or suspension keeps).
pub fn live_at(m: &SplitMethod, target: usize, into: Option<&str>) -> Vec<String> {
    m.blocks[target]
        .live_in
        .iter()
        .filter(|v| Some(v.as_str()) != into)
        .cloned()
        .collect()
}

#[allow(dead_code)]
fn _unused(_: BTreeMap<(), ()>) {}
