// hostcheck: a test module that calls every host-function wrapper of the
// AssemblyScript SDK and reports what the host answered, and serves
// resources, prompts and completions, for the tests in
// guests/assemblyscript/tools_test.go.

import {
  tool, run, Args, Result, Obj, Arr, parseJSON, HostResult,
  log, progress, kvGet, kvSet, kvDelete, kvList, secretGet, fetch,
  resourceUpdated, sample, sampleText, elicit, ask,
  resource, resourceTemplate, prompt, completion, current,
  ReadRequest, Contents, PromptRequest, Prompt, CompleteRequest, Completion, Content, base64,
  RESOURCE_NOT_FOUND, INVALID_PARAMS,
  INFO, WARNING,
} from "../../sdk";

tool("hostcheck", (args: Args): Result => {
  const url = args.string("url");
  const secret = args.string("secret");
  if (!args.ok) return args.errorResult();

  log(INFO, "hostcheck: log works");
  log(WARNING, "hostcheck: ünïcode too");
  progress(1, 2, "half way");
  progress(2, 0);

  const steps = new Arr();
  const a = kvSet("note/a", "first");
  steps.str("set a: " + (a.ok ? "ok" : a.error));
  const b = kvSet("note/b", "second");
  steps.str("set b: " + (b.ok ? "ok" : b.error));
  const g = kvGet("note/a");
  steps.str("get a: " + (g.ok ? g.data : g.error));
  const l = kvList("note/", "");
  if (l.ok) {
    const v = parseJSON(l.data);
    let keys = "?";
    if (v !== null) {
      const k = v.get("keys");
      if (k !== null) keys = k.toJSON();
    }
    steps.str("list: " + keys);
  } else {
    steps.str("list: " + l.error);
  }
  const after = kvList("note/", "note/a");
  steps.str("list after a: " + (after.ok ? after.data : after.error));
  const d = kvDelete("note/a");
  steps.str("delete a: " + (d.ok ? "ok" : d.error));
  const g2 = kvGet("note/a");
  steps.str("get a again: " + (g2.ok ? g2.data : g2.error.substring(0, g2.error.indexOf(":"))));

  const out = new Obj().raw("kv", steps.toString());
  if (secret.length > 0) {
    const s = secretGet(secret);
    // The value itself is redacted by the host; report its length.
    out.str("secret", s.ok ? "ok, " + s.bytes.byteLength.toString() + " bytes: " + s.data : s.error);
  }
  if (url.length > 0) {
    const r = fetch(url, "POST", "{\"X-Test\":\"yes\"}", "ping");
    if (r.error.length > 0) out.str("http", r.error);
    else out.str("http", r.status.toString() + " " + r.header("Content-Type") + " " + r.body);
  }
  return Result.structured(out.toString());
});

function bytes(b: u8[]): ArrayBuffer {
  const buf = new ArrayBuffer(b.length);
  for (let i = 0; i < b.length; i++) store<u8>(changetype<usize>(buf) + <usize>i, b[i]);
  return buf;
}

tool("content", (args: Args): Result => {
  return Result.audio(base64(bytes([0x52, 0x49, 0x46, 0x46, 0xff])), "audio/wav")
    .addResourceLink("test://doc/1", "doc 1")
    .addResourceLink("test://static", "static", "text/plain", "A fixed text.")
    .addResource("test://doc/2", "# two", "text/markdown")
    .addResourceBlob("test://blob", base64(bytes([0, 1, 2])));
});

// client reports what the envelope says of the client.
tool("client", (args: Args): Result => {
  const c = current.client;
  const supports = new Arr();
  const caps = ["sampling", "elicitation", "roots", "experimental"];
  for (let i = 0; i < caps.length; i++) if (c.supports(caps[i])) supports.str(caps[i]);
  return Result.structured(new Obj()
    .str("protocolVersion", c.protocolVersion)
    .raw("supports", supports.toString())
    .raw("capabilities", c.capabilities.toJSON())
    .toString());
});

function status(r: HostResult): string {
  const o = new Obj().str("status", r.ok ? "ok" : r.error.substring(0, r.error.indexOf(":")));
  if (!r.ok) o.int("code", r.status);
  return o.str("held", r.data).toString();
}

// ask puts every kind of question to the client, and two malformed ones,
// and reports each answer or error.
tool("ask", (args: Args): Result => {
  return Result.structured(new Obj()
    .raw("sample_text", status(sampleText("What is 2+2?", 50)))
    .raw("sample", status(sample("{\"messages\":[{\"role\":\"user\",\"content\":{\"type\":\"text\",\"text\":\"hi\"}}],\"maxTokens\":10,\"systemPrompt\":\"be brief\"}")))
    .raw("elicit", status(elicit("{\"message\":\"Your name?\",\"requestedSchema\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}}")))
    .raw("ask", status(ask("{\"roots\":{\"method\":\"roots/list\",\"params\":{}},\"color\":{\"method\":\"elicitation/create\",\"params\":{\"message\":\"Favourite colour?\",\"requestedSchema\":{\"type\":\"object\",\"properties\":{\"color\":{\"type\":\"string\"}}}}}}")))
    .raw("bad_sample", status(sample("{\"messages\":[],\"maxTokens\":0}")))
    .raw("bad_ask", status(ask("{}")))
    .toString());
});

tool("notify", (args: Args): Result => {
  const uri = args.requireString("uri");
  if (!args.ok) return args.errorResult();
  return Result.structured(new Obj().raw("uri", status(resourceUpdated(uri))).raw("empty", status(resourceUpdated(""))).toString());
});

resource("test://static", (req: ReadRequest): Contents => {
  return Contents.text("static text at " + req.uri + " for " + current.client.protocolVersion, "text/plain");
});

resource("test://blob", (req: ReadRequest): Contents => {
  return Contents.blob(base64(bytes([0, 1, 2, 0xfe, 0xff])), "application/octet-stream")
    .addText("test://blob#note", "# a note", "text/markdown");
});

resourceTemplate("test://doc/{id}", (req: ReadRequest): Contents => {
  const id = req.variable("id");
  if (id == "") return Contents.error("no id");
  if (id == "missing") return Contents.error("no such document: " + id, RESOURCE_NOT_FOUND);
  if (id == "bad") return Contents.error("bad document id", INVALID_PARAMS);
  if (id == "host") {
    const s = secretGet("NOPE");
    if (!s.ok) return Contents.error(s.error);
  }
  const vars: string[] = [];
  for (let i = 0; i < req.variables.keys.length; i++) vars.push(req.variables.keys[i] + "=" + req.variable(req.variables.keys[i]));
  return Contents.text("doc " + id + " of " + req.uriTemplate + " (" + vars.join(",") + ")");
});

prompt("greet", (req: PromptRequest): Prompt => {
  if (!req.has("who")) return Prompt.error("missing argument \"who\"", INVALID_PARAMS);
  const who = req.argument("who");
  const style = req.argument("style", "plain");
  let line: string;
  if (style == "plain") line = "Say hello to " + who + ".";
  else if (style == "loud") line = "SAY HELLO TO " + who.toUpperCase() + "!";
  else return Prompt.error("unknown style \"" + style + "\"", INVALID_PARAMS);
  return Prompt.user(line)
    .withDescription("A greeting for " + who)
    .addAssistant("Hello!")
    .add("user", Content.image(base64(bytes([0x89, 0x50, 0x4e, 0x47])), "image/png"))
    .add("assistant", Content.resource("test://static", "embedded", "text/plain"));
});

// plain lists its arguments in one user message, with no description.
prompt("plain", (req: PromptRequest): Prompt => {
  const args: string[] = [];
  const keys = req.arguments.keys;
  for (let i = 0; i < keys.length; i++) args.push(keys[i] + "=" + req.argument(keys[i]));
  return Prompt.user("arguments: " + args.join(",") + "; client " + current.client.protocolVersion);
});

completion((req: CompleteRequest): Completion => {
  if (req.prompt == "greet" && req.argument == "who") return Completion.matching(["Ada", "Alan", "Grace", "alonzo"], req.value);
  if (req.prompt == "greet" && req.argument == "style") {
    const who = req.contextArgument("who", "nobody");
    return new Completion(["plain for " + who, "loud for " + who]);
  }
  if (req.uriTemplate == "test://doc/{id}" && req.argument == "id") {
    const ids: string[] = [];
    for (let i = 1; i <= 150; i++) ids.push(i.toString());
    return Completion.matching(ids, req.value);
  }
  return Completion.error("nothing to complete for argument " + req.argument, INVALID_PARAMS);
});

run();
