// Command hostcheck is a test module for the Go SDK: one tool per host
// function wrapper, answering with what the wrapper returned, and one that
// returns each kind of result.
package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// Args select an operation and its inputs.
type Args struct {
	Op    string `json:"op" enum:"log,progress,http,kv,secret,image,error,structured" jsonschema:"What to exercise."`
	URL   string `json:"url,omitempty"`
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
	Name  string `json:"name,omitempty"`
}

// codes names the sentinel an error matches with errors.Is.
func codes(err error) string {
	for name, s := range map[string]error{"invalid": sdk.ErrInvalid, "denied": sdk.ErrDenied, "failed": sdk.ErrFailed,
		"too_large": sdk.ErrTooLarge, "not_found": sdk.ErrNotFound, "cancelled": sdk.ErrCancelled} {
		if errors.Is(err, s) {
			return name
		}
	}
	return "none"
}

func check(ctx context.Context, a Args) (*sdk.Result, error) {
	switch a.Op {
	case "log":
		sdk.Log(sdk.LevelWarning, "a warning")
		sdk.Logf(sdk.LevelDebug, "debug %d", 42)
		return sdk.Text("logged"), nil
	case "progress":
		for i := 1; i <= 3; i++ {
			sdk.Progress(float64(i), 3, fmt.Sprintf("step %d", i))
		}
		return sdk.Textf("token %v", sdk.Meta(ctx)["progressToken"]), nil
	case "http":
		resp, err := sdk.HTTP(sdk.HTTPRequest{Method: "POST", URL: a.URL, Headers: map[string]string{"X-Test": "1"}, Body: []byte(a.Value)})
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		return sdk.Textf("status %d url %s type %s body %s", resp.Status, resp.URL, resp.Headers["Content-Type"], resp.Body), nil
	case "kv":
		var out []string
		step := func(what string, err error) {
			if err != nil {
				out = append(out, what+": "+codes(err))
			} else {
				out = append(out, what+": ok")
			}
		}
		step("set", sdk.KVSet(a.Key, []byte(a.Value)))
		v, err := sdk.KVGet(a.Key)
		step("get "+string(v), err)
		keys, err := sdk.KVKeys("")
		step("keys "+strings.Join(keys, ","), err)
		step("delete", sdk.KVDelete(a.Key))
		_, err = sdk.KVGet(a.Key)
		step("get again", err)
		_, _, err = sdk.KVList(strings.Repeat("k", 2000), "")
		step("list long prefix", err)
		return sdk.Text(strings.Join(out, "; ")), nil
	case "secret":
		v, err := sdk.Secret(a.Name)
		if err != nil {
			return sdk.Textf("error %s: %v", codes(err), err), nil
		}
		return sdk.Textf("secret has %d bytes", len(v)), nil
	case "image":
		r := sdk.ImageResult([]byte("\x89PNG fake"), "image/png")
		r.Content = append(r.Content, sdk.Text("caption").Content...)
		return r, nil
	case "structured":
		return sdk.Structured(map[string]int{"n": 7}, "seven")
	case "error":
		return nil, sdk.Errorf("wrapped: %w", sdk.ErrNotFound)
	}
	return nil, sdk.Errorf("unknown op %q", a.Op)
}

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "hostcheck",
		Version:     "0.1.0",
		Description: "Test module: exercises every host function wrapper of the Go SDK.",
		Permissions: sdk.Permissions{Network: []string{"*.test"}, KV: true, Secrets: []string{"TOKEN"}},
	})
	sdk.Tool("check", check, sdk.Description("Run one SDK operation and report what it returned."))
}

func main() { sdk.Run() }
