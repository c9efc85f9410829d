package wasmgate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A Source is where modules come from: files and directories on disk
// ([Files], [Dir], [File]) or bytes a program holds ([Bytes]). A source of
// another kind (a URL, a registry) is one more type that implements it.
type Source interface {
	// String names the source in messages: a path, a URL.
	String() string
	// Modules finds the source's modules. It returns every module it
	// found, and an error joining one error per module or path it could
	// not read; a source that found nothing says so in the error.
	Modules(ctx context.Context) ([]Found, error)
}

// Found is one module a Source found: a local file, or the module's code.
type Found struct {
	// Path is the module's file, when it is a local one: the runtime reads
	// it, and its manifest from its wasmgate.manifest section or from
	// NAME.manifest.json beside NAME.wasm. Wasm and Manifest are then
	// ignored.
	Path string
	// Origin names a module that is not a local file in messages, and is
	// its runtime.Module's Path: a URL, for instance.
	Origin string
	// Wasm is the code of a module that is not a local file. The gateway
	// keeps it until the module is compiled; the source must not modify it.
	Wasm []byte
	// Manifest is the manifest of a module that is not a local file, when
	// it is not embedded in Wasm; nil otherwise.
	Manifest []byte
}

// name is what the module is called in messages.
func (f Found) name() string {
	if f.Path != "" {
		return f.Path
	}
	return f.Origin
}

// Files is a source of .wasm files and directories, as wasmgate serve
// takes them: a file as given, whatever its name; a directory walked in
// lexical order for *.wasm files, skipping the directories below it named
// testdata or starting with a dot. A file found twice is served once. A
// directory without a .wasm file is an error.
func Files(paths ...string) Source { return files(paths) }

// Dir is a source of the .wasm files under a directory, as [Files] walks
// it.
func Dir(path string) Source { return dirSource(path) }

// File is a source of one .wasm file.
func File(path string) Source { return fileSource(path) }

type files []string

func (s files) String() string { return strings.Join(s, " ") }

func (s files) Modules(ctx context.Context) ([]Found, error) {
	var found []Found
	var problems []error
	seen := map[string]bool{}
	add := func(p string) {
		key := p
		if abs, err := filepath.Abs(p); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			found = append(found, Found{Path: p})
		}
	}
	for _, arg := range s {
		if err := ctx.Err(); err != nil {
			return found, err
		}
		info, err := os.Stat(arg)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if !info.IsDir() {
			add(arg)
			continue
		}
		n := len(found)
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				problems = append(problems, err)
				return nil
			}
			if d.IsDir() && p != arg && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".wasm") {
				add(p)
			}
			return nil
		})
		if err != nil {
			problems = append(problems, err)
		}
		if len(found) == n {
			problems = append(problems, fmt.Errorf("%s: no .wasm files (directories named testdata and dot-directories are skipped)", arg))
		}
	}
	return found, errors.Join(problems...)
}

type dirSource string

func (d dirSource) String() string { return string(d) }

func (d dirSource) Modules(ctx context.Context) ([]Found, error) {
	info, err := os.Stat(string(d))
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", d)
	}
	return files{string(d)}.Modules(ctx)
}

type fileSource string

func (f fileSource) String() string { return string(f) }

func (f fileSource) Modules(context.Context) ([]Found, error) {
	// The runtime reads it, and says what is wrong with it.
	return []Found{{Path: string(f)}}, nil
}

// Bytes is a source of one module held in memory, such as one embedded
// in the program with go:embed: origin names it in messages; wasm is its
// code, with its manifest in its wasmgate.manifest section.
func Bytes(origin string, wasm []byte) Source { return bytesSource{origin, wasm} }

type bytesSource struct {
	origin string
	wasm   []byte
}

func (b bytesSource) String() string { return b.origin }

func (b bytesSource) Modules(context.Context) ([]Found, error) {
	return []Found{{Origin: b.origin, Wasm: b.wasm}}, nil
}
