package sdk

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// schemaFor derives a JSON Schema (2020-12) from a Go type, following
// encoding/json's rules: exported fields named by their json tag, "-"
// skipped, embedded structs flattened. Struct field tags add to it:
//
//	jsonschema:"..."  the description
//	default:"..."     the default, a JSON literal (100, "x", true)
//	enum:"a,b,c"      allowed values (of the field's type)
//	minimum:"N"       and maximum:"N" for numbers
//
// For arguments (input true) a field is required unless it is a pointer,
// has omitempty/omitzero or a default, and objects refuse unknown
// properties. For results a field is required unless omitempty/omitzero.
func schemaFor(t reflect.Type, input bool) (map[string]any, error) {
	return typeSchema(t, input, map[reflect.Type]bool{})
}

var (
	timeType   = reflect.TypeFor[time.Time]()
	rawType    = reflect.TypeFor[json.RawMessage]()
	bytesType  = reflect.TypeFor[[]byte]()
	anyType    = reflect.TypeFor[any]()
	marshalerT = reflect.TypeFor[json.Marshaler]()
)

func typeSchema(t reflect.Type, input bool, seen map[reflect.Type]bool) (map[string]any, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}, nil
	case rawType, anyType:
		return map[string]any{}, nil
	case bytesType:
		return map[string]any{"type": "string", "contentEncoding": "base64"}, nil
	}
	if t.Implements(marshalerT) || reflect.PointerTo(t).Implements(marshalerT) {
		return map[string]any{}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}, nil
	case reflect.Bool:
		return map[string]any{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return map[string]any{"type": "integer", "minimum": 0.0}, nil
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}, nil
	case reflect.Slice, reflect.Array:
		items, err := typeSchema(t.Elem(), input, seen)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key type %s: JSON object keys are strings", t.Key())
		}
		vals, err := typeSchema(t.Elem(), input, seen)
		if err != nil {
			return nil, err
		}
		return map[string]any{"type": "object", "additionalProperties": vals}, nil
	case reflect.Interface:
		return map[string]any{}, nil
	case reflect.Struct:
		if seen[t] {
			return nil, fmt.Errorf("type %s refers to itself, which the schema generator does not support", t)
		}
		seen[t] = true
		defer delete(seen, t)
		props := map[string]any{}
		required := []string{}
		if err := structFields(t, input, seen, props, &required); err != nil {
			return nil, err
		}
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		if input {
			s["additionalProperties"] = false
		}
		return s, nil
	}
	return nil, fmt.Errorf("type %s has no JSON form", t)
}

func structFields(t reflect.Type, input bool, seen map[reflect.Type]bool, props map[string]any, required *[]string) error {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := structFields(ft, input, seen, props, required); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s, err := typeSchema(f.Type, input, seen)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		if d := f.Tag.Get("jsonschema"); d != "" {
			s["description"] = d
		}
		if d, ok := f.Tag.Lookup("default"); ok {
			var v any
			if err := json.Unmarshal([]byte(d), &v); err != nil {
				return fmt.Errorf("field %s: default %q is not a JSON literal", f.Name, d)
			}
			s["default"] = v
		}
		if e, ok := f.Tag.Lookup("enum"); ok {
			var vals []any
			for _, item := range strings.Split(e, ",") {
				if s["type"] == "string" {
					vals = append(vals, item)
					continue
				}
				var v any
				if err := json.Unmarshal([]byte(item), &v); err != nil {
					return fmt.Errorf("field %s: enum value %q is not a JSON literal", f.Name, item)
				}
				vals = append(vals, v)
			}
			s["enum"] = vals
		}
		for _, k := range []string{"minimum", "maximum"} {
			if v, ok := f.Tag.Lookup(k); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return fmt.Errorf("field %s: %s %q is not a number", f.Name, k, v)
				}
				s[k] = n
			}
		}
		props[name] = s
		optional := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
		if input {
			_, hasDefault := s["default"]
			optional = optional || hasDefault || f.Type.Kind() == reflect.Pointer
		}
		if !optional {
			*required = append(*required, name)
		}
	}
	return nil
}
