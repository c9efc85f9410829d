//! wordfreq: a wasmgate tool in Rust. Tool word_frequencies: the most
//! frequent words of a text, with counts, as structured output.

#[path = "../sdk/src/lib.rs"]
mod wasmgate;

use std::collections::HashMap;
use wasmgate::{Call, Error, Output, Tools, Value};

/// Common English words left out when stopwords is true.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can", "could",
    "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "i", "if", "in", "into", "is", "it",
    "its", "just", "me", "more", "my", "no", "not", "of", "on", "one", "or", "our", "out", "she", "so", "some", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "up", "us", "was", "we", "were",
    "what", "when", "which", "who", "will", "with", "would", "you", "your",
];

/// words splits text into words: runs of letters and digits, with
/// apostrophes and hyphens kept between two of them ("don't", "e-mail").
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            cur.push(c);
        } else if (c == '\'' || c == '\u{2019}' || c == '-')
            && !cur.is_empty()
            && chars.get(i + 1).map_or(false, |n| n.is_alphanumeric())
        {
            cur.push(if c == '\u{2019}' { '\'' } else { c });
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn word_frequencies(call: &Call) -> wasmgate::Result {
    let args = call.args();
    args.only(&["text", "top", "min_length", "case_sensitive", "stopwords"])?;
    let text = args.str("text")?;
    let top = args.opt_int("top")?.unwrap_or(10);
    if !(1..=1000).contains(&top) {
        return Err(Error::new("argument \"top\" must be between 1 and 1000"));
    }
    let min_length = args.opt_int("min_length")?.unwrap_or(1).max(1) as usize;
    let case_sensitive = args.opt_bool("case_sensitive")?.unwrap_or(false);
    let drop_stopwords = args.opt_bool("stopwords")?.unwrap_or(false);

    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut total = 0u64;
    for w in words(text) {
        total += 1;
        let w = if case_sensitive { w } else { w.to_lowercase() };
        if w.chars().count() < min_length || (drop_stopwords && STOPWORDS.contains(&w.to_lowercase().as_str())) {
            continue;
        }
        *counts.entry(w).or_insert(0) += 1;
    }
    let distinct = counts.len();
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(top as usize);

    let mut lines = format!("{} words, {} distinct", total, distinct);
    for (w, c) in &ranked {
        lines.push_str(&format!("\n{} {}", c, w));
    }
    let list: Vec<Value> = ranked
        .into_iter()
        .map(|(w, c)| Value::object([("word", Value::from(w)), ("count", Value::from(c))]))
        .collect();
    Ok(Output::text_and_structured(
        lines,
        Value::object([
            ("total_words", Value::from(total)),
            ("distinct_words", Value::from(distinct)),
            ("words", Value::Array(list)),
        ]),
    ))
}

fn main() {
    Tools::new().tool("word_frequencies", word_frequencies).run()
}
