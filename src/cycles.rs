//! Cycles in the call graph between entities. With per-entity isolation, a request holds
//! an entity while one of its methods waits on another entity; when entity classes call
//! each other in a cycle (A.f → B.g while B.h → A.k), two concurrent requests can wait on
//! each other. sfgen warns at compile time (SW0003), lists the cycles in the IR, and the
//! runtime detects the deadlock when it happens.

use std::collections::{BTreeMap, BTreeSet};

use crate::analyse::{App, RemoteKind};
use crate::diag::{Code, Diagnostic};
use crate::syntax::Span;

/// One edge of a cycle: `from.method` calls `to.target` at `span`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    pub from: String,
    pub method: String,
    pub to: String,
    pub target: String,
    pub span: Span,
}

/// Cycles between entity classes, each as the call sites along it, in a stable order.
pub fn find(app: &App) -> Vec<Vec<Site>> {
    // Class-level edges, each with its first call site in source order. Calls to split
    // methods of `self` stay on the same instance and never wait on another request.
    let mut edges: BTreeMap<(String, String), Site> = BTreeMap::new();
    for e in &app.entities {
        for m in &e.methods {
            for r in m.remote.values() {
                let (to, target) = match &r.kind {
                    RemoteKind::Call { entity, method } => (entity.clone(), method.clone()),
                    RemoteKind::Read { entity, field } => (entity.clone(), field.clone()),
                    RemoteKind::Create { .. } | RemoteKind::SelfCall { .. } => continue,
                };
                let site = Site { from: e.name.clone(), method: m.name.clone(), to: to.clone(), target, span: r.span };
                let slot = edges.entry((e.name.clone(), to)).or_insert_with(|| site.clone());
                if site.span < slot.span {
                    *slot = site;
                }
            }
        }
    }
    let mut succ: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        succ.entry(a).or_default().insert(b);
    }
    let mut cycles: Vec<Vec<Site>> = vec![];
    let mut seen: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    // Every elementary cycle is found from its smallest class name (Johnson-style, small
    // graphs): DFS that only visits classes greater than the start.
    let nodes: Vec<&str> = succ.keys().copied().collect();
    for &start in &nodes {
        let mut path: Vec<&str> = vec![start];
        dfs(start, start, &succ, &mut path, &edges, &mut cycles, &mut seen);
    }
    cycles.sort_by_key(|c| c.iter().map(|s| s.span).min());
    cycles
}

fn dfs<'a>(
    start: &'a str,
    at: &'a str,
    succ: &BTreeMap<&'a str, BTreeSet<&'a str>>,
    path: &mut Vec<&'a str>,
    edges: &BTreeMap<(String, String), Site>,
    out: &mut Vec<Vec<Site>>,
    seen: &mut BTreeSet<BTreeSet<String>>,
) {
    if out.len() >= 50 {
        return; // enough to tell the user; the rest repeat the same classes
    }
    for &next in succ.get(at).into_iter().flatten() {
        if next == start {
            let mut sites = vec![];
            for w in path.windows(2) {
                sites.push(edges[&(w[0].to_string(), w[1].to_string())].clone());
            }
            sites.push(edges[&(at.to_string(), start.to_string())].clone());
            let key: BTreeSet<String> = sites.iter().map(|s| format!("{}>{}", s.from, s.to)).collect();
            if seen.insert(key) {
                out.push(sites);
            }
        } else if next > start && !path.contains(&next) {
            path.push(next);
            dfs(start, next, succ, path, edges, out, seen);
            path.pop();
        }
    }
}

/// `A.f → B.g`
pub fn describe(s: &Site) -> String {
    format!("{}.{} → {}.{}", s.from, s.method, s.to, s.target)
}

/// The SW0003 warnings for the cycles.
pub fn warnings(cycles: &[Vec<Site>]) -> Vec<Diagnostic> {
    cycles
        .iter()
        .map(|sites| {
            let first = sites.iter().min_by_key(|s| s.span).expect("a cycle has sites");
            let classes: Vec<&str> = sites.iter().map(|s| s.from.as_str()).collect();
            let chain = sites.iter().map(describe).collect::<Vec<_>>().join(", ");
            let message = if classes.len() == 1 {
                format!("`{}` calls other `{}` entities: two concurrent requests can wait on each other", classes[0], classes[0])
            } else {
                format!("calls between {} form a cycle ({chain}): two concurrent requests can wait on each other", classes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" and "))
            };
            let mut d = Diagnostic::error(Code::CallCycle, message, first.span).label(format!("{} waits here while holding `{}`", describe(first), first.from));
            for s in sites.iter().filter(|s| *s != first) {
                d = d.note(s.span, format!("{} waits here while holding `{}`", describe(s), s.from));
            }
            d.hint("a request holds an entity while it waits; if another request holds the other one and waits back, the runtime fails the younger request with a `Deadlock` error (retry it), or break the cycle")
        })
        .collect()
}
