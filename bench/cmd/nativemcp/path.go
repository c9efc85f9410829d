package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// step is one path step: a member name, an index, or every element.
type step struct {
	kind  int // stepKey, stepIndex, stepAll
	key   string
	index int
}

const (
	stepKey = iota
	stepIndex
	stepAll
)

func (s step) String() string {
	switch s.kind {
	case stepKey:
		if isIdent(s.key) {
			return "." + s.key
		}
		b, _ := json.Marshal(s.key)
		return "[" + string(b) + "]"
	case stepIndex:
		return "[" + strconv.Itoa(s.index) + "]"
	}
	return "[]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '-')) {
			return false
		}
	}
	return true
}

// parsePath parses . .a .a.b .a[0] .a[] .["k"] [1] .a[-1].
func parsePath(p string) ([]step, error) {
	p = strings.TrimSpace(p)
	if p == "" || p == "." {
		return nil, nil
	}
	var steps []step
	i := 0
	for i < len(p) {
		switch {
		case p[i] == '.' && i+1 < len(p) && p[i+1] == '[':
			i++ // ".[...]" is the same as "[...]"
		case p[i] == '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			name := p[i+1 : j]
			if !isIdent(name) {
				return nil, fmt.Errorf("at offset %d: %q is not a member name (quote it: .[\"%s\"])", i, name, name)
			}
			steps = append(steps, step{kind: stepKey, key: name})
			i = j
		case p[i] == '[':
			end := strings.IndexByte(p[i:], ']')
			if p[i+1:] != "" && p[i+1] == '"' {
				// A quoted key may hold ']': find the closing quote first.
				var key string
				dec := json.NewDecoder(strings.NewReader(p[i+1:]))
				if err := dec.Decode(&key); err != nil {
					return nil, fmt.Errorf("at offset %d: bad quoted key: %v", i, err)
				}
				j := i + 1 + int(dec.InputOffset())
				if j >= len(p) || p[j] != ']' {
					return nil, fmt.Errorf("at offset %d: expected ] after the quoted key", j)
				}
				steps = append(steps, step{kind: stepKey, key: key})
				i = j + 1
				continue
			}
			if end < 0 {
				return nil, fmt.Errorf("at offset %d: missing ]", i)
			}
			inner := strings.TrimSpace(p[i+1 : i+end])
			if inner == "" {
				steps = append(steps, step{kind: stepAll})
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil {
					return nil, fmt.Errorf("at offset %d: [%s] is not an index (use [N], [] or [\"key\"])", i, inner)
				}
				steps = append(steps, step{kind: stepIndex, index: n})
			}
			i += end + 1
		default:
			return nil, fmt.Errorf("at offset %d: unexpected %q (a path is made of .name, [N], [] and [\"key\"])", i, p[i])
		}
	}
	return steps, nil
}

// decode parses one JSON document, keeping numbers exact.
func decode(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more than one value")
	}
	return v, nil
}

// eval applies steps to v and returns every value selected.
func eval(steps []step, v any) ([]any, error) {
	cur := []any{v}
	where := "."
	for _, s := range steps {
		var next []any
		for _, x := range cur {
			switch s.kind {
			case stepKey:
				switch o := x.(type) {
				case map[string]any:
					next = append(next, o[s.key]) // missing: null
				case nil:
					next = append(next, nil)
				default:
					return nil, fmt.Errorf("cannot take member %q of %s at %s", s.key, kind(x), where)
				}
			case stepIndex:
				switch a := x.(type) {
				case []any:
					i := s.index
					if i < 0 {
						i += len(a)
					}
					if i < 0 || i >= len(a) {
						next = append(next, nil)
					} else {
						next = append(next, a[i])
					}
				case nil:
					next = append(next, nil)
				default:
					return nil, fmt.Errorf("cannot index %s with [%d] at %s", kind(x), s.index, where)
				}
			case stepAll:
				switch a := x.(type) {
				case []any:
					next = append(next, a...)
				case map[string]any:
					for _, k := range sortedKeys(a) {
						next = append(next, a[k])
					}
				default:
					return nil, fmt.Errorf("cannot iterate over %s at %s", kind(x), where)
				}
			}
		}
		cur = next
		if where == "." {
			where = ""
		}
		where += s.String()
	}
	return cur, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // document order is lost in a map; sorted is stable
	return keys
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

func indent(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}
