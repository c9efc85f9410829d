package main

import (
	"flag"

	"github.com/wasmgate/wasmgate/runtime"
)

// cacheFlag is where compiled modules are cached across runs.
type cacheFlag struct {
	dir string
	set bool
}

func (c *cacheFlag) register(fs *flag.FlagSet) {
	fs.Func("cache-dir", "keep compiled modules in `DIR` across runs, so a restart does not compile again; \"\" keeps them in memory only (default $XDG_CACHE_HOME/wasmgate or ~/.cache/wasmgate)", func(v string) error {
		c.dir, c.set = v, true
		return nil
	})
}

func (c *cacheFlag) configure(cfg *runtime.Config) *runtime.Config {
	if !c.set {
		return cfg
	}
	return cfg.WithCacheDir(c.dir)
}
