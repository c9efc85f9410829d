package abi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/yosida95/uritemplate/v3"
)

// Manifest describes a module: its tools, resources and prompts, the
// permissions it asks for and the limits it wants. It is read without running
// guest code.
type Manifest struct {
	ABI               int                `json:"abi"`
	Name              string             `json:"name"`
	Version           string             `json:"version,omitempty"`
	Description       string             `json:"description,omitempty"`
	Tools             []Tool             `json:"tools,omitempty"`
	Resources         []Resource         `json:"resources,omitempty"`
	ResourceTemplates []ResourceTemplate `json:"resourceTemplates,omitempty"`
	Prompts           []Prompt           `json:"prompts,omitempty"`
	// Completions says the guest answers completion/complete for the
	// arguments of its prompts and the variables of its resource templates.
	Completions bool        `json:"completions,omitempty"`
	Permissions Permissions `json:"permissions,omitzero"`
	Limits      Limits      `json:"limits,omitzero"`
	// Snapshot false makes each call of a reactor run its initialisation
	// in the call's fresh instance, instead of starting from a snapshot of
	// an instance that ran it (ABI.md, Snapshots). Absent means true.
	Snapshot *bool `json:"snapshot,omitempty"`
}

// Snapshots reports whether the module lets a reactor's calls start from a
// snapshot.
func (m *Manifest) Snapshots() bool { return m.Snapshot == nil || *m.Snapshot }

// Tool is one MCP tool served by the module. The fields mirror MCP's Tool.
type Tool struct {
	Name         string           `json:"name"`
	Title        string           `json:"title,omitempty"`
	Description  string           `json:"description,omitempty"`
	InputSchema  json.RawMessage  `json:"inputSchema"`
	OutputSchema json.RawMessage  `json:"outputSchema,omitempty"`
	Annotations  *ToolAnnotations `json:"annotations,omitempty"`
	Icons        []Icon           `json:"icons,omitempty"`
}

// ToolAnnotations are MCP's hints about a tool's behaviour. They are claims
// by the module's author; the server may override them to match the grants.
type ToolAnnotations struct {
	Title           string `json:"title,omitempty"`
	ReadOnlyHint    *bool  `json:"readOnlyHint,omitempty"`
	DestructiveHint *bool  `json:"destructiveHint,omitempty"`
	IdempotentHint  *bool  `json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool  `json:"openWorldHint,omitempty"`
}

// Icon is an MCP icon.
type Icon struct {
	Src      string   `json:"src"`
	MIMEType string   `json:"mimeType,omitempty"`
	Sizes    []string `json:"sizes,omitempty"`
	Theme    string   `json:"theme,omitempty"`
}

// Resource is a fixed resource the module serves through resources/read.
type Resource struct {
	URI         string `json:"uri"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	MIMEType    string `json:"mimeType,omitempty"`
	Size        int64  `json:"size,omitempty"`
	Icons       []Icon `json:"icons,omitempty"`
}

// ResourceTemplate is an RFC 6570 URI template of resources the module serves.
type ResourceTemplate struct {
	URITemplate string `json:"uriTemplate"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	MIMEType    string `json:"mimeType,omitempty"`
	Icons       []Icon `json:"icons,omitempty"`
}

// Prompt is a prompt the module serves through prompts/get.
type Prompt struct {
	Name        string           `json:"name"`
	Title       string           `json:"title,omitempty"`
	Description string           `json:"description,omitempty"`
	Arguments   []PromptArgument `json:"arguments,omitempty"`
	Icons       []Icon           `json:"icons,omitempty"`
}

// PromptArgument is one argument of a Prompt.
type PromptArgument struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
}

// Permissions is what a module asks for. Nothing here is granted by asking:
// the operator's policy decides, and the effective grant is the narrower of
// the two.
type Permissions struct {
	// Network lists hosts the module wants to reach: "api.example.com",
	// "*.example.org" or either with ":PORT". A generic tool (one that
	// fetches what it is told to) asks instead for AnyHost alone, ["*"]:
	// whatever hosts the operator allows.
	Network []string `json:"network,omitempty"`
	// Files lists guest paths the module wants mounted.
	Files []FileMount `json:"files,omitempty"`
	// Env lists environment variable names the module wants to read.
	Env []string `json:"env,omitempty"`
	// Secrets lists secret names the module wants through secret_get.
	Secrets []string `json:"secrets,omitempty"`
	// KV asks for a persistent key-value namespace.
	KV bool `json:"kv,omitempty"`
	// Sampling asks to call the client's model.
	Sampling bool `json:"sampling,omitempty"`
	// Elicitation asks to ask the user for input.
	Elicitation bool `json:"elicitation,omitempty"`
	// Roots asks to read the client's roots (roots/list).
	Roots bool `json:"roots,omitempty"`
	// Other holds requests for capabilities this package does not define,
	// by key, as the manifest wrote them: only keys declared with
	// RegisterPermission are accepted, others are unknown fields.
	Other map[string]json.RawMessage `json:"-"`
}

// Raw returns the permissions by key as JSON, the ones this package
// defines and Other alike; keys the manifest leaves out (or sets to their
// zero value) are absent.
func (p *Permissions) Raw() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	b, err := json.Marshal(p)
	if err == nil {
		json.Unmarshal(b, &out)
	}
	for k, v := range p.Other {
		out[k] = v
	}
	return out
}

// MarshalJSON writes the permissions this package defines and Other.
func (p Permissions) MarshalJSON() ([]byte, error) {
	type plain Permissions
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Other) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range p.Other {
		m[k] = v
	}
	return json.Marshal(m)
}

var otherPermissions struct {
	mu   sync.Mutex
	keys map[string]bool
}

// RegisterPermission lets manifests ask for a capability this package does
// not define, under key in permissions; its request is kept in
// Permissions.Other for the capability to read. Keys this package defines
// are accepted already.
func RegisterPermission(key string) {
	otherPermissions.mu.Lock()
	defer otherPermissions.mu.Unlock()
	if otherPermissions.keys == nil {
		otherPermissions.keys = map[string]bool{}
	}
	otherPermissions.keys[key] = true
}

// otherPermission reports whether key was registered with RegisterPermission.
func otherPermission(key string) bool {
	otherPermissions.mu.Lock()
	defer otherPermissions.mu.Unlock()
	return otherPermissions.keys[key]
}

// WantsAnyHost reports whether the module asks for whatever hosts the
// operator allows (AnyHost) rather than for hosts it names.
func (p *Permissions) WantsAnyHost() bool {
	return slices.Contains(p.Network, AnyHost)
}

// FileMount is a directory the module wants at Guest, read-only ("ro", the
// default) or read-write ("rw").
type FileMount struct {
	Guest       string `json:"guest"`
	Mode        string `json:"mode,omitempty"`
	Description string `json:"description,omitempty"`
}

// Limits are the resource bounds a module asks for. Each is capped by the
// operator's limit; zero means "the operator's limit".
type Limits struct {
	Memory  Size     `json:"memory,omitempty"`
	Timeout Duration `json:"timeout,omitempty"`
	Output  Size     `json:"output,omitempty"`
}

// FieldError is one problem in a manifest, at a JSON path such as
// "tools[2].inputSchema".
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// ValidationError lists every problem found in a manifest.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	if len(e.Errors) == 1 {
		return "invalid manifest: " + e.Errors[0].Error()
	}
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Error()
	}
	return fmt.Sprintf("invalid manifest (%d problems): %s", len(e.Errors), strings.Join(msgs, "; "))
}

// ParseManifest decodes and validates manifest JSON. Unknown fields are
// errors. When the JSON decodes but does not validate, the manifest is
// returned along with a *ValidationError listing every problem.
func ParseManifest(data []byte) (*Manifest, error) {
	var raw any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("manifest is not valid JSON: extra data after the top-level object")
	}
	if _, ok := raw.(map[string]any); !ok {
		return nil, errors.New("manifest must be a JSON object")
	}
	var errs []FieldError
	checkFields(raw, reflect.TypeFor[Manifest](), "", &errs)
	if len(errs) > 0 {
		return nil, &ValidationError{Errors: errs}
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &ValidationError{Errors: []FieldError{{Path: jsonPath(te.Field), Message: fmt.Sprintf("want %s, got JSON %s", te.Type, te.Value)}}}
		}
		return nil, &ValidationError{Errors: []FieldError{{Message: err.Error()}}}
	}
	// Requests for capabilities defined elsewhere (checkFields let through
	// only registered keys) are kept as written.
	var perms struct {
		Permissions map[string]json.RawMessage `json:"permissions"`
	}
	if err := json.Unmarshal(data, &perms); err == nil {
		for k, v := range perms.Permissions {
			if otherPermission(k) {
				if m.Permissions.Other == nil {
					m.Permissions.Other = map[string]json.RawMessage{}
				}
				m.Permissions.Other[k] = v
			}
		}
	}
	if err := m.Validate(); err != nil {
		return &m, err
	}
	return &m, nil
}

// checkFields reports object keys that the Go type t does not declare.
func checkFields(v any, t reflect.Type, path string, errs *[]FieldError) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.RawMessage]() || reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		return // decoded (and reported) by its own UnmarshalJSON
	}
	if v == nil {
		return // null leaves the zero value
	}
	if want, got := jsonKind(t), jsonKindOf(v); want != "" && want != got && !(want == "number" && got == "integer") {
		*errs = append(*errs, FieldError{Path: path, Message: fmt.Sprintf("want %s, got %s", want, got)})
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj := v.(map[string]any)
		fields := map[string]reflect.Type{}
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			p := joinPath(path, k)
			if !ok && t == reflect.TypeFor[Permissions]() && otherPermission(k) {
				continue // the capability that registered it reads it
			}
			if !ok {
				*errs = append(*errs, FieldError{Path: p, Message: "unknown field" + suggest(k, fields)})
				continue
			}
			checkFields(obj[k], ft, p, errs)
		}
	case reflect.Slice:
		for i, e := range v.([]any) {
			checkFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	}
}

// jsonKind is the JSON kind a Go type decodes from, or "" for any.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return ""
}

// jsonKindOf names the JSON kind of a value decoded with UseNumber.
func jsonKindOf(v any) string {
	switch v := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// suggest names a declared field that differs from k only in case.
func suggest(k string, fields map[string]reflect.Type) string {
	for f := range fields {
		if strings.EqualFold(f, k) {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// jsonPath turns encoding/json's "tools.2.name" into "tools[2].name".
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	var b strings.Builder
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil && i > 0 {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

var (
	toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hostRE     = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$`)
)

// Validate checks the manifest against the rules in ABI.md and returns a
// *ValidationError listing every problem, or nil.
func (m *Manifest) Validate() error {
	var v validator
	switch {
	case m.ABI == 0:
		v.add("abi", fmt.Sprintf("missing: set \"abi\": %d", Version))
	case m.ABI != Version:
		v.add("abi", fmt.Sprintf("version %d is not supported by this wasmgate (it implements ABI %d); rebuild the module with a matching SDK or upgrade wasmgate", m.ABI, Version))
	}
	if !toolNameRE.MatchString(m.Name) {
		v.add("name", fmt.Sprintf("%q is not a valid module name: use 1 to 128 of A-Z a-z 0-9 _ . -", m.Name))
	}
	if len(m.Tools)+len(m.Resources)+len(m.ResourceTemplates)+len(m.Prompts) == 0 {
		v.add("tools", "the module declares no tools, resources, resource templates or prompts")
	}
	seen := map[string]int{}
	for i, t := range m.Tools {
		p := fmt.Sprintf("tools[%d]", i)
		if !toolNameRE.MatchString(t.Name) {
			v.add(p+".name", fmt.Sprintf("%q is not a valid tool name: use 1 to 128 of A-Z a-z 0-9 _ . -", t.Name))
		} else if j, dup := seen[t.Name]; dup {
			v.add(p+".name", fmt.Sprintf("duplicate tool name %q (also tools[%d])", t.Name, j))
		} else {
			seen[t.Name] = i
		}
		if len(t.InputSchema) == 0 {
			v.add(p+".inputSchema", `missing: every tool needs an object schema, at least {"type":"object"}`)
		} else {
			v.schema(p+".inputSchema", t.InputSchema)
		}
		if len(t.OutputSchema) > 0 {
			v.schema(p+".outputSchema", t.OutputSchema)
		}
		v.icons(p, t.Icons)
	}
	seenURI := map[string]int{}
	for i, r := range m.Resources {
		p := fmt.Sprintf("resources[%d]", i)
		if u, err := url.Parse(r.URI); err != nil || u.Scheme == "" {
			v.add(p+".uri", fmt.Sprintf("%q is not an absolute URI", r.URI))
		} else if j, dup := seenURI[r.URI]; dup {
			v.add(p+".uri", fmt.Sprintf("duplicate resource URI %q (also resources[%d])", r.URI, j))
		} else {
			seenURI[r.URI] = i
		}
		if r.Name == "" {
			v.add(p+".name", "missing")
		}
		v.icons(p, r.Icons)
	}
	seenTemplate := map[string]int{}
	for i, r := range m.ResourceTemplates {
		p := fmt.Sprintf("resourceTemplates[%d]", i)
		if !strings.Contains(r.URITemplate, ":") {
			v.add(p+".uriTemplate", fmt.Sprintf("%q is not an absolute URI template", r.URITemplate))
		} else if _, err := uritemplate.New(r.URITemplate); err != nil {
			v.add(p+".uriTemplate", fmt.Sprintf("%q is not an RFC 6570 URI template: %v", r.URITemplate, err))
		} else if j, dup := seenTemplate[r.URITemplate]; dup {
			v.add(p+".uriTemplate", fmt.Sprintf("duplicate URI template %q (also resourceTemplates[%d])", r.URITemplate, j))
		} else {
			seenTemplate[r.URITemplate] = i
		}
		if r.Name == "" {
			v.add(p+".name", "missing")
		}
		v.icons(p, r.Icons)
	}
	seenPrompt := map[string]int{}
	for i, pr := range m.Prompts {
		p := fmt.Sprintf("prompts[%d]", i)
		if !toolNameRE.MatchString(pr.Name) {
			v.add(p+".name", fmt.Sprintf("%q is not a valid prompt name: use 1 to 128 of A-Z a-z 0-9 _ . -", pr.Name))
		} else if j, dup := seenPrompt[pr.Name]; dup {
			v.add(p+".name", fmt.Sprintf("duplicate prompt name %q (also prompts[%d])", pr.Name, j))
		} else {
			seenPrompt[pr.Name] = i
		}
		args := map[string]bool{}
		for k, a := range pr.Arguments {
			ap := fmt.Sprintf("%s.arguments[%d].name", p, k)
			if a.Name == "" {
				v.add(ap, "missing")
			} else if args[a.Name] {
				v.add(ap, fmt.Sprintf("duplicate argument %q", a.Name))
			}
			args[a.Name] = true
		}
		v.icons(p, pr.Icons)
	}
	if m.Completions && len(m.ResourceTemplates) == 0 && !slices.ContainsFunc(m.Prompts, func(p Prompt) bool { return len(p.Arguments) > 0 }) {
		v.add("completions", "true, but there is nothing to complete: the module declares no prompt arguments or resource templates")
	}
	v.permissions(&m.Permissions)
	if m.Limits.Memory < 0 || m.Limits.Memory > 4<<30 {
		v.add("limits.memory", "must be between 0 and 4GiB")
	}
	if m.Limits.Output < 0 {
		v.add("limits.output", "must not be negative")
	}
	if len(v.errs) > 0 {
		return &ValidationError{Errors: v.errs}
	}
	return nil
}

type validator struct{ errs []FieldError }

func (v *validator) add(path, msg string) { v.errs = append(v.errs, FieldError{path, msg}) }

func (v *validator) icons(path string, icons []Icon) {
	for i, ic := range icons {
		if ic.Src == "" {
			v.add(fmt.Sprintf("%s.icons[%d].src", path, i), "missing")
		}
	}
}

func (v *validator) permissions(p *Permissions) {
	for i, h := range p.Network {
		switch {
		case h == AnyHost && len(p.Network) > 1:
			v.add(fmt.Sprintf("permissions.network[%d]", i), fmt.Sprintf("%q (whatever hosts the operator allows) must be the only entry: it already covers the others", AnyHost))
		case h == AnyHost:
		default:
			if err := CheckHostPattern(h); err != nil {
				v.add(fmt.Sprintf("permissions.network[%d]", i), err.Error())
			}
		}
	}
	for i, f := range p.Files {
		fp := fmt.Sprintf("permissions.files[%d]", i)
		if !strings.HasPrefix(f.Guest, "/") || strings.Contains(f.Guest, "..") {
			v.add(fp+".guest", fmt.Sprintf("%q must be an absolute guest path without ..", f.Guest))
		}
		if f.Mode != "" && f.Mode != "ro" && f.Mode != "rw" {
			v.add(fp+".mode", fmt.Sprintf("%q is not a mode: use \"ro\" or \"rw\"", f.Mode))
		}
	}
	for i, e := range p.Env {
		if !envNameRE.MatchString(e) {
			v.add(fmt.Sprintf("permissions.env[%d]", i), fmt.Sprintf("%q is not an environment variable name", e))
		}
	}
	for i, s := range p.Secrets {
		if !envNameRE.MatchString(s) {
			v.add(fmt.Sprintf("permissions.secrets[%d]", i), fmt.Sprintf("%q is not a secret name: use letters, digits and _", s))
		}
	}
}

// Schema dialects a manifest may use. A schema without "$schema" is 2020-12.
const (
	Draft202012 = "https://json-schema.org/draft/2020-12/schema"
	Draft07     = "http://json-schema.org/draft-07/schema#"
)

func (v *validator) schema(path string, raw json.RawMessage) {
	if _, err := ResolveSchema(raw); err != nil {
		v.add(path, err.Error())
	}
}

// ResolveSchema parses an object schema written in JSON Schema 2020-12 or
// draft-07 and resolves it for validation. Other dialects, draft-04 among
// them, are rejected: the validator would silently fail every instance.
func ResolveSchema(raw json.RawMessage) (*jsonschema.Resolved, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, errors.New("must be a JSON object schema")
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("not a valid JSON schema: %v", err)
	}
	switch s.Schema {
	case "", Draft202012, Draft07, "https://json-schema.org/draft-07/schema#":
	default:
		return nil, fmt.Errorf("$schema %q is not supported: use JSON Schema 2020-12 (%s) or draft-07", s.Schema, Draft202012)
	}
	if s.Type != "object" && !(len(s.Types) == 1 && s.Types[0] == "object") {
		return nil, fmt.Errorf(`"type" must be "object" (a tool takes a JSON object of arguments), got %s`, typeOf(&s))
	}
	rs, err := s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		return nil, fmt.Errorf("schema does not resolve: %v", err)
	}
	return rs, nil
}

func typeOf(s *jsonschema.Schema) string {
	switch {
	case s.Type != "":
		return strconv.Quote(s.Type)
	case len(s.Types) > 0:
		return fmt.Sprintf("%q", s.Types)
	}
	return "no type"
}
