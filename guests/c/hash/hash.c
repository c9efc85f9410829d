/*
 * hash: a wasmgate guest module in C with three tools: sha256,
 * base64_encode and base64_decode, each taking one argument, "text". Built
 * on the C SDK (../sdk/wasmgate.h), which reads the call envelope, checks
 * the arguments and writes the CallToolResult.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wasmgate.h"

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
static int base64_decode(const unsigned char *s, size_t n, wg_buf *out, wg_buf *err) {
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
			wg_buf_puts(err, why);
			if (v < 0) {
				uint32_t cp;
				size_t k = wg_utf8_next(s + i, n - i, &cp);
				wg_json_string(err, (const char *)s + i, k ? k : 1);
				wg_buf_puts(err, " at ");
			}
			wg_buf_puts(err, "offset ");
			char num[24];
			int len = 0;
			size_t x = i;
			do {
				num[len++] = (char)('0' + x % 10);
				x /= 10;
			} while (x);
			while (len)
				wg_buf_putc(err, num[--len]);
			return 0;
		}
		count++;
		acc = acc << 6 | (uint32_t)v;
		if (++have == 4) {
			char b[3] = {(char)(acc >> 16), (char)(acc >> 8), (char)acc};
			wg_buf_put(out, b, 3);
			acc = 0;
			have = 0;
		}
	}
	if (have == 1 || pad > 2 || (pad && (count % 4 != 0 || pad != 4 - have))) {
		wg_buf_puts(err, "invalid base64: the input is truncated or wrongly padded");
		return 0;
	}
	if (have == 2) {
		wg_buf_putc(out, (char)(acc >> 4));
	} else if (have == 3) {
		char b[2] = {(char)(acc >> 10), (char)(acc >> 2)};
		wg_buf_put(out, b, 2);
	}
	return 1;
}

/* ---------- tools ---------- */

static const char *const text_only[] = {"text", NULL};

/* text_arg reads the one argument the tools take; 0 means the call already failed. */
static int text_arg(wg_call *c, wg_buf *text) {
	return wg_args_only(c, text_only) == 0 && wg_arg_string(c, "text", text, 1) == 1;
}

/* ok answers text as the content and {"key": text} as structuredContent. */
static void ok(wg_call *c, const char *key, const char *text, size_t n) {
	wg_buf s = {0};
	wg_text(c, text, n);
	wg_buf_putc(&s, '{');
	wg_json_string_s(&s, key);
	wg_buf_putc(&s, ':');
	wg_json_string(&s, text, n);
	wg_buf_putc(&s, '}');
	wg_structured(c, s.p, s.len);
	wg_buf_free(&s);
}

static void tool_sha256(wg_call *c) {
	static const char hex[] = "0123456789abcdef";
	wg_buf text = {0};
	if (!text_arg(c, &text))
		return;
	unsigned char d[32];
	char h[64];
	sha256((const unsigned char *)text.p, text.len, d);
	for (int i = 0; i < 32; i++) {
		h[2 * i] = hex[d[i] >> 4];
		h[2 * i + 1] = hex[d[i] & 15];
	}
	ok(c, "sha256", h, 64);
	wg_buf_free(&text);
}

static void tool_base64_encode(wg_call *c) {
	wg_buf text = {0}, res = {0};
	if (!text_arg(c, &text))
		return;
	wg_base64_encode(&res, text.p, text.len);
	ok(c, "base64", res.p ? res.p : "", res.len);
	wg_buf_free(&res);
	wg_buf_free(&text);
}

static void tool_base64_decode(wg_call *c) {
	wg_buf text = {0}, res = {0}, err = {0};
	if (!text_arg(c, &text))
		return;
	if (!base64_decode((const unsigned char *)text.p, text.len, &res, &err))
		wg_error_n(c, err.p, err.len);
	else if (!wg_utf8_valid(res.p, res.len))
		wg_error(c, "the decoded bytes are not valid UTF-8 text");
	else
		ok(c, "text", res.p ? res.p : "", res.len);
	wg_buf_free(&res);
	wg_buf_free(&err);
	wg_buf_free(&text);
}

int main(void) {
	wg_tool("sha256", tool_sha256);
	wg_tool("base64_encode", tool_base64_encode);
	wg_tool("base64_decode", tool_base64_decode);
	return wg_main();
}
