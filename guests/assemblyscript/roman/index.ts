// roman: integers to Roman numerals and back (1 to 3999, standard
// subtractive notation; from_roman accepts only canonical numerals).

import { tool, run, Args, Result, Obj } from "../sdk";

const VALUES: i32[] = [1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1];
const SYMBOLS: string[] = ["M", "CM", "D", "CD", "C", "XC", "L", "XL", "X", "IX", "V", "IV", "I"];

function toRoman(n: i32): string {
  const parts: string[] = [];
  for (let i = 0; i < VALUES.length; i++) {
    while (n >= VALUES[i]) { parts.push(SYMBOLS[i]); n -= VALUES[i]; }
  }
  return parts.join("");
}

function symbolValue(c: i32): i32 {
  switch (c) {
    case 0x49: return 1;    // I
    case 0x56: return 5;    // V
    case 0x58: return 10;   // X
    case 0x4c: return 50;   // L
    case 0x43: return 100;  // C
    case 0x44: return 500;  // D
    case 0x4d: return 1000; // M
  }
  return 0;
}

// fromRoman returns the value of a numeral, or -1 (bad symbol) or -2 (not
// canonical) on error.
function fromRoman(s: string): i32 {
  let total = 0;
  for (let i = 0; i < s.length; i++) {
    const v = symbolValue(s.charCodeAt(i));
    if (v == 0) return -1;
    const next = i + 1 < s.length ? symbolValue(s.charCodeAt(i + 1)) : 0;
    total += v < next ? -v : v;
  }
  if (total < 1 || total > 3999 || toRoman(total) != s) return -2;
  return total;
}

tool("to_roman", (args: Args): Result => {
  args.allowOnly(["number"]);
  const n = args.requireInteger("number");
  if (!args.ok) return args.errorResult();
  if (n < 1 || n > 3999) return Result.error("number must be between 1 and 3999; got " + n.toString());
  const r = toRoman(<i32>n);
  return Result.structuredWithText(new Obj().str("roman", r).toString(), r);
});

tool("from_roman", (args: Args): Result => {
  args.allowOnly(["text"]);
  const text = args.requireString("text").trim().toUpperCase();
  if (!args.ok) return args.errorResult();
  const v = fromRoman(text);
  if (v == -1) return Result.error("\"" + text + "\" is not a Roman numeral: use only I, V, X, L, C, D and M");
  if (v < 0) {
    // Say what the canonical form would be when the symbols add up.
    return Result.error("\"" + text + "\" is not a canonical Roman numeral between I and MMMCMXCIX");
  }
  return Result.structuredWithText(new Obj().int("number", v).toString(), v.toString());
});

run();
