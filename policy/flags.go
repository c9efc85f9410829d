package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
)

// FromFlags builds the grants given on the command line:
// --allow-net HOST[:PORT] (repeatable), --allow-private-net,
// --mount HOSTDIR:GUESTDIR[:rw] and --env NAME[=VALUE] (a bare NAME passes
// wasmgate's own value through). It returns nil when no flag grants anything.
func FromFlags(allowNet []string, allowPrivate bool, mounts, env []string) (*Module, error) {
	if len(allowNet) == 0 && !allowPrivate && len(mounts) == 0 && len(env) == 0 {
		return nil, nil
	}
	m := &Module{}
	if len(allowNet) > 0 || allowPrivate {
		m.Network = &Network{Private: allowPrivate}
		for _, h := range allowNet {
			if err := abi.CheckHostPattern(h); err != nil {
				return nil, fmt.Errorf("--allow-net: %w", err)
			}
			m.Network.Allow = append(m.Network.Allow, h)
		}
	}
	for _, spec := range mounts {
		parts := strings.Split(spec, ":")
		mode := "ro"
		if len(parts) == 3 && (parts[2] == "rw" || parts[2] == "ro") {
			mode, parts = parts[2], parts[:2]
		}
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, fmt.Errorf("--mount %q: want HOSTDIR:GUESTDIR or HOSTDIR:GUESTDIR:rw", spec)
		}
		host, err := filepath.Abs(parts[0])
		if err != nil {
			return nil, fmt.Errorf("--mount %q: %w", spec, err)
		}
		if st, err := os.Stat(host); err != nil {
			return nil, fmt.Errorf("--mount %q: %w", spec, err)
		} else if !st.IsDir() {
			return nil, fmt.Errorf("--mount %q: %s is not a directory", spec, host)
		}
		if !strings.HasPrefix(parts[1], "/") || strings.Contains(parts[1], "..") {
			return nil, fmt.Errorf("--mount %q: the guest path must be absolute, without ..", spec)
		}
		m.Files = append(m.Files, File{Host: host, Guest: parts[1], Mode: mode})
	}
	for _, e := range env {
		name, value, hasValue := strings.Cut(e, "=")
		if name == "" {
			return nil, fmt.Errorf("--env %q: want NAME or NAME=VALUE", e)
		}
		if !hasValue {
			v, ok := os.LookupEnv(name)
			if !ok {
				return nil, fmt.Errorf("--env %s: not set in wasmgate's environment; pass --env %s=VALUE", name, name)
			}
			value = v
		}
		if m.Env == nil {
			m.Env = Env{}
		}
		m.Env[name] = value
	}
	return m, nil
}
