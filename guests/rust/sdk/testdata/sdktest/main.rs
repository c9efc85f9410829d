//! sdktest: exercises the Rust SDK through wasmgate: typed arguments, the
//! JSON value type, each kind of result, every host-function wrapper, and
//! the resources, prompts and completions it serves. Its tests are
//! guests/rust/tools_test.go.

#[path = "../../src/lib.rs"]
mod wasmgate;

use wasmgate::host::{self, Level, Request};
use wasmgate::{
    Call, CompleteRequest, Completion, Content, Contents, Error, MethodError, MethodResult, Output, Prompt, PromptRequest, ReadRequest,
    Ref, ResourceContents, Role, Tools, Value,
};

fn args(call: &Call) -> wasmgate::Result {
    let a = call.args();
    let s = a.str("s")?;
    let i = a.int("i")?;
    let b = a.opt_bool("b")?.unwrap_or(false);
    let d = a.opt_f64("d")?.unwrap_or(0.0);
    let kinds = a.0.as_object().unwrap().iter().map(|(k, v)| (k.clone(), Value::from(v.kind())));
    let reparsed = Value::parse(&call.arguments.to_string()).map_err(Error)?;
    Ok(Output::text_and_structured(
        s,
        Value::object([
            ("s", Value::from(s)),
            ("len", Value::from(s.len())),
            ("i", Value::from(i)),
            ("b", Value::from(b)),
            ("d", Value::from(d)),
            ("city", Value::from(call.arguments.path("user.address.city").and_then(Value::as_str))),
            ("list_len", Value::from(a.opt_array("list")?.map(|l| l.len()))),
            ("second", call.arguments.path("list").and_then(|l| l.at(1)).cloned().unwrap_or(Value::Null)),
            ("kinds", Value::object(kinds)),
            ("roundtrip", Value::from(reparsed == call.arguments)),
        ]),
    ))
}

fn events(call: &Call) -> wasmgate::Result {
    let msg = call.args().str("message")?;
    host::log(Level::Info, &format!("info: {}", msg));
    host::log(Level::Warning, &format!("warning: {}", msg));
    host::progress(1.0, 2.0, "half way");
    host::progress(2.0, 0.0, "");
    Ok(Output::text("logged"))
}

fn status<T>(r: Result<T, host::HostError>, held: impl Fn(T) -> String) -> Value {
    match r {
        Ok(v) => Value::object([("status", Value::from("ok")), ("held", Value::from(held(v)))]),
        Err(e) => Value::object([("status", Value::from(e.status.name())), ("code", Value::from(e.code)), ("held", Value::from(e.message))]),
    }
}

fn kv(call: &Call) -> wasmgate::Result {
    let key = call.args().str("key")?;
    let value = call.args().str("value")?;
    let text = |v: Option<Vec<u8>>| v.map_or("<none>".to_string(), |v| String::from_utf8_lossy(&v).into_owned());
    Ok(Output::structured(Value::object([
        ("set", status(host::kv_set(key, value.as_bytes()), |_| String::new())),
        ("get", status(host::kv_get(key), text)),
        ("list", status(host::kv_list(key, ""), |(k, more)| format!("{:?} {}", k, more))),
        ("list_all", status(host::kv_list_all(""), |k| format!("{:?}", k))),
        ("delete", status(host::kv_delete(key), |_| String::new())),
        ("get_again", status(host::kv_get(key), text)),
        ("empty_key", status(host::kv_get(""), text)),
    ])))
}

fn secret(call: &Call) -> wasmgate::Result {
    let name = call.args().str("name")?;
    let v = host::secret_get(name)?;
    Ok(Output::text(format!("secret {} has {} bytes", name, v.len())))
}

fn http(call: &Call) -> wasmgate::Result {
    let url = call.args().str("url")?;
    let get = host::http_get(url)?;
    let post = host::http_request(&Request::post(url, vec![0xffu8, 0x00, 0x41]).header("X-Test", "yes"))?;
    Ok(Output::text_and_structured(
        format!("HTTP {}", get.status),
        Value::object([
            ("status", Value::from(get.status)),
            ("body", Value::from(get.text())),
            ("type", Value::from(get.header("content-type"))),
            ("post", Value::from(post.text())),
        ]),
    ))
}

fn image(_: &Call) -> wasmgate::Result {
    Ok(Output::text("an image follows").and_image(vec![0x89, b'P', b'N', b'G', 0, 1, 2], "image/png"))
}

fn fail(_: &Call) -> wasmgate::Result {
    Err(Error(format!("failed on purpose: {} \"quoted\"", 42)))
}

fn content(_: &Call) -> wasmgate::Result {
    Ok(Output::audio(vec![b'R', b'I', b'F', b'F', 0xff], "audio/wav")
        .and_resource_link("test://doc/1", "doc 1")
        .and(Content::ResourceLink {
            uri: "test://static".into(),
            name: "static".into(),
            mime_type: "text/plain".into(),
            description: "A fixed text.".into(),
        })
        .and_resource(ResourceContents::text("test://doc/2", "text/markdown", "# two"))
        .and_resource(ResourceContents::blob("test://blob", "", vec![0, 1, 2])))
}

/// client reports what the envelope says of the client.
fn client(call: &Call) -> wasmgate::Result {
    let c = &call.client;
    let supports = ["sampling", "elicitation", "roots", "experimental"].iter().filter(|n| c.supports(n)).map(|n| Value::from(*n)).collect();
    Ok(Output::structured(Value::object([
        ("protocolVersion", Value::from(c.protocol_version.as_str())),
        ("supports", Value::Array(supports)),
        ("capabilities", c.capabilities.clone()),
    ])))
}

fn json(s: &str) -> Value {
    Value::parse(s).unwrap()
}

/// ask puts every kind of question to the client, and two malformed ones,
/// and reports each answer or error.
fn ask(_: &Call) -> wasmgate::Result {
    let text = |v: Value| v.to_string();
    let elicit = Value::object([
        ("message", Value::from("Your name?")),
        ("requestedSchema", json(r#"{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}"#)),
    ]);
    let sample = json(r#"{"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":10,"systemPrompt":"be brief"}"#);
    let questions = json(
        r#"{"roots": {"method": "roots/list", "params": {}},
            "color": {"method": "elicitation/create", "params": {"message": "Favourite colour?", "requestedSchema": {"type": "object", "properties": {"color": {"type": "string"}}}}}}"#,
    );
    Ok(Output::structured(Value::object([
        ("sample_text", status(host::sample_text("What is 2+2?", 50), |s| s)),
        ("sample", status(host::sample(&sample), text)),
        ("elicit", status(host::elicit(&elicit), text)),
        ("ask", status(host::ask(&questions), text)),
        ("bad_sample", status(host::sample(&json(r#"{"messages":[],"maxTokens":0}"#)), text)),
        ("bad_ask", status(host::ask(&Value::Object(Vec::new())), text)),
    ])))
}

fn notify(call: &Call) -> wasmgate::Result {
    let uri = call.args().str("uri")?;
    Ok(Output::structured(Value::object([
        ("uri", status(host::resource_updated(uri), |_| String::new())),
        ("empty", status(host::resource_updated(""), |_| String::new())),
    ])))
}

fn read_static(r: &ReadRequest) -> MethodResult<Contents> {
    Ok(Contents::text("text/plain", format!("static text at {} for {}", r.uri, r.client.protocol_version)))
}

fn read_blob(_: &ReadRequest) -> MethodResult<Contents> {
    Ok(Contents::blob("application/octet-stream", vec![0, 1, 2, 0xfe, 0xff]).and(ResourceContents::text(
        "test://blob#note",
        "text/markdown",
        "# a note",
    )))
}

fn read_doc(r: &ReadRequest) -> MethodResult<Contents> {
    let id = r.var("id").ok_or("no id")?;
    match id {
        "missing" => return Err(MethodError::not_found(format!("no such document: {}", id))),
        "bad" => return Err(MethodError::invalid_params("bad document id")),
        "host" => {
            host::secret_get("NOPE")?;
        }
        _ => {}
    }
    let vars: Vec<String> = r.variables.iter().map(|(k, v)| format!("{}={}", k, v)).collect();
    Ok(Contents::text("", format!("doc {} of {} ({})", id, r.uri_template, vars.join(","))))
}

fn greet(p: &PromptRequest) -> MethodResult<Prompt> {
    let who = p.require("who")?;
    let style = p.arg("style").unwrap_or("plain");
    let line = match style {
        "plain" => format!("Say hello to {}.", who),
        "loud" => format!("SAY HELLO TO {}!", who.to_uppercase()),
        _ => return Err(MethodError::invalid_params(format!("unknown style {}", wasmgate::quote(style)))),
    };
    Ok(Prompt::user(line)
        .with_description(format!("A greeting for {}", who))
        .and_assistant("Hello!")
        .and(Role::User, Content::Image { data: vec![0x89, b'P', b'N', b'G'], mime_type: "image/png".into() })
        .and(Role::Assistant, Content::Resource(ResourceContents::text("test://static", "text/plain", "embedded"))))
}

/// plain lists its arguments in one user message, with no description.
fn plain(p: &PromptRequest) -> MethodResult<Prompt> {
    let args: Vec<String> = p.arguments.iter().map(|(k, v)| format!("{}={}", k, v)).collect();
    Ok(Prompt::user(format!("arguments: {}; client {}", args.join(","), p.client.protocol_version)))
}

fn complete(c: &CompleteRequest) -> MethodResult<Completion> {
    match (&c.reference, c.argument.as_str()) {
        (Ref::Prompt(p), "who") if p == "greet" => Ok(Completion::matching(&["Ada", "Alan", "Grace", "alonzo"], &c.value)),
        (Ref::Prompt(p), "style") if p == "greet" => {
            let who = c.context_arg("who").unwrap_or("nobody");
            Ok(Completion::new(vec![format!("plain for {}", who), format!("loud for {}", who)]))
        }
        (Ref::Resource(t), "id") if t == "test://doc/{id}" => {
            let ids: Vec<String> = (1..=150).map(|i| i.to_string()).collect();
            Ok(Completion::matching(&ids, &c.value))
        }
        _ => Err(MethodError::invalid_params(format!("nothing to complete for {:?} argument {}", c.reference, c.argument))),
    }
}

fn main() {
    Tools::new()
        .tool("args", args)
        .tool("events", events)
        .tool("kv", kv)
        .tool("secret", secret)
        .tool("http", http)
        .tool("image", image)
        .tool("fail", fail)
        .tool("content", content)
        .tool("client", client)
        .tool("ask", ask)
        .tool("notify", notify)
        .resource("test://static", read_static)
        .resource("test://blob", read_blob)
        .resource_template("test://doc/{id}", read_doc)
        .prompt("greet", greet)
        .prompt("plain", plain)
        .completion(complete)
        .run()
}
