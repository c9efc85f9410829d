/*
 * markdown: a wasmgate tool in C that renders Markdown to HTML. Tool
 * markdown_to_html, argument "markdown".
 *
 * It covers the everyday part of CommonMark: ATX and setext headings,
 * paragraphs, emphasis and strong emphasis, code spans, fenced and indented
 * code blocks, bullet and ordered lists (nested, tight and loose), links,
 * images, autolinks, block quotes, thematic breaks, hard line breaks and
 * backslash escapes. Raw HTML is not passed through: every <, >, & and " of
 * the input is escaped, so the output is safe to embed. Link targets with a
 * javascript:, vbscript:, file: or (outside images) data: scheme are
 * replaced by "#".
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wasmgate.h"

#define MAX_NEST 32
/* A run of more backticks than this is literal text, never a code span. */
#define MAX_TICKS 64

/* ---------- output helpers ---------- */

static void esc(wg_buf *o, const char *s, size_t n) {
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		const char *r = NULL;
		switch (s[i]) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		}
		if (r) {
			wg_buf_put(o, s + start, i - start);
			wg_buf_puts(o, r);
			start = i + 1;
		}
	}
	wg_buf_put(o, s + start, n - start);
}

static int is_punct(char c) { return c > 0x20 && c < 0x7F && !isalnum((unsigned char)c); }
static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }
static int is_alnum(char c) { return isalnum((unsigned char)c) || (unsigned char)c >= 0x80; }

/* url writes a link destination (backslash escapes removed) into an attribute. */
static void url(wg_buf *o, const char *s, size_t n, int image) {
	wg_buf u = {0};
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && is_punct(s[i + 1]))
			i++;
		wg_buf_putc(&u, s[i]);
	}
	/* refuse dangerous schemes */
	size_t k = 0;
	char scheme[16];
	while (k < u.len && k < sizeof scheme - 1 && u.p[k] != ':' && !is_space(u.p[k])) {
		scheme[k] = (char)tolower((unsigned char)u.p[k]);
		k++;
	}
	scheme[k] = 0;
	if (k < u.len && u.p[k] == ':') {
		int bad = !strcmp(scheme, "javascript") || !strcmp(scheme, "vbscript") || !strcmp(scheme, "file");
		if (!strcmp(scheme, "data"))
			bad = !image || strncasecmp(u.p + k + 1, "image/", 6) != 0 || !strncasecmp(u.p + k + 1, "image/svg", 9);
		if (bad) {
			wg_buf_putc(o, '#');
			wg_buf_free(&u);
			return;
		}
	}
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < u.len; i++) {
		unsigned char c = (unsigned char)u.p[i];
		if (c <= 0x20 || c == 0x7F || c >= 0x80 || c == '<' || c == '>' || c == '"' || c == '`' || c == '\\') {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			wg_buf_put(o, e, 3);
		} else if (c == '&') {
			wg_buf_puts(o, "&amp;");
		} else {
			wg_buf_putc(o, (char)c);
		}
	}
	wg_buf_free(&u);
}

/* ---------- inlines ---------- */

typedef struct {
	const char *s;
	size_t n;
	/* positions from which a search already failed (searches run to n) */
	size_t fail_em[2][3]; /* [char *,_][width 1, 2, 3] */
	size_t fail_bracket;
	size_t fail_title[3]; /* a title closed by ", ' or ) */
	size_t fail_tick[MAX_TICKS + 1]; /* by the length of the backtick run */
} scope;

static void inlines(wg_buf *o, const char *s, size_t n, int depth);

/* run_len returns the length of the run of c at i. */
static size_t run_len(const char *s, size_t n, size_t i, char c) {
	size_t k = 0;
	while (i + k < n && s[i + k] == c)
		k++;
	return k;
}

/* code_end finds the closing run of exactly k backticks after i; returns its position or 0. */
static size_t code_end(scope *sc, size_t i, size_t k) {
	if (k > MAX_TICKS || (sc->fail_tick[k] && i >= sc->fail_tick[k]))
		return 0;
	for (size_t j = i; j < sc->n;) {
		if (sc->s[j] == '`') {
			size_t r = run_len(sc->s, sc->n, j, '`');
			if (r == k)
				return j;
			j += r;
		} else {
			j++;
		}
	}
	if (!sc->fail_tick[k] || i < sc->fail_tick[k])
		sc->fail_tick[k] = i ? i : 1;
	return 0;
}

/* skip_code: when a code span starts at j, returns its end, else j + run. */
static size_t skip_code(scope *sc, size_t j) {
	size_t k = run_len(sc->s, sc->n, j, '`');
	size_t e = code_end(sc, j + k, k);
	return e ? e + k : j + k;
}

/* em_close finds the closer of emphasis with c of width w (1, 2 or 3: both) opened before i. */
static size_t em_close(scope *sc, size_t i, char c, size_t w) {
	size_t *fail = &sc->fail_em[c == '_'][w - 1];
	if (*fail && i >= *fail)
		return 0;
	const char *s = sc->s;
	for (size_t j = i; j < sc->n;) {
		char ch = s[j];
		if (ch == '\\') {
			j += 2;
			continue;
		}
		if (ch == '`') {
			j = skip_code(sc, j);
			continue;
		}
		if (ch != c) {
			j++;
			continue;
		}
		size_t r = run_len(s, sc->n, j, c);
		int after_ok = c != '_' || j + r >= sc->n || !is_alnum(s[j + r]);
		int before_ok = j > i && !is_space(s[j - 1]);
		if (before_ok && after_ok) {
			if (w == 3 && r >= 3)
				return j + r - 3;
			if (w == 2 && r >= 2)
				return j + r - 2;
			if (w == 1 && (r == 1 || r >= 3))
				return j + r - 1;
		}
		j += r;
	}
	*fail = i;
	return 0;
}

/* bracket_close finds the ] matching the [ before i. */
static size_t bracket_close(scope *sc, size_t i) {
	if (sc->fail_bracket && i >= sc->fail_bracket)
		return 0;
	int level = 1;
	for (size_t j = i; j < sc->n;) {
		char ch = sc->s[j];
		if (ch == '\\') {
			j += 2;
			continue;
		}
		if (ch == '`') {
			j = skip_code(sc, j);
			continue;
		}
		if (ch == '[')
			level++;
		if (ch == ']' && --level == 0)
			return j;
		j++;
	}
	sc->fail_bracket = i;
	return 0;
}

/*
 * link_tail parses "(dest "title")" at i. On success sets the destination
 * and title spans and returns the position after ')'; else 0.
 */
static size_t link_tail(scope *sc, size_t i, size_t *d0, size_t *d1, size_t *t0, size_t *t1) {
	const char *s = sc->s;
	size_t n = sc->n;
	if (i >= n || s[i] != '(')
		return 0;
	i++;
	while (i < n && is_space(s[i]))
		i++;
	*d0 = *d1 = *t0 = *t1 = i;
	if (i < n && s[i] == '<') {
		size_t j = i + 1;
		while (j < n && s[j] != '>' && s[j] != '\n' && s[j] != '<') {
			if (s[j] == '\\' && j + 1 < n)
				j++;
			j++;
		}
		if (j >= n || s[j] != '>')
			return 0;
		*d0 = i + 1, *d1 = j;
		i = j + 1;
	} else {
		int paren = 0;
		size_t j = i;
		while (j < n && !is_space(s[j]) && (unsigned char)s[j] >= 0x20) {
			if (s[j] == '\\' && j + 1 < n && is_punct(s[j + 1])) {
				j += 2;
				continue;
			}
			if (s[j] == '(' && ++paren > 32)
				return 0;
			if (s[j] == ')') {
				if (paren == 0)
					break;
				paren--;
			}
			j++;
		}
		if (paren)
			return 0;
		*d0 = i, *d1 = j;
		i = j;
	}
	size_t ws = i;
	while (i < n && is_space(s[i]))
		i++;
	if (i < n && i > ws && (s[i] == '"' || s[i] == '\'' || s[i] == '(')) {
		char close = s[i] == '(' ? ')' : s[i];
		size_t *fail = &sc->fail_title[close == '"' ? 0 : close == '\'' ? 1 : 2];
		if (*fail && i >= *fail)
			return 0;
		size_t j = i + 1;
		while (j < n && s[j] != close) {
			if (s[j] == '\\' && j + 1 < n)
				j++;
			j++;
		}
		if (j >= n) {
			*fail = i;
			return 0;
		}
		*t0 = i + 1, *t1 = j;
		i = j + 1;
		while (i < n && is_space(s[i]))
			i++;
	}
	if (i >= n || s[i] != ')')
		return 0;
	return i + 1;
}

/* unescaped writes text with backslash escapes removed, HTML-escaped. */
static void unescaped(wg_buf *o, const char *s, size_t n) {
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && is_punct(s[i + 1]))
			i++;
		esc(o, s + i, 1);
	}
}

/* plain writes the alt text of an image: the inline text without markup. */
static void plain(wg_buf *o, const char *s, size_t n) {
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < n && is_punct(s[i + 1])) {
			esc(o, s + ++i, 1);
		} else if (c == '*' || c == '_' || c == '`' || c == '[' || c == ']') {
			continue;
		} else if (c == '(' && i > 0 && s[i - 1] == ']') {
			/* skip a nested link destination */
			int level = 1;
			while (++i < n && level) {
				if (s[i] == '(')
					level++;
				if (s[i] == ')')
					level--;
			}
			i--;
		} else {
			esc(o, &c, 1);
		}
	}
}

static int autolink(wg_buf *o, const char *s, size_t n, size_t i, size_t *next) {
	/* <scheme:rest> or <user@host> */
	size_t j = i + 1;
	while (j < n && s[j] != '>' && s[j] != '<' && !is_space(s[j]) && (unsigned char)s[j] >= 0x20)
		j++;
	if (j >= n || s[j] != '>' || j == i + 1)
		return 0;
	const char *t = s + i + 1;
	size_t len = j - i - 1, k = 0;
	while (k < len && (isalnum((unsigned char)t[k]) || t[k] == '+' || t[k] == '.' || t[k] == '-'))
		k++;
	int is_uri = k >= 2 && k <= 32 && k < len && t[k] == ':' && isalpha((unsigned char)t[0]);
	int is_mail = 0;
	if (!is_uri) {
		const char *at = memchr(t, '@', len);
		is_mail = at && at > t && at < t + len - 1 && !memchr(at + 1, '@', (size_t)(t + len - at - 1));
		for (size_t q = 0; is_mail && q < len; q++)
			if (!(isalnum((unsigned char)t[q]) || strchr(".!#$%&'*+/=?^_`{|}~-@", t[q])))
				is_mail = 0;
	}
	if (!is_uri && !is_mail)
		return 0;
	wg_buf_puts(o, "<a href=\"");
	if (is_mail)
		wg_buf_puts(o, "mailto:");
	url(o, t, len, 0);
	wg_buf_puts(o, "\">");
	esc(o, t, len);
	wg_buf_puts(o, "</a>");
	*next = j + 1;
	return 1;
}

static void inlines(wg_buf *o, const char *s, size_t n, int depth) {
	if (depth > MAX_NEST) {
		esc(o, s, n);
		return;
	}
	scope sc;
	memset(&sc, 0, sizeof sc);
	sc.s = s;
	sc.n = n;
	size_t i = 0, lit = 0; /* s[lit..i) is pending literal text */
#define FLUSH() (esc(o, s + lit, i - lit))
	while (i < n) {
		char c = s[i];
		if (c == '\\' && i + 1 < n && (is_punct(s[i + 1]) || s[i + 1] == '\n')) {
			FLUSH();
			if (s[i + 1] == '\n')
				wg_buf_puts(o, "<br />\n");
			else
				esc(o, s + i + 1, 1);
			i += 2;
			lit = i;
		} else if (c == '`') {
			size_t k = run_len(s, n, i, '`');
			size_t e = code_end(&sc, i + k, k);
			if (!e) {
				i += k;
				continue;
			}
			FLUSH();
			const char *t = s + i + k;
			size_t len = e - (i + k);
			int all_space = 1;
			for (size_t q = 0; q < len; q++)
				if (t[q] != ' ' && t[q] != '\n')
					all_space = 0;
			if (!all_space && len >= 2 && (t[0] == ' ' || t[0] == '\n') && (t[len - 1] == ' ' || t[len - 1] == '\n'))
				t++, len -= 2;
			wg_buf_puts(o, "<code>");
			for (size_t q = 0; q < len; q++)
				esc(o, t[q] == '\n' ? " " : t + q, 1);
			wg_buf_puts(o, "</code>");
			i = e + k;
			lit = i;
		} else if (c == '*' || c == '_') {
			size_t k = run_len(s, n, i, c);
			int opens = i + k < n && !is_space(s[i + k]) && (c == '*' || i == 0 || !is_alnum(s[i - 1]));
			size_t w = k >= 3 ? 3 : k, e = 0;
			if (opens) {
				for (; w >= 1; w--)
					if ((e = em_close(&sc, i + k, c, w)) != 0)
						break;
			}
			if (!e) {
				i += k;
				continue;
			}
			/* the opener is the last w characters of the run */
			size_t open = i + k - w;
			i = open;
			FLUSH();
			static const char *const tags[4][2] = {
				{"", ""}, {"<em>", "</em>"}, {"<strong>", "</strong>"}, {"<em><strong>", "</strong></em>"}};
			wg_buf_puts(o, tags[w][0]);
			inlines(o, s + open + w, e - (open + w), depth + 1);
			wg_buf_puts(o, tags[w][1]);
			i = e + w;
			lit = i;
		} else if (c == '[' || (c == '!' && i + 1 < n && s[i + 1] == '[')) {
			int image = c == '!';
			size_t b = i + (image ? 2 : 1);
			size_t e = bracket_close(&sc, b);
			size_t d0, d1, t0, t1, next = e ? link_tail(&sc, e + 1, &d0, &d1, &t0, &t1) : 0;
			if (!next) {
				i = b;
				continue;
			}
			FLUSH();
			if (image) {
				wg_buf_puts(o, "<img src=\"");
				url(o, s + d0, d1 - d0, 1);
				wg_buf_puts(o, "\" alt=\"");
				plain(o, s + b, e - b);
				wg_buf_putc(o, '"');
			} else {
				wg_buf_puts(o, "<a href=\"");
				url(o, s + d0, d1 - d0, 0);
				wg_buf_putc(o, '"');
			}
			if (t1 > t0) {
				wg_buf_puts(o, " title=\"");
				unescaped(o, s + t0, t1 - t0);
				wg_buf_putc(o, '"');
			}
			if (image) {
				wg_buf_puts(o, " />");
			} else {
				wg_buf_putc(o, '>');
				inlines(o, s + b, e - b, depth + 1);
				wg_buf_puts(o, "</a>");
			}
			i = next;
			lit = i;
		} else if (c == '<') {
			size_t next;
			FLUSH();
			lit = i;
			if (autolink(o, s, n, i, &next)) {
				i = lit = next;
			} else {
				i++;
			}
		} else if (c == ' ' || c == '\n') {
			size_t k = i;
			while (k < n && s[k] == ' ')
				k++;
			if (k < n && s[k] == '\n') {
				FLUSH();
				wg_buf_puts(o, k - i >= 2 ? "<br />\n" : "\n");
				i = k + 1;
				while (i < n && s[i] == ' ')
					i++;
				lit = i;
			} else {
				i = k;
			}
		} else {
			i++;
		}
	}
	FLUSH();
#undef FLUSH
}

/* ---------- blocks ---------- */

typedef struct {
	const char *s;
	size_t n;
} line;

static size_t indent_of(line l) {
	size_t k = 0;
	while (k < l.n && l.s[k] == ' ')
		k++;
	return k;
}

static int blank(line l) { return indent_of(l) == l.n; }

static line drop(line l, size_t k) {
	if (k > l.n)
		k = l.n;
	l.s += k;
	l.n -= k;
	return l;
}

/* strip removes up to k leading spaces. */
static line strip(line l, size_t k) {
	size_t i = 0;
	while (i < k && i < l.n && l.s[i] == ' ')
		i++;
	return drop(l, i);
}

static int thematic(line l) {
	if (indent_of(l) > 3)
		return 0;
	char c = 0;
	int count = 0;
	for (size_t i = 0; i < l.n; i++) {
		char ch = l.s[i];
		if (ch == ' ')
			continue;
		if (ch != '-' && ch != '*' && ch != '_')
			return 0;
		if (c && ch != c)
			return 0;
		c = ch;
		count++;
	}
	return count >= 3;
}

static int atx(line l, int *level) {
	if (indent_of(l) > 3)
		return 0;
	l = strip(l, 3);
	int k = 0;
	while ((size_t)k < l.n && l.s[k] == '#')
		k++;
	if (k < 1 || k > 6 || ((size_t)k < l.n && l.s[k] != ' '))
		return 0;
	*level = k;
	return 1;
}

static int fence(line l, char *ch, size_t *len) {
	if (indent_of(l) > 3)
		return 0;
	l = strip(l, 3);
	if (l.n < 3 || (l.s[0] != '`' && l.s[0] != '~'))
		return 0;
	size_t k = run_len(l.s, l.n, 0, l.s[0]);
	if (k < 3)
		return 0;
	if (l.s[0] == '`' && memchr(l.s + k, '`', l.n - k))
		return 0;
	*ch = l.s[0];
	*len = k;
	return 1;
}

static int quote(line l) {
	return indent_of(l) <= 3 && strip(l, 3).n > 0 && strip(l, 3).s[0] == '>';
}

/* list_item recognizes a list marker: its kind, number, and content indent. */
typedef struct {
	char kind; /* '-', '*', '+', '.', ')' */
	long start;
	size_t width; /* columns up to the content */
	int empty;
} marker;

static int list_item(line l, marker *m) {
	size_t ind = indent_of(l);
	if (ind > 3)
		return 0;
	line t = drop(l, ind);
	size_t k = 0;
	if (t.n && (t.s[0] == '-' || t.s[0] == '*' || t.s[0] == '+')) {
		m->kind = t.s[0];
		m->start = 0;
		k = 1;
	} else {
		long v = 0;
		while (k < t.n && k < 9 && isdigit((unsigned char)t.s[k]))
			v = v * 10 + (t.s[k++] - '0');
		if (k == 0 || k >= t.n || (t.s[k] != '.' && t.s[k] != ')'))
			return 0;
		m->kind = t.s[k];
		m->start = v;
		k++;
	}
	if (k < t.n && t.s[k] != ' ')
		return 0;
	size_t sp = 0;
	while (k + sp < t.n && t.s[k + sp] == ' ')
		sp++;
	m->empty = k + sp == t.n;
	if (m->empty || sp > 4)
		sp = 1;
	m->width = ind + k + sp;
	return 1;
}

static int setext(line l) {
	if (indent_of(l) > 3)
		return 0;
	l = strip(l, 3);
	if (!l.n || (l.s[0] != '=' && l.s[0] != '-'))
		return 0;
	size_t k = run_len(l.s, l.n, 0, l.s[0]);
	while (k < l.n && l.s[k] == ' ')
		k++;
	return k == l.n ? (l.s[0] == '=' ? 1 : 2) : 0;
}

/* interrupts says whether l starts a block that ends a paragraph. */
static int interrupts(line l) {
	int lv;
	char ch;
	size_t fl;
	marker m;
	if (blank(l) || thematic(l) || atx(l, &lv) || fence(l, &ch, &fl) || quote(l))
		return 1;
	if (list_item(l, &m) && !m.empty && (m.kind == '-' || m.kind == '*' || m.kind == '+' || m.start == 1))
		return 1;
	return 0;
}

/* what blocks emitted: for tight list items, whose text sits on the <li> line */
typedef struct {
	size_t count;
	int first_text, last_text; /* the first / last block was a tight paragraph */
} emitted;

static void note(emitted *e, int text) {
	if (!e)
		return;
	if (e->count++ == 0)
		e->first_text = text;
	e->last_text = text;
}

static void blocks(wg_buf *o, line *ls, size_t n, int tight, int depth, emitted *em);

/* paragraph renders lines as one paragraph (or heading text). */
static void para_text(wg_buf *o, line *ls, size_t n, int depth) {
	wg_buf t = {0};
	for (size_t i = 0; i < n; i++) {
		line l = strip(ls[i], SIZE_MAX);
		if (i)
			wg_buf_putc(&t, '\n');
		wg_buf_put(&t, l.s, l.n);
	}
	while (t.len && (t.p[t.len - 1] == ' ' || t.p[t.len - 1] == '\n'))
		t.len--;
	inlines(o, t.p ? t.p : "", t.len, depth);
	wg_buf_free(&t);
}

static void nested(wg_buf *o, wg_buf *content, int tight, int depth, emitted *em);

static void blocks(wg_buf *o, line *ls, size_t n, int tight, int depth, emitted *em) {
	size_t i = 0;
	while (i < n) {
		line l = ls[i];
		int lv;
		char fch;
		size_t flen;
		marker m;
		if (blank(l)) {
			i++;
			continue;
		}
		if (indent_of(l) >= 4) {
			/* indented code */
			size_t j = i, last = i;
			while (j < n && (blank(ls[j]) || indent_of(ls[j]) >= 4)) {
				if (!blank(ls[j]))
					last = j;
				j++;
			}
			wg_buf_puts(o, "<pre><code>");
			for (size_t q = i; q <= last; q++) {
				line c = strip(ls[q], 4);
				esc(o, c.s, c.n);
				wg_buf_putc(o, '\n');
			}
			wg_buf_puts(o, "</code></pre>\n");
			note(em, 0);
			i = last + 1;
			continue;
		}
		if (fence(l, &fch, &flen)) {
			size_t ind = indent_of(l);
			line info = strip(drop(strip(l, 3), flen), SIZE_MAX);
			size_t w = 0;
			while (w < info.n && info.s[w] != ' ')
				w++;
			wg_buf_puts(o, "<pre><code");
			if (w) {
				wg_buf_puts(o, " class=\"language-");
				unescaped(o, info.s, w);
				wg_buf_putc(o, '"');
			}
			wg_buf_putc(o, '>');
			size_t j = i + 1;
			for (; j < n; j++) {
				line c = ls[j];
				char c2;
				size_t clen;
				if (fence(c, &c2, &clen) && c2 == fch && clen >= flen && blank(drop(strip(c, 3), clen)))
					break;
				c = strip(c, ind);
				esc(o, c.s, c.n);
				wg_buf_putc(o, '\n');
			}
			wg_buf_puts(o, "</code></pre>\n");
			note(em, 0);
			i = j + 1;
			continue;
		}
		if (atx(l, &lv)) {
			line t = strip(drop(strip(l, 3), (size_t)lv), SIZE_MAX);
			while (t.n && t.s[t.n - 1] == ' ')
				t.n--;
			/* a closing sequence of #s after a space */
			size_t e = t.n;
			while (e && t.s[e - 1] == '#')
				e--;
			if (e < t.n && (e == 0 || t.s[e - 1] == ' ')) {
				t.n = e;
				while (t.n && t.s[t.n - 1] == ' ')
					t.n--;
			}
			wg_buf_printf(o, "<h%d>", lv);
			para_text(o, &t, 1, depth);
			wg_buf_printf(o, "</h%d>\n", lv);
			note(em, 0);
			i++;
			continue;
		}
		if (thematic(l)) {
			wg_buf_puts(o, "<hr />\n");
			note(em, 0);
			i++;
			continue;
		}
		if (quote(l)) {
			wg_buf inner = {0};
			int in_para = 0;
			size_t j = i;
			for (; j < n; j++) {
				line c = ls[j];
				if (quote(c)) {
					c = drop(strip(c, 3), 1);
					if (c.n && c.s[0] == ' ')
						c = drop(c, 1);
					in_para = !blank(c) && !interrupts(c) ? 1 : (blank(c) ? 0 : in_para);
				} else if (!in_para || interrupts(c)) {
					break;
				}
				wg_buf_put(&inner, c.s, c.n);
				wg_buf_putc(&inner, '\n');
			}
			wg_buf_puts(o, "<blockquote>\n");
			nested(o, &inner, 0, depth + 1, NULL);
			wg_buf_puts(o, "</blockquote>\n");
			note(em, 0);
			wg_buf_free(&inner);
			i = j;
			continue;
		}
		if (list_item(l, &m)) {
			int ordered = m.kind == '.' || m.kind == ')';
			char kind = m.kind;
			int loose = 0;
			wg_buf items = {0}; /* each item's HTML is rendered at the end */
			/* collect items as line ranges */
			size_t *starts = malloc(3 * (n - i) * sizeof *starts), count = 0;
			if (!starts)
				abort();
			size_t *ends = starts + (n - i), *widths = ends + (n - i);
			size_t j = i;
			while (j < n) {
				marker mm;
				if (!list_item(ls[j], &mm) || mm.kind != kind || thematic(ls[j]))
					break;
				starts[count] = j;
				widths[count] = mm.width;
				size_t k = j + 1;
				int in_para = !mm.empty;
				while (k < n) {
					line c = ls[k];
					if (blank(c)) {
						in_para = 0;
						k++;
						continue;
					}
					if (indent_of(c) >= mm.width) {
						in_para = 1;
						k++;
						continue;
					}
					if (in_para && !interrupts(c) && !list_item(c, &mm)) {
						k++;
						continue;
					}
					break;
				}
				/* trailing blank lines belong between items */
				size_t e = k;
				while (e > j + 1 && blank(ls[e - 1]))
					e--;
				ends[count] = e;
				if (e < k && k < n) {
					marker nx;
					if (list_item(ls[k], &nx) && nx.kind == kind && !thematic(ls[k]))
						loose = 1;
				}
				for (size_t q = j + 1; q < e; q++)
					if (blank(ls[q]) && q + 1 < e && indent_of(ls[q + 1]) == widths[count]) {
						/* a blank line between two blocks of the item */
						loose = 1;
					}
				count++;
				j = k;
				if (e < k) {
					marker nx;
					if (!(k < n && list_item(ls[k], &nx) && nx.kind == kind))
						break;
				}
			}
			if (ordered && m.start != 1)
				wg_buf_printf(o, "<ol start=\"%ld\">\n", m.start);
			else
				wg_buf_puts(o, ordered ? "<ol>\n" : "<ul>\n");
			for (size_t q = 0; q < count; q++) {
				wg_buf content = {0};
				for (size_t r = starts[q]; r < ends[q]; r++) {
					line c = ls[r];
					if (r == starts[q])
						c = drop(c, widths[q]);
					else if (indent_of(c) >= widths[q])
						c = drop(c, widths[q]);
					wg_buf_put(&content, c.s, c.n);
					wg_buf_putc(&content, '\n');
				}
				wg_buf_puts(o, "<li>");
				emitted e = {0, 0, 0};
				wg_buf_reset(&items);
				nested(&items, &content, !loose, depth + 1, &e);
				if (e.count && !e.first_text)
					wg_buf_putc(o, '\n');
				if (e.last_text && items.len)
					items.len--; /* the newline after the text */
				wg_buf_put(o, items.p ? items.p : "", items.len);
				wg_buf_puts(o, "</li>\n");
				wg_buf_free(&content);
			}
			wg_buf_puts(o, ordered ? "</ol>\n" : "</ul>\n");
			note(em, 0);
			wg_buf_free(&items);
			free(starts);
			i = j;
			continue;
		}
		/* paragraph, maybe a setext heading */
		size_t j = i + 1;
		int heading = 0;
		while (j < n) {
			if ((heading = setext(ls[j])) != 0)
				break;
			if (interrupts(ls[j]))
				break;
			j++;
		}
		if (heading) {
			wg_buf_printf(o, "<h%d>", heading);
			para_text(o, ls + i, j - i, depth);
			wg_buf_printf(o, "</h%d>\n", heading);
			note(em, 0);
			i = j + 1;
			continue;
		}
		if (!tight)
			wg_buf_puts(o, "<p>");
		para_text(o, ls + i, j - i, depth);
		wg_buf_puts(o, tight ? "\n" : "</p>\n");
		note(em, tight);
		i = j;
	}
}

/* nested splits text into lines and renders it as blocks. */
static void nested(wg_buf *o, wg_buf *text, int tight, int depth, emitted *em) {
	if (depth > MAX_NEST) {
		wg_buf_puts(o, "<p>");
		esc(o, text->p ? text->p : "", text->len);
		wg_buf_puts(o, "</p>\n");
		note(em, 0);
		return;
	}
	size_t count = 0, cap = 16;
	line *ls = malloc(cap * sizeof *ls);
	const char *s = text->p ? text->p : "";
	size_t n = text->len, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '\n') {
			if (i == n && start == n)
				break;
			if (count == cap) {
				cap *= 2;
				ls = realloc(ls, cap * sizeof *ls);
			}
			if (!ls)
				abort();
			ls[count].s = s + start;
			ls[count].n = i - start;
			count++;
			start = i + 1;
		}
	}
	blocks(o, ls, count, tight, depth, em);
	free(ls);
}

/* normalize turns CRLF and CR into LF, NUL into U+FFFD and tabs in a line's indentation into spaces. */
static void normalize(const char *s, size_t n, wg_buf *out) {
	size_t col = 0;
	int lead = 1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;
			c = '\n';
		}
		if (c == '\n') {
			wg_buf_putc(out, '\n');
			col = 0;
			lead = 1;
			continue;
		}
		if (c == '\t' && lead) {
			size_t k = 4 - col % 4;
			for (size_t q = 0; q < k; q++)
				wg_buf_putc(out, ' ');
			col += k;
			continue;
		}
		if (c == 0)
			wg_buf_puts(out, "\xEF\xBF\xBD");
		else
			wg_buf_putc(out, c);
		if (c != ' ' && c != '>')
			lead = 0;
		col++;
	}
}

static const char *const md_args[] = {"markdown", NULL};

static void markdown_to_html(wg_call *c) {
	wg_buf md = {0}, norm = {0}, html = {0}, sc = {0};
	if (wg_args_only(c, md_args) < 0 || wg_arg_string(c, "markdown", &md, 1) < 0)
		return;
	normalize(md.p, md.len, &norm);
	nested(&html, &norm, 0, 0, NULL);
	wg_text(c, html.p ? html.p : "", html.len);
	wg_buf_puts(&sc, "{\"html\":");
	wg_json_string(&sc, html.p, html.len);
	wg_buf_putc(&sc, '}');
	wg_structured(c, sc.p, sc.len);
	wg_buf_free(&md);
	wg_buf_free(&norm);
	wg_buf_free(&html);
	wg_buf_free(&sc);
}

int main(void) {
	wg_tool("markdown_to_html", markdown_to_html);
	return wg_main();
}
