// The AssemblyScript SDK for wasmgate tool modules (guest ABI 1, see
// abi/ABI.md). A tool module registers one handler per tool and calls run():
//
//   import { tool, run, Args, Result } from "../sdk";
//
//   tool("greet", (args: Args): Result => {
//     const name = args.requireString("name");
//     if (!args.ok) return args.errorResult();
//     return Result.text("hello, " + name);
//   });
//   run();
//
// Build it as a WASI command with @assemblyscript/wasi-shim (see
// guests/assemblyscript/asconfig.json) and embed the manifest with
// `wasmgate pack`.

import { JSONValue, JSONWriter, Kind, parseJSON, lastJSONError, quote, Obj } from "./json";
import { HostResult, httpRequest, log, DEBUG } from "./host";

export * from "./json";
export * from "./host";

// ---------- arguments ----------

// Args gives typed access to a call's arguments. Every accessor records the
// first problem it meets (a missing required argument, a wrong type); check
// args.ok after reading them and return args.errorResult() if it is false.
export class Args {
  error: string = "";
  constructor(public value: JSONValue) {}

  get ok(): bool { return this.error.length == 0; }
  errorResult(): Result { return Result.error(this.error); }

  private fail(msg: string): void { if (this.error.length == 0) this.error = msg; }

  // get returns the raw argument, or null when it is absent.
  get(name: string): JSONValue | null { return this.value.get(name); }
  has(name: string): bool { const v = this.value.get(name); return v !== null && !v.isNull(); }

  // names lists the arguments given.
  names(): string[] { return this.value.keys.slice(0); }

  // allowOnly records an error for any argument not in names.
  allowOnly(names: string[]): void {
    const keys = this.value.keys;
    for (let i = 0; i < keys.length; i++) {
      if (!names.includes(keys[i])) this.fail("unknown argument \"" + keys[i] + "\"");
    }
  }

  string(name: string, def: string = ""): string {
    const v = this.value.get(name);
    if (v === null || v.isNull()) return def;
    if (!v.isString()) { this.fail("argument \"" + name + "\" must be a string"); return def; }
    return v.str;
  }
  requireString(name: string): string {
    if (!this.has(name)) { this.fail("missing argument \"" + name + "\""); return ""; }
    return this.string(name);
  }

  number(name: string, def: f64 = 0): f64 {
    const v = this.value.get(name);
    if (v === null || v.isNull()) return def;
    if (!v.isNumber()) { this.fail("argument \"" + name + "\" must be a number"); return def; }
    return v.num;
  }
  requireNumber(name: string): f64 {
    if (!this.has(name)) { this.fail("missing argument \"" + name + "\""); return 0; }
    return this.number(name);
  }

  // integer accepts a number with no fractional part that fits in an i64
  // exactly (|n| < 2^53).
  integer(name: string, def: i64 = 0): i64 {
    const v = this.value.get(name);
    if (v === null || v.isNull()) return def;
    if (!v.isNumber() || v.num != Math.floor(v.num) || Math.abs(v.num) >= 9007199254740992) {
      this.fail("argument \"" + name + "\" must be an integer");
      return def;
    }
    return <i64>v.num;
  }
  requireInteger(name: string): i64 {
    if (!this.has(name)) { this.fail("missing argument \"" + name + "\""); return 0; }
    return this.integer(name);
  }

  bool(name: string, def: bool = false): bool {
    const v = this.value.get(name);
    if (v === null || v.isNull()) return def;
    if (!v.isBool()) { this.fail("argument \"" + name + "\" must be a boolean"); return def; }
    return v.bool;
  }

  // strings returns an array-of-strings argument (empty when absent).
  strings(name: string): string[] {
    const out: string[] = [];
    const v = this.value.get(name);
    if (v === null || v.isNull()) return out;
    if (!v.isArray()) { this.fail("argument \"" + name + "\" must be an array of strings"); return out; }
    for (let i = 0; i < v.items.length; i++) {
      const it = v.items[i];
      if (!it.isString()) { this.fail("argument \"" + name + "\" must be an array of strings"); return out; }
      out.push(it.str);
    }
    return out;
  }
}

// ---------- results ----------

// Result is a CallToolResult: content items, optional structuredContent and
// the isError flag. Build one with the static helpers and chain more items.
export class Result {
  private items: string[] = [];
  structured: string | null = null;
  isError: bool = false;

  // text is a result with one text item.
  static text(s: string): Result { return new Result().addText(s); }

  // structured is a result whose structuredContent is json (an object,
  // encoded) with the same JSON as its text item, as MCP recommends.
  static structured(json: string): Result {
    const r = new Result().addText(json);
    r.structured = json;
    return r;
  }

  // structuredWithText is structuredContent plus a text of your choosing.
  static structuredWithText(json: string, text: string): Result {
    const r = new Result().addText(text);
    r.structured = json;
    return r;
  }

  // error is a tool error the model sees (isError: true).
  static error(message: string): Result {
    const r = new Result().addText(message);
    r.isError = true;
    return r;
  }

  // image is a result with one image item (data in standard base64).
  static image(base64: string, mimeType: string): Result { return new Result().addImage(base64, mimeType); }

  addText(s: string): Result {
    this.items.push(new Obj().str("type", "text").str("text", s).toString());
    return this;
  }
  addImage(base64: string, mimeType: string): Result {
    this.items.push(new Obj().str("type", "image").str("data", base64).str("mimeType", mimeType).toString());
    return this;
  }
  addResourceLink(uri: string, name: string): Result {
    this.items.push(new Obj().str("type", "resource_link").str("uri", uri).str("name", name).toString());
    return this;
  }

  toJSON(): string {
    const w = new JSONWriter();
    w.beginObject();
    w.key("content").beginArray();
    for (let i = 0; i < this.items.length; i++) w.raw(this.items[i]);
    w.endArray();
    const s = this.structured;
    if (s !== null) w.key("structuredContent").raw(s);
    if (this.isError) w.key("isError").bool(true);
    w.endObject();
    return w.toString();
  }
}

// ---------- the envelope ----------

// Call describes the request being served.
export class Call {
  method: string = "";
  tool: string = "";
  // The request's params._meta.progressToken, encoded as JSON, or "".
  progressToken: string = "";
  constructor(public params: JSONValue) {}
}

// The request being served, once run() has read it.
export let current: Call = new Call(new JSONValue());

export type Handler = (args: Args) => Result;

const names: string[] = [];
const handlers: Handler[] = [];

// tool registers the handler of the tool named name.
export function tool(name: string, handler: Handler): void {
  names.push(name);
  handlers.push(handler);
}

// run reads the call envelope from stdin, runs the handler of the tool it
// names and writes the result to stdout. Call it once, after tool().
export function run(): void {
  writeStdout(dispatch(readStdin()).toJSON());
}

// dispatch serves one envelope given as text; exported for tests.
export function dispatch(input: string): Result {
  const env = parseJSON(input);
  if (env === null || !env.isObject()) return Result.error("malformed request envelope: " + (env === null ? lastJSONError : "not an object"));
  const m = env.get("method");
  const method = m !== null && m.isString() ? m.str : "";
  if (method != "tools/call") return Result.error("unsupported method \"" + method + "\"");
  let params = env.get("params");
  if (params === null || !params.isObject()) return Result.error("malformed request envelope: params is not an object");
  const call = new Call(params);
  call.method = method;
  const n = params.get("name");
  if (n === null || !n.isString()) return Result.error("malformed request envelope: params.name is not a string");
  call.tool = n.str;
  const meta = params.get("_meta");
  if (meta !== null) {
    const t = meta.get("progressToken");
    if (t !== null) call.progressToken = t.toJSON();
  }
  current = call;
  let a = params.get("arguments");
  if (a === null || a.isNull()) { a = new JSONValue(); a.kind = Kind.Object; }
  if (!a.isObject()) return Result.error("arguments must be a JSON object");
  for (let i = 0; i < names.length; i++) {
    if (names[i] == call.tool) {
      log(DEBUG, call.tool);
      return handlers[i](new Args(a));
    }
  }
  return Result.error("unknown tool \"" + call.tool + "\"");
}

// ---------- HTTP convenience ----------

// HTTPResponse is a decoded http_request response.
export class HTTPResponse {
  status: i32 = 0;
  url: string = "";
  body: string = "";
  // Set instead of body when the body is not UTF-8.
  bodyBase64: string = "";
  headers: JSONValue = new JSONValue();
  // Non-empty when the request failed ("denied: ...", "failed: ...").
  error: string = "";

  header(name: string): string {
    const h = this.headers.get(name);
    return h !== null && h.isString() ? h.str : "";
  }
}

// fetch sends a request (method "GET" by default, headers as a JSON object
// text or "", body text or "") and decodes the response.
export function fetch(url: string, method: string = "GET", headersJSON: string = "", body: string = ""): HTTPResponse {
  const req = new Obj().str("method", method).str("url", url);
  if (headersJSON.length > 0) req.raw("headers", headersJSON);
  if (body.length > 0) req.str("body", body);
  const r: HostResult = httpRequest(req.toString());
  const out = new HTTPResponse();
  if (!r.ok) { out.error = r.error; return out; }
  const v = parseJSON(r.data);
  if (v === null || !v.isObject()) { out.error = "invalid: malformed response from the host"; return out; }
  const st = v.get("status"); if (st !== null && st.isNumber()) out.status = <i32>st.num;
  const u = v.get("url"); if (u !== null && u.isString()) out.url = u.str;
  const b = v.get("body"); if (b !== null && b.isString()) out.body = b.str;
  const b64 = v.get("bodyBase64"); if (b64 !== null && b64.isString()) out.bodyBase64 = b64.str;
  const h = v.get("headers"); if (h !== null && h.isObject()) out.headers = h;
  return out;
}

// ---------- stdio ----------

@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovsLen: usize, nread: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: usize, nwritten: usize): u16;

// readStdin reads all of stdin and decodes it as UTF-8.
export function readStdin(): string {
  let cap: i32 = 65536;
  let buf = new ArrayBuffer(cap);
  let len: i32 = 0;
  const iov = new ArrayBuffer(16);
  const iovp = changetype<usize>(iov);
  while (true) {
    if (len == cap) {
      const bigger = new ArrayBuffer(cap * 2);
      memory.copy(changetype<usize>(bigger), changetype<usize>(buf), <usize>len);
      buf = bigger;
      cap *= 2;
    }
    store<u32>(iovp, <u32>(changetype<usize>(buf) + <usize>len));
    store<u32>(iovp, <u32>(cap - len), 4);
    const err = fd_read(0, iovp, 1, iovp + 8);
    const n = load<u32>(iovp, 8);
    if (err != 0 || n == 0) break;
    len += <i32>n;
  }
  return String.UTF8.decodeUnsafe(changetype<usize>(buf), <usize>len);
}

// writeStdout writes s to stdout as UTF-8, all of it.
export function writeStdout(s: string): void {
  const b = String.UTF8.encode(s, false);
  const iov = new ArrayBuffer(16);
  const iovp = changetype<usize>(iov);
  let off: usize = 0;
  const total = <usize>b.byteLength;
  while (off < total) {
    store<u32>(iovp, <u32>(changetype<usize>(b) + off));
    store<u32>(iovp, <u32>(total - off), 4);
    if (fd_write(1, iovp, 1, iovp + 8) != 0) return;
    const n = load<u32>(iovp, 8);
    if (n == 0) return;
    off += n;
  }
}

// jsonString is quote under a name that reads well in tool code.
export function jsonString(s: string): string { return quote(s); }
