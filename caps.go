package wasmgate

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/wasmgate/wasmgate/capability"
	_ "github.com/wasmgate/wasmgate/capability/builtin" // wasmgate's own capabilities
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
)

// ErrNoStateDir is returned by Open when the policy grants key-value
// storage, Options.StateDir is empty and there is no default directory
// for it (no $XDG_STATE_HOME and no home directory).
var ErrNoStateDir = errors.New("no directory for key-value storage")

// caps is what the registered capabilities (package capability) opened
// for a gateway's runtime: their host functions, which every module may
// import and each call may use only as its grant allows, and what closes
// them.
type caps struct {
	opened []*capability.Provision
}

// openCaps opens each registered capability for the policy: one whose
// resources cost something opens them only when the policy offers it to
// some module, so that a gateway that grants no kv never locks the state
// directory.
func openCaps(p *policy.Policy, stateDir string, logger *slog.Logger) (*caps, error) {
	c := &caps{}
	for _, cp := range capability.Registered() {
		prov, err := cp.Open(&capability.Setup{
			Offered:  p.Offers(cp.Name()),
			StateDir: func() (string, error) { return stateDirectory(stateDir) },
			Logger:   logger,
		})
		if err != nil {
			c.close()
			return nil, err
		}
		c.opened = append(c.opened, prov)
	}
	return c, nil
}

// DefaultStateDir is where key-value storage is kept when
// Options.StateDir is empty: $XDG_STATE_HOME/wasmgate, or
// ~/.local/state/wasmgate.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "wasmgate"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoStateDir, err)
	}
	return filepath.Join(home, ".local", "state", "wasmgate"), nil
}

func stateDirectory(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return DefaultStateDir()
}

// configure adds the capabilities' host functions to cfg.
func (c *caps) configure(cfg *runtime.Config) *runtime.Config {
	for _, p := range c.opened {
		cfg = cfg.WithHostFunctions(p.HostFuncs...)
	}
	return cfg
}

func (c *caps) close() {
	if c == nil {
		return
	}
	for _, p := range c.opened {
		if p.Close != nil {
			p.Close()
		}
	}
}
