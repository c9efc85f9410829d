// A small JSON reader and writer for wasmgate tools. The reader builds a
// tree of JSONValue; the writer (JSONWriter, or the helpers on Obj and Arr)
// produces compact JSON text. Strings are AssemblyScript strings (UTF-16);
// the SDK converts to and from UTF-8 at the stdin/stdout boundary.

export const enum Kind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

export class JSONValue {
  kind: Kind = Kind.Null;
  bool: bool = false;
  num: f64 = 0;
  // Whether the number was written without a fraction or exponent.
  isInteger: bool = false;
  str: string = "";
  items: JSONValue[] = [];
  keys: string[] = [];
  values: JSONValue[] = [];

  isNull(): bool { return this.kind == Kind.Null; }
  isBool(): bool { return this.kind == Kind.Bool; }
  isNumber(): bool { return this.kind == Kind.Number; }
  isString(): bool { return this.kind == Kind.String; }
  isArray(): bool { return this.kind == Kind.Array; }
  isObject(): bool { return this.kind == Kind.Object; }

  // get returns the member named key of an object, or null.
  get(key: string): JSONValue | null {
    if (this.kind != Kind.Object) return null;
    // The last duplicate wins, as in most JSON readers.
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.values[i];
    }
    return null;
  }

  // toJSON writes the value back as compact JSON.
  toJSON(): string {
    const w = new JSONWriter();
    w.value(this);
    return w.toString();
  }
}

// parseJSON parses text as one JSON value. On malformed input it returns
// null and sets lastJSONError.
export let lastJSONError: string = "";

export function parseJSON(text: string): JSONValue | null {
  const p = new Parser(text);
  p.ws();
  const v = p.value(0);
  if (v === null) {
    lastJSONError = p.err;
    return null;
  }
  p.ws();
  if (p.pos != text.length) {
    lastJSONError = "unexpected data after the JSON value at offset " + p.pos.toString();
    return null;
  }
  return v;
}

const MAX_DEPTH = 512;

class Parser {
  s: string;
  pos: i32 = 0;
  err: string = "";
  constructor(s: string) { this.s = s; }

  fail(msg: string): JSONValue | null {
    if (this.err.length == 0) this.err = msg + " at offset " + this.pos.toString();
    return null;
  }

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) this.pos++;
      else break;
    }
  }

  lit(word: string): bool {
    if (this.s.substr(this.pos, word.length) == word) {
      this.pos += word.length;
      return true;
    }
    return false;
  }

  value(depth: i32): JSONValue | null {
    if (depth > MAX_DEPTH) return this.fail("JSON nested too deeply");
    if (this.pos >= this.s.length) return this.fail("unexpected end of JSON");
    const c = this.s.charCodeAt(this.pos);
    const v = new JSONValue();
    if (c == 0x7b) { // {
      this.pos++;
      v.kind = Kind.Object;
      this.ws();
      if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == 0x7d) { this.pos++; return v; }
      while (true) {
        this.ws();
        if (this.pos >= this.s.length || this.s.charCodeAt(this.pos) != 0x22) return this.fail("expected a string key");
        const k = this.string();
        if (k === null) return null;
        this.ws();
        if (this.pos >= this.s.length || this.s.charCodeAt(this.pos) != 0x3a) return this.fail("expected ':'");
        this.pos++;
        this.ws();
        const m = this.value(depth + 1);
        if (m === null) return null;
        v.keys.push(k);
        v.values.push(m);
        this.ws();
        if (this.pos >= this.s.length) return this.fail("unexpected end of JSON");
        const d = this.s.charCodeAt(this.pos++);
        if (d == 0x7d) return v;
        if (d != 0x2c) return this.fail("expected ',' or '}'");
      }
    }
    if (c == 0x5b) { // [
      this.pos++;
      v.kind = Kind.Array;
      this.ws();
      if (this.pos < this.s.length && this.s.charCodeAt(this.pos) == 0x5d) { this.pos++; return v; }
      while (true) {
        this.ws();
        const m = this.value(depth + 1);
        if (m === null) return null;
        v.items.push(m);
        this.ws();
        if (this.pos >= this.s.length) return this.fail("unexpected end of JSON");
        const d = this.s.charCodeAt(this.pos++);
        if (d == 0x5d) return v;
        if (d != 0x2c) return this.fail("expected ',' or ']'");
      }
    }
    if (c == 0x22) {
      const str = this.string();
      if (str === null) return null;
      v.kind = Kind.String;
      v.str = str;
      return v;
    }
    if (this.lit("true")) { v.kind = Kind.Bool; v.bool = true; return v; }
    if (this.lit("false")) { v.kind = Kind.Bool; return v; }
    if (this.lit("null")) return v;
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    return this.fail("unexpected character");
  }

  number(): JSONValue | null {
    const s = this.s;
    const start = this.pos;
    let integer = true;
    if (s.charCodeAt(this.pos) == 0x2d) this.pos++;
    const digits0 = this.pos;
    while (this.pos < s.length && isDigit(s.charCodeAt(this.pos))) this.pos++;
    if (this.pos == digits0) return this.fail("bad number");
    if (this.pos - digits0 > 1 && s.charCodeAt(digits0) == 0x30) return this.fail("bad number (leading zero)");
    if (this.pos < s.length && s.charCodeAt(this.pos) == 0x2e) {
      integer = false;
      this.pos++;
      const f0 = this.pos;
      while (this.pos < s.length && isDigit(s.charCodeAt(this.pos))) this.pos++;
      if (this.pos == f0) return this.fail("bad number");
    }
    if (this.pos < s.length && (s.charCodeAt(this.pos) | 0x20) == 0x65) {
      integer = false;
      this.pos++;
      if (this.pos < s.length && (s.charCodeAt(this.pos) == 0x2b || s.charCodeAt(this.pos) == 0x2d)) this.pos++;
      const e0 = this.pos;
      while (this.pos < s.length && isDigit(s.charCodeAt(this.pos))) this.pos++;
      if (this.pos == e0) return this.fail("bad number");
    }
    const v = new JSONValue();
    v.kind = Kind.Number;
    v.num = parseFloat(s.substring(start, this.pos));
    v.isInteger = integer;
    return v;
  }

  string(): string | null {
    const s = this.s;
    this.pos++; // opening quote
    const parts: string[] = [];
    let run = this.pos;
    while (true) {
      if (this.pos >= s.length) { this.fail("unterminated string"); return null; }
      const c = s.charCodeAt(this.pos);
      if (c == 0x22) {
        parts.push(s.substring(run, this.pos));
        this.pos++;
        return parts.join("");
      }
      if (c < 0x20) { this.fail("control character in string"); return null; }
      if (c != 0x5c) { this.pos++; continue; }
      parts.push(s.substring(run, this.pos));
      this.pos++;
      if (this.pos >= s.length) { this.fail("unterminated string"); return null; }
      const e = s.charCodeAt(this.pos++);
      if (e == 0x22) parts.push("\"");
      else if (e == 0x5c) parts.push("\\");
      else if (e == 0x2f) parts.push("/");
      else if (e == 0x62) parts.push("\b");
      else if (e == 0x66) parts.push("\f");
      else if (e == 0x6e) parts.push("\n");
      else if (e == 0x72) parts.push("\r");
      else if (e == 0x74) parts.push("\t");
      else if (e == 0x75) {
        if (this.pos + 4 > s.length) { this.fail("bad \\u escape"); return null; }
        let u: i32 = 0;
        for (let i = 0; i < 4; i++) {
          const h = hexVal(s.charCodeAt(this.pos + i));
          if (h < 0) { this.fail("bad \\u escape"); return null; }
          u = (u << 4) | h;
        }
        this.pos += 4;
        // AssemblyScript strings are UTF-16: a surrogate pair written as two
        // escapes becomes the same two code units.
        parts.push(String.fromCharCode(u));
      } else { this.fail("bad escape"); return null; }
      run = this.pos;
    }
  }
}

function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

function hexVal(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

// quote returns s as a JSON string literal.
export function quote(s: string): string {
  const parts: string[] = ["\""];
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | null = null;
    if (c == 0x22) esc = "\\\"";
    else if (c == 0x5c) esc = "\\\\";
    else if (c == 0x0a) esc = "\\n";
    else if (c == 0x0d) esc = "\\r";
    else if (c == 0x09) esc = "\\t";
    else if (c < 0x20) esc = "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    if (esc !== null) {
      parts.push(s.substring(run, i));
      parts.push(esc);
      run = i + 1;
    }
  }
  parts.push(s.substring(run));
  parts.push("\"");
  return parts.join("");
}

// formatNumber writes a finite f64 as JSON (integers without ".0");
// NaN and infinities, which JSON cannot hold, become null.
export function formatNumber(n: f64): string {
  if (!isFinite(n)) return "null";
  if (n == Math.floor(n) && Math.abs(n) < 9007199254740992) return (<i64>n).toString();
  return n.toString();
}

// JSONWriter builds JSON text. Commas are inserted for you:
//
//   const w = new JSONWriter();
//   w.beginObject(); w.key("n"); w.int(3); w.endObject();
export class JSONWriter {
  private parts: string[] = [];
  private first: bool[] = [];
  private afterKey: bool = false;

  private sep(): void {
    if (this.afterKey) { this.afterKey = false; return; }
    const n = this.first.length;
    if (n == 0) return;
    if (this.first[n - 1]) this.first[n - 1] = false;
    else this.parts.push(",");
  }

  beginObject(): JSONWriter { this.sep(); this.parts.push("{"); this.first.push(true); return this; }
  endObject(): JSONWriter { this.first.pop(); this.parts.push("}"); return this; }
  beginArray(): JSONWriter { this.sep(); this.parts.push("["); this.first.push(true); return this; }
  endArray(): JSONWriter { this.first.pop(); this.parts.push("]"); return this; }
  key(k: string): JSONWriter { this.sep(); this.parts.push(quote(k)); this.parts.push(":"); this.afterKey = true; return this; }
  string(s: string): JSONWriter { this.sep(); this.parts.push(quote(s)); return this; }
  int(n: i64): JSONWriter { this.sep(); this.parts.push(n.toString()); return this; }
  number(n: f64): JSONWriter { this.sep(); this.parts.push(formatNumber(n)); return this; }
  bool(b: bool): JSONWriter { this.sep(); this.parts.push(b ? "true" : "false"); return this; }
  null(): JSONWriter { this.sep(); this.parts.push("null"); return this; }
  // raw inserts already-encoded JSON.
  raw(json: string): JSONWriter { this.sep(); this.parts.push(json); return this; }

  value(v: JSONValue): JSONWriter {
    switch (v.kind) {
      case Kind.Null: return this.null();
      case Kind.Bool: return this.bool(v.bool);
      case Kind.Number: return this.number(v.num);
      case Kind.String: return this.string(v.str);
      case Kind.Array: {
        this.beginArray();
        for (let i = 0; i < v.items.length; i++) this.value(v.items[i]);
        return this.endArray();
      }
      default: {
        this.beginObject();
        for (let i = 0; i < v.keys.length; i++) { this.key(v.keys[i]); this.value(v.values[i]); }
        return this.endObject();
      }
    }
  }

  toString(): string { return this.parts.join(""); }
}

// Obj is a convenience builder for one JSON object:
//
//   new Obj().str("slug", s).int("length", n).toString()
export class Obj {
  private w: JSONWriter = new JSONWriter();
  constructor() { this.w.beginObject(); }
  str(k: string, v: string): Obj { this.w.key(k).string(v); return this; }
  int(k: string, v: i64): Obj { this.w.key(k).int(v); return this; }
  num(k: string, v: f64): Obj { this.w.key(k).number(v); return this; }
  bool(k: string, v: bool): Obj { this.w.key(k).bool(v); return this; }
  null(k: string): Obj { this.w.key(k).null(); return this; }
  raw(k: string, json: string): Obj { this.w.key(k).raw(json); return this; }
  toString(): string { return this.w.toString() + "}"; }
}

// Arr is a convenience builder for one JSON array.
export class Arr {
  private w: JSONWriter = new JSONWriter();
  constructor() { this.w.beginArray(); }
  str(v: string): Arr { this.w.string(v); return this; }
  int(v: i64): Arr { this.w.int(v); return this; }
  num(v: f64): Arr { this.w.number(v); return this; }
  bool(v: bool): Arr { this.w.bool(v); return this; }
  raw(json: string): Arr { this.w.raw(json); return this; }
  toString(): string { return this.w.toString() + "]"; }
}
