//go:build unix

package files

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// renameTree builds a writable mount holding links the host operator made
// with ".." in their targets, all pointing inside where they are:
//
//	a/up1 -> ..               (the root)
//	a/b/c/up3 -> ../../..     (the root)
//	a/b/c/f.txt
//	a/abs -> /etc             (out: absolute)
//	a/odd -> x/../..          (".." after a name: the root, if x is a directory)
//	a/down -> b/c             (downward, as a guest may make)
//	flat -> a/b/c             (a name that looks shallower than its directory)
//	t/d1/d2/l -> ../../..     (the root)
//	u/v/w/l2 -> ..            (u/v)
//	plain/x/y/z.txt
//	huge/big/ with maxWalk+1 files
func renameTree(t *testing.T, withHuge bool) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"a/b/c", "t/d1/d2", "u/v/w", "plain/x/y", "huge/big"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a/b/c/f.txt", "plain/x/y/z.txt"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"a/up1": "..", "a/b/c/up3": "../../..", "a/abs": "/etc", "a/odd": "x/../..", "a/down": "b/c",
		"flat": "a/b/c", "t/d1/d2/l": "../../..", "u/v/w/l2": "..",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if withHuge {
		for i := range maxWalk + 1 {
			if err := os.WriteFile(filepath.Join(root, "huge/big", fmt.Sprintf("f%05d", i)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// escapingLinks lists the relative links under root that a host program
// following them from where they are would leave root by, as the kernel
// resolves them: each ".." from the link's own directory.
func escapingLinks(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if filepath.IsAbs(target) {
			return nil // the operator's, pointing out wherever it is
		}
		resolved, err := filepath.Rel(root, filepath.Join(filepath.Dir(p), target))
		if err != nil || resolved == ".." || strings.HasPrefix(resolved, "../") {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel+" -> "+target)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A rename never leaves a link pointing outside: a link moves only to where
// it still points inside, and a directory moved closer to the root is
// refused when a link in it would then point outside.
func TestRenameKeepsLinksInside(t *testing.T) {
	root := renameTree(t, true)
	if got := escapingLinks(t, root); len(got) > 0 {
		t.Fatalf("the tree starts with escaping links %v", got)
	}
	for _, c := range []struct {
		name, from, to string
		want           experimentalsys.Errno
	}{
		// Links.
		{"link to .. moved to the root", "a/up1", "up1", experimentalsys.EPERM},
		{"link to .. renamed in its directory", "a/up1", "a/up1b", 0},
		{"link to .. moved to the same depth", "a/up1", "t/up1", 0},
		{"link to .. moved deeper", "a/up1", "a/b/up1", 0},
		{"link to ../../.. moved one up", "a/b/c/up3", "a/b/up3", experimentalsys.EPERM},
		{"link to ../../.. moved to the root", "a/b/c/up3", "up3", experimentalsys.EPERM},
		{"link moved through a name that looks shallow", "a/b/c/up3", "flat/up3b", 0},
		{"link moved through a name that looks deep", "a/b/c/up3", "a/up1/t/up3", experimentalsys.EPERM},
		{"link moved with a trailing slash", "a/up1/", "t/up1", experimentalsys.ENOTDIR},
		{"absolute link renamed", "a/abs", "a/abs2", experimentalsys.EPERM},
		{"link with .. after a name renamed", "a/odd", "a/odd2", experimentalsys.EPERM},
		{"downward link moved to the root", "a/down", "down", 0},
		// Directories.
		{"directory renamed in its parent", "t/d1", "t/d1b", 0},
		{"directory moved to the same depth", "t/d1", "u/d1", 0},
		{"directory moved deeper", "t/d1", "a/b/d1", 0},
		{"directory whose link would escape moved up", "t/d1", "d1", experimentalsys.EPERM},
		{"directory whose link would escape moved up through a link", "t/d1", "a/up1/d1", experimentalsys.EPERM},
		{"directory holding the escaping-to-be link deep inside moved up", "a/b", "b", experimentalsys.EPERM},
		{"directory with a link still inside moved up", "u/v", "v", 0},
		{"directory without links moved up", "plain/x", "x", 0},
		{"directory with an absolute link moved up", "a", "t/d1/a", 0}, // deeper: not walked
		{"directory over the walk bound moved up", "huge/big", "big", experimentalsys.EPERM},
		{"directory over the walk bound moved across", "huge/big", "t/big", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := root
			if c.from != "huge/big" {
				root = renameTree(t, false)
			}
			_, f := mountCall(t, NewShared(0), context.Background(), 0, root, true)
			before := Snapshot(t, root)
			if errno := f.Rename(c.from, c.to); errno != c.want {
				t.Fatalf("Rename(%s, %s) = %v, want %v", c.from, c.to, errno, c.want)
			}
			if c.want != 0 {
				SameSnapshot(t, "a refused rename", before, Snapshot(t, root))
			} else if _, err := os.Lstat(filepath.Join(root, c.from)); err == nil {
				t.Errorf("%s is still there after its rename", c.from)
			}
			if got := escapingLinks(t, root); len(got) > 0 {
				t.Errorf("escaping links after the rename: %v", got)
			}
		})
	}
}

func TestClimbs(t *testing.T) {
	for _, c := range []struct {
		target string
		up     int
		ok     bool
	}{
		{"a", 0, true}, {"a/b/", 0, true}, {"./a", 0, true}, {"..", 1, true}, {"../..", 2, true},
		{".././../x/y", 2, true}, {"..//../x", 2, true}, {"a/..", 0, false}, {"a/../..", 0, false},
		{"/etc", 0, false}, {"", 0, false}, {"../a/../b", 0, false},
	} {
		up, ok := climbs(c.target)
		if up != c.up || ok != c.ok {
			t.Errorf("climbs(%q) = %d, %v; want %d, %v", c.target, up, ok, c.up, c.ok)
		}
	}
}

// Calls renaming links and directories at once, each checked alone, never
// leave a link pointing outside together: their renames take turns.
func TestRenameHammer(t *testing.T) {
	root := renameTree(t, false)
	shared := NewShared(0)
	moves := [][2]string{
		{"a/b", "b"}, {"b", "a/b"}, {"a/b/c/up3", "a/b/c/f/up3"}, {"a/b/c/f/up3", "a/b/c/up3"},
		{"t/d1", "d1"}, {"d1", "t/d1"}, {"t/d1/d2/l", "t/l"}, {"t/l", "t/d1/d2/l"},
		{"u/v", "v"}, {"v", "u/v"}, {"a/up1", "up1"}, {"a/up1", "a/b/up1"}, {"a/b/up1", "a/up1"},
	}
	if err := os.Mkdir(filepath.Join(root, "a/b/c/f"), 0o755); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		_, f := mountCall(t, shared, context.Background(), 0, root, true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for range 400 {
				m := moves[r.IntN(len(moves))]
				f.Rename(m[0], m[1])
			}
		}()
	}
	wg.Wait()
	if got := escapingLinks(t, root); len(got) > 0 {
		t.Errorf("escaping links after concurrent renames: %v", got)
	}
}
