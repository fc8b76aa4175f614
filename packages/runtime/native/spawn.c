/*
 * oci-spawn.node: starts the runtime helper (oci-runtime-init) without node:child_process.
 *
 * Why: `oci-runtime run` is a short process whose cost is start-up. Loading node:child_process (and the net
 * and stream modules it pulls in) costs ~5 ms, a libuv spawn forks the whole Node process (~4-6 ms here:
 * page tables of ~45 MB, then copy-on-write faults in the parent), and the sync socket's stream set-up
 * another few ms. This addon does the same job with posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK), no
 * page-table copy) and a plain socketpair; the TypeScript side talks over the socket with fs calls.
 * See docs/runtime.md, "Starting the helper". Node-API only (ABI-stable), built by native/Makefile from the
 * Node headers of the machine; when it is not built, @oci/runtime falls back to node:child_process.
 *
 *   spawn(file, argv, fds)  -> [pid, syncFd]   child fd i = fds[i] (-1: /dev/null), child fd fds.length = the
 *                                             other end of a new socketpair; every other fd of ours is CLOEXEC
 *   wait(pid, callback)     -> handle           callback(code, signal) when pid exits (a thread blocked in
 *                                             waitpid; libuv reaps only the children it started)
 *   reader(fd, callback)    -> handle           callback(chunk) for each read from the socket fd (latin1: the
 *                                             protocol is ASCII), callback(null) at end-of-file or error; a
 *                                             thread blocked in read(), so no libuv threadpool is started
 *   unref(handle)                               the wait or reader no longer keeps the event loop alive
 *   shutdown(fd)                                shutdown(SHUT_RDWR): ends a read blocked on the socket
 *   warm(file, data)                            opens FILE for writing and writes DATA on a detached thread, best
 *                                             effort (the cgroup migration warm-up, see cgroups.ts)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <node_api.h>

extern char **environ;

#define CHECK(call)                                                                                          \
	do {                                                                                                 \
		if ((call) != napi_ok) return NULL;                                                          \
	} while (0)

static napi_value throw_errno(napi_env env, int err, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
	const char *name = err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : err == EMFILE ? "EMFILE" : err == ENOMEM ? "ENOMEM" : "ESPAWN";
	napi_throw_error(env, name, msg);
	return NULL;
}

static char *get_string(napi_env env, napi_value v)
{
	size_t len;
	if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
	char *s = malloc(len + 1);
	if (!s) return NULL;
	napi_get_value_string_utf8(env, v, s, len + 1, &len);
	return s;
}

static napi_value Spawn(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value args[3];
	CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
	if (argc < 3) {
		napi_throw_type_error(env, NULL, "spawn(file, argv, fds)");
		return NULL;
	}
	uint32_t nargs, nfds;
	CHECK(napi_get_array_length(env, args[1], &nargs));
	CHECK(napi_get_array_length(env, args[2], &nfds));
	if (nfds > 1024) {
		napi_throw_range_error(env, NULL, "too many fds");
		return NULL;
	}

	napi_value result = NULL;
	int err = 0;
	const char *what = "spawn";
	char *file = get_string(env, args[0]);
	char **argv = calloc(nargs + 1, sizeof *argv);
	int *high = malloc((nfds + 1) * sizeof *high);
	int sv[2] = { -1, -1 }, nhigh = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int fa_ok = 0, attr_ok = 0;
	if (!file || !argv || !high) { err = ENOMEM; goto out; }
	for (uint32_t i = 0; i < nargs; i++) {
		napi_value v;
		if (napi_get_element(env, args[1], i, &v) != napi_ok || !(argv[i] = get_string(env, v))) { err = EINVAL; goto out; }
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) { err = errno; what = "socketpair"; goto out; }
	/* every source first gets a CLOEXEC copy above the targets, so that dup2(copy, i) never clobbers a
	 * source not yet placed (a preserved fd 3 and the socket at 3, say); dup2 clears CLOEXEC on the target */
	for (uint32_t i = 0; i <= nfds; i++) {
		int src;
		if (i == nfds) src = sv[1];
		else {
			napi_value v;
			int32_t fd;
			if (napi_get_element(env, args[2], i, &v) != napi_ok || napi_get_value_int32(env, v, &fd) != napi_ok) { err = EINVAL; goto out; }
			src = fd;
		}
		int opened = -1;
		if (src < 0) src = opened = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (src < 0) { err = errno; what = "open /dev/null"; goto out; }
		int h = fcntl(src, F_DUPFD_CLOEXEC, (int)nfds + 1);
		int e = errno;
		if (opened >= 0) close(opened);
		if (h < 0) { err = e; what = "dup"; goto out; }
		high[nhigh++] = h;
	}
	if ((err = posix_spawn_file_actions_init(&fa))) goto out;
	fa_ok = 1;
	for (int i = 0; i < nhigh; i++)
		if ((err = posix_spawn_file_actions_adddup2(&fa, high[i], i))) goto out;
	if ((err = posix_spawnattr_init(&attr))) goto out;
	attr_ok = 1;
	/* the helper starts with no signal blocked and every handler at its default (Node ignores SIGPIPE) */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	if ((err = posix_spawn(&pid, file, &fa, &attr, argv, environ))) { what = file; goto out; }

	napi_value vpid, vfd;
	if (napi_create_array_with_length(env, 2, &result) == napi_ok && napi_create_int32(env, pid, &vpid) == napi_ok &&
	    napi_create_int32(env, sv[0], &vfd) == napi_ok) {
		napi_set_element(env, result, 0, vpid);
		napi_set_element(env, result, 1, vfd);
		sv[0] = -1;
	}
out:
	if (fa_ok) posix_spawn_file_actions_destroy(&fa);
	if (attr_ok) posix_spawnattr_destroy(&attr);
	for (int i = 0; i < nhigh; i++) close(high[i]);
	if (sv[0] >= 0) close(sv[0]);
	if (sv[1] >= 0) close(sv[1]);
	if (argv)
		for (uint32_t i = 0; i < nargs; i++) free(argv[i]);
	free(argv);
	free(high);
	free(file);
	if (err) return throw_errno(env, err, what);
	return result;
}

/* a thread blocked on one thing (waitpid of a pid, read of an fd) that reports through a thread-safe function */
struct watch {
	int32_t arg; /* the pid or the fd */
	int status;
	napi_threadsafe_function tsfn;
};

static void *wait_thread(void *p)
{
	struct watch *w = p;
	int st = 0;
	while (waitpid(w->arg, &st, __WALL) < 0) {
		if (errno != EINTR) { st = -1; break; }
	}
	w->status = st;
	/* napi_closing: the environment is going away (the process exits); the tsfn must not be touched again */
	if (napi_call_threadsafe_function(w->tsfn, w, napi_tsfn_blocking) == napi_closing) return NULL;
	napi_release_threadsafe_function(w->tsfn, napi_tsfn_release);
	return NULL;
}

static void call_js(napi_env env, napi_value cb, void *context, void *data)
{
	struct watch *w = data;
	if (env && cb) {
		napi_value argv[2], undef;
		int st = w->status;
		int code = st == -1 ? 255 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		int sig = st != -1 && WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		napi_get_undefined(env, &undef);
		if (code < 0) napi_get_null(env, &argv[0]);
		else napi_create_int32(env, code, &argv[0]);
		napi_create_int32(env, sig, &argv[1]);
		napi_call_function(env, undef, cb, 2, argv, NULL);
	}
}

static void finalize_watch(napi_env env, void *data, void *hint)
{
	free(data);
}

static int start_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 64 * 1024);
	int err = pthread_create(&t, &a, fn, arg);
	pthread_attr_destroy(&a);
	return err;
}

/* wait(pid, cb) and reader(fd, cb): start a watch thread, return its tsfn as an external (for unref) */
static napi_value start_watch(napi_env env, napi_callback_info info, const char *what, napi_threadsafe_function_call_js call_js, void *(*fn)(void *))
{
	size_t argc = 2;
	napi_value args[2], name, handle;
	CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
	int32_t arg;
	CHECK(napi_get_value_int32(env, args[0], &arg));
	struct watch *w = calloc(1, sizeof *w);
	if (!w) return throw_errno(env, ENOMEM, what);
	w->arg = arg;
	CHECK(napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &name));
	if (napi_create_threadsafe_function(env, args[1], NULL, name, 0, 1, w, finalize_watch, NULL, call_js, &w->tsfn) != napi_ok) {
		free(w);
		return NULL;
	}
	int err = start_thread(fn, w);
	if (err) {
		napi_release_threadsafe_function(w->tsfn, napi_tsfn_abort);
		return throw_errno(env, err, "pthread_create");
	}
	CHECK(napi_create_external(env, w->tsfn, NULL, NULL, &handle));
	return handle;
}

static napi_value Wait(napi_env env, napi_callback_info info)
{
	return start_watch(env, info, "oci-spawn-wait", call_js, wait_thread);
}

struct chunk {
	size_t len; /* 0: end of file */
	char data[];
};

static void *reader_thread(void *p)
{
	struct watch *r = p;
	char buf[16384];
	for (;;) {
		ssize_t n = read(r->arg, buf, sizeof buf);
		if (n < 0 && errno == EINTR) continue;
		struct chunk *c = malloc(sizeof *c + (n > 0 ? (size_t)n : 0));
		if (!c) n = 0;
		else {
			c->len = n > 0 ? (size_t)n : 0;
			if (n > 0) memcpy(c->data, buf, (size_t)n);
		}
		if (c && napi_call_threadsafe_function(r->tsfn, c, napi_tsfn_blocking) == napi_closing) {
			free(c);
			return NULL;
		}
		if (n <= 0) break;
	}
	napi_release_threadsafe_function(r->tsfn, napi_tsfn_release);
	return NULL;
}

static void reader_call_js(napi_env env, napi_value cb, void *context, void *data)
{
	struct chunk *c = data;
	if (env && cb && c) {
		napi_value arg, undef;
		napi_get_undefined(env, &undef);
		if (c->len) napi_create_string_latin1(env, c->data, c->len, &arg);
		else napi_get_null(env, &arg);
		napi_call_function(env, undef, cb, 1, &arg, NULL);
	}
	free(c);
}

static napi_value Reader(napi_env env, napi_callback_info info)
{
	return start_watch(env, info, "oci-spawn-reader", reader_call_js, reader_thread);
}

struct warm {
	char *file;
	char *data;
};

static void free_warm(struct warm *w)
{
	free(w->file);
	free(w->data);
	free(w);
}

static void *warm_thread(void *p)
{
	struct warm *w = p;
	int fd = open(w->file, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = write(fd, w->data, strlen(w->data));
		(void)n;
		close(fd);
	}
	free_warm(w);
	return NULL;
}

static napi_value Warm(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value args[2];
	CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
	struct warm *w = calloc(1, sizeof *w);
	if (!w) return NULL;
	w->file = get_string(env, args[0]);
	w->data = get_string(env, args[1]);
	if (!w->file || !w->data || start_thread(warm_thread, w)) free_warm(w);
	return NULL;
}

static napi_value Unref(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value arg;
	void *tsfn;
	CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
	CHECK(napi_get_value_external(env, arg, &tsfn));
	napi_unref_threadsafe_function(env, tsfn);
	return NULL;
}

static napi_value Shutdown(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value arg;
	int32_t fd;
	CHECK(napi_get_cb_info(env, info, &argc, &arg, NULL, NULL));
	CHECK(napi_get_value_int32(env, arg, &fd));
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static napi_value Init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{ "spawn", NULL, Spawn, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "wait", NULL, Wait, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "reader", NULL, Reader, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "warm", NULL, Warm, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "unref", NULL, Unref, NULL, NULL, NULL, napi_enumerable, NULL },
		{ "shutdown", NULL, Shutdown, NULL, NULL, NULL, napi_enumerable, NULL },
	};
	napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
