//! The `local` target: a dependency-free Python 3.11 project that runs the app in process
//! (ingress router → keyed operators → egress router, with the loop back).

use askama::Template;

use super::{python, FileTree};
use crate::ir::Ir;

pub const RUNTIME_CORE: &str = include_str!("../../templates/common/sfgen_runtime.py");
/// Scenario steps and the command line that every target's client.py shares.
pub const CLIENT_CORE: &str = include_str!("../../templates/common/sfgen_client.py");
const LOCAL_RUNTIME: &str = include_str!("../../templates/local/local_runtime.py");
const CLIENT: &str = include_str!("../../templates/local/client.py");

#[derive(Template)]
#[template(path = "local/README.md.txt", escape = "none")]
struct Readme<'a> {
    ir: &'a Ir,
}

pub fn emit(ir: &Ir) -> FileTree {
    let mut t = FileTree::new();
    t.insert("entities.py".into(), python::entities_py(ir));
    t.insert("sfgen_runtime.py".into(), RUNTIME_CORE.into());
    t.insert("local_runtime.py".into(), LOCAL_RUNTIME.into());
    t.insert("client.py".into(), CLIENT.into());
    t.insert("sfgen_client.py".into(), CLIENT_CORE.into());
    t.insert(
        "README.md".into(),
        Readme { ir }.render().expect("README renders"),
    );
    t
}
