/*
 * oci-runtime-query: `oci-runtime state ID` and `oci-runtime list [-f table|json] [-q]` without Node.
 *
 *   oci-runtime-query LAUNCHER ARGS...     (started by the CLI's launcher; ARGS are the CLI's arguments)
 *
 * Engines run `state` around every container, and a Node start is most of what it costs (~35 ms against runc's
 * ~10 for the whole command). This program reads ROOT/ID/state.json as @oci/runtime writes it (state.ts
 * writeState: JSON.stringify of StoredState, one line), decides the status as state.ts statusOf does, and prints
 * what cli-runtime prints, byte for byte (test/query.test.ts compares the two on every status). It never writes.
 * Anything it does not do exactly as Node would (other commands or options, a missing container, an id Node
 * refuses, JSON it does not read, characters whose width JavaScript counts differently) goes to Node (front.h).
 */
#include "front.h"

/* ------------------------------------------------------------------ reading JSON.stringify's output */

/* a JSON value, as the bytes it was written with: re-emitting them gives what JSON.stringify gives for it */
struct span { const char *s; size_t n; };

static const char *skip_value(const char *p);

static const char *skip_string(const char *p)
{
	if (*p != '"') return NULL;
	for (p++; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20) return NULL;
		if (*p == '\\' && !*++p) return NULL;
	}
	return *p == '"' ? p + 1 : NULL;
}

/* JSON.stringify writes no whitespace (without its `space` argument) */
static const char *skip_value(const char *p)
{
	if (!p) return NULL;
	if (*p == '"') return skip_string(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p++;
		if (*p == close) return p + 1;
		for (;;) {
			if (close == '}') {
				p = skip_string(p);
				if (!p || *p != ':') return NULL;
				p++;
			}
			p = skip_value(p);
			if (!p) return NULL;
			if (*p == close) return p + 1;
			if (*p != ',') return NULL;
			p++;
		}
	}
	const char *s = p;
	while (*p && strchr("-+.0123456789eEtrufalsn", *p)) p++;
	return p > s ? p : NULL;
}

/* the next member of an object: *pp at '{' (first call) or just after the previous value; 0 at the end */
static int next_member(const char **pp, struct span *key, struct span *val)
{
	const char *p = *pp;
	if (*p == '}') return 0;
	if (*p != '{' && *p != ',') fallback("state.json: not JSON.stringify's");
	p++;
	if (*p == '}') return 0;
	const char *k = skip_string(p);
	if (!k || *k != ':') fallback("state.json: not JSON.stringify's");
	*key = (struct span){ p, (size_t)(k - p) };
	const char *v = skip_value(k + 1);
	if (!v) fallback("state.json: not JSON.stringify's");
	*val = (struct span){ k + 1, (size_t)(v - k - 1) };
	*pp = v;
	return 1;
}

/* the member NAME of the object at OBJ (NAME: plain ASCII, as our field names are) */
static int member(struct span obj, const char *name, struct span *out)
{
	if (!obj.n || obj.s[0] != '{') return 0;
	const char *p = obj.s;
	struct span k, v;
	size_t nl = strlen(name);
	while (next_member(&p, &k, &v))
		if (k.n == nl + 2 && !memcmp(k.s + 1, name, nl)) { *out = v; return 1; }
	return 0;
}

/* a string value without escapes, as a C string (an escaped one: Node's to read) */
static char *plain_string(struct span v)
{
	if (v.n < 2 || v.s[0] != '"' || memchr(v.s, '\\', v.n)) fallback("state.json: a string with escapes");
	return strndup(v.s + 1, v.n - 2);
}

/* ------------------------------------------------------------------ state.ts, read-only */

struct container {
	char *dir;
	struct span oci_version, id, bundle, rootfs, created, annotations;
	long long pid;
	const char *status;
};

static int has_annotations(const struct container *c)
{
	return c->annotations.n > 2;
}

/* state.ts isFrozen */
static int frozen(struct span cgroups)
{
	struct span v;
	size_t len;
	char f[PATH_MAX + 32];
	if (member(cgroups, "freezer", &v)) {
		char *d = plain_string(v);
		if (*d) {
			snprintf(f, sizeof f, "%s/freezer.state", d);
			char *s = slurp(f, 4096, &len);
			int r = s && !strncmp(s, "FROZEN", 6) && strspn(s + 6, " \n\t") == len - 6;
			free(s);
			return r;
		}
	}
	if (member(cgroups, "unified", &v)) {
		char *d = plain_string(v);
		if (*d) {
			snprintf(f, sizeof f, "%s/cgroup.events", d);
			char *s = slurp(f, 4096, &len);
			int r = s && strstr(s, "frozen 1") != NULL;
			free(s);
			return r;
		}
	}
	return 0;
}

/* readStored + publicState (state.ts); 0 when the container is gone (list skips it) */
static int load(const char *root, const char *id, struct container *c)
{
	size_t dl = strlen(root) + strlen(id) + 2;
	c->dir = malloc(dl);
	snprintf(c->dir, dl, "%s/%s", root, id);
	char file[PATH_MAX + 16];
	snprintf(file, sizeof file, "%s/state.json", c->dir);
	size_t len;
	char *text = slurp(file, 64 << 20, &len);
	if (!text) {
		if (errno == ENOENT) return 0;
		fallback("%s: %s", file, strerror(errno));
	}
	struct span all = { text, len }, spec, v, cgroups = { "", 0 };
	if (skip_value(text) != text + len) fallback("%s: not JSON.stringify's", file);
	if (!member(all, "id", &c->id) || !member(all, "bundle", &c->bundle) || !member(all, "rootfs", &c->rootfs) || !member(all, "created", &c->created)
		|| !member(all, "spec", &spec) || !member(spec, "ociVersion", &c->oci_version))
		fallback("%s: fields missing", file);
	c->annotations = (struct span){ "", 0 };
	if (member(spec, "annotations", &v)) {
		if (v.s[0] != '{') fallback("%s: annotations", file);
		c->annotations = v;
	}
	member(all, "cgroupPaths", &cgroups);
	c->pid = 0;
	char *pid_start = strdup("");
	if (member(all, "pid", &v)) {
		char *end;
		c->pid = strtoll(v.s, &end, 10);
		if (end != v.s + v.n) fallback("%s: pid", file);
	}
	if (member(all, "pidStart", &v)) pid_start = plain_string(v);
	/* statusOf */
	struct stat st;
	if (c->pid == 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (stat(file, &st) < 0) c->status = "stopped";
		else {
			double age = (now.tv_sec - st.st_mtim.tv_sec) * 1e3 + (now.tv_nsec - st.st_mtim.tv_nsec) / 1e6;
			c->status = age > 60000 ? "stopped" : "creating";
		}
		return 1;
	}
	char ps, start[64];
	int alive = c->pid > 0 && c->pid <= INT32_MAX && proc_stat((pid_t)c->pid, &ps, start, sizeof start) && !strcmp(start, pid_start) && ps != 'Z' && ps != 'X';
	char fifo[PATH_MAX + 16];
	snprintf(fifo, sizeof fifo, "%s/exec.fifo", c->dir);
	if (!alive) c->status = "stopped";
	else if (stat(fifo, &st) == 0) c->status = "created";
	else if (frozen(cgroups)) c->status = "paused";
	else c->status = "running";
	return 1;
}

/* JSON.stringify of a string, for the owner (bytes >= 0x80: Node decodes them, not ours to guess) */
static void json_string(struct buf *b, const char *s)
{
	puts_(b, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char e[8];
		if (*c >= 0x80) fallback("a non-ASCII owner name");
		if (*c == '"' || *c == '\\') { e[0] = '\\'; e[1] = (char)*c; put(b, e, 2); }
		else if (*c == '\n') puts_(b, "\\n");
		else if (*c == '\r') puts_(b, "\\r");
		else if (*c == '\t') puts_(b, "\\t");
		else if (*c == '\b') puts_(b, "\\b");
		else if (*c == '\f') puts_(b, "\\f");
		else if (*c < 0x20) { snprintf(e, sizeof e, "\\u%04x", *c); puts_(b, e); }
		else put(b, (const char *)c, 1);
	}
	puts_(b, "\"");
}

static void put_span(struct buf *b, struct span s) { put(b, s.s, s.n); }

/* cli-runtime stateCmd: JSON.stringify(publicState, null, 2) */
static void print_state(struct buf *b, const struct container *c)
{
	char n[32];
	snprintf(n, sizeof n, "%lld", strcmp(c->status, "stopped") ? c->pid : 0LL);
	puts_(b, "{\n  \"ociVersion\": ");
	put_span(b, c->oci_version);
	puts_(b, ",\n  \"id\": ");
	put_span(b, c->id);
	puts_(b, ",\n  \"pid\": ");
	puts_(b, n);
	puts_(b, ",\n  \"status\": \"");
	puts_(b, c->status);
	puts_(b, "\",\n  \"bundle\": ");
	put_span(b, c->bundle);
	puts_(b, ",\n  \"rootfs\": ");
	put_span(b, c->rootfs);
	puts_(b, ",\n  \"created\": ");
	put_span(b, c->created);
	if (has_annotations(c)) {
		puts_(b, ",\n  \"annotations\": {");
		const char *p = c->annotations.s;
		struct span k, v;
		int first = 1;
		while (next_member(&p, &k, &v)) {
			/* a nested value would be indented further: Node's to print */
			if (v.s[0] == '{' || v.s[0] == '[') fallback("an annotation that is not a string");
			puts_(b, first ? "\n    " : ",\n    ");
			first = 0;
			put_span(b, k);
			puts_(b, ": ");
			put_span(b, v);
		}
		puts_(b, "\n  }");
	}
	puts_(b, ",\n  \"owner\": \"\"\n}\n");
}

/* state.ts ownerOf */
static char *owner_of(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) < 0) return strdup("");
	if (st.st_uid == 0) return strdup("root");
	size_t len;
	char *pw = slurp("/etc/passwd", 16 << 20, &len);
	char *found = NULL;
	if (!pw) return strdup("");
	char u[32];
	snprintf(u, sizeof u, "%u", (unsigned)st.st_uid);
	for (char *l = pw; l && *l && !found;) {
		char *nl = strchr(l, '\n');
		if (nl) *nl = 0;
		char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
		if (c2 && (c3 ? (size_t)(c3 - c2 - 1) : strlen(c2 + 1)) == strlen(u) && !strncmp(c2 + 1, u, strlen(u))) found = strndup(l, (size_t)(c1 - l));
		l = nl ? nl + 1 : NULL;
	}
	free(pw);
	if (found) return found;
	char *h = malloc(40);
	snprintf(h, 40, "#%s", u);
	return h;
}

/* Go's RFC3339Nano as list.ts rfc3339nano: the fraction's trailing zeros trimmed */
static char *rfc3339nano(const char *iso)
{
	char *s = strdup(iso);
	size_t n = strlen(s);
	char *dot = strrchr(s, '.');
	if (n && s[n - 1] == 'Z' && dot && strspn(dot + 1, "0123456789") == (size_t)(s + n - 1 - dot - 1) && s[n - 2] == '0') {
		char *e = s + n - 1;
		while (e > dot + 1 && e[-1] == '0') e--;
		if (e == dot + 1) e = dot;
		strcpy(e, "Z");
	}
	return s;
}

static int id_name(const char *n)
{
	if (!*n) return 0;
	for (const char *c = n; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("_+.-", *c))) return 0;
	return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* table.ts tabwriter: minwidth 12, padding 3; lengths as JavaScript counts them (ASCII only here) */
static void table(struct buf *b, char ***rows, int nrows, int ncols)
{
	size_t w[16] = { 0 };
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols - 1; c++) {
			for (const char *x = rows[r][c]; *x; x++) if ((unsigned char)*x >= 0x80) fallback("a non-ASCII table cell");
			size_t l = strlen(rows[r][c]) + 3;
			if (l < 12) l = 12;
			if (l > w[c]) w[c] = l;
		}
	for (int r = 0; r < nrows; r++) {
		for (int c = 0; c < ncols; c++) {
			puts_(b, rows[r][c]);
			if (c < ncols - 1) for (size_t k = strlen(rows[r][c]); k < w[c]; k++) puts_(b, " ");
		}
		puts_(b, "\n");
	}
}

static void list(const char *root, int quiet, const char *format, struct buf *b)
{
	char **ids = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(root);
	if (d) {
		for (struct dirent *e; (e = readdir(d));) {
			char f[PATH_MAX + 300];
			struct stat st;
			if (!id_name(e->d_name)) continue;
			snprintf(f, sizeof f, "%s/%s/state.json", root, e->d_name);
			if (stat(f, &st) < 0) continue;
			if (n == cap) { cap = cap ? cap * 2 : 16; ids = realloc(ids, cap * sizeof *ids); }
			ids[n++] = strdup(e->d_name);
		}
		closedir(d);
	}
	qsort(ids, n, sizeof *ids, cmp_str);
	struct container *cs = calloc(n + 1, sizeof *cs);
	char **owners = calloc(n + 1, sizeof *owners);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (load(root, ids[i], &cs[m])) { owners[m] = owner_of(cs[m].dir); m++; }
	if (quiet) {
		for (size_t i = 0; i < m; i++) { put_span(b, (struct span){ cs[i].id.s + 1, cs[i].id.n - 2 }); puts_(b, "\n"); }
		return;
	}
	if (!strcmp(format, "json")) {
		if (!m) { puts_(b, "null\n"); return; }
		puts_(b, "[");
		for (size_t i = 0; i < m; i++) {
			const struct container *c = &cs[i];
			char num[32];
			snprintf(num, sizeof num, "%lld", strcmp(c->status, "stopped") ? c->pid : 0LL);
			puts_(b, i ? ",{\"ociVersion\":" : "{\"ociVersion\":");
			put_span(b, c->oci_version);
			puts_(b, ",\"id\":");
			put_span(b, c->id);
			puts_(b, ",\"pid\":");
			puts_(b, num);
			puts_(b, ",\"status\":\"");
			puts_(b, c->status);
			puts_(b, "\",\"bundle\":");
			put_span(b, c->bundle);
			puts_(b, ",\"rootfs\":");
			put_span(b, c->rootfs);
			puts_(b, ",\"created\":");
			put_span(b, c->created);
			if (has_annotations(c)) {
				puts_(b, ",\"annotations\":");
				put_span(b, c->annotations);
			}
			puts_(b, ",\"owner\":");
			json_string(b, owners[i]);
			puts_(b, "}");
		}
		puts_(b, "]\n");
		return;
	}
	if (strcmp(format, "table")) fallback("format %s", format);
	char ***rows = calloc(m + 1, sizeof *rows);
	static char *head[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
	rows[0] = head;
	for (size_t i = 0; i < m; i++) {
		const struct container *c = &cs[i];
		char **r = calloc(6, sizeof *r);
		char num[32];
		snprintf(num, sizeof num, "%lld", strcmp(c->status, "stopped") ? c->pid : 0LL);
		char *created = plain_string(c->created);
		r[0] = plain_string(c->id);
		r[1] = strdup(num);
		r[2] = (char *)c->status;
		r[3] = plain_string(c->bundle);
		r[4] = rfc3339nano(created);
		r[5] = owners[i];
		rows[i + 1] = r;
	}
	table(b, rows, (int)m + 1, 6);
}

int main(int argc, char **argv)
{
	argc_g = argc;
	argv_g = argv;
	program = "oci-runtime-query";
	if (argc < 2) { dprintf(2, "usage: oci-runtime-query LAUNCHER ARGS... (started by oci-runtime's launcher)\n"); return 2; }
	const char *root;
	int i = parse_globals(argc, argv, &root);
	if (i >= argc) fallback("no command");
	const char *cmd = argv[i++];
	struct buf out = { 0 };
	puts_(&out, "");
	if (!strcmp(cmd, "state")) {
		/* state takes no options (options.ts); its id is the first word */
		if (i < argc && !strcmp(argv[i], "--")) i++;
		else if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-")) fallback("state option %s", argv[i]);
		if (i >= argc) fallback("no container id");
		check_id(argv[i]);
		struct container c;
		if (!load(resolve_path(root), argv[i], &c)) fallback("no container %s", argv[i]);
		print_state(&out, &c);
	} else if (!strcmp(cmd, "list")) {
		int quiet = 0;
		const char *format = "table";
		for (; i < argc; i++) {
			char *a = argv[i];
			if (!strcmp(a, "--")) break;
			if (a[0] != '-' || !strcmp(a, "-")) break;
			char *eq = strchr(a, '=');
			size_t nl = eq ? (size_t)(eq - a) : strlen(a);
			const char *v = eq ? eq + 1 : NULL;
			if ((nl == 8 && !strncmp(a, "--format", 8)) || (nl == 2 && !strncmp(a, "-f", 2))) {
				if (!v) { if (++i >= argc) fallback("%s without a value", a); v = argv[i]; }
				format = v;
			} else if ((nl == 7 && !strncmp(a, "--quiet", 7)) || (nl == 2 && !strncmp(a, "-q", 2))) quiet = !v || strcmp(v, "false") != 0;
			else fallback("list option %s", a);
		}
		list(resolve_path(root), quiet, format, &out);
	} else fallback("command %s", cmd);
	/* as output.ts: a closed stdout ends the command quietly */
	signal(SIGPIPE, SIG_IGN);
	write_all(1, out.s, out.n);
	return 0;
}
