package capability

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/abi"
)

// Pair is a key and its value in a YAML mapping.
type Pair struct{ Key, Value *yaml.Node }

// Pairs lists the keys and values of a mapping node, following aliases and
// merge keys (<<) as a YAML decoder does: a key written in the mapping
// wins over a merged one. A null node has no pairs; any other kind of node
// is an error naming its line.
func Pairs(n *yaml.Node, what string) ([]Pair, error) {
	n = deref(n)
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: %s must be a mapping", n.Line, what)
	}
	var own, merged []Pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			srcs := []*yaml.Node{v}
			if dv := deref(v); dv != nil && dv.Kind == yaml.SequenceNode {
				srcs = dv.Content
			}
			for _, src := range srcs {
				ps, err := Pairs(src, what)
				if err != nil {
					return nil, err
				}
				merged = append(merged, ps...)
			}
			continue
		}
		own = append(own, Pair{k, v})
	}
	out := own
	for _, p := range merged {
		if !containsKey(out, p.Key.Value) {
			out = append(out, p)
		}
	}
	return out, nil
}

func containsKey(ps []Pair, k string) bool {
	for _, p := range ps {
		if p.Key.Value == k {
			return true
		}
	}
	return false
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return deref(n.Content[0])
	}
	return n
}

// DecodeYAML decodes n into v (a pointer) as strictly as a policy is read:
// a key that v's type does not declare is an error naming its line, as is
// a value of the wrong kind. what names the value in messages, such as
// "network".
func DecodeYAML(n *yaml.Node, v any, what string) error {
	if problems := checkKnown(n, reflect.TypeOf(v), what); len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	if err := n.Decode(v); err != nil {
		return CleanYAMLError(err)
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// checkKnown reports mapping keys that t does not declare.
func checkKnown(n *yaml.Node, t reflect.Type, what string) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		if t.Implements(unmarshalerType) {
			return nil // decodes (and checks) itself
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	var problems []string
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // the decoder reports the kind
		}
		fields := map[string]reflect.Type{}
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f.Type
		}
		ps, err := Pairs(n, what)
		if err != nil {
			return []string{err.Error()}
		}
		for _, p := range ps {
			ft, ok := fields[p.Key.Value]
			if !ok {
				problems = append(problems, fmt.Sprintf("line %d: field %s is not a known key in %s", p.Key.Line, p.Key.Value, what))
				continue
			}
			problems = append(problems, checkKnown(p.Value, ft, what+"."+p.Key.Value)...)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			problems = append(problems, checkKnown(n.Content[i+1], t.Elem(), what+"."+n.Content[i].Value)...)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, e := range n.Content {
			problems = append(problems, checkKnown(e, t.Elem(), fmt.Sprintf("%s[%d]", what, i))...)
		}
	}
	return problems
}

// CleanYAMLError makes a YAML decoder's error read as one line.
func CleanYAMLError(err error) error {
	msg := strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:\n", "")
	msg = strings.Join(strings.Fields(msg), " ")
	msg = strings.ReplaceAll(msg, "not found in type policy.", "is not a known key in ")
	return errors.New(msg)
}

// Size is an abi.Size read from YAML (64MiB, or a number of bytes), with
// the line in errors.
type Size abi.Size

// UnmarshalYAML parses a size.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := abi.ParseSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %v", n.Line, err)
	}
	*s = Size(v)
	return nil
}

// Join joins problems into one error, or returns nil when there are none.
func Join(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}
