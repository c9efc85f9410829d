package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func call(t *testing.T, tool string, arguments string) (result map[string]any, logs []string) {
	t.Helper()
	in := `{"method":"tools/call","params":{"name":"` + tool + `","arguments":` + arguments + `}}`
	var out bytes.Buffer
	err := serve(strings.NewReader(in), &out, func(level uint32, msg string) {
		if level != levelDebug {
			t.Errorf("log level %d, want debug", level)
		}
		logs = append(logs, msg)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &result); err != nil {
		t.Fatalf("output is not JSON: %v: %s", err, out.Bytes())
	}
	return result, logs
}

func TestCountText(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Stats
	}{
		{"", Stats{0, 0, 0, 0}},
		{"one", Stats{1, 1, 3, 3}},
		{"héllo  world\nfoo\n", Stats{3, 2, 17, 18}},
		{"\n\n", Stats{0, 2, 2, 2}},
		{"a\nb", Stats{2, 2, 3, 3}},
	} {
		if got := countText(tc.text); got != tc.want {
			t.Errorf("countText(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

func TestSearch(t *testing.T) {
	s := search(regexp.MustCompile(`(\w+)@(\w+)?`), "héllo bob@x\nand al@ z@q", 2)
	if !s.Truncated || s.Count != 2 {
		t.Fatalf("got %+v", s)
	}
	want := []Match{
		{Line: 1, Column: 7, Match: "bob@x", Groups: []string{"bob", "x"}},
		{Line: 2, Column: 5, Match: "al@", Groups: []string{"al", ""}},
	}
	for i, m := range s.Matches {
		if m.Line != want[i].Line || m.Column != want[i].Column || m.Match != want[i].Match || strings.Join(m.Groups, ",") != strings.Join(want[i].Groups, ",") {
			t.Errorf("match %d = %+v, want %+v", i, m, want[i])
		}
	}
}

func TestCalls(t *testing.T) {
	res, logs := call(t, "word_count", `{"text":"a b c"}`)
	if res["isError"] != false || res["structuredContent"].(map[string]any)["words"] != 3.0 {
		t.Errorf("word_count: %v", res)
	}
	if len(logs) != 1 || logs[0] != "word_count" {
		t.Errorf("logs = %q", logs)
	}
	res, _ = call(t, "regex_search", `{"pattern":"b+","text":"abbc\nb"}`)
	sc := res["structuredContent"].(map[string]any)
	if res["isError"] != false || sc["count"] != 2.0 || sc["truncated"] != false {
		t.Errorf("regex_search: %v", res)
	}
	for _, tc := range []struct{ tool, args, want string }{
		{"regex_search", `{"pattern":"(","text":"x"}`, "invalid regular expression"},
		{"regex_search", `{"pattern":"x","text":"x","limit":0}`, `"limit" must be between`},
		{"word_count", `{}`, `missing required argument "text"`},
		{"word_count", `{"text":1}`, `"text" must be a string`},
		{"word_count", `{"text":"","other":1}`, `unknown argument "other"`},
		{"word_count", `[]`, "arguments must be a JSON object"},
		{"no_such_tool", `{}`, `unknown tool "no_such_tool"`},
	} {
		res, _ := call(t, tc.tool, tc.args)
		text := res["content"].([]any)[0].(map[string]any)["text"].(string)
		if res["isError"] != true || !strings.Contains(text, tc.want) {
			t.Errorf("%s %s: got %v, want an error containing %q", tc.tool, tc.args, res, tc.want)
		}
	}
}
