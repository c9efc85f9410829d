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

#define GUEST_NAME "fetch"
#include "../include/guest.h"

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
