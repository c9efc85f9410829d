package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// budgetFlags bound the calls of all modules together.
type budgetFlags struct {
	maxCalls     int
	maxMemory    budgetSize
	queueTimeout time.Duration
}

func (b *budgetFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&b.maxCalls, "max-concurrency", 0, fmt.Sprintf("how many calls of all modules together may run at once; more wait their turn, module by module (default %d: 8 per CPU, at least 16)", runtime.DefaultMaxCalls()))
	fs.Var(&b.maxMemory, "max-memory", fmt.Sprintf("memory `size` all running calls may reserve together; each reserves its --memory and --output limits before it starts (default %s: half of the cgroup's or the machine's memory)", abi.Size(runtime.DefaultMaxMemory())))
	fs.DurationVar(&b.queueTimeout, "queue-timeout", 0, fmt.Sprintf("how long a call waits for a free slot or room in --max-memory before it fails as busy (default %s)", runtime.DefaultQueueTimeout))
}

func (b *budgetFlags) check() error {
	if b.maxCalls < 0 {
		return fmt.Errorf("--max-concurrency must be at least 1, got %d", b.maxCalls)
	}
	if b.queueTimeout < 0 {
		return fmt.Errorf("--queue-timeout must be positive, got %s", b.queueTimeout)
	}
	return nil
}

func (b *budgetFlags) configure(cfg *runtime.Config) *runtime.Config {
	return cfg.WithMaxCalls(b.maxCalls).WithMaxMemory(abi.Size(b.maxMemory)).WithQueueTimeout(b.queueTimeout)
}

// budgetSize is a size flag without the per-call maximum of sizeFlag.
type budgetSize abi.Size

func (s *budgetSize) String() string {
	if *s == 0 {
		return ""
	}
	return abi.Size(*s).String()
}

func (s *budgetSize) Set(v string) error {
	n, err := abi.ParseSize(v)
	if err != nil {
		return err
	}
	if n < 1<<20 {
		return fmt.Errorf("%s is less than one call needs; give at least 1MiB", n)
	}
	*s = budgetSize(n)
	return nil
}

// setMemoryLimit gives the Go garbage collector a soft limit that follows
// the calls' budget, unless GOMEMLIMIT is set: the calls' guest memory lives
// on the Go heap, and without a limit the collector lets the heap grow to
// twice what is live before it runs. budget is the calls' memory budget;
// the server itself gets a quarter more, and 64MiB.
func setMemoryLimit(budget int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(budget + budget/4 + 64<<20)
}

// budget is the calls' memory budget these flags give.
func (b *budgetFlags) budget() int64 {
	if b.maxMemory > 0 {
		return int64(b.maxMemory)
	}
	return runtime.DefaultMaxMemory()
}
