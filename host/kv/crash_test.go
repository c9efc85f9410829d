package kv

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/runtime"
)

// crashChildEnv, when set, makes TestAckedWritesSurviveKill the child: a
// process writing through the kv guest until it is killed.
const crashChildEnv = "WASMGATE_KV_CRASH_CHILD"

func crashValue(i int) string { return fmt.Sprintf("value-%06d-%s", i, strings.Repeat("x", i%200)) }

// crashChild opens the store in dir and, from key first on, sets keys
// through real guest calls, printing "acked N" once the guest has seen
// kv_set N succeed. It runs until it is killed.
func crashChild(dir string, first int) {
	s, err := Open(dir, &Options{LockTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	r, err := runtime.New(ctx, runtime.NewConfig().WithCacheDir("").WithHostFunctions(s.HostFuncs()...))
	if err != nil {
		fmt.Println("runtime:", err)
		os.Exit(2)
	}
	m, err := r.Load(ctx, kvWasm)
	if err != nil {
		fmt.Println("load:", err)
		os.Exit(2)
	}
	g := grant(1 << 30)
	fmt.Println("ready")
	for i := first; i < first+1_000_000; i++ {
		a, _ := json.Marshal(map[string]string{"op": "set", "key": fmt.Sprintf("k%06d", i), "value": crashValue(i)})
		out, err := m.Call(ctx, runtime.Call{Tool: "kv", Arguments: a, Grant: g})
		if err != nil || out.Err != nil || text(out.Result) != "ok 0\n" {
			fmt.Println("call failed:", err, out.Err)
			os.Exit(2)
		}
		if _, err := fmt.Printf("acked %d\n", i); err != nil {
			os.Exit(3) // the parent is gone
		}
	}
	os.Exit(0)
}

// Every write a guest saw acknowledged survives the writing process being
// killed with SIGKILL at a random moment, over several kills of the same
// store; the store reopens (the lock dies with the process) and its usage
// counter still matches its entries.
func TestAckedWritesSurviveKill(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		first, _ := strconv.Atoi(os.Getenv(crashChildEnv + "_FIRST"))
		crashChild(dir, first)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	next := 0 // the first key the next child writes
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAckedWritesSurviveKill$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashChildEnv+"_FIRST="+strconv.Itoa(next))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		acked := -1
		killAt := 50 + rand.IntN(150) // acks before the kill
		killed := false
		for lines.Scan() {
			line := lines.Text()
			if line == "ready" {
				continue
			}
			n, ok := strings.CutPrefix(line, "acked ")
			if !ok {
				t.Fatalf("round %d: the child said %q", round, line)
			}
			acked, _ = strconv.Atoi(n)
			if !killed && acked-next+1 >= killAt {
				// Kill at a random moment between acknowledgements,
				// often in the middle of a commit.
				time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: the child ended before it was killed: %v", round, err)
		}
		if acked < next {
			t.Fatalf("round %d: no write was acknowledged", round)
		}

		s, err := Open(dir, &Options{LockTimeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		for i := 0; i <= acked; i++ {
			v, err := s.Get(context.Background(), "kv", fmt.Appendf(nil, "k%06d", i))
			if err != nil || string(v) != crashValue(i) {
				t.Errorf("round %d: acknowledged write %d (of 0..%d) is lost: %q, %v", round, i, acked, v, err)
				break
			}
		}
		checkUsage(t, s, "kv")
		s.Close()
		t.Logf("round %d: %d writes acknowledged before the kill, all kept", round, acked-next+1)
		next = acked + 1
	}
}
