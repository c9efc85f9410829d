package security

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// TestFloodingModuleDoesNotStarveOthers: a client floods one module with
// calls that each hold their slot until their time limit; with every slot
// of the server taken and the flood queued first, a call to another module
// is admitted at the next free slot, not after the whole flood, and is
// answered while the flood is still waiting. The order is the queue's, so
// the verdict does not depend on the machine's speed.
func TestFloodingModuleDoesNotStarveOthers(t *testing.T) {
	const (
		slots = 2
		flood = 12
	)
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir("").WithMaxCalls(slots).WithQueueTimeout(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	var mods []*runtime.Module
	for _, p := range []string{hostileDir + "loop.wasm", "../guests/c/hash/hash.wasm"} {
		m, err := rt.Load(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		mods = append(mods, m)
	}
	srv, _, err := server.New(nil, mods, &server.Options{Limits: runtime.Limits{Timeout: 300 * time.Millisecond, Memory: 16 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "flood"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	var (
		mu       sync.Mutex
		finished int // flood calls answered
		wg       sync.WaitGroup
	)
	for range flood {
		wg.Go(func() {
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "loop"})
			if err != nil || !res.IsError {
				t.Errorf("flood call: %v %+v", err, res)
			}
			mu.Lock()
			finished++
			mu.Unlock()
		})
	}
	// Every slot taken and the rest of the flood queued before the good
	// call comes.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		u := rt.Usage()
		if u.Running == slots && u.Waiting == flood-slots {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the flood never filled the server: %+v", u)
		}
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "sha256", Arguments: map[string]any{"text": "abc"}})
	if err != nil || res.IsError {
		t.Fatalf("good call during the flood: %v %+v", err, res)
	}
	mu.Lock()
	done := finished
	mu.Unlock()
	// Admitted in turn, the good call waited for a slot or two to free, not
	// for the flood (which would be 10 calls ended before it); a flood call
	// or two more may end while it runs.
	if done >= flood/2 {
		t.Errorf("the good call was answered after %d of %d flood calls: it waited behind the flood", done, flood)
	}
	wg.Wait()
}
