/*
 * What the native front ends of oci-runtime share (run.c: oci-runtime-run, query.c: oci-runtime-query): the
 * hand-over to Node, small file and string helpers, Node's path.resolve, the global options of cli-runtime's
 * options.ts. Each front end does one thing without Node, or executes the CLI's launcher again with
 * OCI_RUNTIME_NATIVE=fallback (LAUNCHER is its first argument), which then runs Node: the command behaves and
 * reports errors exactly as without the front end. OCI_RUNTIME_NATIVE=0 (launcher) turns them off; =require
 * makes a hand-over an error instead (exit 125, the reason on stderr), for tests. See docs/cli-runtime.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

/* the front end's name, for messages */
static const char *program;


static int argc_g;
static char **argv_g;

/* ------------------------------------------------------------------ fallback */

static void fallback(const char *why, ...)
{
	const char *mode = getenv("OCI_RUNTIME_NATIVE");
	if (mode && !strcmp(mode, "require")) {
		va_list ap;
		va_start(ap, why);
		dprintf(2, "%s: not done natively: ", program);
		vdprintf(2, why, ap);
		dprintf(2, "\n");
		va_end(ap);
		exit(125);
	}
	setenv("OCI_RUNTIME_NATIVE", "fallback", 1);
	char **a = calloc((size_t)argc_g + 2, sizeof *a);
	a[0] = "sh";
	for (int i = 1; i < argc_g; i++) a[i] = argv_g[i];
	execv("/bin/sh", a);
	dprintf(2, "oci-runtime: cannot execute /bin/sh %s: %s\n", argv_g[1], strerror(errno));
	exit(127);
}

/* ------------------------------------------------------------------ small helpers */

/* a whole file, NUL-terminated; NULL on error (errno set) or when larger than max */
static char *slurp_fd(int fd, size_t max, size_t *len)
{
	size_t cap = 8192, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) { free(b); errno = EFBIG; return NULL; }
			cap *= 2;
			b = realloc(b, cap);
		}
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) { int e = errno; free(b); errno = e; return NULL; }
		if (r == 0) break;
		n += (size_t)r;
	}
	if (n > max) { free(b); errno = EFBIG; return NULL; }
	b[n] = 0;
	*len = n;
	return b;
}

static char *slurp(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	char *b = slurp_fd(fd, max, len);
	close(fd);
	return b;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0) return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* a growing string */
struct buf { char *s; size_t n, cap; };

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* Node's path.resolve(cwd, p): absolute, no ".", "..", "//" or trailing "/" */
static char *resolve_path(const char *p)
{
	struct buf in = { 0 }, out = { 0 };
	if (p[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd)) fallback("getcwd: %s", strerror(errno));
		puts_(&in, cwd);
		puts_(&in, "/");
	}
	puts_(&in, p);
	puts_(&out, "");
	char *save = NULL;
	for (char *c = strtok_r(in.s, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, ".")) continue;
		if (!strcmp(c, "..")) {
			char *slash = strrchr(out.s, '/');
			if (slash) { *slash = 0; out.n = (size_t)(slash - out.s); }
			continue;
		}
		puts_(&out, "/");
		puts_(&out, c);
	}
	if (out.n == 0) puts_(&out, "/");
	free(in.s);
	return out.s;
}

/* the global options of options.ts a front end accepts (--root, --log, --log-format, --systemd-cgroup; anything
 * else is Node's); returns the index of the command word. *root: as given, or options.ts's default */
static int parse_globals(int argc, char **argv, const char **root)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	static char def[PATH_MAX];
	if (geteuid() != 0 && xdg && *xdg) snprintf(def, sizeof def, "%s/oci-runtime", xdg);
	else snprintf(def, sizeof def, "/run/oci-runtime");
	*root = def;
	int i = 2;
	for (; i < argc; i++) {
		char *a = argv[i];
		if (!strcmp(a, "--")) return i + 1;
		if (a[0] != '-' || !strcmp(a, "-")) return i;
		char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		const char *v = eq ? eq + 1 : NULL;
		if (nl == 6 && !strncmp(a, "--root", 6)) {
			if (!v) { if (++i >= argc) fallback("--root without a value"); v = argv[i]; }
			*root = v;
		} else if ((nl == 5 && !strncmp(a, "--log", 5)) || (nl == 12 && !strncmp(a, "--log-format", 12))) {
			/* only errors, warnings and debug lines are logged: a front end has none, they go to Node */
			if (!v && ++i >= argc) fallback("%s without a value", a);
		} else if (nl == 16 && !strncmp(a, "--systemd-cgroup", 16)) {
			/* the config's cgroupsPath decides, as in Node */
		} else fallback("option %s", a);
	}
	return i;
}

/* as Node does at its start: fds 0, 1 and 2 open (/dev/null for a closed one), so that nothing opened later
 * (a socket, a file) takes their numbers and reaches a child as its stdio */
static void stdio_open(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) < 0) exit(127);
}

/* what every front end does first: remember its arguments for a hand-over, its name for messages; stdio open */
static void front_start(int argc, char **argv, const char *name)
{
	argc_g = argc;
	argv_g = argv;
	program = name;
	stdio_open();
	if (argc < 2) {
		dprintf(2, "usage: %s LAUNCHER ARGS... (started by oci-runtime's launcher)\n", name);
		exit(2);
	}
}

/* PARENT's entry NAME, and everything below it if it is a directory (rmSync recursive, as removeStateDir falls back to) */
static int remove_tree(int parent, const char *name)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return 0;
	if (errno != EISDIR && errno != EPERM) return -1;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) return -1;
	DIR *d = fdopendir(fd);
	if (!d) { close(fd); return -1; }
	int r = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && remove_tree(dirfd(d), e->d_name) < 0) r = -1;
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT) r = -1;
	return r;
}

/* cgroups.ts destroyCgroups, for one directory: removed, waiting up to ~1 s for tasks still leaving it */
static void remove_cgroup(const char *dir)
{
	for (int t = 0; t < 1000 && *dir; t++) {
		if (rmdir(dir) == 0 || errno != EBUSY) return;
		usleep(1000);
	}
}

/* state.ts checkId: an id Node refuses is Node's to report */
static void check_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, "..")) fallback("container id");
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("_+.-", *c))) fallback("container id");
}

/* state.ts procStat: the state letter (field 3) and start time (field 22) of /proc/PID/stat; 0 when gone */
static int proc_stat(pid_t pid, char *state, char *start, size_t n)
{
	char p[64];
	size_t len;
	snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
	char *s = slurp(p, 1 << 16, &len);
	start[0] = 0;
	*state = 0;
	if (!s) return 0;
	char *r = strrchr(s, ')');
	int ok = 0;
	if (r && r[1] == ' ') {
		char *save = NULL, *f = strtok_r(r + 2, " ", &save);
		if (f) *state = f[0];
		for (int i = 0; f && i < 19; i++) f = strtok_r(NULL, " ", &save);
		if (f) { snprintf(start, n, "%s", f); ok = 1; }
	}
	free(s);
	return ok;
}
