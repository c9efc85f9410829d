// Package security is wasmgate's containment suite: every attack a hostile
// tool module or client can make, each asserting that the attack is
// contained and that a normal call right after still succeeds, plus a load
// test that mixes hostile calls into a stream of good ones over a real MCP
// client. It has no code of its own; see docs/security.md.
package security
