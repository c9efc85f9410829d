/*
 * wasmgate.c: the C SDK for wasmgate tool modules. See wasmgate.h.
 */
#include "wasmgate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------- host imports ---------- */

#define WG_IMPORT(name) __attribute__((import_module("wasmgate"), import_name(name)))

WG_IMPORT("log") extern void wg__log(int32_t level, const char *p, int32_t n);
WG_IMPORT("progress") extern void wg__progress(double progress, double total, const char *p, int32_t n);
WG_IMPORT("response_len") extern int32_t wg__response_len(void);
WG_IMPORT("response") extern int32_t wg__response(char *p, int32_t n);
WG_IMPORT("http_request") extern int32_t wg__http_request(const char *p, int32_t n);
WG_IMPORT("kv_get") extern int32_t wg__kv_get(const char *k, int32_t kn);
WG_IMPORT("kv_set") extern int32_t wg__kv_set(const char *k, int32_t kn, const void *v, int32_t vn);
WG_IMPORT("kv_delete") extern int32_t wg__kv_delete(const char *k, int32_t kn);
WG_IMPORT("kv_list") extern int32_t wg__kv_list(const char *p, int32_t pn, const char *a, int32_t an);
WG_IMPORT("secret_get") extern int32_t wg__secret_get(const char *p, int32_t n);
WG_IMPORT("resource_updated") extern int32_t wg__resource_updated(const char *p, int32_t n);
WG_IMPORT("sample") extern int32_t wg__sample(const char *p, int32_t n);
WG_IMPORT("elicit") extern int32_t wg__elicit(const char *p, int32_t n);
WG_IMPORT("ask") extern int32_t wg__ask(const char *p, int32_t n);

#define MAX_DEPTH 128
#define MAX_HANDLERS 128

/* ---------- buffers ---------- */

static void die_oom(void) {
	static const char msg[] = "out of memory\n";
	write(2, msg, sizeof msg - 1);
	_Exit(1);
}

static void buf_grow(wg_buf *b, size_t extra) {
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			die_oom();
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p)
		die_oom();
	b->p = p;
	b->cap = cap;
}

void wg_buf_put(wg_buf *b, const void *s, size_t n) {
	buf_grow(b, n);
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void wg_buf_puts(wg_buf *b, const char *s) { wg_buf_put(b, s, strlen(s)); }

void wg_buf_putc(wg_buf *b, char c) { wg_buf_put(b, &c, 1); }

static void buf_vprintf(wg_buf *b, const char *fmt, va_list ap) {
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void wg_buf_printf(wg_buf *b, const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void wg_buf_reset(wg_buf *b) {
	b->len = 0;
	if (b->p)
		b->p[0] = 0;
}

void wg_buf_free(wg_buf *b) {
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---------- UTF-8 ---------- */

void wg_utf8_put(wg_buf *b, uint32_t c) {
	char s[4];
	if (c < 0x80) {
		s[0] = (char)c;
		wg_buf_put(b, s, 1);
	} else if (c < 0x800) {
		s[0] = (char)(0xC0 | (c >> 6));
		s[1] = (char)(0x80 | (c & 0x3F));
		wg_buf_put(b, s, 2);
	} else if (c < 0x10000) {
		s[0] = (char)(0xE0 | (c >> 12));
		s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[2] = (char)(0x80 | (c & 0x3F));
		wg_buf_put(b, s, 3);
	} else {
		s[0] = (char)(0xF0 | (c >> 18));
		s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[3] = (char)(0x80 | (c & 0x3F));
		wg_buf_put(b, s, 4);
	}
}

size_t wg_utf8_next(const unsigned char *s, size_t n, uint32_t *c) {
	if (n == 0)
		return 0;
	unsigned char b0 = s[0];
	if (b0 < 0x80) {
		*c = b0;
		return 1;
	}
	size_t len;
	uint32_t v, min;
	if (b0 >= 0xC2 && b0 <= 0xDF) {
		len = 2, v = b0 & 0x1F, min = 0x80;
	} else if (b0 >= 0xE0 && b0 <= 0xEF) {
		len = 3, v = b0 & 0x0F, min = 0x800;
	} else if (b0 >= 0xF0 && b0 <= 0xF4) {
		len = 4, v = b0 & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*c = v;
	return len;
}

int wg_utf8_valid(const char *s, size_t n) {
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;
	while (n > 0) {
		size_t k = wg_utf8_next(u, n, &c);
		if (k == 0)
			return 0;
		u += k;
		n -= k;
	}
	return 1;
}

/* ---------- JSON writing ---------- */

void wg_json_string(wg_buf *b, const char *s, size_t n) {
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	wg_buf_putc(b, '"');
	while (n > 0) {
		unsigned char c = *u;
		if (c >= 0x80) {
			uint32_t cp;
			size_t k = wg_utf8_next(u, n, &cp);
			if (k == 0) {
				wg_utf8_put(b, 0xFFFD);
				k = 1;
			} else {
				wg_buf_put(b, u, k);
			}
			u += k;
			n -= k;
			continue;
		}
		/* copy a run of plain characters at once */
		size_t run = 0;
		while (run < n && u[run] >= 0x20 && u[run] < 0x7F && u[run] != '"' && u[run] != '\\')
			run++;
		if (run) {
			wg_buf_put(b, u, run);
			u += run;
			n -= run;
			continue;
		}
		switch (c) {
		case '"': wg_buf_puts(b, "\\\""); break;
		case '\\': wg_buf_puts(b, "\\\\"); break;
		case '\n': wg_buf_puts(b, "\\n"); break;
		case '\r': wg_buf_puts(b, "\\r"); break;
		case '\t': wg_buf_puts(b, "\\t"); break;
		case '\b': wg_buf_puts(b, "\\b"); break;
		case '\f': wg_buf_puts(b, "\\f"); break;
		default: {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			wg_buf_put(b, e, 6);
		}
		}
		u++;
		n--;
	}
	wg_buf_putc(b, '"');
}

void wg_json_string_s(wg_buf *b, const char *s) { wg_json_string(b, s, s ? strlen(s) : 0); }

void wg_json_int(wg_buf *b, long long v) { wg_buf_printf(b, "%lld", v); }

void wg_json_double(wg_buf *b, double v) {
	if (!isfinite(v)) {
		wg_buf_puts(b, "null");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		wg_buf_printf(b, "%lld", (long long)v);
		return;
	}
	/* the shortest form that reads back as the same double */
	char tmp[32];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	wg_buf_puts(b, tmp);
}

void wg_json_bool(wg_buf *b, int v) { wg_buf_puts(b, v ? "true" : "false"); }

/* ---------- JSON reading ---------- */

typedef struct {
	const char *p, *end;
} cursor;

static void skip_ws(cursor *c) {
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int hex4(const char *p, uint32_t *v) {
	uint32_t r = 0;
	for (int i = 0; i < 4; i++) {
		char h = p[i];
		r <<= 4;
		if (h >= '0' && h <= '9')
			r |= (uint32_t)(h - '0');
		else if (h >= 'a' && h <= 'f')
			r |= (uint32_t)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			r |= (uint32_t)(h - 'A' + 10);
		else
			return 0;
	}
	*v = r;
	return 1;
}

/*
 * parse_string reads a JSON string at the cursor, decoding escapes (\uXXXX
 * with surrogate pairs) into UTF-8 in out (NULL: only check and skip). A
 * lone surrogate becomes U+FFFD; raw bytes that are not UTF-8 fail.
 */
static int parse_string(cursor *c, wg_buf *out) {
	if (c->p >= c->end || *c->p != '"')
		return 0;
	c->p++;
	while (c->p < c->end) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"') {
			c->p++;
			return 1;
		}
		if (ch < 0x20)
			return 0;
		if (ch != '\\') {
			const char *start = c->p;
			while (c->p < c->end && *c->p != '"' && *c->p != '\\' && (unsigned char)*c->p >= 0x20) {
				if ((unsigned char)*c->p >= 0x80) {
					uint32_t cp;
					size_t k = wg_utf8_next((const unsigned char *)c->p, (size_t)(c->end - c->p), &cp);
					if (k == 0)
						return 0;
					c->p += k;
				} else {
					c->p++;
				}
			}
			if (out)
				wg_buf_put(out, start, (size_t)(c->p - start));
			continue;
		}
		c->p++;
		if (c->p >= c->end)
			return 0;
		char e = *c->p++;
		char lit = 0;
		switch (e) {
		case '"': lit = '"'; break;
		case '\\': lit = '\\'; break;
		case '/': lit = '/'; break;
		case 'b': lit = '\b'; break;
		case 'f': lit = '\f'; break;
		case 'n': lit = '\n'; break;
		case 'r': lit = '\r'; break;
		case 't': lit = '\t'; break;
		case 'u': {
			uint32_t cp;
			if (c->end - c->p < 4 || !hex4(c->p, &cp))
				return 0;
			c->p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo;
				if (c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u' &&
				    hex4(c->p + 2, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
					c->p += 6;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				} else {
					cp = 0xFFFD;
				}
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				cp = 0xFFFD;
			}
			if (out)
				wg_utf8_put(out, cp);
			continue;
		}
		default:
			return 0;
		}
		if (out)
			wg_buf_putc(out, lit);
	}
	return 0;
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static int parse_number(cursor *c) {
	const char *p = c->p, *e = c->end;
	if (p < e && *p == '-')
		p++;
	if (p >= e || !is_digit(*p))
		return 0;
	if (*p == '0')
		p++;
	else
		while (p < e && is_digit(*p))
			p++;
	if (p < e && *p == '.') {
		p++;
		if (p >= e || !is_digit(*p))
			return 0;
		while (p < e && is_digit(*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !is_digit(*p))
			return 0;
		while (p < e && is_digit(*p))
			p++;
	}
	c->p = p;
	return 1;
}

static int parse_literal(cursor *c, const char *lit) {
	size_t n = strlen(lit);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

/* skip_value checks and skips one JSON value (and the space before it). */
static int skip_value(cursor *c, int depth) {
	if (depth > MAX_DEPTH)
		return 0;
	skip_ws(c);
	if (c->p >= c->end)
		return 0;
	char open = *c->p;
	switch (open) {
	case '"':
		return parse_string(c, NULL);
	case '{':
	case '[': {
		char close = open == '{' ? '}' : ']';
		c->p++;
		skip_ws(c);
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 1;
		}
		for (;;) {
			if (open == '{') {
				skip_ws(c);
				if (!parse_string(c, NULL))
					return 0;
				skip_ws(c);
				if (c->p >= c->end || *c->p != ':')
					return 0;
				c->p++;
			}
			if (!skip_value(c, depth + 1))
				return 0;
			skip_ws(c);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				continue;
			}
			if (c->p < c->end && *c->p == close) {
				c->p++;
				return 1;
			}
			return 0;
		}
	}
	case 't':
		return parse_literal(c, "true");
	case 'f':
		return parse_literal(c, "false");
	case 'n':
		return parse_literal(c, "null");
	default:
		return parse_number(c);
	}
}

int wg_json_parse(const char *s, size_t n, wg_value *out) {
	cursor c = {s, s + n};
	skip_ws(&c);
	const char *start = c.p;
	if (!skip_value(&c, 0))
		return 0;
	const char *end = c.p;
	skip_ws(&c);
	if (c.p != c.end)
		return 0;
	out->start = start;
	out->end = end;
	return 1;
}

wg_kind wg_kind_of(wg_value v) {
	if (!v.start || v.start >= v.end)
		return WG_MISSING;
	switch (*v.start) {
	case 'n': return WG_NULL;
	case 't':
	case 'f': return WG_BOOL;
	case '"': return WG_STRING;
	case '[': return WG_ARRAY;
	case '{': return WG_OBJECT;
	default: return WG_NUMBER;
	}
}

const char *wg_kind_name(wg_kind k) {
	switch (k) {
	case WG_NULL: return "null";
	case WG_BOOL: return "boolean";
	case WG_NUMBER: return "number";
	case WG_STRING: return "string";
	case WG_ARRAY: return "array";
	case WG_OBJECT: return "object";
	default: return "missing";
	}
}

/* Values handed out were checked when their document was, so iteration can trust them. */
int wg_next(wg_value v, size_t *it, wg_buf *key, wg_value *elem) {
	wg_kind k = wg_kind_of(v);
	if (k != WG_ARRAY && k != WG_OBJECT)
		return 0;
	cursor c = {v.start + (*it ? *it : 1), v.end};
	skip_ws(&c);
	if (c.p < c.end && *c.p == ',') {
		c.p++;
		skip_ws(&c);
	}
	if (c.p >= c.end || *c.p == ']' || *c.p == '}')
		return 0;
	if (k == WG_OBJECT) {
		if (key)
			wg_buf_reset(key);
		if (!parse_string(&c, key))
			return 0;
		skip_ws(&c);
		if (c.p >= c.end || *c.p != ':')
			return 0;
		c.p++;
	}
	skip_ws(&c);
	const char *start = c.p;
	if (!skip_value(&c, 1))
		return 0;
	if (elem) {
		elem->start = start;
		elem->end = c.p;
	}
	*it = (size_t)(c.p - v.start);
	return 1;
}

wg_value wg_get(wg_value obj, const char *key) {
	wg_value found = {NULL, NULL}, e;
	wg_buf k = {0};
	size_t it = 0, want = strlen(key);
	while (wg_next(obj, &it, &k, &e)) {
		if (k.len == want && memcmp(k.p ? k.p : "", key, want) == 0)
			found = e;
	}
	if (wg_kind_of(obj) != WG_OBJECT)
		found.start = found.end = NULL;
	wg_buf_free(&k);
	return found;
}

wg_value wg_getp(wg_value obj, const char *path) {
	wg_buf seg = {0};
	wg_value v = obj;
	const char *p = path;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		wg_buf_reset(&seg);
		wg_buf_put(&seg, p, n);
		v = wg_get(v, seg.p);
		if (!dot || !v.start)
			break;
		p = dot + 1;
	}
	wg_buf_free(&seg);
	return v;
}

wg_value wg_at(wg_value arr, size_t i) {
	wg_value e = {NULL, NULL};
	size_t it = 0;
	if (wg_kind_of(arr) != WG_ARRAY)
		return e;
	while (wg_next(arr, &it, NULL, &e)) {
		if (i-- == 0)
			return e;
	}
	e.start = e.end = NULL;
	return e;
}

size_t wg_len(wg_value v) {
	size_t n = 0, it = 0;
	wg_value e;
	if (wg_kind_of(v) == WG_OBJECT) {
		wg_buf k = {0};
		while (wg_next(v, &it, &k, &e))
			n++;
		wg_buf_free(&k);
		return n;
	}
	while (wg_next(v, &it, NULL, &e))
		n++;
	return n;
}

int wg_string(wg_value v, wg_buf *out) {
	if (wg_kind_of(v) != WG_STRING)
		return 0;
	cursor c = {v.start, v.end};
	size_t before = out->len;
	if (!parse_string(&c, out))
		return 0;
	if (out->len == before)
		wg_buf_put(out, "", 0); /* so out->p is a valid empty string */
	return 1;
}

int wg_double(wg_value v, double *out) {
	if (wg_kind_of(v) != WG_NUMBER)
		return 0;
	size_t n = (size_t)(v.end - v.start);
	char tmp[64];
	if (n >= sizeof tmp) {
		/* an absurdly long number: parse from a heap copy */
		char *h = malloc(n + 1);
		if (!h)
			die_oom();
		memcpy(h, v.start, n);
		h[n] = 0;
		*out = strtod(h, NULL);
		free(h);
		return 1;
	}
	memcpy(tmp, v.start, n);
	tmp[n] = 0;
	*out = strtod(tmp, NULL);
	return 1;
}

int wg_int(wg_value v, long long *out) {
	double d;
	if (!wg_double(v, &d) || d != floor(d) || fabs(d) > 9007199254740992.0)
		return 0;
	*out = (long long)d;
	return 1;
}

int wg_bool(wg_value v, int *out) {
	if (wg_kind_of(v) != WG_BOOL)
		return 0;
	*out = *v.start == 't';
	return 1;
}

size_t wg_raw(wg_value v, const char **text) {
	*text = v.start ? v.start : "";
	return v.start ? (size_t)(v.end - v.start) : 0;
}

/* ---------- base64 ---------- */

void wg_base64_encode(wg_buf *out, const void *data, size_t n) {
	static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = data;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], B64[(v >> 6) & 63], B64[v & 63]};
		wg_buf_put(out, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], '=', '='};
		wg_buf_put(out, q, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], B64[(v >> 6) & 63], '='};
		wg_buf_put(out, q, 4);
	}
}

/* ---------- calls ---------- */

enum { M_TOOL, M_READ, M_PROMPT, M_COMPLETE, M_OTHER };
enum { H_TOOL, H_RESOURCE, H_TEMPLATE, H_PROMPT, H_COMPLETION };

struct wg_call {
	int method;
	wg_buf method_name, name, tpl, arg_name, arg_value;
	wg_value envelope, arguments, meta, client;
	wg_buf content;    /* the result's items, comma separated: content items, messages, contents or values */
	wg_buf structured; /* structuredContent, or empty */
	wg_buf description;
	wg_buf message; /* the error message, outside tools/call */
	int is_error, code, role, has_more;
	long long total;
};

static struct {
	int kind;
	const char *name;
	wg_handler h;
} handlers[MAX_HANDLERS];
static int nhandlers;

static void add_handler(int kind, const char *name, wg_handler h) {
	if (nhandlers == MAX_HANDLERS) {
		static const char msg[] = "wasmgate SDK: too many handlers (at most 128): serve fewer tools, resources or prompts per module\n";
		write(2, msg, sizeof msg - 1);
		_Exit(1);
	}
	handlers[nhandlers].kind = kind;
	handlers[nhandlers].name = name;
	handlers[nhandlers].h = h;
	nhandlers++;
}

void wg_tool(const char *name, wg_handler h) { add_handler(H_TOOL, name, h); }
void wg_resource(const char *uri, wg_handler h) { add_handler(H_RESOURCE, uri, h); }
void wg_resource_template(const char *uri_template, wg_handler h) { add_handler(H_TEMPLATE, uri_template, h); }
void wg_prompt(const char *name, wg_handler h) { add_handler(H_PROMPT, name, h); }
void wg_completion(const char *ref, wg_handler h) { add_handler(H_COMPLETION, ref, h); }

/* str returns a buffer's string, "" when nothing was written. */
static const char *str(const wg_buf *b) { return b->p ? b->p : ""; }

const char *wg_method(wg_call *c) { return str(&c->method_name); }
const char *wg_name(wg_call *c) { return str(&c->name); }
const char *wg_tool_name(wg_call *c) { return str(&c->name); }
const char *wg_template(wg_call *c) { return c->tpl.p; }
const char *wg_completion_arg(wg_call *c) { return str(&c->arg_name); }
const char *wg_completion_partial(wg_call *c) { return str(&c->arg_value); }
wg_value wg_arguments(wg_call *c) { return c->arguments; }
wg_value wg_meta(wg_call *c) { return c->meta; }
wg_value wg_envelope(wg_call *c) { return c->envelope; }
wg_value wg_client(wg_call *c) { return c->client; }
int wg_failed(wg_call *c) { return c->is_error; }

int wg_client_has(wg_call *c, const char *capability) {
	wg_kind k = wg_kind_of(wg_get(wg_get(c->client, "capabilities"), capability));
	return k != WG_MISSING && k != WG_NULL;
}

/* noun names what the request serves, for messages. */
static const char *noun(wg_call *c) {
	switch (c->method) {
	case M_READ: return c->tpl.p ? "resource template" : "resource";
	case M_PROMPT: return "prompt";
	case M_COMPLETE: return "completion";
	default: return "tool";
	}
}

/* set_error sets the call's error: an isError result in a tools/call, {"error": ...} otherwise. */
static void set_error(wg_call *c, int code, const char *msg, size_t n) {
	if (c->method == M_TOOL) {
		wg_buf_reset(&c->content);
		wg_buf_reset(&c->structured);
		wg_text(c, msg, n);
	} else {
		wg_buf_reset(&c->message);
		wg_buf_put(&c->message, msg, n);
		c->code = code;
	}
	c->is_error = 1;
}

void wg_error_n(wg_call *c, const char *msg, size_t n) { set_error(c, WG_ERR_INTERNAL, msg ? msg : "", msg ? n : 0); }

void wg_error(wg_call *c, const char *fmt, ...) {
	wg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	set_error(c, WG_ERR_INTERNAL, str(&b), b.len);
	wg_buf_free(&b);
}

void wg_fail(wg_call *c, int code, const char *fmt, ...) {
	wg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	set_error(c, code, str(&b), b.len);
	wg_buf_free(&b);
}

/*
 * allowed checks that writer fn may be used in this request: it belongs to
 * the methods in mask (bits of M_*), described by what. Otherwise the call
 * fails naming the writer.
 */
static int allowed(wg_call *c, const char *fn, int mask, const char *what) {
	if (mask & (1 << c->method))
		return 1;
	wg_buf m = {0};
	wg_buf_printf(&m, "%s is for %s, not for a %s request: see wasmgate.h", fn, what, str(&c->method_name));
	set_error(c, WG_ERR_INTERNAL, m.p, m.len);
	wg_buf_free(&m);
	return 0;
}

#define CONTENT_METHODS ((1 << M_TOOL) | (1 << M_PROMPT))
#define CONTENT_WHAT "tools/call and prompts/get results"

/* item_begin opens a content item of type (and in a prompt, its message); item_end closes it. */
static void item_begin(wg_call *c, const char *type) {
	if (c->content.len)
		wg_buf_putc(&c->content, ',');
	if (c->method == M_PROMPT)
		wg_buf_puts(&c->content, c->role == WG_ASSISTANT ? "{\"role\":\"assistant\",\"content\":" : "{\"role\":\"user\",\"content\":");
	wg_buf_puts(&c->content, "{\"type\":\"");
	wg_buf_puts(&c->content, type);
	wg_buf_putc(&c->content, '"');
}

static void item_end(wg_call *c) {
	wg_buf_putc(&c->content, '}');
	if (c->method == M_PROMPT)
		wg_buf_putc(&c->content, '}');
}

/* field appends ,"name":"value" (value a JSON string; nothing when value is NULL). */
static void field(wg_buf *b, const char *name, const char *value, size_t n) {
	if (!value)
		return;
	wg_buf_printf(b, ",\"%s\":", name);
	wg_json_string(b, value, n);
}

static void field_s(wg_buf *b, const char *name, const char *value) { field(b, name, value, value ? strlen(value) : 0); }

static void field_base64(wg_buf *b, const char *name, const void *data, size_t n) {
	wg_buf_printf(b, ",\"%s\":\"", name);
	wg_base64_encode(b, data, n);
	wg_buf_putc(b, '"');
}

void wg_text(wg_call *c, const char *s, size_t n) {
	if (!allowed(c, "wg_text", CONTENT_METHODS, CONTENT_WHAT))
		return;
	item_begin(c, "text");
	field(&c->content, "text", s ? s : "", s ? n : 0);
	item_end(c);
}

void wg_text_s(wg_call *c, const char *s) { wg_text(c, s, s ? strlen(s) : 0); }

void wg_textf(wg_call *c, const char *fmt, ...) {
	wg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	wg_text(c, str(&b), b.len);
	wg_buf_free(&b);
}

static void media(wg_call *c, const char *fn, const char *type, const void *data, size_t n, const char *mime_type) {
	if (!allowed(c, fn, CONTENT_METHODS, CONTENT_WHAT))
		return;
	item_begin(c, type);
	field_s(&c->content, "mimeType", mime_type ? mime_type : "");
	field_base64(&c->content, "data", data, n);
	item_end(c);
}

void wg_image(wg_call *c, const void *data, size_t n, const char *mime_type) { media(c, "wg_image", "image", data, n, mime_type); }
void wg_audio(wg_call *c, const void *data, size_t n, const char *mime_type) { media(c, "wg_audio", "audio", data, n, mime_type); }

/* resource_contents appends the members of a resource contents object after "uri". */
static void resource_contents(wg_buf *b, const char *uri, const char *mime_type, int blob, const void *data, size_t n) {
	wg_buf_puts(b, "\"uri\":");
	wg_json_string_s(b, uri);
	field_s(b, "mimeType", mime_type);
	if (blob)
		field_base64(b, "blob", data, n);
	else
		field(b, "text", data ? data : "", data ? n : 0);
}

static void embedded(wg_call *c, const char *fn, const char *uri, const char *mime_type, int blob, const void *data, size_t n) {
	if (!allowed(c, fn, CONTENT_METHODS, CONTENT_WHAT))
		return;
	item_begin(c, "resource");
	wg_buf_puts(&c->content, ",\"resource\":{");
	resource_contents(&c->content, uri, mime_type, blob, data, n);
	wg_buf_putc(&c->content, '}');
	item_end(c);
}

void wg_embedded_text(wg_call *c, const char *uri, const char *mime_type, const char *text, size_t n) {
	embedded(c, "wg_embedded_text", uri, mime_type, 0, text, n);
}

void wg_embedded_blob(wg_call *c, const char *uri, const char *mime_type, const void *data, size_t n) {
	embedded(c, "wg_embedded_blob", uri, mime_type, 1, data, n);
}

void wg_resource_link(wg_call *c, const char *uri, const char *name, const char *mime_type, const char *description) {
	if (!allowed(c, "wg_resource_link", CONTENT_METHODS, CONTENT_WHAT))
		return;
	item_begin(c, "resource_link");
	field_s(&c->content, "uri", uri ? uri : "");
	field_s(&c->content, "name", name ? name : "");
	field_s(&c->content, "mimeType", mime_type);
	field_s(&c->content, "description", description);
	item_end(c);
}

void wg_structured(wg_call *c, const char *json, size_t n) {
	if (!allowed(c, "wg_structured", 1 << M_TOOL, "tools/call results"))
		return;
	wg_buf_reset(&c->structured);
	wg_buf_put(&c->structured, json, n);
}

void wg_role(wg_call *c, int role) {
	if (allowed(c, "wg_role", 1 << M_PROMPT, "prompts/get results"))
		c->role = role;
}

void wg_description(wg_call *c, const char *s) {
	if (!allowed(c, "wg_description", 1 << M_PROMPT, "prompts/get results"))
		return;
	wg_buf_reset(&c->description);
	wg_json_string_s(&c->description, s);
}

static void contents(wg_call *c, const char *fn, const char *uri, const char *mime_type, int blob, const void *data, size_t n) {
	if (!allowed(c, fn, 1 << M_READ, "resources/read results"))
		return;
	if (c->content.len)
		wg_buf_putc(&c->content, ',');
	wg_buf_putc(&c->content, '{');
	resource_contents(&c->content, uri ? uri : str(&c->name), mime_type, blob, data, n);
	wg_buf_putc(&c->content, '}');
}

void wg_contents_text(wg_call *c, const char *uri, const char *mime_type, const char *text, size_t n) {
	contents(c, "wg_contents_text", uri, mime_type, 0, text, n);
}

void wg_contents_blob(wg_call *c, const char *uri, const char *mime_type, const void *data, size_t n) {
	contents(c, "wg_contents_blob", uri, mime_type, 1, data, n);
}

void wg_completion_add(wg_call *c, const char *value) {
	if (!allowed(c, "wg_completion_add", 1 << M_COMPLETE, "completion/complete results"))
		return;
	if (c->content.len)
		wg_buf_putc(&c->content, ',');
	wg_json_string_s(&c->content, value);
}

int wg_completion_match(wg_call *c, const char *const *values) {
	size_t plen = c->arg_value.len;
	int added = 0;
	for (const char *const *v = values; *v; v++) {
		if (strncmp(*v, str(&c->arg_value), plen) == 0 && strlen(*v) >= plen) {
			wg_completion_add(c, *v);
			added++;
		}
	}
	return added;
}

void wg_completion_total(wg_call *c, long long total, int has_more) {
	if (!allowed(c, "wg_completion_total", 1 << M_COMPLETE, "completion/complete results"))
		return;
	c->total = total;
	c->has_more = has_more != 0;
}

/* arg_check sets "argument "NAME" must be WHAT" or the missing-argument error. */
static int arg_check(wg_call *c, const char *name, wg_value v, int required, const char *what, int ok) {
	if (!v.start || (wg_kind_of(v) == WG_NULL && !required)) {
		if (!required)
			return 0;
		wg_buf m = {0};
		wg_buf_puts(&m, "missing required argument ");
		wg_json_string_s(&m, name);
		wg_buf_printf(&m, " (%s)", what);
		set_error(c, WG_ERR_INVALID_PARAMS, m.p, m.len);
		wg_buf_free(&m);
		return -1;
	}
	if (ok)
		return 1;
	wg_buf m = {0};
	wg_buf_puts(&m, "argument ");
	wg_json_string_s(&m, name);
	wg_buf_printf(&m, " must be %s", what);
	set_error(c, WG_ERR_INVALID_PARAMS, m.p, m.len);
	wg_buf_free(&m);
	return -1;
}

int wg_arg_string(wg_call *c, const char *name, wg_buf *out, int required) {
	wg_value v = wg_get(c->arguments, name);
	return arg_check(c, name, v, required, "a string", v.start && wg_string(v, out));
}

int wg_arg_int(wg_call *c, const char *name, long long *out, int required) {
	wg_value v = wg_get(c->arguments, name);
	return arg_check(c, name, v, required, "an integer", v.start && wg_int(v, out));
}

int wg_arg_double(wg_call *c, const char *name, double *out, int required) {
	wg_value v = wg_get(c->arguments, name);
	return arg_check(c, name, v, required, "a number", v.start && wg_double(v, out));
}

int wg_arg_bool(wg_call *c, const char *name, int *out, int required) {
	wg_value v = wg_get(c->arguments, name);
	return arg_check(c, name, v, required, "a boolean", v.start && wg_bool(v, out));
}

int wg_args_only(wg_call *c, const char *const *names) {
	wg_buf k = {0};
	wg_value e;
	size_t it = 0;
	int status = 0;
	while (wg_next(c->arguments, &it, &k, &e)) {
		int known = 0;
		for (const char *const *n = names; *n; n++)
			if (strlen(*n) == k.len && memcmp(*n, k.p, k.len) == 0)
				known = 1;
		if (known)
			continue;
		wg_buf m = {0};
		wg_buf_puts(&m, "unknown argument ");
		wg_json_string(&m, k.p, k.len);
		wg_buf_printf(&m, ": this %s takes ", noun(c));
		if (!names[0])
			wg_buf_puts(&m, "no arguments");
		for (const char *const *n = names; *n; n++) {
			if (n == names)
				wg_buf_puts(&m, "only ");
			else
				wg_buf_puts(&m, n[1] ? ", " : " and ");
			wg_json_string_s(&m, *n);
		}
		set_error(c, WG_ERR_INVALID_PARAMS, m.p, m.len);
		wg_buf_free(&m);
		status = -1;
		break;
	}
	wg_buf_free(&k);
	return status;
}

/* ---------- main ---------- */

static int read_all(int fd, wg_buf *b) {
	for (;;) {
		buf_grow(b, 4096);
		ssize_t n = read(fd, b->p + b->len, b->cap - b->len - 1);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		b->len += (size_t)n;
	}
}

static int write_all(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* get_string decodes v, a JSON string, into out (reset first); 0 if v is not a string. */
static int get_string(wg_value v, wg_buf *out) {
	wg_buf_reset(out);
	return wg_string(v, out);
}

/* same reports whether b holds exactly the NUL-terminated s. */
static int same(const wg_buf *b, const char *s) { return s && strlen(s) == b->len && memcmp(str(b), s, b->len) == 0; }

static wg_handler find(int kind, const wg_buf *name) {
	for (int i = 0; i < nhandlers; i++)
		if (handlers[i].kind == kind && same(name, handlers[i].name))
			return handlers[i].h;
	return NULL;
}

/* object_or_empty returns v when it is an object, {} when it is missing or null, and a missing value otherwise. */
static wg_value object_or_empty(wg_value v) {
	static const char empty[] = "{}";
	wg_kind k = wg_kind_of(v);
	if (k == WG_MISSING || k == WG_NULL) {
		v.start = empty;
		v.end = empty + 2;
	} else if (k != WG_OBJECT) {
		v.start = v.end = NULL;
	}
	return v;
}

/* no_handler fails a request that no registered handler serves. */
static void no_handler(wg_call *c, int kind, const char *register_fn) {
	wg_buf m = {0};
	const wg_buf *name = kind == H_TEMPLATE ? &c->tpl : &c->name;
	wg_buf_printf(&m, "unknown %s ", noun(c));
	wg_json_string(&m, name->p, name->len);
	if (kind == H_TOOL) {
		wg_buf_puts(&m, ": this module has ");
		int n = 0, total = 0;
		for (int i = 0; i < nhandlers; i++)
			total += handlers[i].kind == H_TOOL;
		for (int i = 0; i < nhandlers; i++) {
			if (handlers[i].kind != H_TOOL)
				continue;
			if (n)
				wg_buf_puts(&m, n == total - 1 ? " and " : ", ");
			wg_buf_puts(&m, handlers[i].name);
			n++;
		}
		if (!total)
			wg_buf_puts(&m, "no tools");
	} else {
		wg_buf_printf(&m, ": the module declares it but registers no handler; call %s(", register_fn);
		wg_json_string(&m, name->p, name->len);
		wg_buf_puts(&m, ", handler) before wg_main");
	}
	set_error(c, WG_ERR_INTERNAL, m.p, m.len);
	wg_buf_free(&m);
}

static void dispatch(wg_call *c, const char *in, size_t n) {
	if (!wg_json_parse(in, n, &c->envelope) || wg_kind_of(c->envelope) != WG_OBJECT) {
		wg_error(c, "the request is not a single JSON object");
		return;
	}
	if (!get_string(wg_get(c->envelope, "method"), &c->method_name)) {
		wg_error(c, "the request has no method");
		return;
	}
	static const char *const methods[] = {"tools/call", "resources/read", "prompts/get", "completion/complete"};
	c->method = M_OTHER;
	for (int i = 0; i < 4; i++)
		if (same(&c->method_name, methods[i]))
			c->method = i;
	if (c->method == M_OTHER) {
		wg_buf m = {0};
		wg_buf_puts(&m, "unsupported method ");
		wg_json_string(&m, c->method_name.p, c->method_name.len);
		wg_buf_puts(&m, ": this SDK serves tools/call, resources/read, prompts/get and completion/complete");
		set_error(c, WG_ERR_INTERNAL, m.p, m.len);
		wg_buf_free(&m);
		return;
	}
	wg_value params = wg_get(c->envelope, "params");
	if (wg_kind_of(params) != WG_OBJECT) {
		wg_error(c, "the request has no params object");
		return;
	}
	c->meta = wg_get(params, "_meta");
	c->client = wg_get(c->envelope, "client");
	wg_value args = wg_get(params, "arguments");
	wg_handler h = NULL;
	switch (c->method) {
	case M_TOOL:
		if (!get_string(wg_get(params, "name"), &c->name)) {
			wg_error(c, "the request has no tool name (params.name)");
			return;
		}
		h = find(H_TOOL, &c->name);
		break;
	case M_READ: {
		if (!get_string(wg_get(params, "uri"), &c->name)) {
			wg_error(c, "the request has no resource URI (params.uri)");
			return;
		}
		wg_value tpl = wg_get(c->envelope, "template");
		args.start = args.end = NULL;
		if (wg_kind_of(tpl) == WG_OBJECT) {
			if (!get_string(wg_get(tpl, "uriTemplate"), &c->tpl)) {
				wg_error(c, "the request's template has no uriTemplate");
				return;
			}
			args = wg_get(tpl, "variables");
			h = find(H_TEMPLATE, &c->tpl);
		} else {
			h = find(H_RESOURCE, &c->name);
		}
		break;
	}
	case M_PROMPT:
		if (!get_string(wg_get(params, "name"), &c->name)) {
			wg_error(c, "the request has no prompt name (params.name)");
			return;
		}
		h = find(H_PROMPT, &c->name);
		break;
	case M_COMPLETE: {
		wg_value ref = wg_get(params, "ref");
		if (!get_string(wg_get(ref, "name"), &c->name) && !get_string(wg_get(ref, "uri"), &c->name)) {
			wg_error(c, "the request has no ref (params.ref.name or params.ref.uri)");
			return;
		}
		if (!get_string(wg_getp(params, "argument.name"), &c->arg_name)) {
			wg_error(c, "the request has no argument name (params.argument.name)");
			return;
		}
		get_string(wg_getp(params, "argument.value"), &c->arg_value);
		wg_buf_put(&c->arg_value, "", 0);
		args = wg_getp(params, "context.arguments");
		h = find(H_COMPLETION, &c->name);
		for (int i = 0; !h && i < nhandlers; i++)
			if (handlers[i].kind == H_COMPLETION && !handlers[i].name)
				h = handlers[i].h;
		break;
	}
	}
	c->arguments = object_or_empty(args);
	if (!c->arguments.start) {
		wg_error(c, "arguments must be a JSON object");
		return;
	}
	wg_log_n(WG_DEBUG, c->name.p, c->name.len);
	if (h) {
		h(c);
		return;
	}
	switch (c->method) {
	case M_TOOL: no_handler(c, H_TOOL, "wg_tool"); break;
	case M_READ: no_handler(c, c->tpl.p ? H_TEMPLATE : H_RESOURCE, c->tpl.p ? "wg_resource_template" : "wg_resource"); break;
	case M_PROMPT: no_handler(c, H_PROMPT, "wg_prompt"); break;
	default: break; /* a completion nobody handles has no values */
	}
}

/* result writes the call's result, as its method wants it, to out. */
static void result(wg_call *c, wg_buf *out) {
	if (c->is_error && c->method != M_TOOL) {
		wg_buf_printf(out, "{\"error\":{\"code\":%d,\"message\":", c->code);
		wg_json_string(out, c->message.p, c->message.len);
		wg_buf_puts(out, "}}\n");
		return;
	}
	switch (c->method) {
	case M_READ:
		wg_buf_puts(out, "{\"contents\":[");
		wg_buf_put(out, str(&c->content), c->content.len);
		wg_buf_puts(out, "]}\n");
		return;
	case M_PROMPT:
		wg_buf_putc(out, '{');
		if (c->description.len) {
			wg_buf_puts(out, "\"description\":");
			wg_buf_put(out, c->description.p, c->description.len);
			wg_buf_putc(out, ',');
		}
		wg_buf_puts(out, "\"messages\":[");
		wg_buf_put(out, str(&c->content), c->content.len);
		wg_buf_puts(out, "]}\n");
		return;
	case M_COMPLETE:
		wg_buf_puts(out, "{\"completion\":{\"values\":[");
		wg_buf_put(out, str(&c->content), c->content.len);
		wg_buf_putc(out, ']');
		if (c->total >= 0)
			wg_buf_printf(out, ",\"total\":%lld", c->total);
		wg_buf_puts(out, c->has_more ? ",\"hasMore\":true}}\n" : ",\"hasMore\":false}}\n");
		return;
	}
	wg_buf_puts(out, "{\"content\":[");
	wg_buf_put(out, str(&c->content), c->content.len);
	wg_buf_putc(out, ']');
	if (c->structured.len) {
		wg_buf_puts(out, ",\"structuredContent\":");
		wg_buf_put(out, c->structured.p, c->structured.len);
	}
	wg_buf_puts(out, c->is_error ? ",\"isError\":true}\n" : ",\"isError\":false}\n");
}

int wg_main(void) {
	wg_buf in = {0}, out = {0};
	wg_call c;
	memset(&c, 0, sizeof c);
	c.method = M_TOOL;
	c.total = -1;
	if (read_all(0, &in) < 0)
		wg_error(&c, "could not read the request from stdin");
	else
		dispatch(&c, str(&in), in.len);
	result(&c, &out);
	return write_all(1, out.p, out.len) < 0 ? 1 : 0;
}

/* ---------- host functions ---------- */

const char *wg_status_name(int status) {
	switch (status) {
	case WG_INVALID: return "invalid";
	case WG_DENIED: return "denied";
	case WG_FAILED: return "failed";
	case WG_TOO_LARGE: return "too_large";
	case WG_NOT_FOUND: return "not_found";
	case WG_CANCELLED: return "cancelled";
	default: return status >= 0 ? "ok" : "unknown";
	}
}

void wg_log_n(int level, const char *msg, size_t n) { wg__log(level, msg ? msg : "", (int32_t)n); }

void wg_log(int level, const char *fmt, ...) {
	wg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	wg_log_n(level, b.p, b.len);
	wg_buf_free(&b);
}

void wg_progress(double progress, double total, const char *msg) {
	wg__progress(progress, total, msg ? msg : "", msg ? (int32_t)strlen(msg) : 0);
}

/* take fetches what the host holds after a request-style call into out. */
static int take(int32_t status, wg_buf *out) {
	int32_t n = wg__response_len();
	if (out) {
		wg_buf_reset(out);
		buf_grow(out, (size_t)(n > 0 ? n : 0));
		if (n > 0)
			out->len = (size_t)wg__response(out->p, n);
		out->p[out->len] = 0;
	} else if (n > 0) {
		/* release what is held */
		char tmp[256];
		while (wg__response_len() > 0 && wg__response(tmp, sizeof tmp) > 0) {
		}
	}
	return status;
}

int wg_http_request(const char *req, size_t n, wg_buf *out) { return take(wg__http_request(req, (int32_t)n), out); }

int wg_http_get(const char *url, wg_buf *out) {
	wg_buf req = {0};
	wg_buf_puts(&req, "{\"url\":");
	wg_json_string_s(&req, url);
	wg_buf_putc(&req, '}');
	int s = wg_http_request(req.p, req.len, out);
	wg_buf_free(&req);
	return s;
}

int wg_kv_get(const char *key, size_t klen, wg_buf *out) { return take(wg__kv_get(key, (int32_t)klen), out); }

int wg_kv_set(const char *key, size_t klen, const void *val, size_t vlen, wg_buf *out) {
	return take(wg__kv_set(key, (int32_t)klen, val ? val : "", (int32_t)vlen), out);
}

int wg_kv_delete(const char *key, size_t klen, wg_buf *out) { return take(wg__kv_delete(key, (int32_t)klen), out); }

int wg_kv_list(const char *prefix, size_t plen, const char *after, size_t alen, wg_buf *out) {
	return take(wg__kv_list(prefix ? prefix : "", (int32_t)plen, after ? after : "", (int32_t)alen), out);
}

int wg_secret_get(const char *name, wg_buf *out) {
	return take(wg__secret_get(name, (int32_t)strlen(name)), out);
}

int wg_resource_updated(const char *uri, wg_buf *out) {
	return take(wg__resource_updated(uri ? uri : "", uri ? (int32_t)strlen(uri) : 0), out);
}

int wg_sample(const char *req, size_t n, wg_buf *out) { return take(wg__sample(req ? req : "", (int32_t)n), out); }

int wg_elicit(const char *req, size_t n, wg_buf *out) { return take(wg__elicit(req ? req : "", (int32_t)n), out); }

int wg_ask(const char *req, size_t n, wg_buf *out) { return take(wg__ask(req ? req : "", (int32_t)n), out); }
