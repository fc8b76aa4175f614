/*
 * The line format of the helper's plan (src/plan.ts serializePlan) and of recorded runs (src/replay.ts): one
 * instruction per line, tokens separated by one space, each percent-encoded (bytes <= 0x20, '%' and >= 0x7f as
 * %XX; a lone "%" is the empty string). Read by init.c (the plan) and run.c (recordings).
 */
#include <stdlib.h>
#include <string.h>

struct line { char **tok; int n; };

static int unhex(int c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0'; }

/* a token, decoded in place */
static char *decode(char *s)
{
	if (strcmp(s, "%") == 0) { s[0] = 0; return s; }
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '%' && p[1] && p[2]) { *o++ = (char)(unhex(p[1]) * 16 + unhex(p[2])); p += 2; }
		else *o++ = *p;
	}
	*o = 0;
	return s;
}

/* TEXT (split in place) as lines of decoded tokens, each NULL-terminated; blank lines skipped. *END: whether a
 * line "end" was met (what follows it is not read) */
static struct line *split_lines(char *text, int *count, int *end)
{
	int cap = 64, n = 0;
	struct line *lines = calloc((size_t)cap, sizeof *lines);
	char *save = NULL;
	*end = 0;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strcmp(l, "end")) { *end = 1; break; }
		if (n == cap) { cap *= 2; lines = realloc(lines, (size_t)cap * sizeof *lines); }
		struct line *ln = &lines[n];
		int tc = 8;
		ln->n = 0;
		ln->tok = calloc((size_t)tc + 1, sizeof(char *));
		char *s2 = NULL;
		for (char *t = strtok_r(l, " ", &s2); t; t = strtok_r(NULL, " ", &s2)) {
			if (ln->n == tc) { tc *= 2; ln->tok = realloc(ln->tok, ((size_t)tc + 1) * sizeof(char *)); }
			ln->tok[ln->n++] = decode(t);
		}
		ln->tok[ln->n] = NULL;
		if (ln->n > 0) n++;
	}
	*count = n;
	return lines;
}
