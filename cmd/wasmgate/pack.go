package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasmgate/wasmgate/abi"
)

func runPack(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "pack")
	manifestPath := fs.String("manifest", "", "manifest JSON `file` to embed (required)")
	outPath := fs.String("o", "", "output `file` (required; may be the input file)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *manifestPath == "" || *outPath == "" || len(pos) != 1 {
		e.errorf("pack needs --manifest M.json, -o OUT.wasm and one input module; see 'wasmgate pack -h'")
		return exitUsage
	}
	in := pos[0]
	raw, err := os.ReadFile(*manifestPath)
	if err != nil {
		e.errorf("pack: %v", err)
		return exitUsage
	}
	m, err := abi.ParseManifest(raw)
	if err != nil {
		e.errorf("pack: %s: %v", *manifestPath, err)
		printFieldErrors(e, err)
		return exitUsage
	}
	wasm, err := os.ReadFile(in)
	if err != nil {
		e.errorf("pack: %v", err)
		return exitUsage
	}
	packed, err := abi.EmbedManifest(wasm, compactJSON(raw))
	if err != nil {
		e.errorf("pack: %s: %v", in, err)
		return exitUsage
	}
	if err := writeFileAtomic(*outPath, packed); err != nil {
		e.errorf("pack: %v", err)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "packed %s %s (%s) into %s\n", m.Name, m.Version, plural(len(m.Tools), "tool"), *outPath)
	return exitOK
}

// printFieldErrors lists each manifest problem on its own line.
func printFieldErrors(e *env, err error) {
	var ve *abi.ValidationError
	if errors.As(err, &ve) && len(ve.Errors) > 1 {
		for _, fe := range ve.Errors {
			fmt.Fprintf(e.stderr, "  %s\n", fe.Error())
		}
	}
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, so a failed write never leaves a half-written module.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".wasmgate-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
