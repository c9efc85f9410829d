// Command jsonq is a wasmgate tool that queries a JSON document with a small
// path language: .items[0].name, .items[].id, .["odd key"], .[-1].
package main

import (
	"context"
	"strings"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// Args are the query tool's arguments.
type Args struct {
	JSON string `json:"json" jsonschema:"The JSON document to query."`
	Path string `json:"path" default:"\".\"" jsonschema:"The path: . is the whole document; .name or .[\"name\"] a member; [N] an array element (negative counts from the end); [] every element of an array (or value of an object). Steps chain: .items[].tags[0]."`
}

// Answer is the query tool's result.
type Answer struct {
	Values []any `json:"values" jsonschema:"Every value the path selects, in document order."`
	Count  int   `json:"count" jsonschema:"The number of values."`
}

// String shows each value as indented JSON, one after another.
func (a Answer) String() string {
	if a.Count == 0 {
		return "no values"
	}
	parts := make([]string, len(a.Values))
	for i, v := range a.Values {
		parts[i] = indent(v)
	}
	return strings.Join(parts, "\n")
}

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "jsonq",
		Version:     "0.1.0",
		Description: "Query JSON documents with a jq-like path, written in Go with the wasmgate SDK.",
	})
	sdk.Tool("query", func(ctx context.Context, a Args) (Answer, error) {
		steps, err := parsePath(a.Path)
		if err != nil {
			return Answer{}, sdk.Errorf("invalid path %q: %v", a.Path, err)
		}
		doc, err := decode(a.JSON)
		if err != nil {
			return Answer{}, sdk.Errorf("the json argument is not valid JSON: %v", err)
		}
		vals, err := eval(steps, doc)
		if err != nil {
			return Answer{}, sdk.Errorf("%v", err)
		}
		if vals == nil {
			vals = []any{}
		}
		return Answer{Values: vals, Count: len(vals)}, nil
	},
		sdk.Title("JSON Query"),
		sdk.Description("Select values from a JSON document with a jq-like path such as .items[0].name or .items[].id. A missing member gives null; indexing the wrong kind of value is an error naming where."),
		sdk.ReadOnly())
}

func main() { sdk.Run() }
