// Package kv gives each module a persistent key-value namespace: the host
// functions kv_get, kv_set, kv_delete and kv_list of abi/ABI.md, backed by
// one bbolt file.
//
// A module reaches only its own namespace, named by the module's manifest
// name: the guest chooses keys, never the namespace. A call may use the
// store only when its grant has a KV entry, and its module may then hold at
// most Grant.Quota bytes. Every write the guest sees acknowledged is
// committed and synced to disk before the host function returns.
//
//	store, err := kv.Open(stateDir, nil)
//	...
//	defer store.Close()
//	cfg := runtime.NewConfig().WithHostFunctions(store.HostFuncs()...)
package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/wasmgate/wasmgate/abi"
)

// Limits of one entry and one listing. They are part of the ABI (ABI.md).
const (
	// MaxKeyLen is the longest key, in bytes.
	MaxKeyLen = 1 << 10
	// MaxValueLen is the longest value, in bytes.
	MaxValueLen = 1 << 20
	// ListMax is the most keys one kv_list returns.
	ListMax = 1000
	// ListMaxBytes bounds the keys one kv_list returns by their total
	// length, so a listing of long keys stays small too.
	ListMaxBytes = 256 << 10
	// EntryOverhead is what each entry counts against the quota on top of
	// its key and value bytes: the store's own bookkeeping per entry, so
	// a quota also bounds a flood of empty entries.
	EntryOverhead = 32
)

// FileName is the store's file in its directory.
const FileName = "kv.db"

// DefaultLockTimeout is how long Open waits for another process holding
// the store to let go.
const DefaultLockTimeout = time.Second

// Options configure Open. A nil *Options means all defaults.
type Options struct {
	// LockTimeout is how long Open waits for the file lock that another
	// process (another wasmgate on the same state directory) holds.
	// If zero, defaults to DefaultLockTimeout.
	LockTimeout time.Duration
}

// Store is an open key-value store. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	// writer admits one write transaction at a time. bbolt serializes
	// writers itself, but on a mutex; waiting here instead honours the
	// call's context, so a call stuck behind other writers still stops at
	// its deadline.
	writer chan struct{}
}

// Top-level buckets. Module names ([A-Za-z0-9_.-]) live one level down, so
// no module name can collide with these.
var (
	bucketData  = []byte("data")  // data/<module>/<key> = value
	bucketUsage = []byte("usage") // usage/<module> = uint64 bytes used
	bucketMeta  = []byte("meta")  // meta/format = formatVersion
	keyFormat   = []byte("format")
)

const formatVersion = "1"

// Open opens (creating when needed) the store in dir: the directory is
// created with mode 0700 and the file with mode 0600. Only one process can
// hold the store; Open fails after LockTimeout if another one does.
func Open(dir string, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if dir == "" {
		return nil, errors.New("open key-value store: no state directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open key-value store: create state directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open key-value store %s: the file is locked by another process (another wasmgate may be running with the same state directory); stop it or use another state directory", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open key-value store %s: %w", path, err)
	}
	// Every acknowledged write must survive a crash: keep bbolt's fsync
	// on every commit.
	db.NoSync = false
	s := &Store{db: db, path: path, writer: make(chan struct{}, 1)}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketData, bucketUsage, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch f := meta.Get(keyFormat); {
		case f == nil:
			return meta.Put(keyFormat, []byte(formatVersion))
		case string(f) != formatVersion:
			return fmt.Errorf("the file has format %q, and this wasmgate reads format %s", f, formatVersion)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open key-value store %s: %w", path, err)
	}
	return s, nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the store, waiting for transactions in progress.
func (s *Store) Close() error { return s.db.Close() }

// ErrNotFound is returned by Get for a key that is not stored.
var ErrNotFound = errors.New("key not found")

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("the key-value store is closed")

// Error is a request the store refuses: an invalid or oversized key or
// value, or a write over the quota. Code is the ABI status it maps to
// (abi.ErrInvalid or abi.ErrTooLarge).
type Error struct {
	Code int32
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// entrySize is what one entry counts against the quota.
func entrySize(key, value []byte) uint64 {
	return uint64(len(key)) + uint64(len(value)) + EntryOverhead
}

// checkKey validates a key given to get, set or delete.
func checkKey(key []byte) error {
	switch {
	case len(key) == 0:
		return &Error{abi.ErrInvalid, "the key is empty; keys are 1 to 1024 bytes of UTF-8"}
	case len(key) > MaxKeyLen:
		return &Error{abi.ErrTooLarge, fmt.Sprintf("the key is %d bytes, over the limit of %d", len(key), MaxKeyLen)}
	case !utf8.Valid(key):
		return &Error{abi.ErrInvalid, "the key is not valid UTF-8; keys are 1 to 1024 bytes of UTF-8"}
	}
	return nil
}

func checkModule(module string) error {
	if module == "" {
		return errors.New("no module name")
	}
	return nil
}

// mapErr turns bbolt's errors into ours.
func mapErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Get returns the value of key in module's namespace, or ErrNotFound.
func (s *Store) Get(ctx context.Context, module string, key []byte) ([]byte, error) {
	if err := checkModule(module); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var value []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketData).Bucket([]byte(module))
		if b == nil {
			return ErrNotFound
		}
		v, ok := lookup(b, key)
		if !ok {
			return ErrNotFound
		}
		value = append(make([]byte, 0, len(v)), v...) // v is only valid inside the transaction
		return nil
	})
	return value, mapErr(err)
}

// lookup finds key in b. A cursor tells a stored empty value from a missing
// key, which Bucket.Get does not reliably do.
func lookup(b *bolt.Bucket, key []byte) ([]byte, bool) {
	k, v := b.Cursor().Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil, false
	}
	return v, true
}

// Set stores value under key in module's namespace. The write is refused
// with an *Error of code abi.ErrTooLarge when it would bring the module's
// usage over quota (a write that does not grow the usage is always
// allowed, so a module over a lowered quota can still shrink). The check
// and the write are one transaction, committed and synced before Set
// returns.
func (s *Store) Set(ctx context.Context, module string, key, value []byte, quota abi.Size) error {
	if err := checkModule(module); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueLen {
		return &Error{abi.ErrTooLarge, fmt.Sprintf("the value is %d bytes, over the limit of %d", len(value), MaxValueLen)}
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketData).CreateBucketIfNotExists([]byte(module))
		if err != nil {
			return err
		}
		used := usage(tx, module)
		next := used + entrySize(key, value)
		if old, ok := lookup(b, key); ok {
			next -= entrySize(key, old)
		}
		if next > used && (quota <= 0 || next > uint64(quota)) {
			return &Error{abi.ErrTooLarge, fmt.Sprintf("storing this value would bring module %s's storage to %d bytes, over its quota of %d (%d used now, each entry counts its key and value plus %d bytes); delete keys with kv_delete or ask the operator for a larger kv quota",
				module, next, max(quota, 0), used, EntryOverhead)}
		}
		if err := b.Put(key, value); err != nil {
			return err
		}
		return setUsage(tx, module, next)
	})
}

// Delete removes key from module's namespace. Deleting a missing key is
// not an error. The deletion is committed and synced before Delete returns.
func (s *Store) Delete(ctx context.Context, module string, key []byte) error {
	if err := checkModule(module); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketData).Bucket([]byte(module))
		if b == nil {
			return errNoChange
		}
		old, ok := lookup(b, key)
		if !ok {
			return errNoChange
		}
		used := usage(tx, module)
		used -= min(used, entrySize(key, old))
		if err := b.Delete(key); err != nil {
			return err
		}
		return setUsage(tx, module, used)
	})
	if err == errNoChange {
		return nil
	}
	return err
}

// errNoChange rolls back a write transaction that changed nothing, sparing
// a commit.
var errNoChange = errors.New("no change")

// List returns, in byte order, the keys of module's namespace that start
// with prefix and sort after after (all of them when after is empty), at
// most limit of them (ListMax when limit <= 0 or over ListMax) and at most
// ListMaxBytes of key bytes. more reports whether keys are left: list
// again with after set to the last key returned.
func (s *Store) List(ctx context.Context, module string, prefix, after []byte, limit int) (keys []string, more bool, err error) {
	if err := checkModule(module); err != nil {
		return nil, false, err
	}
	if len(prefix) > MaxKeyLen || len(after) > MaxKeyLen {
		return nil, false, &Error{abi.ErrTooLarge, fmt.Sprintf("the prefix (%d bytes) or the key to list after (%d bytes) is over the key limit of %d", len(prefix), len(after), MaxKeyLen)}
	}
	if limit <= 0 || limit > ListMax {
		limit = ListMax
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	keys = []string{}
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketData).Bucket([]byte(module))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k []byte
		if bytes.Compare(after, prefix) >= 0 {
			if k, _ = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		} else {
			k, _ = c.Seek(prefix)
		}
		total := 0
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(keys) == limit || total+len(k) > ListMaxBytes {
				more = true
				return nil
			}
			keys = append(keys, string(k))
			total += len(k)
		}
		return nil
	})
	if err != nil {
		return nil, false, mapErr(err)
	}
	return keys, more, nil
}

// Usage is the bytes module's entries count against its quota.
func (s *Store) Usage(module string) (abi.Size, error) {
	var used uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		used = usage(tx, module)
		return nil
	})
	return abi.Size(used), mapErr(err)
}

// update runs fn in a write transaction, waiting for the writer slot no
// longer than ctx allows. bbolt commits with fsync: when update returns nil
// the write is on disk.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.writer }()
	return mapErr(s.db.Update(fn))
}

func usage(tx *bolt.Tx, module string) uint64 {
	v := tx.Bucket(bucketUsage).Get([]byte(module))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func setUsage(tx *bolt.Tx, module string, used uint64) error {
	if used == 0 {
		return tx.Bucket(bucketUsage).Delete([]byte(module))
	}
	return tx.Bucket(bucketUsage).Put([]byte(module), binary.BigEndian.AppendUint64(nil, used))
}
