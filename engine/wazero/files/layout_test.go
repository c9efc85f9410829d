//go:build unix

package files

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Layout is a host directory tree for escape tests:
//
//	base/outside/secret.txt   "TOP SECRET" (what no guest may read or change)
//	base/outside/dir/
//	base/mnt/                 the mounted directory
//	  in.txt                  "inside"
//	  sub/deep.txt            "deep"
//	  abs     -> base/outside/secret.txt   (absolute, out)
//	  rel     -> ../outside/secret.txt     (relative, out)
//	  sub/up  -> ../../outside/secret.txt  (relative from a subdirectory, out)
//	  chain1  -> chain2 -> sub/up          (a chain ending out)
//	  okchain -> sub/okup -> ../in.txt     (a chain staying inside)
//	  dirlink -> base/outside              (a directory, absolute)
//	  reldir  -> ../outside                (a directory, relative)
//	  dangling -> ../outside/new.txt       (out, does not exist yet)
//	  emptydir/
type Layout struct {
	Base, Mnt, Outside, Secret string
}

// SecretText is the content of the file outside the mount.
const SecretText = "TOP SECRET"

// NewLayout builds the tree in a fresh temporary directory.
func NewLayout(t testing.TB) Layout {
	t.Helper()
	base := t.TempDir()
	l := Layout{Base: base, Mnt: filepath.Join(base, "mnt"), Outside: filepath.Join(base, "outside")}
	l.Secret = filepath.Join(l.Outside, "secret.txt")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{l.Outside, filepath.Join(l.Outside, "dir"), filepath.Join(l.Mnt, "sub"), filepath.Join(l.Mnt, "emptydir")} {
		must(os.MkdirAll(d, 0o755))
	}
	must(os.WriteFile(l.Secret, []byte(SecretText), 0o644))
	must(os.WriteFile(filepath.Join(l.Mnt, "in.txt"), []byte("inside"), 0o644))
	must(os.WriteFile(filepath.Join(l.Mnt, "sub", "deep.txt"), []byte("deep"), 0o644))
	for link, target := range map[string]string{
		"abs":      l.Secret,
		"rel":      "../outside/secret.txt",
		"sub/up":   "../../outside/secret.txt",
		"chain1":   "chain2",
		"chain2":   "sub/up",
		"okchain":  "sub/okup",
		"sub/okup": "../in.txt",
		"dirlink":  l.Outside,
		"reldir":   "../outside",
		"dangling": "../outside/new.txt",
	} {
		must(os.Symlink(target, filepath.Join(l.Mnt, link)))
	}
	// Known times, so a change is visible even within the clock's resolution.
	old := time.Unix(1_000_000_000, 0)
	must(filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, old, old)
	}))
	return l
}

// Snapshot describes every entry under base: type, permissions, size,
// modification time, and the content of files or target of links.
func Snapshot(t testing.TB, base string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		desc := fmt.Sprintf("%v mtime=%d", info.Mode(), info.ModTime().UnixNano())
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" size=%d %q", info.Size(), b)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + target
		}
		snap[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// SameSnapshot fails the test with every difference between two snapshots.
func SameSnapshot(t testing.TB, what string, before, after map[string]string) {
	t.Helper()
	var diffs []string
	for k, v := range before {
		if w, ok := after[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("removed %s (%s)", k, v))
		} else if w != v {
			diffs = append(diffs, fmt.Sprintf("changed %s: %s => %s", k, v, w))
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("added %s (%s)", k, v))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Errorf("%s changed the host tree:\n\t%s", what, strings.Join(diffs, "\n\t"))
	}
}
