package abi

import (
	"errors"
	"fmt"

	"github.com/wasmgate/wasmgate/internal/wasmbin"
)

// ErrNoManifest is returned by ExtractManifest for a module without a
// manifest section.
var ErrNoManifest = errors.New("module has no " + ManifestSection + " custom section")

// ExtractManifest returns the raw manifest JSON from a module's custom
// section, without compiling or running it.
func ExtractManifest(wasm []byte) ([]byte, error) {
	sections, err := wasmbin.Parse(wasm)
	if err != nil {
		return nil, err
	}
	var found []byte
	n := 0
	for _, s := range sections {
		if s.ID == wasmbin.SectionCustom && s.Name == ManifestSection {
			found = s.Payload
			n++
		}
	}
	switch n {
	case 0:
		return nil, ErrNoManifest
	case 1:
		return found, nil
	}
	return nil, fmt.Errorf("module has %d %s sections; it must have at most one (repack it with wasmgate pack)", n, ManifestSection)
}

// EmbedManifest returns a copy of wasm with its manifest section replaced by
// manifest (or added when there was none), at the end of the module.
func EmbedManifest(wasm, manifest []byte) ([]byte, error) {
	sections, err := wasmbin.Parse(wasm)
	if err != nil {
		return nil, err
	}
	kept := sections[:0:0]
	for _, s := range sections {
		if s.ID == wasmbin.SectionCustom && s.Name == ManifestSection {
			continue
		}
		kept = append(kept, s)
	}
	kept = append(kept, wasmbin.Section{ID: wasmbin.SectionCustom, Name: ManifestSection, Payload: manifest})
	return wasmbin.Encode(kept), nil
}
