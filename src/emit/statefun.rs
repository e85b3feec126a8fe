//! The `statefun` target: a Flink Stateful Functions 3.3 project. Each entity class is a
//! remote function type served by an aiohttp service through the StateFun Python SDK;
//! module.yaml routes one Kafka request topic per class to its function and replies
//! leave through an exactly-once Kafka egress. `client.py --local` runs the same functions
//! in process through `statefun_harness.py`, which plays the StateFun runtime.

use askama::Template;

use super::{local::RUNTIME_CORE, python, FileTree};
use crate::ir::Ir;

const FUNCTIONS_APP: &str = include_str!("../../templates/statefun/functions/app.py");
const FUNCTIONS_REQUIREMENTS: &str =
    include_str!("../../templates/statefun/functions/requirements.txt");
const FUNCTIONS_DOCKERFILE: &str = include_str!("../../templates/statefun/functions/Dockerfile");
const HARNESS: &str = include_str!("../../templates/statefun/statefun_harness.py");
const CLIENT: &str = include_str!("../../templates/statefun/client.py");
const REQUIREMENTS: &str = include_str!("../../templates/statefun/requirements.txt");
const FLINK_CONF: &str = include_str!("../../templates/statefun/flink-conf/flink-conf.yaml");
const CREATE_TOPICS: &str = include_str!("../../templates/statefun/kafka/create-topics.sh");

/// Partitions of every topic.
const PARTITIONS: u32 = 4;

/// One entity class as a StateFun function.
struct Function {
    name: String,
    /// `<namespace>/<Entity>`
    typename: String,
    /// The Kafka topic of its client requests.
    topic: String,
}

/// Names shared by module.yaml, topology.py, the topics and the README.
struct Topology {
    source: String,
    namespace: String,
    module_name: String,
    consumer_group: String,
    egress: String,
    reply_topic: String,
    event_type: &'static str,
    record_type: &'static str,
    partitions: u32,
    functions: Vec<Function>,
}

/// Lowercase ASCII letters, digits and `_` of the app file's stem (`app.py` → `app`).
fn slug(source: &str) -> String {
    let stem = source.rsplit_once('.').map_or(source, |(s, _)| s);
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.chars().any(|c| c.is_ascii_alphanumeric()) {
        s
    } else {
        "app".into()
    }
}

/// A Kafka topic name part: ASCII letters, digits, `_` (others become `_`).
fn topic_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn topology(ir: &Ir) -> Topology {
    let slug = slug(&ir.source);
    let namespace = format!("sfgen.{slug}");
    let mut topics: Vec<String> = vec![];
    let functions = ir
        .entities
        .iter()
        .map(|e| {
            let mut topic = format!(
                "{}-{}-requests",
                slug.replace('_', "-"),
                topic_part(&e.name)
            );
            let mut n = 2;
            while topics.contains(&topic) {
                topic = format!(
                    "{}-{}-{n}-requests",
                    slug.replace('_', "-"),
                    topic_part(&e.name)
                );
                n += 1;
            }
            topics.push(topic.clone());
            Function {
                name: e.name.clone(),
                typename: format!("{namespace}/{}", e.name),
                topic,
            }
        })
        .collect();
    Topology {
        source: ir.source.clone(),
        module_name: slug.clone(),
        consumer_group: format!("sfgen-{}", slug.replace('_', "-")),
        egress: format!("{namespace}/replies"),
        reply_topic: format!("{}-replies", slug.replace('_', "-")),
        event_type: "sfgen.types/event",
        record_type: "sfgen.types/record",
        partitions: PARTITIONS,
        namespace,
        functions,
    }
}

#[derive(Template)]
#[template(path = "statefun/functions/topology.py.txt", escape = "none")]
struct TopologyPy<'a> {
    t: &'a Topology,
}

#[derive(Template)]
#[template(path = "statefun/module.yaml.txt", escape = "none")]
struct ModuleYaml<'a> {
    t: &'a Topology,
}

#[derive(Template)]
#[template(path = "statefun/kafka/topics.yaml.txt", escape = "none")]
struct TopicsYaml<'a> {
    t: &'a Topology,
}

#[derive(Template)]
#[template(path = "statefun/docker-compose.yml.txt", escape = "none")]
struct Compose<'a> {
    t: &'a Topology,
}

#[derive(Template)]
#[template(path = "statefun/README.md.txt", escape = "none")]
struct Readme<'a> {
    ir: &'a Ir,
    t: &'a Topology,
}

pub fn emit(ir: &Ir) -> FileTree {
    let t = topology(ir);
    let mut tree = FileTree::new();
    let mut put = |path: &str, text: String| {
        tree.insert(path.to_string(), text);
    };
    put("functions/app.py", FUNCTIONS_APP.into());
    put("functions/entities.py", python::entities_py(ir));
    put("functions/sfgen_runtime.py", RUNTIME_CORE.into());
    put(
        "functions/topology.py",
        TopologyPy { t: &t }.render().expect("topology.py renders"),
    );
    put("functions/requirements.txt", FUNCTIONS_REQUIREMENTS.into());
    put("functions/Dockerfile", FUNCTIONS_DOCKERFILE.into());
    put(
        "module.yaml",
        ModuleYaml { t: &t }.render().expect("module.yaml renders"),
    );
    put(
        "docker-compose.yml",
        Compose { t: &t }.render().expect("compose renders"),
    );
    put("flink-conf/flink-conf.yaml", FLINK_CONF.into());
    put(
        "kafka/topics.yaml",
        TopicsYaml { t: &t }.render().expect("topics renders"),
    );
    put("kafka/create-topics.sh", CREATE_TOPICS.into());
    put("client.py", CLIENT.into());
    put("sfgen_client.py", super::local::CLIENT_CORE.into());
    put("statefun_harness.py", HARNESS.into());
    put("requirements.txt", REQUIREMENTS.into());
    put(
        "README.md",
        Readme { ir, t: &t }.render().expect("README renders"),
    );
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_topic_names() {
        assert_eq!(slug("app.py"), "app");
        assert_eq!(slug("My-Shop.py"), "my_shop");
        assert_eq!(slug("..."), "app");
        assert_eq!(topic_part("Usér"), "Us_r");
    }
}
