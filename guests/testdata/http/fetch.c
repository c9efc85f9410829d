/*
 * fetch: a test guest for http_request. Its one tool, fetch, takes
 * {"op": ..., "request": ..., "then": ..., "a": N, "b": N} and prints, as
 * plain text, what the host answered:
 *
 *   ok STATUS\n then the held response (the response JSON)
 *   error CODE: MESSAGE
 *
 * ops:
 *   request  pass the string "request" to http_request unchanged (so it
 *            may be any bytes, malformed JSON included); when "then" is
 *            given, pass it too, in the same call, and print both results
 *            separated by a line "---"
 *   badptr   a request range outside memory (host misuse)
 *   hugelen  an in-range pointer with a length of 2 GiB (too_large)
 *   raw      http_request(a, b) with whatever integers a and b are
 *
 * Needs only wasi-libc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMPORT(name) __attribute__((import_module("wasmgate"), import_name(name)))

IMPORT("http_request") extern int32_t http_request(uint32_t ptr, uint32_t len);
IMPORT("response_len") extern int32_t response_len(void);
IMPORT("response") extern int32_t response(uint32_t ptr, uint32_t len);

#define P(x) ((uint32_t)(uintptr_t)(x))
#define OUTSIDE 0xFFFFFF00u

/* ---------- byte strings ---------- */

typedef struct {
	char *p;
	size_t len, cap;
} buf;

static void die(const char *msg) {
	write(2, msg, strlen(msg));
	_Exit(1);
}

static void put(buf *b, const void *s, size_t n) {
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			die("fetch: out of memory\n");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void putc_(buf *b, char c) { put(b, &c, 1); }

/* ---------- a small JSON reader: enough for the call envelope ---------- */

typedef struct {
	const char *p, *end;
	int bad;
} rd;

static void ws(rd *r) {
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hex4(rd *r, uint32_t *c) {
	if (r->end - r->p < 4)
		return 0;
	*c = 0;
	for (int i = 0; i < 4; i++) {
		char h = *r->p++;
		*c <<= 4;
		if (h >= '0' && h <= '9')
			*c |= (uint32_t)(h - '0');
		else if (h >= 'a' && h <= 'f')
			*c |= (uint32_t)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			*c |= (uint32_t)(h - 'A' + 10);
		else
			return 0;
	}
	return 1;
}

static void utf8(buf *b, uint32_t c) {
	char s[4];
	size_t n;
	if (c < 0x80) {
		s[0] = (char)c, n = 1;
	} else if (c < 0x800) {
		s[0] = (char)(0xC0 | (c >> 6)), s[1] = (char)(0x80 | (c & 0x3F)), n = 2;
	} else if (c < 0x10000) {
		s[0] = (char)(0xE0 | (c >> 12)), s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[2] = (char)(0x80 | (c & 0x3F)), n = 3;
	} else {
		s[0] = (char)(0xF0 | (c >> 18)), s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((c >> 6) & 0x3F)), s[3] = (char)(0x80 | (c & 0x3F)), n = 4;
	}
	put(b, s, n);
}

/* str reads a JSON string into out (which may be NULL to skip it). */
static void str(rd *r, buf *out) {
	buf skip = {0};
	if (!out)
		out = &skip;
	if (r->p >= r->end || *r->p != '"') {
		r->bad = 1;
		return;
	}
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		char c = *r->p++;
		if (c != '\\') {
			putc_(out, c);
			continue;
		}
		if (r->p >= r->end)
			break;
		c = *r->p++;
		uint32_t u;
		switch (c) {
		case 'n': putc_(out, '\n'); break;
		case 't': putc_(out, '\t'); break;
		case 'r': putc_(out, '\r'); break;
		case 'b': putc_(out, '\b'); break;
		case 'f': putc_(out, '\f'); break;
		case 'u':
			if (!hex4(r, &u)) {
				r->bad = 1;
				return;
			}
			if (u >= 0xD800 && u < 0xDC00 && r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
				uint32_t lo;
				r->p += 2;
				if (!hex4(r, &lo)) {
					r->bad = 1;
					return;
				}
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			}
			utf8(out, u);
			break;
		default: putc_(out, c);
		}
	}
	if (r->p >= r->end) {
		r->bad = 1;
		return;
	}
	r->p++;
	free(skip.p);
}

static void value(rd *r, int depth);

/* object calls field for each member with the reader at its value. */
static void object(rd *r, int depth, void (*field)(rd *, const char *, int, void *), void *ctx) {
	ws(r);
	if (r->p >= r->end || *r->p != '{') {
		r->bad = 1;
		return;
	}
	r->p++;
	ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return;
	}
	while (!r->bad) {
		buf k = {0};
		ws(r);
		str(r, &k);
		ws(r);
		if (r->bad || r->p >= r->end || *r->p != ':') {
			r->bad = 1;
			free(k.p);
			return;
		}
		r->p++;
		ws(r);
		if (field)
			field(r, k.p ? k.p : "", depth, ctx);
		else
			value(r, depth + 1);
		free(k.p);
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return;
		}
		r->bad = 1;
	}
}

static void value(rd *r, int depth) {
	if (depth > 64) {
		r->bad = 1;
		return;
	}
	ws(r);
	if (r->p >= r->end) {
		r->bad = 1;
		return;
	}
	switch (*r->p) {
	case '"': str(r, NULL); return;
	case '{': object(r, depth, NULL, NULL); return;
	case '[':
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return;
		}
		while (!r->bad) {
			value(r, depth + 1);
			ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == ']') {
				r->p++;
				return;
			}
			r->bad = 1;
		}
		return;
	default:
		while (r->p < r->end && strchr(",}] \t\r\n", *r->p) == NULL)
			r->p++;
	}
}

/* ---------- the tool's arguments ---------- */

typedef struct {
	buf op, request, then;
	int has_then;
	uint32_t n[2];
} args;

static void arg_field(rd *r, const char *k, int depth, void *ctx) {
	args *a = ctx;
	(void)depth;
	if (!strcmp(k, "op"))
		str(r, &a->op);
	else if (!strcmp(k, "request"))
		str(r, &a->request);
	else if (!strcmp(k, "then")) {
		str(r, &a->then);
		a->has_then = 1;
	} else if ((k[0] == 'a' || k[0] == 'b') && k[1] == 0)
		a->n[k[0] - 'a'] = (uint32_t)strtoul(r->p, (char **)&r->p, 10);
	else
		value(r, 1);
}

static void params_field(rd *r, const char *k, int depth, void *ctx) {
	if (!strcmp(k, "arguments"))
		object(r, depth + 1, arg_field, ctx);
	else
		value(r, depth + 1);
}

static void top_field(rd *r, const char *k, int depth, void *ctx) {
	if (!strcmp(k, "params"))
		object(r, depth + 1, params_field, ctx);
	else
		value(r, depth + 1);
}

/* ---------- output ---------- */

static buf out;

static void outs(const char *s) { put(&out, s, strlen(s)); }

static void outf(const char *fmt, long v) {
	char s[64];
	snprintf(s, sizeof s, fmt, v);
	outs(s);
}

/* report prints the status and what the host holds. */
static void report(int32_t status) {
	int32_t n = response_len();
	char *held = malloc((size_t)n + 1);
	if (!held)
		die("fetch: out of memory\n");
	int32_t got = response(P(held), (uint32_t)n);
	if (got != n || response_len() != 0)
		die("fetch: response did not return what response_len promised\n");
	if (status >= 0) {
		if (status != n)
			die("fetch: the status is not the length of the held response\n");
		outf("ok %ld\n", status);
	} else {
		outf("error %ld: ", status);
	}
	put(&out, held, (size_t)n);
	free(held);
}

static int32_t do_request(buf *req) {
	return http_request(P(req->p ? req->p : ""), (uint32_t)req->len);
}

int main(void) {
	buf in = {0};
	char chunk[4096];
	for (;;) {
		ssize_t n = read(0, chunk, sizeof chunk);
		if (n < 0)
			die("fetch: cannot read stdin\n");
		if (n == 0)
			break;
		put(&in, chunk, (size_t)n);
	}
	args a = {0};
	rd r = {in.p, in.p + in.len, 0};
	object(&r, 0, top_field, &a);
	if (r.bad)
		die("fetch: the call envelope is not the JSON expected\n");
	const char *op = a.op.p ? a.op.p : "request";

	if (!strcmp(op, "request")) {
		report(do_request(&a.request));
		if (a.has_then) {
			outs("\n---\n");
			report(do_request(&a.then));
		}
	} else if (!strcmp(op, "badptr")) {
		report(http_request(OUTSIDE, 64));
	} else if (!strcmp(op, "hugelen")) {
		report(http_request(0, 0x7FFFFFFFu));
	} else if (!strcmp(op, "raw")) {
		report(http_request(a.n[0], a.n[1]));
	} else {
		die("fetch: unknown op\n");
	}
	size_t done = 0;
	while (done < out.len) {
		ssize_t w = write(1, out.p + done, out.len - done);
		if (w <= 0)
			die("fetch: cannot write stdout\n");
		done += (size_t)w;
	}
	return 0;
}
