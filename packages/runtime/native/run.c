/*
 * oci-runtime-run: `oci-runtime run`, `run -d` and `create` again, without Node, as the runtime recorded them.
 *
 *   oci-runtime-run LAUNCHER ARGS...      (started by the CLI's launcher; ARGS are the CLI's arguments)
 *
 * These commands spend most of their time starting Node. When Node does one it can repeat (as root, no hooks, no
 * terminal...: replay.ts), it writes what it did to ROOT/@run-plans/KEY: the facts it depended on (config.json's
 * exact text, the rootfs's /etc/passwd, the cgroup layout, the code that planned it...), the cgroup changes it
 * made, the state.json it wrote and the helper's plan, for a stand-in id and bundle. This program looks for the
 * recording of its own command line, checks every fact again, and only if all still hold does the same with its
 * own id and bundle: state directory, cgroups, the helper (oci-runtime-init) with the same plan; then for `run`
 * start, signals forwarded, exit status, clean-up; for `run -d` start; for `create` nothing more. In every other
 * case (other flags, no recording, a fact changed, anything failing before the container's process starts) it
 * undoes what it did and hands the command to Node (front.h), which behaves, reports errors and records exactly as
 * without this program. See docs/runtime.md, "Replayed runs".
 */
#include "front.h"
#include "lines.h"
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MAX_RECORDING (16 << 20)
#define MAX_IN_ROOT (1 << 20)

/* writes FILE whole (O_TRUNC, like Node's writeFileSync) */
static int write_file(const char *file, const char *s)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) return -1;
	int r = write_all(fd, s, strlen(s));
	int e = errno;
	close(fd);
	errno = e;
	return r;
}


/* ------------------------------------------------------------------ the command line */

struct opts {
	/* "run", "run -d" or "create" (replay.ts ReplayKey.command) */
	const char *command;
	const char *root, *bundle, *pid_file, *id;
	int no_pivot, no_new_keyring, keep, detach;
};

/* parses the subset of cli-runtime's options.ts grammar a recorded run can have; anything else goes to Node */
static void parse(int argc, char **argv, struct opts *o)
{
	int i = parse_globals(argc, argv, &o->root);
	o->bundle = ".";
	if (i >= argc || (strcmp(argv[i], "run") && strcmp(argv[i], "create"))) fallback("not a run or create");
	int run = !strcmp(argv[i], "run");
	for (i++; i < argc; i++) {
		char *a = argv[i];
		if (!strcmp(a, "--")) { i++; break; }
		if (a[0] != '-' || !strcmp(a, "-")) break;
		char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		const char *v = eq ? eq + 1 : NULL;
		int *flag = NULL;
		const char **val = NULL;
		if ((nl == 8 && !strncmp(a, "--bundle", 8)) || (nl == 2 && !strncmp(a, "-b", 2))) val = &o->bundle;
		else if (nl == 10 && !strncmp(a, "--pid-file", 10)) val = &o->pid_file;
		else if (nl == 10 && !strncmp(a, "--no-pivot", 10)) flag = &o->no_pivot;
		else if (nl == 16 && !strncmp(a, "--no-new-keyring", 16)) flag = &o->no_new_keyring;
		else if (run && nl == 6 && !strncmp(a, "--keep", 6)) flag = &o->keep;
		else if (run && ((nl == 8 && !strncmp(a, "--detach", 8)) || (nl == 2 && !strncmp(a, "-d", 2)))) flag = &o->detach;
		else if (run && nl == 14 && !strncmp(a, "--no-subreaper", 14)) { static int ignored; flag = &ignored; }
		else fallback("%s option %s", run ? "run" : "create", a);
		if (flag) *flag = !v || strcmp(v, "false") != 0;
		else {
			if (!v) { if (++i >= argc) fallback("%s without a value", a); v = argv[i]; }
			*val = v;
		}
	}
	if (i >= argc) fallback("no container id");
	o->id = argv[i];
	check_id(o->id);
	o->command = !run ? "create" : o->detach ? "run -d" : "run";
}

/* ------------------------------------------------------------------ the recording */

static uint64_t fnv1a64(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* replay.ts plainPath: a bundle JSON and plan tokens carry as it is */
static int plain_path(const char *p)
{
	if (p[0] != '/' || strstr(p, "/oci-runtime-replay-bundle.") || strstr(p, "oci-runtime-replay-id.")) return 0;
	for (const char *c = p; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("._+,@=:~/-", *c))) return 0;
	return 1;
}

/* replay.ts replayKeyText */
static char *key_text(const char *root, const char *bundle, const char *config, const char *pid_file, const struct opts *o)
{
	struct buf k = { 0 };
	puts_(&k, o->command);
	puts_(&k, "\nroot=");
	puts_(&k, root);
	puts_(&k, "\nbundle=");
	puts_(&k, bundle);
	puts_(&k, "\nconfig=");
	puts_(&k, config);
	puts_(&k, "\npid-file=");
	puts_(&k, pid_file);
	puts_(&k, o->no_pivot ? "\nno-pivot=1" : "\nno-pivot=0");
	puts_(&k, o->no_new_keyring ? "\nno-new-keyring=1" : "\nno-new-keyring=0");
	puts_(&k, o->keep ? "\nkeep=1\n" : "\nkeep=0\n");
	return k.s;
}

static struct line *lines;
static int nlines;

static void read_recording(const char *file)
{
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) fallback("no recording %s", file);
	struct stat st;
	/* written by root (replay.ts) into a root-only directory: anything else is not ours to trust */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) fallback("recording %s: not root's", file);
	size_t len;
	char *text = slurp_fd(fd, MAX_RECORDING, &len);
	close(fd);
	if (!text || strlen(text) != len) fallback("recording %s: unreadable", file);
	if (len < 6 || strcmp(text + len - 5, "\nend\n")) fallback("recording %s: truncated", file);
	char *first = text, *nl = strchr(text, '\n');
	*nl = 0;
	if (strcmp(first, "oci-runtime-run-recording 1")) fallback("recording %s: another format", file);
	int end;
	lines = split_lines(first + strlen(first) + 1, &nlines, &end);
	if (!end) fallback("recording %s: no end", file);
}

static int is(const struct line *l, const char *k, int n) { return l->n == n && !strcmp(l->tok[0], k); }

static const char *arg1(const char *k)
{
	for (int i = 0; i < nlines; i++) if (lines[i].n == 2 && !strcmp(lines[i].tok[0], k)) return lines[i].tok[1];
	return NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* the controller column of /proc/self/cgroup, lines joined by "\n" (cgroups.ts cgroupLayout) */
static char *cgroup_columns(void)
{
	size_t len;
	char *t = slurp("/proc/self/cgroup", 1 << 20, &len);
	struct buf out = { 0 };
	puts_(&out, "");
	if (!t) return out.s;
	/* Node trims the text before splitting it into lines */
	while (len > 0 && strchr(" \n\t", t[len - 1])) t[--len] = 0;
	int firstl = 1;
	for (char *l = t; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl) *nl = 0;
		if (!firstl) puts_(&out, "\n");
		firstl = 0;
		char *c1 = strchr(l, ':');
		if (c1) {
			char *c2 = strchr(c1 + 1, ':');
			put(&out, c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1));
		}
		l = nl ? nl + 1 : NULL;
	}
	free(t);
	return out.s;
}

/* names in DIR (no . and ..), sorted, joined by "\n"; "" when it cannot be read */
static char *listing(const char *dir)
{
	struct buf out = { 0 };
	puts_(&out, "");
	DIR *d = opendir(dir);
	if (!d) return out.s;
	char **names = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
		if (n == cap) { cap = cap ? cap * 2 : 32; names = realloc(names, cap * sizeof *names); }
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (i) puts_(&out, "\n");
		puts_(&out, names[i]);
	}
	return out.s;
}

/* a small regular file resolved inside ROOTFS as users.ts does (symlinks and .. stay inside); NULL: none */
static char *read_in_root(const char *rootfs, const char *rel, size_t *len)
{
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) return NULL;
	struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof how);
	int e = errno;
	close(root);
	if (fd < 0) {
		/* a kernel without openat2 cannot check this fact: Node can */
		if (e == ENOSYS) fallback("openat2: %s", strerror(e));
		return NULL;
	}
	struct stat st;
	char *t = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= MAX_IN_ROOT) t = slurp_fd(fd, MAX_IN_ROOT, len);
	close(fd);
	return t;
}

static int same_text(const char *got, size_t len, const char *want)
{
	return got && strlen(want) == len && memcmp(got, want, len) == 0;
}

/* every fact the recorded run depended on (replay.ts Recording.inputs) */
static void check_inputs(void)
{
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (strcmp(l->tok[0], "input")) continue;
		const char *k = l->n > 1 ? l->tok[1] : "";
		char **t = l->tok + 2;
		size_t len = 0;
		struct stat st;
		if (is(l, "input", 4) && !strcmp(k, "file")) {
			char *got = slurp(t[0], MAX_RECORDING, &len);
			if (!same_text(got, len, t[1])) fallback("%s changed", t[0]);
			free(got);
		} else if (is(l, "input", 4) && !strcmp(k, "stat")) {
			char sig[128];
			if (stat(t[0], &st) < 0) fallback("%s: %s", t[0], strerror(errno));
			/* replay.ts fileStamp: DEV:INO:SIZE:MTIME_NS */
			snprintf(sig, sizeof sig, "%ju:%ju:%jd:%jd", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (intmax_t)st.st_size,
				(intmax_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
			if (strcmp(sig, t[1])) fallback("%s changed", t[0]);
		} else if (is(l, "input", 3) && !strcmp(k, "dir")) {
			if (stat(t[0], &st) < 0 || !S_ISDIR(st.st_mode)) fallback("%s is not a directory", t[0]);
		} else if (is(l, "input", 4) && !strcmp(k, "exists")) {
			if ((stat(t[0], &st) == 0) != (t[1][0] == '1')) fallback("%s appeared or went", t[0]);
		} else if (is(l, "input", 5) && !strcmp(k, "in-root")) {
			char *got = read_in_root(t[0], t[1], &len);
			if (!same_text(got, len, t[2])) fallback("%s/%s changed", t[0], t[1]);
			free(got);
		} else if (is(l, "input", 4) && !strcmp(k, "in-root-absent")) {
			char *got = read_in_root(t[0], t[1], &len);
			if (got) fallback("%s/%s appeared", t[0], t[1]);
		} else if (is(l, "input", 4) && !strcmp(k, "env")) {
			const char *v = getenv(t[0]);
			if (strcmp(v ? v : "", t[1])) fallback("$%s changed", t[0]);
		} else if (is(l, "input", 4) && !strcmp(k, "listing")) {
			char *got = listing(t[0]);
			if (strcmp(got, t[1])) fallback("%s changed", t[0]);
			free(got);
		} else if (is(l, "input", 3) && !strcmp(k, "cgroup-columns")) {
			char *got = cgroup_columns();
			if (strcmp(got, t[0])) fallback("/proc/self/cgroup changed");
			free(got);
		} else fallback("recording: unknown input %s", k);
	}
}

/* ------------------------------------------------------------------ doing the run */

/* S with every occurrence of FROM replaced by TO (the recording's stand-ins by our id or bundle: ids are
 * [A-Za-z0-9_+.-] and stand-in bundles plain paths, nothing to escape in JSON, paths or plan tokens) */
static char *replace(char *s, const char *from, const char *to)
{
	if (!strstr(s, from)) return s;
	struct buf b = { 0 };
	puts_(&b, "");
	size_t fl = strlen(from);
	for (char *p = s, *q; ; p = q + fl) {
		q = strstr(p, from);
		if (!q) { puts_(&b, p); break; }
		put(&b, p, (size_t)(q - p));
		puts_(&b, to);
	}
	return b.s;
}

static const char *state_dir;
static pid_t helper_pid, init_pid;
static int sync_fd = -1;

/* cgroups.ts mkdirs: each missing directory from MOUNT down to DIR; a new v1 cpuset inherits its parent's cpus, mems */
static int cg_mkdirs(const char *ctrl, const char *mount, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0) return 0;
	size_t ml = strlen(mount);
	if (strlen(dir) >= PATH_MAX) return -1;
	if (strncmp(dir, mount, ml) || (dir[ml] && dir[ml] != '/')) return -1;
	char cur[PATH_MAX], parent[PATH_MAX];
	snprintf(cur, sizeof cur, "%s", dir);
	for (char *p = cur + ml + 1; p <= cur + strlen(dir); p++) {
		if (*p && *p != '/') continue;
		char keep = *p;
		*p = 0;
		if (stat(cur, &st) < 0) {
			if (mkdir(cur, 0777) < 0 && errno != EEXIST) return -1;
			if (!strcmp(ctrl, "cpuset")) {
				snprintf(parent, sizeof parent, "%s", cur);
				*strrchr(parent, '/') = 0;
				static const char *f[] = { "cpuset.cpus", "cpuset.mems" };
				for (int i = 0; i < 2; i++) {
					char a[PATH_MAX + 16], b[PATH_MAX + 16];
					snprintf(a, sizeof a, "%s/%s", parent, f[i]);
					snprintf(b, sizeof b, "%s/%s", cur, f[i]);
					size_t la, lb;
					char *pv = slurp(a, 1 << 16, &la), *cv = slurp(b, 1 << 16, &lb);
					if (!pv || !cv) return -1;
					if (strspn(cv, " \n\t") == lb && write_file(b, pv) < 0) return -1;
					free(pv);
					free(cv);
				}
			}
		}
		*p = keep;
	}
	return 0;
}

/* cgroups.ts enableControllers (v2): every controller each level offers, enabled for the level below */
static void cg_enable(const char *mount, const char *dir)
{
	char cur[PATH_MAX];
	snprintf(cur, sizeof cur, "%s", mount);
	const char *rest = dir + strlen(mount);
	for (;;) {
		/* each level above DIR, from the mount down */
		while (*rest == '/') rest++;
		if (!*rest) break;
		char f[PATH_MAX + 32];
		size_t len;
		snprintf(f, sizeof f, "%s/cgroup.controllers", cur);
		char *offered = slurp(f, 1 << 16, &len);
		snprintf(f, sizeof f, "%s/cgroup.subtree_control", cur);
		char *enabled = slurp(f, 1 << 16, &len);
		if (offered) {
			struct buf want = { 0 };
			puts_(&want, "");
			char *save = NULL;
			for (char *c = strtok_r(offered, " \n\t", &save); c; c = strtok_r(NULL, " \n\t", &save)) {
				int on = 0;
				if (enabled) {
					char *e = strdup(enabled), *s2 = NULL;
					for (char *x = strtok_r(e, " \n\t", &s2); x; x = strtok_r(NULL, " \n\t", &s2)) if (!strcmp(x, c)) on = 1;
					free(e);
				}
				if (on) continue;
				if (want.n) puts_(&want, " ");
				puts_(&want, "+");
				puts_(&want, c);
			}
			if (want.n && write_file(f, want.s) < 0) {
				/* one by one: a controller this level cannot delegate is skipped */
				char *s3 = NULL;
				for (char *c = strtok_r(want.s, " ", &s3); c; c = strtok_r(NULL, " ", &s3)) write_file(f, c);
			}
			free(want.s);
		}
		free(offered);
		free(enabled);
		const char *end = strchr(rest, '/');
		size_t n = end ? (size_t)(end - rest) : strlen(rest);
		size_t cl = strlen(cur);
		snprintf(cur + cl, sizeof cur - cl, "/%.*s", (int)n, rest);
		rest += n;
	}
}

/* cgroups.ts destroyCgroups: each directory, waiting up to ~1 s for tasks that are still leaving */
static void cg_destroy(void)
{
	for (int i = 0; i < nlines; i++)
		if (is(&lines[i], "cgroup-dir", 2)) remove_cgroup(lines[i].tok[1]);
}

/* state.ts removeStateDir (best effort: the run is over, or is being undone) */
static void remove_state_dir(void)
{
	remove_tree(AT_FDCWD, state_dir);
}

/* undoes a replay that failed before the container's process started, then lets Node do the run */
static const char *recording_file;

static void undo_and_fallback(const char *why)
{
	/* this recording led to a failed replay: the next run goes to Node (which records again if it succeeds) */
	unlink(recording_file);
	if (init_pid > 0) kill(init_pid, SIGKILL);
	if (helper_pid > 0) {
		kill(helper_pid, SIGKILL);
		while (waitpid(helper_pid, NULL, 0) < 0 && errno == EINTR) {}
	}
	if (sync_fd >= 0) close(sync_fd);
	/* the container's init (the helper's child) is gone once it is reaped by init(1) or the subreaper: its
	 * cgroups become removable; cg_destroy waits for that */
	cg_destroy();
	remove_state_dir();
	fallback("%s", why);
}

static char created[64];

/* state.ts writeState: state.json from the recorded parts, atomically */
static int write_state(const char **parts, pid_t pid, const char *start)
{
	struct buf b = { 0 };
	char n[32];
	snprintf(n, sizeof n, "%d", (int)pid);
	puts_(&b, parts[0]);
	puts_(&b, n);
	puts_(&b, ",\"pidStart\":\"");
	puts_(&b, start);
	puts_(&b, "\"");
	puts_(&b, parts[1]);
	puts_(&b, created);
	puts_(&b, parts[2]);
	char tmp[PATH_MAX], dst[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s/.state.%d.tmp", state_dir, (int)getpid());
	snprintf(dst, sizeof dst, "%s/state.json", state_dir);
	int r = write_file(tmp, b.s) < 0 || rename(tmp, dst) < 0 ? -1 : 0;
	free(b.s);
	return r;
}

/* writes to the helper's socket: a helper gone is an error (EPIPE), not a SIGPIPE */
static int send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0) return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* the next "KEY VALUE" line from the helper; NULL at end-of-file */
static char *next_message(void)
{
	static char buf[65536];
	static size_t have;
	static size_t skip;
	if (skip) { memmove(buf, buf + skip, have - skip); have -= skip; skip = 0; }
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		if (nl) {
			*nl = 0;
			skip = (size_t)(nl - buf) + 1;
			return buf;
		}
		if (have == sizeof buf - 1) return NULL;
		ssize_t r = read(sync_fd, buf + have, sizeof buf - 1 - have);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return NULL;
		have += (size_t)r;
	}
}

static volatile sig_atomic_t forward_to;

static void forward(int sig)
{
	int e = errno;
	if (forward_to > 0) kill((pid_t)forward_to, sig);
	errno = e;
}

int main(int argc, char **argv)
{
	front_start(argc, argv, "oci-runtime-run");
	if (geteuid() != 0) fallback("not root");
	/* not dumpable, as the helper: a container without a pid namespace of its own sees this process, and its
	 * /proc/PID/exe must stay out of reach (CVE-2019-5736). Defence in depth: a container whose capabilities are
	 * not a superset of ours is refused that already (commoncap's ptrace check) */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* as Node's loader does: children see the caller's environment */
	const char *ca = getenv("OCI_NODE_EXTRA_CA_CERTS");
	if (ca) { setenv("NODE_EXTRA_CA_CERTS", ca, 1); unsetenv("OCI_NODE_EXTRA_CA_CERTS"); }

	struct opts o = { 0 };
	parse(argc, argv, &o);
	int foreground = !strcmp(o.command, "run");
	if (foreground) {
		/* like cli-runtime's runCmd, forward these to the container once it runs, and nothing before */
		static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT, SIGALRM, SIGPIPE };
		struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
		sigemptyset(&sa.sa_mask);
		for (unsigned i = 0; i < sizeof fwd / sizeof fwd[0]; i++) sigaction(fwd[i], &sa, NULL);
	}
	char *root = resolve_path(o.root), *bundle = resolve_path(o.bundle), *pid_file = o.pid_file ? resolve_path(o.pid_file) : "";
	/* paths this long are Node's to refuse (the fixed buffers below hold PATH_MAX) */
	if (strlen(root) >= PATH_MAX - 64 || strlen(bundle) >= PATH_MAX - 64 || strlen(pid_file) >= PATH_MAX - 64) fallback("a path too long");
	/* config.json's text picks the recording (its exact text is checked again with the other inputs) */
	char cfg[PATH_MAX + 16];
	snprintf(cfg, sizeof cfg, "%s/config.json", strcmp(bundle, "/") ? bundle : "");
	size_t cfg_len;
	char *cfg_text = slurp(cfg, MAX_RECORDING, &cfg_len);
	if (!cfg_text) fallback("%s: %s", cfg, strerror(errno));
	char cfg_hash[17];
	snprintf(cfg_hash, sizeof cfg_hash, "%016llx", (unsigned long long)fnv1a64(cfg_text, cfg_len));
	char dir[PATH_MAX], file[PATH_MAX + 32];
	snprintf(dir, sizeof dir, "%s/@run-plans", root);
	struct stat st;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) fallback("no recordings in %s", dir);
	/* recorded for any bundle with this config.json (a plain path, replay.ts plainPath), else for this bundle */
	const char *keyed = plain_path(bundle) ? "*" : bundle;
	char *key = key_text(root, keyed, cfg_hash, pid_file, &o);
	snprintf(file, sizeof file, "%s/%016llx", dir, (unsigned long long)fnv1a64(key, strlen(key)));
	if (access(file, F_OK) < 0 && strcmp(keyed, bundle)) {
		keyed = bundle;
		key = key_text(root, keyed, cfg_hash, pid_file, &o);
		snprintf(file, sizeof file, "%s/%016llx", dir, (unsigned long long)fnv1a64(key, strlen(key)));
	}
	read_recording(file);
	recording_file = file;
	const char *k = arg1("key");
	if (!k || strcmp(k, key)) fallback("recording %s is for another command line", file);

	/* a recording serves every id (and, keyed so, every bundle): ours in place of its stand-ins, wherever the
	 * run uses them; in the inputs, in their paths only (never in the texts compared) */
	const char *sid = arg1("id"), *sbundle = arg1("bundle");
	if (!sid || !*sid || !sbundle || !*sbundle) fallback("recording %s: no stand-ins", file);
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (!strcmp(l->tok[0], "key") || !strcmp(l->tok[0], "id") || !strcmp(l->tok[0], "bundle")) continue;
		if (!strcmp(l->tok[0], "input")) {
			if (l->n > 2) l->tok[2] = replace(replace(l->tok[2], sid, o.id), sbundle, bundle);
		} else
			for (int j = 1; j < l->n; j++) l->tok[j] = replace(replace(l->tok[j], sid, o.id), sbundle, bundle);
	}
	check_inputs();
	const char *parts[3] = { 0 }, *plan = arg1("plan");
	state_dir = arg1("state-dir");
	for (int i = 0; i < nlines; i++) if (is(&lines[i], "state", 4)) for (int j = 0; j < 3; j++) parts[j] = lines[i].tok[j + 1];
	if (!plan || !state_dir || !parts[0]) fallback("recording %s: incomplete", file);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	snprintf(created, sizeof created, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000);

	/* from here on, a failure undoes everything and lets Node do the run (and report what failed) */
	if (mkdir(state_dir, 0711) < 0) {
		/* not ours to remove: Node reports it (an existing container, say) */
		fallback("mkdir %s: %s", state_dir, strerror(errno));
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) undo_and_fallback("socketpair");
	/* the helper the recording was made with (its identity is one of the checked inputs) */
	const char *helper = arg1("helper");
	if (!helper) undo_and_fallback("recording: no helper");
	helper_pid = fork();
	if (helper_pid < 0) undo_and_fallback("fork");
	if (helper_pid == 0) {
		/* the helper's fd 3 is its sync socket; stdio is ours; nothing else crosses (helper-process.ts) */
		if (sv[1] == 3) fcntl(3, F_SETFD, 0);
		else if (dup2(sv[1], 3) < 0) _exit(127);
		syscall(SYS_close_range, 4, ~0U, 0);
		/* as helper-process.ts starts it: no signal blocked, every handler at its default */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
		char *a[] = { (char *)helper, "3", NULL };
		execv(helper, a);
		_exit(127);
	}
	close(sv[1]);
	sync_fd = sv[0];
	if (write_state(parts, 0, "") < 0) undo_and_fallback("state.json");
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (strcmp(l->tok[0], "cgroup")) continue;
		int r = 0;
		if (is(l, "cgroup", 5) && !strcmp(l->tok[1], "mkdirs")) r = cg_mkdirs(l->tok[2], l->tok[3], l->tok[4]);
		else if (is(l, "cgroup", 4) && !strcmp(l->tok[1], "enable")) cg_enable(l->tok[2], l->tok[3]);
		else if (is(l, "cgroup", 4) && !strcmp(l->tok[1], "write")) r = write_file(l->tok[2], l->tok[3]);
		else r = -1;
		if (r < 0) undo_and_fallback("cgroups");
	}
	if (send_all(sync_fd, plan, strlen(plan)) < 0) undo_and_fallback("sending the plan");
	for (;;) {
		char *m = next_message();
		if (!m) undo_and_fallback("the helper ended before the container was ready");
		if (!strncmp(m, "pid ", 4)) {
			init_pid = (pid_t)atoi(m + 4);
			char start[32], st;
			proc_stat(init_pid, &st, start, sizeof start);
			if (write_state(parts, init_pid, start) < 0) undo_and_fallback("state.json");
		} else if (!strcmp(m, "ready")) break;
		else if (strncmp(m, "debug ", 6)) undo_and_fallback(m);
	}
	if (*pid_file) {
		/* container.ts writePidFile */
		char tmp[PATH_MAX + 32], n[32];
		snprintf(tmp, sizeof tmp, "%s", pid_file);
		snprintf(strrchr(tmp, '/') + 1, 32, ".%d.pid.tmp", (int)getpid());
		snprintf(n, sizeof n, "%d", (int)init_pid);
		if (write_file(tmp, n) < 0 || rename(tmp, pid_file) < 0) undo_and_fallback("pid file");
	}
	/* create: the container's process waits for `start` on its exec fifo; nothing more to do here */
	if (!strcmp(o.command, "create")) { close(sync_fd); return 0; }
	if (send_all(sync_fd, "start\n", 6) < 0) undo_and_fallback("start");
	/* run -d: it runs; this process exits (the helper has: it reported the pid and left) */
	if (!foreground) { close(sync_fd); return 0; }
	forward_to = init_pid;
	int status = 0;
	while (waitpid(helper_pid, &status, 0) < 0 && errno == EINTR) {}
	close(sync_fd);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (!o.keep) {
		cg_destroy();
		remove_state_dir();
	}
	return code;
}
