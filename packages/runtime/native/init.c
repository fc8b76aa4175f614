/*
 * oci-runtime-init: the small part of @oci/runtime that must run between clone() and execve().
 *
 * It executes a PLAN computed by the TypeScript side from config.json (see docs/runtime.md,
 * "The plan format"). It never reads config.json. Usage:
 *
 *   oci-runtime-init SYNCFD        read the plan from SYNCFD (a socket), run it
 *   oci-runtime-init reap CMD...   run CMD as a child subreaper and reap every orphan (tests, shims)
 *   oci-runtime-init warm          keep cgroup migrations fast while the runtime starts (see warm_main)
 *
 * Processes:  A (this program, in the caller's process tree) reads the plan, joins namespaces given
 * by path, clones B with the new namespaces, writes B's uid/gid maps, cgroup membership and
 * oom_score_adj, then tells B to go and reports "pid N" on SYNCFD.  In the foreground A stays as
 * B's parent (relays the terminal, exits with B's status); otherwise it exits.  B becomes the
 * container process: mounts, pivot_root, devices, terminal, sysctls, masked/readonly paths, waits
 * for `start` (exec fifo or SYNCFD), then drops privileges (user, capabilities, no_new_privs,
 * seccomp), closes every fd it was not asked to pass, and execs.
 *
 * CVE-2019-5736: before anything else the helper re-executes itself from a sealed memfd copy, and
 * marks itself non-dumpable, so /proc/<pid>/exe of a helper process that has joined a container
 * names a sealed anonymous file: it can neither be written nor lead back to the file on disk.
 */
#include <dirent.h>
#include "lines.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <linux/bpf.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <net/if.h>
#include <sys/wait.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#define MAXL 4096

/* ---------------------------------------------------------------- plan */

static struct line *lines;
static int nlines;
static int syncfd = -1;
/* seccomp listener (linux.seccomp.listenerPath): connected by A, used by B; B's pid as the host sees it */
static int listenerfd = -1;
static long hostpid;
static int in_child;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void send_line(int fd, const char *key, const char *arg)
{
	/* percent-encode arg so the message stays one line */
	char buf[8192];
	size_t o = (size_t)snprintf(buf, sizeof buf, "%s", key);
	if (arg) {
		buf[o++] = ' ';
		for (const unsigned char *p = (const unsigned char *)arg; *p && o < sizeof buf - 4; p++) {
			if (*p <= 0x20 || *p == '%' || *p >= 0x7f)
				o += (size_t)snprintf(buf + o, 4, "%%%02X", *p);
			else
				buf[o++] = (char)*p;
		}
	}
	buf[o++] = '\n';
	ssize_t r;
	do r = write(fd, buf, o); while (r < 0 && errno == EINTR);
}

/* plan line "debug" (oci-runtime --debug): steps reported as "debug TEXT" messages, logged by the runtime */
static int debug_on;

static void dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (syncfd >= 0)
		send_line(syncfd, "error", msg);
	else
		dprintf(2, "oci-runtime-init: %s\n", msg);
	_exit(in_child ? 1 : 1);
}

static void read_plan(int fd)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 4096 > cap) { cap *= 2; buf = realloc(buf, cap); }
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) die("reading plan: %s", strerror(errno));
		if (r == 0) die("plan ended before 'end'");
		len += (size_t)r;
		buf[len] = 0;
		if (len >= 4 && (strcmp(buf + len - 4, "end\n") == 0) && (len == 4 || buf[len - 5] == '\n')) break;
	}
	int end;
	lines = split_lines(buf, &nlines, &end);
}

static int is(struct line *l, const char *k) { return strcmp(l->tok[0], k) == 0; }
static void dbg(const char *fmt, ...)
{
	if (!debug_on || syncfd < 0) return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	send_line(syncfd, "debug", msg);
}

static struct line *first(const char *k)
{
	for (int i = 0; i < nlines; i++) if (is(&lines[i], k)) return &lines[i];
	return NULL;
}
static const char *arg1(const char *k) { struct line *l = first(k); return l && l->n > 1 ? l->tok[1] : NULL; }
static unsigned long long num(const char *s) { return strtoull(s, NULL, 0); }

/* ---------------------------------------------------------------- small utils */

static void write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) die("open %s: %s", path, strerror(errno));
	size_t n = strlen(data);
	if (write(fd, data, n) != (ssize_t)n) die("write %s: %s", path, strerror(errno));
	close(fd);
}

/*
 * Writes a Linux security module attribute of this thread (/proc/thread-self/attr/NAME, the kernel's interface
 * since 5.8; else /proc/self/attr/OLD): the AppArmor profile or SELinux label of the next execve.
 * Returns 0, or -1 with errno.
 */
static int write_lsm_attr(const char *name, const char *old, const char *data)
{
	char path[128];
	snprintf(path, sizeof path, "/proc/thread-self/attr/%s", name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && old) {
		snprintf(path, sizeof path, "/proc/self/attr/%s", old);
		fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0) return -1;
	size_t n = strlen(data);
	ssize_t w = write(fd, data, n);
	int saved = errno;
	close(fd);
	if (w != (ssize_t)n) {
		errno = w < 0 ? saved : EIO;
		return -1;
	}
	return 0;
}

static int read_byte(int fd)
{
	char c;
	ssize_t r;
	do r = read(fd, &c, 1); while (r < 0 && errno == EINTR);
	return r == 1 ? (unsigned char)c : -1;
}

static void write_byte(int fd, char c)
{
	ssize_t r;
	do r = write(fd, &c, 1); while (r < 0 && errno == EINTR);
}

/* read one line from the sync socket (byte at a time: never read past the message) */
static char *read_sync_line(void)
{
	static char buf[1 << 20];
	size_t n = 0;
	for (;;) {
		int c = read_byte(syncfd);
		if (c < 0) die("sync socket closed by the runtime");
		if (c == '\n') break;
		if (n < sizeof buf - 1) buf[n++] = (char)c;
	}
	buf[n] = 0;
	return buf;
}

static int send_fd(int sock, int fd, const char *name)
{
	struct msghdr msg = {0};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	memset(cbuf, 0, sizeof cbuf);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof cbuf;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

static int recv_fd(int sock)
{
	char name[256];
	struct msghdr msg = {0};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof cbuf;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* ---------------------------------------------------------------- CVE-2019-5736: sealed self copy */

static void ensure_sealed_self(char **argv)
{
	int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0) return; /* no /proc: nothing we can do; the runtime checks /proc exists */
	int seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL)) { close(self); return; }
	struct stat st;
	if (fstat(self, &st) < 0) die("fstat self: %s", strerror(errno));
	int mfd = memfd_create("oci-runtime-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0) die("memfd_create: %s", strerror(errno));
	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
		if (n <= 0) die("copying self to memfd: %s", strerror(errno));
	}
	close(self);
	if (fchmod(mfd, 0555) < 0) die("fchmod memfd: %s", strerror(errno));
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		die("sealing memfd: %s", strerror(errno));
	extern char **environ;
	fexecve(mfd, argv, environ);
	die("fexecve sealed copy: %s", strerror(errno));
}

/* ---------------------------------------------------------------- path resolution in the rootfs */

static int have_openat2 = 1;

/* open PATH (absolute, container view) under ROOTFD without leaving the root: symlinks are resolved
 * as if ROOTFD were "/" (openat2 RESOLVE_IN_ROOT); without openat2, every component is opened with
 * O_NOFOLLOW and a symlink is refused. */
static int open_in_root(int rootfd, const char *path, int flags)
{
	while (*path == '/') path++;
	if (!*path) return openat(rootfd, ".", flags | O_CLOEXEC);
	if (have_openat2) {
		struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
		int fd;
		do fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how); while (fd < 0 && errno == EAGAIN);
		if (fd >= 0 || errno != ENOSYS) return fd;
		have_openat2 = 0;
	}
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	int cur = openat(rootfd, ".", O_PATH | O_CLOEXEC);
	char *save = NULL;
	char *c = strtok_r(buf, "/", &save);
	while (c) {
		char *next = strtok_r(NULL, "/", &save);
		if (strcmp(c, "..") == 0) { close(cur); errno = EXDEV; return -1; }
		int fd = openat(cur, c, (next ? O_PATH : flags) | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ELOOP) errno = EXDEV;
		close(cur);
		if (fd < 0) return -1;
		if (!next) return fd;
		cur = fd;
		c = next;
	}
	return cur;
}

/* open (creating missing components: directories, and the last one as a dir or file).
 * A dangling symlink is followed the way RESOLVE_IN_ROOT would, so its target is created inside
 * the root (runc's MkdirAllInRoot does the same). */
static int mkdir_depth;
static int mkdir_open_in_root(int rootfd, const char *path, int last_is_file)
{
	if (++mkdir_depth > 40) { mkdir_depth--; errno = ELOOP; return -1; }
	int fd = open_in_root(rootfd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT) { mkdir_depth--; return fd; }
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	size_t len = strlen(buf);
	while (len > 1 && buf[len - 1] == '/') buf[--len] = 0;
	char *slash = strrchr(buf, '/');
	const char *name = slash ? slash + 1 : buf;
	int parent;
	if (slash && slash != buf) { *slash = 0; parent = mkdir_open_in_root(rootfd, buf, 0); }
	else { parent = openat(rootfd, ".", O_PATH | O_CLOEXEC); if (slash) *slash = 0; }
	if (parent < 0) { mkdir_depth--; return -1; }
	int r = last_is_file ? openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644) : mkdirat(parent, name, 0755);
	if (r >= 0 && last_is_file) close(r);
	if (r < 0 && errno == EEXIST) {
		char link[PATH_MAX];
		ssize_t n = readlinkat(parent, name, link, sizeof link - 1);
		if (n > 0) {
			link[n] = 0;
			char next[PATH_MAX * 2];
			if (link[0] == '/') snprintf(next, sizeof next, "%s", link);
			else snprintf(next, sizeof next, "%s/%s", (slash && slash != buf) ? buf : "", link);
			close(parent);
			fd = mkdir_open_in_root(rootfd, next, last_is_file);
			mkdir_depth--;
			return fd;
		}
	} else if (r < 0) { close(parent); mkdir_depth--; return -1; }
	close(parent);
	mkdir_depth--;
	return open_in_root(rootfd, path, O_PATH);
}

static char *fdpath(int fd)
{
	static char b[4][64];
	static int i;
	i = (i + 1) % 4;
	snprintf(b[i], sizeof b[i], "/proc/self/fd/%d", fd);
	return b[i];
}

/* flags the kernel refuses to drop on a bind remount inside a user namespace */
static unsigned long locked_flags(const char *p)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(p, &sv) < 0) return 0;
	if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
	return f;
}

/* ---------------------------------------------------------------- mounts */

#define PROPAGATION (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)

/* tmpcopyup: copy the tree below the directory `from` into `to` (a fresh tmpfs), keeping modes, owners, times,
 * symlinks, fifos and device nodes, like runc's tmpcopyup. Nothing is followed: entries are opened with O_NOFOLLOW
 * relative to their parent fd, so a symlink in the image cannot lead the copy outside the rootfs. */
static void copy_tree(int from, int to, const char *where, int depth)
{
	if (depth > 128) die("tmpcopyup %s: directories nested too deeply", where);
	int dfd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	if (!d) die("tmpcopyup %s: %s", where, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..")) continue;
		struct stat st;
		if (fstatat(from, n, &st, AT_SYMLINK_NOFOLLOW) < 0) die("tmpcopyup %s/%s: %s", where, n, strerror(errno));
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(to, n, st.st_mode & 07777) < 0) die("tmpcopyup mkdir %s/%s: %s", where, n, strerror(errno));
			int a = openat(from, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int b = openat(to, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (a < 0 || b < 0) die("tmpcopyup %s/%s: %s", where, n, strerror(errno));
			copy_tree(a, b, n, depth + 1);
			close(a);
			close(b);
		} else if (S_ISREG(st.st_mode)) {
			int in = openat(from, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int out = openat(to, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
			if (in < 0 || out < 0) die("tmpcopyup %s/%s: %s", where, n, strerror(errno));
			for (off_t left = st.st_size; left > 0;) {
				ssize_t k = sendfile(out, in, NULL, left > (1 << 30) ? (1 << 30) : (size_t)left);
				if (k < 0 && errno == EINTR) continue;
				if (k <= 0) die("tmpcopyup %s/%s: %s", where, n, k < 0 ? strerror(errno) : "file shrank");
				left -= k;
			}
			close(in);
			close(out);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t k = readlinkat(from, n, target, sizeof target - 1);
			if (k < 0) die("tmpcopyup readlink %s/%s: %s", where, n, strerror(errno));
			target[k] = 0;
			if (symlinkat(target, to, n) < 0) die("tmpcopyup symlink %s/%s: %s", where, n, strerror(errno));
		} else if (mknodat(to, n, st.st_mode, st.st_rdev) < 0) {
			die("tmpcopyup mknod %s/%s: %s", where, n, strerror(errno));
		}
		if (fchownat(to, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
			die("tmpcopyup chown %s/%s: %s", where, n, strerror(errno));
		/* chown clears set-id bits: set the mode again */
		if (!S_ISLNK(st.st_mode) && fchmodat(to, n, st.st_mode & 07777, 0) < 0)
			die("tmpcopyup chmod %s/%s: %s", where, n, strerror(errno));
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		utimensat(to, n, ts, AT_SYMLINK_NOFOLLOW);
	}
	closedir(d);
}

/* ---------------------------------------------------------------- idmapped mounts (made by A, attached by B) */

/* per plan line: the detached, idmapped tree of a mount-idmap line (-1 elsewhere) */
static int *idmap_fds;

/* A user namespace holding MAPS ("C H S,C H S...") for uid and gid: a short-lived child unshares one, A writes its
 * maps and opens /proc/CHILD/ns/user, then lets it exit. */
static int userns_with_maps(const char *uidmap, const char *gidmap)
{
	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0) die("idmapped mount: pipe: %s", strerror(errno));
	pid_t c = fork();
	if (c < 0) die("idmapped mount: fork: %s", strerror(errno));
	if (c == 0) {
		close(ready[0]);
		close(hold[1]);
		if (unshare(CLONE_NEWUSER) < 0) _exit(1);
		write_byte(ready[1], 'u');
		read_byte(hold[0]); /* until A has what it needs */
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (read_byte(ready[0]) != 'u') die("idmapped mount: cannot create a user namespace");
	const char *maps[2] = { uidmap, gidmap };
	char p[64], buf[4096];
	for (int m = 0; m < 2; m++) {
		snprintf(buf, sizeof buf, "%s\n", maps[m]);
		for (char *q = buf; *q; q++) if (*q == ',') *q = '\n';
		snprintf(p, sizeof p, "/proc/%d/%s", c, m ? "gid_map" : "uid_map");
		write_file(p, buf);
	}
	snprintf(p, sizeof p, "/proc/%d/ns/user", c);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	int e = errno;
	close(hold[1]);
	close(ready[0]);
	waitpid(c, NULL, 0);
	if (fd < 0) die("idmapped mount: open %s: %s", p, strerror(e));
	return fd;
}

/* mount-idmap SRC DEST '' FLAGS PROPFLAGS DATA CLONE_RECURSIVE IDMAP_RECURSIVE UIDMAP GIDMAP: A clones the source
 * tree (open_tree), idmaps it (mount_setattr MOUNT_ATTR_IDMAP) while it still has the host's privileges, before any
 * namespace is joined; B attaches it at DEST with move_mount (do_mount). */
static void prepare_idmap_mounts(void)
{
	idmap_fds = calloc((size_t)nlines, sizeof *idmap_fds);
	for (int i = 0; i < nlines; i++) {
		idmap_fds[i] = -1;
		struct line *l = &lines[i];
		if (!is(l, "mount-idmap")) continue;
		if (l->n < 11) die("bad mount-idmap line");
		int t = open_tree(AT_FDCWD, l->tok[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (num(l->tok[7]) ? AT_RECURSIVE : 0));
		if (t < 0) die("idmapped mount of %s: %s", l->tok[1], strerror(errno));
		int u = userns_with_maps(l->tok[9], l->tok[10]);
		struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)u };
		if (mount_setattr(t, "", AT_EMPTY_PATH | (num(l->tok[8]) ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
			die("idmapped mount of %s: %s", l->tok[1],
			    errno == EINVAL ? "the file system (or this kernel) does not support idmapped mounts" : strerror(errno));
		close(u);
		idmap_fds[i] = t;
	}
}

static void do_mount(int rootfd, struct line *l)
{
	/* mount SRC DEST TYPE FLAGS PROPFLAGS DATA */
	if (l->n < 7) die("bad mount line");
	const char *src = l->tok[1], *dest = l->tok[2], *type = l->tok[3], *data = l->tok[6];
	unsigned long flags = (unsigned long)num(l->tok[4]), prop = (unsigned long)num(l->tok[5]);
	int bind = (flags & MS_BIND) != 0;
	int file = 0;
	if (bind) {
		struct stat st;
		if (stat(src, &st) < 0) die("bind mount source %s: %s", src, strerror(errno));
		file = !S_ISDIR(st.st_mode);
	}
	int fd = mkdir_open_in_root(rootfd, dest, file);
	if (fd < 0) die("mount destination %s: %s", dest, errno == EXDEV ? "escapes the rootfs" : strerror(errno));
	const char *target = fdpath(fd);
	/* mount-copyup: keep the directory the mount will cover open, to copy it into the new mount */
	int below = -1;
	if (is(l, "mount-copyup") && !bind && (below = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		die("tmpcopyup %s: %s", dest, strerror(errno));
	if (bind) {
		int tree = is(l, "mount-idmap") ? idmap_fds[l - lines] : -1;
		if (tree >= 0) {
			if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
				die("idmapped mount %s on %s: %s", src, dest, strerror(errno));
			close(tree);
			idmap_fds[l - lines] = -1;
		} else if (mount(src, target, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
			die("bind mount %s on %s: %s", src, dest, strerror(errno));
		unsigned long rest = flags & ~(MS_BIND | MS_REC | PROPAGATION);
		if (rest) {
			/* the target now names the new mount: reopen it */
			close(fd);
			fd = open_in_root(rootfd, dest, O_PATH);
			if (fd < 0) die("reopen %s: %s", dest, strerror(errno));
			target = fdpath(fd);
			unsigned long f = MS_BIND | MS_REMOUNT | rest | (locked_flags(target) & ~MS_RDONLY);
			if (mount(NULL, target, NULL, f, NULL) < 0)
				die("remount %s: %s", dest, strerror(errno));
		}
	} else {
		if (mount(src, target, type, flags & ~PROPAGATION, *data ? data : NULL) < 0)
			die("mount %s (%s) on %s: %s", src, type, dest, strerror(errno));
		if (below >= 0) {
			int top = open_in_root(rootfd, dest, O_RDONLY | O_DIRECTORY);
			if (top < 0) die("tmpcopyup %s: %s", dest, strerror(errno));
			copy_tree(below, top, dest, 0);
			close(top);
			close(below);
		}
	}
	if (prop) {
		close(fd);
		fd = open_in_root(rootfd, dest, O_PATH);
		if (fd < 0 || mount(NULL, fdpath(fd), NULL, prop, NULL) < 0)
			die("set propagation of %s: %s", dest, strerror(errno));
	}
	close(fd);
}

/* mount-attr DEST SET CLEAR: mount_setattr(2) with AT_RECURSIVE on DEST and every mount below it
 * (runtime-spec's rro, rnosuid, rnodev, rnoexec... which a MS_REMOUNT cannot apply to submounts) */
static void do_mount_attr(int rootfd, struct line *l)
{
	if (l->n < 4) die("bad mount-attr line");
	int fd = open_in_root(rootfd, l->tok[1], O_PATH);
	if (fd < 0) die("mount attributes of %s: %s", l->tok[1], strerror(errno));
	struct mount_attr a = { .attr_set = (uint64_t)num(l->tok[2]), .attr_clr = (uint64_t)num(l->tok[3]) };
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
		die("recursive mount attributes of %s: %s", l->tok[1],
		    errno == ENOSYS ? "this kernel has no mount_setattr (Linux 5.12 or later)" : strerror(errno));
	close(fd);
}

static void do_remount(int rootfd, struct line *l)
{
	int fd = open_in_root(rootfd, l->tok[1], O_PATH);
	if (fd < 0) die("remount %s: %s", l->tok[1], strerror(errno));
	unsigned long f = (unsigned long)num(l->tok[2]);
	if (mount(NULL, fdpath(fd), NULL, MS_REMOUNT | f | (f & MS_BIND ? locked_flags(fdpath(fd)) : 0), NULL) < 0)
		die("remount %s: %s", l->tok[1], strerror(errno));
	close(fd);
}

static int open_parent(int rootfd, const char *path, const char **name)
{
	static char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	char *slash = strrchr(buf, '/');
	*name = slash ? slash + 1 : buf;
	if (!slash || slash == buf) return openat(rootfd, ".", O_PATH | O_CLOEXEC);
	*slash = 0;
	return mkdir_open_in_root(rootfd, buf, 0);
}

static void do_device(int rootfd, struct line *l)
{
	/* device PATH TYPE MAJOR MINOR MODE UID GID BIND */
	const char *name;
	int dfd = open_parent(rootfd, l->tok[1], &name);
	if (dfd < 0) die("device %s: %s", l->tok[1], strerror(errno));
	int bind = l->n > 8 && strcmp(l->tok[8], "1") == 0;
	mode_t mode = (mode_t)num(l->tok[5]);
	if (bind) {
		int f = openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f < 0) die("device %s: %s", l->tok[1], strerror(errno));
		close(f);
		int t = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (mount(l->tok[1], fdpath(t), NULL, MS_BIND, NULL) < 0)
			die("bind device %s: %s", l->tok[1], strerror(errno));
		close(t);
	} else {
		char ty = l->tok[2][0];
		mode_t kind = ty == 'b' ? S_IFBLK : ty == 'p' ? S_IFIFO : S_IFCHR;
		unlinkat(dfd, name, 0);
		if (mknodat(dfd, name, kind | (mode & 07777), makedev(num(l->tok[3]), num(l->tok[4]))) < 0)
			die("mknod %s: %s", l->tok[1], strerror(errno));
		if (fchownat(dfd, name, (uid_t)num(l->tok[6]), (gid_t)num(l->tok[7]), AT_SYMLINK_NOFOLLOW) < 0)
			die("chown %s: %s", l->tok[1], strerror(errno));
	}
	close(dfd);
}

static void do_symlink(int rootfd, struct line *l)
{
	const char *name;
	int dfd = open_parent(rootfd, l->tok[2], &name);
	if (dfd < 0) die("symlink %s: %s", l->tok[2], strerror(errno));
	if (symlinkat(l->tok[1], dfd, name) < 0 && errno != EEXIST)
		die("symlink %s: %s", l->tok[2], strerror(errno));
	close(dfd);
}

/* pivot_root refuses a shared parent mount: make the mount that holds ROOTFS private (runc does too) */
static void make_parent_mount_private(const char *rootfs)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) die("open mountinfo: %s", strerror(errno));
	char line[4096], best[PATH_MAX] = "/";
	size_t bestlen = 0;
	while (fgets(line, sizeof line, f)) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
		/* unescape octal \040 etc. */
		char *o = mp;
		for (char *c = mp; *c; c++) {
			if (c[0] == '\\' && c[1] && c[2] && c[3]) { *o++ = (char)((c[1] - '0') * 64 + (c[2] - '0') * 8 + (c[3] - '0')); c += 3; }
			else *o++ = *c;
		}
		*o = 0;
		size_t n = strlen(mp);
		if (strcmp(mp, rootfs) == 0) continue;
		if ((n == 1 || (strncmp(rootfs, mp, n) == 0 && rootfs[n] == '/')) && n >= bestlen) { bestlen = n; snprintf(best, sizeof best, "%s", mp); }
	}
	fclose(f);
	if (mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0) die("make %s private: %s", best, strerror(errno));
}

static void do_pivot(const char *rootfs, int nopivot)
{
	if (chdir(rootfs) < 0) die("chdir rootfs: %s", strerror(errno));
	if (nopivot) {
		if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0) die("move rootfs: %s", strerror(errno));
		if (chroot(".") < 0) die("chroot: %s", strerror(errno));
	} else {
		int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (oldroot < 0 || newroot < 0) die("open roots: %s", strerror(errno));
		if (fchdir(newroot) < 0) die("fchdir: %s", strerror(errno));
		if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root: %s", strerror(errno));
		if (fchdir(oldroot) < 0) die("fchdir oldroot: %s", strerror(errno));
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) die("make oldroot rslave: %s", strerror(errno));
		if (umount2(".", MNT_DETACH) < 0) die("unmount oldroot: %s", strerror(errno));
		close(oldroot);
		close(newroot);
	}
	if (chdir("/") < 0) die("chdir /: %s", strerror(errno));
}

static void do_masked(const char *p)
{
	int root = open("/", O_PATH | O_CLOEXEC);
	int fd = open_in_root(root, p, O_PATH);
	close(root);
	if (fd < 0) { if (errno == ENOENT) return; die("masked path %s: %s", p, strerror(errno)); }
	struct stat st;
	fstat(fd, &st);
	int r = S_ISDIR(st.st_mode) ? mount("tmpfs", fdpath(fd), "tmpfs", MS_RDONLY, NULL)
				    : mount("/dev/null", fdpath(fd), NULL, MS_BIND, NULL);
	if (r < 0) die("mask %s: %s", p, strerror(errno));
	close(fd);
}

static void do_readonly(const char *p)
{
	int root = open("/", O_PATH | O_CLOEXEC);
	int fd = open_in_root(root, p, O_PATH);
	if (fd < 0) { close(root); if (errno == ENOENT) return; die("readonly path %s: %s", p, strerror(errno)); }
	if (mount(fdpath(fd), fdpath(fd), NULL, MS_BIND | MS_REC, NULL) < 0) die("bind %s: %s", p, strerror(errno));
	close(fd);
	fd = open_in_root(root, p, O_PATH);
	close(root);
	unsigned long f = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags(fdpath(fd));
	if (mount(NULL, fdpath(fd), NULL, f, NULL) < 0) die("remount ro %s: %s", p, strerror(errno));
	close(fd);
}

/* ---------------------------------------------------------------- hooks run inside the container mount ns */

static char *state_json;

static void run_hooks(const char *phase)
{
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		/* hook PHASE TIMEOUT NARGS PATH ARGS... ENV... */
		if (!is(l, "hook") || l->n < 5 || strcmp(l->tok[1], phase) != 0) continue;
		int timeout = (int)num(l->tok[2]), na = (int)num(l->tok[3]);
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
		pid_t pid = fork();
		if (pid < 0) die("fork hook: %s", strerror(errno));
		if (pid == 0) {
			dup2(p[0], 0);
			char **env = &l->tok[5 + na];
			char *args[256];
			int k = 0;
			for (int j = 0; j < na && k < 255; j++) args[k++] = l->tok[5 + j];
			if (k == 0) args[k++] = l->tok[4];
			args[k] = NULL;
			sigset_t all;
			sigemptyset(&all);
			sigprocmask(SIG_SETMASK, &all, NULL);
			execve(l->tok[4], args, env);
			dprintf(2, "hook %s: %s\n", l->tok[4], strerror(errno));
			_exit(127);
		}
		close(p[0]);
		const char *s = state_json ? state_json : "{}";
		ssize_t w = write(p[1], s, strlen(s));
		(void)w;
		close(p[1]);
		int status = 0, waited = 0;
		for (int t = 0; ; t++) {
			pid_t r = waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);
			if (r == pid) { waited = 1; break; }
			if (r < 0 && errno != EINTR) break;
			if (timeout > 0 && t >= timeout * 100) break;
			if (timeout > 0) usleep(10000);
		}
		if (!waited) { kill(pid, SIGKILL); waitpid(pid, &status, 0); die("%s hook %s timed out after %ds", phase, l->tok[4], timeout); }
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("%s hook %s failed (status %d)", phase, l->tok[4], WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

/* ---------------------------------------------------------------- process attributes */

static void set_caps(void)
{
	unsigned long long bset = 0, eff = 0, perm = 0, inh = 0, amb = 0;
	struct line *l;
	if (!first("caps")) return;
	for (int i = 0; i < nlines; i++) {
		l = &lines[i];
		if (!is(l, "caps") || l->n < 3) continue;
		unsigned long long v = num(l->tok[2]);
		const char *s = l->tok[1];
		if (!strcmp(s, "bounding")) bset = v; else if (!strcmp(s, "effective")) eff = v;
		else if (!strcmp(s, "permitted")) perm = v; else if (!strcmp(s, "inheritable")) inh = v;
		else if (!strcmp(s, "ambient")) amb = v;
	}
	int last = 40;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) { if (fscanf(f, "%d", &last) != 1) last = 40; fclose(f); }
	for (int c = 0; c <= last; c++)
		if (!(bset & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			die("drop bounding capability %d: %s", c, strerror(errno));
	(void)eff; (void)perm; (void)inh; (void)amb;
}

static void apply_caps(void)
{
	unsigned long long eff = 0, perm = 0, inh = 0, amb = 0;
	if (!first("caps")) return;
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (!is(l, "caps") || l->n < 3) continue;
		unsigned long long v = num(l->tok[2]);
		const char *s = l->tok[1];
		if (!strcmp(s, "effective")) eff = v; else if (!strcmp(s, "permitted")) perm = v;
		else if (!strcmp(s, "inheritable")) inh = v; else if (!strcmp(s, "ambient")) amb = v;
	}
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	d[0].effective = (uint32_t)eff; d[1].effective = (uint32_t)(eff >> 32);
	d[0].permitted = (uint32_t)perm; d[1].permitted = (uint32_t)(perm >> 32);
	d[0].inheritable = (uint32_t)inh; d[1].inheritable = (uint32_t)(inh >> 32);
	if (syscall(SYS_capset, &h, d) < 0) die("capset: %s", strerror(errno));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c < 64; c++)
		if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			{} /* like runc: an ambient capability that is not permitted+inheritable is skipped */
}

static void set_user(int userns_setgroups_denied)
{
	const char *u = arg1("uid"), *g = arg1("gid");
	uid_t uid = u ? (uid_t)num(u) : 0;
	gid_t gid = g ? (gid_t)num(g) : 0;
	struct line *gl = first("groups");
	if (!userns_setgroups_denied) {
		gid_t gs[256];
		int n = 0;
		if (gl) for (int i = 1; i < gl->n && n < 256; i++) gs[n++] = (gid_t)num(gl->tok[i]);
		if (setgroups((size_t)n, gs) < 0) die("setgroups: %s", strerror(errno));
	}
	if (setresgid(gid, gid, gid) < 0) die("setgid %u: %s", gid, strerror(errno));
	prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	if (setresuid(uid, uid, uid) < 0) die("setuid %u: %s", uid, strerror(errno));
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

static void load_seccomp(void)
{
	struct line *d = first("seccomp-default");
	if (!d) return;
	scmp_filter_ctx ctx = seccomp_init((uint32_t)num(d->tok[1]));
	if (!ctx) die("seccomp_init failed");
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (is(l, "seccomp-arch")) {
			uint32_t a = seccomp_arch_resolve_name(l->tok[1]);
			if (a) { int r = seccomp_arch_add(ctx, a); if (r < 0 && r != -EEXIST) die("seccomp arch %s: %s", l->tok[1], strerror(-r)); }
		} else if (is(l, "seccomp-flag")) {
			if (!strcmp(l->tok[1], "SECCOMP_FILTER_FLAG_LOG")) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
			else if (!strcmp(l->tok[1], "SECCOMP_FILTER_FLAG_SPEC_ALLOW")) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
		}
	}
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		/* seccomp-rule ACTION NAME [IDX OP V1 V2]... */
		if (!is(l, "seccomp-rule")) continue;
		uint32_t act = (uint32_t)num(l->tok[1]);
		int nr = seccomp_syscall_resolve_name(l->tok[2]);
		if (nr == __NR_SCMP_ERROR) continue; /* unknown on this kernel/arch: ignored, like runc */
		if (act == (uint32_t)num(d->tok[1])) continue;
		int na = (l->n - 3) / 4;
		struct scmp_arg_cmp cmp[6];
		int seen[6] = {0}, dup = 0;
		for (int j = 0; j < na && j < 6; j++) {
			unsigned idx = (unsigned)num(l->tok[3 + j * 4]);
			cmp[j] = (struct scmp_arg_cmp){ idx, (enum scmp_compare)num(l->tok[4 + j * 4]),
				num(l->tok[5 + j * 4]), num(l->tok[6 + j * 4]) };
			if (idx < 6) { if (seen[idx]) dup = 1; seen[idx] = 1; }
		}
		int r;
		if (!dup) r = seccomp_rule_add_array(ctx, act, nr, (unsigned)na, na ? cmp : NULL);
		else { r = 0; for (int j = 0; j < na && r == 0; j++) r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[j]); }
		if (r < 0) die("seccomp rule for %s: %s", l->tok[2], strerror(-r));
	}
	int r = seccomp_load(ctx);
	if (r < 0) die("seccomp_load: %s", strerror(-r));
	struct line *sl = first("seccomp-listener");
	if (sl && listenerfd >= 0) {
		/* the notify fd goes to the listener with the container process state, in one message */
		int nfd = seccomp_notify_fd(ctx);
		if (nfd < 0) die("seccomp listener %s: the profile has no SCMP_ACT_NOTIFY rule", sl->tok[1]);
		const char *tpl = sl->tok[2];
		char *msg = malloc(strlen(tpl) + 64), *o = msg;
		for (const char *t = tpl; *t;) {
			if (!strncmp(t, "@PID@", 5)) { o += sprintf(o, "%ld", hostpid); t += 5; }
			else *o++ = *t++;
		}
		*o = 0;
		if (send_fd(listenerfd, nfd, msg) < 0) die("send the seccomp notify fd to %s: %s", sl->tok[1], strerror(errno));
		free(msg);
		close(nfd);
		close(listenerfd);
		listenerfd = -1;
	}
	seccomp_release(ctx);
}

static const char *find_exec(const char *file, char **env, char *out)
{
	if (strchr(file, '/')) return file;
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (char **e = env; *e; e++) if (!strncmp(*e, "PATH=", 5)) path = *e + 5;
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	char *save = NULL;
	for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, PATH_MAX, "%s/%s", *d ? d : ".", file);
		struct stat st;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0) return out;
	}
	return NULL;
}

/* ---------------------------------------------------------------- terminal */

static int setup_terminal(int consolefd, int bind_console)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0) die("open /dev/ptmx: %s", strerror(errno));
	int unlock = 0;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0) die("unlockpt: %s", strerror(errno));
	int ptn;
	if (ioctl(m, TIOCGPTN, &ptn) < 0) die("ptsname: %s", strerror(errno));
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	char name[64];
	snprintf(name, sizeof name, "/dev/pts/%d", ptn);
	if (s < 0) s = open(name, O_RDWR | O_NOCTTY);
	if (s < 0) die("open pty slave: %s", strerror(errno));
	if (bind_console) {
		int f = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f >= 0) close(f);
		if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0) die("bind /dev/console: %s", strerror(errno));
	}
	if (send_fd(consolefd, m, name) < 0) die("send pty master: %s", strerror(errno));
	close(m);
	close(consolefd);
	for (int i = 0; i < 3; i++) if (dup2(s, i) < 0) die("dup2 pty: %s", strerror(errno));
	if (s > 2) close(s);
	if (ioctl(0, TIOCSCTTY, 0) < 0) die("set controlling terminal: %s", strerror(errno));
	return 0;
}

/* A, in the foreground with a terminal: relay between our stdio and the pty master until B exits */
static int relay(int master, pid_t child, int sfd)
{
	struct termios saved;
	int tty = isatty(0) && tcgetattr(0, &saved) == 0;
	if (tty) {
		struct termios raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		struct winsize ws;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
	}
	int status = 0, exited = 0, in_open = 1;
	char buf[16384];
	for (;;) {
		struct pollfd p[3] = { { master, POLLIN, 0 }, { in_open ? 0 : -1, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(p, 3, exited ? 50 : -1) < 0 && errno != EINTR) break;
		if (p[0].revents) {
			ssize_t n = read(master, buf, sizeof buf);
			if (n <= 0) { if (exited || n == 0 || errno == EIO) break; }
			else if (write(1, buf, (size_t)n) < 0) {}
		} else if (exited) break;
		if (p[1].revents) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n <= 0) in_open = 0;
			else if (write(master, buf, (size_t)n) < 0) {}
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si) {
				if (si.ssi_signo == SIGWINCH) {
					struct winsize ws;
					if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
				} else if (si.ssi_signo == SIGCHLD && waitpid(child, &status, WNOHANG) == child) exited = 1;
				else if (si.ssi_signo != SIGCHLD) kill(child, (int)si.ssi_signo);
			}
		}
	}
	if (!exited) waitpid(child, &status, 0);
	if (tty) tcsetattr(0, TCSANOW, &saved);
	return status;
}

static int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

/* ---------------------------------------------------------------- reap mode */

static int reap_main(char **argv)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) { perror("subreaper"); return 125; }
	pid_t c = fork();
	if (c == 0) { execvp(argv[0], argv); perror(argv[0]); _exit(127); }
	int st, code = 0;
	pid_t p;
	while ((p = wait(&st)) > 0 || (p < 0 && errno == EINTR))
		if (p == c) code = exit_code(st);
	return code;
}

/* ---------------------------------------------------------------- B: the container process */

/* a new network namespace starts with "lo" DOWN: bring it up, as runc does (loopback only) */
static void loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) die("socket for loopback: %s", strerror(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die("get lo flags: %s", strerror(errno));
	if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die("bring lo up: %s", strerror(errno));
	}
	close(s);
}

static int ns_flag(const char *t)
{
	if (!strcmp(t, "user")) return CLONE_NEWUSER;
	if (!strcmp(t, "mnt")) return CLONE_NEWNS;
	if (!strcmp(t, "pid")) return CLONE_NEWPID;
	if (!strcmp(t, "ipc")) return CLONE_NEWIPC;
	if (!strcmp(t, "uts")) return CLONE_NEWUTS;
	if (!strcmp(t, "net")) return CLONE_NEWNET;
	if (!strcmp(t, "cgroup")) return CLONE_NEWCGROUP;
	if (!strcmp(t, "time")) return CLONE_NEWTIME;
	return 0;
}

/*
 * cgroup v2 device rules: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup
 * (what the v1 devices controller's allow/deny files do; runc attaches one too). Plan lines, in the order v1 would
 * write them: "devrule TYPE MAJOR MINOR ACCESS ALLOW" (TYPE a|b|c, MAJOR/MINOR -1 for any, ACCESS the bits
 * BPF_DEVCG_ACC_MKNOD 1 | READ 2 | WRITE 4, ALLOW 1|0), and "devfilter DIR" for the cgroup.
 * Semantics: for each access bit the request asks for, the last rule that matches the device and has that bit
 * decides; no match denies. The program: r3 = type, r4 = access, r5 = major, r6 = minor; per bit, the rules from
 * the last to the first, each a few compares that skip to the next rule; allow jumps to the next bit, deny exits 0.
 */
#define INSN(c, d, sr, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (sr), .off = (o), .imm = (i) })
static void attach_device_filter(void)
{
	const char *dir = arg1("devfilter");
	if (!dir) return;
	int nr = 0;
	for (int i = 0; i < nlines; i++) if (is(&lines[i], "devrule")) nr++;
	/* jumps are 16-bit: a bit's section of 5 instructions per rule must stay below 32767 */
	if (nr > 4000) die("%d device rules: at most 4000 are supported", nr);
	size_t cap = 16 + (size_t)nr * 3 * 8 + 3 * 4;
	struct bpf_insn *p = calloc(cap, sizeof *p);
	int n = 0;
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0); /* access_type */
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xFFFF); /* device type */
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0);
	p[n++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_4, 0, 0, 16); /* access bits */
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 4, 0); /* major */
	p[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_6, BPF_REG_1, 8, 0); /* minor */
	static const int bits[] = { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE };
	for (int b = 0; b < 3; b++) {
		int *allow_jumps = calloc((size_t)nr + 1, sizeof *allow_jumps), na = 0;
		/* this bit not asked for: next bit */
		p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_4, 0, 0);
		p[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_7, 0, 0, bits[b]);
		int skip_bit = n;
		p[n++] = INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_7, 0, 0, 0);
		int total = 0; /* a rule that matches every device ends the search: what comes after it is unreachable */
		for (int i = nlines - 1; i >= 0 && !total; i--) {
			struct line *l = &lines[i];
			if (!is(l, "devrule") || l->n < 6) continue;
			if (!((int)num(l->tok[4]) & bits[b])) continue;
			int fails[3], nf = 0;
			long major = strtol(l->tok[2], NULL, 10), minor = strtol(l->tok[3], NULL, 10);
			char t = l->tok[1][0];
			if (t == 'b' || t == 'c') { fails[nf++] = n; p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 0, t == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR); }
			if (major >= 0) { fails[nf++] = n; p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int)major); }
			if (minor >= 0) { fails[nf++] = n; p[n++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_6, 0, 0, (int)minor); }
			if (num(l->tok[5])) {
				allow_jumps[na++] = n;
				p[n++] = INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0);
			} else {
				p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
				p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
			}
			for (int f = 0; f < nf; f++) p[fails[f]].off = (short)(n - fails[f] - 1);
			total = nf == 0;
		}
		if (!total) {
			/* nothing matched: deny */
			p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
			p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		}
		p[skip_bit].off = (short)(n - skip_bit - 1);
		for (int j = 0; j < na; j++) p[allow_jumps[j]].off = (short)(n - allow_jumps[j] - 1);
		free(allow_jumps);
	}
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

	static char vlog[65536];
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (unsigned long)p;
	a.insn_cnt = (unsigned)n;
	a.license = (unsigned long)"Apache-2.0";
	a.log_buf = (unsigned long)vlog;
	a.log_size = sizeof vlog;
	a.log_level = 1;
	int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
	if (prog < 0) {
		/* the log only says something when the load failed in the verifier */
		a.log_level = 0;
		die("load the device filter of %s (%d rules): %s%s%.200s", dir, nr, strerror(errno), *vlog ? ": " : "", vlog);
	}
	free(p);
	int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) die("open cgroup %s: %s", dir, strerror(errno));
	memset(&a, 0, sizeof a);
	a.target_fd = (unsigned)cg;
	a.attach_bpf_fd = (unsigned)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a) < 0) die("attach the device filter to %s: %s", dir, strerror(errno));
	close(cg);
	close(prog);
	dbg("device filter of %d rules (%d instructions) attached to %s", nr, n, dir);
}

static void child(int ab, int consolefd, int fifofd, int exec_mode)
{
	/* the host's /proc is still the one mounted: /proc/self names our pid in the host's pid namespace */
	char self[32];
	ssize_t sn = readlink("/proc/self", self, sizeof self - 1);
	hostpid = sn > 0 ? (self[sn] = 0, strtol(self, NULL, 10)) : (long)getpid();
	in_child = 1;
	int go = read_byte(ab);
	if (go != 'g') _exit(1);
	/* rootless: we stayed dumpable so that an unprivileged A could write our maps; now they are written */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	struct line *nsu = NULL;
	int newuser = 0, newcg = 0, newns = 0, newnet = 0;
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (!is(l, "ns")) continue;
		if (!strcmp(l->tok[1], "user")) { nsu = l; newuser = l->n < 3 || !*l->tok[2]; }
		if (!strcmp(l->tok[1], "net") && (l->n < 3 || !*l->tok[2])) newnet = 1;
		if (!strcmp(l->tok[1], "cgroup") && (l->n < 3 || !*l->tok[2])) newcg = 1;
		if (!strcmp(l->tok[1], "mnt")) newns = 1;
	}
	if (newuser) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die("become root in the user namespace: %s", strerror(errno));
	}
	(void)nsu;
	/* only a namespace we created: one joined by path belongs to someone else, leave it as it is */
	if (newnet && !exec_mode) loopback_up();
	const char *oom = arg1("oom");
	if (oom) write_file("/proc/self/oom_score_adj", oom);
	if (setsid() < 0) die("setsid: %s", strerror(errno));
	/* a session keyring of its own, like runc (unless --no-new-keyring) */
	const char *kr = arg1("keyring");
	/* the new keyring gets the process's SELinux label, as runc's SetKeyLabel */
	const char *se_key = arg1("selinux");
	if (kr && se_key && write_lsm_attr("keycreate", "keycreate", se_key) < 0)
		die("set the SELinux label of the session keyring (\"%s\"): %s", se_key, strerror(errno));
	if (kr && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, kr) < 0 && errno != ENOSYS && errno != EPERM)
		die("join session keyring: %s", strerror(errno));
	if (newcg && !exec_mode && unshare(CLONE_NEWCGROUP) < 0) die("unshare cgroup namespace: %s", strerror(errno));
	umask(0);

	const char *rootfs = arg1("rootfs");
	if (!exec_mode) {
		const char *prop = arg1("rootfs-propagation");
		unsigned long pf = prop ? (unsigned long)num(prop) : (MS_SLAVE | MS_REC);
		if (newns && mount(NULL, "/", NULL, pf, NULL) < 0) die("set / propagation: %s", strerror(errno));
		if (newns && (pf & MS_SHARED)) make_parent_mount_private(rootfs);
		if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind rootfs %s: %s", rootfs, strerror(errno));
		int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0) die("open rootfs %s: %s", rootfs, strerror(errno));
		for (int i = 0; i < nlines; i++) {
			struct line *l = &lines[i];
			if (is(l, "mount") || is(l, "mount-copyup") || is(l, "mount-idmap")) {
				dbg("mount %s on %s (%s%s)", l->tok[1], l->tok[2], *l->tok[3] ? l->tok[3] : "bind", is(l, "mount-idmap") ? ", idmapped" : "");
				do_mount(rootfd, l);
			}
			else if (is(l, "remount")) do_remount(rootfd, l);
			else if (is(l, "mount-attr")) do_mount_attr(rootfd, l);
			else if (is(l, "device")) do_device(rootfd, l);
			else if (is(l, "symlink")) do_symlink(rootfd, l);
		}
		close(rootfd);
		if (first("hooks-sync")) {
			send_line(syncfd, "hooks", NULL);
			char *r = read_sync_line();
			if (strncmp(r, "ok", 2) != 0) die("runtime refused to continue: %s", r);
			if (r[2] == ' ') state_json = strdup(decode(r + 3));
			run_hooks("createContainer");
		}
		if (!newns) {
			/* no mount namespace of its own: never pivot or move the caller's root, only chroot */
			if (chdir(rootfs) < 0 || chroot(".") < 0 || chdir("/") < 0) die("chroot %s: %s", rootfs, strerror(errno));
		} else do_pivot(rootfs, first("no-pivot") != NULL);
		dbg("%s into %s", !newns ? "chroot" : first("no-pivot") ? "moved and chrooted" : "pivot_root", rootfs);
	}
	if (first("terminal")) setup_terminal(consolefd, !exec_mode);
	else if (consolefd >= 0) close(consolefd);
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (is(l, "hostname") && sethostname(l->tok[1], strlen(l->tok[1])) < 0) die("sethostname: %s", strerror(errno));
		if (is(l, "domainname") && setdomainname(l->tok[1], strlen(l->tok[1])) < 0) die("setdomainname: %s", strerror(errno));
		if (is(l, "sysctl")) {
			char p[PATH_MAX];
			snprintf(p, sizeof p, "/proc/sys/%s", l->tok[1]);
			for (char *c = p + 10; *c; c++) if (*c == '.') *c = '/';
			write_file(p, l->tok[2]);
		}
	}
	if (!exec_mode) {
		for (int i = 0; i < nlines; i++) if (is(&lines[i], "readonly")) do_readonly(lines[i].tok[1]);
		for (int i = 0; i < nlines; i++) if (is(&lines[i], "masked")) do_masked(lines[i].tok[1]);
		if (first("readonly-root") && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
			die("remount / read-only: %s", strerror(errno));
	}
	for (int i = 0; i < nlines; i++) {
		struct line *l = &lines[i];
		if (is(l, "rlimit")) {
			struct rlimit rl = { (rlim_t)num(l->tok[2]), (rlim_t)num(l->tok[3]) };
			if (setrlimit((int)num(l->tok[1]), &rl) < 0) die("setrlimit %s: %s", l->tok[1], strerror(errno));
		}
		if (is(l, "personality") && personality((unsigned long)num(l->tok[1])) < 0) die("personality: %s", strerror(errno));
	}
	/* cwd: created if missing (as runc does), entered now so no host directory stays our cwd */
	const char *cwd = arg1("cwd");
	if (!cwd) cwd = "/";
	if (chdir(cwd) < 0) {
		int root = open("/", O_PATH | O_CLOEXEC);
		int fd = mkdir_open_in_root(root, cwd, 0);
		if (fd < 0 || chdir(cwd) < 0) die("chdir to cwd (\"%s\") set in config.json failed: %s", cwd, strerror(errno));
		close(fd);
		close(root);
	}
	/* env and the executable, checked before we report ready */
	int ne = 0, na = 0;
	for (int i = 0; i < nlines; i++) { if (is(&lines[i], "env")) ne++; if (is(&lines[i], "arg")) na++; }
	char **env = calloc((size_t)ne + 1, sizeof *env), **args = calloc((size_t)na + 1, sizeof *args);
	ne = na = 0;
	for (int i = 0; i < nlines; i++) {
		if (is(&lines[i], "env")) env[ne++] = lines[i].n > 1 ? lines[i].tok[1] : "";
		if (is(&lines[i], "arg")) args[na++] = lines[i].n > 1 ? lines[i].tok[1] : "";
	}
	if (na == 0) die("args must not be empty");
	static char found[PATH_MAX];
	const char *exe = find_exec(args[0], env, found);
	if (!exe) die("exec: \"%s\": executable file not found in $PATH", args[0]);
	if (strchr(args[0], '/')) {
		struct stat st;
		if (stat(exe, &st) < 0) die("exec: \"%s\": stat %s: %s", args[0], exe, strerror(errno));
	}
	/* AppArmor profile and SELinux label of the execve below (the runtime refused them where the host has no such
	 * module: lsm.ts); a failure fails the create or exec, never runs the process unconfined */
	const char *aa = arg1("apparmor");
	if (aa) {
		char v[4200];
		snprintf(v, sizeof v, "exec %s", aa);
		if (write_lsm_attr("apparmor/exec", "exec", v) < 0) die("apply AppArmor profile \"%s\": %s", aa, strerror(errno));
	}
	const char *se = arg1("selinux");
	if (se && write_lsm_attr("exec", NULL, se) < 0) die("apply SELinux label \"%s\": %s", se, strerror(errno));
	int nnp = first("nnp") != NULL;
	dbg("process %d ready: execve %s (%d args)%s%s", (int)getpid(), exe, na, nnp ? ", no_new_privs" : "", first("seccomp-default") ? ", seccomp" : "");
	if (!nnp) load_seccomp(); /* needs CAP_SYS_ADMIN without no_new_privs: load while we have it */

	/* report ready, then wait for start */
	send_line(syncfd, "ready", NULL);
	if (fifofd >= 0) {
		close(syncfd);
		syncfd = -1;
		int w = open(fdpath(fifofd), O_WRONLY | O_CLOEXEC);
		if (w < 0) die("open exec fifo: %s", strerror(errno));
		write_byte(w, '0');
		close(w);
		close(fifofd);
		if (first("hooks-sync")) run_hooks("startContainer");
	} else {
		char *r = read_sync_line();
		if (strncmp(r, "start", 5) != 0) _exit(1);
		if (first("hooks-sync")) run_hooks("startContainer");
		close(syncfd);
		syncfd = -1;
	}
	set_caps();
	set_user(first("setgroups-deny") != NULL);
	apply_caps();
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("no_new_privs: %s", strerror(errno));
	const char *um = arg1("umask");
	umask(um ? (mode_t)num(um) : 022);
	/* CVE-2024-21626: nothing but stdio and the preserved fds crosses execve */
	const char *pres = arg1("preserve");
	unsigned keep = 3 + (pres ? (unsigned)num(pres) : 0);
	if (syscall(SYS_close_range, keep, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		for (int fd = (int)keep; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (nnp) load_seccomp();
	execve(exe, args, env);
	dprintf(2, "oci-runtime-init: exec %s: %s\n", exe, strerror(errno));
	_exit(127);
}

/* ---------------------------------------------------------------- A */

/*
 * `oci-runtime-init warm`: keeps the kernel's cgroup migration fast while the runtime starts.
 * Moving a process between cgroups takes cgroup_threadgroup_rwsem for writing; the first writer after a quiet
 * period waits for a whole RCU grace period (rcu_sync_enter: 7-25 ms on a 2-core VM), writers that follow within
 * about one grace period of the last do not wait. The helper's move of the container's process is on the
 * critical path of create/run/exec, ~40 ms after the command started (Node's own start). bin/oci-runtime
 * starts this in the background before Node: it writes "0" (itself) into the cgroup.procs of its own cgroup,
 * a migration that moves nothing, every 4 ms, so that the grace period passes during Node's start and the state
 * stays passed; it stops when its parent (the runtime) exits, after 400 ms, or at the first failed write (no
 * cgroupfs, no permission: rootless). Nothing depends on it. See cgroups.ts cgroupWarmFile.
 */
static int warm_main(void)
{
	pid_t parent = getppid();
	char path[PATH_MAX], line[PATH_MAX];
	FILE *f = fopen("/proc/self/cgroup", "re");
	if (!f) return 0;
	int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
	path[0] = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2[1] != '/') continue;
		*c2 = 0;
		const char *ctrls = c1 + 1, *cg = c2 + 1;
		if (v2 && !*ctrls) { snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.procs", cg); break; }
		if (!v2 && *ctrls) {
			if (!strncmp(ctrls, "name=", 5)) ctrls += 5;
			int n = (int)strcspn(ctrls, ",");
			snprintf(path, sizeof path, "/sys/fs/cgroup/%.*s%s/cgroup.procs", n, ctrls, cg);
			break;
		}
	}
	fclose(f);
	if (!path[0]) return 0;
	for (int i = 0; i < 100 && getppid() == parent; i++) {
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) return 0;
		ssize_t n = write(fd, "0", 1);
		close(fd);
		if (n != 1) return 0;
		usleep(4000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "warm")) return warm_main();
	if (argc > 2 && !strcmp(argv[1], "reap")) return reap_main(argv + 2);
	if (argc < 2) { dprintf(2, "usage: oci-runtime-init SYNCFD | reap CMD... | warm\n"); return 2; }
	syncfd = atoi(argv[1]);
	ensure_sealed_self(argv);
	/* not dumpable: a container process cannot open our /proc files (CVE-2019-5736). An unprivileged (rootless)
	 * A must write B's uid/gid maps, which needs B dumpable until then: B turns it off itself once they are */
	if (geteuid() == 0) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	read_plan(syncfd);
	debug_on = first("debug") != NULL;
	dbg("helper %d: plan read", (int)getpid());
	prepare_idmap_mounts();
	const char *mode = arg1("mode");
	int exec_mode = mode && !strcmp(mode, "exec");
	int foreground = first("foreground") != NULL;

	/* console socket (detached terminal) */
	int consolefd = -1;
	const char *cs = arg1("console-socket");
	if (cs) {
		consolefd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", cs);
		if (connect(consolefd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect console socket %s: %s", cs, strerror(errno));
	}
	struct line *sl = first("seccomp-listener");
	if (sl) {
		listenerfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sl->tok[1]);
		if (connect(listenerfd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect seccomp listener %s: %s", sl->tok[1], strerror(errno));
	}
	int fifofd = -1;
	const char *fifo = arg1("fifo");
	if (fifo) {
		mode_t old = umask(0);
		if (mkfifo(fifo, 0622) < 0 && errno != EEXIST) die("mkfifo %s: %s", fifo, strerror(errno));
		umask(old);
		if ((fifofd = open(fifo, O_PATH | O_CLOEXEC)) < 0) die("open exec fifo %s: %s", fifo, strerror(errno));
	}

	int ab[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ab) < 0) die("socketpair: %s", strerror(errno));
	int tab[2] = { -1, -1 };
	if (first("terminal") && foreground && !cs) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tab) < 0) die("socketpair: %s", strerror(errno));
		consolefd = tab[1];
	}

	/* cgroup files are opened now: after joining the mount namespace (exec) they are out of sight */
	int cgfds[64], ncg = 0;
	for (int i = 0; i < nlines && ncg < 64; i++)
		if (is(&lines[i], "cgroup")) {
			int fd = open(lines[i].tok[1], O_WRONLY | O_CLOEXEC);
			if (fd < 0) die("open %s: %s", lines[i].tok[1], strerror(errno));
			cgfds[ncg++] = fd;
		}

	if (!exec_mode) attach_device_filter();

	/* join namespaces given by path (user first), collect the new ones */
	int flags = 0, newuser = 0;
	static const char *order[] = { "user", "ipc", "uts", "net", "pid", "cgroup", "time", "mnt" };
	for (int o = 0; o < 8; o++)
		for (int i = 0; i < nlines; i++) {
			struct line *l = &lines[i];
			if (!is(l, "ns") || strcmp(l->tok[1], order[o])) continue;
			int f = ns_flag(l->tok[1]);
			if (l->n > 2 && *l->tok[2]) {
				int fd = open(l->tok[2], O_RDONLY | O_CLOEXEC);
				if (fd < 0) die("open namespace %s: %s", l->tok[2], strerror(errno));
				if (setns(fd, f) < 0) die("join %s namespace %s: %s", l->tok[1], l->tok[2], strerror(errno));
				close(fd);
			} else {
				flags |= f;
				if (f == CLONE_NEWUSER) newuser = 1;
			}
		}
	if (flags & CLONE_NEWTIME) {
		if (unshare(CLONE_NEWTIME) < 0) die("unshare time namespace: %s", strerror(errno));
		for (int i = 0; i < nlines; i++)
			if (is(&lines[i], "timens")) {
				char b[128];
				snprintf(b, sizeof b, "%s %s %s", lines[i].tok[1], lines[i].tok[2], lines[i].tok[3]);
				write_file("/proc/self/timens_offsets", b);
			}
		flags &= ~CLONE_NEWTIME;
	}
	flags &= ~CLONE_NEWCGROUP; /* unshared by B once it sits in its cgroups */

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigaddset(&chld, SIGWINCH);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	dbg("clone with new namespaces 0x%x", (unsigned)flags);
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) die("clone: %s", strerror(errno));
	if (pid == 0) {
		close(ab[0]);
		if (tab[0] >= 0) close(tab[0]);
		child(ab[1], consolefd, fifofd, exec_mode);
	}
	close(ab[1]);
	if (listenerfd >= 0) close(listenerfd);
	if (tab[1] >= 0) close(tab[1]);
	if (consolefd >= 0 && tab[1] < 0) close(consolefd);
	if (fifofd >= 0) close(fifofd);

	char p[64], b[256];
	if (newuser) {
		for (int i = 0; i < nlines; i++) if (is(&lines[i], "setgroups-deny")) {
			snprintf(p, sizeof p, "/proc/%d/setgroups", pid);
			write_file(p, "deny");
		}
		static const char *maps[] = { "uidmap", "gidmap" };
		for (int m = 0; m < 2; m++) {
			char all[4096] = "";
			for (int i = 0; i < nlines; i++) if (is(&lines[i], maps[m])) {
				snprintf(b, sizeof b, "%s %s %s\n", lines[i].tok[1], lines[i].tok[2], lines[i].tok[3]);
				strncat(all, b, sizeof all - strlen(all) - 1);
			}
			snprintf(p, sizeof p, "/proc/%d/%s", pid, m ? "gid_map" : "uid_map");
			if (*all) write_file(p, all);
		}
	}
	snprintf(b, sizeof b, "%d", pid);
	for (int i = 0; i < ncg; i++) {
		if (write(cgfds[i], b, strlen(b)) < 0) die("join cgroup: %s", strerror(errno));
		close(cgfds[i]);
	}
	dbg("process %s: %s%d cgroups joined", b, newuser ? "uid/gid maps written, " : "", ncg);
	/* report the pid before B may run: its "hooks" message must never overtake it */
	send_line(syncfd, "pid", b);
	write_byte(ab[0], 'g');
	if (!foreground) return 0;

	/* foreground: stay B's parent; signals for the container come from the runtime (it knows the pid) */
	static const int ign[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU };
	for (unsigned i = 0; i < sizeof ign / sizeof ign[0]; i++) signal(ign[i], SIG_IGN);
	close(syncfd);
	syncfd = -1;
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC);
	int status = 0;
	if (tab[0] >= 0) {
		int master = recv_fd(tab[0]);
		if (master < 0) { waitpid(pid, &status, 0); return exit_code(status); }
		status = relay(master, pid, sfd);
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
	}
	return exit_code(status);
}
