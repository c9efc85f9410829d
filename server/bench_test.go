package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// benchServerEnv makes the test binary serve the benchmark server on stdio
// instead of running tests: BenchmarkCall/stdio starts it as a subprocess.
const benchServerEnv = "WASMGATE_BENCH_SERVER"

// benchText is the argument of every benchmarked call: 1 KiB of words.
var benchText = strings.Repeat("the quick brown fox jumps over a lazy dog\n", 25)[:1024]

// newBenchServer serves the wasm tools sha256 (C) and word_count (Go) and,
// on the same server, native Go tools doing the same work with the same
// schemas, registered the usual go-sdk way: the floor a wasm tool is
// measured against.
func newBenchServer(mods []*runtime.Module) (*mcp.Server, error) {
	s := mcp.NewServer(&mcp.Implementation{Name: "bench"}, nil)
	if _, err := server.Add(s, mods, nil); err != nil {
		return nil, err
	}
	schemas := map[string]*mcp.Tool{}
	for _, m := range mods {
		for _, t := range m.Manifest().Tools {
			schemas[t.Name] = &mcp.Tool{Name: "native_" + t.Name, InputSchema: t.InputSchema, OutputSchema: t.OutputSchema}
		}
	}
	type textArg struct {
		Text string `json:"text"`
	}
	type digest struct {
		SHA256 string `json:"sha256"`
	}
	type counts struct {
		Words      int `json:"words"`
		Lines      int `json:"lines"`
		Characters int `json:"characters"`
		Bytes      int `json:"bytes"`
	}
	mcp.AddTool(s, schemas["sha256"], func(_ context.Context, _ *mcp.CallToolRequest, in textArg) (*mcp.CallToolResult, digest, error) {
		sum := sha256.Sum256([]byte(in.Text))
		return nil, digest{hex.EncodeToString(sum[:])}, nil
	})
	mcp.AddTool(s, schemas["word_count"], func(_ context.Context, _ *mcp.CallToolRequest, in textArg) (*mcp.CallToolResult, counts, error) {
		lines := strings.Count(in.Text, "\n")
		if in.Text != "" && !strings.HasSuffix(in.Text, "\n") {
			lines++
		}
		return nil, counts{len(strings.Fields(in.Text)), lines, utf8.RuneCountInString(in.Text), len(in.Text)}, nil
	})
	return s, nil
}

func benchModules(ctx context.Context, rt *runtime.Runtime) ([]*runtime.Module, error) {
	var mods []*runtime.Module
	for _, name := range []string{"hash", "textstats"} {
		m, err := rt.Load(ctx, modulePaths[name])
		if err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// runBenchServer is the subprocess side of BenchmarkCall/stdio.
func runBenchServer() int {
	ctx := context.Background()
	rt, err := runtime.New(ctx, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer rt.Close(ctx)
	mods, err := benchModules(ctx, rt)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s, err := newBenchServer(mods)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Run(ctx, &mcp.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// BenchmarkCall measures one tools/call end to end through a go-sdk client:
// request encoding, transport, argument validation, the tool, output
// validation and the answer. Compare each wasm tool with native_<tool>, the
// same work in Go on the same server and transport.
func BenchmarkCall(b *testing.B) {
	ctx := context.Background()
	transports := []struct {
		name    string
		connect func(b *testing.B, s *mcp.Server) mcp.Transport
	}{
		{"inmemory", func(b *testing.B, s *mcp.Server) mcp.Transport {
			st, ct := mcp.NewInMemoryTransports()
			ss, err := s.Connect(ctx, st, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { ss.Close() })
			return ct
		}},
		{"stdio", func(b *testing.B, _ *mcp.Server) mcp.Transport {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), benchServerEnv+"=1")
			cmd.Stderr = os.Stderr
			return &mcp.CommandTransport{Command: cmd}
		}},
		{"http", func(b *testing.B, s *mcp.Server) mcp.Transport {
			h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
			hs := httptest.NewServer(h)
			b.Cleanup(hs.Close)
			return &mcp.StreamableClientTransport{Endpoint: hs.URL}
		}},
	}
	s, err := newBenchServer(modules(b, "hash", "textstats"))
	if err != nil {
		b.Fatal(err)
	}
	args := map[string]any{"text": benchText}
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench-client"}, nil).Connect(ctx, tr.connect(b, s), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer cs.Close()
			for _, tool := range []string{"sha256", "native_sha256", "word_count", "native_word_count"} {
				b.Run(tool, func(b *testing.B) {
					params := &mcp.CallToolParams{Name: tool, Arguments: args}
					check := func() {
						res, err := cs.CallTool(ctx, params)
						if err != nil {
							b.Fatal(err)
						}
						if res.IsError {
							b.Fatalf("%s: %s", tool, text(res))
						}
						data, _ := json.Marshal(res.StructuredContent)
						if !strings.Contains(string(data), sha256Hex(benchText)) && !strings.Contains(string(data), fmt.Sprintf(`"words":%d`, len(strings.Fields(benchText)))) {
							b.Fatalf("%s: unexpected answer %s", tool, data)
						}
					}
					check() // warm up, and prove the answer right
					for b.Loop() {
						if _, err := cs.CallTool(ctx, params); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkQuestions: a tool that asks the user twice, answered at once by
// the client. Up to 2025-11-25 both questions are requests while one run
// of the guest waits; on 2026-07-28 the call takes three requests and three
// runs of the guest (two input-required results, then the answer), so this
// is the price of replaying. The guest is the Go conformance module, whose
// runs cost about 4 ms each.
func BenchmarkQuestions(b *testing.B) {
	for _, version := range []string{"2025-11-25", "2026-07-28"} {
		b.Run(version, func(b *testing.B) {
			s, _, err := server.New(nil, modules(b, "conftools"), surfaceOptions())
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			st, ct := mcp.NewInMemoryTransports()
			ss, err := s.Connect(ctx, st, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ss.Close()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, (&answering{}).options()).Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				b.Fatal(err)
			}
			defer cs.Close()
			for b.Loop() {
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_input_required_result_multi_round"})
				if err != nil || res.IsError {
					b.Fatalf("%v %+v", err, res)
				}
			}
		})
	}
}
