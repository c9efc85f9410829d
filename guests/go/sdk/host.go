package sdk

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error is a host function's failure: the ABI status code (negative) and the
// host's message. Compare with errors.Is against ErrInvalid, ErrDenied,
// ErrFailed, ErrTooLarge, ErrNotFound and ErrCancelled.
type Error struct {
	Op      string // the host function, e.g. "kv_get"
	Code    int32
	Message string
}

// The ABI's status codes (abi/ABI.md section 4), for errors.Is.
var (
	ErrInvalid   = &Error{Code: -1}
	ErrDenied    = &Error{Code: -2}
	ErrFailed    = &Error{Code: -3}
	ErrTooLarge  = &Error{Code: -4}
	ErrNotFound  = &Error{Code: -5}
	ErrCancelled = &Error{Code: -6}
)

var codeNames = map[int32]string{-1: "invalid", -2: "denied", -3: "failed", -4: "too_large", -5: "not_found", -6: "cancelled"}

// CodeName is the ABI name of the code ("denied").
func (e *Error) CodeName() string {
	if n, ok := codeNames[e.Code]; ok {
		return n
	}
	return "status " + strconv.Itoa(int(e.Code))
}

func (e *Error) Error() string {
	s := e.CodeName()
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether target is an Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// call finishes a request-style host call: on success it returns the held
// response, on failure an *Error with the held message.
func finish(op string, status int32) ([]byte, error) {
	held := rawTake()
	if status < 0 {
		return nil, &Error{Op: op, Code: status, Message: string(held)}
	}
	return held, nil
}

// Level is an MCP logging level.
type Level uint32

// The MCP logging levels.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelNotice
	LevelWarning
	LevelError
	LevelCritical
	LevelAlert
	LevelEmergency
)

// String names the level as MCP does.
func (l Level) String() string {
	names := [...]string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}
	if int(l) >= len(names) {
		return names[len(names)-1]
	}
	return names[l]
}

// Log sends a log message to the client at level. Messages over 8 KiB are
// cut by the host; one call may send at most 1,000 log and progress events.
func Log(level Level, msg string) { rawLog(uint32(level), msg) }

// Logf is Log with fmt.Sprintf.
func Logf(level Level, format string, args ...any) { Log(level, fmt.Sprintf(format, args...)) }

// Progress reports progress (of total, which is <= 0 when unknown) with an
// optional message. It reaches the client when the call has a progress
// token.
func Progress(progress, total float64, msg string) { rawProgress(progress, total, msg) }

// HTTPRequest is the request of http_request (abi/ABI.md, http_request).
type HTTPRequest struct {
	Method  string            `json:"method,omitempty"` // default GET
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	// Body is sent as text when it is valid UTF-8, else as bodyBase64.
	Body []byte `json:"-"`
}

// HTTPResponse is what http_request answers, whatever the HTTP status.
type HTTPResponse struct {
	Status  int               `json:"status"`
	URL     string            `json:"url"` // after redirects
	Headers map[string]string `json:"headers"`
	Body    []byte            `json:"-"`
}

type wireRequest struct {
	HTTPRequest
	Body       *string `json:"body,omitempty"`
	BodyBase64 string  `json:"bodyBase64,omitempty"`
}

type wireResponse struct {
	HTTPResponse
	Body       *string `json:"body"`
	BodyBase64 string  `json:"bodyBase64"`
}

// HTTP sends one request through the host. It needs a network grant that
// covers the URL's host; errors are *Error (ErrDenied without one).
func HTTP(req HTTPRequest) (*HTTPResponse, error) {
	w := wireRequest{HTTPRequest: req}
	if len(req.Body) > 0 {
		if isUTF8(req.Body) {
			s := string(req.Body)
			w.Body = &s
		} else {
			w.BodyBase64 = base64.StdEncoding.EncodeToString(req.Body)
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	held, err := finish("http_request", rawHTTP(b))
	if err != nil {
		return nil, err
	}
	var r wireResponse
	if err := json.Unmarshal(held, &r); err != nil {
		return nil, fmt.Errorf("http_request: the host's response is not JSON: %w", err)
	}
	resp := r.HTTPResponse
	switch {
	case r.Body != nil:
		resp.Body = []byte(*r.Body)
	case r.BodyBase64 != "":
		if resp.Body, err = base64.StdEncoding.DecodeString(r.BodyBase64); err != nil {
			return nil, fmt.Errorf("http_request: bodyBase64: %w", err)
		}
	}
	return &resp, nil
}

// Get is HTTP with method GET and no headers.
func Get(url string) (*HTTPResponse, error) { return HTTP(HTTPRequest{URL: url}) }

// KVGet returns the value stored under key; ErrNotFound when there is none.
func KVGet(key string) ([]byte, error) { return finish("kv_get", rawKVGet(key)) }

// KVSet stores value under key, durably once it returns nil.
func KVSet(key string, value []byte) error {
	_, err := finish("kv_set", rawKVSet(key, value))
	return err
}

// KVDelete removes key; a missing key is not an error.
func KVDelete(key string) error {
	_, err := finish("kv_delete", rawKVDelete(key))
	return err
}

// KVList returns up to 1000 keys that start with prefix and sort after
// after (both may be empty), and whether more follow.
func KVList(prefix, after string) (keys []string, more bool, err error) {
	held, err := finish("kv_list", rawKVList(prefix, after))
	if err != nil {
		return nil, false, err
	}
	var l struct {
		Keys []string `json:"keys"`
		More bool     `json:"more"`
	}
	if err := json.Unmarshal(held, &l); err != nil {
		return nil, false, fmt.Errorf("kv_list: the host's listing is not JSON: %w", err)
	}
	return l.Keys, l.More, nil
}

// KVKeys lists every key that starts with prefix, paging through KVList.
func KVKeys(prefix string) ([]string, error) {
	var all []string
	after := ""
	for {
		keys, more, err := KVList(prefix, after)
		if err != nil {
			return all, err
		}
		all = append(all, keys...)
		if !more || len(keys) == 0 {
			return all, nil
		}
		after = keys[len(keys)-1]
	}
}

// Secret returns the named secret the operator grants the module.
func Secret(name string) (string, error) {
	held, err := finish("secret_get", rawSecret(name))
	return string(held), err
}

func isUTF8(b []byte) bool { return utf8.Valid(b) }

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
