package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/wasmgate/wasmgate/abi"
)

// OpenBytes is Open for a module that is not a local file, such as one
// downloaded or embedded in a program: origin names it in errors and is its
// Path. manifest is the module's manifest when it is not embedded in the
// module's wasmgate.manifest section, or nil. Like Open, it checks what
// needs no compiling, compiles the module in the background and returns at
// once. The module keeps wasm until it is compiled; the caller must not
// modify it.
func (r *Runtime) OpenBytes(ctx context.Context, origin string, wasm, manifest []byte) (*Module, error) {
	m, err := r.openBytes(ctx, origin, wasm, manifest)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", origin, err)
	}
	r.compiles.Add(1)
	go func() {
		defer r.compiles.Done()
		m.compileBackground(r.compileCtx, wasm)
	}()
	return m, nil
}

func (r *Runtime) openBytes(ctx context.Context, origin string, wasm, manifest []byte) (*Module, error) {
	if len(wasm) > MaxModuleSize {
		return nil, fmt.Errorf("module is larger than %s", abi.Size(MaxModuleSize))
	}
	source := "given with the module"
	if manifest == nil {
		raw, err := abi.ExtractManifest(wasm)
		if errors.Is(err, abi.ErrNoManifest) {
			return nil, fmt.Errorf("no manifest: the module has no %s section and none was given with it", abi.ManifestSection)
		}
		if err != nil {
			return nil, err
		}
		manifest, source = raw, "section "+abi.ManifestSection
	}
	return r.prepare(ctx, origin, wasm, manifest, source)
}
