package sdk

import "encoding/json"

type manifestTool struct {
	Name         string           `json:"name"`
	Title        string           `json:"title,omitempty"`
	Description  string           `json:"description,omitempty"`
	InputSchema  map[string]any   `json:"inputSchema"`
	OutputSchema map[string]any   `json:"outputSchema,omitempty"`
	Annotations  *ToolAnnotations `json:"annotations,omitempty"`
}

type manifest struct {
	ABI         int            `json:"abi"`
	Name        string         `json:"name"`
	Version     string         `json:"version,omitempty"`
	Description string         `json:"description,omitempty"`
	Tools       []manifestTool `json:"tools"`
	Permissions *Permissions   `json:"permissions,omitempty"`
	Limits      *Limits        `json:"limits,omitempty"`
}

// Manifest returns the module's manifest (abi/ABI.md section 2) as indented
// JSON: the ModuleInfo and every registered tool, with inputSchema and
// outputSchema derived from the handlers' types. A program built with the
// SDK prints it when run natively with -manifest, which is how
// guests/Makefile writes the manifest that `wasmgate pack` embeds.
func Manifest() ([]byte, error) {
	m := manifest{ABI: 1, Name: module.Name, Version: module.Version, Description: module.Description, Tools: []manifestTool{}}
	p := module.Permissions
	if len(p.Network)+len(p.Files)+len(p.Env)+len(p.Secrets) > 0 || p.KV {
		m.Permissions = &p
	}
	if module.Limits != (Limits{}) {
		l := module.Limits
		m.Limits = &l
	}
	for _, t := range tools {
		m.Tools = append(m.Tools, manifestTool{
			Name: t.name, Title: t.title, Description: t.description,
			InputSchema: t.input, OutputSchema: t.output, Annotations: t.annotations,
		})
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
