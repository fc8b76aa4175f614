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
 *
 * Into a directory that does not exist yet, it makes the layout itself (cold_copy) from a recording in the user's
 * cache: of the same command line ("Replayed cold copies"), or of the same command line for any image of the
 * same registry, whose manifest it then asks for and reads (any_plan; "Cold copies of other images of the
 * registry").
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <netdb.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include <sys/random.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>

#define MAX_RECORDING (1 << 20)
#define MAX_FILE (16 << 20)
#define MAX_BODY (4 << 20)
#define MAX_HEAD (64 << 10)
/* a registry silent this long: Node takes over (its own timeouts and retries are longer) */
#define IO_TIMEOUT_MS 10000

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
/* SIGINT or SIGTERM during a cold copy: it stops as Node's copy stops (commands/copy.ts, main.ts: ERR_INTERRUPTED, status 130) */
static atomic_int interrupted; /* lock-free: set by the handler on one thread, read by the fetchers on theirs */

/* ------------------------------------------------------------------ hand-over */

/*
 * While a cold copy reads the recording of its exact command line (before it makes anything), a fact that no
 * longer holds (a moved tag, another oci-registry, a changed file) sends it to the recording for any image of the
 * registry when there is one (cold_copy), rather than to Node.
 */
static int retry_armed;
static jmp_buf retry_jmp;

static void fallback(const char *why, ...)
{
	if (retry_armed) { retry_armed = 0; longjmp(retry_jmp, 1); }
	if (interrupted) {
		dprintf(2, "oci-registry: ERR_INTERRUPTED: interrupted\nhint: Run the same command again to finish: complete blobs are kept.\n");
		_exit(130);
	}
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

static void sha256_blocks_c(uint32_t h[8], const uint8_t *p, size_t blocks)
{
	for (; blocks > 0; blocks--, p += 64) {
		uint32_t w[64], a[8];
		for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		memcpy(a, h, sizeof a);
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = a[7] + (ROR(a[4], 6) ^ ROR(a[4], 11) ^ ROR(a[4], 25)) + ((a[4] & a[5]) ^ (~a[4] & a[6])) + K[i] + w[i];
			uint32_t t2 = (ROR(a[0], 2) ^ ROR(a[0], 13) ^ ROR(a[0], 22)) + ((a[0] & a[1]) ^ (a[0] & a[2]) ^ (a[1] & a[2]));
			memmove(a + 1, a, 7 * sizeof *a);
			a[4] += t1;
			a[0] = t1 + t2;
		}
		for (int i = 0; i < 8; i++) h[i] += a[i];
	}
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
/* The same compression with the x86 SHA extensions (a blob's hash at ~2 GB/s instead of ~0.3): four rounds per
 * step, the message schedule four words at a time (W[g] from W[g-4..g-1], FIPS 180-4 6.2.2 step 1). */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t blocks)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* CDAB */
	__m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
	__m128i st0 = _mm_alignr_epi8(t, st1, 8); /* ABEF */
	st1 = _mm_blend_epi16(st1, t, 0xF0); /* CDGH */
	for (; blocks > 0; blocks--, p += 64) {
		__m128i save0 = st0, save1 = st1, w[4];
		for (int g = 0; g < 16; g++) {
			if (g < 4) {
				w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), swap);
			} else {
				__m128i x = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
				x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
				w[g % 4] = _mm_sha256msg2_epu32(x, w[(g + 3) % 4]);
			}
			__m128i m = _mm_add_epi32(w[g % 4], _mm_loadu_si128((const __m128i *)&K[4 * g]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, m);
			st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(m, 0x0E));
		}
		st0 = _mm_add_epi32(st0, save0);
		st1 = _mm_add_epi32(st1, save1);
	}
	t = _mm_shuffle_epi32(st0, 0x1B); /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1); /* DCHG */
	_mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, st1, 0xF0)); /* DCBA */
	_mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(st1, t, 8)); /* HGFE */
}
#endif

static void (*sha256_blocks)(uint32_t h[8], const uint8_t *p, size_t blocks) = sha256_blocks_c;

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
		if (s->n == 0 && len >= 64) {
			sha256_blocks(s->h, p, len / 64);
			p += len / 64 * 64;
			len %= 64;
			continue;
		}
		size_t k = 64 - s->n < len ? 64 - s->n : len;
		memcpy(s->buf + s->n, p, k);
		s->n += k; p += k; len -= k;
		if (s->n == 64) { sha256_blocks(s->h, s->buf, 1); s->n = 0; }
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

/* the SHA extensions when the CPU has them and they give FIPS 180-4's answers for "abc" and a two-block message */
static void sha256_choose(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1) || !(c & bit_SSSE3)) return;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29))) return;
	sha256_blocks = sha256_blocks_ni;
	char hex[65];
	sha256_of("abc", 3, hex);
	int ok = !strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	ok = ok && !strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	if (!ok) sha256_blocks = sha256_blocks_c;
#endif
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

/* a token, decoded in place ("%" is the empty string, %XX a byte); its length in *len */
static char *decode(char *s, size_t *len)
{
	if (!strcmp(s, "%")) { s[0] = 0; *len = 0; return s; }
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '%' && p[1] && p[2]) { *o++ = (char)(unhex(p[1]) * 16 + unhex(p[2])); p += 2; }
		else *o++ = *p;
	}
	*o = 0;
	*len = (size_t)(o - s);
	return s;
}

#define MAX_TOK 256
struct line { char *tok[MAX_TOK]; size_t len[MAX_TOK]; int n; };

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
		ln->tok[ln->n] = decode(t, &ln->len[ln->n]);
		ln->n++;
	}
	return ln;
}

/* ------------------------------------------------------------------ the command line */

static const char *flags[] = { "quiet", "all", "src-no-creds", "src-tls-verify", "insecure-policy", "preserve-digests", NULL };
static const char *values[] = { "override-os", "override-arch", "override-variant", "jobs", "retry-times", "policy", "registries-conf",
	"format", "authfile", "src-authfile", "tmpdir", NULL };

static int is_digits(const char *s)
{
	if (!*s) return 0;
	for (; *s; s++) if (*s < '0' || *s > '9') return 0;
	return 1;
}

static int listed(const char **list, const char *name, size_t len)
{
	for (; *list; list++) if (strlen(*list) == len && !strncmp(*list, name, len)) return 1;
	return 0;
}

struct command { char *key[MAX_TOK]; int n; char *dir; int quiet; int jobs; int src_at; };

/* what src/recopy.ts recopyCommand computes; 0: not a command this program does */
static int parse_command(int argc, char **argv, struct command *c)
{
	int positionals = 0;
	c->n = 0;
	c->quiet = 0;
	c->jobs = 4; /* copy's default (commands/copy.ts) */
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
				const char *v;
				if (eq) {
					if (!eq[1]) return 0;
					c->key[c->n++] = a;
					v = eq + 1;
				} else {
					if (i + 1 >= argc || !argv[i + 1][0] || argv[i + 1][0] == '-') return 0;
					c->key[c->n++] = a;
					c->key[c->n++] = argv[++i];
					v = argv[i];
				}
				if (len == 4 && !strncmp(name, "jobs", 4)) c->jobs = is_digits(v) && strlen(v) < 4 ? atoi(v) : -1;
			} else {
				return 0;
			}
			continue;
		}
		positionals++;
		if (positionals == 1) {
			if (strncmp(a, "docker://", 9)) return 0;
			c->src_at = c->n;
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

/* >0 when FD is ready, 0 after IO_TIMEOUT_MS, -1 on an error or an interruption (polled in slices to see it) */
static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	for (int waited = 0; waited < IO_TIMEOUT_MS; waited += 250) {
		if (interrupted) return -1;
		int r = poll(&p, 1, 250);
		if (r < 0 && errno == EINTR) { waited -= 250; continue; }
		if (r != 0) return r;
	}
	return 0;
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

/* the recording's directory WHERE and file NAME, opened below BASE without following a symbolic link; ours alone */
static int open_recording(int base, const char *where, const char *name)
{
	struct open_how dir_how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH };
	int dir = (int)syscall(SYS_openat2, base, where, &dir_how, sizeof dir_how);
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

/* ------------------------------------------------------------------ manifests' bodies */

#define MAX_BLOBS 512
/* the bodies of the manifest requests (by SHA-256): a cold copy writes them as blobs */
struct body { char hex[65]; const char *p; size_t len; };
static struct body bodies[MAX_BLOBS];
static int nbodies;

static void got_body(const char *hex, const char *p, size_t len)
{
	if (nbodies == MAX_BLOBS) fallback("too many manifests");
	memcpy(bodies[nbodies].hex, hex, 65);
	bodies[nbodies].p = p;
	bodies[nbodies].len = len;
	nbodies++;
}

/* what both kinds of recording hold and check the same way */
struct facts { int key, platform, bundle, gets, ended; };

/* checks LN when it is a line both kinds of recording have (1), else 0 */
static int check_common(struct command *c, struct line *ln, struct facts *f)
{
	const char *k = ln->tok[0];
	char hex[65];
	if (!strcmp(k, "key")) {
		if (ln->n - 1 != c->n) fallback("another command's recording");
		for (int i = 0; i < c->n; i++) if (strcmp(ln->tok[i + 1], c->key[i])) fallback("another command's recording");
		f->key = 1;
	} else if (!strcmp(k, "platform") && ln->n == 3) {
		/* Node's process.platform and process.arch, which choose an index's image (the C compiler's target
		 * is the machine's, as the Node binary's is) */
		if (strcmp(ln->tok[1], "linux") || !NODE_ARCH || strcmp(ln->tok[2], NODE_ARCH)) fallback("recorded on another platform");
		f->platform = 1;
	} else if (!strcmp(k, "bundle") && ln->n == 2) {
		char *h = bundle_hash();
		if (!h || strcmp(h, ln->tok[1])) fallback("oci-registry changed since the recording");
		f->bundle = 1;
	} else if (!strcmp(k, "env") && ln->n == 3) {
		const char *v = getenv(ln->tok[1]);
		if (!v || strcmp(v, ln->tok[2])) fallback("$%s changed", ln->tok[1]);
	} else if (!strcmp(k, "unset") && ln->n == 2) {
		if (getenv(ln->tok[1])) fallback("$%s is set", ln->tok[1]);
	} else if (!strcmp(k, "file") && ln->n == 3) {
		if (file_sha256(AT_FDCWD, ln->tok[1], 0, hex, NULL) != 1 || strcmp(hex, ln->tok[2])) fallback("%s changed", ln->tok[1]);
	} else if (!strcmp(k, "nofile") && ln->n == 2) {
		if (file_sha256(AT_FDCWD, ln->tok[1], 0, hex, NULL) != 0) fallback("%s exists now", ln->tok[1]);
	} else if (!strcmp(k, "dir") || !strcmp(k, "nodir")) {
		if (ln->n < 2) fallback("a malformed recording");
		char **names = NULL;
		int n = conf_names(ln->tok[1], &names);
		int want = !strcmp(k, "nodir") ? -1 : ln->n - 2;
		if (n != want) fallback("%s changed", ln->tok[1]);
		for (int i = 0; i < n; i++) if (strcmp(names[i], ln->tok[i + 2])) fallback("%s changed", ln->tok[1]);
	} else if (!strcmp(k, "get") && ln->n == 9) {
		struct answer a = { 0 };
		if (http_get(ln->tok[1], ln->tok[2], ln->tok[3], ln->tok[4], &a) != 0) fallback("GET http://%s%s had no answer", ln->tok[1], ln->tok[2]);
		if (a.status != atoi(ln->tok[5])) fallback("GET http://%s%s answered %d", ln->tok[1], ln->tok[2], a.status);
		/* a manifest: what Node takes from the answer (the probe of /v2/ is judged by its status alone) */
		if (ln->tok[8][0]) {
			if (strcmp(a.content_type ? a.content_type : "", ln->tok[6]) || strcmp(a.dcd ? a.dcd : "", ln->tok[7])) fallback("GET http://%s%s: other headers", ln->tok[1], ln->tok[2]);
			sha256_of(a.body, a.body_len, hex);
			if (strcmp(hex, ln->tok[8])) fallback("GET http://%s%s: another manifest", ln->tok[1], ln->tok[2]);
			got_body(hex, a.body, a.body_len);
		}
		f->gets++;
	} else {
		return 0;
	}
	return 1;
}

/* the recording's first line, FORMAT; then each line to check_common or, when it is not one of those, to ONE */
static void read_recording(char *text, const char *format, struct command *c, struct facts *f, void (*one)(struct line *))
{
	char *cursor = text;
	struct line ln;
	if (!next_line(&cursor, &ln) || ln.n != 2 || strcmp(ln.tok[0], format) || strcmp(ln.tok[1], "1")) fallback("not a recording of this version");
	while (next_line(&cursor, &ln)) {
		if (ln.n == 0) continue;
		if (!strcmp(ln.tok[0], "end") && ln.n == 1) { f->ended = 1; break; }
		if (!check_common(c, &ln, f)) one(&ln);
	}
	if (!f->ended || !f->key || !f->platform || !f->bundle || f->gets == 0) fallback("an incomplete recording");
}

/* ------------------------------------------------------------------ re-copies */

static int layout_fd = -1, have_layout, have_index;

static void recopy_line(struct line *ln)
{
	const char *k = ln->tok[0];
	char hex[65];
	size_t size;
	if (!strcmp(k, "layout") && ln->n == 2) {
		struct stat st;
		if (file_sha256(layout_fd, "oci-layout", 1, hex, NULL) != 1 || strcmp(hex, ln->tok[1])) fallback("oci-layout changed");
		if (fstatat(layout_fd, "blobs", &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) fallback("blobs/ is not a directory");
		have_layout = 1;
	} else if (!strcmp(k, "index") && ln->n == 3) {
		if (file_sha256(layout_fd, "index.json", 1, hex, &size) != 1 || strcmp(hex, ln->tok[1]) || size != strtoull(ln->tok[2], NULL, 10)) fallback("index.json changed");
		have_index = 1;
	} else if (!strcmp(k, "blob") && ln->n == 4) {
		if (!have_layout || !is_token(ln->tok[1], "abcdefghijklmnopqrstuvwxyz0123456789") || !is_token(ln->tok[2], "0123456789abcdef")) fallback("a malformed recording");
		char path[512];
		struct stat st;
		snprintf(path, sizeof path, "blobs/%s", ln->tok[1]);
		if (fstatat(layout_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) fallback("%s is not a directory", path);
		snprintf(path, sizeof path, "blobs/%s/%s", ln->tok[1], ln->tok[2]);
		if (fstatat(layout_fd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size != strtoull(ln->tok[3], NULL, 10)) {
			fallback("blob %s:%s is missing", ln->tok[1], ln->tok[2]);
		}
	} else {
		fallback("a recording line this program does not know: %s", k);
	}
}

static int recopy(struct command *c)
{
	layout_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (layout_fd < 0) fallback("no layout at %s", c->dir);
	char name[17];
	recording_name(c, name);
	int rfd = open_recording(layout_fd, ".oci-ts/recopy", name);
	if (rfd < 0) fallback("no recording of this command in %s", c->dir);
	size_t rlen;
	char *text = read_regular(rfd, MAX_RECORDING, &rlen);
	close(rfd);
	if (!text) fallback("the recording cannot be read");
	struct facts f = { 0 };
	read_recording(text, "oci-registry-recopy", c, &f, recopy_line);
	if (!have_layout || !have_index) fallback("an incomplete recording");
	/* everything a re-copy looks at is as it was after the recorded copy: it would change nothing and print nothing */
	return 0;
}

/* ------------------------------------------------------------------ cold copies */

/*
 * A copy into a directory that does not exist, from the recording (in the user's cache) of the same command
 * that Node did into another new directory (src/recopy.ts writeColdRecording): after the same checks as a
 * re-copy, it makes the layout as Layout.init and the copy make it, in the same steps (so that a hand-over at
 * any point leaves Node what it would have left itself): the directory, .oci-ts/ingest, under the index lock
 * index.json (empty) and oci-layout; each blob fetched into .oci-ts/ingest, its size and SHA-256 checked while
 * it streams, fsynced and renamed into blobs/sha256 (--jobs at a time, largest first); the manifests (the
 * bodies of the requests just checked); under the lock index.json naming the image; the re-copy recording.
 * A failure hands the command to Node: with the layout removed again when no blob was stored yet (Node then
 * starts afresh), else kept (Node resumes from it, as it would after its own interrupted copy).
 */

struct blob { const char *hex, *host, *path, *ua, *body; unsigned long long size; };
static struct blob fetches[MAX_BLOBS], manifests[MAX_BLOBS];
static int nfetches, nmanifests;
struct bytes { const char *p; size_t len; int set; };
static struct bytes w_layout, w_index0, w_index, w_recopy;

/* a recording for any image of the registry (src/recopy.ts writeAnyRecording): its manifest request and templates */
static int any_mode;
static struct { const char *host, *accept, *ua, *ct; int set; } any_manifest;
static struct bytes t_index, t_recopy;

static void cold_line(struct line *ln)
{
	const char *k = ln->tok[0];
	if (any_mode && !strcmp(k, "template") && ln->n == 3 && (!strcmp(ln->tok[1], "index") || !strcmp(ln->tok[1], "recopy"))) {
		struct bytes *t = ln->tok[1][0] == 'i' ? &t_index : &t_recopy;
		t->p = ln->tok[2];
		t->len = ln->len[2];
		t->set = 1;
	} else if (any_mode && !strcmp(k, "manifest") && ln->n == 5) {
		if (strpbrk(ln->tok[1], "\r\n/") || strpbrk(ln->tok[2], "\r\n") || strpbrk(ln->tok[3], "\r\n")) fallback("a malformed recording");
		any_manifest.host = ln->tok[1];
		any_manifest.accept = ln->tok[2];
		any_manifest.ua = ln->tok[3];
		any_manifest.ct = ln->tok[4];
		any_manifest.set = 1;
	} else if (!strcmp(k, "write") && ln->n == 3) {
		struct bytes *w = !strcmp(ln->tok[1], "oci-layout") ? &w_layout : !strcmp(ln->tok[1], "index0") ? &w_index0
			: any_mode ? NULL : !strcmp(ln->tok[1], "index") ? &w_index : !strcmp(ln->tok[1], "recopy") ? &w_recopy : NULL;
		if (!w) fallback("a recording line this program does not know: write %s", ln->tok[1]);
		w->p = ln->tok[2];
		w->len = ln->len[2];
		w->set = 1;
	} else if (!any_mode && ((!strcmp(k, "fetch") && ln->n == 7) || (!strcmp(k, "blob") && ln->n == 4))) {
		if (strcmp(ln->tok[1], "sha256") || strlen(ln->tok[2]) != 64 || !is_token(ln->tok[2], "0123456789abcdef") || !is_token(ln->tok[3], "0123456789")) {
			fallback("a malformed recording");
		}
		int fetch = k[0] == 'f';
		if ((fetch ? nfetches : nmanifests) == MAX_BLOBS) fallback("too many blobs");
		struct blob *b = fetch ? &fetches[nfetches++] : &manifests[nmanifests++];
		b->hex = ln->tok[2];
		b->size = strtoull(ln->tok[3], NULL, 10);
		if (fetch) {
			b->host = ln->tok[4];
			b->path = ln->tok[5];
			b->ua = ln->tok[6];
			if (b->path[0] != '/' || strpbrk(b->path, "\r\n") || strpbrk(b->ua, "\r\n") || strpbrk(b->host, "\r\n/")) fallback("a malformed recording");
		}
	} else {
		fallback("a recording line this program does not know: %s", k);
	}
}

/* ------------------------------------------------------------------ cold copies of any image of a registry */

/*
 * A recording for any image of the registry (src/recopy.ts writeAnyRecording) names no image: after its checks,
 * this program asks for the manifest of the reference on the command line (as Node asks: the same Accept and
 * User-Agent), takes it only when it is an OCI image manifest read strictly below (anything else goes to Node,
 * which reads JSON more loosely, converts, or chooses from an index), and makes the blobs to fetch, index.json
 * and the re-copy recording from it and the recording's templates.
 */

/* a growing buffer */
struct sb { char *p; size_t n, cap; };

static void sb_add(struct sb *b, const void *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (b->n + n + 1 > cap) cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q) fallback("out of memory");
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void sb_str(struct sb *b, const char *s) { sb_add(b, s, strlen(s)); }

/* a recording's token (src/recopy.ts token): bytes <= 0x20, '%' and >= 0x7f as %XX, the empty string as "%" */
static void sb_token(struct sb *b, const char *s, size_t n)
{
	if (n == 0) { sb_add(b, "%", 1); return; }
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == '%' || c >= 0x7f) {
			char e[4];
			snprintf(e, sizeof e, "%%%02X", c);
			sb_add(b, e, 3);
		} else {
			sb_add(b, &s[i], 1);
		}
	}
}

/* JSON as JSON.parse reads it (RFC 8259), with what this program takes from it: 0 read, -1 not JSON or not taken */
struct json { const char *p, *end; int depth; };

static void jws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int jlit(struct json *j, char c)
{
	jws(j);
	if (j->p >= j->end || *j->p != c) return -1;
	j->p++;
	return 0;
}

/* a string; *s and *n: what is between the quotes, *escaped: whether it holds an escape */
static int jstring(struct json *j, const char **s, size_t *n, int *escaped)
{
	jws(j);
	if (j->p >= j->end || *j->p != '"') return -1;
	const char *q = j->p + 1;
	*escaped = 0;
	while (q < j->end && *q != '"') {
		unsigned char c = (unsigned char)*q;
		if (c < 0x20) return -1;
		if (c != '\\') { q++; continue; }
		*escaped = 1;
		if (q + 1 >= j->end) return -1;
		if (q[1] == 'u') {
			if (j->end - q < 6) return -1;
			for (int i = 2; i < 6; i++) if (!isxdigit((unsigned char)q[i])) return -1;
			q += 6;
		} else if (q[1] && strchr("\"\\/bfnrt", q[1])) {
			q += 2;
		} else {
			return -1;
		}
	}
	if (q >= j->end) return -1;
	*s = j->p + 1;
	*n = (size_t)(q - (j->p + 1));
	j->p = q + 1;
	return 0;
}

/* a number; *v and *plain: its value when it is a non-negative integer of at most 15 digits written plainly */
static int jnumber(struct json *j, unsigned long long *v, int *plain)
{
	jws(j);
	const char *q = j->p, *e = j->end;
	*plain = 1;
	if (q < e && *q == '-') { q++; *plain = 0; }
	if (q >= e || !isdigit((unsigned char)*q)) return -1;
	if (*q == '0') q++;
	else while (q < e && isdigit((unsigned char)*q)) q++;
	size_t digits = (size_t)(q - j->p);
	if (q < e && *q == '.') {
		q++;
		if (q >= e || !isdigit((unsigned char)*q)) return -1;
		while (q < e && isdigit((unsigned char)*q)) q++;
		*plain = 0;
	}
	if (q < e && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < e && (*q == '+' || *q == '-')) q++;
		if (q >= e || !isdigit((unsigned char)*q)) return -1;
		while (q < e && isdigit((unsigned char)*q)) q++;
		*plain = 0;
	}
	if (*plain && digits > 15) *plain = 0;
	*v = *plain ? strtoull(j->p, NULL, 10) : 0;
	j->p = q;
	return 0;
}

/* any value, skipped (at most 64 deep) */
static int jskip(struct json *j)
{
	jws(j);
	if (j->p >= j->end) return -1;
	char c = *j->p;
	const char *s;
	size_t n;
	int esc, plain;
	unsigned long long v;
	if (c == '"') return jstring(j, &s, &n, &esc);
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		if (++j->depth > 64) return -1;
		j->p++;
		jws(j);
		if (j->p < j->end && *j->p == close) { j->p++; j->depth--; return 0; }
		for (;;) {
			if (c == '{' && (jstring(j, &s, &n, &esc) != 0 || jlit(j, ':') != 0)) return -1;
			if (jskip(j) != 0) return -1;
			jws(j);
			if (j->p < j->end && *j->p == ',') { j->p++; continue; }
			if (j->p < j->end && *j->p == close) { j->p++; j->depth--; return 0; }
			return -1;
		}
	}
	for (const char **w = (const char *[]){ "true", "false", "null", NULL }; *w; w++) {
		size_t l = strlen(*w);
		if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, *w, l)) { j->p += l; return 0; }
	}
	return jnumber(j, &v, &plain);
}

/* an object whose keys are all of KEYS, each once, their values read by ONE; a bit per key of KEYS it has (or -1) */
static int jobject(struct json *j, const char **keys, int (*one)(struct json *, int, void *), void *arg)
{
	unsigned seen = 0;
	if (jlit(j, '{') != 0) return -1;
	jws(j);
	if (j->p < j->end && *j->p == '}') { j->p++; return 0; }
	for (;;) {
		const char *s;
		size_t n;
		int esc, k = -1;
		if (jstring(j, &s, &n, &esc) != 0 || esc || jlit(j, ':') != 0) return -1;
		for (int i = 0; keys[i]; i++) if (strlen(keys[i]) == n && !memcmp(keys[i], s, n)) k = i;
		/* a key this program does not read, or one written twice: Node's reading may differ */
		if (k < 0 || (seen & (1u << k))) return -1;
		seen |= 1u << k;
		if (one(j, k, arg) != 0) return -1;
		jws(j);
		if (j->p < j->end && *j->p == ',') { j->p++; continue; }
		if (j->p < j->end && *j->p == '}') { j->p++; break; }
		return -1;
	}
	return (int)seen;
}

struct desc { char hex[65]; unsigned long long size; };

static const char *desc_keys[] = { "mediaType", "digest", "size", "annotations", NULL };

/* a descriptor's member: a media type (a string), a sha256 digest, a size, annotations (skipped) */
static int desc_member(struct json *j, int k, void *arg)
{
	struct desc *d = arg;
	const char *s;
	size_t n;
	int esc, plain;
	if (k == 0) return jstring(j, &s, &n, &esc);
	if (k == 1) {
		if (jstring(j, &s, &n, &esc) != 0 || esc || n != 71 || memcmp(s, "sha256:", 7)) return -1;
		for (int i = 7; i < 71; i++) if (!strchr("0123456789abcdef", s[i])) return -1;
		memcpy(d->hex, s + 7, 64);
		d->hex[64] = 0;
		return 0;
	}
	if (k == 2) return jnumber(j, &d->size, &plain) != 0 || !plain ? -1 : 0;
	return jskip(j);
}

static int jdesc(struct json *j, struct desc *d)
{
	int seen = jobject(j, desc_keys, desc_member, d);
	/* mediaType, digest and size there */
	return seen >= 0 && (seen & 7) == 7 ? 0 : -1;
}

#define MAX_LAYERS (MAX_BLOBS - 2)
struct image { struct desc config, layers[MAX_LAYERS]; int nlayers; };

static const char *manifest_keys[] = { "schemaVersion", "mediaType", "config", "layers", "annotations", NULL };

static int manifest_member(struct json *j, int k, void *arg)
{
	struct image *im = arg;
	const char *s;
	size_t n;
	int esc, plain;
	unsigned long long v;
	static const char oci[] = "application/vnd.oci.image.manifest.v1+json";
	if (k == 0) return jnumber(j, &v, &plain) != 0 || !plain || v != 2 ? -1 : 0;
	if (k == 1) return jstring(j, &s, &n, &esc) != 0 || esc || n != sizeof oci - 1 || memcmp(s, oci, n) ? -1 : 0;
	if (k == 2) return jdesc(j, &im->config);
	if (k == 3) {
		if (jlit(j, '[') != 0) return -1;
		jws(j);
		if (j->p < j->end && *j->p == ']') { j->p++; return 0; }
		for (;;) {
			if (im->nlayers == MAX_LAYERS || jdesc(j, &im->layers[im->nlayers]) != 0) return -1;
			im->nlayers++;
			jws(j);
			if (j->p < j->end && *j->p == ',') { j->p++; continue; }
			if (j->p < j->end && *j->p == ']') { j->p++; return 0; }
			return -1;
		}
	}
	return jskip(j);
}

/* an OCI image manifest with schemaVersion 2, its media type, config and layers, nothing else but annotations */
static int read_manifest(const char *p, size_t n, struct image *im)
{
	struct json j = { p, p + n, 0 };
	im->nlayers = 0;
	int seen = jobject(&j, manifest_keys, manifest_member, im);
	if (seen < 0 || (seen & 0xf) != 0xf) return -1;
	jws(&j);
	return j.p == j.end ? 0 : -1;
}

/* [a-z0-9]+ joined by '.', '_', '__' or runs of '-' (the reference grammar's path component) */
static int path_component(const char *s, size_t n)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'))) i++;
		if (i == start) return 0;
		if (i == n) return 1;
		if (s[i] == '.') i++;
		else if (s[i] == '_') i += i + 1 < n && s[i + 1] == '_' ? 2 : 1;
		else if (s[i] == '-') while (i < n && s[i] == '-') i++;
		else return 0;
	}
}

/*
 * REST (after "docker://HOST/") as parseReference reads it, in the forms this program takes: REPOSITORY[:TAG] or
 * REPOSITORY@sha256:HEX; *repo and *sel (the tag, latest without one, or the digest) point into a copy of REST
 */
static int read_reference(const char *rest, size_t hostlen, char **repo, char **sel, int *by_digest)
{
	char *r = strdup(rest), *at = strchr(r, '@');
	*by_digest = at != NULL;
	if (at) {
		*at = 0;
		*sel = at + 1;
		if (strlen(*sel) != 71 || strncmp(*sel, "sha256:", 7) || !is_token(*sel + 7, "0123456789abcdef")) return -1;
	}
	char *colon = strrchr(r, ':'), *slash = strrchr(r, '/');
	if (colon && (!slash || colon > slash)) {
		if (at) return -1; /* a tag and a digest: Node's */
		*colon = 0;
		*sel = colon + 1;
		size_t tl = strlen(*sel);
		if (tl == 0 || tl > 128 || (*sel)[0] == '.' || (*sel)[0] == '-' || !is_token(*sel, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")) return -1;
	} else if (!at) {
		*sel = "latest";
	}
	*repo = r;
	size_t len = strlen(r);
	if (len == 0 || hostlen + 1 + len > 255) return -1;
	for (const char *c = r;;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (!path_component(c, l)) return -1;
		if (!e) break;
		c = e + 1;
	}
	return 0;
}

/* a template's bytes with its markers (1 to 8) replaced by what FILL writes for each; each marker once */
static void fill_template(const struct bytes *t, struct sb *out, const char *markers, void (*fill)(struct sb *, int))
{
	int count[9] = { 0 };
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->p[i];
		if (c >= 1 && c <= 8) {
			if (!strchr(markers, c) || count[c]++) fallback("a malformed recording");
			fill(out, c);
			/* a marker that stands for lines stands on a line of its own */
			if (c >= 3 && i + 1 < t->len && t->p[i + 1] == '\n') i++;
		} else {
			sb_add(out, &t->p[i], 1);
		}
	}
	for (const char *m = markers; *m; m++) if (count[(unsigned char)*m] != 1) fallback("a malformed recording");
}

static struct command *any_command;
static struct image any_image;
static char any_hex[65], *any_path, *any_dcd;
static size_t any_len;
static struct sb any_index;

static void fill_index(struct sb *b, int m)
{
	char n[24];
	if (m == 1) sb_str(b, any_hex);
	else { snprintf(n, sizeof n, "%zu", any_len); sb_str(b, n); }
}

static void blob_line(struct sb *b, const char *hex, unsigned long long size)
{
	char n[24];
	sb_str(b, "blob sha256 ");
	sb_str(b, hex);
	snprintf(n, sizeof n, " %llu\n", size);
	sb_str(b, n);
}

/* the lines of the re-copy recording src/recopy.ts writes after such a copy (writeRecording) */
static void fill_recopy(struct sb *b, int m)
{
	char hex[65], n[24];
	if (m == 3) {
		sb_str(b, "key");
		for (int i = 0; i < any_command->n; i++) { sb_str(b, " "); sb_token(b, any_command->key[i], strlen(any_command->key[i])); }
		sb_str(b, "\n");
	} else if (m == 4) {
		sha256_of(any_index.p, any_index.n, hex);
		snprintf(n, sizeof n, " %zu\n", any_index.n);
		sb_str(b, "index ");
		sb_str(b, hex);
		sb_str(b, n);
	} else if (m == 5) {
		blob_line(b, any_image.config.hex, any_image.config.size);
		for (int i = 0; i < any_image.nlayers; i++) blob_line(b, any_image.layers[i].hex, any_image.layers[i].size);
		blob_line(b, any_hex, any_len);
	} else {
		const char *tok[] = { any_manifest.host, any_path, any_manifest.accept, any_manifest.ua, "200", any_manifest.ct, any_dcd ? any_dcd : "", any_hex };
		sb_str(b, "get");
		for (int i = 0; i < 8; i++) { sb_str(b, " "); sb_token(b, tok[i], strlen(tok[i])); }
		sb_str(b, "\n");
	}
}

/* the manifest of the command's image, and from it the blobs to fetch, index.json and the re-copy recording */
static void any_plan(struct command *c)
{
	if (!any_manifest.set || !t_index.set || !t_recopy.set) fallback("an incomplete recording");
	const char *host = any_manifest.host, *src = c->key[c->src_at] + 9;
	size_t hl = strlen(host);
	char *repo, *sel;
	int by_digest;
	if (strncmp(src, host, hl) || src[hl] != '/' || read_reference(src + hl + 1, hl, &repo, &sel, &by_digest) != 0) {
		fallback("a source reference this program does not read");
	}
	struct sb path = { 0 };
	sb_str(&path, "/v2/");
	sb_str(&path, repo);
	sb_str(&path, "/manifests/");
	sb_str(&path, sel);
	any_path = path.p;
	struct answer a = { 0 };
	if (http_get(host, any_path, any_manifest.accept, any_manifest.ua, &a) != 0) fallback("GET http://%s%s had no answer", host, any_path);
	if (a.status != 200) fallback("GET http://%s%s answered %d", host, any_path, a.status);
	if (!a.content_type || strcmp(a.content_type, any_manifest.ct)) fallback("GET http://%s%s: not an OCI image manifest", host, any_path);
	sha256_of(a.body, a.body_len, any_hex);
	any_len = a.body_len;
	any_dcd = a.dcd;
	/* Node takes the digest of the bytes (with Docker-Content-Digest's algorithm): sha256 only here */
	if (a.dcd && (strncmp(a.dcd, "sha256:", 7) || strcmp(a.dcd + 7, any_hex))) fallback("GET http://%s%s: Docker-Content-Digest is not the manifest's", host, any_path);
	if (by_digest && strcmp(sel + 7, any_hex)) fallback("GET http://%s%s: another manifest", host, any_path);
	if (read_manifest(a.body, a.body_len, &any_image) != 0) fallback("GET http://%s%s: a manifest this program does not read", host, any_path);
	/* the blobs: the config and the layers, each once */
	struct desc *all[MAX_BLOBS];
	int nall = 0;
	all[nall++] = &any_image.config;
	for (int i = 0; i < any_image.nlayers; i++) all[nall++] = &any_image.layers[i];
	for (int i = 0; i < nall; i++) {
		if (!strcmp(all[i]->hex, any_hex)) fallback("a blob with the manifest's digest");
		for (int k = 0; k < i; k++) if (!strcmp(all[i]->hex, all[k]->hex)) fallback("a blob named twice");
		struct sb bp = { 0 };
		sb_str(&bp, "/v2/");
		sb_str(&bp, repo);
		sb_str(&bp, "/blobs/sha256:");
		sb_str(&bp, all[i]->hex);
		fetches[nfetches++] = (struct blob){ .hex = all[i]->hex, .host = host, .path = bp.p, .ua = any_manifest.ua, .size = all[i]->size };
	}
	manifests[nmanifests++] = (struct blob){ .hex = any_hex, .size = any_len, .body = a.body };
	any_command = c;
	fill_template(&t_index, &any_index, "\x01\x02", fill_index);
	w_index = (struct bytes){ any_index.p, any_index.n, 1 };
	struct sb recopy = { 0 };
	fill_template(&t_recopy, &recopy, "\x03\x04\x05\x06", fill_recopy);
	w_recopy = (struct bytes){ recopy.p, recopy.n, 1 };
}

static int D = -1; /* the new layout */
static char pid_start[64], hostname_g[256];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int stored, lock_held, next_fetch, failed;
static char fail_why[512];

/* .oci-ts/ingest/PREFIX<pid>.<start>.<12 hex>.tmp, the names @oci/layout gives its temp files (tempName) */
static void temp_name(char *out, size_t n, const char *prefix)
{
	unsigned char r[6];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		for (int i = 0; i < 6; i++) r[i] = (unsigned char)((unsigned long)ts.tv_nsec >> (i * 5)) ^ (unsigned char)(uintptr_t)out;
	}
	snprintf(out, n, ".oci-ts/ingest/%s%d.%s.%02x%02x%02x%02x%02x%02x.tmp", prefix, (int)getpid(), pid_start, r[0], r[1], r[2], r[3], r[4], r[5]);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void fsync_dir(int at, const char *path)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) { fsync(fd); close(fd); }
}

/* TARGET (below the layout) with these bytes: a temp file, fsynced, renamed into place, the directory fsynced */
static int write_atomic(const char *target, const char *p, size_t len)
{
	char tmp[128];
	temp_name(tmp, sizeof tmp, "w-");
	int fd = openat(D, tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) return -1;
	int ok = write_all(fd, p, len) == 0 && fsync(fd) == 0;
	close(fd);
	if (!ok || renameat(D, tmp, D, target) != 0) { unlinkat(D, tmp, 0); return -1; }
	fsync_dir(D, ".");
	return 0;
}

/* the layout's index lock as @oci/layout takes it (lock.ts): a file of JSON linked into place, never replaced */
static int take_lock(void)
{
	char tmp[128], info[512], tok[25], when[40];
	unsigned char r[12];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return -1;
	for (int i = 0; i < 12; i++) sprintf(tok + 2 * i, "%02x", r[i]);
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(info, sizeof info, "{\"pid\":%d,\"host\":\"%s\",\"start\":\"%s\",\"token\":\"%s\",\"acquired\":\"%s.%03ldZ\"}",
		(int)getpid(), hostname_g, pid_start, tok, when, ts.tv_nsec / 1000000);
	temp_name(tmp, sizeof tmp, "l-");
	int fd = openat(D, tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) return -1;
	int ok = write_all(fd, info, (size_t)n) == 0;
	close(fd);
	ok = ok && linkat(D, tmp, D, ".oci-ts/index.lock", 0) == 0;
	unlinkat(D, tmp, 0);
	if (ok) lock_held = 1;
	return ok ? 0 : -1;
}

static void release_lock(void)
{
	if (lock_held) unlinkat(D, ".oci-ts/index.lock", 0);
	lock_held = 0;
}

/* a failure after the layout was made: undone while it holds no blob, then the command goes to Node */
static void cold_fail(const char *dir, const char *why)
{
	release_lock();
	if (!stored) {
		unlinkat(D, "index.json", 0);
		unlinkat(D, "oci-layout", 0);
		unlinkat(D, "blobs/sha256", AT_REMOVEDIR);
		unlinkat(D, "blobs", AT_REMOVEDIR);
		unlinkat(D, ".oci-ts/ingest", AT_REMOVEDIR);
		unlinkat(D, ".oci-ts", AT_REMOVEDIR);
		rmdir(dir);
	}
	fallback("%s", why);
}

/*
 * A blob's writer: while the fetcher receives and hashes one buffer, this thread writes the one before (Node's
 * copy overlaps the two the same way: hashing on its main thread, writes on libuv's pool). One buffer in hand at a
 * time; `busy` while it writes it.
 */
struct writer { pthread_t t; pthread_mutex_t m; pthread_cond_t c; int fd, busy, done, err; const char *p; size_t n; };

static void *write_behind(void *arg)
{
	struct writer *w = arg;
	pthread_mutex_lock(&w->m);
	for (;;) {
		while (!w->busy && !w->done) pthread_cond_wait(&w->c, &w->m);
		if (!w->busy) break;
		const char *p = w->p;
		size_t n = w->n;
		pthread_mutex_unlock(&w->m);
		int r = write_all(w->fd, p, n) == 0 ? 0 : (errno ? errno : EIO);
		pthread_mutex_lock(&w->m);
		if (r && !w->err) w->err = r;
		w->busy = 0;
		pthread_cond_broadcast(&w->c);
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

/* waits until the writer has written what it holds; its first error (0: none) */
static int writer_idle(struct writer *w)
{
	pthread_mutex_lock(&w->m);
	while (w->busy) pthread_cond_wait(&w->c, &w->m);
	int err = w->err;
	pthread_mutex_unlock(&w->m);
	return err;
}

/* hands P (N bytes) to the writer once it is idle; its first error so far (0: none) */
static int writer_give(struct writer *w, const char *p, size_t n)
{
	pthread_mutex_lock(&w->m);
	while (w->busy) pthread_cond_wait(&w->c, &w->m);
	if (!w->err) {
		w->p = p;
		w->n = n;
		w->busy = 1;
		pthread_cond_broadcast(&w->c);
	}
	int err = w->err;
	pthread_mutex_unlock(&w->m);
	return err;
}

static int writer_stop(struct writer *w)
{
	int err = writer_idle(w);
	pthread_mutex_lock(&w->m);
	w->done = 1;
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
	pthread_join(w->t, NULL);
	return err;
}

/*
 * One blob into blobs/sha256: from BODY, or fetched with its size and digest checked as it streams. With SPARE (a
 * second buffer of CAP bytes), a blob of more than two buffers is written behind by a thread of its own.
 */
static int store_blob(const struct blob *b, char *buf, char *spare, size_t cap, char *why, size_t whylen)
{
	struct writer w = { .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER };
	int writing = 0;
	char tmp[128], target[128];
	temp_name(tmp, sizeof tmp, "b-");
	snprintf(target, sizeof target, "blobs/sha256/%s", b->hex);
	int sock = -1, out = -1;
	if (b->body) {
		out = openat(D, tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0644);
		if (out < 0 || write_all(out, b->body, b->size) != 0 || fsync(out) != 0) { snprintf(why, whylen, "cannot write %s: %s", target, strerror(errno)); goto fail; }
		close(out);
		if (renameat(D, tmp, D, target) != 0) { out = -1; snprintf(why, whylen, "cannot store %s: %s", target, strerror(errno)); goto fail; }
		return 0;
	}
	sock = connect_to(b->host);
	if (sock < 0) { snprintf(why, whylen, "cannot connect to %s", b->host); return -1; }
	int n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nhost: %s\r\nuser-agent: %s\r\nconnection: close\r\n\r\n", b->path, b->host, b->ua);
	if (n <= 0 || (size_t)n >= cap || send_all(sock, buf, (size_t)n) != 0) { snprintf(why, whylen, "GET http://%s%s: cannot send", b->host, b->path); goto fail; }
	/* the head (1xx answers skipped), then what came with it of the body */
	size_t have = 0, head = 0;
	int status = 0;
	for (;;) {
		char *end = have >= 4 ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
		if (end) {
			head = (size_t)(end - buf) + 4;
			if (have < 12 || strncmp(buf, "HTTP/1.", 7)) break;
			status = atoi(buf + 9);
			if (status >= 100 && status < 200) { memmove(buf, buf + head, have - head); have -= head; head = 0; continue; }
			break;
		}
		if (have >= MAX_HEAD || have + 1 >= cap) break;
		ssize_t r = recv(sock, buf + have, cap - have - 1, 0);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0 && errno == EAGAIN) { if (wait_fd(sock, POLLIN) <= 0) break; continue; }
		if (r <= 0) break;
		have += (size_t)r;
	}
	if (!head || status != 200) { snprintf(why, whylen, "GET http://%s%s answered %d", b->host, b->path, status); goto fail; }
	buf[head - 2] = 0;
	char *te = header_value(buf, "transfer-encoding"), *cl = header_value(buf, "content-length");
	int plain = !te && cl && is_token(cl, "0123456789") && strtoull(cl, NULL, 10) == b->size;
	free(te);
	free(cl);
	if (!plain) { snprintf(why, whylen, "GET http://%s%s: not a body of %llu bytes", b->host, b->path, b->size); goto fail; }
	out = openat(D, tmp, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) { snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno)); goto fail; }
	struct sha256 h;
	sha256_init(&h);
	unsigned long long total = have - head;
	if (total > b->size) { snprintf(why, whylen, "GET http://%s%s: a longer body", b->host, b->path); goto fail; }
	sha256_update(&h, buf + head, (size_t)total);
	if (write_all(out, buf + head, (size_t)total) != 0) { snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno)); goto fail; }
	/* the rest: received until the buffer is full (or the body complete), then hashed and written at once (or
	 * handed to the writer, the next bytes going into the other buffer meanwhile) */
	if (spare && b->size - total > 2 * (unsigned long long)cap) {
		w.fd = out;
		writing = pthread_create(&w.t, NULL, write_behind, &w) == 0;
	}
	char *cur = buf;
	size_t fill = 0;
	while (total < b->size) {
		if (interrupted) { snprintf(why, whylen, "interrupted"); goto fail; }
		size_t want = b->size - total < cap - fill ? (size_t)(b->size - total) : cap - fill;
		ssize_t r = recv(sock, cur + fill, want, 0);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0 && errno == EAGAIN) { if (wait_fd(sock, POLLIN) > 0) continue; r = -1; }
		if (r <= 0) { snprintf(why, whylen, "GET http://%s%s: cut off after %llu of %llu bytes", b->host, b->path, total, b->size); goto fail; }
		fill += (size_t)r;
		total += (unsigned long long)r;
		if (fill < cap && total < b->size) continue;
		sha256_update(&h, cur, fill);
		int err = writing ? writer_give(&w, cur, fill) : write_all(out, cur, fill) == 0 ? 0 : errno ? errno : EIO;
		if (err) { snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(err)); goto fail; }
		if (writing) cur = cur == buf ? spare : buf;
		fill = 0;
	}
	if (writing) {
		writing = 0;
		int err = writer_stop(&w);
		if (err) { snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(err)); goto fail; }
	}
	close(sock);
	sock = -1;
	char hex[65];
	sha256_hex(&h, hex);
	if (strcmp(hex, b->hex)) { snprintf(why, whylen, "GET http://%s%s: digest mismatch (got sha256:%s)", b->host, b->path, hex); goto fail; }
	if (fsync(out) != 0) { snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno)); goto fail; }
	close(out);
	out = -1;
	if (renameat(D, tmp, D, target) != 0) { snprintf(why, whylen, "cannot store %s: %s", target, strerror(errno)); goto fail; }
	return 0;
fail:
	if (writing) writer_stop(&w);
	if (sock >= 0) close(sock);
	if (out >= 0) close(out);
	unlinkat(D, tmp, 0);
	return -1;
}

#define BLOB_BUFFER (1 << 20)

static void *fetcher(void *unused)
{
	char *buf = malloc(BLOB_BUFFER), *spare = malloc(BLOB_BUFFER), why[512];
	for (;;) {
		pthread_mutex_lock(&mu);
		int i = failed || !buf ? nfetches : next_fetch++;
		pthread_mutex_unlock(&mu);
		if (i >= nfetches) break;
		int r = store_blob(&fetches[i], buf, spare, BLOB_BUFFER, why, sizeof why);
		pthread_mutex_lock(&mu);
		if (r == 0) stored++;
		else if (!failed) { failed = 1; snprintf(fail_why, sizeof fail_why, "%s", why); }
		pthread_mutex_unlock(&mu);
	}
	if (!buf) { pthread_mutex_lock(&mu); if (!failed) { failed = 1; snprintf(fail_why, sizeof fail_why, "out of memory"); } pthread_mutex_unlock(&mu); }
	free(buf);
	free(spare);
	return NULL;
}

static int by_size_desc(const void *a, const void *b)
{
	unsigned long long x = ((const struct blob *)a)->size, y = ((const struct blob *)b)->size;
	return x < y ? 1 : x > y ? -1 : 0;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

static int cold_copy(struct command *c)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* the recording: $XDG_CACHE_HOME (absolute) or ~/.cache, then oci-registry/copies (src/recopy.ts coldRecordingDir) */
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char base[PATH_MAX];
	if (xdg && xdg[0] == '/') snprintf(base, sizeof base, "%s", xdg);
	else if (home && home[0]) snprintf(base, sizeof base, "%s/.cache", home);
	else fallback("no cache directory");
	int bfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0) fallback("no cache directory %s", base);
	char name[17];
	recording_name(c, name);
	int exact_fd = open_recording(bfd, "oci-registry/copies", name), any_fd = -1;
	/* and the recording of the same command for any image of the registry (its source written docker://HOST/ and a star) */
	static struct command any;
	any = *c;
	const char *src = c->key[c->src_at] + 9, *sl = strchr(src, '/');
	if (sl && sl > src && sl[1]) {
		char *k = malloc((size_t)(sl - src) + 12);
		sprintf(k, "docker://%.*s/*", (int)(sl - src), src);
		any.key[c->src_at] = k;
		char any_name[17];
		recording_name(&any, any_name);
		any_fd = open_recording(bfd, "oci-registry/copies", any_name);
	}
	close(bfd);
	if (exact_fd < 0 && any_fd < 0) fallback("no recording of this command in %s/oci-registry/copies", base);
	/* the exact command's first; the one for any image when there is none, or when the first no longer holds */
	static int rfd;
	static struct facts f;
	rfd = exact_fd >= 0 ? exact_fd : any_fd;
	any_mode = exact_fd < 0;
	if (!any_mode && any_fd >= 0 && setjmp(retry_jmp)) {
		/* forget what the exact recording said (its text stays allocated: its tokens point into it) */
		rfd = any_fd;
		any_mode = 1;
		nbodies = nfetches = nmanifests = 0;
		w_layout = w_index0 = w_index = w_recopy = (struct bytes){ 0 };
	}
	retry_armed = !any_mode && any_fd >= 0;
	if (any_mode && exact_fd >= 0) close(exact_fd);
	size_t rlen;
	char *text = read_regular(rfd, MAX_RECORDING, &rlen);
	if (!text) fallback("the recording cannot be read");
	f = (struct facts){ 0 };
	read_recording(text, any_mode ? "oci-registry-cold-any" : "oci-registry-cold", any_mode ? &any : c, &f, cold_line);
	retry_armed = 0;
	if (!any_mode && any_fd >= 0) close(any_fd);
	if (any_mode) any_plan(c);
	if (!w_layout.set || !w_index0.set || !w_index.set || !w_recopy.set || nfetches + nmanifests == 0) fallback("an incomplete recording");
	for (int i = 0; i < nmanifests; i++) {
		for (int j = 0; j < nbodies && !manifests[i].body; j++) {
			if (!strcmp(bodies[j].hex, manifests[i].hex) && bodies[j].len == manifests[i].size) manifests[i].body = bodies[j].p;
		}
		if (!manifests[i].body) fallback("manifest sha256:%s was not among the answers", manifests[i].hex);
	}
	/* what goes into lock files and temp names (fsutil.ts selfOwner, tempName): host name, pid, start time */
	struct utsname u;
	if (uname(&u) != 0 || strlen(u.nodename) >= sizeof hostname_g || strpbrk(u.nodename, "\"\\") ) fallback("a host name JSON would escape");
	strcpy(hostname_g, u.nodename);
	{
		int sfd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
		size_t sl;
		char *st = sfd >= 0 ? read_regular(sfd, 4096, &sl) : NULL;
		if (sfd >= 0) close(sfd);
		char *rp = st ? strrchr(st, ')') : NULL;
		/* field 22 overall: the 20th after the one that follows ") " */
		char *save = NULL, *t = rp ? strtok_r(rp + 2, " ", &save) : NULL;
		for (int i = 0; t && i < 19; i++) t = strtok_r(NULL, " ", &save);
		if (!t || !is_token(t, "0123456789") || strlen(t) >= sizeof pid_start) fallback("no start time in /proc/self/stat");
		strcpy(pid_start, t);
	}
	int jobs = c->jobs;
	if (jobs < 1) fallback("--jobs is not a positive integer");
	char *parent = strdup(c->dir), *slash = strrchr(parent, '/');
	if (!slash) strcpy(parent, ".");
	else if (slash == parent) parent[1] = 0;
	else *slash = 0;

	/* Layout.init: the directory, .oci-ts/ingest, and under the lock blobs/sha256, index.json and oci-layout */
	if (mkdir(c->dir, 0777) != 0) fallback("cannot make %s: %s", c->dir, strerror(errno));
	D = open(c->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (D < 0) { rmdir(c->dir); fallback("cannot open %s", c->dir); }
	if (mkdirat(D, ".oci-ts", 0777) != 0 || mkdirat(D, ".oci-ts/ingest", 0777) != 0) cold_fail(c->dir, "cannot make .oci-ts/ingest");
	if (take_lock() != 0) cold_fail(c->dir, "cannot take the index lock");
	if (mkdirat(D, "blobs", 0777) != 0 || mkdirat(D, "blobs/sha256", 0777) != 0) cold_fail(c->dir, "cannot make blobs/sha256");
	if (write_atomic("index.json", w_index0.p, w_index0.len) != 0 || write_atomic("oci-layout", w_layout.p, w_layout.len) != 0) cold_fail(c->dir, "cannot write the layout's files");
	release_lock();
	fsync_dir(AT_FDCWD, parent);

	/* the blobs, largest first, --jobs at a time */
	qsort(fetches, (size_t)nfetches, sizeof *fetches, by_size_desc);
	int nthreads = jobs < nfetches ? jobs : nfetches;
	pthread_t th[64];
	if (nthreads > 64) nthreads = 64;
	int started = 0;
	for (int i = 0; i < nthreads; i++) if (pthread_create(&th[started], NULL, fetcher, NULL) == 0) started++;
	if (started == 0 && nfetches > 0) fetcher(NULL);
	for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
	if (failed || interrupted) cold_fail(c->dir, failed ? fail_why : "interrupted");
	/* the manifests, children before the index that names them (the recorded order) */
	char *buf = malloc(4096), why[512];
	for (int i = 0; i < nmanifests; i++) {
		if (store_blob(&manifests[i], buf, NULL, 4096, why, sizeof why) != 0) cold_fail(c->dir, why);
		stored++;
	}
	fsync_dir(D, "blobs/sha256");
	/* the image named in index.json, under the lock; then the re-copy's recording */
	if (take_lock() != 0) cold_fail(c->dir, "cannot take the index lock");
	if (write_atomic("index.json", w_index.p, w_index.len) != 0) cold_fail(c->dir, "cannot write index.json");
	release_lock();
	char rec[128], rtmp[160];
	snprintf(rec, sizeof rec, ".oci-ts/recopy/%s", name);
	snprintf(rtmp, sizeof rtmp, "%s.%d.tmp", rec, (int)getpid());
	int rf = -1;
	if (mkdirat(D, ".oci-ts/recopy", 0700) == 0 && (rf = openat(D, rtmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0 &&
		write_all(rf, w_recopy.p, w_recopy.len) == 0 && close(rf) == 0 && renameat(D, rtmp, D, rec) == 0) {
		rf = -1;
	} else {
		/* a copy never fails for its recording (src/recopy.ts writeRecording) */
		if (rf >= 0) close(rf);
		unlinkat(D, rtmp, 0);
	}
	/* used: the cold recording is kept longest (recordings are pruned oldest first) */
	futimens(rfd, NULL);
	close(rfd);
	return 0;
}

int main(int argc, char **argv)
{
	argc_g = argc;
	argv_g = argv;
	if (argc < 2) { dprintf(2, "usage: oci-registry-recopy LAUNCHER copy ARGS...\n"); return 2; }
	struct command c;
	sha256_choose();
	if (!parse_command(argc - 2, argv + 2, &c)) fallback("not a copy from docker:// to oci: with options this program knows");
	if (!c.quiet && isatty(2)) fallback("progress bars on a terminal");
	struct stat st;
	if (lstat(c.dir, &st) != 0 && errno == ENOENT) return cold_copy(&c);
	return recopy(&c);
}
