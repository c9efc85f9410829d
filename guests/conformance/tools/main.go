// Command tools is the conformance-tools module: the tools the MCP
// conformance suite (@modelcontextprotocol/conformance) calls on a server
// under test, written with the Go SDK. Serve it with a policy that grants
// it sampling, elicitation and roots (guests/conformance/policy.yaml) and
// point the suite's server scenarios at the server. It is a reactor, so
// everything is registered in init.
package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"time"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// redPNG is a 1x1 red PNG.
const redPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="

func png() []byte {
	b, err := base64.StdEncoding.DecodeString(redPNG)
	if err != nil {
		panic(err)
	}
	return b
}

// wav is a minimal valid WAV file: PCM, mono, 16-bit, 8000 Hz, one sample
// of silence.
func wav() []byte {
	const rate, channels, bits, samples = 8000, 1, 16, 1
	data := samples * channels * bits / 8
	var b []byte
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(36+data))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16) // fmt chunk size
	b = le.AppendUint16(b, 1)  // PCM
	b = le.AppendUint16(b, channels)
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate*channels*bits/8) // byte rate
	b = le.AppendUint16(b, channels*bits/8)      // block align
	b = le.AppendUint16(b, bits)
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(data))
	return append(b, make([]byte, data)...)
}

// None is the argument type of the tools that take no arguments.
type None struct{}

// pause spaces out log messages and progress reports.
const pause = 50 * time.Millisecond

// reconnectAfter is how long test_reconnection runs.
const reconnectAfter = 1500 * time.Millisecond

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "conformance-tools",
		Version:     "0.1.0",
		Description: "The tools of the MCP conformance suite's server scenarios.",
		Permissions: sdk.Permissions{Sampling: true, Elicitation: true, Roots: true},
	})

	sdk.Tool("test_simple_text", func(ctx context.Context, _ None) (string, error) {
		return "This is a simple text response for testing.", nil
	}, sdk.Description("Returns a simple text response."))

	sdk.Tool("test_image_content", func(ctx context.Context, _ None) (*sdk.Result, error) {
		return sdk.NewResult(sdk.Image(png(), "image/png")), nil
	}, sdk.Description("Returns a 1x1 red PNG image."))

	sdk.Tool("test_audio_content", func(ctx context.Context, _ None) (*sdk.Result, error) {
		return sdk.NewResult(sdk.Audio(wav(), "audio/wav")), nil
	}, sdk.Description("Returns a short WAV audio clip of silence."))

	sdk.Tool("test_embedded_resource", func(ctx context.Context, _ None) (*sdk.Result, error) {
		return sdk.NewResult(sdk.EmbeddedResource(sdk.TextResource("test://embedded-resource", "text/plain", "This is an embedded resource content."))), nil
	}, sdk.Description("Returns an embedded text resource."))

	sdk.Tool("test_multiple_content_types", func(ctx context.Context, _ None) (*sdk.Result, error) {
		return sdk.NewResult(
			sdk.TextContent("Multiple content types test:"),
			sdk.Image(png(), "image/png"),
			sdk.EmbeddedResource(sdk.TextResource("test://mixed-content-resource", "application/json", `{"test":"data","value":123}`)),
		), nil
	}, sdk.Description("Returns a text, an image and an embedded resource."))

	sdk.Tool("test_tool_with_logging", func(ctx context.Context, _ None) (string, error) {
		sdk.Log(sdk.LevelInfo, "Tool execution started")
		time.Sleep(pause)
		sdk.Log(sdk.LevelInfo, "Tool processing data")
		time.Sleep(pause)
		sdk.Log(sdk.LevelInfo, "Tool execution completed")
		return "Logged three messages.", nil
	}, sdk.Description("Sends three log messages while it runs."))

	sdk.Tool("test_error_handling", func(ctx context.Context, _ None) (*sdk.Result, error) {
		return sdk.ErrorResult("This tool intentionally returns an error for testing"), nil
	}, sdk.Description("Always fails with a tool error (isError)."))

	sdk.Tool("test_tool_with_progress", func(ctx context.Context, _ None) (string, error) {
		sdk.Progress(0, 100, "started")
		time.Sleep(pause)
		sdk.Progress(50, 100, "halfway")
		time.Sleep(pause)
		sdk.Progress(100, 100, "done")
		return "Reported progress 0, 50 and 100 of 100.", nil
	}, sdk.Description("Reports progress three times while it runs."))

	// A long call, for the SSE polling scenario: served with --poll-after
	// shorter than this, the server closes its stream mid-call and the
	// client gets the result when it reconnects.
	sdk.Tool("test_reconnection", func(ctx context.Context, _ None) (string, error) {
		time.Sleep(reconnectAfter)
		return "The result of a call whose stream was closed and resumed.", nil
	}, sdk.Description("Runs for 1.5 seconds, so that a server that gives long calls' streams back (wasmgate serve --poll-after) closes its stream mid-call."))

	sdk.Tool("json_schema_2020_12_tool", func(ctx context.Context, a map[string]any) (string, error) {
		b, err := json.Marshal(a)
		if err != nil {
			return "", err
		}
		return "Received: " + string(b), nil
	}, sdk.Description("Takes arguments described by a JSON Schema 2020-12 schema ($defs, $anchor, allOf, anyOf, if/then/else) and echoes them."),
		sdk.InputSchema(json.RawMessage(schema202012)))

	// The first tool tools/list returns (go-sdk sorts by name), which the
	// header validation scenario calls with {}; its string argument carries
	// x-mcp-header, for the custom header scenario.
	sdk.Tool("echo_header", func(ctx context.Context, a struct {
		Region string `json:"region"`
	}) (string, error) {
		return "region=" + a.Region, nil
	}, sdk.Description("Echoes its region argument, which clients mirror into the Mcp-Param-Region header (x-mcp-header)."),
		sdk.InputSchema(json.RawMessage(`{"type":"object","properties":{"region":{"type":"string","description":"A region name, mirrored into the Mcp-Param-Region header.","x-mcp-header":"Region"}},"additionalProperties":false}`)))

	registerQuestions()
	registerInputRequired()
}

// schema202012 is the input schema of json_schema_2020_12_tool, served
// verbatim.
const schema202012 = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "$defs": {
    "address": {
      "$anchor": "addressDef",
      "type": "object",
      "properties": {
        "street": {"type": "string"},
        "city": {"type": "string"}
      }
    }
  },
  "properties": {
    "name": {"type": "string"},
    "address": {"$ref": "#/$defs/address"},
    "contactMethod": {"type": "string", "enum": ["phone", "email"]},
    "phone": {"type": "string"},
    "email": {"type": "string"}
  },
  "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
  "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
  "then": {"required": ["phone"]},
  "else": {"required": ["email"]},
  "additionalProperties": false
}`

func main() { sdk.Run() }
