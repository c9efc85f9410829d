package security

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/abi"
)

// TestServeLoadAndFault runs the load-and-fault mix against the real
// binary: `wasmgate serve --http` as a subprocess with many modules, a
// memory budget (--max-memory) smaller than what the clients' concurrent
// calls could take, and hostile calls that each try to use everything they
// may (memory, tables, CPU, output, host calls). It reports the server's
// peak resident memory against the budget and fails if the peak is past the
// budget plus what the server needs on its own, if any good call is
// answered wrongly or lost, or if any hostile call is not a tool error.
// Good calls that time out or are refused as busy while the server is
// saturated are counted and reported, not failed: how many there are
// depends on the machine's speed.
func TestServeLoadAndFault(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	const (
		calls       = 1500
		concurrency = 32
		copies      = 8 // modules serving the good tool
		maxMemory   = 256 << 20
	)
	dir := t.TempDir()
	bin := filepath.Join(dir, "wasmgate")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/wasmgate").CombinedOutput(); err != nil {
		t.Fatalf("build wasmgate: %v\n%s", err, out)
	}
	mods := filepath.Join(dir, "modules")
	if err := os.Mkdir(mods, 0o755); err != nil {
		t.Fatal(err)
	}
	hash, err := os.ReadFile("../guests/c/hash/hash.wasm")
	if err != nil {
		t.Fatal(err)
	}
	for i := range copies {
		writeRenamed(t, hash, fmt.Sprintf("hash%d", i), filepath.Join(mods, fmt.Sprintf("hash%d.wasm", i)))
	}
	hostile := []string{"loop", "memgrow", "flood", "bulkfill", "tablegrow", "tablehuge", "stderrvec", "randflood", "recurse", "sleep"}
	for _, h := range hostile {
		b, err := os.ReadFile(hostileDir + h + ".wasm")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mods, h+".wasm"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.Command(bin, "serve", "--http", "127.0.0.1:0",
		"--max-memory", strconv.Itoa(maxMemory>>20)+"MiB", "--max-concurrency", "8", "--queue-timeout", "1m",
		"--memory", "32MiB", "--timeout", "250ms", "--output", "256KiB", mods)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	url := serverURL(t, stderr)
	pid := cmd.Process.Pid
	rssBefore := statusKiB(t, pid, "VmRSS:")

	ctx := context.Background()
	var (
		next, good, hostileN, timedOut, busy atomic.Int64
		wg                                   sync.WaitGroup
		errs                                 = make(chan error, calls)
	)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "load"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "/mcp"}, nil)
			if err != nil {
				errs <- fmt.Errorf("connect: %v", err)
				return
			}
			defer cs.Close()
			for {
				i := next.Add(1) - 1
				if i >= calls {
					return
				}
				if i%10 == 3 {
					name := hostile[int(i/10)%len(hostile)]
					res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name})
					if err != nil || !res.IsError {
						errs <- fmt.Errorf("hostile call %d (%s): err=%v result=%s", i, name, err, resultText(res))
					}
					hostileN.Add(1)
					continue
				}
				text := "call " + strconv.FormatInt(i, 10)
				tool := fmt.Sprintf("hash%d_sha256", i%copies)
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{"text": text}})
				switch a, err := judgeGood(i, text, res, err); a {
				case answerRight:
					good.Add(1)
				case answerTimedOut:
					timedOut.Add(1)
				case answerBusy:
					busy.Add(1)
				default:
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	reportErrors(t, errs)
	peak := statusKiB(t, pid, "VmHWM:")
	t.Logf("%d good calls answered correctly, %d timed out and %d refused as busy while saturated; %d hostile calls contained", good.Load(), timedOut.Load(), busy.Load(), hostileN.Load())
	t.Logf("server RSS %d MiB after start, peak %d MiB, --max-memory %d MiB", rssBefore>>10, peak>>10, maxMemory>>20)
	if good.Load()+timedOut.Load()+busy.Load() != calls-calls/10 {
		t.Errorf("%d good calls accounted for, want %d", good.Load()+timedOut.Load()+busy.Load(), calls-calls/10)
	}
	// The calls' guest memory is inside the budget; the Go heap around it
	// (result copies, buffers, sessions) and the garbage collector's slack
	// get another budget's worth.
	if limit := rssBefore + 2*maxMemory>>10; peak > limit {
		t.Errorf("peak RSS %d MiB is over %d MiB: the budget of %d MiB did not bound the calls", peak>>10, limit>>10, maxMemory>>20)
	}

	// The server still serves, and stops cleanly.
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "after"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "hash0_sha256", Arguments: map[string]any{"text": "abc"}})
	if err != nil || !strings.HasPrefix(resultText(res), "ba7816bf") {
		t.Fatalf("call after the load: %v %s", err, resultText(res))
	}
	cs.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err != nil {
		t.Errorf("serve exited with %v after SIGTERM", err)
	}
	exited <- nil // for the cleanup
}

// serverURL reads serve's stderr until it prints its URL, then drains it.
func serverURL(t *testing.T, stderr interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	urlRE := regexp.MustCompile(`streamable HTTP\s+(http://\S+)/mcp`)
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return m[1]
		}
	}
	t.Fatalf("serve printed no URL:\n%s", strings.Join(lines, "\n"))
	return ""
}

// writeRenamed writes wasm, a packed module, under another module name.
func writeRenamed(t *testing.T, wasm []byte, name, path string) {
	t.Helper()
	raw, err := abi.ExtractManifest(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["name"] = name
	b, _ := json.Marshal(m)
	packed, err := abi.EmbedManifest(wasm, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, packed, 0o644); err != nil {
		t.Fatal(err)
	}
}

// statusKiB reads a field of /proc/PID/status in KiB.
func statusKiB(t *testing.T, pid int, key string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc/%d/status: %v", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	t.Skipf("no %s in /proc/%d/status", key, pid)
	return 0
}
