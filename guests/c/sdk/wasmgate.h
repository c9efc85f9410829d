/*
 * wasmgate.h: the C SDK for wasmgate tool modules (guest ABI 1, see
 * abi/ABI.md). Compile a tool together with wasmgate.c:
 *
 *   clang --target=wasm32-wasi --sysroot=/usr -O2 -I../sdk -o tool.wasm tool.c ../sdk/wasmgate.c
 *
 * A module registers one handler per tool (and per resource, resource
 * template, prompt or completion it serves) and hands control to wg_main,
 * which reads the call envelope from stdin, runs the handler the request
 * names and writes the result to stdout:
 *
 *   static void greet(wg_call *c) {
 *       wg_buf name = {0};
 *       if (wg_arg_string(c, "name", &name, 1) < 0) return;  // error already set
 *       wg_textf(c, "hello, %s", name.p);
 *       wg_buf_free(&name);
 *   }
 *   int main(void) {
 *       wg_tool("greet", greet);
 *       return wg_main();
 *   }
 *
 * Everything here is plain C99 over wasi-libc. Strings handed to the SDK
 * are (pointer, length) pairs or NUL-terminated where the name says _s or
 * the parameter is a name; strings the SDK hands back live in a wg_buf,
 * which is always NUL-terminated (p[len] == 0) once anything was written,
 * and owned by the caller (wg_buf_free). Strings a wg_call hands back
 * (wg_name, wg_method, ...) belong to the call and live until wg_main
 * returns. The SDK allocates only through wg_buf (realloc) and frees what
 * it allocates; running out of memory ends the call with exit code 1.
 */
#ifndef WASMGATE_H
#define WASMGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------- status codes of the host functions (abi/ABI.md, section 4) ---------- */

#define WG_OK 0
#define WG_INVALID (-1)
#define WG_DENIED (-2)
#define WG_FAILED (-3)
#define WG_TOO_LARGE (-4)
#define WG_NOT_FOUND (-5)
#define WG_CANCELLED (-6)

/* wg_status_name returns "ok", "invalid", "denied", ... for a status. */
const char *wg_status_name(int status);

/* ---------- log levels ---------- */

enum {
	WG_DEBUG = 0,
	WG_INFO = 1,
	WG_NOTICE = 2,
	WG_WARNING = 3,
	WG_ERROR = 4,
	WG_CRITICAL = 5,
	WG_ALERT = 6,
	WG_EMERGENCY = 7
};

/* ---------- byte buffers ---------- */

typedef struct {
	char *p;
	size_t len, cap;
} wg_buf;

void wg_buf_put(wg_buf *b, const void *s, size_t n);
void wg_buf_puts(wg_buf *b, const char *s);
void wg_buf_putc(wg_buf *b, char c);
void wg_buf_printf(wg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wg_buf_reset(wg_buf *b); /* len = 0, keeps the memory */
void wg_buf_free(wg_buf *b);

/* ---------- JSON writing (for structuredContent and requests) ---------- */

/*
 * wg_json_string appends s[0..n) as a JSON string literal: quotes,
 * backslashes and control characters are escaped, and bytes that are not
 * well-formed UTF-8 become U+FFFD, so the output is always valid JSON.
 */
void wg_json_string(wg_buf *b, const char *s, size_t n);
void wg_json_string_s(wg_buf *b, const char *s);
void wg_json_int(wg_buf *b, long long v);
void wg_json_double(wg_buf *b, double v); /* non-finite values become null */
void wg_json_bool(wg_buf *b, int v);

/* ---------- UTF-8 ---------- */

/*
 * wg_utf8_next decodes one code point of s[0..n) into *cp and returns its
 * length, or 0 when the bytes there are not well-formed UTF-8.
 */
size_t wg_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
int wg_utf8_valid(const char *s, size_t n);
void wg_utf8_put(wg_buf *b, uint32_t cp);

/* ---------- JSON reading ---------- */

/*
 * A wg_value is a view of one JSON value inside a document the SDK has
 * checked (the call envelope, or one given to wg_json_parse); nothing is
 * copied or allocated until a string is decoded. A missing value has
 * start == NULL (kind WG_MISSING), and every accessor accepts it.
 */
typedef struct {
	const char *start, *end;
} wg_value;

typedef enum {
	WG_MISSING = 0,
	WG_NULL,
	WG_BOOL,
	WG_NUMBER,
	WG_STRING,
	WG_ARRAY,
	WG_OBJECT
} wg_kind;

/* wg_json_parse checks that s[0..n) is one JSON value; returns 1 if so. */
int wg_json_parse(const char *s, size_t n, wg_value *out);
wg_kind wg_kind_of(wg_value v);
const char *wg_kind_name(wg_kind k); /* "string", "integer"... for messages */

/* wg_get returns the member key of an object (the last one if repeated). */
wg_value wg_get(wg_value obj, const char *key);
/* wg_getp follows a path of keys separated by dots: "user.address.city". */
wg_value wg_getp(wg_value obj, const char *path);
/* wg_at returns element i of an array; wg_len the number of elements or members. */
wg_value wg_at(wg_value arr, size_t i);
size_t wg_len(wg_value v);

/*
 * wg_next iterates an array or an object: start with *it = 0 and call until
 * it returns 0. For objects the decoded key is written to key (reset
 * first; may be NULL).
 */
int wg_next(wg_value v, size_t *it, wg_buf *key, wg_value *elem);

/* Typed reads: each returns 1 and sets *out when v has that type, else 0. */
int wg_string(wg_value v, wg_buf *out); /* decodes escapes into UTF-8; appends to out */
int wg_int(wg_value v, long long *out); /* integral numbers only (3, 3.0, 3e2), within ±2^53 */
int wg_double(wg_value v, double *out);
int wg_bool(wg_value v, int *out);
/* wg_raw is the value's JSON text (start, length). */
size_t wg_raw(wg_value v, const char **text);

/* ---------- calls and handlers ---------- */

typedef struct wg_call wg_call;
typedef void (*wg_handler)(wg_call *c);

/*
 * Registration (at most 128 handlers in all). Each name is kept, not
 * copied: pass string literals or strings that outlive wg_main.
 *
 * wg_tool: the handler of a tool (tools/call).
 * wg_resource: the handler of one of the manifest's fixed resources, by URI
 *   (resources/read).
 * wg_resource_template: the handler of a resource template, by its URI
 *   template exactly as the manifest declares it ("test://doc/{id}"); the
 *   handler reads the variables with wg_arg_string (see wg_arguments).
 * wg_prompt: the handler of a prompt, by its name in the manifest
 *   (prompts/get).
 * wg_completion: the handler of completion/complete for one prompt (its
 *   name) or resource template (its URI template), or for every one
 *   (NULL). A module with "completions": true in its manifest receives
 *   these; a completion with no handler answers no values.
 */
void wg_tool(const char *name, wg_handler h);
void wg_resource(const char *uri, wg_handler h);
void wg_resource_template(const char *uri_template, wg_handler h);
void wg_prompt(const char *name, wg_handler h);
void wg_completion(const char *ref, wg_handler h);

/* wg_main serves one request: read stdin, dispatch, write stdout. Returns the exit code. */
int wg_main(void);

/* ---------- what the request says ---------- */

/* wg_method is "tools/call", "resources/read", "prompts/get" or "completion/complete". */
const char *wg_method(wg_call *c);
/*
 * wg_name is what the request is for: the tool's name, the resource's URI
 * (the one requested, also for a template), the prompt's name, or for a
 * completion the prompt's name or the template's URI template.
 */
const char *wg_name(wg_call *c);
const char *wg_tool_name(wg_call *c); /* the same as wg_name */
/* wg_template is the URI template a resources/read matched, NULL for a fixed resource. */
const char *wg_template(wg_call *c);
/*
 * wg_arguments is an object of the request's arguments: a tool's
 * arguments, a prompt's (strings), a template's variables (strings, for
 * resources/read of a template) or, for a completion, the arguments
 * already given (context.arguments). It is {} when there are none, so the
 * wg_arg_ helpers below work for every method.
 */
wg_value wg_arguments(wg_call *c);
wg_value wg_meta(wg_call *c);     /* params._meta, or missing */
wg_value wg_envelope(wg_call *c); /* the whole request */

/* A completion: the argument (or template variable) completed and what was typed so far. */
const char *wg_completion_arg(wg_call *c);
const char *wg_completion_partial(wg_call *c);

/*
 * The client the request comes from: wg_client is the envelope's client
 * object ({"protocolVersion": ..., "capabilities": {...}}), missing when
 * the host tells nothing. wg_client_has returns 1 when the client declared
 * a capability ("sampling", "elicitation", "roots"): ask only what it
 * declared.
 */
wg_value wg_client(wg_call *c);
int wg_client_has(wg_call *c, const char *capability);

/*
 * Argument helpers. Each returns 1 when the argument is present and of the
 * right type, 0 when it is absent and required is 0, and -1 otherwise,
 * having set the call's result to an error that names the argument
 * ("missing required argument \"text\" (a string)", "argument \"n\" must be
 * an integer"; for a method other than tools/call, error -32602): a
 * handler simply returns on -1.
 */
int wg_arg_string(wg_call *c, const char *name, wg_buf *out, int required);
int wg_arg_int(wg_call *c, const char *name, long long *out, int required);
int wg_arg_double(wg_call *c, const char *name, double *out, int required);
int wg_arg_bool(wg_call *c, const char *name, int *out, int required);
/*
 * wg_args_only fails the call (returning -1) when an argument is not in the
 * NULL-terminated list names: "unknown argument \"x\": this tool takes only
 * \"text\"". Returns 0 otherwise.
 */
int wg_args_only(wg_call *c, const char *const *names);

/* ---------- results ---------- */

/*
 * Errors, for every method. In a tools/call, wg_error replaces the result
 * with one text item and isError: true. In the other methods the result is
 * {"error": {"code": code, "message": ...}}, which the client receives as a
 * JSON-RPC error: wg_error uses WG_ERR_INTERNAL, wg_fail the code given
 * (WG_ERR_NOT_FOUND for a resource that does not exist, WG_ERR_INVALID_PARAMS
 * for arguments it cannot serve; a tools/call ignores the code).
 */
#define WG_ERR_NOT_FOUND (-32002)
#define WG_ERR_INVALID_PARAMS (-32602)
#define WG_ERR_INTERNAL (-32603)

void wg_error(wg_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wg_error_n(wg_call *c, const char *msg, size_t n);
void wg_fail(wg_call *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int wg_failed(wg_call *c); /* 1 once an error was set */

/*
 * Content items, for tools/call (the result's content, in order) and
 * prompts/get (one message per item, with the role set by wg_role; "user"
 * unless changed). A call whose handler adds nothing returns an empty
 * result. Binary data is base64-encoded here. Using a writer in a method it
 * does not belong to fails the call with an error naming the writer.
 */
void wg_text(wg_call *c, const char *s, size_t n);
void wg_text_s(wg_call *c, const char *s);
void wg_textf(wg_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wg_image(wg_call *c, const void *data, size_t n, const char *mime_type);
void wg_audio(wg_call *c, const void *data, size_t n, const char *mime_type);
/* An embedded resource: {"type": "resource", "resource": {"uri", "mimeType", "text" or "blob"}}; mime_type may be NULL. */
void wg_embedded_text(wg_call *c, const char *uri, const char *mime_type, const char *text, size_t n);
void wg_embedded_blob(wg_call *c, const char *uri, const char *mime_type, const void *data, size_t n);
/* A link to a resource: uri and name required; mime_type and description may be NULL. */
void wg_resource_link(wg_call *c, const char *uri, const char *name, const char *mime_type, const char *description);

/* tools/call only: structuredContent set to json[0..n), a JSON object the caller built. The last one wins. */
void wg_structured(wg_call *c, const char *json, size_t n);

/* prompts/get only: the role of the messages added next, and the result's description. */
enum { WG_USER = 0, WG_ASSISTANT = 1 };
void wg_role(wg_call *c, int role);
void wg_description(wg_call *c, const char *s);

/*
 * resources/read only: one item of the result's contents, text or binary
 * (base64-encoded here). uri NULL means the URI requested; mime_type NULL
 * leaves it out.
 */
void wg_contents_text(wg_call *c, const char *uri, const char *mime_type, const char *text, size_t n);
void wg_contents_blob(wg_call *c, const char *uri, const char *mime_type, const void *data, size_t n);

/*
 * completion/complete only. wg_completion_add adds a value (the host keeps
 * at most 100 and says there are more); wg_completion_match adds each
 * value of a NULL-terminated list that starts with the partial value and
 * returns how many it added; wg_completion_total sets total (-1: leave it
 * out) and hasMore.
 */
void wg_completion_add(wg_call *c, const char *value);
int wg_completion_match(wg_call *c, const char *const *values);
void wg_completion_total(wg_call *c, long long total, int has_more);

/* ---------- host functions ---------- */

/* log and progress: fire and forget (a printf-style message). */
void wg_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wg_log_n(int level, const char *msg, size_t n);
void wg_progress(double progress, double total, const char *msg);

/*
 * Request-style functions return the host's status. On success (>= 0) out
 * holds the response; on an error (< 0) it holds the host's error message.
 * out is reset first and may be NULL to discard what is held.
 */
int wg_http_request(const char *req_json, size_t n, wg_buf *out);
/* wg_http_get sends {"url": url} and keeps the response JSON in out. */
int wg_http_get(const char *url, wg_buf *out);
int wg_kv_get(const char *key, size_t klen, wg_buf *out);
int wg_kv_set(const char *key, size_t klen, const void *val, size_t vlen, wg_buf *out);
int wg_kv_delete(const char *key, size_t klen, wg_buf *out);
int wg_kv_list(const char *prefix, size_t plen, const char *after, size_t alen, wg_buf *out);
int wg_secret_get(const char *name, wg_buf *out);

/*
 * wg_resource_updated tells the clients subscribed to one of the module's
 * resources (a URI it declares or one matching its templates) that it
 * changed. 0 on success; WG_NOT_FOUND for a URI not the module's.
 */
int wg_resource_updated(const char *uri, wg_buf *out);

/*
 * Questions for the client (abi/ABI.md, "sample, elicit and ask"); each
 * needs its permission in the manifest and the operator's grant, else
 * WG_DENIED. The request is JSON:
 *
 * wg_sample: sampling/createMessage params ({"messages": [...],
 *   "maxTokens": N}); out holds the result ({"role": "assistant",
 *   "content": {...}, "model": ..., "stopReason": ...}).
 * wg_elicit: elicitation/create params ({"message": ..., "requestedSchema":
 *   {...}}); out holds {"action": "accept", "content": {...}} or
 *   "decline" / "cancel".
 * wg_ask: several questions by key ({"name": {"method":
 *   "elicitation/create", "params": {...}}, "roots": {"method":
 *   "roots/list", "params": {}}}); out holds the answers under the same keys.
 *
 * WG_FAILED means the client could not answer (it did not declare the
 * capability, see wg_client_has, or it failed). On protocol 2026-07-28 a
 * question may stop the module and run it again, from the start, once the
 * client answers: ask the same questions in the same order on every run,
 * before changing anything.
 */
int wg_sample(const char *req_json, size_t n, wg_buf *out);
int wg_elicit(const char *req_json, size_t n, wg_buf *out);
int wg_ask(const char *req_json, size_t n, wg_buf *out);

/* ---------- base64 ---------- */

void wg_base64_encode(wg_buf *out, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif
