// Command textstats is a wasmgate guest module with two text tools,
// word_count and regex_search, written with the Go SDK. Build it with
// GOOS=wasip1 GOARCH=wasm; each call reads one tools/call envelope from
// stdin and writes one CallToolResult to stdout.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

const levelDebug = uint32(sdk.LevelDebug)

// logf logs through the host; tests replace it.
var logf = func(level uint32, msg string) { sdk.Log(sdk.Level(level), msg) }

// serve handles one call from stdin to stdout, logging with lf.
func serve(stdin io.Reader, stdout io.Writer, lf func(level uint32, msg string)) error {
	saved := logf
	logf = lf
	defer func() { logf = saved }()
	return sdk.Serve(context.Background(), stdin, stdout)
}

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "textstats",
		Version:     "0.1.0",
		Description: "Text statistics and regular-expression search, written in Go.",
	})
	sdk.Tool("word_count", wordCount, sdk.Title("Word Count"),
		sdk.Description("Count the words, lines, characters and bytes of a text. Words are runs of non-whitespace; a final line without a trailing newline counts as a line; characters are Unicode code points; bytes are UTF-8 bytes."),
		sdk.ReadOnly())
	sdk.Tool("regex_search", regexSearch, sdk.Title("Regex Search"),
		sdk.Description("Find the matches of a regular expression (Go RE2 syntax, no backreferences) in a text. The pattern runs over the whole text: use (?m) to make ^ and $ match at line breaks and (?i) for case-insensitive matching. Returns each match with its 1-based line and column (in characters) and its capture groups."),
		sdk.ReadOnly())
}

// CountArgs are word_count's arguments.
type CountArgs struct {
	Text string `json:"text" jsonschema:"The text to count."`
}

// Stats is word_count's structured result.
type Stats struct {
	Words      int `json:"words" minimum:"0"`
	Lines      int `json:"lines" minimum:"0"`
	Characters int `json:"characters" minimum:"0"`
	Bytes      int `json:"bytes" minimum:"0"`
}

// String is the text summary: "3 words, 1 line, ...".
func (st Stats) String() string {
	return fmt.Sprintf("%s, %s, %s, %s",
		plural(st.Words, "word"), plural(st.Lines, "line"),
		plural(st.Characters, "character"), plural(st.Bytes, "byte"))
}

// countText counts whitespace-separated words, lines (a final line without a
// newline counts; an empty text has none), Unicode characters and UTF-8 bytes.
func countText(text string) Stats {
	lines := strings.Count(text, "\n")
	if text != "" && !strings.HasSuffix(text, "\n") {
		lines++
	}
	return Stats{
		Words:      len(strings.Fields(text)),
		Lines:      lines,
		Characters: utf8.RuneCountInString(text),
		Bytes:      len(text),
	}
}

func wordCount(ctx context.Context, a CountArgs) (Stats, error) {
	logf(levelDebug, "word_count")
	return countText(a.Text), nil
}

// plural writes n and the word, adding "s" (or "es" after ch, sh, s, x).
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	for _, suffix := range []string{"ch", "sh", "s", "x"} {
		if strings.HasSuffix(word, suffix) {
			return fmt.Sprintf("%d %ses", n, word)
		}
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// SearchArgs are regex_search's arguments.
type SearchArgs struct {
	Pattern string `json:"pattern" jsonschema:"The regular expression, in Go RE2 syntax."`
	Text    string `json:"text" jsonschema:"The text to search."`
	Limit   int    `json:"limit" default:"100" minimum:"1" maximum:"10000" jsonschema:"The most matches to return."`
}

// Match is one regex_search match.
type Match struct {
	Line   int      `json:"line" minimum:"1"`
	Column int      `json:"column" minimum:"1"`
	Match  string   `json:"match"`
	Groups []string `json:"groups,omitempty" jsonschema:"Capture groups in order; a group that did not take part is \"\"."`
}

// Search is regex_search's structured result.
type Search struct {
	Matches   []Match `json:"matches"`
	Count     int     `json:"count" minimum:"0" jsonschema:"The number of matches returned."`
	Truncated bool    `json:"truncated" jsonschema:"True when more matches exist than the limit allowed."`
}

// String lists the matches with their positions.
func (s Search) String() string {
	var b strings.Builder
	switch {
	case s.Count == 0:
		b.WriteString("no matches")
	case s.Truncated:
		fmt.Fprintf(&b, "first %s (limit reached):", plural(s.Count, "match"))
	default:
		fmt.Fprintf(&b, "%s:", plural(s.Count, "match"))
	}
	for _, m := range s.Matches {
		fmt.Fprintf(&b, "\nline %d, column %d: %q", m.Line, m.Column, m.Match)
	}
	return b.String()
}

// search finds up to limit matches of re in text, with 1-based line and
// column (in characters) of each match's start.
func search(re *regexp.Regexp, text string, limit int) Search {
	locs := re.FindAllStringSubmatchIndex(text, limit+1)
	out := Search{Matches: []Match{}}
	if len(locs) > limit {
		locs, out.Truncated = locs[:limit], true
	}
	line, lineStart, pos := 1, 0, 0
	for _, loc := range locs {
		start := loc[0]
		for pos < start {
			if text[pos] == '\n' {
				line++
				lineStart = pos + 1
			}
			pos++
		}
		m := Match{
			Line:   line,
			Column: utf8.RuneCountInString(text[lineStart:start]) + 1,
			Match:  text[loc[0]:loc[1]],
		}
		for g := 1; g < len(loc)/2; g++ {
			s := ""
			if loc[2*g] >= 0 {
				s = text[loc[2*g]:loc[2*g+1]]
			}
			m.Groups = append(m.Groups, s)
		}
		out.Matches = append(out.Matches, m)
	}
	out.Count = len(out.Matches)
	return out
}

func regexSearch(ctx context.Context, a SearchArgs) (Search, error) {
	logf(levelDebug, "regex_search")
	re, err := regexp.Compile(a.Pattern)
	if err != nil {
		var perr *syntax.Error
		if errors.As(err, &perr) {
			return Search{}, sdk.Errorf("invalid regular expression %q: %s: %q", a.Pattern, perr.Code, perr.Expr)
		}
		return Search{}, sdk.Errorf("invalid regular expression %q: %v", a.Pattern, err)
	}
	return search(re, a.Text, a.Limit), nil
}
