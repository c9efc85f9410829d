// Command textstats is a wasmgate guest module with two text tools:
// word_count and regex_search. Build it with GOOS=wasip1 GOARCH=wasm; each
// call reads one tools/call envelope from stdin and writes one CallToolResult
// to stdout.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode/utf8"
)

const (
	levelDebug = 0

	defaultLimit = 100
	maxLimit     = 10000
)

// request is the stdin envelope.
type request struct {
	Method string `json:"method"`
	Params struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"params"`
}

type content struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// result is an MCP CallToolResult.
type result struct {
	Content           []content `json:"content"`
	StructuredContent any       `json:"structuredContent,omitempty"`
	IsError           bool      `json:"isError"`
}

// toolError is a problem the model should see as an isError result.
type toolError struct{ msg string }

func (e *toolError) Error() string { return e.msg }

func errorf(format string, args ...any) error {
	return &toolError{fmt.Sprintf(format, args...)}
}

// serve handles one call. It returns an error only when the result cannot be
// written; every problem with the request becomes an isError result.
func serve(stdin io.Reader, stdout io.Writer, logf func(level uint32, msg string)) error {
	res := handle(stdin, logf)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		return err
	}
	_, err := stdout.Write(buf.Bytes())
	return err
}

func handle(stdin io.Reader, logf func(level uint32, msg string)) result {
	data, err := io.ReadAll(stdin)
	if err != nil {
		return errorResult(fmt.Sprintf("reading the request: %v", err))
	}
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		return errorResult(fmt.Sprintf("the request is not a valid tools/call envelope: %v", err))
	}
	if req.Method != "tools/call" {
		return errorResult(fmt.Sprintf("unsupported method %q: this module only serves tools/call", req.Method))
	}
	logf(levelDebug, req.Params.Name)
	args, err := decodeArgs(req.Params.Arguments)
	if err != nil {
		return errorResult(err.Error())
	}
	var res result
	switch req.Params.Name {
	case "word_count":
		res, err = wordCount(args)
	case "regex_search":
		res, err = regexSearch(args)
	default:
		return errorResult(fmt.Sprintf("unknown tool %q: this module has word_count and regex_search", req.Params.Name))
	}
	if err != nil {
		return errorResult(err.Error())
	}
	return res
}

func errorResult(msg string) result {
	return result{Content: []content{{Type: "text", Text: msg}}, IsError: true}
}

// args are a call's arguments, each still in JSON.
type args map[string]json.RawMessage

func decodeArgs(raw json.RawMessage) (args, error) {
	a := args{}
	if len(raw) == 0 || string(raw) == "null" {
		return a, nil
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, errorf("arguments must be a JSON object")
	}
	return a, nil
}

// check reports an argument that the tool does not take.
func (a args) check(known ...string) error {
	var extra []string
	for k := range a {
		if !contains(known, k) {
			extra = append(extra, fmt.Sprintf("%q", k))
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return errorf("unknown argument %s: this tool takes %s", strings.Join(extra, ", "), strings.Join(known, ", "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (a args) str(name string) (string, error) {
	raw, ok := a[name]
	if !ok {
		return "", errorf("missing required argument %q (a string)", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errorf("argument %q must be a string, got %s", name, jsonKind(raw))
	}
	return s, nil
}

func (a args) integer(name string, def, min, max int) (int, error) {
	raw, ok := a[name]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, errorf("argument %q must be an integer, got %s", name, jsonKind(raw))
	}
	if f != float64(int64(f)) {
		return 0, errorf("argument %q must be an integer, got %s", name, raw)
	}
	if f < float64(min) || f > float64(max) {
		return 0, errorf("argument %q must be between %d and %d, got %s", name, min, max, raw)
	}
	return int(f), nil
}

func jsonKind(raw json.RawMessage) string {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// Stats is word_count's structured result.
type Stats struct {
	Words      int `json:"words"`
	Lines      int `json:"lines"`
	Characters int `json:"characters"`
	Bytes      int `json:"bytes"`
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

func wordCount(a args) (result, error) {
	if err := a.check("text"); err != nil {
		return result{}, err
	}
	text, err := a.str("text")
	if err != nil {
		return result{}, err
	}
	st := countText(text)
	summary := fmt.Sprintf("%s, %s, %s, %s",
		plural(st.Words, "word"), plural(st.Lines, "line"),
		plural(st.Characters, "character"), plural(st.Bytes, "byte"))
	return result{Content: []content{{Type: "text", Text: summary}}, StructuredContent: st}, nil
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

// Match is one regex_search match.
type Match struct {
	Line   int      `json:"line"`
	Column int      `json:"column"`
	Match  string   `json:"match"`
	Groups []string `json:"groups,omitempty"`
}

// Search is regex_search's structured result.
type Search struct {
	Matches   []Match `json:"matches"`
	Count     int     `json:"count"`
	Truncated bool    `json:"truncated"`
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

func regexSearch(a args) (result, error) {
	if err := a.check("pattern", "text", "limit"); err != nil {
		return result{}, err
	}
	pattern, err := a.str("pattern")
	if err != nil {
		return result{}, err
	}
	text, err := a.str("text")
	if err != nil {
		return result{}, err
	}
	limit, err := a.integer("limit", defaultLimit, 1, maxLimit)
	if err != nil {
		return result{}, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		var perr *syntax.Error
		if errors.As(err, &perr) {
			return result{}, errorf("invalid regular expression %q: %s: %q", pattern, perr.Code, perr.Expr)
		}
		return result{}, errorf("invalid regular expression %q: %v", pattern, err)
	}
	s := search(re, text, limit)
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
	return result{Content: []content{{Type: "text", Text: b.String()}}, StructuredContent: s}, nil
}
