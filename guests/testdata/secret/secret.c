/*
 * secret: a test guest for secret_get. Its one tool, secret, takes
 * {"name": ..., "mode": ..., "count": N}, fetches the named secret and,
 * on purpose, leaks it every way a guest can:
 *
 *   print  prints "the secret is VALUE" on stdout, writes it to stderr and
 *          logs it through wasmgate.log
 *   fail   returns an isError result whose text holds the value
 *   exit   writes the value to stderr and exits with code 1
 *   probe  asks for count secrets named PROBE-0, PROBE-1, ... (none
 *          granted) and prints how many were denied
 *   badptr passes secret_get a name outside its memory (host misuse)
 *
 * When secret_get fails it prints "error CODE: MESSAGE" instead.
 * Needs only wasi-libc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IMPORT(name) __attribute__((import_module("wasmgate"), import_name(name)))

IMPORT("secret_get") extern int32_t secret_get(uint32_t ptr, uint32_t len);
IMPORT("log") extern void wasmgate_log(int32_t level, uint32_t ptr, uint32_t len);
IMPORT("response_len") extern int32_t response_len(void);
IMPORT("response") extern int32_t response(uint32_t ptr, uint32_t len);

#define P(x) ((uint32_t)(uintptr_t)(x))

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
			die("secret: out of memory\n");
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
	buf name, mode;
	long count;
} args;

static void arg_field(rd *r, const char *k, int depth, void *ctx) {
	args *a = ctx;
	(void)depth;
	if (!strcmp(k, "name"))
		str(r, &a->name);
	else if (!strcmp(k, "mode"))
		str(r, &a->mode);
	else if (!strcmp(k, "count"))
		a->count = strtol(r->p, (char **)&r->p, 10);
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

/* held returns what the host holds, NUL-terminated. */
static buf held(void) {
	buf b = {0};
	int32_t n = response_len();
	char *p = malloc((size_t)n + 1);
	if (!p)
		die("secret: out of memory\n");
	if (response(P(p), (uint32_t)n) != n)
		die("secret: response did not return what response_len promised\n");
	put(&b, p, (size_t)n);
	free(p);
	return b;
}

static void writes(int fd, const char *s, size_t n) {
	if (write(fd, s, n) != (ssize_t)n)
		die("secret: cannot write\n");
}

/* json_text appends s as the inside of a JSON string. */
static void json_text(buf *b, const char *s, size_t n) {
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			putc_(b, '\\');
			putc_(b, (char)c);
		} else if (c < 0x20) {
			char e[8];
			snprintf(e, sizeof e, "\\u%04x", c);
			put(b, e, 6);
		} else {
			putc_(b, (char)c);
		}
	}
}

int main(void) {
	buf in = {0};
	char chunk[4096];
	for (;;) {
		ssize_t n = read(0, chunk, sizeof chunk);
		if (n < 0)
			die("secret: cannot read stdin\n");
		if (n == 0)
			break;
		put(&in, chunk, (size_t)n);
	}
	args a = {0};
	rd r = {in.p, in.p + in.len, 0};
	object(&r, 0, top_field, &a);
	if (r.bad)
		die("secret: the call envelope is not the JSON expected\n");
	const char *mode = a.mode.p ? a.mode.p : "print";
	buf out = {0};
	char line[96];

	if (!strcmp(mode, "probe")) {
		long denied = 0;
		for (long i = 0; i < a.count; i++) {
			int n = snprintf(line, sizeof line, "PROBE-%ld", i);
			if (secret_get(P(line), (uint32_t)n) == -2)
				denied++;
		}
		snprintf(line, sizeof line, "denied %ld", denied);
		writes(1, line, strlen(line));
		return 0;
	}

	if (!strcmp(mode, "badptr")) {
		secret_get(0xFFFFFF00u, 16);
		writes(1, "still running", 13);
		return 0;
	}

	int32_t st = secret_get(P(a.name.p ? a.name.p : ""), (uint32_t)a.name.len);
	buf v = held();
	if (st < 0) {
		snprintf(line, sizeof line, "error %ld: ", (long)st);
		put(&out, line, strlen(line));
		put(&out, v.p, v.len);
		writes(1, out.p, out.len);
		return 0;
	}
	if (!strcmp(mode, "print")) {
		put(&out, "the secret is ", 14);
		put(&out, v.p, v.len);
		writes(1, out.p, out.len);
		writes(2, "stderr: ", 8);
		writes(2, v.p, v.len);
		writes(2, "\n", 1);
		buf msg = {0};
		put(&msg, "log: ", 5);
		put(&msg, v.p, v.len);
		wasmgate_log(1, P(msg.p), (uint32_t)msg.len);
	} else if (!strcmp(mode, "fail")) {
		put(&out, "{\"isError\":true,\"content\":[{\"type\":\"text\",\"text\":\"failed with ", 62);
		json_text(&out, v.p, v.len);
		put(&out, "\"}]}", 4);
		writes(1, out.p, out.len);
	} else if (!strcmp(mode, "exit")) {
		writes(2, "dying with ", 11);
		writes(2, v.p, v.len);
		writes(2, "\n", 1);
		return 1;
	} else {
		die("secret: unknown mode\n");
	}
	return 0;
}
