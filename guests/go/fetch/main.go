// Command fetch is a wasmgate tool that fetches a URL through the host's
// http_request and returns its text, with HTML turned into readable
// Markdown-like text.
package main

import (
	"context"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// Args are fetch's arguments.
type Args struct {
	URL      string `json:"url" jsonschema:"The http or https URL to fetch."`
	Raw      bool   `json:"raw,omitempty" jsonschema:"Return HTML as it came instead of converting it to text."`
	MaxChars int    `json:"max_chars" default:"20000" minimum:"100" maximum:"1000000" jsonschema:"The most characters of text to return."`
}

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "fetch",
		Version:     "0.1.0",
		Description: "Fetch a web page or document as readable text, written in Go with the wasmgate SDK.",
		// fetch goes wherever it is told, so it asks for "*": whatever
		// hosts the operator allows (--allow-net, the policy's
		// network.allow), an intranet host included, and nothing else.
		// Private addresses still need the operator's private: true.
		Permissions: sdk.Permissions{Network: []string{"*"}},
		Limits:      sdk.Limits{Timeout: "30s"},
	})
	sdk.Tool("fetch", fetch, sdk.Title("Fetch URL"),
		sdk.Description("Fetch a URL with HTTP GET and return its content as text. HTML is converted to Markdown-like text (headings, links, lists, code); JSON and other text come back as they are. Only hosts the operator allows can be reached."),
		sdk.Annotations(sdk.ToolAnnotations{ReadOnlyHint: sdk.Bool(true), OpenWorldHint: sdk.Bool(true)}))
}

func fetch(ctx context.Context, a Args) (*sdk.Result, error) {
	if !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
		return nil, sdk.Errorf("the url must start with http:// or https://, got %q", a.URL)
	}
	sdk.Logf(sdk.LevelInfo, "GET %s", a.URL)
	resp, err := sdk.HTTP(sdk.HTTPRequest{URL: a.URL, Headers: map[string]string{
		"Accept": "text/html, text/markdown, text/plain, application/json;q=0.9, */*;q=0.5",
	}})
	if err != nil {
		return nil, err
	}
	ctype := resp.Headers["Content-Type"]
	mediaType, _, _ := mime.ParseMediaType(ctype)
	if resp.Status >= 400 {
		return nil, sdk.Errorf("%s answered HTTP %d: %s", resp.URL, resp.Status, cut(strings.TrimSpace(string(resp.Body)), 500))
	}
	if !utf8.Valid(resp.Body) {
		return nil, sdk.Errorf("%s is not text (Content-Type %q, %d bytes)", resp.URL, ctype, len(resp.Body))
	}
	body := string(resp.Body)
	isHTML := mediaType == "text/html" || mediaType == "application/xhtml+xml" ||
		(mediaType == "" && strings.Contains(strings.ToLower(body[:min(len(body), 512)]), "<html"))
	title := ""
	if isHTML && !a.Raw {
		title, body = HTMLToText(body)
	}
	var b strings.Builder
	if title != "" {
		fmt.Fprintf(&b, "# %s\n\n", title)
	}
	b.WriteString(cut(body, a.MaxChars))
	header := fmt.Sprintf("%s (HTTP %d, %s)", resp.URL, resp.Status, orUnknown(ctype))
	return sdk.Text(header + "\n\n" + b.String()), nil
}

func orUnknown(s string) string {
	if s == "" {
		return "no Content-Type"
	}
	return s
}

// cut shortens s to at most n characters, saying so.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + fmt.Sprintf("\n\n[cut at %d of %d characters; raise max_chars for more]", n, len(r))
}

func main() { sdk.Run() }
