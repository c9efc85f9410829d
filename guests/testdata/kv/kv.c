/*
 * kv: a test guest for the key-value host functions. Its one tool, kv,
 * takes {"op": ..., "key": ..., "value": ..., "prefix": ..., "after": ...,
 * "count": N} and prints, as plain text, what the host answered:
 *
 *   ok STATUS\n then the held response (get: the value; list: the JSON)
 *   error CODE: MESSAGE
 *
 * ops: get, set, delete, list; fill (set KEY0..KEY{count-1} to value,
 * stopping at the first error; prints "filled N" and the error if any);
 * deliberate misuse of the calling convention: badkeyptr, badvalptr,
 * badlistptr (a range outside memory), hugekey, hugevalue (lengths over
 * the limits with in-range pointers); and raw: call the host function
 * named by "fn" (get, set, delete, list) with the integers "a", "b", "c"
 * and "d" as its arguments, whatever they are.
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

IMPORT("kv_get") extern int32_t kv_get(uint32_t kptr, uint32_t klen);
IMPORT("kv_set") extern int32_t kv_set(uint32_t kptr, uint32_t klen, uint32_t vptr, uint32_t vlen);
IMPORT("kv_delete") extern int32_t kv_delete(uint32_t kptr, uint32_t klen);
IMPORT("kv_list") extern int32_t kv_list(uint32_t pptr, uint32_t plen, uint32_t aptr, uint32_t alen);
IMPORT("response_len") extern int32_t response_len(void);
IMPORT("response") extern int32_t response(uint32_t ptr, uint32_t len);

#define P(x) ((uint32_t)(uintptr_t)(x))
#define OUTSIDE 0xFFFFFF00u

#define GUEST_NAME "kv"
#include "../include/guest.h"

/* ---------- the tool's arguments ---------- */

typedef struct {
	buf op, key, value, prefix, after;
	buf fn;
	long count;
	uint32_t n[4];
} args;

static void arg_field(rd *r, const char *k, int depth, void *ctx) {
	args *a = ctx;
	(void)depth;
	if (!strcmp(k, "op"))
		str(r, &a->op);
	else if (!strcmp(k, "key"))
		str(r, &a->key);
	else if (!strcmp(k, "value"))
		str(r, &a->value);
	else if (!strcmp(k, "prefix"))
		str(r, &a->prefix);
	else if (!strcmp(k, "after"))
		str(r, &a->after);
	else if (!strcmp(k, "fn"))
		str(r, &a->fn);
	else if (!strcmp(k, "count"))
		a->count = strtol(r->p, (char **)&r->p, 10);
	else if (k[0] >= 'a' && k[0] <= 'd' && k[1] == 0)
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
		die("kv: out of memory\n");
	int32_t got = response(P(held), (uint32_t)n);
	if (got != n || response_len() != 0)
		die("kv: response did not return what response_len promised\n");
	if (status >= 0) {
		if (status != n)
			die("kv: the status is not the length of the held response\n");
		outf("ok %ld\n", status);
	} else {
		outf("error %ld: ", status);
	}
	put(&out, held, (size_t)n);
	free(held);
}

int main(void) {
	buf in = {0};
	char chunk[4096];
	for (;;) {
		ssize_t n = read(0, chunk, sizeof chunk);
		if (n < 0)
			die("kv: cannot read stdin\n");
		if (n == 0)
			break;
		put(&in, chunk, (size_t)n);
	}
	args a = {0};
	rd r = {in.p, in.p + in.len, 0};
	object(&r, 0, top_field, &a);
	if (r.bad)
		die("kv: the call envelope is not the JSON expected\n");
	const char *op = a.op.p ? a.op.p : "";
	char *k = a.key.p ? a.key.p : "";
	char *v = a.value.p ? a.value.p : "";
	char *pre = a.prefix.p ? a.prefix.p : "";
	char *aft = a.after.p ? a.after.p : "";

	if (!strcmp(op, "get")) {
		report(kv_get(P(k), (uint32_t)a.key.len));
	} else if (!strcmp(op, "set")) {
		report(kv_set(P(k), (uint32_t)a.key.len, P(v), (uint32_t)a.value.len));
	} else if (!strcmp(op, "delete")) {
		report(kv_delete(P(k), (uint32_t)a.key.len));
	} else if (!strcmp(op, "list")) {
		report(kv_list(P(pre), (uint32_t)a.prefix.len, P(aft), (uint32_t)a.after.len));
	} else if (!strcmp(op, "fill")) {
		long i;
		int32_t st = 0;
		for (i = 0; i < a.count; i++) {
			char key[1100];
			int kl = snprintf(key, sizeof key, "%s%ld", k, i);
			st = kv_set(P(key), (uint32_t)kl, P(v), (uint32_t)a.value.len);
			if (st < 0)
				break;
		}
		outf("filled %ld\n", i);
		if (st < 0)
			report(st);
	} else if (!strcmp(op, "badkeyptr")) {
		report(kv_get(OUTSIDE, 64));
	} else if (!strcmp(op, "badvalptr")) {
		report(kv_set(P(k), (uint32_t)a.key.len, OUTSIDE, 4096));
	} else if (!strcmp(op, "badlistptr")) {
		report(kv_list(0, 0, OUTSIDE, 512));
	} else if (!strcmp(op, "hugekey")) {
		report(kv_get(0, 0xFFFFFFFFu));
	} else if (!strcmp(op, "hugevalue")) {
		report(kv_set(P(k), (uint32_t)a.key.len, 0, 0x7FFFFFFFu));
	} else if (!strcmp(op, "raw")) {
		const char *fn = a.fn.p ? a.fn.p : "";
		if (!strcmp(fn, "get"))
			report(kv_get(a.n[0], a.n[1]));
		else if (!strcmp(fn, "set"))
			report(kv_set(a.n[0], a.n[1], a.n[2], a.n[3]));
		else if (!strcmp(fn, "delete"))
			report(kv_delete(a.n[0], a.n[1]));
		else if (!strcmp(fn, "list"))
			report(kv_list(a.n[0], a.n[1], a.n[2], a.n[3]));
		else
			die("kv: unknown fn\n");
	} else {
		die("kv: unknown op\n");
	}
	if (write(1, out.p, out.len) != (ssize_t)out.len)
		die("kv: cannot write stdout\n");
	return 0;
}
