package runtime

import (
	"log/slog"
	"maps"
	goruntime "runtime"
	"time"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
)

// Limits bound one call. A zero field means "not set here": see Resolve.
type Limits struct {
	// Memory caps the guest's linear memory. Default 128MiB.
	Memory abi.Size
	// Timeout is the wall-clock time a call may run, host calls included.
	// Default 10s.
	Timeout time.Duration
	// Output caps what the guest writes to stdout (its result). Default 4MiB.
	Output abi.Size
	// Stderr caps the guest's stderr kept as the call's log; past it the
	// oldest bytes are dropped (the tail is what explains a failure).
	// Default 64KiB.
	Stderr abi.Size
	// ClientWait is how long one sample, elicit or ask may wait for the
	// client's answer (a person may be typing it). That time does not count
	// against Timeout. Default 5m.
	ClientWait time.Duration
}

// Default limits. RATIONALE.md explains each value.
const (
	DefaultMemory         abi.Size      = 128 << 20
	DefaultTimeout        time.Duration = 10 * time.Second
	DefaultOutput         abi.Size      = 4 << 20
	DefaultStderr         abi.Size      = 64 << 10
	DefaultClientWait     time.Duration = 5 * time.Minute
	DefaultMaxConcurrency               = 16
	// DefaultQueueTimeout is how long a call waits to be admitted (a free
	// slot of its module, then room in the server's budget) before it is
	// refused as busy.
	DefaultQueueTimeout = 30 * time.Second
	// DefaultCompileTimeout bounds compiling one module: the structural
	// limits checked before compiling keep every function's compile short,
	// and this bounds their sum (a 10 MB Go module compiles in about 5 s).
	DefaultCompileTimeout = 2 * time.Minute
	// MaxMemory is the largest memory limit: the 32-bit wasm address space.
	MaxMemory abi.Size = 4 << 30
)

// DefaultLimits returns the limits used when nothing else is configured.
func DefaultLimits() Limits {
	return Limits{Memory: DefaultMemory, Timeout: DefaultTimeout, Output: DefaultOutput, Stderr: DefaultStderr, ClientWait: DefaultClientWait}
}

// Or returns l with each zero field taken from other.
func (l Limits) Or(other Limits) Limits {
	if l.Memory == 0 {
		l.Memory = other.Memory
	}
	if l.Timeout == 0 {
		l.Timeout = other.Timeout
	}
	if l.Output == 0 {
		l.Output = other.Output
	}
	if l.Stderr == 0 {
		l.Stderr = other.Stderr
	}
	if l.ClientWait == 0 {
		l.ClientWait = other.ClientWait
	}
	return l
}

// Narrow returns l with each field lowered to what the module asks for, when
// it asks for less. A module can tighten its own limits, never loosen them.
func (l Limits) Narrow(ask abi.Limits) Limits {
	if ask.Memory > 0 && ask.Memory < l.Memory {
		l.Memory = ask.Memory
	}
	if d := time.Duration(ask.Timeout); d > 0 && d < l.Timeout {
		l.Timeout = d
	}
	if ask.Output > 0 && ask.Output < l.Output {
		l.Output = ask.Output
	}
	return l
}

// Config configures a Runtime. It is immutable: each With method returns a
// changed copy, so one base Config can be shared.
type Config struct {
	limits         Limits
	cacheDir       string
	cacheDirSet    bool
	maxConcurrency int
	maxCalls       int
	maxMemory      int64
	queueTimeout   time.Duration
	compileTimeout time.Duration
	engine         engine.Factory
	moduleEngines  map[string]string // module name -> engine name
	logger         *slog.Logger
	hostFuncs      []HostFunc
	noSnapshots    bool
}

// NewConfig returns the default configuration: DefaultLimits, a compilation
// cache under the user cache directory, DefaultMaxConcurrency calls per
// module, DefaultMaxCalls() and DefaultMaxMemory() for all calls together,
// DefaultQueueTimeout, DefaultCompileTimeout and the default registered
// engine (engine.Default).
func NewConfig() *Config {
	return &Config{limits: DefaultLimits(), maxConcurrency: DefaultMaxConcurrency, queueTimeout: DefaultQueueTimeout, compileTimeout: DefaultCompileTimeout}
}

// DefaultMaxCalls is how many calls of all modules together run at once
// when nothing else is configured: 8 per CPU the process may use, at least
// 16. More running calls would only share the CPUs more thinly, pushing each
// closer to its time limit; the rest wait their turn.
func DefaultMaxCalls() int {
	return max(16, 8*goruntime.GOMAXPROCS(0))
}

func (c *Config) clone() *Config {
	cp := *c
	cp.hostFuncs = append([]HostFunc(nil), c.hostFuncs...)
	cp.moduleEngines = maps.Clone(c.moduleEngines)
	return &cp
}

// WithLimits sets the default limits of every call; zero fields keep the
// current value.
func (c *Config) WithLimits(l Limits) *Config {
	cp := c.clone()
	cp.limits = l.Or(c.limits)
	return cp
}

// WithCacheDir sets the directory of the persistent compilation cache.
// Default: "wasmgate" under os.UserCacheDir (e.g. ~/.cache/wasmgate). An
// empty dir keeps compiled code in memory only.
func (c *Config) WithCacheDir(dir string) *Config {
	cp := c.clone()
	cp.cacheDir, cp.cacheDirSet = dir, true
	return cp
}

// WithMaxConcurrency sets how many calls of one module run at once; more
// wait for a free slot. Default DefaultMaxConcurrency.
func (c *Config) WithMaxConcurrency(n int) *Config {
	cp := c.clone()
	if n > 0 {
		cp.maxConcurrency = n
	}
	return cp
}

// WithMaxCalls sets how many calls of all modules together run at once;
// more wait their turn, module by module. Default DefaultMaxCalls().
func (c *Config) WithMaxCalls(n int) *Config {
	cp := c.clone()
	if n > 0 {
		cp.maxCalls = n
	}
	return cp
}

// WithMaxMemory sets the memory budget of all calls together. Each call
// reserves its whole memory limit and output buffers (plus 1MiB) before it
// starts; a call that does not fit waits its turn. Default
// DefaultMaxMemory().
func (c *Config) WithMaxMemory(n abi.Size) *Config {
	cp := c.clone()
	if n > 0 {
		cp.maxMemory = int64(n)
	}
	return cp
}

// WithQueueTimeout sets how long a call waits to be admitted before it
// fails as KindBusy. Default DefaultQueueTimeout.
func (c *Config) WithQueueTimeout(d time.Duration) *Config {
	cp := c.clone()
	if d > 0 {
		cp.queueTimeout = d
	}
	return cp
}

// WithCompileTimeout bounds how long compiling one module may take before
// it fails to load. Default DefaultCompileTimeout.
func (c *Config) WithCompileTimeout(d time.Duration) *Config {
	cp := c.clone()
	if d > 0 {
		cp.compileTimeout = d
	}
	return cp
}

// WithEngine selects the engine that compiles and runs guests, such as
// engine.Lookup("wazero-interpreter"). Default: the default registered
// engine (engine.Default); nil restores it.
func (c *Config) WithEngine(f engine.Factory) *Config {
	cp := c.clone()
	cp.engine = f
	return cp
}

// WithModuleEngine runs the module named module (by its manifest) on the
// registered engine named engineName (engine.Lookup) instead of the
// runtime's: the runtime creates that engine, with the configuration of its
// own, when a module first needs it, and closes it with the runtime. A name
// no engine is registered under makes the module fail to load with an
// *engine.NotRegisteredError. "" restores the runtime's engine.
func (c *Config) WithModuleEngine(module, engineName string) *Config {
	cp := c.clone()
	if cp.moduleEngines == nil {
		cp.moduleEngines = map[string]string{}
	}
	if engineName == "" {
		delete(cp.moduleEngines, module)
	} else {
		cp.moduleEngines[module] = engineName
	}
	return cp
}

// WithLogger sets where the runtime reports what it does (loads, compile
// times, guest stderr). Default: discard.
func (c *Config) WithLogger(l *slog.Logger) *Config {
	cp := c.clone()
	cp.logger = l
	return cp
}

// WithHostFunctions adds functions to the wasmgate import module. Names
// must not collide with the built-in ones (log, progress, response_len,
// response) or each other.
func (c *Config) WithHostFunctions(fns ...HostFunc) *Config {
	cp := c.clone()
	cp.hostFuncs = append(cp.hostFuncs, fns...)
	return cp
}

// WithSnapshots sets whether a reactor's calls start from a snapshot of an
// instance that ran its initialisation, taken once per module and
// environment (ABI.md, Snapshots), instead of running it in every call.
// Default true; a module's manifest may refuse them ("snapshot": false).
func (c *Config) WithSnapshots(on bool) *Config {
	cp := c.clone()
	cp.noSnapshots = !on
	return cp
}
