// Wrappers for the wasmgate host functions (abi/ABI.md, section 4). Strings
// cross the boundary as UTF-8; request-style functions return a HostResult
// holding the status and the response (or the error message) the host held.

import { parseJSON, Obj } from "./json";

@external("wasmgate", "log")
declare function _log(level: i32, ptr: usize, len: usize): void;
@external("wasmgate", "progress")
declare function _progress(progress: f64, total: f64, ptr: usize, len: usize): void;
@external("wasmgate", "response_len")
declare function _response_len(): i32;
@external("wasmgate", "response")
declare function _response(ptr: usize, len: usize): i32;
@external("wasmgate", "http_request")
declare function _http_request(ptr: usize, len: usize): i32;
@external("wasmgate", "kv_get")
declare function _kv_get(kp: usize, kl: usize): i32;
@external("wasmgate", "kv_set")
declare function _kv_set(kp: usize, kl: usize, vp: usize, vl: usize): i32;
@external("wasmgate", "kv_delete")
declare function _kv_delete(kp: usize, kl: usize): i32;
@external("wasmgate", "kv_list")
declare function _kv_list(pp: usize, pl: usize, ap: usize, al: usize): i32;
@external("wasmgate", "secret_get")
declare function _secret_get(np: usize, nl: usize): i32;
@external("wasmgate", "resource_updated")
declare function _resource_updated(up: usize, ul: usize): i32;
@external("wasmgate", "sample")
declare function _sample(rp: usize, rl: usize): i32;
@external("wasmgate", "elicit")
declare function _elicit(rp: usize, rl: usize): i32;
@external("wasmgate", "ask")
declare function _ask(rp: usize, rl: usize): i32;

// Status codes of the request-style host functions.
export const OK: i32 = 0;
export const INVALID: i32 = -1;
export const DENIED: i32 = -2;
export const FAILED: i32 = -3;
export const TOO_LARGE: i32 = -4;
export const NOT_FOUND: i32 = -5;
export const CANCELLED: i32 = -6;

export function statusName(status: i32): string {
  if (status >= 0) return "ok";
  switch (status) {
    case INVALID: return "invalid";
    case DENIED: return "denied";
    case FAILED: return "failed";
    case TOO_LARGE: return "too_large";
    case NOT_FOUND: return "not_found";
    case CANCELLED: return "cancelled";
  }
  return "error " + status.toString();
}

// Log levels (MCP's).
export const DEBUG: i32 = 0;
export const INFO: i32 = 1;
export const NOTICE: i32 = 2;
export const WARNING: i32 = 3;
export const ERROR: i32 = 4;
export const CRITICAL: i32 = 5;
export const ALERT: i32 = 6;
export const EMERGENCY: i32 = 7;

// HostResult is the outcome of a request-style host function: on success
// (ok) data holds the response bytes as text (bytes holds them raw); on
// failure status is the negative code and data the host's error message.
export class HostResult {
  constructor(public status: i32, public bytes: ArrayBuffer) {}
  get ok(): bool { return this.status >= 0; }
  get data(): string { return String.UTF8.decode(this.bytes); }
  // error describes a failure as "denied: message", or "" on success.
  get error(): string { return this.ok ? "" : statusName(this.status) + ": " + this.data; }
}

function utf8(s: string): ArrayBuffer { return String.UTF8.encode(s, false); }

// fetchResponse collects what the host holds after a request-style call.
function fetchResponse(status: i32): HostResult {
  const n = _response_len();
  const buf = new ArrayBuffer(n > 0 ? n : 0);
  if (n > 0) _response(changetype<usize>(buf), <usize>n);
  return new HostResult(status, buf);
}

// log writes a message to the call's log at an MCP level (DEBUG..EMERGENCY).
export function log(level: i32, message: string): void {
  const b = utf8(message);
  _log(level, changetype<usize>(b), <usize>b.byteLength);
}

// progress reports progress; total <= 0 means unknown.
export function progress(done: f64, total: f64, message: string = ""): void {
  const b = utf8(message);
  _progress(done, total, changetype<usize>(b), <usize>b.byteLength);
}

// kvGet reads a key of the module's key-value namespace (NOT_FOUND if absent).
export function kvGet(key: string): HostResult {
  const k = utf8(key);
  return fetchResponse(_kv_get(changetype<usize>(k), <usize>k.byteLength));
}

// kvSet stores a value under a key.
export function kvSet(key: string, value: string): HostResult {
  return kvSetBytes(key, utf8(value));
}

export function kvSetBytes(key: string, value: ArrayBuffer): HostResult {
  const k = utf8(key);
  return fetchResponse(_kv_set(changetype<usize>(k), <usize>k.byteLength, changetype<usize>(value), <usize>value.byteLength));
}

// kvDelete removes a key (a missing key is not an error).
export function kvDelete(key: string): HostResult {
  const k = utf8(key);
  return fetchResponse(_kv_delete(changetype<usize>(k), <usize>k.byteLength));
}

// kvList lists keys starting with prefix and sorting after `after`; data is
// the JSON {"keys": [...], "more": bool}.
export function kvList(prefix: string = "", after: string = ""): HostResult {
  const p = utf8(prefix);
  const a = utf8(after);
  return fetchResponse(_kv_list(changetype<usize>(p), <usize>p.byteLength, changetype<usize>(a), <usize>a.byteLength));
}

// secretGet returns a secret the operator granted to the module.
export function secretGet(name: string): HostResult {
  const n = utf8(name);
  return fetchResponse(_secret_get(changetype<usize>(n), <usize>n.byteLength));
}

// httpRequest sends one HTTP request given as the ABI's request JSON
// ({"method","url","headers","body"}); data is the response JSON
// ({"status","url","headers","body"|"bodyBase64"}).
export function httpRequest(requestJSON: string): HostResult {
  const r = utf8(requestJSON);
  return fetchResponse(_http_request(changetype<usize>(r), <usize>r.byteLength));
}

// resourceUpdated tells the clients subscribed to one of the module's
// resources (a URI of its manifest's resources, or one its
// resourceTemplates match) that it changed. Any other URI is NOT_FOUND.
export function resourceUpdated(uri: string): HostResult {
  const u = utf8(uri);
  return fetchResponse(_resource_updated(changetype<usize>(u), <usize>u.byteLength));
}

// sample asks the client's model. requestJSON holds the params of an MCP
// sampling/createMessage request ({"messages": [...], "maxTokens": N});
// data is its result ({"role", "content", "model", "stopReason"}). Needs
// the sampling grant and a client that declared "sampling"
// (current.client.supports("sampling")).
export function sample(requestJSON: string): HostResult {
  const r = utf8(requestJSON);
  return fetchResponse(_sample(changetype<usize>(r), <usize>r.byteLength));
}

// sampleText asks the client's model one user text message; on success
// data is the text of the answer ("" if it is not text).
export function sampleText(prompt: string, maxTokens: i32): HostResult {
  const content = new Obj().str("type", "text").str("text", prompt).toString();
  const message = new Obj().str("role", "user").raw("content", content).toString();
  const r = sample(new Obj().raw("messages", "[" + message + "]").int("maxTokens", maxTokens).toString());
  if (!r.ok) return r;
  let text = "";
  const v = parseJSON(r.data);
  if (v !== null) {
    const c = v.get("content");
    const t = c !== null ? c.get("text") : null;
    if (t !== null && t.isString()) text = t.str;
  }
  const b = utf8(text);
  return new HostResult(b.byteLength, b);
}

// elicit asks the user. requestJSON holds the params of an MCP
// elicitation/create request ({"message": "...", "requestedSchema": {...}});
// data is its result: {"action": "accept", "content": {...}}, or "decline"
// or "cancel", which are answers, not errors. Needs the elicitation grant.
export function elicit(requestJSON: string): HostResult {
  const r = utf8(requestJSON);
  return fetchResponse(_elicit(changetype<usize>(r), <usize>r.byteLength));
}

// ask puts several questions to the client at once, each under a key of
// your choosing: {"key": {"method": "roots/list", "params": {}}, ...}
// (sampling/createMessage, elicitation/create or roots/list, at most 16);
// data holds the answers under the same keys.
export function ask(questionsJSON: string): HostResult {
  const r = utf8(questionsJSON);
  return fetchResponse(_ask(changetype<usize>(r), <usize>r.byteLength));
}
