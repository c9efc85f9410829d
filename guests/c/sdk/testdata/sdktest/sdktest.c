/*
 * sdktest: exercises every part of the C SDK through wasmgate: typed
 * arguments, each kind of result, every host-function wrapper, and the
 * resources, prompts and completions a module serves. Its tests are
 * guests/c/tools_test.go.
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

/* content: one item of each kind. */
static void content(wg_call *c) {
	static const unsigned char wav[] = {'R', 'I', 'F', 'F', 0, 0xff};
	wg_text_s(c, "items follow");
	wg_audio(c, wav, sizeof wav, "audio/wav");
	wg_embedded_text(c, "sdk://static", "text/plain", "embedded \"text\"", 15);
	wg_embedded_blob(c, "sdk://blob", NULL, wav, sizeof wav);
	wg_resource_link(c, "sdk://doc/7", "doc 7", "application/json", NULL);
}

/* client: what the envelope says of the client. */
static void client(wg_call *c) {
	wg_buf v = {0};
	wg_string(wg_get(wg_client(c), "protocolVersion"), &v);
	wg_textf(c, "protocol=%s sampling=%d elicitation=%d roots=%d", v.len ? v.p : "-", wg_client_has(c, "sampling"),
	         wg_client_has(c, "elicitation"), wg_client_has(c, "roots"));
	wg_buf_free(&v);
}

/* ask_client: sends the argument "request" (raw JSON) with the wrapper named by "fn". */
static void ask_client(wg_call *c) {
	wg_buf fn = {0}, req = {0}, held = {0}, out = {0};
	if (wg_arg_string(c, "fn", &fn, 1) < 0 || wg_arg_string(c, "request", &req, 1) < 0)
		return;
	int st;
	if (strcmp(fn.p, "sample") == 0)
		st = wg_sample(req.p, req.len, &held);
	else if (strcmp(fn.p, "elicit") == 0)
		st = wg_elicit(req.p, req.len, &held);
	else
		st = wg_ask(req.p, req.len, &held);
	wg_buf_putc(&out, '{');
	put_status(&out, fn.p, st, &held);
	wg_buf_putc(&out, '}');
	wg_structured(c, out.p, out.len);
	wg_text(c, held.p, held.len);
	wg_buf_free(&fn);
	wg_buf_free(&req);
	wg_buf_free(&held);
	wg_buf_free(&out);
}

/* updated: resource_updated for the URI given. */
static void updated(wg_call *c) {
	wg_buf uri = {0}, held = {0}, out = {0};
	if (wg_arg_string(c, "uri", &uri, 1) < 0)
		return;
	wg_buf_putc(&out, '{');
	put_status(&out, "updated", wg_resource_updated(uri.p, &held), &held);
	wg_buf_putc(&out, '}');
	wg_structured(c, out.p, out.len);
	wg_text_s(c, "notified");
	wg_buf_free(&uri);
	wg_buf_free(&held);
	wg_buf_free(&out);
}

/* misuse: a resources/read writer in a tool. */
static void misuse(wg_call *c) { wg_contents_text(c, NULL, NULL, "x", 1); }

/* static_resource: two items, text and binary. */
static void static_resource(wg_call *c) {
	static const unsigned char bytes[] = {0, 1, 2, 0xfe, 0xff};
	wg_contents_text(c, NULL, "text/plain", "static text", 11);
	wg_contents_blob(c, "sdk://static#bytes", "application/octet-stream", bytes, sizeof bytes);
}

/* doc: the template sdk://doc/{id}; "missing" is not found, "" is refused, "tool" misuses a writer. */
static void doc(wg_call *c) {
	wg_buf id = {0}, out = {0};
	if (wg_arg_string(c, "id", &id, 1) < 0)
		return;
	if (strcmp(id.p, "missing") == 0) {
		wg_fail(c, WG_ERR_NOT_FOUND, "no document %s", id.p);
	} else if (strcmp(id.p, "tool") == 0) {
		wg_text_s(c, "not a resource item");
	} else {
		wg_buf_puts(&out, "{\"id\":");
		wg_json_string(&out, id.p, id.len);
		wg_buf_puts(&out, ",\"uri\":");
		wg_json_string_s(&out, wg_name(c));
		wg_buf_puts(&out, ",\"template\":");
		wg_json_string_s(&out, wg_template(c));
		wg_buf_puts(&out, ",\"method\":");
		wg_json_string_s(&out, wg_method(c));
		wg_buf_putc(&out, '}');
		wg_contents_text(c, NULL, "application/json", out.p, out.len);
	}
	wg_buf_free(&id);
	wg_buf_free(&out);
}

/* greet: a prompt of every content kind and both roles. */
static void greet(wg_call *c) {
	static const unsigned char png[] = {0x89, 'P', 'N', 'G'};
	static const char *const only[] = {"who", "style", NULL};
	wg_buf who = {0};
	if (wg_args_only(c, only) < 0 || wg_arg_string(c, "who", &who, 1) < 0)
		return;
	wg_description(c, "A greeting.");
	wg_textf(c, "Greet %s.", who.p);
	wg_image(c, png, sizeof png, "image/png");
	wg_embedded_text(c, "sdk://static", "text/plain", "static text", 11);
	wg_role(c, WG_ASSISTANT);
	wg_textf(c, "Hello, %s!", who.p);
	wg_buf_free(&who);
}

/* context_prompt: asks the user (when the client can answer) and uses the answer. */
static void context_prompt(wg_call *c) {
	static const char req[] = "{\"ctx\":{\"method\":\"elicitation/create\",\"params\":{"
	                          "\"message\":\"What context?\",\"requestedSchema\":{\"type\":\"object\","
	                          "\"properties\":{\"context\":{\"type\":\"string\"}},\"required\":[\"context\"]}}}}";
	wg_buf held = {0}, ctx = {0};
	wg_value v;
	if (!wg_client_has(c, "elicitation")) {
		wg_fail(c, WG_ERR_INVALID_PARAMS, "this prompt asks the user for context: use a client that supports elicitation");
		return;
	}
	int st = wg_ask(req, sizeof req - 1, &held);
	if (st < 0)
		wg_error(c, "ask: %s: %s", wg_status_name(st), held.p);
	else if (!wg_json_parse(held.p, held.len, &v) || !wg_string(wg_getp(v, "ctx.content.context"), &ctx))
		wg_error(c, "unexpected answer %s", held.p);
	else
		wg_textf(c, "Use this context: %s", ctx.p);
	wg_buf_free(&held);
	wg_buf_free(&ctx);
}

/* bad_prompt: a tools/call writer in a prompt. */
static void bad_prompt(wg_call *c) { wg_structured(c, "{}", 2); }

/* complete_greet: names starting with the partial value. */
static void complete_greet(wg_call *c) {
	static const char *const names[] = {"Ada", "Alan", "Barbara", "Grace", NULL};
	if (strcmp(wg_completion_arg(c), "who") != 0)
		return;
	int n = wg_completion_match(c, names);
	wg_completion_total(c, n, 0);
}

/* complete_any: every other completion echoes what it was asked. */
static void complete_any(wg_call *c) {
	wg_buf style = {0}, v = {0};
	wg_arg_string(c, "style", &style, 0);
	wg_buf_printf(&v, "%s|%s|%s|%s", wg_name(c), wg_completion_arg(c), wg_completion_partial(c), style.len ? style.p : "-");
	wg_completion_add(c, v.p);
	wg_completion_total(c, 1000, 1);
	wg_buf_free(&style);
	wg_buf_free(&v);
}

int main(void) {
	wg_tool("args", args);
	wg_tool("events", events);
	wg_tool("kv", kv);
	wg_tool("secret", secret);
	wg_tool("http", http);
	wg_tool("image", image);
	wg_tool("fail", fail);
	wg_tool("content", content);
	wg_tool("client", client);
	wg_tool("ask_client", ask_client);
	wg_tool("updated", updated);
	wg_tool("misuse", misuse);
	wg_resource("sdk://static", static_resource);
	wg_resource_template("sdk://doc/{id}", doc);
	wg_prompt("greet", greet);
	wg_prompt("context", context_prompt);
	wg_prompt("bad", bad_prompt);
	wg_completion("greet", complete_greet);
	wg_completion(NULL, complete_any);
	return wg_main();
}
