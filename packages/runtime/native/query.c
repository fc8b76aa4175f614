/*
 * oci-runtime-query: `oci-runtime state ID`, `list [-f table|json] [-q]`, `start ID`, `kill [-a] ID [SIGNAL]`,
 * `delete [-f] ID`, `pause ID` and `resume ID` without Node.
 *
 *   oci-runtime-query LAUNCHER ARGS...     (started by the CLI's launcher; ARGS are the CLI's arguments)
 *
 * Engines run `state` around every container, and a Node start is most of what it costs (~35 ms against runc's
 * ~10 for the whole command). This program reads ROOT/ID/state.json as @oci/runtime writes it (state.ts
 * writeState: JSON.stringify of StoredState, one line), decides the status as state.ts statusOf does, and prints
 * what cli-runtime prints, byte for byte (test/query.test.ts compares the two on every status); start, kill,
 * delete, pause and resume do what container.ts does (start and delete for a config without poststart/poststop
 * hooks). Anything it does not do
 * exactly as Node would (other commands or options, a missing container, an id Node refuses, a container in a
 * status the command refuses, hooks, JSON it does not read, characters whose width JavaScript counts
 * differently) goes to Node (front.h), which reports it.
 */
#include "front.h"
#include <poll.h>

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
	struct span oci_version, id, bundle, rootfs, created, annotations, spec, cgroups;
	long long pid;
	char *pid_start;
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

/* state.ts isAlive: the init still runs (same start time: not a reused pid), not a zombie */
static int is_alive(const struct container *c)
{
	char ps, start[64];
	return c->pid > 0 && c->pid <= INT32_MAX && proc_stat((pid_t)c->pid, &ps, start, sizeof start) && !strcmp(start, c->pid_start) && ps != 'Z' && ps != 'X';
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
	struct span all = { text, len }, spec, v, cgroups = { "{}", 2 };
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
	c->spec = spec;
	c->cgroups = cgroups;
	c->pid = 0;
	char *pid_start = strdup("");
	if (member(all, "pid", &v)) {
		char *end;
		c->pid = strtoll(v.s, &end, 10);
		if (end != v.s + v.n) fallback("%s: pid", file);
	}
	if (member(all, "pidStart", &v)) pid_start = plain_string(v);
	c->pid_start = pid_start;
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
	int alive = is_alive(c);
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

/* publicState as JSON.stringify writes it: with PRETTY as `state` prints it (indent 2), else as `list -f json`
 * does (one line); OWNER is the `owner` value (state: always "") */
static void put_state(struct buf *b, const struct container *c, const char *owner, int pretty)
{
	/* before each member: the separator and the indent */
	const char *first = pretty ? "{\n  " : "{", *next = pretty ? ",\n  " : ",", *colon = pretty ? ": " : ":";
	char n[32];
	snprintf(n, sizeof n, "%lld", strcmp(c->status, "stopped") ? c->pid : 0LL);
	struct { const char *key; struct span v; } f[] = {
		{ "ociVersion", c->oci_version }, { "id", c->id }, { "pid", { n, strlen(n) } }, { "status", { NULL, 0 } },
		{ "bundle", c->bundle }, { "rootfs", c->rootfs }, { "created", c->created },
	};
	for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++) {
		puts_(b, i ? next : first);
		puts_(b, "\"");
		puts_(b, f[i].key);
		puts_(b, "\"");
		puts_(b, colon);
		if (f[i].v.s) put_span(b, f[i].v);
		else { puts_(b, "\""); puts_(b, c->status); puts_(b, "\""); }
	}
	if (has_annotations(c)) {
		puts_(b, next);
		puts_(b, "\"annotations\"");
		puts_(b, colon);
		if (!pretty) put_span(b, c->annotations);
		else {
			puts_(b, "{");
			const char *p = c->annotations.s;
			struct span k, v;
			int first_member = 1;
			while (next_member(&p, &k, &v)) {
				/* a nested value would be indented further: Node's to print */
				if (v.s[0] == '{' || v.s[0] == '[') fallback("an annotation that is not a string");
				puts_(b, first_member ? "\n    " : ",\n    ");
				first_member = 0;
				put_span(b, k);
				puts_(b, ": ");
				put_span(b, v);
			}
			puts_(b, "\n  }");
		}
	}
	puts_(b, next);
	puts_(b, "\"owner\"");
	puts_(b, colon);
	json_string(b, owner);
	puts_(b, pretty ? "\n}" : "}");
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
			if (i) puts_(b, ",");
			put_state(b, &cs[i], owners[i], 0);
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

/* ------------------------------------------------------------------ start, kill, delete (container.ts) */

/* hooks the config has for PHASE: those are Node's to run */
static void no_hooks(const struct container *c, const char *phase)
{
	struct span h, l;
	if (member(c->spec, "hooks", &h) && member(h, phase, &l) && !(l.n == 2 && !memcmp(l.s, "[]", 2))) fallback("%s hooks", phase);
}

/* the container's cgroup directories, in state.json's order (destroyCgroups) */
static char **cgroup_dirs(const struct container *c, const char **names, int *n)
{
	char **out = calloc(64, sizeof *out);
	const char *p = c->cgroups.s;
	struct span k, v;
	*n = 0;
	while (*n < 63 && next_member(&p, &k, &v)) {
		if (names) names[*n] = strndup(k.s + 1, k.n - 2);
		out[(*n)++] = plain_string(v);
	}
	return out;
}

/* cgroups.ts cgroupPids: the first readable cgroup.procs of pids, freezer, memory, cpu, unified */
static void signal_cgroup(const struct container *c, int sig)
{
	const char *names[64];
	int n;
	char **dirs = cgroup_dirs(c, names, &n);
	static const char *order[] = { "pids", "freezer", "memory", "cpu", "unified" };
	for (int o = 0; o < 5; o++)
		for (int i = 0; i < n; i++) {
			if (strcmp(names[i], order[o]) || !*dirs[i]) continue;
			char f[PATH_MAX + 16];
			size_t len;
			snprintf(f, sizeof f, "%s/cgroup.procs", dirs[i]);
			char *t = slurp(f, 1 << 20, &len);
			if (!t) continue;
			for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n")) {
				long pid = atol(l);
				if (pid > 0 && kill((pid_t)pid, sig) < 0 && errno != ESRCH) fallback("kill %ld: %s", pid, strerror(errno));
			}
			free(t);
			return;
		}
}

/* cgroups.ts freeze: 0 once the container's cgroup is (un)frozen; -1 when it has no freezer, or a v2 cgroup did
 * not get there within a second (Node's to report) */
static int set_frozen(const struct container *c, int frozen)
{
	const char *names[64];
	int n;
	char **dirs = cgroup_dirs(c, names, &n);
	char f[PATH_MAX + 16];
	size_t len;
	struct stat st;
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i], "freezer") || !*dirs[i]) continue;
		snprintf(f, sizeof f, "%s/freezer.state", dirs[i]);
		if (stat(f, &st) < 0) break;
		const char *want = frozen ? "FROZEN" : "THAWED";
		for (int t = 0; t <= 1000; t++) {
			if (t == 0 || frozen) {
				int fd = open(f, O_WRONLY | O_CLOEXEC);
				if (fd < 0 || write_all(fd, want, strlen(want)) < 0) { if (fd >= 0) close(fd); return -1; }
				close(fd);
			}
			char *now = slurp(f, 64, &len);
			int done = now && !strncmp(now, want, strlen(want));
			free(now);
			if (done) break;
		}
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i], "unified") || !*dirs[i]) continue;
		snprintf(f, sizeof f, "%s/cgroup.freeze", dirs[i]);
		if (stat(f, &st) < 0) break;
		int fd = open(f, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write_all(fd, frozen ? "1" : "0", 1) < 0) { if (fd >= 0) close(fd); return -1; }
		close(fd);
		/* the kernel freezes asynchronously: done when cgroup.events says so */
		snprintf(f, sizeof f, "%s/cgroup.events", dirs[i]);
		for (int t = 0; t < 1000; t++) {
			char *ev = slurp(f, 4096, &len);
			int done = ev && strstr(ev, frozen ? "frozen 1" : "frozen 0");
			free(ev);
			if (done) return 0;
			usleep(1000);
		}
		return -1;
	}
	return -1;
}

/* best effort, as remove() and kill() thaw a paused container */
static void thaw(const struct container *c)
{
	set_frozen(c, 0);
}

/* state.ts removeStateDir; 1 (an error) if it cannot */
static int remove_dir(const char *dir)
{
	if (remove_tree(AT_FDCWD, dir) == 0) return 0;
	dprintf(2, "oci-runtime: delete: cannot remove %s: %s\n", dir, strerror(errno));
	return 1;
}

/* `start`: the exec fifo's byte (container.ts takeStartByte): opened read-write, so a read waits for the init's
 * byte instead of seeing end-of-file before the init opened its end; a dead init or 20 s without the byte are
 * Node's to report (it finds the container stopped, or waits and says so) */
static int start(const struct container *c)
{
	if (strcmp(c->status, "created")) fallback("container %s", c->status);
	no_hooks(c, "poststart");
	char fifo[PATH_MAX + 16];
	snprintf(fifo, sizeof fifo, "%s/exec.fifo", c->dir);
	int fd = open(fifo, O_RDWR | O_CLOEXEC);
	if (fd < 0) fallback("%s: %s", fifo, strerror(errno));
	for (int waited = 0;; waited += 10) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int r = poll(&pf, 1, 10);
		if (r > 0) break;
		if (r < 0 && errno != EINTR) fallback("poll: %s", strerror(errno));
		if (!is_alive(c) || waited > 20000) { close(fd); fallback("the init did not take the start byte"); }
	}
	char b;
	if (read(fd, &b, 1) != 1 || b != '0') { close(fd); fallback("the exec fifo gave no start byte"); }
	close(fd);
	unlink(fifo);
	return 0;
}

/* `kill ID [SIGNAL]` (container.ts signalNumber, kill) */
static int signal_number(const char *sig)
{
	static const struct { const char *n; int v; } names[] = {
		{ "HUP", 1 }, { "INT", 2 }, { "QUIT", 3 }, { "ILL", 4 }, { "TRAP", 5 }, { "ABRT", 6 }, { "IOT", 6 }, { "BUS", 7 },
		{ "FPE", 8 }, { "KILL", 9 }, { "USR1", 10 }, { "SEGV", 11 }, { "USR2", 12 }, { "PIPE", 13 }, { "ALRM", 14 },
		{ "TERM", 15 }, { "STKFLT", 16 }, { "CHLD", 17 }, { "CONT", 18 }, { "STOP", 19 }, { "TSTP", 20 }, { "TTIN", 21 },
		{ "TTOU", 22 }, { "URG", 23 }, { "XCPU", 24 }, { "XFSZ", 25 }, { "VTALRM", 26 }, { "PROF", 27 }, { "WINCH", 28 },
		{ "IO", 29 }, { "POLL", 29 }, { "PWR", 30 }, { "SYS", 31 },
	};
	if (*sig && strspn(sig, "0123456789") == strlen(sig) && strlen(sig) < 4 && atoi(sig) > 0 && atoi(sig) <= 64) return atoi(sig);
	char up[32];
	size_t n = strlen(sig);
	if (n >= sizeof up) fallback("signal %s", sig);
	for (size_t i = 0; i <= n; i++) up[i] = (char)(sig[i] >= 'a' && sig[i] <= 'z' ? sig[i] - 32 : sig[i]);
	const char *s = strncmp(up, "SIG", 3) ? up : up + 3;
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) if (!strcmp(s, names[i].n)) return names[i].v;
	/* RTMIN+N, RTMAX-N and the rest: Node's */
	fallback("signal %s", sig);
	return 0;
}

static int kill_cmd(const struct container *c, const char *sig, int all)
{
	int n = signal_number(sig);
	if (!strcmp(c->status, "stopped") || c->pid <= 0) fallback("container not running");
	if (all) signal_cgroup(c, n);
	else if (kill((pid_t)c->pid, n) < 0 && errno != ESRCH) fallback("kill: %s", strerror(errno));
	if (all && !strcmp(c->status, "paused") && (n == 9 || n == 15)) thaw(c);
	return 0;
}

/* `delete [-f] ID` (container.ts remove, cleanup) */
static int delete_cmd(const struct container *c, int force)
{
	no_hooks(c, "poststop");
	int running = !strcmp(c->status, "running") || !strcmp(c->status, "paused");
	if (running) {
		if (!force) fallback("container %s", c->status);
		signal_cgroup(c, SIGKILL);
		if (!strcmp(c->status, "paused")) thaw(c);
	}
	if (strcmp(c->status, "stopped") && c->pid > 0) {
		kill((pid_t)c->pid, SIGKILL);
		for (int t = 0; t < 5000 && is_alive(c); t++) usleep(1000);
	}
	int n;
	char **dirs = cgroup_dirs(c, NULL, &n);
	for (int i = 0; i < n; i++) remove_cgroup(dirs[i]);
	return remove_dir(c->dir);
}

/* the options of a command that takes one boolean flag (-a/--all, -f/--force), then the words after them */
static int flag_then_words(int argc, char **argv, int *i, const char *lng, const char *shrt)
{
	int on = 0;
	for (; *i < argc; (*i)++) {
		char *a = argv[*i];
		if (!strcmp(a, "--")) { (*i)++; break; }
		if (a[0] != '-' || !strcmp(a, "-")) break;
		char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		if ((nl == strlen(lng) && !strncmp(a, lng, nl)) || (nl == 2 && !strncmp(a, shrt, 2))) on = !eq || strcmp(eq + 1, "false") != 0;
		else fallback("option %s", a);
	}
	return on;
}

int main(int argc, char **argv)
{
	front_start(argc, argv, "oci-runtime-query");
	const char *root;
	int i = parse_globals(argc, argv, &root);
	if (i >= argc) fallback("no command");
	const char *cmd = argv[i++];
	char *rootdir = resolve_path(root);
	/* paths this long are Node's (the fixed buffers below hold PATH_MAX) */
	if (strlen(rootdir) >= PATH_MAX - 1100) fallback("a root path too long");
	struct buf out = { 0 };
	puts_(&out, "");
	if (!strcmp(cmd, "state")) {
		/* state takes no options (options.ts); its id is the first word */
		if (i < argc && !strcmp(argv[i], "--")) i++;
		else if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-")) fallback("state option %s", argv[i]);
		if (i >= argc) fallback("no container id");
		check_id(argv[i]);
		struct container c;
		if (!load(rootdir, argv[i], &c)) fallback("no container %s", argv[i]);
		put_state(&out, &c, "", 1);
		puts_(&out, "\n");
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
		list(rootdir, quiet, format, &out);
	} else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		/* no options (options.ts); the id is the first word */
		if (i < argc && !strcmp(argv[i], "--")) i++;
		else if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-")) fallback("%s option %s", cmd, argv[i]);
		if (i >= argc) fallback("no container id");
		check_id(argv[i]);
		struct container c;
		if (!load(rootdir, argv[i], &c)) fallback("no container %s", argv[i]);
		int pause = !strcmp(cmd, "pause");
		/* container.ts pause and resume: a status they refuse is Node's to report */
		if (pause ? strcmp(c.status, "running") && strcmp(c.status, "created") : strcmp(c.status, "paused")) fallback("container %s", c.status);
		if (set_frozen(&c, pause) < 0) fallback("the freezer");
		return 0;
	} else if (!strcmp(cmd, "start") || !strcmp(cmd, "kill") || !strcmp(cmd, "delete")) {
		int flag = 0;
		if (!strcmp(cmd, "kill")) flag = flag_then_words(argc, argv, &i, "--all", "-a");
		else if (!strcmp(cmd, "delete")) flag = flag_then_words(argc, argv, &i, "--force", "-f");
		else if (i < argc && !strcmp(argv[i], "--")) i++;
		else if (i < argc && argv[i][0] == '-' && strcmp(argv[i], "-")) fallback("start option %s", argv[i]);
		if (i >= argc) fallback("no container id");
		/* delete takes every word as an id: more than one is Node's (all or none must be checked first) */
		if (!strcmp(cmd, "delete") && i + 1 < argc) fallback("several ids");
		check_id(argv[i]);
		struct container c;
		if (!load(rootdir, argv[i], &c)) fallback("no container %s", argv[i]);
		if (!strcmp(cmd, "start")) return start(&c);
		if (!strcmp(cmd, "kill")) return kill_cmd(&c, i + 1 < argc ? argv[i + 1] : "SIGTERM", flag);
		return delete_cmd(&c, flag);
	} else fallback("command %s", cmd);
	/* as output.ts: a closed stdout ends the command quietly */
	signal(SIGPIPE, SIG_IGN);
	write_all(1, out.s, out.n);
	return 0;
}
