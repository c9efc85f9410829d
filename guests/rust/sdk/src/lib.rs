//! wasmgate: the Rust SDK for wasmgate tool modules (guest ABI 1, see
//! abi/ABI.md). Standard library only.
//!
//! A module registers one handler per tool (and per resource, resource
//! template and prompt it declares) and runs them:
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
//! A tool handler returns `Ok(Output)` (text, image, audio, resource and
//! structured content) or `Err(Error)`, a tool error the model sees
//! (`isError: true`). Argument accessors return errors that name the
//! argument, so `?` is all a handler needs. `run` reads the call envelope
//! from stdin, dispatches on its method and name and writes the result to
//! stdout.
//!
//! The other methods of the envelope (ABI.md section 3.1) have handlers of
//! their own, registered the same way: `resource(uri, ..)` and
//! `resource_template(uri_template, ..)` answer resources/read with
//! [`Contents`], `prompt(name, ..)` answers prompts/get with a [`Prompt`],
//! and `completion(..)` answers completion/complete with a [`Completion`].
//! They fail with a [`MethodError`], which the client receives as a
//! JSON-RPC error. Every request carries the [`Client`] the envelope
//! describes, to check what it can answer before asking it.
//!
//! The host functions are in [`host`]: `log`, `progress`, `http_request`,
//! `kv_get`/`kv_set`/`kv_delete`/`kv_list`, `secret_get`,
//! `resource_updated`, and `sample`, `elicit` and `ask` (questions for the
//! client), each returning a `Result` whose error carries the host's status
//! and message.
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

impl Default for Value {
    fn default() -> Value {
        Value::Null
    }
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

/// One content item of a tool result or a prompt message.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Text(String),
    /// Image bytes (base64-encoded when written) and their MIME type.
    Image { data: Vec<u8>, mime_type: String },
    /// Audio bytes (base64-encoded when written) and their MIME type.
    Audio { data: Vec<u8>, mime_type: String },
    /// A link to a resource the client may read; `mime_type` and
    /// `description` are left out when empty.
    ResourceLink { uri: String, name: String, mime_type: String, description: String },
    /// A resource embedded whole (its `uri` must be set).
    Resource(ResourceContents),
}

impl Content {
    /// A resource_link item with only its required fields.
    pub fn resource_link(uri: impl Into<String>, name: impl Into<String>) -> Content {
        Content::ResourceLink { uri: uri.into(), name: name.into(), mime_type: String::new(), description: String::new() }
    }

    /// The item as MCP content JSON: {"type": "text", "text": "..."}...
    pub fn to_json(&self) -> Value {
        let media = |kind: &str, data: &[u8], mime: &str| {
            Value::object([("type", kind.into()), ("data", base64_encode(data).into()), ("mimeType", mime.into())])
        };
        match self {
            Content::Text(t) => Value::object([("type", "text".into()), ("text", t.as_str().into())]),
            Content::Image { data, mime_type } => media("image", data, mime_type),
            Content::Audio { data, mime_type } => media("audio", data, mime_type),
            Content::ResourceLink { uri, name, mime_type, description } => {
                let mut m = vec![
                    ("type".to_string(), Value::from("resource_link")),
                    ("uri".into(), uri.as_str().into()),
                    ("name".into(), name.as_str().into()),
                ];
                if !mime_type.is_empty() {
                    m.push(("mimeType".into(), mime_type.as_str().into()));
                }
                if !description.is_empty() {
                    m.push(("description".into(), description.as_str().into()));
                }
                Value::Object(m)
            }
            Content::Resource(r) => Value::object([("type", "resource".into()), ("resource", r.to_json())]),
        }
    }
}

/// The body of a resource: text, or bytes written as base64 (`blob`).
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Text(String),
    Blob(Vec<u8>),
}

/// One resource's contents, in a resources/read result or embedded in a
/// content item.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceContents {
    /// The resource's URI. In a resources/read result an empty one stands
    /// for the URI requested; an embedded resource needs one.
    pub uri: String,
    /// The MIME type; left out when empty.
    pub mime_type: String,
    pub body: Body,
}

impl ResourceContents {
    /// Text contents.
    pub fn text(uri: impl Into<String>, mime_type: impl Into<String>, text: impl Into<String>) -> ResourceContents {
        ResourceContents { uri: uri.into(), mime_type: mime_type.into(), body: Body::Text(text.into()) }
    }

    /// Binary contents (base64-encoded when written).
    pub fn blob(uri: impl Into<String>, mime_type: impl Into<String>, data: Vec<u8>) -> ResourceContents {
        ResourceContents { uri: uri.into(), mime_type: mime_type.into(), body: Body::Blob(data) }
    }

    /// The contents as MCP JSON: {"uri", "mimeType", "text" | "blob"}.
    pub fn to_json(&self) -> Value {
        let mut m = Vec::new();
        if !self.uri.is_empty() {
            m.push(("uri".to_string(), Value::from(self.uri.as_str())));
        }
        if !self.mime_type.is_empty() {
            m.push(("mimeType".to_string(), Value::from(self.mime_type.as_str())));
        }
        match &self.body {
            Body::Text(t) => m.push(("text".to_string(), t.as_str().into())),
            Body::Blob(b) => m.push(("blob".to_string(), base64_encode(b).into())),
        }
        Value::Object(m)
    }
}

/// A successful tool result: content items and optional structuredContent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    pub content: Vec<Content>,
    pub structured: Option<Value>,
}

impl Output {
    /// One text item.
    pub fn text(s: impl Into<String>) -> Output {
        Output::default().and_text(s)
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
        Output::default().and_image(data, mime_type)
    }

    /// One audio item (data is base64-encoded when written).
    pub fn audio(data: Vec<u8>, mime_type: impl Into<String>) -> Output {
        Output::default().and_audio(data, mime_type)
    }

    /// Adds any content item.
    pub fn and(mut self, c: Content) -> Output {
        self.content.push(c);
        self
    }

    /// Adds a text item.
    pub fn and_text(self, s: impl Into<String>) -> Output {
        self.and(Content::Text(s.into()))
    }

    /// Adds an image item.
    pub fn and_image(self, data: Vec<u8>, mime_type: impl Into<String>) -> Output {
        self.and(Content::Image { data, mime_type: mime_type.into() })
    }

    /// Adds an audio item.
    pub fn and_audio(self, data: Vec<u8>, mime_type: impl Into<String>) -> Output {
        self.and(Content::Audio { data, mime_type: mime_type.into() })
    }

    /// Adds a resource_link item.
    pub fn and_resource_link(self, uri: impl Into<String>, name: impl Into<String>) -> Output {
        self.and(Content::resource_link(uri, name))
    }

    /// Adds an embedded resource (its `uri` must be set).
    pub fn and_resource(self, r: ResourceContents) -> Output {
        self.and(Content::Resource(r))
    }
}

/// What the envelope says of the MCP client a request comes from. A guest
/// asks the client (`host::sample`, `elicit`, `ask`) only what it declared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Client {
    /// The MCP revision the client speaks ("2025-11-25"); empty when the
    /// envelope does not say.
    pub protocol_version: String,
    /// The capabilities the client declared, as MCP spells them: an object
    /// such as {"sampling": {}, "elicitation": {}}, or Null.
    pub capabilities: Value,
}

impl Client {
    fn from_envelope(v: Option<&Value>) -> Client {
        let v = match v {
            Some(v) => v,
            None => return Client::default(),
        };
        Client {
            protocol_version: v.get("protocolVersion").and_then(Value::as_str).unwrap_or("").to_string(),
            capabilities: v.get("capabilities").filter(|c| c.as_object().is_some()).cloned().unwrap_or(Value::Null),
        }
    }

    /// Whether the client declared a capability: "sampling",
    /// "elicitation", "roots"...
    pub fn supports(&self, capability: &str) -> bool {
        self.capabilities.get(capability).map_or(false, |c| !c.is_null())
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
    /// The client the call comes from.
    pub client: Client,
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

// ---------- resources, prompts and completions ----------

/// The error of a resources/read, prompts/get or completion/complete
/// handler: the client receives it as a JSON-RPC error with this code and
/// message. Strings, tool `Error`s and `HostError`s convert into an
/// internal error, so `?` works in these handlers too.
#[derive(Clone, Debug, PartialEq)]
pub struct MethodError {
    /// `MethodError::NOT_FOUND`, `INVALID_PARAMS` or `INTERNAL`; the host
    /// reports any other code as `INTERNAL`.
    pub code: i64,
    pub message: String,
}

impl MethodError {
    /// MCP's "resource not found".
    pub const NOT_FOUND: i64 = -32002;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL: i64 = -32603;

    /// A "resource not found" error (for resources/read).
    pub fn not_found(msg: impl Into<String>) -> MethodError {
        MethodError { code: Self::NOT_FOUND, message: msg.into() }
    }
    /// An "invalid params" error: a bad argument or template variable.
    pub fn invalid_params(msg: impl Into<String>) -> MethodError {
        MethodError { code: Self::INVALID_PARAMS, message: msg.into() }
    }
    /// An internal error: the handler failed.
    pub fn internal(msg: impl Into<String>) -> MethodError {
        MethodError { code: Self::INTERNAL, message: msg.into() }
    }

    /// The error as the guest writes it: {"error": {"code": N, "message": "..."}}.
    pub fn to_json(&self) -> Value {
        Value::object([("error", Value::object([("code", Value::from(self.code)), ("message", Value::from(self.message.as_str()))]))])
    }
}

impl fmt::Display for MethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for MethodError {
    fn from(s: String) -> MethodError {
        MethodError::internal(s)
    }
}

impl From<&str> for MethodError {
    fn from(s: &str) -> MethodError {
        MethodError::internal(s)
    }
}

impl From<Error> for MethodError {
    fn from(e: Error) -> MethodError {
        MethodError::internal(e.0)
    }
}

impl From<host::HostError> for MethodError {
    fn from(e: host::HostError) -> MethodError {
        MethodError::internal(e.to_string())
    }
}

/// What a resources/read, prompts/get or completion/complete handler
/// returns.
pub type MethodResult<T> = std::result::Result<T, MethodError>;

fn string_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// One resources/read request.
#[derive(Clone, Debug)]
pub struct ReadRequest {
    /// The URI to read (params.uri).
    pub uri: String,
    /// The resource template the URI matched ("doc://{id}"), empty for a
    /// fixed resource.
    pub uri_template: String,
    /// The values of the template's variables in the URI.
    pub variables: Vec<(String, String)>,
    /// params._meta, or Null.
    pub meta: Value,
    pub client: Client,
}

impl ReadRequest {
    /// The value of a template variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        lookup(&self.variables, name)
    }
}

/// The contents a resources/read handler returns: one item or more.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Contents(pub Vec<ResourceContents>);

impl Contents {
    /// One text item for the URI requested; an empty `mime_type` is left out.
    pub fn text(mime_type: impl Into<String>, text: impl Into<String>) -> Contents {
        Contents(vec![ResourceContents::text("", mime_type, text)])
    }

    /// One binary item for the URI requested (base64-encoded when written).
    pub fn blob(mime_type: impl Into<String>, data: Vec<u8>) -> Contents {
        Contents(vec![ResourceContents::blob("", mime_type, data)])
    }

    /// Adds an item.
    pub fn and(mut self, r: ResourceContents) -> Contents {
        self.0.push(r);
        self
    }

    /// The resources/read result: {"contents": [...]}.
    pub fn to_json(&self) -> Value {
        Value::object([("contents", Value::Array(self.0.iter().map(ResourceContents::to_json).collect()))])
    }
}

/// One prompts/get request.
#[derive(Clone, Debug)]
pub struct PromptRequest {
    /// The prompt's name, as the manifest declares it.
    pub name: String,
    /// The arguments given (all strings).
    pub arguments: Vec<(String, String)>,
    /// params._meta, or Null.
    pub meta: Value,
    pub client: Client,
}

impl PromptRequest {
    /// An argument, or None when it was not given.
    pub fn arg(&self, name: &str) -> Option<&str> {
        lookup(&self.arguments, name)
    }

    /// An argument that must be given (the host checks the manifest's
    /// required arguments; this is for the others), as an invalid-params
    /// error naming it.
    pub fn require(&self, name: &str) -> MethodResult<&str> {
        self.arg(name).ok_or_else(|| MethodError::invalid_params(format!("missing argument {}", quote(name))))
    }
}

/// Who speaks a prompt message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    /// "user" or "assistant", as MCP spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// What a prompts/get handler returns: an optional description and the
/// messages, each one content item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prompt {
    /// Left out when empty.
    pub description: String,
    pub messages: Vec<(Role, Content)>,
}

impl Prompt {
    /// One user text message.
    pub fn user(text: impl Into<String>) -> Prompt {
        Prompt::default().and_user(text)
    }

    /// Sets the description.
    pub fn with_description(mut self, d: impl Into<String>) -> Prompt {
        self.description = d.into();
        self
    }

    /// Adds a message.
    pub fn and(mut self, role: Role, content: Content) -> Prompt {
        self.messages.push((role, content));
        self
    }

    /// Adds a user text message.
    pub fn and_user(self, text: impl Into<String>) -> Prompt {
        self.and(Role::User, Content::Text(text.into()))
    }

    /// Adds an assistant text message.
    pub fn and_assistant(self, text: impl Into<String>) -> Prompt {
        self.and(Role::Assistant, Content::Text(text.into()))
    }

    /// The prompts/get result: {"description", "messages": [{"role", "content"}]}.
    pub fn to_json(&self) -> Value {
        let mut m = Vec::new();
        if !self.description.is_empty() {
            m.push(("description".to_string(), Value::from(self.description.as_str())));
        }
        let msgs = self.messages.iter().map(|(r, c)| Value::object([("role", Value::from(r.name())), ("content", c.to_json())]));
        m.push(("messages".to_string(), Value::Array(msgs.collect())));
        Value::Object(m)
    }
}

/// What a completion is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ref {
    /// An argument of the prompt with this name (ref/prompt).
    Prompt(String),
    /// A variable of the resource template with this URI template
    /// (ref/resource).
    Resource(String),
}

/// One completion/complete request: the argument being completed, its
/// partial value and the arguments already given.
#[derive(Clone, Debug)]
pub struct CompleteRequest {
    /// The prompt or resource template the argument belongs to.
    pub reference: Ref,
    /// The argument's (or template variable's) name.
    pub argument: String,
    /// What has been typed so far.
    pub value: String,
    /// The values of other arguments already given (params.context.arguments).
    pub context: Vec<(String, String)>,
    /// params._meta, or Null.
    pub meta: Value,
    pub client: Client,
}

impl CompleteRequest {
    /// The value of another argument, already given.
    pub fn context_arg(&self, name: &str) -> Option<&str> {
        lookup(&self.context, name)
    }
}

/// What a completion/complete handler returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    /// The suggestions; the host keeps the first 100 and sets has_more.
    pub values: Vec<String>,
    /// How many suggestions there are in all, when known.
    pub total: Option<u64>,
    pub has_more: bool,
}

impl Completion {
    /// These values, with no total and no more to come.
    pub fn new(values: Vec<String>) -> Completion {
        Completion { values, ..Default::default() }
    }

    /// The candidates that start with prefix, ignoring case, at most 100
    /// of them (with total and has_more set when there are more).
    pub fn matching<S: AsRef<str>>(candidates: &[S], prefix: &str) -> Completion {
        let p = prefix.to_lowercase();
        let all: Vec<String> =
            candidates.iter().map(|c| c.as_ref()).filter(|c| c.to_lowercase().starts_with(&p)).map(String::from).collect();
        let total = all.len();
        let values: Vec<String> = all.into_iter().take(100).collect();
        Completion { has_more: values.len() < total, values, total: Some(total as u64) }
    }

    /// The completion/complete result: {"completion": {"values", "total", "hasMore"}}.
    pub fn to_json(&self) -> Value {
        let mut m = vec![("values".to_string(), Value::from(self.values.clone()))];
        if let Some(t) = self.total {
            m.push(("total".to_string(), Value::from(t)));
        }
        m.push(("hasMore".to_string(), Value::from(self.has_more)));
        Value::object([("completion", Value::Object(m))])
    }
}

// ---------- dispatch ----------

type Handler<R, T> = Box<dyn Fn(&R) -> T>;

/// The handlers of a module: its tools, resources, resource templates,
/// prompts and completions.
#[derive(Default)]
pub struct Tools {
    tools: Vec<(String, Handler<Call, Result>)>,
    resources: Vec<(String, Handler<ReadRequest, MethodResult<Contents>>)>,
    templates: Vec<(String, Handler<ReadRequest, MethodResult<Contents>>)>,
    prompts: Vec<(String, Handler<PromptRequest, MethodResult<Prompt>>)>,
    completion: Option<Handler<CompleteRequest, MethodResult<Completion>>>,
}

fn find<'a, H>(handlers: &'a [(String, H)], name: &str) -> Option<&'a H> {
    handlers.iter().find(|(n, _)| n == name).map(|(_, h)| h)
}

impl Tools {
    pub fn new() -> Tools {
        Tools::default()
    }

    /// Registers the handler of a tool.
    pub fn tool(mut self, name: &str, h: impl Fn(&Call) -> Result + 'static) -> Tools {
        self.tools.push((name.to_string(), Box::new(h)));
        self
    }

    /// Registers the handler of a fixed resource (the manifest's
    /// `resources[].uri`).
    pub fn resource(mut self, uri: &str, h: impl Fn(&ReadRequest) -> MethodResult<Contents> + 'static) -> Tools {
        self.resources.push((uri.to_string(), Box::new(h)));
        self
    }

    /// Registers the handler of the resources a template matches (the
    /// manifest's `resourceTemplates[].uriTemplate`, written the same way).
    pub fn resource_template(mut self, uri_template: &str, h: impl Fn(&ReadRequest) -> MethodResult<Contents> + 'static) -> Tools {
        self.templates.push((uri_template.to_string(), Box::new(h)));
        self
    }

    /// Registers the handler of a prompt.
    pub fn prompt(mut self, name: &str, h: impl Fn(&PromptRequest) -> MethodResult<Prompt> + 'static) -> Tools {
        self.prompts.push((name.to_string(), Box::new(h)));
        self
    }

    /// Registers the handler of every completion/complete (the manifest
    /// must say `"completions": true`). Without one, completions are empty.
    pub fn completion(mut self, h: impl Fn(&CompleteRequest) -> MethodResult<Completion> + 'static) -> Tools {
        self.completion = Some(Box::new(h));
        self
    }

    /// Serves the request on stdin and exits.
    pub fn run(self) -> ! {
        let mut input = Vec::new();
        let out = match std::io::stdin().read_to_end(&mut input) {
            Err(e) => render(&Err(Error(format!("could not read the request from stdin: {}", e)))),
            Ok(_) => self.serve(&input),
        };
        let mut stdout = std::io::stdout();
        let ok = stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()).is_ok();
        std::process::exit(if ok { 0 } else { 1 })
    }

    /// Serves one envelope (its JSON) and returns what to write to stdout:
    /// the result of the method it names, or its error.
    pub fn serve(&self, input: &[u8]) -> String {
        let req = match std::str::from_utf8(input) {
            Err(_) => return render(&Err(Error::new("the request is not valid UTF-8"))),
            Ok(text) => match Value::parse(text) {
                Err(e) => return render(&Err(Error(format!("the request is not valid JSON: {}", e)))),
                Ok(v) => v,
            },
        };
        let client = Client::from_envelope(req.get("client"));
        let params = req.get("params").cloned().unwrap_or(Value::Null);
        let meta = params.get("_meta").cloned().unwrap_or(Value::Null);
        let method = req.get("method").and_then(Value::as_str).unwrap_or("");
        let json = |r: MethodResult<Value>| {
            let mut s = r.unwrap_or_else(|e| e.to_json()).to_string();
            s.push('\n');
            s
        };
        if method == "tools/call" {
            return render(&self.call(params, meta, client));
        }
        if params.as_object().is_none() {
            return json(Err(MethodError::invalid_params("the request has no params object")));
        }
        match method {
            "resources/read" => json(self.read(&req, &params, meta, client).map(|c| c.to_json())),
            "prompts/get" => json(self.get_prompt(&params, meta, client).map(|p| p.to_json())),
            "completion/complete" => json(self.complete(&params, meta, client).map(|c| c.to_json())),
            _ => json(Err(MethodError::internal(format!(
                "unsupported method {}: this module serves tools/call, resources/read, prompts/get and completion/complete",
                quote(method)
            )))),
        }
    }

    fn call(&self, params: Value, meta: Value, client: Client) -> Result {
        if params.as_object().is_none() {
            return Err(Error::new("the request has no params object"));
        }
        let name = params.get("name").and_then(Value::as_str).ok_or_else(|| Error::new("the request has no tool name (params.name)"))?;
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Value::Object(Vec::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => return Err(Error::new("arguments must be a JSON object")),
        };
        host::log(host::Level::Debug, name);
        let call = Call { name: name.to_string(), arguments, meta, client };
        match find(&self.tools, name) {
            Some(h) => h(&call),
            None => {
                let names: Vec<&str> = self.tools.iter().map(|(n, _)| n.as_str()).collect();
                Err(Error(format!("unknown tool {}: this module has {}", quote(name), names.join(", "))))
            }
        }
    }

    fn read(&self, req: &Value, params: &Value, meta: Value, client: Client) -> MethodResult<Contents> {
        let uri =
            params.get("uri").and_then(Value::as_str).ok_or_else(|| MethodError::invalid_params("the request has no uri (params.uri)"))?;
        let template = req.get("template");
        let r = ReadRequest {
            uri: uri.to_string(),
            uri_template: template.and_then(|t| t.get("uriTemplate")).and_then(Value::as_str).unwrap_or("").to_string(),
            variables: string_pairs(template.and_then(|t| t.get("variables"))),
            meta,
            client,
        };
        let h = if r.uri_template.is_empty() { find(&self.resources, uri) } else { find(&self.templates, &r.uri_template) };
        match h {
            Some(h) => h(&r),
            None => Err(MethodError::not_found(format!("this module does not serve the resource {}", quote(uri)))),
        }
    }

    fn get_prompt(&self, params: &Value, meta: Value, client: Client) -> MethodResult<Prompt> {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| MethodError::invalid_params("the request has no prompt name (params.name)"))?;
        let p = PromptRequest { name: name.to_string(), arguments: string_pairs(params.get("arguments")), meta, client };
        match find(&self.prompts, name) {
            Some(h) => h(&p),
            None => Err(MethodError::invalid_params(format!("unknown prompt {}", quote(name)))),
        }
    }

    fn complete(&self, params: &Value, meta: Value, client: Client) -> MethodResult<Completion> {
        let h = match &self.completion {
            Some(h) => h,
            None => return Ok(Completion::default()),
        };
        let str_at = |path: &str| params.path(path).and_then(Value::as_str).unwrap_or("").to_string();
        let reference = match params.path("ref.type").and_then(Value::as_str) {
            Some("ref/prompt") => Ref::Prompt(str_at("ref.name")),
            Some("ref/resource") => Ref::Resource(str_at("ref.uri")),
            _ => return Err(MethodError::invalid_params("params.ref.type must be ref/prompt or ref/resource")),
        };
        let c = CompleteRequest {
            reference,
            argument: str_at("argument.name"),
            value: str_at("argument.value"),
            context: string_pairs(params.path("context.arguments")),
            meta,
            client,
        };
        h(&c)
    }
}

/// The CallToolResult of a tool handler's result, as JSON text.
pub fn render(r: &Result) -> String {
    let (items, structured, is_error) = match r {
        Ok(o) => (o.content.iter().map(Content::to_json).collect(), o.structured.clone(), false),
        Err(e) => (vec![Content::Text(e.0.clone()).to_json()], None, true),
    };
    let mut members = vec![("content".to_string(), Value::Array(items))];
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
            pub fn resource_updated(ptr: *const u8, len: i32) -> i32;
            pub fn sample(ptr: *const u8, len: i32) -> i32;
            pub fn elicit(ptr: *const u8, len: i32) -> i32;
            pub fn ask(ptr: *const u8, len: i32) -> i32;
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

    /// Tells the clients subscribed to one of the module's resources (a URI
    /// of its manifest's `resources`, or one its `resourceTemplates`
    /// match) that it changed. Any other URI is `NotFound`.
    pub fn resource_updated(uri: &str) -> HostResult<()> {
        take(unsafe { ffi::resource_updated(uri.as_ptr(), uri.len() as i32) }).map(|_| ())
    }

    /// Sends a request JSON to a question function and parses the JSON it holds.
    fn question(f: unsafe extern "C" fn(*const u8, i32) -> i32, req: &Value) -> HostResult<Value> {
        let req = req.to_string();
        let r = take(unsafe { f(req.as_ptr(), req.len() as i32) })?;
        let text = String::from_utf8_lossy(&r);
        Value::parse(&text).map_err(|e| HostError {
            status: Status::Failed,
            code: -3,
            message: format!("the client's answer is not JSON: {}", e),
        })
    }

    /// Asks the client's model: `params` are those of an MCP
    /// sampling/createMessage request (`messages`, `maxTokens` above 0);
    /// returns its result ({"role", "content", "model", "stopReason"}).
    /// Needs the sampling grant and a client that declared "sampling".
    pub fn sample(params: &Value) -> HostResult<Value> {
        question(ffi::sample, params)
    }

    /// Asks the client's model one user text message and returns the text
    /// of its answer (empty if the answer is not text).
    pub fn sample_text(prompt: &str, max_tokens: u32) -> HostResult<String> {
        let msg = Value::object([("role", "user".into()), ("content", Value::object([("type", "text".into()), ("text", prompt.into())]))]);
        let r = sample(&Value::object([("messages", Value::Array(vec![msg])), ("maxTokens", max_tokens.into())]))?;
        Ok(r.path("content.text").and_then(Value::as_str).unwrap_or("").to_string())
    }

    /// Asks the user: `params` are those of an MCP elicitation/create
    /// request (`message`, `requestedSchema`); returns its result
    /// ({"action": "accept", "content": {...}}, or "decline" or "cancel",
    /// which are answers, not errors). Needs the elicitation grant.
    pub fn elicit(params: &Value) -> HostResult<Value> {
        question(ffi::elicit, params)
    }

    /// Puts several questions to the client at once, each under a key of
    /// the guest's choosing: {"key": {"method": "roots/list", "params":
    /// {}}, ...} (sampling/createMessage, elicitation/create or
    /// roots/list, at most 16). Returns the answers under the same keys.
    pub fn ask(questions: &Value) -> HostResult<Value> {
        question(ffi::ask, questions)
    }
}
