/*
 * conformance-resources: the resources, resource templates, prompts and
 * completions the official MCP conformance suite (the server scenarios
 * resources-*, prompts-*, completion-complete, caching,
 * sep-2164-resource-not-found and input-required-result-non-tool-request)
 * expects of a server, written with the C SDK (guests/c/sdk).
 */
#include <string.h>

#include "wasmgate.h"

/* A real 1x1 RGBA PNG, one opaque blue pixel. */
static const unsigned char pixel_png[] = {
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
	0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x30, 0x4e, 0x9b, 0xf9,
	0x1f, 0x00, 0x04, 0x34, 0x02, 0x32, 0x84, 0x73, 0x18, 0xf0, 0x00, 0x00,
	0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

static void text_literal(wg_call *c, const char *mime_type, const char *text) {
	wg_contents_text(c, NULL, mime_type, text, strlen(text));
}

/* ---------- resources ---------- */

static void static_text(wg_call *c) { text_literal(c, "text/plain", "This is the content of the static text resource."); }

static void static_binary(wg_call *c) { wg_contents_blob(c, NULL, "image/png", pixel_png, sizeof pixel_png); }

static void watched(wg_call *c) { text_literal(c, "text/plain", "This is the content of the watched resource."); }

/* valid_id accepts the ids the template serves: 1 to 64 of A-Z a-z 0-9 _ -. */
static int valid_id(const wg_buf *id) {
	if (id->len == 0 || id->len > 64)
		return 0;
	for (size_t i = 0; i < id->len; i++) {
		char ch = id->p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

/* template_data: test://template/{id}/data as JSON. */
static void template_data(wg_call *c) {
	wg_buf id = {0}, out = {0}, data = {0};
	if (wg_arg_string(c, "id", &id, 1) < 0)
		return;
	if (!valid_id(&id)) {
		wg_buf_puts(&out, "no data for id ");
		wg_json_string(&out, id.p, id.len);
		wg_fail(c, WG_ERR_NOT_FOUND, "%s: an id is 1 to 64 of A-Z a-z 0-9 _ -, as in test://template/123/data", out.p);
	} else {
		wg_buf_printf(&data, "Data for ID: %s", id.p);
		wg_buf_puts(&out, "{\"id\":");
		wg_json_string(&out, id.p, id.len);
		wg_buf_puts(&out, ",\"templateTest\":true,\"data\":");
		wg_json_string(&out, data.p, data.len);
		wg_buf_putc(&out, '}');
		wg_contents_text(c, NULL, "application/json", out.p, out.len);
	}
	wg_buf_free(&id);
	wg_buf_free(&out);
	wg_buf_free(&data);
}

/* ---------- prompts ---------- */

static void simple_prompt(wg_call *c) { wg_text_s(c, "This is a simple prompt for testing."); }

static void prompt_with_arguments(wg_call *c) {
	wg_buf a = {0}, b = {0};
	if (wg_arg_string(c, "arg1", &a, 1) < 0 || wg_arg_string(c, "arg2", &b, 1) < 0)
		return;
	wg_textf(c, "Prompt with arguments: arg1='%s', arg2='%s'", a.p, b.p);
	wg_buf_free(&a);
	wg_buf_free(&b);
}

static void prompt_with_embedded_resource(wg_call *c) {
	static const char text[] = "Embedded resource content for testing.";
	wg_buf uri = {0};
	if (wg_arg_string(c, "resourceUri", &uri, 1) < 0)
		return;
	wg_embedded_text(c, uri.p, "text/plain", text, sizeof text - 1);
	wg_text_s(c, "Please process the embedded resource above.");
	wg_buf_free(&uri);
}

static void prompt_with_image(wg_call *c) {
	wg_image(c, pixel_png, sizeof pixel_png, "image/png");
	wg_text_s(c, "Please analyze the image above.");
}

/*
 * input_required_prompt asks the user for context. It asks whether or not
 * the client declared elicitation: the host then answers for it, with
 * error -32021 naming the capability on MCP 2026-07-28 and a failed ask
 * before, which this prompt reports.
 */
static void input_required_prompt(wg_call *c) {
	static const char question[] =
		"{\"user_context\":{\"method\":\"elicitation/create\",\"params\":{"
		"\"message\":\"What context should the prompt use?\","
		"\"requestedSchema\":{\"type\":\"object\",\"properties\":{\"context\":{\"type\":\"string\"}},"
		"\"required\":[\"context\"]}}}}";
	wg_buf held = {0}, action = {0}, context = {0};
	wg_value answers;
	int st = wg_ask(question, sizeof question - 1, &held);
	if (st < 0) {
		wg_error(c, "asking the user for context failed (%s): %s", wg_status_name(st), held.p);
	} else if (!wg_json_parse(held.p, held.len, &answers) || !wg_string(wg_getp(answers, "user_context.action"), &action)) {
		wg_error(c, "the client's answer is not an elicitation result: %s", held.p);
	} else if (strcmp(action.p, "accept") != 0 || !wg_string(wg_getp(answers, "user_context.content.context"), &context)) {
		wg_description(c, "A prompt without context: the user gave none.");
		wg_textf(c, "The user gave no context (%s). Answer without it.", action.p);
	} else {
		wg_description(c, "A prompt with the context the user gave.");
		wg_textf(c, "Use this context: %s", context.p);
	}
	wg_buf_free(&held);
	wg_buf_free(&action);
	wg_buf_free(&context);
}

/* ---------- completions ---------- */

static void complete_arg1(wg_call *c) {
	static const char *const values[] = {"paris", "park", "party", "test", "test-value", "testing", NULL};
	if (strcmp(wg_completion_arg(c), "arg1") == 0)
		wg_completion_total(c, wg_completion_match(c, values), 0);
}

static void complete_id(wg_call *c) {
	static const char *const ids[] = {"1", "12", "123", "42", "456", "789", NULL};
	if (strcmp(wg_completion_arg(c), "id") == 0)
		wg_completion_total(c, wg_completion_match(c, ids), 0);
}

int main(void) {
	wg_resource("test://static-text", static_text);
	wg_resource("test://static-binary", static_binary);
	wg_resource("test://watched-resource", watched);
	wg_resource_template("test://template/{id}/data", template_data);
	wg_prompt("test_simple_prompt", simple_prompt);
	wg_prompt("test_prompt_with_arguments", prompt_with_arguments);
	wg_prompt("test_prompt_with_embedded_resource", prompt_with_embedded_resource);
	wg_prompt("test_prompt_with_image", prompt_with_image);
	wg_prompt("test_input_required_result_prompt", input_required_prompt);
	wg_completion("test_prompt_with_arguments", complete_arg1);
	wg_completion("test://template/{id}/data", complete_id);
	return wg_main();
}
