package capability

import (
	"maps"
	"slices"
)

// Named offers map names to values, such as environment variables and
// secrets: a module asks for names, the operator offers values for names.
// The functions below are what such capabilities share.

// UnionNamed is Union for named offers: the names of either, b's value
// where both offer one.
func UnionNamed[M ~map[string]string](a, b M) M {
	out := maps.Clone(a)
	if out == nil {
		out = M{}
	}
	maps.Copy(out, b)
	return out
}

// NarrowNamed is Narrow for named offers: the tool's names that the module
// offers, with the module's values.
func NarrowNamed[M ~map[string]string](module, tool M) M {
	out := M{}
	for k := range tool {
		if v, ok := module[k]; ok {
			out[k] = v
		}
	}
	return out
}

// GrantNamed intersects asked names with an offer, in name order: an
// offered name the module did not ask for is reported through c.Warn with
// notAsked (a format taking the name), and each granted name's value is
// value(name, offered value). It returns nil when nothing is granted.
func GrantNamed[M ~map[string]string](asked []string, offered M, c *Context, notAsked string, value func(name, v string) (string, error)) (map[string]string, error) {
	var out map[string]string
	for _, name := range slices.Sorted(maps.Keys(offered)) {
		if !slices.Contains(asked, name) {
			c.Warn(notAsked, name)
			continue
		}
		v, err := value(name, offered[name])
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = v
	}
	return out, nil
}

// ReportNamed is the report line of a named capability: the names asked
// for and the names granted.
func ReportNamed(name string, asked []string, granted map[string]string) []Line {
	return []Line{{Capability: name, Requested: Listed(asked), Granted: Listed(slices.Sorted(maps.Keys(granted)))}}
}
