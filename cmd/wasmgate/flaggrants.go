package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/policy"
)

// flagGrants builds the grants given on the command line:
// --allow-net HOST[:PORT] (repeatable), --allow-private-net,
// --mount HOSTDIR:GUESTDIR[:rw] and --env NAME[=VALUE] (a bare NAME passes
// wasmgate's own value through). It returns nil when no flag grants anything.
func flagGrants(allowNet []string, allowPrivate bool, mounts, env []string) (*policy.Module, error) {
	if len(allowNet) == 0 && !allowPrivate && len(mounts) == 0 && len(env) == 0 {
		return nil, nil
	}
	// The flags are checked here, for messages that name them, and then
	// read like a policy entry saying the same, by the capabilities whose
	// keys they set.
	entry := map[string]any{}
	if len(allowNet) > 0 || allowPrivate {
		allow := []string{}
		for _, h := range allowNet {
			if err := abi.CheckHostPattern(h); err != nil {
				return nil, fmt.Errorf("--allow-net: %w", err)
			}
			allow = append(allow, h)
		}
		entry["network"] = map[string]any{"allow": allow, "private": allowPrivate}
	}
	var files []map[string]string
	vars := map[string]string{}
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
		files = append(files, map[string]string{"host": host, "guest": parts[1], "mode": mode})
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
		vars[name] = value
	}
	if len(files) > 0 {
		entry["files"] = files
	}
	if len(vars) > 0 {
		entry["env"] = vars
	}
	return policy.EntryFrom("flags", entry)
}
