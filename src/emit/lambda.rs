//! The `lambda` target: an AWS Lambda function behind an API Gateway HTTP API, with entity
//! state in DynamoDB (leases for isolation, a commit transaction per request, stored
//! responses for request ids), deployable with SAM (`template.yaml`) or Terraform
//! (`terraform/`). One invocation runs every hop of a request in process, on the runtime
//! core's operators.

use askama::Template;
use heck::ToKebabCase;

use super::{local::RUNTIME_CORE, python, FileTree};
use crate::ir::{Entity, Ir};

const HANDLER: &str = include_str!("../../templates/lambda/handler.py");
const STATE: &str = include_str!("../../templates/lambda/state.py");
const CLIENT: &str = include_str!("../../templates/lambda/client.py");
const REQUIREMENTS: &str = include_str!("../../templates/lambda/requirements.txt");
const GITIGNORE: &str = include_str!("../../templates/lambda/gitignore");
const VERSIONS_TF: &str = include_str!("../../templates/lambda/terraform/versions.tf");
const MAIN_TF: &str = include_str!("../../templates/lambda/terraform/main.tf");
const OUTPUTS_TF: &str = include_str!("../../templates/lambda/terraform/outputs.tf");

#[derive(Template)]
#[template(path = "lambda/README.md.txt", escape = "none")]
struct Readme<'a> {
    ir: &'a Ir,
}

#[derive(Template)]
#[template(path = "lambda/template.yaml.txt", escape = "none")]
struct Sam<'a> {
    ir: &'a Ir,
    entity_list: String,
}

#[derive(Template)]
#[template(path = "lambda/samconfig.toml.txt", escape = "none")]
struct SamConfig<'a> {
    name: &'a str,
}

#[derive(Template)]
#[template(path = "lambda/terraform/variables.tf.txt", escape = "none")]
struct Variables<'a> {
    name: &'a str,
}

pub fn emit(ir: &Ir) -> FileTree {
    let name = project_name(ir);
    let mut t = FileTree::new();
    t.insert("src/entities.py".into(), python::entities_py(ir));
    t.insert("src/sfgen_runtime.py".into(), RUNTIME_CORE.into());
    t.insert("src/handler.py".into(), HANDLER.into());
    t.insert("src/state.py".into(), STATE.into());
    t.insert("client.py".into(), CLIENT.into());
    t.insert("sfgen_client.py".into(), super::local::CLIENT_CORE.into());
    t.insert("requirements.txt".into(), REQUIREMENTS.into());
    t.insert(".gitignore".into(), GITIGNORE.into());
    let entity_list = ir
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    t.insert(
        "template.yaml".into(),
        Sam { ir, entity_list }
            .render()
            .expect("template.yaml renders"),
    );
    t.insert(
        "samconfig.toml".into(),
        SamConfig { name: &name }
            .render()
            .expect("samconfig renders"),
    );
    t.insert("terraform/versions.tf".into(), VERSIONS_TF.into());
    t.insert("terraform/main.tf".into(), MAIN_TF.into());
    t.insert(
        "terraform/variables.tf".into(),
        Variables { name: &name }
            .render()
            .expect("variables.tf renders"),
    );
    t.insert("terraform/outputs.tf".into(), OUTPUTS_TF.into());
    for (file, text) in sample_events(ir) {
        t.insert(format!("events/{file}"), text);
    }
    t.insert(
        "README.md".into(),
        Readme { ir }.render().expect("README renders"),
    );
    t
}

/// The default prefix of resource names: `sfgen-` and the entity names, in kebab case,
/// short enough for IAM role names (64 characters with the `-function` suffix).
fn project_name(ir: &Ir) -> String {
    let mut name = String::from("sfgen");
    for e in &ir.entities {
        let part = e.name.to_kebab_case();
        if name.len() + 1 + part.len() > 40 {
            break;
        }
        name.push('-');
        name.push_str(&part);
    }
    name
}

/// A JSON value of Python type `ty` (as the IR writes it) for the sample events.
fn sample(ty: &str, ir: &Ir) -> String {
    let ty = ty.trim().trim_matches(|c| c == '"' || c == '\'');
    let (head, inner) = match ty.find('[') {
        Some(i) if ty.ends_with(']') => (&ty[..i], &ty[i + 1..ty.len() - 1]),
        _ => (ty, ""),
    };
    match head {
        "str" => "\"example\"".into(),
        "int" => "1".into(),
        "float" => "1.5".into(),
        "bool" => "true".into(),
        "List" | "list" | "Tuple" | "tuple" | "Set" | "set" | "Sequence" => "[]".into(),
        "Dict" | "dict" | "Mapping" => "{}".into(),
        "Optional" => sample(inner, ir),
        _ => match ir.entities.iter().find(|e| e.name == head) {
            Some(e) => format!("{{\"$ref\": [\"{}\", {}]}}", e.name, key_sample(e, ir)),
            None => "null".into(),
        },
    }
}

fn key_sample(e: &Entity, ir: &Ir) -> String {
    match e.fields.iter().find(|f| f.name == e.key) {
        Some(f) if !ir.entities.iter().any(|x| x.name == f.ty) => sample(&f.ty, ir),
        _ => "\"example\"".into(),
    }
}

/// The JSON text of `s` as a string literal.
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters stay).
fn quote(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The path segment of a sample key (see client.py `key_segment`): a str that is not JSON
/// by itself as its text, anything else as JSON.
fn key_segment(json_value: &str) -> (String, String) {
    let unquoted = json_value
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'));
    let text = match unquoted {
        Some(s)
            if !s.is_empty()
                && s.chars().all(|c| c.is_ascii_alphabetic())
                && !["true", "false", "null", "NaN", "Infinity"].contains(&s) =>
        {
            s.to_string()
        }
        _ => json_value.to_string(),
    };
    (quote(&text), text)
}

/// One API Gateway HTTP API (payload 2.0) event.
fn api_event(
    method: &str,
    params: &[(&str, String)],
    raw_path: &str,
    body: Option<String>,
    request_id: &str,
) -> String {
    let route = format!(
        "{method} /{}",
        params
            .iter()
            .map(|(n, _)| format!("{{{n}}}"))
            .collect::<Vec<_>>()
            .join("/")
    );
    let params_json = params
        .iter()
        .map(|(n, v)| format!("    {}: {}", json_str(n), json_str(v)))
        .collect::<Vec<_>>()
        .join(",\n");
    let body_json = match body {
        Some(b) => json_str(&b),
        None => "null".into(),
    };
    format!(
        r#"{{
  "version": "2.0",
  "routeKey": {route},
  "rawPath": {path},
  "rawQueryString": "",
  "headers": {{
    "content-type": "application/json",
    "x-request-id": {rid}
  }},
  "requestContext": {{
    "accountId": "123456789012",
    "apiId": "example",
    "domainName": "example.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "example",
    "http": {{
      "method": {method},
      "path": {path},
      "protocol": "HTTP/1.1",
      "sourceIp": "127.0.0.1",
      "userAgent": "sample"
    }},
    "requestId": {rid},
    "routeKey": {route},
    "stage": "$default",
    "time": "01/Jan/2026:00:00:00 +0000",
    "timeEpoch": 1767225600000
  }},
  "pathParameters": {{
{params_json}
  }},
  "body": {body_json},
  "isBase64Encoded": false
}}
"#,
        route = json_str(&route),
        path = json_str(raw_path),
        rid = json_str(request_id),
        method = json_str(method),
    )
}

/// `events/create.json`, `call.json` and `state.json` for the first entity.
fn sample_events(ir: &Ir) -> Vec<(String, String)> {
    let Some(e) = ir.entities.first() else {
        return vec![];
    };
    let args_of = |m: Option<&crate::ir::Method>| -> String {
        let args: Vec<String> = m
            .map(|m| {
                m.params
                    .iter()
                    .filter(|p| p.default.is_none() && p.kind == "positional")
                    .map(|p| sample(&p.ty, ir))
                    .collect()
            })
            .unwrap_or_default();
        format!("{{\"args\": [{}], \"kwargs\": {{}}}}", args.join(", "))
    };
    let (seg, key_text) = key_segment(&key_sample(e, ir));
    let cls = quote(&e.name);
    let mut out = vec![(
        "create.json".to_string(),
        api_event(
            "POST",
            &[("entity", e.name.clone())],
            &format!("/{cls}"),
            Some(args_of(e.methods.iter().find(|m| m.name == "__init__"))),
            "sample-create-1",
        ),
    )];
    if let Some(m) = e.methods.iter().find(|m| m.public) {
        out.push((
            "call.json".to_string(),
            api_event(
                "POST",
                &[
                    ("entity", e.name.clone()),
                    ("key", key_text.clone()),
                    ("method", m.name.clone()),
                ],
                &format!("/{cls}/{seg}/{}", quote(&m.name)),
                Some(args_of(Some(m))),
                "sample-call-1",
            ),
        ));
    }
    out.push((
        "state.json".to_string(),
        api_event(
            "GET",
            &[("entity", e.name.clone()), ("key", key_text)],
            &format!("/{cls}/{seg}"),
            None,
            "sample-state-1",
        ),
    ));
    out
}
