//! wasmgate: the Rust SDK for wasmgate tool modules (guest ABI 1, see
//! abi/ABI.md). Standard library only.
//!
//! A tool module registers one handler per tool and runs them:
//!
//! ```ignore
//! #[path = "../sdk/src/lib.rs"]
//! mod wasmgate;
//! use wasmgate::{Call, Output, Tools};
//!
//! fn greet(call: &Call) -> wasmgate::Result {
//!     let name = call.args().str("name")?;
//!     Ok(Output::text(format!("hello, {}", name)))
//! }
//!
//! fn main() {
//!     Tools::new().tool("greet", greet).run()
//! }
//! ```
//!
//! A handler returns `Ok(Output)` (text, image and structured content) or
//! `Err(Error)`, a tool error the model sees (`isError: true`). Argument
//! accessors return errors that name the argument, so `?` is all a handler
//! needs. `run` reads the call envelope from stdin, dispatches on
//! `params.name` and writes the CallToolResult to stdout.
//!
//! The host functions are in [`host`]: `log`, `progress`, `http_request`,
//! `kv_get`/`kv_set`/`kv_delete`/`kv_list` and `secret_get`, each returning
//! a `Result` whose error carries the host's status and message.
#![allow(dead_code)]

use std::fmt;
use std::io::{Read, Write};

// ---------- JSON ----------

/// A JSON value. Objects keep their members in order; `get` finds the last
/// member with a name, as most parsers do.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

const MAX_DEPTH: usize = 128;

impl Value {
    /// Parses one JSON document (RFC 8259). Lone surrogates in `\u`
    /// escapes become U+FFFD; nesting is limited to 128 levels.
    pub fn parse(s: &str) -> std::result::Result<Value, String> {
        let mut p = Parser { s: s.as_bytes(), i: 0 };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(format!("unexpected data after the JSON value at offset {}", p.i));
        }
        Ok(v)
    }

    /// An object from (name, value) pairs.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(members: I) -> Value {
        Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a path of member names separated by dots: "user.address.city".
    pub fn path(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |v, k| v.get(k))
    }

    /// Element `i` of an array.
    pub fn at(&self, i: usize) -> Option<&Value> {
        match self {
            Value::Array(a) => a.get(i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// An integral number (3, 3.0, 3e2) within ±2^53.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) if n.fract() == 0.0 && n.abs() <= 9007199254740992.0 => Some(*n as i64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Vec<(String, Value)>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the value's type, for messages: "string", "number"...
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

/// Writes s as a JSON string literal.
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl fmt::Display for Value {
    /// The compact JSON text of the value; non-finite numbers become null.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_value(&mut s, self);
        f.write_str(&s)
    }
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if !n.is_finite() {
                out.push_str("null")
            } else if n.fract() == 0.0 && n.abs() < 9007199254740992.0 {
                out.push_str(&format!("{}", *n as i64))
            } else {
                out.push_str(&format!("{}", n))
            }
        }
        Value::String(s) => write_json_string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, e);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_value(out, e);
            }
            out.push('}');
        }
    }
}

macro_rules! from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value { Value::Number(n as f64) }
        }
    )*};
}
from_number!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize, f32, f64);

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Value {
        Value::Array(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> std::result::Result<T, String> {
        Err(format!("invalid JSON at offset {}: {}", self.i, what))
    }

    fn lit(&mut self, word: &str, v: Value) -> std::result::Result<Value, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            self.err("unexpected character")
        }
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Value, String> {
        if depth > MAX_DEPTH {
            return self.err("nested too deeply");
        }
        match self.s.get(self.i) {
            None => self.err("unexpected end"),
            Some(b'n') => self.lit("null", Value::Null),
            Some(b't') => self.lit("true", Value::Bool(true)),
            Some(b'f') => self.lit("false", Value::Bool(false)),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Value::Array(a));
                }
                loop {
                    self.ws();
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Value::Array(a));
                        }
                        _ => return self.err("expected , or ]"),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Value::Object(m));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return self.err("expected a member name");
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.i) != Some(&b':') {
                        return self.err("expected :");
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Value::Object(m));
                        }
                        _ => return self.err("expected , or }"),
                    }
                }
            }
            Some(_) => self.number(),
        }
    }

    fn number(&mut self) -> std::result::Result<Value, String> {
        let start = self.i;
        let s = self.s;
        let digits = |i: &mut usize| {
            let b = *i;
            while *i < s.len() && s[*i].is_ascii_digit() {
                *i += 1;
            }
            *i > b
        };
        let mut i = self.i;
        if s.get(i) == Some(&b'-') {
            i += 1;
        }
        if s.get(i) == Some(&b'0') {
            i += 1;
        } else if !digits(&mut i) {
            return self.err("unexpected character");
        }
        if s.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                self.i = i;
                return self.err("expected a digit");
            }
        }
        if matches!(s.get(i), Some(b'e') | Some(b'E')) {
            i += 1;
            if matches!(s.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                self.i = i;
                return self.err("expected a digit");
            }
        }
        self.i = i;
        let text = std::str::from_utf8(&s[start..i]).unwrap_or("0");
        Ok(Value::Number(text.parse::<f64>().unwrap_or(0.0)))
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.i..self.i + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        if !h.iter().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        Some(v)
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.s.len() && !matches!(self.s[self.i], b'"' | b'\\') && self.s[self.i] >= 0x20 {
                self.i += 1;
            }
            // the input is a &str, and the run ends at an ASCII byte: valid UTF-8
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).unwrap_or("\u{fffd}"));
            match self.s.get(self.i) {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let e = match self.s.get(self.i) {
                        Some(e) => *e,
                        None => return self.err("unterminated string"),
                    };
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = match self.hex4() {
                                Some(v) => v,
                                None => return self.err("bad \\u escape"),
                            };
                            let mut cp = hi;
                            if (0xD800..0xDC00).contains(&hi) {
                                let save = self.i;
                                cp = 0xFFFD;
                                if self.s.get(self.i) == Some(&b'\\') && self.s.get(self.i + 1) == Some(&b'u') {
                                    self.i += 2;
                                    match self.hex4() {
                                        Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                                            cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                        }
                                        _ => self.i = save,
                                    }
                                }
                            }
                            out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                        }
                        _ => return self.err("bad escape"),
                    }
                }
                Some(_) => return self.err("control character in string"),
            }
        }
    }
}

// ---------- base64 ----------

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity((data.len() + 2) / 3 * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(v >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); None if it is not base64.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut n) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = B64.iter().position(|b| *b == c)? as u32;
        acc = acc << 6 | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    Some(out)
}

// ---------- calls and results ----------

/// A tool error: the model sees its message in a result with `isError: true`.
#[derive(Clone, Debug, PartialEq)]
pub struct Error(pub String);

impl Error {
    pub fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error(s)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Error {
        Error(s.to_string())
    }
}

impl From<host::HostError> for Error {
    fn from(e: host::HostError) -> Error {
        Error(e.to_string())
    }
}

/// What a handler returns.
pub type Result<T = Output> = std::result::Result<T, Error>;

/// One content item of a result.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Text(String),
    Image { data: Vec<u8>, mime_type: String },
}

/// A successful result: content items and optional structuredContent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    pub content: Vec<Content>,
    pub structured: Option<Value>,
}

impl Output {
    /// One text item.
    pub fn text(s: impl Into<String>) -> Output {
        Output { content: vec![Content::Text(s.into())], structured: None }
    }

    /// structuredContent (a JSON object), with its JSON text as the text
    /// item, as MCP recommends for clients that only read content.
    pub fn structured(v: Value) -> Output {
        Output { content: vec![Content::Text(v.to_string())], structured: Some(v) }
    }

    /// A text item and structuredContent.
    pub fn text_and_structured(s: impl Into<String>, v: Value) -> Output {
        Output { content: vec![Content::Text(s.into())], structured: Some(v) }
    }

    /// One image item (data is base64-encoded when written).
    pub fn image(data: Vec<u8>, mime_type: impl Into<String>) -> Output {
        Output { content: vec![Content::Image { data, mime_type: mime_type.into() }], structured: None }
    }

    /// Adds a text item.
    pub fn and_text(mut self, s: impl Into<String>) -> Output {
        self.content.push(Content::Text(s.into()));
        self
    }

    /// Adds an image item.
    pub fn and_image(mut self, data: Vec<u8>, mime_type: impl Into<String>) -> Output {
        self.content.push(Content::Image { data, mime_type: mime_type.into() });
        self
    }
}

/// One tools/call request.
#[derive(Clone, Debug)]
pub struct Call {
    /// The tool name (params.name).
    pub name: String,
    /// params.arguments: always an object.
    pub arguments: Value,
    /// params._meta, or Null.
    pub meta: Value,
}

impl Call {
    /// Typed access to the arguments.
    pub fn args(&self) -> Args<'_> {
        Args(&self.arguments)
    }
}

/// Typed access to a call's arguments. Each accessor's error names the
/// argument ("missing required argument \"text\" (a string)", "argument
/// \"n\" must be an integer"); the `opt_` forms treat a missing or null
/// argument as None.
pub struct Args<'a>(pub &'a Value);

impl<'a> Args<'a> {
    /// The raw value of an argument.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn typed<T>(&self, name: &str, what: &str, f: impl Fn(&'a Value) -> Option<T>) -> Result<Option<T>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => f(v).map(Some).ok_or_else(|| Error(format!("argument {} must be {}", quote(name), what))),
        }
    }

    fn required<T>(&self, name: &str, what: &str, v: Result<Option<T>>) -> Result<T> {
        v?.ok_or_else(|| Error(format!("missing required argument {} ({})", quote(name), what)))
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&'a str>> {
        self.typed(name, "a string", |v| v.as_str())
    }
    pub fn str(&self, name: &str) -> Result<&'a str> {
        self.required(name, "a string", self.opt_str(name))
    }
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        self.typed(name, "an integer", |v| v.as_i64())
    }
    pub fn int(&self, name: &str) -> Result<i64> {
        self.required(name, "an integer", self.opt_int(name))
    }
    pub fn opt_f64(&self, name: &str) -> Result<Option<f64>> {
        self.typed(name, "a number", |v| v.as_f64())
    }
    pub fn f64(&self, name: &str) -> Result<f64> {
        self.required(name, "a number", self.opt_f64(name))
    }
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>> {
        self.typed(name, "a boolean", |v| v.as_bool())
    }
    pub fn bool(&self, name: &str) -> Result<bool> {
        self.required(name, "a boolean", self.opt_bool(name))
    }
    pub fn opt_array(&self, name: &str) -> Result<Option<&'a Vec<Value>>> {
        self.typed(name, "an array", |v| v.as_array())
    }
    pub fn opt_object(&self, name: &str) -> Result<Option<&'a Value>> {
        self.typed(name, "an object", |v| v.as_object().map(|_| v))
    }

    /// Fails on an argument not in names.
    pub fn only(&self, names: &[&str]) -> Result<()> {
        for (k, _) in self.0.as_object().map(|m| m.as_slice()).unwrap_or(&[]) {
            if !names.contains(&k.as_str()) {
                let takes = if names.is_empty() {
                    "no arguments".to_string()
                } else {
                    format!("only {}", names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(", "))
                };
                return Err(Error(format!("unknown argument {}: this tool takes {}", quote(k), takes)));
            }
        }
        Ok(())
    }
}

/// s as a JSON string literal, for messages.
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    write_json_string(&mut out, s);
    out
}

type Handler = Box<dyn Fn(&Call) -> Result>;

/// The tools of a module.
#[derive(Default)]
pub struct Tools {
    handlers: Vec<(String, Handler)>,
}

impl Tools {
    pub fn new() -> Tools {
        Tools::default()
    }

    /// Registers the handler of a tool.
    pub fn tool(mut self, name: &str, h: impl Fn(&Call) -> Result + 'static) -> Tools {
        self.handlers.push((name.to_string(), Box::new(h)));
        self
    }

    /// Serves the call on stdin and exits.
    pub fn run(self) -> ! {
        let mut input = Vec::new();
        let result = match std::io::stdin().read_to_end(&mut input) {
            Err(e) => Err(Error(format!("could not read the request from stdin: {}", e))),
            Ok(_) => self.handle(&input),
        };
        let out = render(&result);
        let mut stdout = std::io::stdout();
        let ok = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()).is_ok();
        std::process::exit(if ok { 0 } else { 1 })
    }

    /// Runs the handler a request names; the request is the envelope's JSON.
    pub fn handle(&self, input: &[u8]) -> Result {
        let text = std::str::from_utf8(input).map_err(|_| Error::new("the request is not valid UTF-8"))?;
        let req = Value::parse(text).map_err(|e| Error(format!("the request is not valid JSON: {}", e)))?;
        if req.get("method").and_then(Value::as_str) != Some("tools/call") {
            return Err(Error::new("unsupported method: this module only serves tools/call"));
        }
        let params = req.get("params").filter(|p| p.as_object().is_some()).ok_or_else(|| Error::new("the request has no params object"))?;
        let name = params.get("name").and_then(Value::as_str).ok_or_else(|| Error::new("the request has no tool name (params.name)"))?;
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Value::Object(Vec::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err(Error::new("arguments must be a JSON object")),
        };
        host::log(host::Level::Debug, name);
        let call = Call { name: name.to_string(), arguments, meta: params.get("_meta").cloned().unwrap_or(Value::Null) };
        match self.handlers.iter().find(|(n, _)| n == name) {
            Some((_, h)) => h(&call),
            None => {
                let names: Vec<&str> = self.handlers.iter().map(|(n, _)| n.as_str()).collect();
                Err(Error(format!("unknown tool {}: this module has {}", quote(name), names.join(", "))))
            }
        }
    }
}

/// The CallToolResult of a handler's result, as JSON text.
pub fn render(r: &Result) -> String {
    let mut content = Vec::new();
    let (items, structured, is_error) = match r {
        Ok(o) => (&o.content, o.structured.clone(), false),
        Err(e) => {
            content.push(Content::Text(e.0.clone()));
            (&content, None, true)
        }
    };
    let mut members = vec![(
        "content".to_string(),
        Value::Array(
            items
                .iter()
                .map(|c| match c {
                    Content::Text(t) => Value::object([("type", "text".into()), ("text", t.as_str().into())]),
                    Content::Image { data, mime_type } => Value::object([
                        ("type", "image".into()),
                        ("mimeType", mime_type.as_str().into()),
                        ("data", base64_encode(data).into()),
                    ]),
                })
                .collect(),
        ),
    )];
    if let Some(s) = structured {
        members.push(("structuredContent".to_string(), s));
    }
    members.push(("isError".to_string(), Value::Bool(is_error)));
    let mut out = Value::Object(members).to_string();
    out.push('\n');
    out
}

// ---------- host functions ----------

pub mod host {
    //! Wrappers for the host functions of abi/ABI.md, section 4.
    use super::{base64_decode, Value};
    use std::fmt;

    mod ffi {
        #[link(wasm_import_module = "wasmgate")]
        extern "C" {
            pub fn log(level: i32, ptr: *const u8, len: i32);
            pub fn progress(progress: f64, total: f64, ptr: *const u8, len: i32);
            pub fn response_len() -> i32;
            pub fn response(ptr: *mut u8, len: i32) -> i32;
            pub fn http_request(ptr: *const u8, len: i32) -> i32;
            pub fn kv_get(kptr: *const u8, klen: i32) -> i32;
            pub fn kv_set(kptr: *const u8, klen: i32, vptr: *const u8, vlen: i32) -> i32;
            pub fn kv_delete(kptr: *const u8, klen: i32) -> i32;
            pub fn kv_list(pptr: *const u8, plen: i32, aptr: *const u8, alen: i32) -> i32;
            pub fn secret_get(ptr: *const u8, len: i32) -> i32;
        }
    }

    /// MCP log levels.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Level {
        Debug = 0,
        Info = 1,
        Notice = 2,
        Warning = 3,
        Error = 4,
        Critical = 5,
        Alert = 6,
        Emergency = 7,
    }

    /// The error statuses of request-style host functions.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Status {
        Invalid,
        Denied,
        Failed,
        TooLarge,
        NotFound,
        Cancelled,
        Unknown(i32),
    }

    impl Status {
        pub fn from_code(code: i32) -> Status {
            match code {
                -1 => Status::Invalid,
                -2 => Status::Denied,
                -3 => Status::Failed,
                -4 => Status::TooLarge,
                -5 => Status::NotFound,
                -6 => Status::Cancelled,
                c => Status::Unknown(c),
            }
        }

        pub fn name(&self) -> &'static str {
            match self {
                Status::Invalid => "invalid",
                Status::Denied => "denied",
                Status::Failed => "failed",
                Status::TooLarge => "too_large",
                Status::NotFound => "not_found",
                Status::Cancelled => "cancelled",
                Status::Unknown(_) => "unknown",
            }
        }
    }

    /// A host function's error: its status and the host's message.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct HostError {
        pub status: Status,
        pub code: i32,
        pub message: String,
    }

    impl fmt::Display for HostError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}: {}", self.status.name(), self.message)
        }
    }

    impl std::error::Error for HostError {}

    pub type HostResult<T> = Result<T, HostError>;

    /// Logs a message at a level.
    pub fn log(level: Level, msg: &str) {
        unsafe { ffi::log(level as i32, msg.as_ptr(), msg.len() as i32) }
    }

    /// Reports progress; total <= 0 means unknown.
    pub fn progress(progress: f64, total: f64, msg: &str) {
        unsafe { ffi::progress(progress, total, msg.as_ptr(), msg.len() as i32) }
    }

    /// take fetches what the host holds after a request-style call.
    fn take(status: i32) -> HostResult<Vec<u8>> {
        let n = unsafe { ffi::response_len() }.max(0) as usize;
        let mut buf = vec![0u8; n];
        if n > 0 {
            let got = unsafe { ffi::response(buf.as_mut_ptr(), n as i32) }.max(0) as usize;
            buf.truncate(got);
        }
        if status < 0 {
            return Err(HostError {
                status: Status::from_code(status),
                code: status,
                message: String::from_utf8_lossy(&buf).into_owned(),
            });
        }
        Ok(buf)
    }

    /// One HTTP exchange.
    #[derive(Clone, Debug, Default)]
    pub struct Request {
        pub method: String,
        pub url: String,
        pub headers: Vec<(String, String)>,
        pub body: Option<Vec<u8>>,
    }

    impl Request {
        pub fn get(url: &str) -> Request {
            Request { method: "GET".into(), url: url.into(), ..Default::default() }
        }
        pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Request {
            Request { method: "POST".into(), url: url.into(), body: Some(body.into()), ..Default::default() }
        }
        pub fn header(mut self, name: &str, value: &str) -> Request {
            self.headers.push((name.into(), value.into()));
            self
        }
        /// The request JSON of the ABI.
        pub fn to_json(&self) -> Value {
            let mut m = vec![("method".to_string(), Value::from(self.method.as_str())), ("url".to_string(), Value::from(self.url.as_str()))];
            if !self.headers.is_empty() {
                m.push(("headers".into(), Value::object(self.headers.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))))));
            }
            if let Some(b) = &self.body {
                match std::str::from_utf8(b) {
                    Ok(s) => m.push(("body".into(), s.into())),
                    Err(_) => m.push(("bodyBase64".into(), super::base64_encode(b).into())),
                }
            }
            Value::Object(m)
        }
    }

    /// An HTTP response, whatever its status.
    #[derive(Clone, Debug, Default)]
    pub struct Response {
        pub status: u16,
        /// Where the request ended, after redirects.
        pub url: String,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Response {
        /// A header by name, case-insensitively.
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
        /// The body as text (invalid UTF-8 replaced).
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
    }

    /// Sends a request JSON as is and returns the response JSON text.
    pub fn http_request_raw(req: &str) -> HostResult<String> {
        let r = take(unsafe { ffi::http_request(req.as_ptr(), req.len() as i32) })?;
        Ok(String::from_utf8_lossy(&r).into_owned())
    }

    /// Sends a request under the call's network grant.
    pub fn http_request(req: &Request) -> HostResult<Response> {
        let raw = http_request_raw(&req.to_json().to_string())?;
        let bad = |what: &str| HostError { status: Status::Failed, code: -3, message: format!("unexpected http_request response: {}", what) };
        let v = Value::parse(&raw).map_err(|e| bad(&e))?;
        let mut resp = Response {
            status: v.get("status").and_then(Value::as_i64).ok_or_else(|| bad("no status"))? as u16,
            url: v.get("url").and_then(Value::as_str).unwrap_or("").to_string(),
            ..Default::default()
        };
        if let Some(h) = v.get("headers").and_then(Value::as_object) {
            resp.headers = h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect();
        }
        if let Some(b) = v.get("body").and_then(Value::as_str) {
            resp.body = b.as_bytes().to_vec();
        } else if let Some(b) = v.get("bodyBase64").and_then(Value::as_str) {
            resp.body = base64_decode(b).ok_or_else(|| bad("bad bodyBase64"))?;
        }
        Ok(resp)
    }

    /// GET a URL.
    pub fn http_get(url: &str) -> HostResult<Response> {
        http_request(&Request::get(url))
    }

    /// The value stored under key, or None when there is none.
    pub fn kv_get(key: &str) -> HostResult<Option<Vec<u8>>> {
        match take(unsafe { ffi::kv_get(key.as_ptr(), key.len() as i32) }) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status == Status::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn kv_set(key: &str, value: &[u8]) -> HostResult<()> {
        take(unsafe { ffi::kv_set(key.as_ptr(), key.len() as i32, value.as_ptr(), value.len() as i32) }).map(|_| ())
    }

    pub fn kv_delete(key: &str) -> HostResult<()> {
        take(unsafe { ffi::kv_delete(key.as_ptr(), key.len() as i32) }).map(|_| ())
    }

    /// One page of the keys starting with prefix, after `after`: (keys, more).
    pub fn kv_list(prefix: &str, after: &str) -> HostResult<(Vec<String>, bool)> {
        let r = take(unsafe { ffi::kv_list(prefix.as_ptr(), prefix.len() as i32, after.as_ptr(), after.len() as i32) })?;
        let v = Value::parse(&String::from_utf8_lossy(&r)).map_err(|e| HostError { status: Status::Failed, code: -3, message: e })?;
        let keys = v.get("keys").and_then(Value::as_array).map(|a| a.iter().filter_map(|k| k.as_str().map(String::from)).collect()).unwrap_or_default();
        Ok((keys, v.get("more").and_then(Value::as_bool).unwrap_or(false)))
    }

    /// Every key starting with prefix, listing page after page.
    pub fn kv_list_all(prefix: &str) -> HostResult<Vec<String>> {
        let mut all: Vec<String> = Vec::new();
        loop {
            let after = all.last().cloned().unwrap_or_default();
            let (keys, more) = kv_list(prefix, &after)?;
            let empty = keys.is_empty();
            all.extend(keys);
            if !more || empty {
                return Ok(all);
            }
        }
    }

    /// A secret the operator grants this module.
    pub fn secret_get(name: &str) -> HostResult<String> {
        let r = take(unsafe { ffi::secret_get(name.as_ptr(), name.len() as i32) })?;
        Ok(String::from_utf8_lossy(&r).into_owned())
    }
}
