package abi

import (
	"errors"
	"fmt"
)

// ErrNoManifest is returned by ExtractManifest for a module without a
// manifest section.
var ErrNoManifest = errors.New("module has no " + ManifestSection + " custom section")

// ExtractManifest returns the raw manifest JSON from a module's custom
// section, without compiling or running it.
//
// A module without one gets ErrNoManifest only when it could be a tool
// module otherwise: one that is not well-formed (a file cut short at a
// section boundary still splits into sections) or that exports no entry
// point gets an error saying so, since a manifest would not help.
func ExtractManifest(wasm []byte) ([]byte, error) {
	sections, err := parseSections(wasm)
	if err != nil {
		return nil, err
	}
	var found []byte
	n := 0
	for _, s := range sections {
		if s.id == sectionCustom && s.name == ManifestSection {
			found = s.payload
			n++
		}
	}
	switch n {
	case 0:
		if err := checkToolModule(sections, len(wasm)); err != nil {
			return nil, err
		}
		return nil, ErrNoManifest
	case 1:
		return found, nil
	}
	return nil, fmt.Errorf("module has %d %s sections; it must have at most one (repack it with wasmgate pack)", n, ManifestSection)
}

// checkToolModule reports what, besides a manifest, keeps a module from
// being a tool: functions declared without code (or code without
// declarations), or no _start or wasmgate_call export.
func checkToolModule(sections []section, size int) error {
	var funcs, bodies uint32
	entry := false
	for _, s := range sections {
		var err error
		switch s.id {
		case sectionFunction:
			funcs, err = (&reader{b: s.payload}).u32()
		case sectionCode:
			bodies, err = (&reader{b: s.payload}).u32()
		case sectionExport:
			entry, err = exportsEntry(s.payload)
		}
		if err != nil {
			return fmt.Errorf("not a well-formed WebAssembly module: section %d: %w", s.id, err)
		}
	}
	if funcs != bodies {
		return fmt.Errorf("not a well-formed WebAssembly module: it declares %s but has code for %d; is the file (%d bytes) cut short?", plural(int(funcs), "function"), bodies, size)
	}
	switch {
	case !entry && bodies == 0:
		return fmt.Errorf("not a tool module: it has no code and exports neither %s nor %s; is the file (%d bytes) cut short?", ExportStart, ExportCall, size)
	case !entry:
		return fmt.Errorf("not a tool module: it exports neither %s nor %s; build it as a WASI command or a reactor (abi/ABI.md, section 1)", ExportStart, ExportCall)
	}
	return nil
}

// exportsEntry reports whether an export section exports a function named
// _start or wasmgate_call.
func exportsEntry(payload []byte) (bool, error) {
	r := &reader{b: payload}
	n, err := r.u32()
	if err != nil {
		return false, err
	}
	found := false
	for range n {
		name, err := r.name()
		if err != nil {
			return false, err
		}
		kind, err := r.byte()
		if err != nil {
			return false, err
		}
		if _, err := r.u32(); err != nil {
			return false, err
		}
		if kind == 0 && (name == ExportStart || name == ExportCall) {
			found = true
		}
	}
	return found, nil
}

// EmbedManifest returns a copy of wasm with its manifest section replaced by
// manifest (or added when there was none), at the end of the module.
func EmbedManifest(wasm, manifest []byte) ([]byte, error) {
	sections, err := parseSections(wasm)
	if err != nil {
		return nil, err
	}
	kept := sections[:0:0]
	for _, s := range sections {
		if s.id == sectionCustom && s.name == ManifestSection {
			continue
		}
		kept = append(kept, s)
	}
	kept = append(kept, section{id: sectionCustom, name: ManifestSection, payload: manifest})
	return encodeSections(kept), nil
}

// plural writes a count and its noun: "1 function", "2 functions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
