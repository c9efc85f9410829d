package sdk

import "encoding/json"

type manifestTool struct {
	Name         string           `json:"name"`
	Title        string           `json:"title,omitempty"`
	Description  string           `json:"description,omitempty"`
	InputSchema  json.RawMessage  `json:"inputSchema"`
	OutputSchema json.RawMessage  `json:"outputSchema,omitempty"`
	Annotations  *ToolAnnotations `json:"annotations,omitempty"`
}

type manifestResource struct {
	URI         string `json:"uri,omitempty"`
	URITemplate string `json:"uriTemplate,omitempty"`
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	MIMEType    string `json:"mimeType,omitempty"`
}

type manifestPrompt struct {
	Name        string      `json:"name"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description,omitempty"`
	Arguments   []promptArg `json:"arguments,omitempty"`
}

type manifest struct {
	ABI               int                `json:"abi"`
	Name              string             `json:"name"`
	Version           string             `json:"version,omitempty"`
	Description       string             `json:"description,omitempty"`
	Tools             []manifestTool     `json:"tools,omitempty"`
	Resources         []manifestResource `json:"resources,omitempty"`
	ResourceTemplates []manifestResource `json:"resourceTemplates,omitempty"`
	Prompts           []manifestPrompt   `json:"prompts,omitempty"`
	Completions       bool               `json:"completions,omitempty"`
	Permissions       *Permissions       `json:"permissions,omitempty"`
	Limits            *Limits            `json:"limits,omitempty"`
}

// Manifest returns the module's manifest (abi/ABI.md section 2) as indented
// JSON: the ModuleInfo and every registered tool (with inputSchema and
// outputSchema derived from the handlers' types), resource, resource
// template and prompt (with its arguments), and "completions": true when
// a completion handler is registered. A program built with the SDK prints
// it when run natively with -manifest, which is how guests/Makefile writes
// the manifest that `wasmgate pack` embeds.
func Manifest() ([]byte, error) {
	m := manifest{ABI: 1, Name: module.Name, Version: module.Version, Description: module.Description, Completions: completer != nil}
	p := module.Permissions
	if len(p.Network)+len(p.Files)+len(p.Env)+len(p.Secrets) > 0 || p.KV || p.Sampling || p.Elicitation || p.Roots {
		m.Permissions = &p
	}
	if module.Limits != (Limits{}) {
		l := module.Limits
		m.Limits = &l
	}
	for _, t := range tools {
		m.Tools = append(m.Tools, manifestTool{
			Name: t.name, Title: t.title, Description: t.description,
			InputSchema: t.inputRaw, OutputSchema: t.output, Annotations: t.annotations,
		})
	}
	for _, r := range resources {
		mr := manifestResource{Name: r.name, Title: r.title, Description: r.description, MIMEType: r.mimeType}
		if r.template {
			mr.URITemplate = r.uri
			m.ResourceTemplates = append(m.ResourceTemplates, mr)
		} else {
			mr.URI = r.uri
			m.Resources = append(m.Resources, mr)
		}
	}
	for _, p := range prompts {
		m.Prompts = append(m.Prompts, manifestPrompt{Name: p.name, Title: p.title, Description: p.description, Arguments: p.args})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
