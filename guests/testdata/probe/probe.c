/*
 * probe: a test guest for wasmgate's security suite. Its one tool, probe,
 * performs a single file-system or environment operation through wasi-libc
 * and reports exactly what happened as JSON text (a normal result, never
 * isError), so a test can assert on the outcome:
 *
 *   {"ok":true, ...}                                      on success
 *   {"ok":false,"step":"open","errno":69,"errname":"EROFS","error":"..."}
 *
 * errno values are WASI's (wasi-libc's). Arguments: op (required), path,
 * path2, data, name, flags, size; see manifest.json. Needs only wasi-libc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 128
#define MAX_READ (1 << 20)

extern char **environ;

/* ---------- growing byte buffer ---------- */

typedef struct {
	char *p;
	size_t len, cap;
} buf;

static void die_oom(void) {
	static const char msg[] = "probe: out of memory\n";
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

/* ---------- results ---------- */

static const struct {
	int code;
	const char *name;
} ERRNAMES[] = {
#define E(x) {x, #x}
	E(E2BIG), E(EACCES), E(EAGAIN), E(EBADF), E(EBUSY), E(EEXIST), E(EFAULT),
	E(EFBIG), E(EINTR), E(EINVAL), E(EIO), E(EISDIR), E(ELOOP), E(EMFILE),
	E(EMLINK), E(ENAMETOOLONG), E(ENFILE), E(ENODEV), E(ENOENT), E(ENOMEM),
	E(ENOSPC), E(ENOSYS), E(ENOTDIR), E(ENOTEMPTY), E(ENOTSUP), E(ENXIO),
	E(EOVERFLOW), E(EPERM), E(EPIPE), E(ERANGE), E(EROFS), E(ESPIPE),
	E(ETXTBSY), E(EXDEV), E(ENOTCAPABLE),
#undef E
};

static const char *errname(int e) {
	for (size_t i = 0; i < sizeof ERRNAMES / sizeof ERRNAMES[0]; i++)
		if (ERRNAMES[i].code == e)
			return ERRNAMES[i].name;
	return "E?";
}

static void put_key(buf *b, const char *key) {
	buf_putc(b, ',');
	put_json_string(b, key, strlen(key));
	buf_putc(b, ':');
}

static void put_str(buf *b, const char *key, const char *s, size_t n) {
	put_key(b, key);
	put_json_string(b, s, n);
}

static void put_int(buf *b, const char *key, long long v) {
	char s[32];
	int i = sizeof s;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		s[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		s[--i] = '-';
	put_key(b, key);
	buf_put(b, s + i, sizeof s - (size_t)i);
}

/* fail writes {"ok":false,...} for the errno of a failed step. */
static void fail(buf *out, const char *step, int e) {
	const char *msg = strerror(e);
	buf_puts(out, "{\"ok\":false");
	put_str(out, "step", step, strlen(step));
	put_int(out, "errno", e);
	put_str(out, "errname", errname(e), strlen(errname(e)));
	put_str(out, "error", msg, strlen(msg));
	buf_puts(out, "}\n");
}

/* tool_error writes an isError result: the request itself was wrong. */
static void tool_error(buf *out, const char *msg) {
	buf_puts(out, "{\"isError\":true,\"content\":[{\"type\":\"text\",\"text\":");
	put_json_string(out, msg, strlen(msg));
	buf_puts(out, "}]}\n");
}

static const char *type_name(mode_t m) {
	if (S_ISREG(m)) return "file";
	if (S_ISDIR(m)) return "dir";
	if (S_ISLNK(m)) return "symlink";
	if (S_ISCHR(m)) return "char";
	if (S_ISBLK(m)) return "block";
	if (S_ISSOCK(m)) return "socket";
	if (S_ISFIFO(m)) return "fifo";
	return "unknown";
}

static const char *dtype_name(unsigned char t) {
	switch (t) {
	case DT_REG: return "file";
	case DT_DIR: return "dir";
	case DT_LNK: return "symlink";
	case DT_CHR: return "char";
	case DT_BLK: return "block";
	default: return "unknown";
	}
}

/* ---------- arguments ---------- */

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

/* The string arguments, NUL-terminated (empty when absent), and size. */
typedef struct {
	buf op, path, path2, data, name, flags;
	long long size;
	int bad;
} args;

static int decode_string(span s, buf *out) {
	cursor c = {s.start, s.end};
	return span_kind(s) == '"' && parse_string(&c, out);
}

static void argument_member(void *ctx, const char *key, size_t keylen, span v) {
	args *a = ctx;
	buf *dst = NULL;
	if (key_is(key, keylen, "op")) dst = &a->op;
	else if (key_is(key, keylen, "path")) dst = &a->path;
	else if (key_is(key, keylen, "path2")) dst = &a->path2;
	else if (key_is(key, keylen, "data")) dst = &a->data;
	else if (key_is(key, keylen, "name")) dst = &a->name;
	else if (key_is(key, keylen, "flags")) dst = &a->flags;
	if (dst) {
		if (!decode_string(v, dst))
			a->bad = 1;
		return;
	}
	if (key_is(key, keylen, "size")) {
		const char *p = v.start;
		int neg = 0;
		long long n = 0;
		if (p < v.end && *p == '-')
			neg = 1, p++;
		if (p >= v.end || *p < '0' || *p > '9')
			a->bad = 1;
		for (; p < v.end && *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (*p - '0');
		if (p != v.end)
			a->bad = 1;
		a->size = neg ? -n : n;
		return;
	}
	a->bad = 1;
}

static const char *cstr(buf *b) {
	buf_putc(b, 0);
	b->len--;
	return b->p;
}

/* parse_flags turns "rdonly|trunc" into open flags; -1 for an unknown word. */
static int parse_flags(const char *s) {
	static const struct {
		const char *word;
		int flag;
	} words[] = {
		{"rdonly", O_RDONLY}, {"wronly", O_WRONLY}, {"rdwr", O_RDWR},
		{"creat", O_CREAT}, {"excl", O_EXCL}, {"trunc", O_TRUNC},
		{"append", O_APPEND}, {"directory", O_DIRECTORY}, {"nofollow", O_NOFOLLOW},
	};
	int flags = 0;
	while (*s) {
		size_t n = strcspn(s, "|");
		int found = 0;
		for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
			if (strlen(words[i].word) == n && memcmp(words[i].word, s, n) == 0) {
				flags |= words[i].flag;
				found = 1;
			}
		}
		if (!found)
			return -1;
		s += n;
		if (*s == '|')
			s++;
	}
	if ((flags & (O_WRONLY | O_RDONLY)) == 0)
		flags |= O_RDONLY;
	return flags;
}

/* ---------- operations ---------- */

static void op_read(buf *out, const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return fail(out, "open", errno);
	buf data = {0};
	for (;;) {
		buf_grow(&data, 4096);
		ssize_t n = read(fd, data.p + data.len, data.cap - data.len);
		if (n < 0) {
			int e = errno;
			close(fd);
			buf_free(&data);
			return fail(out, "read", e);
		}
		if (n == 0 || data.len + (size_t)n > MAX_READ) {
			data.len += (size_t)n;
			break;
		}
		data.len += (size_t)n;
	}
	close(fd);
	buf_puts(out, "{\"ok\":true");
	put_str(out, "data", data.p, data.len);
	buf_puts(out, "}\n");
	buf_free(&data);
}

/* op_open_write opens path with flags and writes data if there is any. */
static void op_open_write(buf *out, const char *path, int flags, const buf *data) {
	int fd = open(path, flags, 0644);
	if (fd < 0)
		return fail(out, "open", errno);
	size_t done = 0;
	while (done < data->len) {
		ssize_t n = write(fd, data->p + done, data->len - done);
		if (n < 0) {
			int e = errno;
			close(fd);
			return fail(out, "write", e);
		}
		done += (size_t)n;
	}
	if (close(fd) < 0)
		return fail(out, "close", errno);
	buf_puts(out, "{\"ok\":true");
	put_int(out, "written", (long long)done);
	buf_puts(out, "}\n");
}

static void ok(buf *out) { buf_puts(out, "{\"ok\":true}\n"); }

typedef struct {
	char *name;
	unsigned char type;
	long long ino;
} entry;

static int cmp_entries(const void *a, const void *b) {
	return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static void op_list(buf *out, const char *path) {
	DIR *d = opendir(path);
	if (!d)
		return fail(out, "opendir", errno);
	entry *list = NULL;
	size_t n = 0, cap = 0;
	errno = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			list = realloc(list, cap * sizeof *list);
			if (!list)
				die_oom();
		}
		/* d_name is a flexible array: copy the name, not the struct. */
		list[n].name = strdup(e->d_name);
		if (!list[n].name)
			die_oom();
		list[n].type = e->d_type;
		list[n].ino = (long long)e->d_ino;
		n++;
	}
	int e = errno;
	closedir(d);
	if (e == 0) {
		qsort(list, n, sizeof *list, cmp_entries);
		buf_puts(out, "{\"ok\":true");
		put_key(out, "entries");
		buf_putc(out, '[');
		for (size_t i = 0; i < n; i++) {
			const char *t = dtype_name(list[i].type);
			if (i > 0)
				buf_putc(out, ',');
			buf_puts(out, "{\"name\":");
			put_json_string(out, list[i].name, strlen(list[i].name));
			put_str(out, "type", t, strlen(t));
			put_int(out, "ino", list[i].ino);
			buf_putc(out, '}');
		}
		buf_puts(out, "]}\n");
	} else {
		fail(out, "readdir", e);
	}
	for (size_t i = 0; i < n; i++)
		free(list[i].name);
	free(list);
}

static void op_stat(buf *out, const char *path, int follow) {
	struct stat st;
	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return fail(out, follow ? "stat" : "lstat", errno);
	const char *t = type_name(st.st_mode);
	buf_puts(out, "{\"ok\":true");
	put_str(out, "type", t, strlen(t));
	put_int(out, "size", (long long)st.st_size);
	put_int(out, "ino", (long long)st.st_ino);
	put_int(out, "nlink", (long long)st.st_nlink);
	put_int(out, "mtime_ns", (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
	buf_puts(out, "}\n");
}

static void op_environ(buf *out) {
	buf_puts(out, "{\"ok\":true");
	put_key(out, "environ");
	buf_putc(out, '[');
	for (char **e = environ; e && *e; e++) {
		if (e != environ)
			buf_putc(out, ',');
		put_json_string(out, *e, strlen(*e));
	}
	buf_puts(out, "]}\n");
}

static void run(buf *out, args *a) {
	const char *op = cstr(&a->op), *path = cstr(&a->path), *path2 = cstr(&a->path2);
	const char *name = cstr(&a->name), *flags = cstr(&a->flags);
	if (strcmp(op, "read") == 0) {
		op_read(out, path);
	} else if (strcmp(op, "write") == 0) {
		op_open_write(out, path, O_WRONLY | O_CREAT | O_TRUNC, &a->data);
	} else if (strcmp(op, "append") == 0) {
		op_open_write(out, path, O_WRONLY | O_APPEND, &a->data);
	} else if (strcmp(op, "create_excl") == 0) {
		op_open_write(out, path, O_WRONLY | O_CREAT | O_EXCL, &a->data);
	} else if (strcmp(op, "open") == 0) {
		int f = parse_flags(flags);
		if (f < 0)
			return tool_error(out, "unknown word in flags: use rdonly, wronly, rdwr, creat, excl, trunc, append, directory, nofollow joined by |");
		op_open_write(out, path, f, &a->data);
	} else if (strcmp(op, "truncate") == 0) {
		if (truncate(path, (off_t)a->size) < 0)
			return fail(out, "truncate", errno);
		ok(out);
	} else if (strcmp(op, "ftruncate") == 0) {
		int f = parse_flags(flags);
		if (f < 0)
			return tool_error(out, "unknown word in flags");
		int fd = open(path, f, 0644);
		if (fd < 0)
			return fail(out, "open", errno);
		if (ftruncate(fd, (off_t)a->size) < 0) {
			int e = errno;
			close(fd);
			return fail(out, "ftruncate", e);
		}
		close(fd);
		ok(out);
	} else if (strcmp(op, "rename") == 0) {
		if (rename(path, path2) < 0)
			return fail(out, "rename", errno);
		ok(out);
	} else if (strcmp(op, "unlink") == 0) {
		if (unlink(path) < 0)
			return fail(out, "unlink", errno);
		ok(out);
	} else if (strcmp(op, "rmdir") == 0) {
		if (rmdir(path) < 0)
			return fail(out, "rmdir", errno);
		ok(out);
	} else if (strcmp(op, "mkdir") == 0) {
		if (mkdir(path, 0755) < 0)
			return fail(out, "mkdir", errno);
		ok(out);
	} else if (strcmp(op, "chmod") == 0) {
		/* WASI preview 1 has no call that changes permissions. */
		fail(out, "chmod", ENOSYS);
	} else if (strcmp(op, "symlink") == 0) {
		if (symlink(path, path2) < 0)
			return fail(out, "symlink", errno);
		ok(out);
	} else if (strcmp(op, "link") == 0) {
		if (link(path, path2) < 0)
			return fail(out, "link", errno);
		ok(out);
	} else if (strcmp(op, "readlink") == 0) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof target);
		if (n < 0)
			return fail(out, "readlink", errno);
		buf_puts(out, "{\"ok\":true");
		put_str(out, "target", target, (size_t)n);
		buf_puts(out, "}\n");
	} else if (strcmp(op, "utimes") == 0) {
		struct timespec ts[2] = {{(time_t)a->size, 0}, {(time_t)a->size, 0}};
		if (utimensat(AT_FDCWD, path, ts, 0) < 0)
			return fail(out, "utimes", errno);
		ok(out);
	} else if (strcmp(op, "list") == 0) {
		op_list(out, path);
	} else if (strcmp(op, "stat") == 0) {
		op_stat(out, path, 1);
	} else if (strcmp(op, "lstat") == 0) {
		op_stat(out, path, 0);
	} else if (strcmp(op, "getenv") == 0) {
		const char *v = getenv(name);
		buf_puts(out, "{\"ok\":true");
		put_key(out, "set");
		buf_puts(out, v ? "true" : "false");
		if (v)
			put_str(out, "value", v, strlen(v));
		buf_puts(out, "}\n");
	} else if (strcmp(op, "environ") == 0) {
		op_environ(out);
	} else if (strcmp(op, "cwd") == 0) {
		char cwd[4096];
		if (!getcwd(cwd, sizeof cwd))
			return fail(out, "getcwd", errno);
		buf_puts(out, "{\"ok\":true");
		put_str(out, "cwd", cwd, strlen(cwd));
		buf_puts(out, "}\n");
	} else {
		tool_error(out, "unknown op: see the tool's input schema");
	}
}

static void handle(const char *in, size_t inlen, buf *out) {
	request r = {0};
	span whole;
	cursor c = {in, in + inlen};
	skip_ws(&c);
	whole.start = c.p;
	if (!skip_value(&c, 0))
		return tool_error(out, "the request is not valid JSON");
	whole.end = c.p;
	if (!object_each(whole, top_member, &r) || !span_is_set(r.params) ||
	    !object_each(r.params, params_member, &r))
		return tool_error(out, "the request has no params object");
	buf name = {0};
	if (!decode_string(r.name, &name) || !key_is(name.p, name.len, "probe"))
		return tool_error(out, "unknown tool: this module has only probe");
	buf_free(&name);
	args a = {0};
	if (span_is_set(r.arguments) && !object_each(r.arguments, argument_member, &a))
		return tool_error(out, "arguments must be a JSON object");
	if (a.bad)
		return tool_error(out, "bad argument: op, path, path2, data, name and flags are strings, size an integer");
	run(out, &a);
}

int main(void) {
	buf in = {0}, out = {0};
	if (read_all(0, &in) < 0)
		tool_error(&out, "could not read the request from stdin");
	else
		handle(in.p ? in.p : "", in.len, &out);
	return write_all(1, out.p, out.len) < 0;
}
