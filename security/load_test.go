package security

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

const hostileDir = "../guests/testdata/hostile/"

// TestLoadAndFault makes 5,000 calls at concurrency 64 over a real MCP
// client, one in ten to a hostile guest (loops, sleeps, memory and output
// bombs, traps, bad exits, host-function misuse, bad output). No good call
// may be answered wrongly or lost (one that timed out while the machine was
// saturated is reported, since that depends on the machine), every hostile
// one must be a tool error, the process's memory must stay bounded and no
// goroutine may be left.
func TestLoadAndFault(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	const (
		calls       = 5000
		concurrency = 64
	)
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir("").WithMaxConcurrency(concurrency))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	hostile := []string{"loop", "sleep", "memgrow", "flood", "stderrflood", "recurse", "trap", "exit3", "misuse", "badoutput"}
	var mods []*runtime.Module
	for _, path := range append([]string{"../guests/c/hash/hash.wasm"}, prefixed(hostile)...) {
		m, err := rt.Load(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, m)
	}

	goroutinesBefore := goruntime.NumGoroutine()
	rssBefore := rssKiB(t)

	srv, _, err := server.New(nil, mods, &server.Options{
		// Short limits keep the hostile calls short; the good calls need little.
		Limits: runtime.Limits{Timeout: 250 * time.Millisecond, Memory: 16 << 20, Output: 256 << 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "load"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}

	var (
		next, good, bad, saturated atomic.Int64
		wg                         sync.WaitGroup
		errs                       = make(chan error, calls)
	)
	began := time.Now()
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= calls {
					return
				}
				if i%10 == 3 {
					name := hostile[int(i/10)%len(hostile)]
					res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name})
					if err != nil || !res.IsError {
						errs <- fmt.Errorf("hostile call %d (%s): err=%v result=%+v", i, name, err, res)
					}
					bad.Add(1)
					continue
				}
				text := "call " + strconv.FormatInt(i, 10)
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sha256", Arguments: map[string]any{"text": text}})
				switch a, err := judgeGood(i, text, res, err); a {
				case answerRight:
					good.Add(1)
				case answerTimedOut, answerBusy:
					saturated.Add(1) // the machine was too busy: reported, not failed
				default:
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	reportErrors(t, errs)
	t.Logf("%d good calls answered correctly and %d timed out or refused while the machine was saturated; %d hostile calls contained; %v", good.Load(), saturated.Load(), bad.Load(), time.Since(began).Round(time.Millisecond))
	if good.Load()+saturated.Load() != calls-calls/10 {
		t.Errorf("%d good calls accounted for, want %d: some were lost", good.Load()+saturated.Load(), calls-calls/10)
	}

	cs.Close()
	ss.Wait()

	// Memory: 64 calls at most run at once, each bounded to 16 MiB of guest
	// memory; the peak must stay well under what unbounded bombs would take.
	peak := peakRSSKiB(t)
	t.Logf("RSS %d MiB before, peak %d MiB", rssBefore>>10, peak>>10)
	if peak-rssBefore > 1<<20 {
		t.Errorf("peak RSS grew by %d MiB during the run, want under 1 GiB", (peak-rssBefore)>>10)
	}
	// Goroutines: everything the calls started has ended.
	deadline := time.Now().Add(time.Minute)
	for goruntime.NumGoroutine() > goroutinesBefore+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if g := goruntime.NumGoroutine(); g > goroutinesBefore+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after: leaked\n%s", goroutinesBefore, g, buf[:goruntime.Stack(buf, true)])
	}
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = hostileDir + n + ".wasm"
	}
	return out
}

// rssKiB and peakRSSKiB read the process's resident set (VmRSS, VmHWM).
func rssKiB(t *testing.T) int64     { return procStatus(t, "VmRSS:") }
func peakRSSKiB(t *testing.T) int64 { return procStatus(t, "VmHWM:") }

func procStatus(t *testing.T, key string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	t.Skipf("no %s in /proc/self/status", key)
	return 0
}

// resultText is the text of a result's text items.
func resultText(res *mcp.CallToolResult) string {
	if res == nil {
		return "<nil>"
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// answer is how a good call of sha256 was answered.
type answer int

const (
	answerRight answer = iota
	// answerTimedOut and answerBusy depend on how busy the machine was:
	// load tests report them.
	answerTimedOut
	answerBusy
	// answerWrong is never allowed: a protocol error, another failure or
	// a wrong digest.
	answerWrong
)

// judgeGood sorts the answer to good call i, sha256 of text; for
// answerWrong the error says what was wrong.
func judgeGood(i int64, text string, res *mcp.CallToolResult, err error) (answer, error) {
	switch {
	case err != nil:
		return answerWrong, fmt.Errorf("good call %d: protocol error %v", i, err)
	case res.IsError && strings.HasSuffix(resultText(res), "try again later"):
		return answerBusy, nil
	case res.IsError && strings.Contains(resultText(res), "did not finish within its time limit"):
		return answerTimedOut, nil
	case res.IsError:
		return answerWrong, fmt.Errorf("good call %d failed: %s", i, resultText(res))
	}
	sum := sha256.Sum256([]byte(text))
	if got := resultText(res); got != hex.EncodeToString(sum[:]) {
		return answerWrong, fmt.Errorf("good call %d answered %q", i, got)
	}
	return answerRight, nil
}

// reportErrors fails the test with the first ten errors and a count of the
// rest.
func reportErrors(t *testing.T, errs <-chan error) {
	t.Helper()
	n := 0
	for err := range errs {
		if n++; n <= 10 {
			t.Error(err)
		}
	}
	if n > 10 {
		t.Errorf("... and %d more failures", n-10)
	}
}
