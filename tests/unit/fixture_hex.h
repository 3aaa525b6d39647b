/* fixture_hex.h -- load a hex fixture from tests/unit/fixtures for unit tests */
#ifndef FIXTURE_HEX_H
#define FIXTURE_HEX_H

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * Read tests/unit/fixtures/<name> (under $KP_TOP, else the current
 * directory) as hex digits, whitespace ignored. Returns a new buffer
 * (caller frees) and its length in *len, or NULL.
 */
static inline uint8_t *
fixture_hex(const char *name, size_t *len)
{
	char path[1024];
	const char *top = getenv("KP_TOP");
	FILE *f;
	uint8_t *out = NULL, *p;
	size_t n = 0, cap = 0;
	int c, hi = -1, v;

	snprintf(path, sizeof(path), "%s/tests/unit/fixtures/%s",
	    top ? top : ".", name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while ((c = fgetc(f)) != EOF) {
		if (isspace(c))
			continue;
		if (!isxdigit(c))
			goto fail;
		v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((p = realloc(out, cap)) == NULL)
				goto fail;
			out = p;
		}
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0 || n == 0)
		goto fail;
	fclose(f);
	*len = n;
	return out;
fail:
	free(out);
	fclose(f);
	return NULL;
}

#endif
