package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/wasmgate/wasmgate/abi"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// recount is the usage of module computed from its entries, to check the
// stored counter against.
func recount(t testing.TB, s *Store, module string) abi.Size {
	t.Helper()
	var n uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketData).Bucket([]byte(module))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			n += entrySize(k, v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return abi.Size(n)
}

// checkUsage fails unless the stored usage counter of module is exactly
// the sum of its entries.
func checkUsage(t testing.TB, s *Store, module string) abi.Size {
	t.Helper()
	got, err := s.Usage(module)
	if err != nil {
		t.Fatal(err)
	}
	if want := recount(t, s, module); got != want {
		t.Fatalf("usage of %s is %d, but its entries add up to %d", module, got, want)
	}
	return got
}

func code(err error) int32 {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "wasmgate")
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s has mode %v, want at most %v", path, got, want)
		}
	}
	if s.Path() != filepath.Join(dir, FileName) {
		t.Errorf("Path() = %s", s.Path())
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("", nil); err == nil || !strings.Contains(err.Error(), "no state directory") {
		t.Errorf("Open(\"\") = %v", err)
	}
	// A file that is not a store is refused, naming it.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), bytes.Repeat([]byte("not bolt"), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Errorf("Open(garbage) = %v, want an error naming the file", err)
	}
}

// A second holder of the same store (another process, or a second Open
// here: flock locks are per open file) is refused with a clear error after
// the lock timeout, and succeeds once the first lets go.
func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, &Options{LockTimeout: 200 * time.Millisecond})
	if err == nil {
		t.Fatal("a second Open of a locked store succeeded")
	}
	for _, want := range []string{filepath.Join(dir, FileName), "another wasmgate may be running"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	s.Close()
	s2, err := Open(dir, &Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestSetGetDelete(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const m = "mod"
	if _, err := s.Get(ctx, m, []byte("a")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get in an empty store: %v", err)
	}
	if err := s.Delete(ctx, m, []byte("a")); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	steps := []struct {
		name  string
		op    string
		key   string
		value string
		want  string // for get: the value, or "!" for not found
	}{
		{"set", "set", "a", "1", ""},
		{"get", "get", "a", "", "1"},
		{"overwrite", "set", "a", "22", ""},
		{"get overwritten", "get", "a", "", "22"},
		{"empty value", "set", "e", "", ""},
		{"empty value is found", "get", "e", "", ""},
		{"binary value", "set", "b", "\x00\xff\x00", ""},
		{"get binary", "get", "b", "", "\x00\xff\x00"},
		{"delete", "delete", "a", "", ""},
		{"deleted is gone", "get", "a", "", "!"},
		{"delete again", "delete", "a", "", ""},
		{"unicode key", "set", "ключ/🔑", "v", ""},
		{"get unicode key", "get", "ключ/🔑", "", "v"},
	}
	for _, st := range steps {
		var err error
		switch st.op {
		case "set":
			err = s.Set(ctx, m, []byte(st.key), []byte(st.value), 1<<20)
		case "delete":
			err = s.Delete(ctx, m, []byte(st.key))
		case "get":
			var v []byte
			v, err = s.Get(ctx, m, []byte(st.key))
			if st.want == "!" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("%s: Get = %q, %v; want ErrNotFound", st.name, v, err)
				}
				continue
			}
			if string(v) != st.want {
				t.Errorf("%s: Get = %q, want %q", st.name, v, st.want)
			}
		}
		if err != nil {
			t.Errorf("%s: %v", st.name, err)
		}
		checkUsage(t, s, m)
	}
	if got := checkUsage(t, s, m); got != abi.Size(1+0+1+3+len("ключ/🔑")+1+3*EntryOverhead) {
		t.Errorf("usage %d", got)
	}
}

func TestKeyAndValueLimits(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	long := strings.Repeat("k", MaxKeyLen)
	tests := []struct {
		name  string
		key   string
		value int
		want  int32
	}{
		{"empty key", "", 1, abi.ErrInvalid},
		{"longest key", long, 1, 0},
		{"key over the limit", long + "k", 1, abi.ErrTooLarge},
		{"key not UTF-8", "a\xffb", 1, abi.ErrInvalid},
		{"largest value", "big", MaxValueLen, 0},
		{"value over the limit", "big2", MaxValueLen + 1, abi.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Set(ctx, "m", []byte(tt.key), make([]byte, tt.value), 4<<20)
			if got := code(err); got != tt.want || (tt.want == 0) != (err == nil) {
				t.Fatalf("Set = %v (code %d), want code %d", err, got, tt.want)
			}
			if tt.want != 0 && tt.value <= MaxValueLen {
				if _, err := s.Get(ctx, "m", []byte(tt.key)); code(err) != tt.want {
					t.Errorf("Get = %v, want code %d", err, tt.want)
				}
				if err := s.Delete(ctx, "m", []byte(tt.key)); code(err) != tt.want {
					t.Errorf("Delete = %v, want code %d", err, tt.want)
				}
			}
		})
	}
	checkUsage(t, s, "m")
}

func TestQuota(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const m = "mod"
	entry := int(entrySize([]byte("k0"), make([]byte, 100)))
	quota := abi.Size(3*entry + entry/2)
	set := func(k string, n int, q abi.Size) error { return s.Set(ctx, m, []byte(k), make([]byte, n), q) }
	for i := range 3 {
		if err := set(fmt.Sprintf("k%d", i), 100, quota); err != nil {
			t.Fatalf("set %d: %v", i, err)
		}
	}
	err := set("k3", 100, quota)
	if code(err) != abi.ErrTooLarge {
		t.Fatalf("a set over the quota: %v", err)
	}
	for _, want := range []string{fmt.Sprintf("over its quota of %d", quota), fmt.Sprintf("%d used now", 3*entry), fmt.Sprintf("to %d bytes", 4*entry), "kv_delete"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("quota error %q does not say %q", err, want)
		}
	}
	if _, err := s.Get(ctx, m, []byte("k3")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused set was stored: %v", err)
	}
	// Growing an existing value past the quota is refused too; rewriting
	// it at the same size is fine.
	if err := set("k0", 100+entry, quota); code(err) != abi.ErrTooLarge {
		t.Errorf("growing a value over the quota: %v", err)
	}
	if err := set("k0", 100, quota); err != nil {
		t.Errorf("rewriting a value at the same size: %v", err)
	}
	// Deleting frees quota.
	if err := s.Delete(ctx, m, []byte("k1")); err != nil {
		t.Fatal(err)
	}
	if err := set("k3", 100, quota); err != nil {
		t.Errorf("a set after a delete freed room: %v", err)
	}
	// Under a lowered quota nothing may grow, but shrinking is allowed.
	if err := set("k4", 0, 10); code(err) != abi.ErrTooLarge {
		t.Errorf("a new entry over a lowered quota: %v", err)
	}
	if err := set("k0", 10, 10); err != nil {
		t.Errorf("shrinking a value over a lowered quota: %v", err)
	}
	// A zero quota stores nothing.
	if err := s.Set(ctx, "other", []byte("a"), nil, 0); code(err) != abi.ErrTooLarge {
		t.Errorf("a set with a zero quota: %v", err)
	}
	if got := checkUsage(t, s, m); got > quota {
		t.Errorf("usage %d is over the quota %d", got, quota)
	}
	if got := checkUsage(t, s, "other"); got != 0 {
		t.Errorf("usage of a module with a zero quota: %d", got)
	}
}

// Modules share a file, never keys: the same key in two modules holds two
// values, listing and usage are per module, and keys that look like bucket
// or path names stay plain keys.
func TestNamespaces(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	tricky := []string{"k", "data", "usage", "meta", "format", "../b/k", "b/k", "/", "b\x00k"}
	for _, k := range tricky {
		if err := s.Set(ctx, "a", []byte(k), []byte("a:"+k), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(ctx, "b", []byte("k"), []byte("b:k"), 1<<20); err != nil {
		t.Fatal(err)
	}
	for _, k := range tricky {
		v, err := s.Get(ctx, "a", []byte(k))
		if err != nil || string(v) != "a:"+k {
			t.Errorf("a/%q = %q, %v", k, v, err)
		}
	}
	if v, _ := s.Get(ctx, "b", []byte("k")); string(v) != "b:k" {
		t.Errorf("b/k = %q", v)
	}
	if _, err := s.Get(ctx, "b", []byte("data")); !errors.Is(err, ErrNotFound) {
		t.Errorf("b sees a's key: %v", err)
	}
	if _, err := s.Get(ctx, "c", []byte("k")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a module with no entries sees a key: %v", err)
	}
	keys, _, err := s.List(ctx, "b", nil, nil, 0)
	if err != nil || !slices.Equal(keys, []string{"k"}) {
		t.Errorf("list b = %q, %v", keys, err)
	}
	if err := s.Delete(ctx, "b", []byte("k")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(ctx, "a", []byte("k")); string(v) != "a:k" {
		t.Errorf("deleting b/k changed a/k: %q", v)
	}
	checkUsage(t, s, "a")
	if got := checkUsage(t, s, "b"); got != 0 {
		t.Errorf("usage of b after deleting its only key: %d", got)
	}
	if err := s.Set(ctx, "", []byte("k"), nil, 100); err == nil {
		t.Error("a set without a module name succeeded")
	}
}

// bulk stores keys for module in one transaction, for tests that need many.
func bulk(t testing.TB, s *Store, module string, keys []string) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketData).CreateBucketIfNotExists([]byte(module))
		if err != nil {
			return err
		}
		used := usage(tx, module)
		for _, k := range keys {
			if err := b.Put([]byte(k), nil); err != nil {
				return err
			}
			used += entrySize([]byte(k), nil)
		}
		return setUsage(tx, module, used)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// listAll pages through List and returns every key.
func listAll(t testing.TB, s *Store, module string, prefix string, limit int) (keys []string, pages int) {
	t.Helper()
	var after []byte
	for {
		page, more, err := s.List(context.Background(), module, []byte(prefix), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		keys = append(keys, page...)
		if !more {
			return keys, pages
		}
		if len(page) == 0 {
			t.Fatal("List says more but returned nothing")
		}
		after = []byte(page[len(page)-1])
		if pages > 10000 {
			t.Fatal("List does not end")
		}
	}
}

func TestList(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var all []string
	for i := range 2500 {
		all = append(all, fmt.Sprintf("user/%05d", i))
	}
	all = append(all, "a", "user", "user0", "v")
	bulk(t, s, "m", all)
	slices.Sort(all)

	// A full listing comes in pages of ListMax, in byte order.
	first, more, err := s.List(ctx, "m", nil, nil, 0)
	if err != nil || len(first) != ListMax || !more {
		t.Fatalf("first page: %d keys, more %v, %v", len(first), more, err)
	}
	got, pages := listAll(t, s, "m", "", 0)
	if !slices.Equal(got, all) || pages != 3 {
		t.Errorf("paging through everything: %d keys in %d pages, want %d in 3", len(got), pages, len(all))
	}
	// Prefixes, with and without paging.
	withPrefix := func(p string) []string {
		var out []string
		for _, k := range all {
			if strings.HasPrefix(k, p) {
				out = append(out, k)
			}
		}
		return out
	}
	for _, tt := range []struct {
		prefix string
		limit  int
	}{{"user/", 0}, {"user/", 7}, {"user/012", 3}, {"user", 0}, {"v", 0}, {"zzz", 0}, {"user/99999", 0}} {
		got, _ := listAll(t, s, "m", tt.prefix, tt.limit)
		if want := withPrefix(tt.prefix); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("prefix %q limit %d: got %d keys, want %d", tt.prefix, tt.limit, len(got), len(want))
		}
	}
	// after is exclusive, need not be a stored key, and may sort before or
	// after the prefix.
	for _, tt := range []struct {
		prefix, after string
		want          []string
	}{
		{"user/0000", "user/00003", []string{"user/00004", "user/00005", "user/00006", "user/00007", "user/00008", "user/00009"}},
		{"user/0000", "user/00003x", []string{"user/00004", "user/00005", "user/00006", "user/00007", "user/00008", "user/00009"}},
		{"user/0000", "a", withPrefix("user/0000")},
		{"user/0000", "zzz", []string{}},
		{"", "user0", []string{"v"}},
	} {
		got, more, err := s.List(ctx, "m", []byte(tt.prefix), []byte(tt.after), 0)
		if err != nil || more || !slices.Equal(got, tt.want) {
			t.Errorf("prefix %q after %q: %q more %v %v; want %q", tt.prefix, tt.after, got, more, err, tt.want)
		}
	}
	// An empty namespace lists as an empty array, not null.
	if keys, more, err := s.List(ctx, "none", nil, nil, 0); keys == nil || len(keys) != 0 || more || err != nil {
		t.Errorf("empty listing: %#v %v %v", keys, more, err)
	}
	if b := encodeList([]string{}, false); string(b) != `{"keys":[],"more":false}` {
		t.Errorf("encodeList = %s", b)
	}
	if b := encodeList([]string{"<a&b>", "é"}, true); string(b) != `{"keys":["<a&b>","é"],"more":true}` {
		t.Errorf("encodeList = %s", b)
	}
	if _, _, err := s.List(ctx, "m", make([]byte, MaxKeyLen+1), nil, 0); code(err) != abi.ErrTooLarge {
		t.Errorf("an oversized prefix: %v", err)
	}
}

// Long keys are listed a page of at most ListMaxBytes at a time.
func TestListByteBound(t *testing.T) {
	s := openTest(t)
	var keys []string
	for i := range 600 {
		keys = append(keys, fmt.Sprintf("%04d%s", i, strings.Repeat("x", MaxKeyLen-4)))
	}
	bulk(t, s, "m", keys)
	page, more, err := s.List(context.Background(), "m", nil, nil, 0)
	if err != nil || !more {
		t.Fatal(more, err)
	}
	if want := ListMaxBytes / MaxKeyLen; len(page) != want {
		t.Errorf("first page has %d keys of %d bytes, want %d", len(page), MaxKeyLen, want)
	}
	got, pages := listAll(t, s, "m", "", 0)
	if !slices.Equal(got, keys) || pages != 3 {
		t.Errorf("paging: %d keys in %d pages", len(got), pages)
	}
}

func TestPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "m", []byte("k"), []byte("v"), 100); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "m", []byte("gone"), []byte("v"), 100); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "m", []byte("gone")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.Get(ctx, "m", []byte("k")); err != nil || string(v) != "v" {
		t.Errorf("after reopening: %q, %v", v, err)
	}
	if _, err := s.Get(ctx, "m", []byte("gone")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted key came back: %v", err)
	}
	checkUsage(t, s, "m")
}

func TestFormatVersion(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("99")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir, nil); err == nil || !strings.Contains(err.Error(), `format "99"`) {
		t.Errorf("Open of a newer format: %v", err)
	}
}

func TestClosed(t *testing.T) {
	s := openTest(t)
	s.Close()
	ctx := context.Background()
	if _, err := s.Get(ctx, "m", []byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("Get: %v", err)
	}
	if err := s.Set(ctx, "m", []byte("k"), nil, 100); !errors.Is(err, ErrClosed) {
		t.Errorf("Set: %v", err)
	}
	if err := s.Delete(ctx, "m", []byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("Delete: %v", err)
	}
	if _, _, err := s.List(ctx, "m", nil, nil, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("List: %v", err)
	}
}

// A write waiting for other writers gives up at its context's deadline
// and changes nothing.
func TestWriteHonoursContext(t *testing.T) {
	s := openTest(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Set(cancelled, "m", []byte("k"), nil, 100); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a cancelled context: %v", err)
	}
	if _, err := s.Get(cancelled, "m", []byte("k")); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v", err)
	}

	s.writer <- struct{}{} // another writer holds the slot
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.Set(ctx, "m", []byte("k"), []byte("v"), 100)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Set behind a stuck writer: %v", err)
	}
	if err := s.Delete(ctx, "m", []byte("k")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Delete behind a stuck writer: %v", err)
	}
	<-s.writer
	if _, err := s.Get(context.Background(), "m", []byte("k")); !errors.Is(err, ErrNotFound) {
		t.Errorf("a timed-out set was stored: %v", err)
	}
	if err := s.Set(context.Background(), "m", []byte("k"), []byte("v"), 100); err != nil {
		t.Errorf("Set once the slot is free: %v", err)
	}
}

// Many writers of one module racing for the last bytes of its quota: the
// check and the write are one transaction, so exactly as many entries fit
// as the quota allows, and the usage counter stays exact through a storm
// of overwrites and deletes.
func TestHammerQuota(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const (
		goroutines = 16
		perG       = 40
		value      = 50
		fit        = 100
	)
	entry := entrySize([]byte("g00-000"), make([]byte, value))
	quota := abi.Size(fit*entry + entry - 1)

	var stored, refused atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range perG {
				err := s.Set(ctx, "m", fmt.Appendf(nil, "g%02d-%03d", g, i), make([]byte, value), quota)
				switch code(err) {
				case 0:
					if err != nil {
						t.Error(err)
						return
					}
					stored.Add(1)
				case abi.ErrTooLarge:
					refused.Add(1)
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if stored.Load() != fit || refused.Load() != goroutines*perG-fit {
		t.Errorf("%d stored and %d refused; want exactly %d stored", stored.Load(), refused.Load(), fit)
	}
	if got := checkUsage(t, s, "m"); got != abi.Size(fit*entry) {
		t.Errorf("usage %d, want %d", got, fit*entry)
	}

	// Now overwrite with random sizes and delete at random, all at once.
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range perG {
				k := fmt.Appendf(nil, "g%02d-%03d", r.IntN(goroutines), r.IntN(perG))
				var err error
				if r.IntN(3) == 0 {
					err = s.Delete(ctx, "m", k)
				} else {
					err = s.Set(ctx, "m", k, make([]byte, r.IntN(3*value)), quota)
				}
				if err != nil && code(err) != abi.ErrTooLarge {
					t.Error(err)
					return
				}
			}
		})
	}
	// Readers and listers run alongside.
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if _, _, err := s.List(ctx, "m", []byte("g0"), nil, 0); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Get(ctx, "m", []byte("g00-000")); err != nil && !errors.Is(err, ErrNotFound) {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := checkUsage(t, s, "m"); got > quota {
		t.Errorf("usage %d is over the quota %d", got, quota)
	}
}
