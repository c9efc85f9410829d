// Command grep is a wasmgate tool that searches the files of a read-only
// directory mounted at /data with a regular expression, with bounded
// output.
package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// Root is where the searched directory is mounted.
const Root = "/data"

const (
	maxLineChars = 300
	maxFileSize  = 8 << 20
)

// Args are grep's arguments.
type Args struct {
	Pattern    string `json:"pattern" jsonschema:"A regular expression (Go RE2 syntax)."`
	Path       string `json:"path" default:"\".\"" jsonschema:"A file or directory under /data to search, relative to it."`
	Glob       string `json:"glob,omitempty" jsonschema:"Only files whose name matches this shell pattern, e.g. *.go."`
	IgnoreCase bool   `json:"ignore_case,omitempty" jsonschema:"Match without regard to case."`
	MaxMatches int    `json:"max_matches" default:"100" minimum:"1" maximum:"1000" jsonschema:"The most matching lines to return."`
}

// Match is one matching line.
type Match struct {
	File string `json:"file" jsonschema:"The file, relative to /data."`
	Line int    `json:"line"`
	Text string `json:"text" jsonschema:"The line, cut to 300 characters."`
}

// Found is grep's result.
type Found struct {
	Matches      []Match  `json:"matches"`
	FilesScanned int      `json:"files_scanned"`
	Truncated    bool     `json:"truncated" jsonschema:"True when there were more matches than max_matches."`
	Skipped      []string `json:"skipped,omitempty" jsonschema:"Files not searched: binary, too large or unreadable."`
}

func (f Found) String() string {
	var b strings.Builder
	for _, m := range f.Matches {
		fmt.Fprintf(&b, "%s:%d: %s\n", m.File, m.Line, m.Text)
	}
	switch {
	case len(f.Matches) == 0:
		fmt.Fprintf(&b, "no matches in %s", plural(f.FilesScanned, "file"))
	case f.Truncated:
		fmt.Fprintf(&b, "(stopped after %s; narrow the pattern or raise max_matches)", plural(len(f.Matches), "match"))
	default:
		fmt.Fprintf(&b, "(%s in %s)", plural(len(f.Matches), "match"), plural(f.FilesScanned, "file"))
	}
	return b.String()
}

// plural writes n and the noun, adding "es" after ch and "s" otherwise.
func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "ch"):
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// grep searches root (an fs.FS of the mount) under dir.
func grep(fsys fs.FS, a Args) (Found, error) {
	expr := a.Pattern
	if a.IgnoreCase {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return Found{}, sdk.Errorf("invalid pattern %q: %v", a.Pattern, err)
	}
	dir := path.Clean(strings.TrimPrefix(strings.TrimPrefix(a.Path, Root), "/"))
	if dir == "" || dir == "/" {
		dir = "."
	}
	if !fs.ValidPath(dir) {
		return Found{}, sdk.Errorf("path %q is outside %s", a.Path, Root)
	}
	if a.Glob != "" {
		if _, err := path.Match(a.Glob, ""); err != nil {
			return Found{}, sdk.Errorf("invalid glob %q: %v", a.Glob, err)
		}
	}
	out := Found{Matches: []Match{}}
	err = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return sdk.Errorf("cannot read %s: %v", path.Join(Root, p), unwrapPath(err))
			}
			out.Skipped = append(out.Skipped, p)
			return nil
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if a.Glob != "" {
			if ok, _ := path.Match(a.Glob, d.Name()); !ok {
				return nil
			}
		}
		if out.Truncated {
			return fs.SkipAll
		}
		done, skip := searchFile(fsys, p, re, a.MaxMatches, &out)
		if skip {
			out.Skipped = append(out.Skipped, p)
		} else {
			out.FilesScanned++
		}
		if done {
			out.Truncated = true
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return Found{}, err
	}
	return out, nil
}

// searchFile appends p's matching lines; done reports the limit was passed.
func searchFile(fsys fs.FS, p string, re *regexp.Regexp, max int, out *Found) (done, skip bool) {
	f, err := fsys.Open(p)
	if err != nil {
		return false, true
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() > maxFileSize {
		return false, true
	}
	r := bufio.NewReaderSize(f, 64<<10)
	if head, _ := r.Peek(8000); bytes.IndexByte(head, 0) >= 0 {
		return false, true // binary
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxFileSize)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !re.MatchString(line) {
			continue
		}
		if len(out.Matches) == max {
			return true, false
		}
		out.Matches = append(out.Matches, Match{File: p, Line: n, Text: cut(line)})
	}
	return false, sc.Err() != nil && sc.Err() != io.EOF
}

func cut(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > maxLineChars {
		return string(r[:maxLineChars]) + "…"
	}
	return s
}

func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "grep",
		Version:     "0.1.0",
		Description: "Regular-expression search over the files of a read-only directory, written in Go with the wasmgate SDK.",
		Permissions: sdk.Permissions{Files: []sdk.FileMount{{Guest: Root, Mode: "ro", Description: "The directory to search."}}},
	})
	sdk.Tool("grep", func(ctx context.Context, a Args) (Found, error) {
		return grep(os.DirFS(Root), a)
	}, sdk.Title("Grep"),
		sdk.Description("Search the files under /data (the directory the operator mounts) for lines matching a regular expression. Returns file, line number and line for each match, up to max_matches; hidden directories, binary files and files over 8 MiB are skipped."),
		sdk.ReadOnly())
}

func main() { sdk.Run() }
