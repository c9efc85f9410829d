/*
 * hash: a wasmgate guest module in C with three tools: sha256,
 * base64_encode and base64_decode. Each call reads one tools/call envelope
 * from stdin and writes one CallToolResult to stdout. Needs only wasi-libc.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* wasmgate.log(level, ptr, len) */
__attribute__((import_module("wasmgate"), import_name("log")))
extern void wasmgate_log(int32_t level, const char *ptr, int32_t len);

#define LOG_DEBUG 0
#define MAX_DEPTH 128

/* ---------- growing byte buffer ---------- */

typedef struct {
	char *p;
	size_t len, cap;
} buf;

static void die_oom(void) {
	static const char msg[] = "hash: out of memory\n";
	write(2, msg, sizeof msg - 1);
	_Exit(1);
}

static void buf_grow(buf *b, size_t extra) {
	if (b->len + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra) {
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

static void buf_put(buf *b, const void *s, size_t n) {
	buf_grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void buf_putc(buf *b, char c) { buf_put(b, &c, 1); }

static void buf_puts(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_free(buf *b) {
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---------- stdin / stdout ---------- */

static int read_all(int fd, buf *b) {
	for (;;) {
		buf_grow(b, 4096);
		ssize_t n = read(fd, b->p + b->len, b->cap - b->len);
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

/* ---------- UTF-8 ---------- */

static void put_utf8(buf *b, uint32_t c) {
	char s[4];
	if (c < 0x80) {
		s[0] = (char)c;
		buf_put(b, s, 1);
	} else if (c < 0x800) {
		s[0] = (char)(0xC0 | (c >> 6));
		s[1] = (char)(0x80 | (c & 0x3F));
		buf_put(b, s, 2);
	} else if (c < 0x10000) {
		s[0] = (char)(0xE0 | (c >> 12));
		s[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[2] = (char)(0x80 | (c & 0x3F));
		buf_put(b, s, 3);
	} else {
		s[0] = (char)(0xF0 | (c >> 18));
		s[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		s[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		s[3] = (char)(0x80 | (c & 0x3F));
		buf_put(b, s, 4);
	}
}

/*
 * utf8_next decodes one code point of s[0..n) into *c and returns its length,
 * or 0 if the bytes there are not well-formed UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF are rejected).
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *c) {
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

static int utf8_valid(const char *s, size_t n) {
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;
	while (n > 0) {
		size_t k = utf8_next(u, n, &c);
		if (k == 0)
			return 0;
		u += k;
		n -= k;
	}
	return 1;
}

/* ---------- JSON writing ---------- */

/*
 * put_json_string writes s[0..n) as a JSON string. Control characters are
 * escaped; bytes that are not well-formed UTF-8 become U+FFFD so the output
 * is always valid JSON.
 */
static void put_json_string(buf *b, const char *s, size_t n) {
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	buf_putc(b, '"');
	while (n > 0) {
		unsigned char c = *u;
		if (c >= 0x80) {
			uint32_t cp;
			size_t k = utf8_next(u, n, &cp);
			if (k == 0) {
				put_utf8(b, 0xFFFD);
				k = 1;
			} else {
				buf_put(b, u, k);
			}
			u += k;
			n -= k;
			continue;
		}
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7F) {
				char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
				buf_put(b, e, 6);
			} else {
				buf_putc(b, (char)c);
			}
		}
		u++;
		n--;
	}
	buf_putc(b, '"');
}

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
 * including surrogate pairs) into UTF-8 in out (which may be NULL to just
 * skip it). A lone surrogate becomes U+FFFD. Returns 1 on success.
 */
static int parse_string(cursor *c, buf *out) {
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
			while (c->p < c->end && *c->p != '"' && *c->p != '\\' && (unsigned char)*c->p >= 0x20)
				c->p++;
			if (out)
				buf_put(out, start, (size_t)(c->p - start));
			continue;
		}
		c->p++;
		if (c->p >= c->end)
			return 0;
		char e = *c->p++;
		switch (e) {
		case '"': if (out) buf_putc(out, '"'); break;
		case '\\': if (out) buf_putc(out, '\\'); break;
		case '/': if (out) buf_putc(out, '/'); break;
		case 'b': if (out) buf_putc(out, '\b'); break;
		case 'f': if (out) buf_putc(out, '\f'); break;
		case 'n': if (out) buf_putc(out, '\n'); break;
		case 'r': if (out) buf_putc(out, '\r'); break;
		case 't': if (out) buf_putc(out, '\t'); break;
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
				put_utf8(out, cp);
			break;
		}
		default:
			return 0;
		}
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

/* skip_value checks and skips one JSON value at the cursor. */
static int skip_value(cursor *c, int depth) {
	if (depth > MAX_DEPTH)
		return 0;
	skip_ws(c);
	if (c->p >= c->end)
		return 0;
	switch (*c->p) {
	case '"':
		return parse_string(c, NULL);
	case '{':
		c->p++;
		skip_ws(c);
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return 1;
		}
		for (;;) {
			skip_ws(c);
			if (!parse_string(c, NULL))
				return 0;
			skip_ws(c);
			if (c->p >= c->end || *c->p != ':')
				return 0;
			c->p++;
			if (!skip_value(c, depth + 1))
				return 0;
			skip_ws(c);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				continue;
			}
			if (c->p < c->end && *c->p == '}') {
				c->p++;
				return 1;
			}
			return 0;
		}
	case '[':
		c->p++;
		skip_ws(c);
		if (c->p < c->end && *c->p == ']') {
			c->p++;
			return 1;
		}
		for (;;) {
			if (!skip_value(c, depth + 1))
				return 0;
			skip_ws(c);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				continue;
			}
			if (c->p < c->end && *c->p == ']') {
				c->p++;
				return 1;
			}
			return 0;
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

/* A JSON value found in the input: [start, end) of its text. */
typedef struct {
	const char *start, *end;
} span;

static int span_is_set(span s) { return s.start != NULL; }

static char span_kind(span s) { return s.start ? *s.start : 0; }

/*
 * object_each walks the members of the object at span obj, calling fn for
 * each key (decoded) and value span. Returns 1 if obj is a valid object.
 */
typedef void (*member_fn)(void *ctx, const char *key, size_t keylen, span value);

static int object_each(span obj, member_fn fn, void *ctx) {
	cursor c = {obj.start, obj.end};
	if (span_kind(obj) != '{')
		return 0;
	c.p++;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}')
		return 1;
	buf key = {0};
	for (;;) {
		skip_ws(&c);
		key.len = 0;
		if (!parse_string(&c, &key))
			goto bad;
		skip_ws(&c);
		if (c.p >= c.end || *c.p != ':')
			goto bad;
		c.p++;
		skip_ws(&c);
		span v = {c.p, NULL};
		if (!skip_value(&c, 1))
			goto bad;
		v.end = c.p;
		fn(ctx, key.p ? key.p : "", key.len, v);
		skip_ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}')
			break;
		goto bad;
	}
	buf_free(&key);
	return 1;
bad:
	buf_free(&key);
	return 0;
}

static int key_is(const char *key, size_t keylen, const char *want) {
	return keylen == strlen(want) && memcmp(key, want, keylen) == 0;
}

/* ---------- the request ---------- */

typedef struct {
	span method, params, name, arguments;
} request;

static void top_member(void *ctx, const char *key, size_t keylen, span v) {
	request *r = ctx;
	if (key_is(key, keylen, "method"))
		r->method = v;
	else if (key_is(key, keylen, "params"))
		r->params = v;
}

static void params_member(void *ctx, const char *key, size_t keylen, span v) {
	request *r = ctx;
	if (key_is(key, keylen, "name"))
		r->name = v;
	else if (key_is(key, keylen, "arguments"))
		r->arguments = v;
}

/* The one argument the tools take: "text". */
typedef struct {
	span text;
	buf unknown; /* the first unknown argument name */
	int has_unknown;
} arguments;

static void argument_member(void *ctx, const char *key, size_t keylen, span v) {
	arguments *a = ctx;
	if (key_is(key, keylen, "text")) {
		a->text = v;
	} else if (!a->has_unknown) {
		a->has_unknown = 1;
		buf_put(&a->unknown, key, keylen);
	}
}

/* decode_string decodes a string value span into out. */
static int decode_string(span s, buf *out) {
	cursor c = {s.start, s.end};
	return span_kind(s) == '"' && parse_string(&c, out);
}

/* ---------- SHA-256 ---------- */

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p) {
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t S1 = ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = hh + S1 + ch + K256[i] + w[i];
		uint32_t S0 = ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + maj;
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

static void sha256(const unsigned char *msg, size_t n, unsigned char out[32]) {
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	size_t full = n / 64 * 64;
	for (size_t i = 0; i < full; i += 64)
		sha256_block(h, msg + i);
	/* the tail, 0x80, zero padding and the 64-bit bit length: 1 or 2 blocks */
	unsigned char tail[128] = {0};
	size_t rem = n - full;
	memcpy(tail, msg + full, rem);
	tail[rem] = 0x80;
	size_t tlen = rem < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha256_block(h, tail);
	if (tlen == 128)
		sha256_block(h, tail + 64);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

/* ---------- base64 (RFC 4648, standard alphabet) ---------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_encode(const unsigned char *s, size_t n, buf *out) {
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], B64[(v >> 6) & 63], B64[v & 63]};
		buf_put(out, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], '=', '='};
		buf_put(out, q, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		char q[4] = {B64[v >> 18], B64[(v >> 12) & 63], B64[(v >> 6) & 63], '='};
		buf_put(out, q, 4);
	}
}

static int b64_value(unsigned char c) {
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * base64_decode decodes s[0..n), ignoring ASCII whitespace; padding is
 * optional but, when present, must be correct and last. On failure it
 * writes a message to err and returns 0.
 */
static int base64_decode(const unsigned char *s, size_t n, buf *out, buf *err) {
	uint32_t acc = 0;
	int have = 0;       /* sextets in acc */
	size_t count = 0;   /* base64 characters seen, padding included */
	int pad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == '=') {
			pad++;
			count++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad) {
			const char *why = v < 0 ? "invalid base64: unexpected character " : "invalid base64: data after padding at ";
			buf_puts(err, why);
			if (v < 0) {
				uint32_t cp;
				size_t k = utf8_next(s + i, n - i, &cp);
				put_json_string(err, (const char *)s + i, k ? k : 1);
				buf_puts(err, " at ");
			}
			buf_puts(err, "offset ");
			char num[24];
			int len = 0;
			size_t x = i;
			do {
				num[len++] = (char)('0' + x % 10);
				x /= 10;
			} while (x);
			while (len)
				buf_putc(err, num[--len]);
			return 0;
		}
		count++;
		acc = acc << 6 | (uint32_t)v;
		if (++have == 4) {
			char b[3] = {(char)(acc >> 16), (char)(acc >> 8), (char)acc};
			buf_put(out, b, 3);
			acc = 0;
			have = 0;
		}
	}
	if (have == 1 || pad > 2 || (pad && (count % 4 != 0 || pad != 4 - have))) {
		buf_puts(err, "invalid base64: the input is truncated or wrongly padded");
		return 0;
	}
	if (have == 2) {
		buf_putc(out, (char)(acc >> 4));
	} else if (have == 3) {
		char b[2] = {(char)(acc >> 10), (char)(acc >> 2)};
		buf_put(out, b, 2);
	}
	return 1;
}

/* ---------- results ---------- */

static void result_error(buf *out, const char *msg, size_t n) {
	buf_puts(out, "{\"content\":[{\"type\":\"text\",\"text\":");
	put_json_string(out, msg, n);
	buf_puts(out, "}],\"isError\":true}\n");
}

static void result_error_s(buf *out, const char *msg) { result_error(out, msg, strlen(msg)); }

/* result_ok writes text as the content and {"key": text} as structuredContent. */
static void result_ok(buf *out, const char *key, const char *text, size_t n) {
	buf_puts(out, "{\"content\":[{\"type\":\"text\",\"text\":");
	put_json_string(out, text, n);
	buf_puts(out, "}],\"structuredContent\":{");
	put_json_string(out, key, strlen(key));
	buf_putc(out, ':');
	put_json_string(out, text, n);
	buf_puts(out, "},\"isError\":false}\n");
}

static void handle(const char *in, size_t inlen, buf *out) {
	request r = {0};
	span whole;
	cursor c = {in, in + inlen};
	skip_ws(&c);
	whole.start = c.p;
	if (!skip_value(&c, 0)) {
		result_error_s(out, "the request is not valid JSON");
		return;
	}
	whole.end = c.p;
	skip_ws(&c);
	if (c.p != c.end || !object_each(whole, top_member, &r)) {
		result_error_s(out, "the request is not a single JSON object");
		return;
	}
	buf s = {0};
	if (!decode_string(r.method, &s) || !key_is(s.p, s.len, "tools/call")) {
		buf_free(&s);
		result_error_s(out, "unsupported method: this module only serves tools/call");
		return;
	}
	buf_free(&s);
	if (!span_is_set(r.params) || !object_each(r.params, params_member, &r)) {
		result_error_s(out, "the request has no params object");
		return;
	}
	buf name = {0};
	if (!decode_string(r.name, &name)) {
		result_error_s(out, "the request has no tool name (params.name)");
		return;
	}
	wasmgate_log(LOG_DEBUG, name.p ? name.p : "", (int32_t)name.len);

	enum { T_SHA256, T_B64ENC, T_B64DEC } tool;
	if (key_is(name.p, name.len, "sha256")) {
		tool = T_SHA256;
	} else if (key_is(name.p, name.len, "base64_encode")) {
		tool = T_B64ENC;
	} else if (key_is(name.p, name.len, "base64_decode")) {
		tool = T_B64DEC;
	} else {
		buf m = {0};
		buf_puts(&m, "unknown tool ");
		put_json_string(&m, name.p ? name.p : "", name.len);
		buf_puts(&m, ": this module has sha256, base64_encode and base64_decode");
		result_error(out, m.p, m.len);
		buf_free(&m);
		buf_free(&name);
		return;
	}
	buf_free(&name);

	arguments a = {0};
	if (span_is_set(r.arguments) && !(span_kind(r.arguments) == 'n') &&
	    !object_each(r.arguments, argument_member, &a)) {
		result_error_s(out, "arguments must be a JSON object");
		return;
	}
	if (a.has_unknown) {
		buf m = {0};
		buf_puts(&m, "unknown argument ");
		put_json_string(&m, a.unknown.p, a.unknown.len);
		buf_puts(&m, ": this tool takes only \"text\"");
		result_error(out, m.p, m.len);
		buf_free(&m);
		buf_free(&a.unknown);
		return;
	}
	if (!span_is_set(a.text)) {
		result_error_s(out, "missing required argument \"text\" (a string)");
		return;
	}
	buf text = {0};
	if (!decode_string(a.text, &text)) {
		result_error_s(out, "argument \"text\" must be a string");
		return;
	}
	const unsigned char *t = (const unsigned char *)(text.p ? text.p : "");

	buf res = {0}, err = {0};
	switch (tool) {
	case T_SHA256: {
		static const char hex[] = "0123456789abcdef";
		unsigned char d[32];
		char h[64];
		sha256(t, text.len, d);
		for (int i = 0; i < 32; i++) {
			h[2 * i] = hex[d[i] >> 4];
			h[2 * i + 1] = hex[d[i] & 15];
		}
		result_ok(out, "sha256", h, 64);
		break;
	}
	case T_B64ENC:
		base64_encode(t, text.len, &res);
		result_ok(out, "base64", res.p ? res.p : "", res.len);
		break;
	case T_B64DEC:
		if (!base64_decode(t, text.len, &res, &err)) {
			result_error(out, err.p, err.len);
		} else if (!utf8_valid(res.p, res.len)) {
			result_error_s(out, "the decoded bytes are not valid UTF-8 text");
		} else {
			result_ok(out, "text", res.p ? res.p : "", res.len);
		}
		break;
	}
	buf_free(&res);
	buf_free(&err);
	buf_free(&text);
}

int main(void) {
	buf in = {0}, out = {0};
	if (read_all(0, &in) < 0) {
		result_error_s(&out, "could not read the request from stdin");
	} else {
		handle(in.p ? in.p : "", in.len, &out);
	}
	if (write_all(1, out.p, out.len) < 0)
		return 1;
	return 0;
}
