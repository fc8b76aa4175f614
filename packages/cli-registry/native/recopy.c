/*
 * oci-registry-recopy: `oci-registry copy docker://… oci:DIR[:REF]` without Node, when the copy would change
 * nothing. After a copy succeeds, oci-registry (src/recopy.ts) writes into the layout a recording of what a
 * re-copy checks: the files and variables it read, its manifest requests and their answers, index.json,
 * oci-layout and the blobs it looks for. This program finds the recording of its command line, checks every
 * one of those facts again (the requests are sent again, over plain HTTP; their bodies hashed), and when all
 * agree exits 0 having written and printed nothing, which is what the copy would do. Anything it does not do,
 * or any difference, and it executes the launcher (its first argument) again with OCI_REGISTRY_NATIVE=fallback:
 * Node then runs the command as if this program did not exist. OCI_REGISTRY_NATIVE=require makes a hand-over
 * exit 125 with the reason instead (for tests). See docs/registry-client.md, "Replayed re-copies".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#define FORMAT "oci-registry-recopy 1"
#define MAX_RECORDING (1 << 20)
#define MAX_FILE (16 << 20)
#define MAX_BODY (4 << 20)
#define MAX_HEAD (64 << 10)
#define IO_TIMEOUT_MS 30000

/* Node's name (process.arch) for the architecture this program is compiled for; NULL: not one recorded here */
#if defined(__x86_64__)
#define NODE_ARCH "x64"
#elif defined(__aarch64__)
#define NODE_ARCH "arm64"
#elif defined(__i386__)
#define NODE_ARCH "ia32"
#elif defined(__s390x__)
#define NODE_ARCH "s390x"
#elif defined(__riscv) && __riscv_xlen == 64
#define NODE_ARCH "riscv64"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NODE_ARCH "ppc64"
#else
#define NODE_ARCH NULL
#endif

static int argc_g;
static char **argv_g;

/* ------------------------------------------------------------------ hand-over */

static void fallback(const char *why, ...)
{
	const char *mode = getenv("OCI_REGISTRY_NATIVE");
	if (mode && !strcmp(mode, "require")) {
		va_list ap;
		va_start(ap, why);
		dprintf(2, "oci-registry-recopy: not done natively: ");
		vdprintf(2, why, ap);
		dprintf(2, "\n");
		va_end(ap);
		exit(125);
	}
	setenv("OCI_REGISTRY_NATIVE", "fallback", 1);
	char **a = calloc((size_t)argc_g + 1, sizeof *a);
	a[0] = "sh";
	for (int i = 1; i < argc_g; i++) a[i] = argv_g[i];
	execv("/bin/sh", a);
	dprintf(2, "oci-registry: cannot execute /bin/sh %s: %s\n", argc_g > 1 ? argv_g[1] : "", strerror(errno));
	exit(127);
}

/* ------------------------------------------------------------------ SHA-256 (FIPS 180-4) */

struct sha256 { uint32_t h[8]; uint8_t buf[64]; size_t n; uint64_t len; };

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *s, const uint8_t *p)
{
	uint32_t w[64], a[8];
	for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(a, s->h, sizeof a);
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = a[7] + (ROR(a[4], 6) ^ ROR(a[4], 11) ^ ROR(a[4], 25)) + ((a[4] & a[5]) ^ (~a[4] & a[6])) + K[i] + w[i];
		uint32_t t2 = (ROR(a[0], 2) ^ ROR(a[0], 13) ^ ROR(a[0], 22)) + ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
		memmove(a + 1, a, 7 * sizeof *a);
		a[4] += t1;
		a[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++) s->h[i] += a[i];
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	memcpy(s->h, h0, sizeof h0);
	s->n = 0;
	s->len = 0;
}

static void sha256_update(struct sha256 *s, const void *data, size_t len)
{
	const uint8_t *p = data;
	s->len += len;
	while (len > 0) {
		if (s->n == 0 && len >= 64) { sha256_block(s, p); p += 64; len -= 64; continue; }
		size_t k = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, k);
		s->n += k; p += k; len -= k;
		if (s->n == 64) { sha256_block(s, s->buf); s->n = 0; }
	}
}

/* the digest as 64 lower-case hex digits */
static void sha256_hex(struct sha256 *s, char out[65])
{
	uint64_t bits = s->len * 8;
	uint8_t pad = 0x80, zero = 0, lenb[8];
	sha256_update(s, &pad, 1);
	while (s->n != 56) sha256_update(s, &zero, 1);
	for (int i = 0; i < 8; i++) lenb[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha256_update(s, lenb, 8);
	for (int i = 0; i < 8; i++) sprintf(out + 8 * i, "%08x", s->h[i]);
}

static void sha256_of(const void *data, size_t len, char out[65])
{
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, data, len);
	sha256_hex(&s, out);
}

/* ------------------------------------------------------------------ files */

/* a regular file's whole content, NUL-terminated (NULL: not a regular file, larger than max, or an error); one
 * read for the size fstat gives, and a short one to see the end (a file that grew is read to its end, up to max) */
static char *read_regular(int fd, size_t max, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) return NULL;
	size_t cap = (size_t)st.st_size + 4096, n = 0;
	char *b = malloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) { free(b); return NULL; }
		if (r == 0) break;
		n += (size_t)r;
		if (n == cap) {
			if (cap > max) { free(b); return NULL; }
			cap *= 2;
			b = realloc(b, cap + 1);
		}
	}
	b[n] = 0;
	*len = n;
	return b;
}

/* a regular file's SHA-256 (1), missing (0: ENOENT or ENOTDIR, as Node's readers treat them), or -1 */
static int file_sha256(int at, const char *path, int nofollow, char out[65], size_t *size)
{
	int fd = openat(at, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0) return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	size_t len = 0;
	char *b = read_regular(fd, MAX_FILE, &len);
	close(fd);
	if (!b) return -1;
	sha256_of(b, len, out);
	free(b);
	if (size) *size = len;
	return 1;
}

/* ------------------------------------------------------------------ the recording */

static int unhex(int c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0'; }

/* a token, decoded in place ("%" is the empty string, %XX a byte) */
static char *decode(char *s)
{
	if (!strcmp(s, "%")) { s[0] = 0; return s; }
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '%' && p[1] && p[2]) { *o++ = (char)(unhex(p[1]) * 16 + unhex(p[2])); p += 2; }
		else *o++ = *p;
	}
	*o = 0;
	return s;
}

#define MAX_TOK 256
struct line { char *tok[MAX_TOK]; int n; };

/* one line of the recording split into decoded tokens; NULL at the end of the text */
static struct line *next_line(char **cursor, struct line *ln)
{
	char *l = *cursor;
	if (!l || !*l) return NULL;
	char *nl = strchr(l, '\n');
	if (!nl) return NULL; /* every line ends with a newline; a cut-off file has no "end" */
	*nl = 0;
	*cursor = nl + 1;
	ln->n = 0;
	char *save = NULL;
	for (char *t = strtok_r(l, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (ln->n == MAX_TOK) fallback("a recording line has too many tokens");
		ln->tok[ln->n++] = decode(t);
	}
	return ln;
}

/* ------------------------------------------------------------------ the command line */

static const char *flags[] = { "quiet", "all", "src-no-creds", "src-tls-verify", "insecure-policy", "preserve-digests", NULL };
static const char *values[] = { "override-os", "override-arch", "override-variant", "jobs", "retry-times", "policy", "registries-conf",
	"format", "authfile", "src-authfile", "tmpdir", NULL };

static int listed(const char **list, const char *name, size_t len)
{
	for (; *list; list++) if (strlen(*list) == len && !strncmp(*list, name, len)) return 1;
	return 0;
}

struct command { char *key[MAX_TOK]; int n; char *dir; int quiet; };

/* what src/recopy.ts recopyCommand computes; 0: not a command this program does */
static int parse_command(int argc, char **argv, struct command *c)
{
	int positionals = 0;
	c->n = 0;
	c->quiet = 0;
	c->dir = NULL;
	if (argc < 1 || strcmp(argv[0], "copy")) return 0;
	c->key[c->n++] = "copy";
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (c->n + 2 >= MAX_TOK) return 0;
		if (a[0] == '-' && a[1]) {
			const char *name;
			size_t len;
			char *eq = NULL;
			if (a[1] == '-') {
				name = a + 2;
				eq = strchr(name, '=');
				len = eq ? (size_t)(eq - name) : strlen(name);
			} else if (a[2]) {
				return 0;
			} else {
				name = a[1] == 'q' ? "quiet" : a[1] == 'a' ? "all" : a[1] == 'f' ? "format" : NULL;
				if (!name) return 0;
				len = strlen(name);
			}
			if (listed(flags, name, len)) {
				if (eq && strcmp(eq, "=true") && strcmp(eq, "=false")) return 0;
				if (!eq && i + 1 < argc && (!strcmp(argv[i + 1], "true") || !strcmp(argv[i + 1], "false"))) return 0;
				if (len == 5 && !strncmp(name, "quiet", 5)) c->quiet = !eq || !strcmp(eq, "=true");
				c->key[c->n++] = a;
			} else if (listed(values, name, len)) {
				if (eq) {
					if (!eq[1]) return 0;
					c->key[c->n++] = a;
				} else {
					if (i + 1 >= argc || !argv[i + 1][0] || argv[i + 1][0] == '-') return 0;
					c->key[c->n++] = a;
					c->key[c->n++] = argv[++i];
				}
			} else {
				return 0;
			}
			continue;
		}
		positionals++;
		if (positionals == 1) {
			if (strncmp(a, "docker://", 9)) return 0;
			c->key[c->n++] = a;
		} else if (positionals == 2) {
			if (strncmp(a, "oci:", 4)) return 0;
			const char *rest = a + 4;
			const char *colon = strchr(rest, ':');
			size_t dlen = colon ? (size_t)(colon - rest) : strlen(rest);
			if (dlen == 0) return 0;
			c->dir = strndup(rest, dlen);
			const char *ref = colon ? colon + 1 : "";
			char *t = malloc(strlen(ref) + 7);
			sprintf(t, "oci:*:%s", ref);
			c->key[c->n++] = t;
		} else {
			return 0;
		}
	}
	return positionals == 2;
}

/* FNV-1a (64 bits) of the key's arguments joined by NUL: the recording's file name */
static void recording_name(struct command *c, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < c->n; i++) {
		if (i > 0) h = (h ^ 0) * 0x100000001b3ULL;
		for (const unsigned char *p = (const unsigned char *)c->key[i]; *p; p++) h = (h ^ *p) * 0x100000001b3ULL;
	}
	sprintf(out, "%016llx", (unsigned long long)h);
}

/* ------------------------------------------------------------------ HTTP */

static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	for (;;) {
		int r = poll(&p, 1, IO_TIMEOUT_MS);
		if (r < 0 && errno == EINTR) continue;
		return r;
	}
}

static int connect_to(const char *hostport)
{
	char host[256], port[16];
	const char *colon = strrchr(hostport, ':');
	if (!colon || (size_t)(colon - hostport) >= sizeof host || strlen(colon + 1) >= sizeof port) return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = 0;
	strcpy(port, colon + 1);
	char *h = host;
	if (h[0] == '[') { h++; char *e = strchr(h, ']'); if (!e) return -1; *e = 0; }
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	if (getaddrinfo(h, port, &hints, &res) != 0) return -1;
	int fd = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
		if (errno == EINPROGRESS && wait_fd(fd, POLLOUT) > 0) {
			int err = 0;
			socklen_t l = sizeof err;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0) break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0 && errno == EAGAIN) { if (wait_fd(fd, POLLOUT) <= 0) return -1; continue; }
		if (w <= 0) return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* reads until the peer closes (the request said Connection: close) or MAX_HEAD + MAX_BODY bytes */
static char *recv_all(int fd, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > MAX_HEAD + MAX_BODY) { free(b); return NULL; }
			cap *= 2;
			b = realloc(b, cap);
		}
		ssize_t r = recv(fd, b + n, cap - n - 1, 0);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0 && errno == EAGAIN) { if (wait_fd(fd, POLLIN) <= 0) { free(b); return NULL; } continue; }
		if (r < 0) { free(b); return NULL; }
		if (r == 0) break;
		n += (size_t)r;
	}
	b[n] = 0;
	*len = n;
	return b;
}

struct answer { int status; char *content_type; char *dcd; char *body; size_t body_len; };

/* the value of header NAME in HEAD (lines after the status line), trimmed; NULL when absent */
static char *header_value(char *head, const char *name)
{
	size_t nl = strlen(name);
	for (char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
		char *s = l + 2;
		if (!strncasecmp(s, name, nl) && s[nl] == ':') {
			char *v = s + nl + 1;
			while (*v == ' ' || *v == '\t') v++;
			char *e = strstr(v, "\r\n");
			size_t len = e ? (size_t)(e - v) : strlen(v);
			while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
			return strndup(v, len);
		}
	}
	return NULL;
}

/* decodes a chunked body in place; -1 when malformed */
static long dechunk(char *p, size_t n)
{
	char *in = p, *end = p + n, *out = p;
	for (;;) {
		char *e = NULL;
		unsigned long size = strtoul(in, &e, 16);
		if (e == in) return -1;
		char *crlf = strstr(e, "\r\n");
		if (!crlf || crlf >= end) return -1;
		in = crlf + 2;
		if (size == 0) return out - p;
		if (size > (size_t)(end - in) || (size_t)(end - in) - size < 2) return -1; /* no overflow for a huge size */
		memmove(out, in, size);
		out += size;
		in += size + 2;
	}
}

/* GET PATH from HOSTPORT; 0 with the answer, -1 when there was none */
static int http_get(const char *hostport, const char *path, const char *accept, const char *ua, struct answer *a)
{
	int fd = connect_to(hostport);
	if (fd < 0) return -1;
	size_t cap = strlen(hostport) + strlen(path) + strlen(accept) + strlen(ua) + 128;
	char *req = malloc(cap);
	int n = snprintf(req, cap, "GET %s HTTP/1.1\r\nhost: %s\r\nuser-agent: %s\r\n%s%s%sconnection: close\r\n\r\n", path, hostport, ua,
		*accept ? "accept: " : "", accept, *accept ? "\r\n" : "");
	int sent = send_all(fd, req, (size_t)n);
	free(req);
	size_t len = 0;
	char *resp = sent == 0 ? recv_all(fd, &len) : NULL;
	close(fd);
	if (!resp) return -1;
	char *body;
	for (;;) {
		char *hend = strstr(resp, "\r\n\r\n");
		if (!hend || hend - resp > MAX_HEAD || strncmp(resp, "HTTP/1.", 7)) return -1;
		a->status = atoi(resp + 9);
		body = hend + 4;
		if (a->status >= 100 && a->status < 200) { memmove(resp, body, len - (size_t)(body - resp) + 1); len -= (size_t)(body - resp); continue; }
		*hend = 0;
		break;
	}
	size_t blen = len - (size_t)(body - resp);
	char *te = header_value(resp, "transfer-encoding");
	char *cl = header_value(resp, "content-length");
	if (te && !strcasecmp(te, "chunked")) {
		long d = dechunk(body, blen);
		if (d < 0) return -1;
		blen = (size_t)d;
	} else if (te) {
		return -1;
	} else if (cl) {
		char *e;
		unsigned long v = strtoul(cl, &e, 10);
		if (*e || v > blen) return -1;
		blen = v;
	}
	free(te);
	free(cl);
	if (blen > MAX_BODY) return -1;
	a->content_type = header_value(resp, "content-type");
	a->dcd = header_value(resp, "docker-content-digest");
	a->body = body;
	a->body_len = blen;
	return 0;
}

/* ------------------------------------------------------------------ checks */

static int is_token(const char *s, const char *chars)
{
	if (!*s) return 0;
	for (; *s; s++) if (!strchr(chars, *s)) return 0;
	return 1;
}

/* the recording's directory and file, opened below the layout without following a symbolic link; ours alone */
static int open_recording(int layout, const char *name)
{
	struct open_how dir_how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
	int dir = (int)syscall(SYS_openat2, layout, ".oci-ts/recopy", &dir_how, sizeof dir_how);
	if (dir < 0) return -1;
	struct stat st;
	if (fstat(dir, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & 07777) != 0700) { close(dir); fallback("the recordings' directory is not ours alone"); }
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
	int fd = (int)syscall(SYS_openat2, dir, name, &how, sizeof how);
	close(dir);
	if (fd < 0) return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) || st.st_size > MAX_RECORDING) {
		close(fd);
		fallback("the recording is not a file of ours alone");
	}
	return fd;
}

/* the installed bundle's SHA-256 (dist/oci-registry.cjs.sha256 beside this program's native/) */
static char *bundle_hash(void)
{
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 64);
	if (n <= 0) return NULL;
	exe[n] = 0;
	for (int up = 0; up < 2; up++) { char *s = strrchr(exe, '/'); if (!s) return NULL; *s = 0; }
	strcat(exe, "/dist/oci-registry.cjs.sha256");
	int fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	size_t len;
	char *b = read_regular(fd, 256, &len);
	close(fd);
	if (b) b[strcspn(b, "\r\n")] = 0;
	return b;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* the *.conf names of DIR, sorted (as registries-conf.ts reads the drop-ins); -1: cannot be listed */
static int conf_names(const char *path, char ***out)
{
	DIR *d = opendir(path);
	if (!d) return -1;
	int n = 0, cap = 16;
	char **names = malloc((size_t)cap * sizeof *names);
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 5, ".conf")) continue;
		if (n == cap) { cap *= 2; names = realloc(names, (size_t)cap * sizeof *names); }
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof *names, cmp_str);
	*out = names;
	return n;
}

int main(int argc, char **argv)
{
	argc_g = argc;
	argv_g = argv;
	if (argc < 2) { dprintf(2, "usage: oci-registry-recopy LAUNCHER copy ARGS...\n"); return 2; }
	struct command c;
	if (!parse_command(argc - 2, argv + 2, &c)) fallback("not a copy from docker:// to oci: with options this program knows");
	if (!c.quiet && isatty(2)) fallback("progress bars on a terminal");

	int layout = open(c.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (layout < 0) fallback("no layout at %s", c.dir);
	char name[17];
	recording_name(&c, name);
	int rfd = open_recording(layout, name);
	if (rfd < 0) fallback("no recording of this command in %s", c.dir);
	size_t rlen;
	char *text = read_regular(rfd, MAX_RECORDING, &rlen);
	close(rfd);
	if (!text) fallback("the recording cannot be read");

	char *cursor = text;
	struct line ln;
	if (!next_line(&cursor, &ln) || ln.n != 2 || strcmp(ln.tok[0], "oci-registry-recopy") || strcmp(ln.tok[1], "1")) fallback("not a recording of this version");
	int have_key = 0, have_platform = 0, have_bundle = 0, have_layout = 0, have_index = 0, gets = 0, ended = 0;
	char hex[65];
	size_t size;
	while (next_line(&cursor, &ln)) {
		if (ln.n == 0) continue;
		const char *k = ln.tok[0];
		if (!strcmp(k, "end") && ln.n == 1) { ended = 1; break; }
		if (!strcmp(k, "key")) {
			if (ln.n - 1 != c.n) fallback("another command's recording");
			for (int i = 0; i < c.n; i++) if (strcmp(ln.tok[i + 1], c.key[i])) fallback("another command's recording");
			have_key = 1;
		} else if (!strcmp(k, "platform") && ln.n == 3) {
			/* Node's process.platform and process.arch, which choose an index's image (the C compiler's target
			 * is the machine's, as the Node binary's is) */
			if (strcmp(ln.tok[1], "linux") || !NODE_ARCH || strcmp(ln.tok[2], NODE_ARCH)) fallback("recorded on another platform");
			have_platform = 1;
		} else if (!strcmp(k, "bundle") && ln.n == 2) {
			char *h = bundle_hash();
			if (!h || strcmp(h, ln.tok[1])) fallback("oci-registry changed since the recording");
			have_bundle = 1;
		} else if (!strcmp(k, "env") && ln.n == 3) {
			const char *v = getenv(ln.tok[1]);
			if (!v || strcmp(v, ln.tok[2])) fallback("$%s changed", ln.tok[1]);
		} else if (!strcmp(k, "unset") && ln.n == 2) {
			if (getenv(ln.tok[1])) fallback("$%s is set", ln.tok[1]);
		} else if (!strcmp(k, "file") && ln.n == 3) {
			if (file_sha256(AT_FDCWD, ln.tok[1], 0, hex, NULL) != 1 || strcmp(hex, ln.tok[2])) fallback("%s changed", ln.tok[1]);
		} else if (!strcmp(k, "nofile") && ln.n == 2) {
			if (file_sha256(AT_FDCWD, ln.tok[1], 0, hex, NULL) != 0) fallback("%s exists now", ln.tok[1]);
		} else if (!strcmp(k, "dir") || !strcmp(k, "nodir")) {
			if (ln.n < 2) fallback("a malformed recording");
			char **names = NULL;
			int n = conf_names(ln.tok[1], &names);
			int want = !strcmp(k, "nodir") ? -1 : ln.n - 2;
			if (n != want) fallback("%s changed", ln.tok[1]);
			for (int i = 0; i < n; i++) if (strcmp(names[i], ln.tok[i + 2])) fallback("%s changed", ln.tok[1]);
		} else if (!strcmp(k, "layout") && ln.n == 2) {
			struct stat st;
			if (file_sha256(layout, "oci-layout", 1, hex, NULL) != 1 || strcmp(hex, ln.tok[1])) fallback("oci-layout changed");
			if (fstatat(layout, "blobs", &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) fallback("blobs/ is not a directory");
			have_layout = 1;
		} else if (!strcmp(k, "index") && ln.n == 3) {
			if (file_sha256(layout, "index.json", 1, hex, &size) != 1 || strcmp(hex, ln.tok[1]) || size != strtoull(ln.tok[2], NULL, 10)) fallback("index.json changed");
			have_index = 1;
		} else if (!strcmp(k, "blob") && ln.n == 4) {
			if (!have_layout || !is_token(ln.tok[1], "abcdefghijklmnopqrstuvwxyz0123456789") || !is_token(ln.tok[2], "0123456789abcdef")) fallback("a malformed recording");
			char path[512];
			struct stat st;
			snprintf(path, sizeof path, "blobs/%s", ln.tok[1]);
			if (fstatat(layout, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) fallback("%s is not a directory", path);
			snprintf(path, sizeof path, "blobs/%s/%s", ln.tok[1], ln.tok[2]);
			if (fstatat(layout, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size != strtoull(ln.tok[3], NULL, 10)) {
				fallback("blob %s:%s is missing", ln.tok[1], ln.tok[2]);
			}
		} else if (!strcmp(k, "get") && ln.n == 9) {
			struct answer a = { 0 };
			if (http_get(ln.tok[1], ln.tok[2], ln.tok[3], ln.tok[4], &a) != 0) fallback("GET http://%s%s had no answer", ln.tok[1], ln.tok[2]);
			if (a.status != atoi(ln.tok[5])) fallback("GET http://%s%s answered %d", ln.tok[1], ln.tok[2], a.status);
			/* a manifest: what Node takes from the answer (the probe of /v2/ is judged by its status alone) */
			if (ln.tok[8][0]) {
				if (strcmp(a.content_type ? a.content_type : "", ln.tok[6]) || strcmp(a.dcd ? a.dcd : "", ln.tok[7])) fallback("GET http://%s%s: other headers", ln.tok[1], ln.tok[2]);
				sha256_of(a.body, a.body_len, hex);
				if (strcmp(hex, ln.tok[8])) fallback("GET http://%s%s: another manifest", ln.tok[1], ln.tok[2]);
			}
			gets++;
		} else {
			fallback("a recording line this program does not know: %s", k);
		}
	}
	if (!ended || !have_key || !have_platform || !have_bundle || !have_layout || !have_index || gets == 0) fallback("an incomplete recording");
	/* everything a re-copy looks at is as it was after the recorded copy: it would change nothing and print nothing */
	return 0;
}
