//! counter: a wasmgate tool in Rust. Named counters that persist between
//! calls in the module's key-value store (the operator must grant kv).

#[path = "../sdk/src/lib.rs"]
mod wasmgate;

use wasmgate::host;
use wasmgate::{Call, Error, Output, Tools, Value};

const PREFIX: &str = "counter/";

fn name_arg(call: &Call) -> wasmgate::Result<String> {
    let name = call.args().str("name")?;
    if name.is_empty() || name.len() > 200 {
        return Err(Error::new("argument \"name\" must be 1 to 200 bytes long"));
    }
    Ok(name.to_string())
}

fn read(name: &str) -> wasmgate::Result<i64> {
    match host::kv_get(&format!("{}{}", PREFIX, name))? {
        None => Ok(0),
        Some(v) => String::from_utf8_lossy(&v)
            .parse::<i64>()
            .map_err(|_| Error(format!("the stored value of counter {} is not a number", wasmgate::quote(name)))),
    }
}

fn answer(name: &str, value: i64) -> Output {
    Output::text_and_structured(
        format!("{} = {}", name, value),
        Value::object([("name", Value::from(name)), ("value", Value::from(value))]),
    )
}

fn increment(call: &Call) -> wasmgate::Result {
    call.args().only(&["name", "by"])?;
    let name = name_arg(call)?;
    let by = call.args().opt_int("by")?.unwrap_or(1);
    let value = read(&name)?
        .checked_add(by)
        .filter(|v| v.abs() <= 9007199254740991)
        .ok_or_else(|| Error::new("the counter would leave the range of exact integers (±2^53)"))?;
    host::kv_set(&format!("{}{}", PREFIX, name), value.to_string().as_bytes())?;
    Ok(answer(&name, value))
}

fn get(call: &Call) -> wasmgate::Result {
    call.args().only(&["name"])?;
    let name = name_arg(call)?;
    Ok(answer(&name, read(&name)?))
}

fn reset(call: &Call) -> wasmgate::Result {
    call.args().only(&["name"])?;
    let name = name_arg(call)?;
    host::kv_delete(&format!("{}{}", PREFIX, name))?;
    Ok(answer(&name, 0))
}

fn list(call: &Call) -> wasmgate::Result {
    call.args().only(&["prefix"])?;
    let prefix = call.args().opt_str("prefix")?.unwrap_or("");
    let mut counters = Vec::new();
    let mut text = String::new();
    for key in host::kv_list_all(&format!("{}{}", PREFIX, prefix))? {
        let name = &key[PREFIX.len()..];
        let value = read(name)?;
        text.push_str(&format!("{} = {}\n", name, value));
        counters.push(Value::object([("name", Value::from(name)), ("value", Value::from(value))]));
    }
    if text.is_empty() {
        text.push_str("no counters");
    }
    Ok(Output::text_and_structured(text.trim_end(), Value::object([("counters", Value::Array(counters))])))
}

fn main() {
    Tools::new()
        .tool("counter_increment", increment)
        .tool("counter_get", get)
        .tool("counter_reset", reset)
        .tool("counter_list", list)
        .run()
}
