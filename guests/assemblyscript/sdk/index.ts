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
// The resources, resource templates and prompts the manifest declares, and
// its completions, have handlers registered the same way: resource(uri, ..)
// and resourceTemplate(uriTemplate, ..) answer resources/read with
// Contents, prompt(name, ..) answers prompts/get with a Prompt, and
// completion(..) answers completion/complete with a Completion; each fails
// with its static error(message, code). current.client says what the client
// can answer before a handler asks it (sample, elicit, ask in host.ts).
//
// Build it as a WASI command with @assemblyscript/wasi-shim (see
// guests/assemblyscript/asconfig.json) and embed the manifest with
// `wasmgate pack`.

import { JSONValue, JSONWriter, Kind, parseJSON, lastJSONError, quote, Obj, Arr } from "./json";
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

// ---------- content ----------

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// base64 encodes bytes in standard base64 with padding, for image, audio
// and blob data.
export function base64(data: ArrayBuffer): string {
  const b = Uint8Array.wrap(data);
  const parts: string[] = [];
  for (let i = 0; i < b.length; i += 3) {
    const n = b.length - i;
    const v = (<u32>b[i] << 16) | (n > 1 ? <u32>b[i + 1] << 8 : 0) | (n > 2 ? <u32>b[i + 2] : 0);
    parts.push(B64.charAt((v >> 18) & 63) + B64.charAt((v >> 12) & 63) +
      (n > 1 ? B64.charAt((v >> 6) & 63) : "=") + (n > 2 ? B64.charAt(v & 63) : "="));
  }
  return parts.join("");
}

// Content builds the JSON of one content item, for Result.addContent and
// Prompt.add. Binary data is given in standard base64 (see base64()).
export class Content {
  // text, image and audio are the items of the same names.
  static text(s: string): string { return new Obj().str("type", "text").str("text", s).toString(); }
  static image(base64: string, mimeType: string): string { return media("image", base64, mimeType); }
  static audio(base64: string, mimeType: string): string { return media("audio", base64, mimeType); }
  // resourceLink links to a resource the client may read; mimeType and
  // description are left out when empty.
  static resourceLink(uri: string, name: string, mimeType: string = "", description: string = ""): string {
    const o = new Obj().str("type", "resource_link").str("uri", uri).str("name", name);
    if (mimeType.length > 0) o.str("mimeType", mimeType);
    if (description.length > 0) o.str("description", description);
    return o.toString();
  }
  // resource embeds a text resource whole.
  static resource(uri: string, text: string, mimeType: string = ""): string {
    return new Obj().str("type", "resource").raw("resource", resourceItem(uri, mimeType, "text", text)).toString();
  }
  // resourceBlob embeds a binary resource whole.
  static resourceBlob(uri: string, base64: string, mimeType: string = ""): string {
    return new Obj().str("type", "resource").raw("resource", resourceItem(uri, mimeType, "blob", base64)).toString();
  }
}

function media(kind: string, base64: string, mimeType: string): string {
  return new Obj().str("type", kind).str("data", base64).str("mimeType", mimeType).toString();
}

// resourceItem is one resource's contents: {"uri", "mimeType", "text" | "blob"}
// (uri and mimeType left out when empty).
function resourceItem(uri: string, mimeType: string, field: string, value: string): string {
  const o = new Obj();
  if (uri.length > 0) o.str("uri", uri);
  if (mimeType.length > 0) o.str("mimeType", mimeType);
  return o.str(field, value).toString();
}

// ---------- tool results ----------

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

  // audio is a result with one audio item (data in standard base64).
  static audio(base64: string, mimeType: string): Result { return new Result().addAudio(base64, mimeType); }

  // addContent adds any item built with Content.
  addContent(json: string): Result {
    this.items.push(json);
    return this;
  }
  addText(s: string): Result { return this.addContent(Content.text(s)); }
  addImage(base64: string, mimeType: string): Result { return this.addContent(Content.image(base64, mimeType)); }
  addAudio(base64: string, mimeType: string): Result { return this.addContent(Content.audio(base64, mimeType)); }
  addResourceLink(uri: string, name: string, mimeType: string = "", description: string = ""): Result {
    return this.addContent(Content.resourceLink(uri, name, mimeType, description));
  }
  // addResource embeds a text resource; addResourceBlob a binary one.
  addResource(uri: string, text: string, mimeType: string = ""): Result { return this.addContent(Content.resource(uri, text, mimeType)); }
  addResourceBlob(uri: string, base64: string, mimeType: string = ""): Result {
    return this.addContent(Content.resourceBlob(uri, base64, mimeType));
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

// ---------- resources, prompts and completions ----------

// Codes of the errors a resources/read, prompts/get or completion/complete
// handler may return (Contents.error, Prompt.error, Completion.error): the
// client receives a JSON-RPC error with the code and message. The host
// reports any other code as INTERNAL_ERROR.
export const RESOURCE_NOT_FOUND: i32 = -32002;
export const INVALID_PARAMS: i32 = -32602;
export const INTERNAL_ERROR: i32 = -32603;

// errorJSON is the error a guest writes: {"error": {"code", "message"}}.
function errorJSON(code: i32, message: string): string {
  return new Obj().raw("error", new Obj().int("code", code).str("message", message).toString()).toString();
}

// Reply is the result of a resources/read, prompts/get or
// completion/complete handler, or its error.
export class Reply {
  // The error's code and message; a code of 0 is no error.
  errorCode: i32 = 0;
  errorMessage: string = "";
  // failed says whether this is an error rather than a result.
  get failed(): bool { return this.errorCode != 0; }
  protected fail(message: string, code: i32): void { this.errorMessage = message; this.errorCode = code; }
  // body is the result's JSON; each kind of reply writes its own.
  body(): string { return "{}"; }
  toJSON(): string { return this.failed ? errorJSON(this.errorCode, this.errorMessage) : this.body(); }
}

// ReadRequest is a resources/read of a fixed resource or of a URI one of
// the module's resource templates matched.
export class ReadRequest {
  uri: string = "";
  // The template the URI matched ("doc://{id}"), "" for a fixed resource.
  uriTemplate: string = "";
  // The values of the template's variables, as a JSON object of strings.
  variables: JSONValue = new JSONValue();
  // variable returns the value of a template variable ("" when absent).
  variable(name: string): string { return stringMember(this.variables, name, ""); }
}

// Contents is what a resources/read handler returns: resource contents,
// one item or more.
export class Contents extends Reply {
  private items: string[] = [];
  // text is one text item for the URI requested (mimeType "" leaves it out).
  static text(text: string, mimeType: string = ""): Contents { return new Contents().addText("", text, mimeType); }
  // blob is one binary item (data in standard base64) for the URI requested.
  static blob(base64: string, mimeType: string = ""): Contents { return new Contents().addBlob("", base64, mimeType); }
  // error fails the read: RESOURCE_NOT_FOUND, INVALID_PARAMS or INTERNAL_ERROR.
  static error(message: string, code: i32 = INTERNAL_ERROR): Contents {
    const c = new Contents();
    c.fail(message, code);
    return c;
  }
  // addText and addBlob add an item; uri "" stands for the URI requested.
  addText(uri: string, text: string, mimeType: string = ""): Contents {
    this.items.push(resourceItem(uri, mimeType, "text", text));
    return this;
  }
  addBlob(uri: string, base64: string, mimeType: string = ""): Contents {
    this.items.push(resourceItem(uri, mimeType, "blob", base64));
    return this;
  }
  body(): string { return "{\"contents\":[" + this.items.join(",") + "]}"; }
}

// PromptRequest is a prompts/get of one of the module's prompts.
export class PromptRequest {
  // The prompt's name, as the manifest declares it.
  name: string = "";
  // The arguments given, a JSON object of strings.
  arguments: JSONValue = new JSONValue();
  // argument returns an argument, or def when it was not given.
  argument(name: string, def: string = ""): string { return stringMember(this.arguments, name, def); }
  // has says whether an argument was given.
  has(name: string): bool { return this.arguments.get(name) !== null; }
}

// Prompt is what a prompts/get handler returns: an optional description
// and messages, each one content item spoken by "user" or "assistant".
export class Prompt extends Reply {
  description: string = "";
  private messages: string[] = [];
  // user is a prompt of one user text message.
  static user(text: string): Prompt { return new Prompt().addUser(text); }
  // error fails the request: INVALID_PARAMS or INTERNAL_ERROR.
  static error(message: string, code: i32 = INTERNAL_ERROR): Prompt {
    const p = new Prompt();
    p.fail(message, code);
    return p;
  }
  // withDescription sets the description (left out when "").
  withDescription(d: string): Prompt { this.description = d; return this; }
  // add adds a message: role "user" or "assistant", content built with Content.
  add(role: string, content: string): Prompt {
    this.messages.push(new Obj().str("role", role).raw("content", content).toString());
    return this;
  }
  // addUser and addAssistant add a text message.
  addUser(text: string): Prompt { return this.add("user", Content.text(text)); }
  addAssistant(text: string): Prompt { return this.add("assistant", Content.text(text)); }
  body(): string {
    const o = new Obj();
    if (this.description.length > 0) o.str("description", this.description);
    return o.raw("messages", "[" + this.messages.join(",") + "]").toString();
  }
}

// CompleteRequest is a completion/complete of an argument of one of the
// module's prompts or of a variable of one of its resource templates.
export class CompleteRequest {
  // The prompt (ref/prompt), or "" for a template.
  prompt: string = "";
  // The template's URI template (ref/resource), or "" for a prompt.
  uriTemplate: string = "";
  // The argument (or variable) being completed and what has been typed.
  argument: string = "";
  value: string = "";
  // The values of other arguments already given, a JSON object of strings.
  context: JSONValue = new JSONValue();
  // contextArgument returns another argument already given, or def.
  contextArgument(name: string, def: string = ""): string { return stringMember(this.context, name, def); }
}

// Completion is what a completion/complete handler returns: suggested
// values (the host keeps the first 100), their total when known (-1 when
// not) and whether there are more.
export class Completion extends Reply {
  total: i32 = -1;
  hasMore: bool = false;
  constructor(public values: string[] = []) { super(); }
  // matching suggests the candidates that start with prefix, ignoring
  // case: at most 100, with total and hasMore set.
  static matching(candidates: string[], prefix: string): Completion {
    const p = prefix.toLowerCase();
    const all: string[] = [];
    for (let i = 0; i < candidates.length; i++) {
      if (candidates[i].toLowerCase().startsWith(p)) all.push(candidates[i]);
    }
    const c = new Completion(all.length > 100 ? all.slice(0, 100) : all);
    c.total = all.length;
    c.hasMore = all.length > 100;
    return c;
  }
  // error fails the request: INVALID_PARAMS or INTERNAL_ERROR.
  static error(message: string, code: i32 = INTERNAL_ERROR): Completion {
    const c = new Completion();
    c.fail(message, code);
    return c;
  }
  body(): string {
    const values = new Arr();
    for (let i = 0; i < this.values.length; i++) values.str(this.values[i]);
    const o = new Obj().raw("values", values.toString());
    if (this.total >= 0) o.int("total", this.total);
    return new Obj().raw("completion", o.bool("hasMore", this.hasMore).toString()).toString();
  }
}

function stringMember(obj: JSONValue, name: string, def: string): string {
  const v = obj.get(name);
  return v !== null && v.isString() ? v.str : def;
}

// ---------- the envelope ----------

// Client is what the envelope says of the MCP client a request comes from.
// Ask it (sample, elicit, ask) only what it declared.
export class Client {
  // The MCP revision it speaks ("2025-11-25"), or "" when not said.
  protocolVersion: string = "";
  // The capabilities it declared, as MCP spells them: a JSON object such
  // as {"sampling": {}, "elicitation": {}}, or null.
  capabilities: JSONValue = new JSONValue();
  // supports says whether it declared a capability: "sampling",
  // "elicitation", "roots"...
  supports(name: string): bool {
    const c = this.capabilities.get(name);
    return c !== null && !c.isNull();
  }
}

// Call describes the request being served.
export class Call {
  // "tools/call", "resources/read", "prompts/get" or "completion/complete".
  method: string = "";
  // The tool called (tools/call only).
  tool: string = "";
  // The request's params._meta.progressToken, encoded as JSON, or "".
  progressToken: string = "";
  client: Client = new Client();
  constructor(public params: JSONValue) {}
}

// The request being served, once run() has read it.
export let current: Call = new Call(new JSONValue());

export type Handler = (args: Args) => Result;
export type ReadHandler = (req: ReadRequest) => Contents;
export type PromptHandler = (req: PromptRequest) => Prompt;
export type CompleteHandler = (req: CompleteRequest) => Completion;

const names: string[] = [];
const handlers: Handler[] = [];
const resourceURIs: string[] = [];
const resourceHandlers: ReadHandler[] = [];
const templateURIs: string[] = [];
const templateHandlers: ReadHandler[] = [];
const promptNames: string[] = [];
const promptHandlers: PromptHandler[] = [];
const completeHandlers: CompleteHandler[] = [];

// tool registers the handler of the tool named name.
export function tool(name: string, handler: Handler): void {
  names.push(name);
  handlers.push(handler);
}

// resource registers the handler of a fixed resource (the manifest's
// resources[].uri).
export function resource(uri: string, handler: ReadHandler): void {
  resourceURIs.push(uri);
  resourceHandlers.push(handler);
}

// resourceTemplate registers the handler of the resources a template
// matches (the manifest's resourceTemplates[].uriTemplate, written the
// same way).
export function resourceTemplate(uriTemplate: string, handler: ReadHandler): void {
  templateURIs.push(uriTemplate);
  templateHandlers.push(handler);
}

// prompt registers the handler of the prompt named name.
export function prompt(name: string, handler: PromptHandler): void {
  promptNames.push(name);
  promptHandlers.push(handler);
}

// completion registers the handler of every completion/complete (the
// manifest must say "completions": true). Without one, completions are
// empty.
export function completion(handler: CompleteHandler): void {
  completeHandlers.length = 0;
  completeHandlers.push(handler);
}

// run reads the envelope from stdin, runs the handler of the tool,
// resource, prompt or completion it names and writes the result to stdout.
// Call it once, after registering the handlers.
export function run(): void {
  writeStdout(serve(readStdin()));
}

// serve answers one envelope given as text with the JSON to write; exported
// for tests.
export function serve(input: string): string {
  const env = parseJSON(input);
  if (env === null || !env.isObject()) return Result.error("malformed request envelope: " + (env === null ? lastJSONError : "not an object")).toJSON();
  const m = env.get("method");
  const call = new Call(new JSONValue());
  call.method = m !== null && m.isString() ? m.str : "";
  const cl = env.get("client");
  if (cl !== null) {
    call.client.protocolVersion = stringMember(cl, "protocolVersion", "");
    const caps = cl.get("capabilities");
    if (caps !== null && caps.isObject()) call.client.capabilities = caps;
  }
  const params = env.get("params");
  if (params === null || !params.isObject()) {
    if (call.method == "tools/call") return Result.error("malformed request envelope: params is not an object").toJSON();
    return errorJSON(INVALID_PARAMS, "malformed request envelope: params is not an object");
  }
  call.params = params;
  const meta = params.get("_meta");
  if (meta !== null) {
    const t = meta.get("progressToken");
    if (t !== null) call.progressToken = t.toJSON();
  }
  current = call;
  if (call.method == "tools/call") return callTool(call, params).toJSON();
  if (call.method == "resources/read") return read(env, params).toJSON();
  if (call.method == "prompts/get") return getPrompt(params).toJSON();
  if (call.method == "completion/complete") return complete(params).toJSON();
  return errorJSON(INTERNAL_ERROR, "unsupported method \"" + call.method + "\"");
}

function callTool(call: Call, params: JSONValue): Result {
  const n = params.get("name");
  if (n === null || !n.isString()) return Result.error("malformed request envelope: params.name is not a string");
  call.tool = n.str;
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

function read(env: JSONValue, params: JSONValue): Contents {
  const req = new ReadRequest();
  req.uri = stringMember(params, "uri", "");
  const t = env.get("template");
  if (t !== null && t.isObject()) {
    req.uriTemplate = stringMember(t, "uriTemplate", "");
    const vars = t.get("variables");
    if (vars !== null && vars.isObject()) req.variables = vars;
  }
  const uris = req.uriTemplate.length > 0 ? templateURIs : resourceURIs;
  const hs = req.uriTemplate.length > 0 ? templateHandlers : resourceHandlers;
  const key = req.uriTemplate.length > 0 ? req.uriTemplate : req.uri;
  for (let i = 0; i < uris.length; i++) {
    if (uris[i] == key) return hs[i](req);
  }
  return Contents.error("this module does not serve the resource " + quote(req.uri), RESOURCE_NOT_FOUND);
}

function getPrompt(params: JSONValue): Prompt {
  const req = new PromptRequest();
  req.name = stringMember(params, "name", "");
  const a = params.get("arguments");
  if (a !== null && a.isObject()) req.arguments = a;
  for (let i = 0; i < promptNames.length; i++) {
    if (promptNames[i] == req.name) return promptHandlers[i](req);
  }
  return Prompt.error("unknown prompt " + quote(req.name), INVALID_PARAMS);
}

function complete(params: JSONValue): Completion {
  if (completeHandlers.length == 0) return new Completion();
  const req = new CompleteRequest();
  const ref = params.get("ref");
  if (ref === null || !ref.isObject()) return Completion.error("params.ref must be an object", INVALID_PARAMS);
  const type = stringMember(ref, "type", "");
  if (type == "ref/prompt") req.prompt = stringMember(ref, "name", "");
  else if (type == "ref/resource") req.uriTemplate = stringMember(ref, "uri", "");
  else return Completion.error("params.ref.type must be ref/prompt or ref/resource", INVALID_PARAMS);
  const arg = params.get("argument");
  if (arg !== null) {
    req.argument = stringMember(arg, "name", "");
    req.value = stringMember(arg, "value", "");
  }
  const ctx = params.get("context");
  if (ctx !== null) {
    const a = ctx.get("arguments");
    if (a !== null && a.isObject()) req.context = a;
  }
  return completeHandlers[0](req);
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
