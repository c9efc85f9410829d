//! sdktest: exercises the Rust SDK through wasmgate: typed arguments, the
//! JSON value type, each kind of result and every host-function wrapper.
//! Its tests are guests/rust/tools_test.go.

#[path = "../../src/lib.rs"]
mod wasmgate;

use wasmgate::host::{self, Level, Request};
use wasmgate::{Call, Error, Output, Tools, Value};

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

fn main() {
    Tools::new()
        .tool("args", args)
        .tool("events", events)
        .tool("kv", kv)
        .tool("secret", secret)
        .tool("http", http)
        .tool("image", image)
        .tool("fail", fail)
        .run()
}
