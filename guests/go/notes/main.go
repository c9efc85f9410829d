// Command notes is a wasmgate tool that keeps notes in the module's
// key-value store: add_note, list_notes, get_note and delete_note. Each
// note is one kv entry under "note/ID", its ID taken from a counter kept
// under "next_id".
//
// The notes are also resources: notes://index lists them and notes://{id}
// is one note, in Markdown; clients that subscribe hear when add_note or
// delete_note changes them. The summarize_notes prompt hands a model the
// notes to summarize, and note IDs complete as they are typed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wasmgate/wasmgate/guests/go/sdk"
)

// Note is one stored note.
type Note struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Text    string `json:"text"`
	Created string `json:"created" jsonschema:"When the note was added (RFC 3339, UTC)."`
}

func (n Note) String() string {
	return fmt.Sprintf("#%d %s (%s)\n\n%s", n.ID, n.Title, n.Created, n.Text)
}

// AddArgs are add_note's arguments.
type AddArgs struct {
	Title string `json:"title" jsonschema:"A short title."`
	Text  string `json:"text" jsonschema:"The note itself."`
}

// ListArgs are list_notes' arguments.
type ListArgs struct {
	Query string `json:"query,omitempty" jsonschema:"Only notes whose title or text contains this (case-insensitive)."`
}

// Summary is one entry of a listing.
type Summary struct {
	ID    int    `json:"id"`
	Title string `json:"title"`
}

// Listing is list_notes' result.
type Listing struct {
	Notes []Summary `json:"notes"`
}

func (l Listing) String() string {
	if len(l.Notes) == 0 {
		return "no notes"
	}
	var b strings.Builder
	for _, n := range l.Notes {
		fmt.Fprintf(&b, "#%d %s\n", n.ID, n.Title)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// IDArgs name one note.
type IDArgs struct {
	ID int `json:"id" minimum:"1" jsonschema:"The note's ID, as add_note or list_notes gave it."`
}

const prefix = "note/"

// readsStore annotates the tools that only read the store. They claim no
// readOnlyHint: a tool granted key-value storage could write, so wasmgate
// serves readOnlyHint false for it whatever the manifest says (and warns
// when the manifest says otherwise).
var readsStore = sdk.Annotations(sdk.ToolAnnotations{IdempotentHint: sdk.Bool(true), OpenWorldHint: sdk.Bool(false)})

func key(id int) string { return prefix + strconv.Itoa(id) }

func load(id int) (Note, error) {
	b, err := sdk.KVGet(key(id))
	if errors.Is(err, sdk.ErrNotFound) {
		return Note{}, sdk.Errorf("there is no note #%d: list_notes shows the notes there are", id)
	}
	if err != nil {
		return Note{}, err
	}
	var n Note
	if err := json.Unmarshal(b, &n); err != nil {
		return Note{}, fmt.Errorf("note #%d is damaged: %v", id, err)
	}
	return n, nil
}

func nextID() (int, error) {
	b, err := sdk.KVGet("next_id")
	id := 1
	switch {
	case err == nil:
		if id, err = strconv.Atoi(string(b)); err != nil {
			return 0, fmt.Errorf("the note counter is damaged: %q", b)
		}
	case !errors.Is(err, sdk.ErrNotFound):
		return 0, err
	}
	return id, sdk.KVSet("next_id", []byte(strconv.Itoa(id+1)))
}

const indexURI = "notes://index"

// SummarizeArgs are summarize_notes' arguments.
type SummarizeArgs struct {
	Query *string `json:"query" jsonschema:"Only notes whose title or text contains this (case-insensitive)."`
}

// Markdown is the note as its resource shows it.
func (n Note) Markdown() string {
	return fmt.Sprintf("# %s\n\n%s\n\n_Note #%d, added %s._\n", n.Title, n.Text, n.ID, n.Created)
}

// list returns the notes containing query (all when it is empty), by ID.
func list(query string) (Listing, error) {
	keys, err := sdk.KVKeys(prefix)
	if err != nil {
		return Listing{}, err
	}
	out := Listing{Notes: []Summary{}}
	q := strings.ToLower(query)
	for i, k := range keys {
		id, err := strconv.Atoi(strings.TrimPrefix(k, prefix))
		if err != nil {
			continue
		}
		n, err := load(id)
		if err != nil {
			return Listing{}, err
		}
		if q == "" || strings.Contains(strings.ToLower(n.Title+"\n"+n.Text), q) {
			out.Notes = append(out.Notes, Summary{ID: n.ID, Title: n.Title})
		}
		sdk.Progress(float64(i+1), float64(len(keys)), "")
	}
	// Keys sort as bytes ("note/10" before "note/2"); show notes by ID.
	sort.Slice(out.Notes, func(i, j int) bool { return out.Notes[i].ID < out.Notes[j].ID })
	return out, nil
}

// changed tells subscribed clients that a note and the index changed. A
// failure to notify does not fail the change.
func changed(id int) {
	for _, uri := range []string{fmt.Sprintf("notes://%d", id), indexURI} {
		if err := sdk.ResourceUpdated(uri); err != nil {
			sdk.Logf(sdk.LevelWarning, "could not notify subscribers of %s: %v", uri, err)
		}
	}
}

func init() {
	sdk.Module(sdk.ModuleInfo{
		Name:        "notes",
		Version:     "0.1.0",
		Description: "Notes kept in wasmgate's key-value store, written in Go with the wasmgate SDK.",
		Permissions: sdk.Permissions{KV: true},
	})
	sdk.Resource(indexURI, "notes index", func(ctx context.Context, _ sdk.ReadRequest) ([]sdk.ResourceContents, error) {
		l, err := list("")
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		b.WriteString("# Notes\n\n")
		for _, n := range l.Notes {
			fmt.Fprintf(&b, "- [#%d %s](notes://%d)\n", n.ID, n.Title, n.ID)
		}
		if len(l.Notes) == 0 {
			b.WriteString("No notes yet.\n")
		}
		return []sdk.ResourceContents{sdk.TextResource(indexURI, "text/markdown", b.String())}, nil
	}, sdk.Description("The list of notes, in Markdown, each linking to its notes://ID."), sdk.MIMEType("text/markdown"))

	sdk.ResourceTemplate("notes://{id}", "note", func(ctx context.Context, req sdk.ReadRequest) ([]sdk.ResourceContents, error) {
		id, err := strconv.Atoi(req.Variables["id"])
		if err != nil || id < 1 {
			return nil, sdk.RequestErrorf(sdk.CodeResourceNotFound, "%s names no note: a note's URI is notes://ID, ID a number from list_notes", req.URI)
		}
		n, err := load(id)
		if err != nil {
			return nil, sdk.RequestErrorf(sdk.CodeResourceNotFound, "%v", err)
		}
		return []sdk.ResourceContents{sdk.TextResource(req.URI, "text/markdown", n.Markdown())}, nil
	}, sdk.Description("One note, in Markdown."), sdk.MIMEType("text/markdown"))

	sdk.Prompt("summarize_notes", func(ctx context.Context, a SummarizeArgs) (*sdk.PromptResult, error) {
		query := ""
		if a.Query != nil {
			query = *a.Query
		}
		l, err := list(query)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("%d notes", len(l.Notes))
		if len(l.Notes) == 1 {
			what = "1 note"
		}
		res := &sdk.PromptResult{Description: "Summarize " + what + "."}
		for _, s := range l.Notes {
			n, err := load(s.ID)
			if err != nil {
				return nil, err
			}
			res.Messages = append(res.Messages, sdk.UserMessage(sdk.EmbeddedResource(sdk.TextResource(fmt.Sprintf("notes://%d", n.ID), "text/markdown", n.Markdown()))))
		}
		ask := "Summarize the notes above in a few bullet points."
		if len(l.Notes) == 0 {
			ask = "There are no notes to summarize yet: say so, and suggest adding some with add_note."
		}
		res.Messages = append(res.Messages, sdk.UserMessage(sdk.TextContent(ask)))
		return res, nil
	}, sdk.Title("Summarize Notes"), sdk.Description("Ask the model to summarize the notes, or those containing a text."))

	sdk.Completions(func(ctx context.Context, req sdk.CompleteRequest) (*sdk.Completion, error) {
		if req.Argument != "id" {
			return &sdk.Completion{Values: []string{}}, nil
		}
		l, err := list("")
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(l.Notes))
		for i, n := range l.Notes {
			ids[i] = strconv.Itoa(n.ID)
		}
		return sdk.CompletePrefix(ids, req.Value), nil
	})

	sdk.Tool("add_note", func(ctx context.Context, a AddArgs) (Note, error) {
		if strings.TrimSpace(a.Title) == "" {
			return Note{}, sdk.Errorf("the title is empty")
		}
		id, err := nextID()
		if err != nil {
			return Note{}, err
		}
		n := Note{ID: id, Title: a.Title, Text: a.Text, Created: time.Now().UTC().Format(time.RFC3339)}
		b, _ := json.Marshal(n)
		if err := sdk.KVSet(key(id), b); err != nil {
			return Note{}, err
		}
		sdk.Logf(sdk.LevelInfo, "added note #%d", id)
		changed(id)
		return n, nil
	}, sdk.Title("Add Note"), sdk.Description("Store a new note and return it with its ID."),
		sdk.Annotations(sdk.ToolAnnotations{ReadOnlyHint: sdk.Bool(false), DestructiveHint: sdk.Bool(false), IdempotentHint: sdk.Bool(false), OpenWorldHint: sdk.Bool(false)}))

	sdk.Tool("list_notes", func(ctx context.Context, a ListArgs) (Listing, error) {
		return list(a.Query)
	}, sdk.Title("List Notes"), sdk.Description("List the stored notes (ID and title), optionally only those containing a text."), readsStore)

	sdk.Tool("get_note", func(ctx context.Context, a IDArgs) (Note, error) {
		return load(a.ID)
	}, sdk.Title("Get Note"), sdk.Description("Read one note by its ID."), readsStore)

	sdk.Tool("delete_note", func(ctx context.Context, a IDArgs) (string, error) {
		if _, err := load(a.ID); err != nil {
			return "", err
		}
		if err := sdk.KVDelete(key(a.ID)); err != nil {
			return "", err
		}
		changed(a.ID)
		return fmt.Sprintf("deleted note #%d", a.ID), nil
	}, sdk.Title("Delete Note"), sdk.Description("Delete one note by its ID."),
		sdk.Annotations(sdk.ToolAnnotations{ReadOnlyHint: sdk.Bool(false), DestructiveHint: sdk.Bool(true), IdempotentHint: sdk.Bool(true), OpenWorldHint: sdk.Bool(false)}))
}

func main() { sdk.Run() }
