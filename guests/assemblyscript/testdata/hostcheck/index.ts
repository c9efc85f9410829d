// hostcheck: a test module that calls every host-function wrapper of the
// AssemblyScript SDK and reports what the host answered, for the tests in
// guests/assemblyscript/tools_test.go.

import {
  tool, run, Args, Result, Obj, Arr, parseJSON,
  log, progress, kvGet, kvSet, kvDelete, kvList, secretGet, fetch,
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

run();
