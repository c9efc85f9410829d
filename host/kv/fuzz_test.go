package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// FuzzHostArgs calls kv_get, kv_set, kv_delete and kv_list from a real
// guest with arbitrary integers for pointers and lengths. Whatever they
// are, the call ends with a status and a held message, or with
// host_misuse: never a trap, a crash of the host or an internal error; and
// the store's accounting stays exact.
func FuzzHostArgs(f *testing.F) {
	s := openTest(f)
	m := loadAs(f, newRuntime(f, s), "kv")
	g := grant(64 << 10)
	f.Add(uint8(0), uint32(1024), uint32(8), uint32(0), uint32(0))
	f.Add(uint8(1), uint32(1024), uint32(8), uint32(2048), uint32(64))
	f.Add(uint8(1), uint32(0), uint32(1), uint32(0), uint32(1<<20+1))
	f.Add(uint8(2), uint32(0xFFFFFFFF), uint32(1), uint32(0), uint32(0))
	f.Add(uint8(3), uint32(0), uint32(0), uint32(0), uint32(0))
	f.Add(uint8(3), uint32(65535), uint32(2), uint32(0xFFFF0000), uint32(0x10000))
	fns := []string{"get", "set", "delete", "list"}
	f.Fuzz(func(t *testing.T, fn uint8, a, b, c, d uint32) {
		args, _ := json.Marshal(map[string]any{"op": "raw", "fn": fns[int(fn)%len(fns)], "a": a, "b": b, "c": c, "d": d})
		out, err := m.Call(context.Background(), runtime.Call{Tool: "kv", Arguments: args, Grant: g})
		if err != nil {
			t.Fatal(err)
		}
		if out.Err != nil {
			if out.Err.Kind != runtime.KindHostMisuse {
				t.Fatalf("%s: %v", args, out.Err)
			}
		} else if got := text(out.Result); !strings.HasPrefix(got, "ok ") && !hasErrorStatus(got) {
			t.Fatalf("%s: %q", args, got)
		}
		if used := checkUsage(t, s, "kv"); used > 64<<10 {
			t.Fatalf("usage %d over the quota", used)
		}
	})
}

func hasErrorStatus(s string) bool {
	for _, c := range []int32{abi.ErrInvalid, abi.ErrTooLarge, abi.ErrNotFound} {
		if strings.HasPrefix(s, fmt.Sprintf("error %d: ", c)) {
			return true
		}
	}
	return false
}

// FuzzStore runs a sequence of operations decoded from the input against
// the store and against a map, and checks they agree: values, quota
// decisions, listings page by page, and the usage counter.
func FuzzStore(f *testing.F) {
	f.Add([]byte("\x00a\x05\x00b\x10\x01a\x00\x03\x00\x00\x02a\x00"))
	f.Add(bytes.Repeat([]byte("\x00k\xff"), 40))
	f.Add([]byte("\x00\xe2\x82\x00\x03k\x00"))
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := openTest(t)
		s.db.NoSync = true // durability is TestAckedWritesSurviveKill's business; speed is ours
		ctx := context.Background()
		const quota = 2000
		model := map[string][]byte{}
		used := func() int {
			n := 0
			for k, v := range model {
				n += int(entrySize([]byte(k), v))
			}
			return n
		}
		for len(ops) >= 3 {
			op, key, n := ops[0]%4, keyFrom(ops[1]), int(ops[2])*8
			ops = ops[3:]
			switch op {
			case 0:
				value := bytes.Repeat([]byte{byte(n)}, n)
				old, had := model[string(key)]
				next := used() + int(entrySize(key, value))
				if had {
					next -= int(entrySize(key, old))
				}
				err := s.Set(ctx, "m", key, value, quota)
				wantErr := checkKey(key) != nil || (next > used() && next > quota)
				if (err != nil) != wantErr {
					t.Fatalf("Set(%q, %d bytes) = %v with %d used, want error %v", key, n, err, used(), wantErr)
				}
				if err == nil {
					model[string(key)] = value
				}
			case 1:
				v, err := s.Get(ctx, "m", key)
				want, ok := model[string(key)]
				if ok != (err == nil) || !bytes.Equal(v, want) {
					t.Fatalf("Get(%q) = %d bytes, %v; want %d bytes, found %v", key, len(v), err, len(want), ok)
				}
				if !ok && checkKey(key) == nil && !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get(%q) = %v, want ErrNotFound", key, err)
				}
			case 2:
				err := s.Delete(ctx, "m", key)
				if (err != nil) != (checkKey(key) != nil) {
					t.Fatalf("Delete(%q) = %v", key, err)
				}
				delete(model, string(key))
			case 3:
				prefix := key[:n%(len(key)+1)]
				var want []string
				for k := range model {
					if strings.HasPrefix(k, string(prefix)) {
						want = append(want, k)
					}
				}
				slices.Sort(want)
				got, _ := listAll(t, s, "m", string(prefix), 1+n%5)
				if !slices.Equal(got, want) && len(got)+len(want) > 0 {
					t.Fatalf("List(%q) = %q, want %q", prefix, got, want)
				}
			}
			if got, _ := s.Usage("m"); int(got) != used() {
				t.Fatalf("usage %d, the entries add up to %d", got, used())
			}
		}
	})
}

// keyFrom makes a short key from a byte, so keys collide and share
// prefixes; some are empty or not UTF-8.
func keyFrom(b byte) []byte {
	switch b {
	case 0:
		return nil
	case 1:
		return []byte{0xff, 'x'}
	}
	return []byte(fmt.Sprintf("%o", b))
}
