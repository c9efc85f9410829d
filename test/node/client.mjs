// Checks wasmgate serve with a client nobody on the project wrote: the
// official MCP TypeScript SDK. It starts bin/wasmgate serve itself, over
// stdio and over HTTP (streamable HTTP and legacy SSE), lists the tools,
// calls word_count and sha256 and checks the answers (the SDK also checks
// each structuredContent against the tool's outputSchema), and checks that
// a bad argument and hostile guests come back as tool errors.
//
//   node client.mjs                  (after npm ci; from test/node)
//   WASMGATE_BIN=/path/to/wasmgate GUESTS=/path/to/guests node client.mjs

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const bin = process.env.WASMGATE_BIN || path.join(root, "bin/wasmgate");
const guests = process.env.GUESTS || path.join(root, "guests");
const hostile = path.join(guests, "testdata/hostile");

// What every server under test serves: a C and a Go example module and two
// hostile modules, with a short time limit.
const serveArgs = [
  "--timeout", "750ms",
  path.join(guests, "c", "hash"),
  path.join(guests, "go", "textstats"),
  path.join(hostile, "trap.wasm"),
  path.join(hostile, "loop.wasm"),
];

const sha256 = (s) => createHash("sha256").update(s, "utf8").digest("hex");
const text = (res) => res.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");

async function exercise(name, transport) {
  const client = new Client({ name: "wasmgate-node-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, ["base64_decode", "base64_encode", "loop", "regex_search", "sha256", "trap", "word_count"]);
    const wc = tools.find((t) => t.name === "word_count");
    assert.equal(wc.title, "Word Count");
    assert.deepEqual(wc.inputSchema.required, ["text"]);
    assert.ok(wc.outputSchema, "word_count has an outputSchema");

    const input = "the quick brown fox\njumps over the lazy dog";
    let res = await client.callTool({ name: "word_count", arguments: { text: input } });
    assert.ok(!res.isError, text(res));
    assert.deepEqual(res.structuredContent, { words: 9, lines: 2, characters: 43, bytes: 43 });

    res = await client.callTool({ name: "sha256", arguments: { text: input } });
    assert.ok(!res.isError, text(res));
    assert.equal(res.structuredContent.sha256, sha256(input));
    assert.match(text(res), new RegExp(sha256(input)));

    res = await client.callTool({ name: "sha256", arguments: { txt: input } });
    assert.ok(res.isError, "a bad argument is a tool error");
    assert.match(text(res), /invalid arguments: "txt": unknown property \(the tool takes text\); "text": missing \(required\)/);

    res = await client.callTool({ name: "trap", arguments: {} });
    assert.ok(res.isError, "a trapping guest is a tool error");
    assert.match(text(res), /the tool crashed/);

    res = await client.callTool({ name: "loop", arguments: {} });
    assert.ok(res.isError, "a looping guest is a tool error");
    assert.match(text(res), /did not finish within its time limit of 750ms/);

    res = await client.callTool({ name: "sha256", arguments: { text: "after" } });
    assert.equal(res.structuredContent.sha256, sha256("after"));
    console.log(`ok  ${name}: 7 tools listed, word_count, sha256, bad argument, trap, loop`);
  } finally {
    await client.close();
  }
}

// startHTTP runs wasmgate serve --http on a free port and returns its base
// URL and the process.
function startHTTP() {
  const proc = spawn(bin, ["serve", "--http", "127.0.0.1:0", ...serveArgs], { stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => reject(new Error(`wasmgate serve printed no URL:\n${stderr}`)), 30000);
    proc.on("error", reject);
    proc.on("exit", (code) => reject(new Error(`wasmgate serve exited ${code}:\n${stderr}`)));
    proc.stderr.on("data", (chunk) => {
      stderr += chunk;
      const m = stderr.match(/streamable HTTP\s+(http:\/\/\S+)\/mcp/);
      if (m) {
        clearTimeout(timer);
        resolve({ base: m[1], proc });
      }
    });
  });
}

async function main() {
  await exercise("stdio", new StdioClientTransport({ command: bin, args: ["serve", ...serveArgs], stderr: "ignore" }));

  const { base, proc } = await startHTTP();
  try {
    await exercise("streamable HTTP", new StreamableHTTPClientTransport(new URL(base + "/mcp")));
    await exercise("SSE", new SSEClientTransport(new URL(base + "/sse")));
  } finally {
    proc.removeAllListeners("exit");
    proc.kill("SIGTERM");
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error("FAIL", err);
    process.exit(1);
  },
);
