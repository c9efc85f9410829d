// slugify: URL slugs and identifier case conversion.
//
//   slugify       "Héllo, Wörld!"                 -> "hello-world"
//   case_convert  "someHTTPServer" to snake       -> "some_http_server"

import { tool, run, Args, Result, Obj, Arr } from "../sdk";

// Latin letters with diacritics, and a few ligatures, folded to ASCII.
const FOLD_FROM = "àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżž";
const FOLD_TO   = "aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnoooooooooorrrsssstttuuuuuuuuuuwyyyzzz";

function foldChar(c: string): string {
  const i = FOLD_FROM.indexOf(c);
  if (i >= 0) return FOLD_TO.charAt(i);
  if (c == "ß") return "ss";
  if (c == "æ") return "ae";
  if (c == "œ") return "oe";
  if (c == "þ") return "th";
  if (c == "ð") return "d";
  if (c == "&") return " and ";
  return c;
}

function isAlnum(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}
function isUpper(c: i32): bool { return c >= 0x41 && c <= 0x5a; }
function isLower(c: i32): bool { return c >= 0x61 && c <= 0x7a; }
function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }

// ascii folds the text to ASCII letters and digits; anything else that is
// not a letter or digit becomes a space.
function ascii(text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    const lower = ch.toLowerCase();
    let f = foldChar(lower);
    if (f != lower) {
      // Keep the case of a folded capital (É -> E) for case_convert.
      if (ch != lower) f = f.toUpperCase();
      parts.push(f);
      continue;
    }
    parts.push(isAlnum(ch.charCodeAt(0)) ? ch : " ");
  }
  return parts.join("");
}

// words splits text into words at non-alphanumerics and at case changes:
// "someHTTPServer v2" -> some, HTTP, Server, v2.
function words(text: string): string[] {
  const s = ascii(text);
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x20;
    if (!isAlnum(c)) {
      if (start >= 0) { out.push(s.substring(start, i)); start = -1; }
      continue;
    }
    if (start < 0) { start = i; continue; }
    const p = s.charCodeAt(i - 1);
    const n = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    // aB: a new word at B; ABc: a new word at B (end of an acronym).
    if ((isLower(p) || isDigit(p)) && isUpper(c) || (isUpper(p) && isUpper(c) && isLower(n))) {
      out.push(s.substring(start, i));
      start = i;
    }
  }
  return out;
}

// Titles and identifiers are short; a bound keeps memory use small.
const MAX_TEXT = 100000;

function tooLong(text: string): bool { return text.length > MAX_TEXT; }

function capitalize(w: string): string {
  return w.length == 0 ? w : w.charAt(0).toUpperCase() + w.substring(1).toLowerCase();
}

function slug(text: string, sep: string, maxLength: i32): string {
  const s = ascii(text).toLowerCase();
  const parts: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x20;
    if (isAlnum(c)) { if (start < 0) start = i; continue; }
    if (start >= 0) { parts.push(s.substring(start, i)); start = -1; }
  }
  let out = parts.join(sep);
  if (maxLength > 0 && out.length > maxLength) {
    // Cut at a word boundary when there is one, never leaving a separator.
    out = out.substring(0, maxLength);
    const cut = out.lastIndexOf(sep);
    const next = parts.join(sep).substr(maxLength, sep.length);
    if (next != sep && cut > 0) out = out.substring(0, cut);
    while (out.endsWith(sep) && sep.length > 0) out = out.substring(0, out.length - sep.length);
  }
  return out;
}

tool("slugify", (args: Args): Result => {
  args.allowOnly(["text", "separator", "max_length"]);
  const text = args.requireString("text");
  const sep = args.string("separator", "-");
  const maxLength = args.integer("max_length", 0);
  if (!args.ok) return args.errorResult();
  if (tooLong(text)) return Result.error("text is longer than " + MAX_TEXT.toString() + " characters");
  if (sep != "-" && sep != "_" && sep != ".") return Result.error("separator must be \"-\", \"_\" or \".\"");
  if (maxLength < 0 || maxLength > 1000) return Result.error("max_length must be between 0 (no limit) and 1000");
  const s = slug(text, sep, <i32>maxLength);
  return Result.structuredWithText(new Obj().str("slug", s).toString(), s);
});

tool("case_convert", (args: Args): Result => {
  args.allowOnly(["text", "to"]);
  const text = args.requireString("text");
  const to = args.requireString("to");
  if (!args.ok) return args.errorResult();
  if (tooLong(text)) return Result.error("text is longer than " + MAX_TEXT.toString() + " characters");
  const ws = words(text);
  const parts: string[] = [];
  let sep = "";
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i];
    if (to == "snake" || to == "kebab" || to == "dot") parts.push(w.toLowerCase());
    else if (to == "constant") parts.push(w.toUpperCase());
    else if (to == "camel") parts.push(i == 0 ? w.toLowerCase() : capitalize(w));
    else if (to == "pascal") parts.push(capitalize(w));
    else if (to == "title") parts.push(capitalize(w));
    else return Result.error("to must be one of snake, kebab, camel, pascal, constant, dot, title; got \"" + to + "\"");
  }
  if (to == "snake" || to == "constant") sep = "_";
  else if (to == "kebab") sep = "-";
  else if (to == "dot") sep = ".";
  else if (to == "title") sep = " ";
  const out = parts.join(sep);
  const wa = new Arr();
  for (let i = 0; i < ws.length; i++) wa.str(ws[i]);
  return Result.structuredWithText(new Obj().str("result", out).raw("words", wa.toString()).toString(), out);
});

run();
