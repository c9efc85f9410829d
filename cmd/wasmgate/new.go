package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	guestsrc "github.com/wasmgate/wasmgate/guests"
)

// The project templates of `wasmgate new`. A generated project also gets
// its own copy of the SDK under sdk/ (from guestsrc.SDKs, the SDK sources
// themselves), so it builds anywhere, without this repository and without a
// published module.
//
//go:embed all:templates
var templateFS embed.FS

// newLanguage describes one language `wasmgate new` can generate.
type newLanguage struct {
	name    string // as given to --lang
	title   string // for descriptions
	sdkDir  string // the SDK's folder under guests/
	sdkKeep func(name string) bool
	// manifest is true when the project gets templates/manifest.json; Go
	// generates its manifest from the source instead.
	manifest bool
	next     string // what to run after generating
}

var newLanguages = []newLanguage{
	{name: "go", title: "Go", sdkDir: "go/sdk", sdkKeep: func(n string) bool {
		return strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go")
	}, next: "make"},
	{name: "rust", title: "Rust", sdkDir: "rust/sdk/src", sdkKeep: func(n string) bool {
		return n == "lib.rs"
	}, manifest: true, next: "make"},
	{name: "c", title: "C", sdkDir: "c/sdk", sdkKeep: func(n string) bool {
		return n == "wasmgate.h" || n == "wasmgate.c"
	}, manifest: true, next: "make"},
	{name: "assemblyscript", title: "AssemblyScript", sdkDir: "assemblyscript/sdk", sdkKeep: func(n string) bool {
		return strings.HasSuffix(n, ".ts")
	}, manifest: true, next: "npm install && make"},
}

func findLanguage(name string) (newLanguage, bool) {
	for _, l := range newLanguages {
		if l.name == name {
			return l, true
		}
	}
	return newLanguage{}, false
}

// Versions the generated AssemblyScript project pins: the ones
// guests/assemblyscript/package.json builds the examples with.
const (
	assemblyScriptVersion = "0.28.20"
	wasiShimVersion       = "0.1.0"
	// newGoVersion is the go directive of a generated Go project: the SDK
	// uses //go:wasmexport, new in Go 1.24.
	newGoVersion = "1.24"
)

var projectName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

type newData struct {
	Name, Language, NpmName, GoVersion     string
	AssemblyScriptVersion, WasiShimVersion string
}

func runNew(_ context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "new")
	lang := fs.String("lang", "", "the language: "+languageNames())
	sdkDir := fs.String("sdk", "", "copy the SDK from `DIR`, the guests/ folder of a wasmgate checkout, instead of the copy built into wasmgate")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if *lang == "" || len(pos) != 1 {
		e.errorf("new needs --lang LANG and one project folder; see 'wasmgate new -h'")
		return exitUsage
	}
	l, ok := findLanguage(*lang)
	if !ok {
		e.errorf("new: unknown language %q (want one of %s)", *lang, languageNames())
		return exitUsage
	}
	dir := pos[0]
	name := filepath.Base(filepath.Clean(dir))
	if !projectName.MatchString(name) {
		e.errorf("new: the project name %q (the folder's last element) must be a letter followed by up to 63 letters, digits, '_' or '-'", name)
		return exitUsage
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		e.errorf("new: %s already exists and is not empty", dir)
		return exitUsage
	}
	files, err := projectFiles(l, name, *sdkDir)
	if err != nil {
		e.errorf("new: %v", err)
		return exitUsage
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			e.errorf("new: %v", err)
			return exitUsage
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			e.errorf("new: %v", err)
			return exitUsage
		}
	}
	fmt.Fprintf(e.stdout, "created %s: the tool module %q in %s, with one tool, hello (%d files)\n", dir, name, l.title, len(names))
	fmt.Fprintf(e.stdout, "next:\n  cd %s\n  %s\n  wasmgate call %s.wasm hello '{\"name\":\"world\"}'\n", dir, l.next, name)
	return exitOK
}

func languageNames() string {
	var s []string
	for _, l := range newLanguages {
		s = append(s, l.name)
	}
	return strings.Join(s, ", ")
}

// projectFiles renders the project of language l named name: its templates,
// the manifest and the SDK (from sdkDir/LANG/sdk when sdkDir is set).
func projectFiles(l newLanguage, name, sdkDir string) (map[string][]byte, error) {
	data := newData{
		Name: name, Language: l.title, NpmName: strings.ToLower(name), GoVersion: newGoVersion,
		AssemblyScriptVersion: assemblyScriptVersion, WasiShimVersion: wasiShimVersion,
	}
	files := map[string][]byte{}
	render := func(src, dst string) error {
		raw, err := templateFS.ReadFile(src)
		if err != nil {
			return err
		}
		t, err := template.New(src).Option("missingkey=error").Parse(string(raw))
		if err != nil {
			return err
		}
		var b strings.Builder
		if err := t.Execute(&b, data); err != nil {
			return err
		}
		files[dst] = []byte(b.String())
		return nil
	}
	entries, err := fs.ReadDir(templateFS, "templates/"+l.name)
	if err != nil {
		return nil, fmt.Errorf("no templates for %s", l.name)
	}
	for _, ent := range entries {
		n := strings.TrimSuffix(ent.Name(), ".tmpl")
		switch {
		case n == "gitignore":
			n = ".gitignore"
		case strings.HasPrefix(n, "main.") && l.name == "c":
			n = name + ".c"
		}
		if err := render("templates/"+l.name+"/"+ent.Name(), n); err != nil {
			return nil, err
		}
	}
	if l.manifest {
		if err := render("templates/manifest.json.tmpl", "manifest.json"); err != nil {
			return nil, err
		}
	}
	sdk, err := sdkFiles(l, sdkDir)
	if err != nil {
		return nil, err
	}
	for n, b := range sdk {
		files["sdk/"+n] = b
	}
	return files, nil
}

// sdkFiles returns the SDK of language l, by file name: the one built into
// wasmgate, or the one in sdkDir (a guests/ folder).
func sdkFiles(l newLanguage, sdkDir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	if sdkDir != "" {
		dir := filepath.Join(sdkDir, filepath.FromSlash(l.sdkDir))
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("--sdk: %v (want the guests/ folder of a wasmgate checkout)", err)
		}
		for _, ent := range entries {
			if ent.Type().IsRegular() && l.sdkKeep(ent.Name()) {
				b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
				if err != nil {
					return nil, err
				}
				out[ent.Name()] = b
			}
		}
	} else {
		entries, _ := fs.ReadDir(guestsrc.SDKs, l.sdkDir)
		for _, ent := range entries {
			if !l.sdkKeep(ent.Name()) {
				continue
			}
			b, err := guestsrc.SDKs.ReadFile(path.Join(l.sdkDir, ent.Name()))
			if err != nil {
				return nil, err
			}
			out[ent.Name()] = b
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s SDK found (guests/%s)", l.title, l.sdkDir)
	}
	return out, nil
}
