/*
 * guest.h: what the C test guests share, a growing byte string and a small
 * JSON reader for the call envelope. Each guest defines GUEST_NAME (used
 * in its error messages) and includes this after the standard headers.
 * The test guests call the host functions themselves, without the C SDK,
 * so that they exercise the raw calling convention.
 */
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
			die(GUEST_NAME ": out of memory\n");
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

