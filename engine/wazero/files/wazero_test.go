//go:build unix

package files

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// TestWazeroDirFSFollowsLinksOut records why this package exists
// (RATIONALE.md, "Files through os.Root"): wazero's own directory mount,
// sysfs.DirFS (what WithDirMount and WithReadOnlyDirMount use), follows a
// symbolic link inside the mount to a file outside it, absolute or
// relative, while New refuses both. If wazero stops following them, this
// test fails and the rationale needs another look.
func TestWazeroDirFSFollowsLinksOut(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("host secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(root, filepath.Join(outside, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"absolute": filepath.Join(outside, "secret"), "relative": rel}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	ours, err := New(root, false)
	if err != nil {
		t.Fatal(err)
	}
	for name := range links {
		f, errno := sysfs.DirFS(root).OpenFile(name, sys.O_RDONLY, 0)
		if errno != 0 {
			t.Errorf("wazero's DirFS no longer follows the %s link out (%v)", name, errno)
			continue
		}
		buf := make([]byte, 32)
		n, _ := f.Read(buf)
		f.Close()
		if string(buf[:n]) != "host secret" {
			t.Errorf("wazero's DirFS read %q through the %s link", buf[:n], name)
		}
		if f, errno := ours.OpenFile(name, sys.O_RDONLY, 0); errno == 0 {
			f.Close()
			t.Errorf("New followed the %s link out", name)
		}
	}
}
