/* http_json.c - JSON string escaping and permission lists; see http_json.h. */
#include "http/http_json.h"

#include <stdio.h>
#include <string.h>

void
http_json_string(struct ga_buf *buf, const char *s)
{
	const char *run = s;

	ga_buf_append_char(buf, '"');
	for (const char *p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		char escape[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		ga_buf_append(buf, run, (size_t)(p - run));
		if (c == '"' || c == '\\')
			snprintf(escape, sizeof(escape), "\\%c", c);
		else
			snprintf(escape, sizeof(escape), "\\u%04x", c);
		ga_buf_append_str(buf, escape);
		run = p + 1;
	}
	ga_buf_append_str(buf, run);
	ga_buf_append_char(buf, '"');
}

void
http_json_permissions(struct ga_buf *buf, bool read, bool write)
{
	if (write)
		ga_buf_append_str(buf, "[\"read\",\"write\"]");
	else if (read)
		ga_buf_append_str(buf, "[\"read\"]");
	else
		ga_buf_append_str(buf, "[]");
}
