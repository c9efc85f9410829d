package wasmgate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasmgate/wasmgate/host/client"
	hosthttp "github.com/wasmgate/wasmgate/host/http"
	"github.com/wasmgate/wasmgate/host/kv"
	"github.com/wasmgate/wasmgate/host/secret"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
)

// ErrNoStateDir is returned by Open when the policy grants key-value
// storage, Options.StateDir is empty and there is no default directory
// for it (no $XDG_STATE_HOME and no home directory).
var ErrNoStateDir = errors.New("no directory for key-value storage")

// caps are the capability host functions every gateway's runtime
// provides. A module that imports them always loads; each call may use
// them only as its grant allows.
type caps struct {
	kv   *kv.Store // nil unless the policy grants kv to some module
	http *hosthttp.Client
}

// openCaps opens what the policy's grants need: the key-value store only
// when the policy grants kv, so a gateway that grants none never locks the
// state directory.
func openCaps(p *policy.Policy, stateDir string) (*caps, error) {
	c := &caps{http: hosthttp.New(nil)}
	if p.GrantsKV() {
		dir, err := stateDirectory(stateDir)
		if err != nil {
			return nil, err
		}
		if c.kv, err = kv.Open(dir, nil); err != nil {
			return nil, err
		}
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

// configure adds the capability host functions to cfg. With a nil store
// the kv functions deny every call: grants never give kv when the store is
// not open.
func (c *caps) configure(cfg *runtime.Config) *runtime.Config {
	return cfg.WithHostFunctions(c.kv.HostFuncs()...).
		WithHostFunctions(secret.HostFuncs()...).
		WithHostFunctions(c.http.HostFuncs()...).
		WithHostFunctions(client.HostFuncs()...)
}

func (c *caps) close() {
	if c.kv != nil {
		c.kv.Close()
	}
	c.http.CloseIdleConnections()
}
