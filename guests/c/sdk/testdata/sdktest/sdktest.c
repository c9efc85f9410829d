/*
 * sdktest: exercises every part of the C SDK through wasmgate: typed
 * arguments, each kind of result and every host-function wrapper. Its
 * tests are guests/c/tools_test.go.
 */
#include <string.h>

#include "wasmgate.h"

/* args: reads each argument type and echoes what it read as structuredContent. */
static void args(wg_call *c) {
	wg_buf s = {0}, out = {0}, city = {0}, key = {0};
	long long i = 0;
	int b = 0;
	double d = 0;
	if (wg_arg_string(c, "s", &s, 1) < 0 || wg_arg_int(c, "i", &i, 1) < 0 ||
	    wg_arg_bool(c, "b", &b, 0) < 0 || wg_arg_double(c, "d", &d, 0) < 0)
		return;
	wg_value a = wg_arguments(c);
	wg_value list = wg_get(a, "list");
	wg_string(wg_getp(a, "user.address.city"), &city);
	wg_buf_puts(&out, "{\"s\":");
	wg_json_string(&out, s.p, s.len);
	wg_buf_puts(&out, ",\"len\":");
	wg_json_int(&out, (long long)s.len);
	wg_buf_puts(&out, ",\"i\":");
	wg_json_int(&out, i);
	wg_buf_puts(&out, ",\"b\":");
	wg_json_bool(&out, b);
	wg_buf_puts(&out, ",\"d\":");
	wg_json_double(&out, d);
	wg_buf_puts(&out, ",\"city\":");
	wg_json_string(&out, city.p, city.len);
	wg_buf_puts(&out, ",\"list_len\":");
	wg_json_int(&out, (long long)wg_len(list));
	wg_buf_puts(&out, ",\"second\":");
	const char *raw;
	size_t n = wg_raw(wg_at(list, 1), &raw);
	if (n)
		wg_buf_put(&out, raw, n);
	else
		wg_buf_puts(&out, "null");
	wg_buf_puts(&out, ",\"kinds\":{");
	size_t it = 0;
	wg_value v;
	int first = 1;
	while (wg_next(a, &it, &key, &v)) {
		if (!first)
			wg_buf_putc(&out, ',');
		first = 0;
		wg_json_string(&out, key.p, key.len);
		wg_buf_putc(&out, ':');
		wg_json_string_s(&out, wg_kind_name(wg_kind_of(v)));
	}
	wg_buf_puts(&out, "}}");
	wg_structured(c, out.p, out.len);
	wg_text(c, s.p, s.len);
	wg_buf_free(&s);
	wg_buf_free(&out);
	wg_buf_free(&city);
	wg_buf_free(&key);
}

/* events: one log at each level given and a progress report. */
static void events(wg_call *c) {
	wg_buf msg = {0};
	if (wg_arg_string(c, "message", &msg, 1) < 0)
		return;
	wg_log(WG_INFO, "info: %s", msg.p);
	wg_log(WG_WARNING, "warning: %s", msg.p);
	wg_progress(1, 2, "half way");
	wg_progress(2, 0, NULL);
	wg_text_s(c, "logged");
	wg_buf_free(&msg);
}

static void put_status(wg_buf *out, const char *name, int status, wg_buf *held) {
	wg_buf_printf(out, "\"%s\":{\"status\":%d,\"name\":\"%s\",\"held\":", name, status, wg_status_name(status));
	wg_json_string(out, held->p, held->len);
	wg_buf_putc(out, '}');
}

/* kv: set, get, list, delete and get again one key, reporting each status. */
static void kv(wg_call *c) {
	wg_buf key = {0}, val = {0}, out = {0}, held = {0};
	if (wg_arg_string(c, "key", &key, 1) < 0 || wg_arg_string(c, "value", &val, 1) < 0)
		return;
	wg_buf_putc(&out, '{');
	put_status(&out, "set", wg_kv_set(key.p, key.len, val.p, val.len, &held), &held);
	wg_buf_putc(&out, ',');
	put_status(&out, "get", wg_kv_get(key.p, key.len, &held), &held);
	wg_buf_putc(&out, ',');
	put_status(&out, "list", wg_kv_list(key.p, key.len, NULL, 0, &held), &held);
	wg_buf_putc(&out, ',');
	put_status(&out, "delete", wg_kv_delete(key.p, key.len, &held), &held);
	wg_buf_putc(&out, ',');
	put_status(&out, "get_again", wg_kv_get(key.p, key.len, &held), &held);
	wg_buf_putc(&out, ',');
	put_status(&out, "empty_key", wg_kv_get("", 0, NULL), &held);
	wg_buf_putc(&out, '}');
	wg_structured(c, out.p, out.len);
	wg_text_s(c, "kv done");
	wg_buf_free(&key);
	wg_buf_free(&val);
	wg_buf_free(&out);
	wg_buf_free(&held);
}

/* secret: fetch a secret; answer its length, never the value. */
static void secret(wg_call *c) {
	wg_buf name = {0}, held = {0};
	if (wg_arg_string(c, "name", &name, 1) < 0)
		return;
	int st = wg_secret_get(name.p, &held);
	if (st < 0)
		wg_error(c, "secret_get: %s: %s", wg_status_name(st), held.p);
	else
		wg_textf(c, "secret %s has %d bytes", name.p, st);
	wg_buf_free(&name);
	wg_buf_free(&held);
}

/* http: GET a URL and answer the status and body from the response JSON. */
static void http(wg_call *c) {
	wg_buf u = {0}, held = {0}, body = {0};
	if (wg_arg_string(c, "url", &u, 1) < 0)
		return;
	int st = wg_http_get(u.p, &held);
	wg_value resp;
	long long code;
	if (st < 0) {
		wg_error(c, "http_request: %s: %s", wg_status_name(st), held.p);
	} else if (!wg_json_parse(held.p, held.len, &resp) || !wg_int(wg_get(resp, "status"), &code) ||
	           !wg_string(wg_get(resp, "body"), &body)) {
		wg_error(c, "unexpected response %s", held.p);
	} else {
		wg_buf s = {0};
		wg_buf_printf(&s, "{\"status\":%lld,\"body\":", code);
		wg_json_string(&s, body.p, body.len);
		wg_buf_putc(&s, '}');
		wg_structured(c, s.p, s.len);
		wg_textf(c, "HTTP %lld", code);
		wg_buf_free(&s);
	}
	wg_buf_free(&u);
	wg_buf_free(&held);
	wg_buf_free(&body);
}

/* image: a text item and an image item. */
static void image(wg_call *c) {
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 1, 2};
	wg_text_s(c, "an image follows");
	wg_image(c, png, sizeof png, "image/png");
}

/* fail: a tool error after some content (the error replaces it). */
static void fail(wg_call *c) {
	wg_text_s(c, "discarded");
	wg_error(c, "failed on purpose: %d \"quoted\"", 42);
}

int main(void) {
	wg_tool("args", args);
	wg_tool("events", events);
	wg_tool("kv", kv);
	wg_tool("secret", secret);
	wg_tool("http", http);
	wg_tool("image", image);
	wg_tool("fail", fail);
	return wg_main();
}
