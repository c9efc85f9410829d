package main

import (
	"html"
	"regexp"
	"strings"
)

// HTMLToText turns an HTML page into readable Markdown-like text and
// returns its title. It is a small tag scanner, not a full HTML parser: it
// drops script, style and other invisible elements, keeps the text, and
// marks up headings, paragraphs, line breaks, lists, links, emphasis,
// code, preformatted blocks, quotes and table cells.
func HTMLToText(src string) (title, text string) {
	c := converter{}
	c.run(src)
	return strings.TrimSpace(collapseSpace(c.title.String())), tidy(c.out.String())
}

type converter struct {
	out    strings.Builder
	title  strings.Builder
	pre    int
	inTit  bool
	lists  []listState
	hrefs  []string
	lastNL int // trailing newlines already written
}

type listState struct {
	ordered bool
	n       int
}

var skipped = map[string]bool{"script": true, "style": true, "noscript": true, "template": true, "svg": true, "iframe": true, "object": true, "canvas": true}

var blocks = map[string]bool{"p": true, "div": true, "section": true, "article": true, "main": true, "header": true, "footer": true, "aside": true, "nav": true, "form": true, "table": true, "tr": true, "ul": true, "ol": true, "dl": true, "dt": true, "dd": true, "figure": true, "figcaption": true, "hr": true, "address": true, "details": true, "summary": true}

func (c *converter) write(s string) {
	if s == "" {
		return
	}
	if c.inTit {
		c.title.WriteString(s)
		return
	}
	c.out.WriteString(s)
	n := len(s) - len(strings.TrimRight(s, "\n"))
	if n == len(s) {
		c.lastNL += n
	} else {
		c.lastNL = n
	}
}

// newlines ends the current line and adds blank lines up to n newlines.
func (c *converter) newlines(n int) {
	if c.out.Len() == 0 {
		return
	}
	for c.lastNL < n {
		c.write("\n")
	}
}

func (c *converter) run(src string) {
	for len(src) > 0 {
		lt := strings.IndexByte(src, '<')
		if lt < 0 {
			c.text(src)
			return
		}
		c.text(src[:lt])
		src = src[lt:]
		switch {
		case strings.HasPrefix(src, "<!--"):
			end := strings.Index(src, "-->")
			if end < 0 {
				return
			}
			src = src[end+3:]
			continue
		case strings.HasPrefix(src, "<!") || strings.HasPrefix(src, "<?"):
			end := strings.IndexByte(src, '>')
			if end < 0 {
				return
			}
			src = src[end+1:]
			continue
		}
		end := tagEnd(src)
		if end < 0 {
			c.text(src)
			return
		}
		tag := src[1:end]
		src = src[end+1:]
		name, attrs, closing := parseTag(tag)
		if name == "" {
			c.text("<" + tag + ">")
			continue
		}
		if !closing && (skipped[name]) {
			// Skip to the matching close tag: its content is not text.
			closeTag := "</" + name
			i := indexFold(src, closeTag)
			if i < 0 {
				return
			}
			src = src[i:]
			if j := strings.IndexByte(src, '>'); j >= 0 {
				src = src[j+1:]
			} else {
				return
			}
			continue
		}
		c.tag(name, attrs, closing, strings.HasSuffix(tag, "/"))
	}
}

// tagEnd finds the '>' that ends the tag at the start of s, skipping
// quoted attribute values.
func tagEnd(s string) int {
	var quote byte
	for i := 1; i < len(s); i++ {
		switch {
		case quote != 0:
			if s[i] == quote {
				quote = 0
			}
		case s[i] == '"' || s[i] == '\'':
			quote = s[i]
		case s[i] == '>':
			return i
		}
	}
	return -1
}

var attrRE = regexp.MustCompile(`([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)

func parseTag(tag string) (name string, attrs map[string]string, closing bool) {
	tag = strings.TrimSpace(tag)
	if strings.HasPrefix(tag, "/") {
		closing = true
		tag = tag[1:]
	}
	i := 0
	for i < len(tag) && (tag[i] >= 'a' && tag[i] <= 'z' || tag[i] >= 'A' && tag[i] <= 'Z' || tag[i] >= '0' && tag[i] <= '9' || tag[i] == '-') {
		i++
	}
	name = strings.ToLower(tag[:i])
	if name == "" || !(name[0] >= 'a' && name[0] <= 'z') {
		return "", nil, false
	}
	attrs = map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(tag[i:], -1) {
		attrs[strings.ToLower(m[1])] = html.UnescapeString(m[2] + m[3] + m[4])
	}
	return name, attrs, closing
}

func indexFold(s, sub string) int {
	return strings.Index(strings.ToLower(s), strings.ToLower(sub))
}

func (c *converter) tag(name string, attrs map[string]string, closing, selfClosing bool) {
	switch name {
	case "title":
		c.inTit = !closing
	case "h1", "h2", "h3", "h4", "h5", "h6":
		c.newlines(2)
		if !closing {
			c.write(strings.Repeat("#", int(name[1]-'0')) + " ")
		}
	case "br":
		c.write("\n")
	case "pre":
		if closing {
			c.newlines(1)
			c.pre = max(0, c.pre-1)
			c.write("```")
			c.newlines(2)
		} else {
			c.newlines(2)
			c.pre++
			c.write("```\n")
		}
	case "code", "kbd", "samp", "tt":
		if c.pre == 0 {
			c.write("`")
		}
	case "strong", "b":
		c.write("**")
	case "em", "i":
		c.write("_")
	case "blockquote":
		c.newlines(2)
		if !closing {
			c.write("> ")
		}
	case "ul", "ol":
		c.newlines(1)
		if closing {
			if len(c.lists) > 0 {
				c.lists = c.lists[:len(c.lists)-1]
			}
			c.newlines(2)
		} else {
			c.lists = append(c.lists, listState{ordered: name == "ol"})
		}
	case "li":
		if closing {
			c.newlines(1)
			return
		}
		c.newlines(1)
		indent := ""
		bullet := "- "
		if n := len(c.lists); n > 0 {
			indent = strings.Repeat("  ", n-1)
			if l := &c.lists[n-1]; l.ordered {
				l.n++
				bullet = itoa(l.n) + ". "
			}
		}
		c.write(indent + bullet)
	case "a":
		if closing {
			if n := len(c.hrefs); n > 0 {
				href := c.hrefs[n-1]
				c.hrefs = c.hrefs[:n-1]
				if href != "" {
					c.write("](" + href + ")")
				}
			}
			return
		}
		href := attrs["href"]
		if strings.HasPrefix(href, "#") || strings.HasPrefix(strings.ToLower(href), "javascript:") {
			href = ""
		}
		c.hrefs = append(c.hrefs, href)
		if href != "" {
			c.write("[")
		}
	case "img":
		if alt := strings.TrimSpace(attrs["alt"]); alt != "" {
			c.write("[image: " + collapseSpace(alt) + "]")
		}
	case "td", "th":
		if !closing {
			c.write(" | ")
		}
	default:
		if blocks[name] {
			if name == "hr" {
				c.newlines(2)
				c.write("---")
			}
			c.newlines(2)
		}
	}
}

func (c *converter) text(s string) {
	if s == "" {
		return
	}
	s = html.UnescapeString(s)
	if c.pre > 0 {
		c.write(s)
		return
	}
	s = collapseSpace(s)
	if c.lastNL > 0 || c.out.Len() == 0 {
		s = strings.TrimLeft(s, " ")
	}
	c.write(s)
}

var spaceRE = regexp.MustCompile(`[ \t\r\n\f\v\x{00a0}]+`)

func collapseSpace(s string) string { return spaceRE.ReplaceAllString(s, " ") }

var blankLines = regexp.MustCompile(`\n[ \t]*\n(?:[ \t]*\n)+`)

// tidy trims trailing spaces on each line and keeps at most one blank line.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = strings.Join(lines, "\n")
	s = blankLines.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
