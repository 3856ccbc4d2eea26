/* http_reason.c - custom reason phrases by interposing libmicrohttpd's lookup; see http_reason.h. */
#include "http/http_reason.h"

#include "http/http.h"
#include "util/ga_xalloc.h"

#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* A phrase older than this was not used for its response: forget it. */
#define PHRASE_LIFETIME_NS 1000000000LL

struct pending_phrase {
	unsigned status;		/* 0: none */
	long long set_at;		/* CLOCK_MONOTONIC nanoseconds */
	size_t len;
	char text[HTTP_REASON_MAX + 1];
};

static _Thread_local struct pending_phrase pending;

typedef const char *(*phrase_fn)(unsigned int code);
typedef size_t (*phrase_len_fn)(unsigned int code);

static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;
static phrase_fn library_phrase;
static phrase_len_fn library_phrase_len;

static void
lookup_library(void)
{
	/* POSIX allows this cast from a data pointer to a function pointer. */
	*(void **)&library_phrase = dlsym(RTLD_NEXT, "MHD_get_reason_phrase_for");
	*(void **)&library_phrase_len = dlsym(RTLD_NEXT, "MHD_get_reason_phrase_len_for");
}

static long long
now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

void
http_reason_set(unsigned status, const char *text)
{
	size_t len = strlen(text);

	if (len > HTTP_REASON_MAX)
		len = HTTP_REASON_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		pending.text[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	pending.text[len] = '\0';
	pending.len = len;
	pending.status = len > 0 ? status : 0;
	pending.set_at = now_ns();
}

static bool
pending_for(unsigned int code)
{
	if (pending.status == 0 || pending.status != code)
		return false;
	if (now_ns() - pending.set_at > PHRASE_LIFETIME_NS) {
		pending.status = 0;
		return false;
	}
	return true;
}

/* libmicrohttpd asks for the length first, then for the phrase. */
size_t
MHD_get_reason_phrase_len_for(unsigned int code)
{
	if (pending_for(code))
		return pending.len;
	pthread_once(&lookup_once, lookup_library);
	return library_phrase_len != NULL ? library_phrase_len(code) : 0;
}

const char *
MHD_get_reason_phrase_for(unsigned int code)
{
	if (pending_for(code)) {
		pending.status = 0;	/* used once */
		return pending.text;
	}
	pthread_once(&lookup_once, lookup_library);
	return library_phrase != NULL ? library_phrase(code) : "Unknown";
}

void
http_respond_text(struct http_request *request, unsigned status, const char *text,
		  const char *header, const char *value)
{
	char *body = ga_asprintf("%s\n", text);
	struct MHD_Response *response = MHD_create_response_from_buffer_with_free_callback(
		strlen(body), body, ga_free);

	if (response == NULL) {
		ga_free(body);
		http_respond_error(request, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (header != NULL && value != NULL)
		MHD_add_response_header(response, header, value);
	if (status >= 400)
		http_reason_set(status, text);
	http_respond_shared(request, status, response);
	MHD_destroy_response(response);
}
