package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/policy"
	"github.com/wasmgate/wasmgate/runtime"
)

// inspectReport is the --json form of inspect.
type inspectReport struct {
	Path           string           `json:"path"`
	SHA256         string           `json:"sha256"`
	Size           int              `json:"size"`
	ManifestSource string           `json:"manifestSource"`
	Engine         string           `json:"engine"`
	Manifest       *abi.Manifest    `json:"manifest"`
	Limits         inspectLimits    `json:"limits"`
	Permissions    []policy.Line    `json:"permissions"`
	GrantWarnings  []string         `json:"grantWarnings,omitempty"`
	Imports        []runtime.Import `json:"imports"`
	Exports        []runtime.Export `json:"exports"`
}

type inspectLimits struct {
	Requested abi.Limits `json:"requested"`
	Effective struct {
		Memory  abi.Size     `json:"memory"`
		Timeout abi.Duration `json:"timeout"`
		Output  abi.Size     `json:"output"`
	} `json:"effective"`
}

func runInspect(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "inspect")
	asJSON := fs.Bool("json", false, "print a JSON report instead of text")
	var lf limitFlags
	lf.register(fs)
	var gf grantFlags
	gf.register(fs)
	var ef engineFlag
	ef.register(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 {
		e.errorf("inspect needs a module file or a directory; see 'wasmgate inspect -h'")
		return exitUsage
	}
	pol, popts, err := gf.load()
	if err != nil {
		e.errorf("inspect: %v%s", err, engineHint(err))
		return exitUsage
	}
	caps := &hostCaps{}
	defer caps.close()
	rt, err := newRuntime(ctx, e, false, caps, &ef, pol)
	if err != nil {
		e.errorf("inspect: %v%s", err, engineHint(err))
		return exitUsage
	}
	defer rt.Close(context.Background())
	if info, err := os.Stat(pos[0]); len(pos) > 1 || err == nil && info.IsDir() {
		return inspectMany(ctx, e, rt, pos, pol, popts, lf.limits(), *asJSON)
	}
	mod, err := rt.Load(ctx, pos[0])
	if err != nil {
		e.errorf("%v", err)
		printFieldErrors(e, err)
		return exitUsage
	}
	rep, mg, err := reportOf(mod, pol, popts, lf.limits())
	if err != nil {
		e.errorf("inspect: %v", err)
		return exitUsage
	}
	if *asJSON {
		if err := writeJSON(e.stdout, rep); err != nil {
			e.errorf("inspect: %v", err)
			return exitUsage
		}
		return exitOK
	}
	printInspect(e.stdout, rep, mod, mg)
	return exitOK
}

// reportOf describes a loaded module with its grants and limits.
func reportOf(mod *runtime.Module, pol *policy.Policy, popts *policy.Options, limits runtime.Limits) (*inspectReport, *policy.ModuleGrants, error) {
	rep := &inspectReport{
		Path: mod.Path(), SHA256: mod.SHA256(), Size: mod.Size(), ManifestSource: mod.ManifestSource(), Engine: mod.Engine(),
		Manifest: mod.Manifest(), Imports: mod.Imports(), Exports: mod.Exports(),
	}
	if rep.Imports == nil {
		rep.Imports = []runtime.Import{}
	}
	mg, err := grantsOf(pol, popts, mod)
	if err != nil {
		return nil, nil, err
	}
	rep.Permissions, rep.GrantWarnings = mg.Report, mg.Warnings
	if rep.Permissions == nil {
		rep.Permissions = []policy.Line{}
	}
	rep.Limits.Requested = mod.Manifest().Limits
	eff := mod.Limits(limits.Or(mg.Limits))
	rep.Limits.Effective.Memory, rep.Limits.Effective.Timeout, rep.Limits.Effective.Output = eff.Memory, abi.Duration(eff.Timeout), eff.Output
	return rep, mg, nil
}

// inspectFailure is the --json entry of a module that did not load.
type inspectFailure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// inspectMany lists the modules of files and directories (walked as serve
// walks them) as a table, or with --json as an array of reports, one per
// module, with an error for each that did not load. Modules compile in
// parallel. A module that does not load makes the exit code exitUsage.
func inspectMany(ctx context.Context, e *env, rt *runtime.Runtime, args []string, pol *policy.Policy, popts *policy.Options, limits runtime.Limits, asJSON bool) int {
	paths, problems := modulePaths(args)
	code := exitOK
	for _, err := range problems {
		e.errorf("inspect: %v", err)
		code = exitUsage
	}
	mods := make([]*runtime.Module, len(paths))
	errs := make([]error, len(paths))
	for i, p := range paths {
		mods[i], errs[i] = rt.Open(ctx, p)
	}
	var entries []any
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if !asJSON && len(paths) > 0 {
		fmt.Fprintf(tw, "module\tversion\ttools\tsize\tfile\tpermissions requested\n")
	}
	for i, p := range paths {
		mod, err := mods[i], errs[i]
		if err == nil {
			if err = mod.Ready(ctx); err != nil {
				err = fmt.Errorf("load %s: %w", p, err)
			}
		}
		var rep *inspectReport
		if err == nil {
			rep, _, err = reportOf(mod, pol, popts, limits)
		}
		if err != nil {
			code = exitUsage
			// The row names the file; the reason need not repeat it.
			reason := strings.TrimPrefix(err.Error(), "load "+p+": ")
			if asJSON {
				entries = append(entries, inspectFailure{Path: p, Error: reason})
				continue
			}
			size := "-"
			if info, serr := os.Stat(p); serr == nil {
				size = abi.Size(info.Size()).String()
			}
			fmt.Fprintf(tw, "-\t-\t-\t%s\t%s\tnot loaded: %s\n", size, p, oneLine(reason))
			continue
		}
		if asJSON {
			entries = append(entries, rep)
			continue
		}
		m := mod.Manifest()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, orDash(m.Version), servesSummary(m), abi.Size(mod.Size()), p, requestsSummary(m))
	}
	if asJSON {
		if entries == nil {
			entries = []any{}
		}
		if err := writeJSON(e.stdout, entries); err != nil {
			e.errorf("inspect: %v", err)
			return exitUsage
		}
		return code
	}
	tw.Flush()
	return code
}

// servesSummary counts a module's tools, and its resources, templates and
// prompts when it has any: "3", "0 (+ 2 resources, 1 prompt)".
func servesSummary(m *abi.Manifest) string {
	s := fmt.Sprint(len(m.Tools))
	var more []string
	if n := len(m.Resources) + len(m.ResourceTemplates); n > 0 {
		more = append(more, plural(n, "resource"))
	}
	if n := len(m.Prompts); n > 0 {
		more = append(more, plural(n, "prompt"))
	}
	if len(more) > 0 {
		s += " (+ " + strings.Join(more, ", ") + ")"
	}
	return s
}

// requestsSummary lists what a manifest asks for on one line:
// "network: api.example.com; kv", or "none".
func requestsSummary(m *abi.Manifest) string {
	var parts []string
	for _, l := range policy.Requests(m) {
		if l.Requested == "yes" {
			parts = append(parts, l.Capability)
		} else {
			parts = append(parts, l.Capability+": "+l.Requested)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printInspect(w io.Writer, rep *inspectReport, mod *runtime.Module, mg *policy.ModuleGrants) {
	m := rep.Manifest
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "module\t%s %s\n", m.Name, m.Version)
	if m.Description != "" {
		fmt.Fprintf(tw, "about\t%s\n", m.Description)
	}
	fmt.Fprintf(tw, "file\t%s (%s, sha256 %s)\n", rep.Path, abi.Size(rep.Size), rep.SHA256)
	fmt.Fprintf(tw, "manifest\t%s (abi %d)\n", rep.ManifestSource, m.ABI)
	fmt.Fprintf(tw, "memory\tneeds %s at start\n", mod.InitialMemory())
	fmt.Fprintf(tw, "engine\t%s\n", rep.Engine)
	tw.Flush()

	fmt.Fprintf(w, "\ntools (%d)\n", len(m.Tools))
	for _, t := range m.Tools {
		title := t.Title
		if title == "" && t.Annotations != nil {
			title = t.Annotations.Title
		}
		fmt.Fprintf(w, "  %s", t.Name)
		if title != "" {
			fmt.Fprintf(w, "  (%s)", title)
		}
		fmt.Fprintln(w)
		if t.Description != "" {
			fmt.Fprintf(w, "      %s\n", oneLine(t.Description))
		}
		fmt.Fprintf(w, "      input:  %s\n", schemaSummary(t.InputSchema))
		if len(t.OutputSchema) > 0 {
			fmt.Fprintf(w, "      output: %s\n", schemaSummary(t.OutputSchema))
		}
		if a := t.Annotations; a != nil {
			var hints []string
			for _, h := range []struct {
				name string
				v    *bool
			}{{"readOnly", a.ReadOnlyHint}, {"destructive", a.DestructiveHint}, {"idempotent", a.IdempotentHint}, {"openWorld", a.OpenWorldHint}} {
				if h.v != nil {
					hints = append(hints, fmt.Sprintf("%s=%t", h.name, *h.v))
				}
			}
			if len(hints) > 0 {
				fmt.Fprintf(w, "      hints:  %s\n", strings.Join(hints, " "))
			}
		}
	}
	if n := len(m.Resources) + len(m.ResourceTemplates) + len(m.Prompts); n > 0 {
		fmt.Fprintf(w, "\nresources (%d), resource templates (%d), prompts (%d)\n", len(m.Resources), len(m.ResourceTemplates), len(m.Prompts))
		for _, r := range m.Resources {
			fmt.Fprintf(w, "  resource  %s  %s\n", r.URI, r.Name)
		}
		for _, r := range m.ResourceTemplates {
			fmt.Fprintf(w, "  template  %s  %s\n", r.URITemplate, r.Name)
		}
		for _, p := range m.Prompts {
			var args []string
			for _, a := range p.Arguments {
				if a.Required {
					args = append(args, a.Name)
				} else {
					args = append(args, "["+a.Name+"]")
				}
			}
			fmt.Fprintf(w, "  prompt    %s(%s)\n", p.Name, strings.Join(args, ", "))
		}
		if m.Completions {
			fmt.Fprintf(w, "  completes prompt arguments and template variables\n")
		}
	}

	fmt.Fprintf(w, "\npermissions (nothing is granted unless the operator grants it)\n")
	printGrants(w, mg, "  ")

	fmt.Fprintf(w, "\nlimits       requested  effective\n")
	req, eff := rep.Limits.Requested, rep.Limits.Effective
	orDash := func(zero bool, s string) string {
		if zero {
			return "-"
		}
		return s
	}
	fmt.Fprintf(w, "  memory     %-9s  %s\n", orDash(req.Memory == 0, req.Memory.String()), eff.Memory)
	fmt.Fprintf(w, "  timeout    %-9s  %s\n", orDash(req.Timeout == 0, req.Timeout.String()), eff.Timeout)
	fmt.Fprintf(w, "  output     %-9s  %s\n", orDash(req.Output == 0, req.Output.String()), eff.Output)

	fmt.Fprintf(w, "\nimports (%d)\n", len(rep.Imports))
	for _, im := range rep.Imports {
		fmt.Fprintf(w, "  %s.%s (%s)\n", im.Module, im.Name, im.Kind)
	}
	fmt.Fprintf(w, "\nexports (%d)\n", len(rep.Exports))
	for _, ex := range rep.Exports {
		fmt.Fprintf(w, "  %s %s %s\n", ex.Name, ex.Kind, ex.Signature)
	}
}

// schemaSummary lists an object schema's properties: "text (string, required), limit (integer)".
func schemaSummary(raw json.RawMessage) string {
	var s struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if json.Unmarshal(raw, &s) != nil || len(s.Properties) == 0 {
		return "(no properties)"
	}
	req := map[string]bool{}
	for _, r := range s.Required {
		req[r] = true
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		desc := fmt.Sprint(s.Properties[n].Type)
		if s.Properties[n].Type == nil {
			desc = "any"
		}
		if req[n] {
			desc += ", required"
		}
		parts[i] = fmt.Sprintf("%s (%s)", n, desc)
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
