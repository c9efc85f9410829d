package abi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Size is a number of bytes. In JSON and YAML it is an integer number of
// bytes or a string with a unit: "64KiB", "128MiB", "1GiB" (powers of 1024)
// or "500KB", "2MB", "1GB" (powers of 1000).
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"B", 1},
}

var sizeNumberRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// ParseSize parses a size such as "128MiB" or "4096".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || !sizeNumberRE.MatchString(t) {
		return 0, fmt.Errorf("invalid size %q: want bytes or a number with KiB, MiB, GiB, KB, MB or GB", s)
	}
	v := n * float64(mult)
	if v > 1<<50 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return Size(v), nil
}

// String formats the size exactly when a binary unit divides it ("128MiB"),
// else to two decimals of the largest unit it reaches ("3.82MiB").
func (s Size) String() string {
	for _, u := range []struct {
		name string
		mult Size
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s >= u.mult {
			if s%u.mult == 0 {
				return fmt.Sprintf("%d%s", s/u.mult, u.name)
			}
			return strconv.FormatFloat(float64(s)/float64(u.mult), 'f', 2, 64) + u.name
		}
	}
	return fmt.Sprintf("%dB", int64(s))
}

// MarshalJSON writes the size as a string with a unit when that is exact,
// else as a number of bytes.
func (s Size) MarshalJSON() ([]byte, error) {
	if str := s.String(); !strings.Contains(str, ".") {
		return json.Marshal(str)
	}
	return json.Marshal(int64(s))
}

// UnmarshalJSON accepts an integer byte count or a string with a unit.
func (s *Size) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 0 {
			return fmt.Errorf("invalid size %d: must not be negative", n)
		}
		*s = Size(n)
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("invalid size %s: want a string such as \"64MiB\" or a number of bytes", b)
	}
	v, err := ParseSize(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalText lets Size be used in YAML and flags.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Duration is a time.Duration written as a Go duration string ("10s",
// "1m30s", "500ms") in JSON and YAML.
type Duration time.Duration

// String formats the duration like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("invalid duration %s: want a string such as \"10s\" or \"500ms\"", b)
	}
	return d.UnmarshalText([]byte(str))
}

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil || v < 0 {
		return fmt.Errorf("invalid duration %q: want a positive duration such as \"10s\" or \"500ms\"", b)
	}
	*d = Duration(v)
	return nil
}
