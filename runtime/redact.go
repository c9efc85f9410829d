package runtime

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// redactor replaces secret values with a marker wherever the guest could
// echo them: the result, the log, stderr.
type redactor struct{ r *strings.Replacer }

const redacted = "[REDACTED]"

func newRedactor(secrets []string) *redactor {
	var pairs []string
	for _, v := range secrets {
		if len(v) < 4 { // shorter values would redact ordinary text
			continue
		}
		pairs = append(pairs, v, redacted)
		if q, _ := json.Marshal(v); string(q[1:len(q)-1]) != v {
			pairs = append(pairs, string(q[1:len(q)-1]), redacted) // as it appears inside JSON
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return &redactor{strings.NewReplacer(pairs...)}
}

func (r *redactor) String(s string) string {
	if r == nil {
		return s
	}
	return r.r.Replace(s)
}

// JSON redacts a JSON document as its reader will see it: every string,
// object keys included, is decoded (so \u escapes and other spellings of a
// secret are caught) before secrets are replaced. The document is
// re-encoded only when something was replaced; bytes that are not one JSON
// value are redacted as plain text (a plain reply is taken as text).
func (r *redactor) JSON(b []byte) []byte {
	if r == nil {
		return b
	}
	// Without a backslash, every string of a valid UTF-8 document reads
	// exactly as it is written: when no secret appears in the bytes, none
	// appears in any string, and nothing needs decoding.
	if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		if s := string(b); r.r.Replace(s) == s {
			return b
		}
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return []byte(r.String(string(b)))
	}
	v, changed := r.value(v)
	if !changed {
		return b
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(r.String(string(b)))
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

// value redacts the strings of a decoded JSON value and reports whether any
// changed.
func (r *redactor) value(v any) (any, bool) {
	switch v := v.(type) {
	case string:
		s := r.String(v)
		return s, s != v
	case []any:
		changed := false
		for i, e := range v {
			var c bool
			v[i], c = r.value(e)
			changed = changed || c
		}
		return v, changed
	case map[string]any:
		changed := false
		for k, e := range v {
			e, c := r.value(e)
			if rk := r.String(k); rk != k {
				delete(v, k)
				k, c = rk, true
			}
			v[k] = e
			changed = changed || c
		}
		return v, changed
	}
	return v, false
}
