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

#define GUEST_NAME "secret"
#include "../include/guest.h"

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
