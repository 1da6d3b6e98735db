/* The trace harness's command stub (tests/trace, see sandbox.py).
 *
 * Inside a harness root every external command name is a two-byte-program file
 * "#!/.trace/stub", so the kernel runs this program with argv = [/.trace/stub, PATH, args...]
 * where PATH is the command as the shell resolved it.  It
 *   1. decides its exit status: the scenario's status when it is the invocation the scenario
 *      makes fail (/.trace/fail: status, occurrence, key; /.trace/count counts that key),
 *      otherwise what the small world model says (apt-get install without package lists: 100),
 *      otherwise 0;
 *   2. when it succeeds, applies the world model's effects (mkdir, apt lists, package
 *      add/remove of the toolchain binaries listed in /.trace/packages, rm under the apt lists,
 *      git clone's directory, the file a download writes) — or, for a pure text filter that
 *      reads only its stdin (awk, sed, cut, head, ...: ``filter`` below), runs the real one
 *      (the store's static busybox, /.trace/busybox) and takes its exit status;
 *   3. appends one record to /.trace/log (a single write: concurrent pipeline members do not
 *      interleave) and exits.
 * A record is a sequence of "LEN:BYTES" fields ended by "\n": status, path, argc, args...,
 * cwd, umask, stdin pipe inode, stdout pipe inode, pid, parent pid, envc, NAME=VALUE...,
 * async root pid, ancestor pipe count, ancestor pipe inodes... (see ancestry() below).
 * The policy (which flags are cache flags, which packages own which binaries) is written by
 * the Python side; this file is only the mechanism.  It must stay free of output on stdout,
 * except the pure filters (``tr`` below, the busybox ones) and the machine's answers
 * (``cmd_machine``): output a script uses as a name or a value.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LOG "/.trace/log"
#define FAIL "/.trace/fail"
#define COUNT "/.trace/count"
#define CACHEFLAGS "/.trace/cacheflags"
#define PACKAGES "/.trace/packages"
#define GROUPS "/.trace/groups/"
#define RELATIVE "/.trace/relative"
#define FILLED "/.trace/filled"
#define MADE "/.trace/made"
#define LISTS "/var/lib/apt/lists"
#define BUSYBOX "/.trace/busybox"
#define LOG_LIMIT (4L << 20)

typedef struct {
    char *data;
    size_t len, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data) _exit(125);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void field(buf *b, const char *s, size_t n) {
    char head[32];
    int k = snprintf(head, sizeof head, "%zu:", n);
    put(b, head, (size_t)k);
    put(b, s, n);
}

static void sfield(buf *b, const char *s) { field(b, s, strlen(s)); }

static void nfield(buf *b, long v) {
    char num[32];
    snprintf(num, sizeof num, "%ld", v);
    sfield(b, num);
}

static char *slurp(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    buf b = {0};
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) put(&b, chunk, (size_t)n);
    close(fd);
    put(&b, "", 1);
    *len = b.len - 1;
    return b.data;
}

static const char *base(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* --- the key: path, arguments without the declared cache flags, cwd ---------------------- */

static char *cache_flags;  /* "name\tflag\n" lines, read once */

static int is_cache_flag(const char *name, const char *arg) {
    if (!cache_flags) {
        size_t len;
        cache_flags = slurp(CACHEFLAGS, &len);
        if (!cache_flags) cache_flags = "";
    }
    size_t nlen = strlen(name), alen = strlen(arg);

    for (const char *line = cache_flags; *line;) {
        const char *end = strchr(line, '\n');
        size_t llen = end ? (size_t)(end - line) : strlen(line);
        const char *tab = memchr(line, '\t', llen);
        if (tab) {
            size_t plen = (size_t)(tab - line);
            /* "pip*" matches pip, pip3, pip3.12: a trailing '*' is a prefix match */
            int named = plen && line[plen - 1] == '*' ? nlen >= plen - 1 && !strncmp(line, name, plen - 1)
                                                       : plen == nlen && !strncmp(line, name, nlen);
            if (named && llen - plen - 1 == alen && !strncmp(tab + 1, arg, alen)) return 1;
        }
        line += llen + (end ? 1 : 0);
    }
    return 0;
}

/* The command a ``sudo`` runs: its index in argv, or 0 when argv is not sudo with only the
 * options below (declared.py's SUDO_* lists; an unknown option: not seen through). */
static int wrapped(int argc, char **argv) {
    static const char *const plain[] = {"-H", "-E", "-n", "--set-home", "--preserve-env", "--non-interactive", NULL};
    static const char *const valued[] = {"-u", "--user", NULL};
    if (strcmp(base(argv[1]), "sudo")) return 0;
    int i = 2;
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i];
        int known = 0;
        if (!strcmp(a, "--")) { i++; break; }
        for (int k = 0; plain[k]; k++) if (!strcmp(a, plain[k])) { known = 1; i++; break; }
        if (known) continue;
        for (int k = 0; valued[k]; k++) if (!strcmp(a, valued[k])) { known = 1; i += 2; break; }
        if (known) continue;
        if (!strncmp(a, "--user=", 7) || (!strncmp(a, "-u", 2) && a[2])) { i++; continue; }
        return 0;
    }
    return i < argc ? i : 0;
}

static void key(buf *b, int argc, char **argv, const char *cwd) {
    int inner = wrapped(argc, argv);
    const char *name = base(argv[1]), *inner_name = inner ? base(argv[inner]) : name;
    int kept = 0;
    for (int i = 2; i < argc; i++) kept += !is_cache_flag(inner && i > inner ? inner_name : name, argv[i]);
    sfield(b, argv[1]);
    nfield(b, kept);
    for (int i = 2; i < argc; i++)
        if (!is_cache_flag(inner && i > inner ? inner_name : name, argv[i])) sfield(b, argv[i]);
    sfield(b, cwd);
}

/* The scenario's failing invocation: FAIL holds "status\noccurrence\n" then the key. */
static int scenario_status(int argc, char **argv, const char *cwd) {
    size_t len;
    char *spec = slurp(FAIL, &len);
    if (!spec) return 0;
    char *rest;
    long status = strtol(spec, &rest, 10);
    long occurrence = strtol(rest + 1, &rest, 10);
    rest += 1;
    buf mine = {0};
    key(&mine, argc, argv, cwd);
    int match = (size_t)(spec + len - rest) == mine.len && memcmp(rest, mine.data, mine.len) == 0;
    free(spec);
    free(mine.data);
    if (!match) return 0;
    int fd = open(COUNT, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    flock(fd, LOCK_EX);
    char num[32] = {0};
    ssize_t n = read(fd, num, sizeof num - 1);
    long seen = n > 0 ? strtol(num, NULL, 10) : 0;
    int k = snprintf(num, sizeof num, "%ld\n", seen + 1);
    if (pwrite(fd, num, (size_t)k, 0) < 0) status = 125;
    close(fd);
    return seen == occurrence ? (int)status : 0;
}

/* --- the world model's effects ------------------------------------------------------------ */

static void mkdirs(const char *path) {
    char *copy = strdup(path);
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        mkdir(copy, 0755);
        *p = '/';
    }
    mkdir(copy, 0755);
    free(copy);
}

static void place_relative(const char *dir);

/* The directories the harness made before the build to fill gaps of the stub world
 * (/.trace/filled, one a line, written by sandbox.new_root: a ``cd`` target, the parent of a
 * stubbed ``/tmp/gradle-X/gradlew``) stand for what the build itself creates there.  The
 * first ``mkdir`` without -p of one therefore succeeds, as the build's own mkdir would; the
 * directory is then claimed (taken off the list), so a second mkdir fails as it really would.
 * Matched by inode: ``mkdir chinadns`` in / and ``/chinadns`` are the same directory. */
static int claim_filled(const char *dir) {
    struct stat want, st;
    if (stat(dir, &want) != 0 || !S_ISDIR(want.st_mode)) return 0;
    size_t len;
    char *list = slurp(FILLED, &len);
    if (!list) return 0;
    buf rest = {0};
    int found = 0;
    for (char *line = list; *line;) {
        char *end = strchr(line, '\n');
        size_t llen = end ? (size_t)(end - line) : strlen(line);
        char path[4096];
        int same = 0;
        if (!found && llen < sizeof path) {
            memcpy(path, line, llen);
            path[llen] = 0;
            same = stat(path, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino;
        }
        if (same) found = 1;
        else put(&rest, line, llen + (end ? 1 : 0));
        line += llen + (end ? 1 : 0);
    }
    if (found) {
        int fd = open(FILLED, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd >= 0) { if (rest.len && write(fd, rest.data, rest.len) < 0) {} close(fd); }
    }
    free(rest.data);
    free(list);
    return found;
}

/* ``path`` made absolute (against the working directory) with "." and ".." resolved. */
static void absolute(const char *path, char *out, size_t cap) {
    char joined[8200], cwd[4096];
    if (path[0] == '/' || !getcwd(cwd, sizeof cwd)) snprintf(joined, sizeof joined, "%s", path);
    else snprintf(joined, sizeof joined, "%s/%s", cwd, path);
    size_t k = 0;
    char *save;
    out[0] = 0;
    for (char *part = strtok_r(joined, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        if (!strcmp(part, ".")) continue;
        if (!strcmp(part, "..")) {
            while (k && out[k - 1] != '/') k--;
            if (k) k--;
            out[k] = 0;
            continue;
        }
        int w = snprintf(out + k, cap - k, "/%s", part);
        if (w < 0 || (size_t)w >= cap - k) break;
        k += (size_t)w;
    }
    if (!k) snprintf(out, cap, "/");
}

/* The directories the build's mkdir made (/.trace/made, one absolute path a line): a later
 * ``rm -r`` of one really removes it (``mkdir warmup && ... && rm -rf warmup``, then the
 * same again in a later RUN), so the second mkdir succeeds as it does in the real build. */
static void remember_made(const char *dir) {
    char path[4096];
    absolute(dir, path, sizeof path);
    int fd = open(MADE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    size_t len = strlen(path);
    path[len] = '\n';
    if (write(fd, path, len + 1) < 0) {}
    close(fd);
}

/* Take ``path`` (absolute) off the made list; whether it was on it. */
static int forget_made(const char *path) {
    size_t len;
    char *list = slurp(MADE, &len);
    if (!list) return 0;
    buf rest = {0};
    int found = 0;
    size_t plen = strlen(path);
    for (char *line = list; *line;) {
        char *end = strchr(line, '\n');
        size_t llen = end ? (size_t)(end - line) : strlen(line);
        if (llen == plen && !strncmp(line, path, plen)) found = 1;
        else put(&rest, line, llen + (end ? 1 : 0));
        line += llen + (end ? 1 : 0);
    }
    if (found) {
        int fd = open(MADE, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd >= 0) { if (rest.len && write(fd, rest.data, rest.len) < 0) {} close(fd); }
    }
    free(rest.data);
    free(list);
    return found;
}

/* A directory a build makes is where its downloads unpack (``mkdir -p $ERL_TOP && tar -C
 * $ERL_TOP ... && cd $ERL_TOP && ./otp_build``): it gets the relative commands the scripts
 * name, as every directory the harness makes does.  Not the apt lists (a stub there would
 * count as package lists). */
static void made_directory(const char *dir) {
    char real[4096];
    if (realpath(dir, real) && strncmp(real, LISTS, strlen(LISTS)) == 0) return;
    remember_made(dir);
    place_relative(dir);
}

static int cmd_mkdir(int n, char **args) {
    int parents = 0, operands = 0, status = 0;
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (!operands && strcmp(a, "--") == 0) { operands = 1; continue; }
        if (!operands && strncmp(a, "--", 2) == 0) {
            if (strcmp(a, "--parents") == 0) parents = 1;
            else if (strcmp(a, "--mode") == 0) i++;
            continue;
        }
        if (!operands && a[0] == '-' && a[1]) {
            for (const char *c = a + 1; *c; c++) {
                if (*c == 'p') parents = 1;
                if (*c == 'm') { if (!c[1]) i++; break; }
            }
            continue;
        }
        if (parents) {
            struct stat st;
            int existed = stat(a, &st) == 0;
            mkdirs(a);
            if (!existed) made_directory(a);
            continue;
        }
        int error = mkdir(a, 0755) == 0 ? 0 : errno;
        if (!error || (error == EEXIST && claim_filled(a))) {
            made_directory(a);
            continue;
        }
        fprintf(stderr, "mkdir: cannot create directory '%s': %s\n", a, strerror(error));
        status = 1;
    }
    return status;
}

static int lists_populated(void) {
    DIR *dir = opendir(LISTS);
    if (!dir) return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(dir)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "partial") &&
            strcmp(e->d_name, "lock") && strcmp(e->d_name, "auxfiles"))
            found = 1;
    closedir(dir);
    return found;
}

static const char *bin_dirs[] = {"/usr/local/sbin/", "/usr/local/bin/", "/usr/sbin/", "/usr/bin/", NULL};

/* add (1) or remove (0) the binaries /.trace/packages lists for this package. */
static void package(const char *spec, int add) {
    char name[256];
    size_t k = strcspn(spec, "=<>~:");
    if (k >= sizeof name) return;
    memcpy(name, spec, k);
    name[k] = 0;
    size_t len;
    char *table = slurp(PACKAGES, &len);
    if (!table) return;
    char *lines;
    for (char *line = strtok_r(table, "\n", &lines); line; line = strtok_r(NULL, "\n", &lines)) {
        char *save, *word = strtok_r(line, " ", &save);
        if (!word || strcmp(word, name)) continue;
        while ((word = strtok_r(NULL, " ", &save))) {
            char path[512];
            if (add) {
                snprintf(path, sizeof path, "/usr/bin/%s", word);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
                if (fd >= 0) { if (write(fd, "#!/.trace/stub\n", 15) < 0) {} close(fd); }
            } else {
                for (int d = 0; bin_dirs[d]; d++) {
                    snprintf(path, sizeof path, "%s%s", bin_dirs[d], word);
                    unlink(path);
                }
            }
        }
    }
    free(table);
}

/* A package manager's arguments: the subcommand and its operands, options skipped. */
static int operands(int n, char **args, const char *const *valued, char **out) {
    int count = 0;
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (a[0] == '-') {
            for (int v = 0; valued[v]; v++)
                if (strcmp(a, valued[v]) == 0) { i++; break; }
            continue;
        }
        out[count++] = args[i];
    }
    return count;
}

static int cmd_apt(int n, char **args) {
    static const char *const valued[] = {"-o", "-c", "-t", "-a", "--option", "--config-file",
                                         "--target-release", "--default-release", NULL};
    char **ops = calloc((size_t)n + 1, sizeof *ops);
    int count = operands(n, args, valued, ops), status = 0;
    const char *sub = count ? ops[0] : "";
    if (strcmp(sub, "update") == 0) {
        mkdirs(LISTS "/partial");
        int fd = open(LISTS "/deb.debian.org_debian_dists_stable_main_binary-amd64_Packages",
                      O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
    } else if (!strcmp(sub, "install") || !strcmp(sub, "reinstall") || !strcmp(sub, "build-dep") ||
               !strcmp(sub, "source") || !strcmp(sub, "download")) {
        int wants = 0;
        for (int i = 1; i < count; i++) wants += ops[i][0] != '.' && ops[i][0] != '/';
        if (wants && !lists_populated()) {
            fprintf(stderr, "E: Unable to locate package %s\n", ops[1]);
            status = 100;
        } else {
            for (int i = 1; i < count; i++) package(ops[i], 1);
        }
    } else if (!strcmp(sub, "remove") || !strcmp(sub, "purge") || !strcmp(sub, "autoremove")) {
        for (int i = 1; i < count; i++) package(ops[i], 0);
    }
    free(ops);
    return status;
}

/* A ``tr`` SET: ranges (a-z) and the escapes \\n \\t \\\\ expanded; 0 when it uses what this
 * small model does not know (character classes, equivalence classes, repeats). */
static int tr_set(const char *spec, char *out, size_t cap) {
    size_t k = 0;
    for (const char *c = spec; *c; c++) {
        if (*c == '[') return 0;
        int ch = (unsigned char)*c;
        if (*c == '\\' && c[1]) {
            c++;
            ch = *c == 'n' ? '\n' : *c == 't' ? '\t' : (unsigned char)*c;
        }
        if (c[1] == '-' && c[2]) {
            int last = (unsigned char)c[2];
            if (last < ch) return 0;
            for (int x = ch; x <= last; x++) { if (k + 1 >= cap) return 0; out[k++] = (char)x; }
            c += 2;
            continue;
        }
        if (k + 1 >= cap) return 0;
        out[k++] = (char)ch;
    }
    out[k] = 0;
    return 1;
}

/* ``tr -d SET`` and ``tr SET1 SET2`` filter stdin to stdout as the real one does, so a name
 * a script computes with it is right (docker-library python: ``dst="$(echo "$src" | tr -d 3)"``
 * then ``ln -svT "$src" "/usr/local/bin/$dst"``); other forms stay silent stubs. */
static int cmd_tr(int n, char **args) {
    char from[1024], to[1024];
    int delete = n == 2 && !strcmp(args[0], "-d");
    if (!(delete ? tr_set(args[1], from, sizeof from)
                 : n == 2 && args[0][0] != '-' && tr_set(args[0], from, sizeof from) && tr_set(args[1], to, sizeof to)))
        return 0;
    size_t nfrom = strlen(from), nto = delete ? 0 : strlen(to);
    if (!delete && !nto) return 0;
    unsigned char map[256];
    int drop[256] = {0};
    for (int i = 0; i < 256; i++) map[i] = (unsigned char)i;
    for (size_t i = 0; i < nfrom; i++) {
        unsigned char c = (unsigned char)from[i];
        if (delete) drop[c] = 1;
        else map[c] = (unsigned char)to[i < nto ? i : nto - 1];
    }
    char chunk[4096], outbuf[4096];
    ssize_t got;
    while ((got = read(0, chunk, sizeof chunk)) > 0) {
        size_t k = 0;
        for (ssize_t i = 0; i < got; i++) {
            unsigned char c = (unsigned char)chunk[i];
            if (!drop[c]) outbuf[k++] = (char)map[c];
        }
        if (k && write(1, outbuf, k) < 0) return 0;
    }
    return 0;
}

/* The machine the build runs on, as the commands that name it print it (an x86_64 Debian
 * builder): ``arch="$(dpkg --print-architecture)"; case "$arch" in amd64) ...;; *) exit 1``.
 * A silent stub made such scripts stop at their "unsupported architecture" branch, before
 * the steps a fix changed, so nothing after it was ever compared. Both sides see the same. */
static int say(const char *text) {
    return write(1, text, strlen(text)) < 0 ? 0 : 0;
}

static int cmd_machine(const char *name, int n, char **args) {
    if (!strcmp(name, "dpkg") && n == 1 && !strcmp(args[0], "--print-architecture")) return say("amd64\n");
    if (!strcmp(name, "apk") && n == 1 && !strcmp(args[0], "--print-arch")) return say("x86_64\n");
    if (!strcmp(name, "arch") && n == 0) return say("x86_64\n");
    if (!strcmp(name, "nproc") && n == 0) return say("2\n");
    if (!strcmp(name, "uname") && n == 1) {
        if (!strcmp(args[0], "-m") || !strcmp(args[0], "-p") || !strcmp(args[0], "-i")) return say("x86_64\n");
        if (!strcmp(args[0], "-s")) return say("Linux\n");
    }
    if (!strcmp(name, "uname") && n == 0) return say("Linux\n");
    if (!strcmp(name, "locale") && n == 1 && !strcmp(args[0], "charmap")) return say("UTF-8\n");
    if (!strcmp(name, "getconf") && n == 1 && !strcmp(args[0], "LONG_BIT")) return say("64\n");
    if (!strcmp(name, "rpm")) {  /* rpm --query --queryformat='%{ARCH}' rpm; rpm --eval '%{_arch}' */
        for (int i = 0; i < n; i++)
            if (strstr(args[i], "%{ARCH}") || strstr(args[i], "%{_arch}")) return say("x86_64");
    }
    return -1;
}

/* Ubuntu's add-apt-repository (since 18.04) updates the package lists after adding the
 * source, unless -n/--no-update: ``apt-add-repository -y ... && apt-get install firefox``. */
static int cmd_add_repository(int n, char **args) {
    for (int i = 0; i < n; i++)
        if (!strcmp(args[i], "-n") || !strcmp(args[i], "--no-update")) return 0;
    char update[] = "update";
    char *argv_update[] = {update, NULL};
    return cmd_apt(1, argv_update);
}

static void group_file(char *path, size_t size, const char *group) {
    snprintf(path, size, GROUPS "%s", group);
    for (char *p = path + strlen(GROUPS); *p; p++)
        if (*p == '/') *p = '_';
}

static int cmd_apk(int n, char **args) {
    static const char *const valued[] = {"-X", "--repository", "-p", "--root", "--arch", "--cache-dir",
                                         "--keys-dir", "--repositories-file", "-t", "--virtual", NULL};
    char **ops = calloc((size_t)n + 1, sizeof *ops);
    int count = operands(n, args, valued, ops);
    const char *sub = count ? ops[0] : "";
    if (strcmp(sub, "add") == 0) {
        const char *virtual = NULL;
        for (int i = 0; i + 1 < n; i++)
            if (!strcmp(args[i], "-t") || !strcmp(args[i], "--virtual")) virtual = args[i + 1];
        if (virtual) {
            char path[512];
            group_file(path, sizeof path, virtual);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            for (int i = 1; fd >= 0 && i < count; i++) {
                if (write(fd, ops[i], strlen(ops[i])) < 0 || write(fd, "\n", 1) < 0) break;
            }
            if (fd >= 0) close(fd);
        }
        for (int i = 1; i < count; i++) package(ops[i], 1);
    } else if (strcmp(sub, "del") == 0) {
        for (int i = 1; i < count; i++) {
            char path[512];
            size_t len;
            group_file(path, sizeof path, ops[i]);
            char *members = slurp(path, &len);
            if (!members) { package(ops[i], 0); continue; }
            char *save;
            for (char *m = strtok_r(members, "\n", &save); m; m = strtok_r(NULL, "\n", &save)) package(m, 0);
            free(members);
        }
    }
    free(ops);
    return 0;
}

static int cmd_yum(int n, char **args) {
    static const char *const valued[] = {"--setopt", "--enablerepo", "--disablerepo", "-x", "--exclude",
                                         "--installroot", "--releasever", NULL};
    char **ops = calloc((size_t)n + 1, sizeof *ops);
    int count = operands(n, args, valued, ops);
    const char *sub = count ? ops[0] : "";
    int add = !strcmp(sub, "install"), del = !strcmp(sub, "remove") || !strcmp(sub, "erase");
    for (int i = 1; (add || del) && i < count; i++) package(ops[i], add);
    free(ops);
    return 0;
}

/* rm deletes for real only under the apt lists (the one cache a later step reads in the model). */
static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        struct dirent *e;
        while (dir && (e = readdir(dir))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char child[4096];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (dir) closedir(dir);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int cmd_rm(int n, char **args, const char *cwd) {
    int operands_only = 0, recursive = 0;
    for (int i = 0; i < n; i++) {
        if (args[i][0] != '-' || !strcmp(args[i], "--")) continue;
        if (!strcmp(args[i], "--recursive") || (args[i][1] != '-' && strpbrk(args[i] + 1, "rR"))) recursive = 1;
    }
    for (int i = 0; i < n; i++) {
        if (!operands_only && args[i][0] == '-') { operands_only = !strcmp(args[i], "--"); continue; }
        /* ``rm -rf "$GNUPGHOME"`` with an empty value (a stub's ``mktemp -d`` prints nothing):
         * the real rm removes nothing for "" (and refuses "." and ".."), not the directory. */
        const char *last = base(args[i]);
        if (!args[i][0] || !strcmp(last, ".") || !strcmp(last, "..")) continue;
        if (recursive) {
            char made[4096];
            absolute(args[i], made, sizeof made);
            if (forget_made(made)) { remove_tree(made); continue; }
        }
        char path[4096];
        if (args[i][0] == '/') snprintf(path, sizeof path, "%s", args[i]);
        else snprintf(path, sizeof path, "%s/%s", cwd, args[i]);
        char *p;
        while ((p = strstr(path, "//"))) memmove(p, p + 1, strlen(p));
        if (strncmp(path, LISTS "/", sizeof LISTS) == 0 && !strstr(path, "/.."))
            remove_tree(path);
    }
    return 0;
}

/* A cloned repository has the scripts the build runs from it (``cd gperftools &&
 * ./autogen.sh``): the relative command paths the scripts name (/.trace/relative, one a line,
 * written by sandbox.new_root) are placed in the clone's directory as stubs, as the harness
 * does in every directory it makes itself. */
static void place_relative(const char *dir) {
    size_t len;
    char *list = slurp(RELATIVE, &len);
    if (!list) return;
    char *save;
    for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *name = strncmp(line, "./", 2) == 0 ? line + 2 : line;
        if (!*name || strchr(name, '/')) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        if (fd >= 0) { if (write(fd, "#!/.trace/stub\n", 15) < 0) {} close(fd); }
    }
    free(list);
}

static int cmd_git(int n, char **args) {
    int i = 0;
    while (i < n && args[i][0] == '-') i += (!strcmp(args[i], "-C") || !strcmp(args[i], "-c")) ? 2 : 1;
    if (i >= n || strcmp(args[i], "clone")) return 0;
    static const char *const valued[] = {"-b", "--branch", "--depth", "-o", "--origin", "-c", "--config",
                                         "--reference", "-j", "--jobs", "--filter", "-u", "--upload-pack",
                                         "--separate-git-dir", "--shallow-since", NULL};
    char **ops = calloc((size_t)n + 1, sizeof *ops);
    int count = operands(n - i - 1, args + i + 1, valued, ops);
    if (count >= 2) {
        mkdirs(ops[1]);
        place_relative(ops[1]);
    } else if (count == 1) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", ops[0]);
        size_t len = strlen(dir);
        while (len && dir[len - 1] == '/') dir[--len] = 0;
        if (len > 4 && !strcmp(dir + len - 4, ".git")) dir[len - 4] = 0;
        if (*base(dir) && mkdir(base(dir), 0755) == 0) place_relative(base(dir));
    }
    free(ops);
    return 0;
}

/* --- downloads: the file a successful download writes ------------------------------------------
 * ``curl -fL -o "$f" "$url" && [ -s "$f" ]`` (docker-library tomcat), ``wget -O x.tgz URL && tar
 * -xzf x.tgz``: a download that succeeds leaves a non-empty file, on every machine. The file is
 * a stub script ("#!/.trace/stub" then a comment naming the URL): running it (after the
 * ``chmod +x`` the stub world does not model) is an invocation like any other, a shell reading
 * it (``sh install.sh``) runs nothing, and what the build downloaded where is compared with
 * the other files. Only a file that does not exist yet is written (a stub or placeholder the
 * harness put there stays); "-" (stdout), recursive and spider modes write nothing here. */

static int in_set(char c, const char *set) { return c && strchr(set, c) != NULL; }

static int is_named(const char *arg, const char *const *names) {
    for (int k = 0; names[k]; k++)
        if (!strcmp(arg, names[k])) return 1;
    return 0;
}

/* The last path segment of a URL ("" when it ends with '/'); ``query`` keeps "?...". */
static void url_name(const char *url, char *out, size_t cap, int query) {
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    const char *path = strchr(start, '/');
    out[0] = 0;
    if (!path) return;
    size_t end = strcspn(path, query ? "#" : "?#");
    const char *name = path;
    for (size_t i = 0; i < end; i++)
        if (path[i] == '/') name = path + i + 1;
    size_t len = (size_t)(path + end - name);
    if (len >= cap) return;
    memcpy(out, name, len);
    out[len] = 0;
}

static void write_download(const char *dir, const char *file, const char *url, int create_dirs) {
    char path[4096];
    if (!*file || !strcmp(file, "-")) return;
    if (file[0] != '/' && dir && *dir) snprintf(path, sizeof path, "%s/%s", dir, file);
    else snprintf(path, sizeof path, "%s", file);
    char real[4096];
    absolute(path, real, sizeof real);
    if (!strncmp(real, LISTS "/", sizeof LISTS) || !strncmp(real, "/.trace/", 8) || !strncmp(real, "/proc/", 6) ||
        !strncmp(real, "/dev/", 5))
        return;
    struct stat st;
    if (lstat(path, &st) == 0) return;
    if (create_dirs) {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", real);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) { *slash = 0; mkdirs(parent); }
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (fd < 0) return;
    buf text = {0};
    put(&text, "#!/.trace/stub\n# downloaded from ", 33);
    put(&text, url, strcspn(url, "\n"));
    put(&text, "\n", 1);
    if (write(fd, text.data, text.len) < 0) {}
    close(fd);
    free(text.data);
}

static int cmd_curl(int n, char **args) {
    static const char valued[] = "AbcCdDeEFHKmoPQrtTuUwxXyYz";
    static const char *const long_valued[] = {
        "--output", "--output-dir", "--header", "--data", "--data-raw", "--data-binary", "--data-urlencode",
        "--user", "--user-agent", "--retry", "--retry-delay", "--retry-max-time", "--max-time", "--connect-timeout",
        "--proto", "--proto-redir", "--cacert", "--capath", "--cert", "--key", "--write-out", "--request",
        "--referer", "--cookie", "--cookie-jar", "--form", "--range", "--config", "--proxy", "--resolve",
        "--limit-rate", "--max-redirs", "--continue-at", "--dns-servers", "--interface", "--netrc-file",
        "--oauth2-bearer", "--time-cond", "--upload-file", "--url", "--ciphers", "--tls-max", "--dump-header",
        "--trace", "--trace-ascii", "--stderr", "--speed-limit", "--speed-time", "--pinnedpubkey",
        "--create-file-mode", "--max-filesize", "--noproxy", "--proxy-user", "--socks5", "--socks5-hostname",
        "--unix-socket", "--variable", "--json", "--url-query", "--aws-sigv4", "--cert-type", "--key-type",
        "--local-port", "--preproxy", "--proxy-header", "--form-string", "--quote", NULL};
    const char *outputs[64], *urls[64], *dir = NULL;
    int nout = 0, nurl = 0, all_remote = 0, create_dirs = 0, operands_only = 0;
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (operands_only || a[0] != '-' || !a[1]) {
            if (nurl < 64) urls[nurl++] = a;
            continue;
        }
        if (!strcmp(a, "--")) { operands_only = 1; continue; }
        if (a[1] == '-') {
            const char *value = i + 1 < n ? args[i + 1] : "";
            if (!strcmp(a, "--output")) { if (nout < 64) outputs[nout++] = value; i++; }
            else if (!strcmp(a, "--remote-name")) { if (nout < 64) outputs[nout++] = ""; }
            else if (!strcmp(a, "--remote-name-all")) all_remote = 1;
            else if (!strcmp(a, "--create-dirs")) create_dirs = 1;
            else if (!strcmp(a, "--output-dir")) { dir = value; i++; }
            else if (!strcmp(a, "--url")) { if (nurl < 64) urls[nurl++] = value; i++; }
            else if (!strncmp(a, "--output=", 9)) { if (nout < 64) outputs[nout++] = a + 9; }
            else if (!strncmp(a, "--output-dir=", 13)) dir = a + 13;
            else if (!strncmp(a, "--url=", 6)) { if (nurl < 64) urls[nurl++] = a + 6; }
            else if (!strcmp(a, "--head") || !strcmp(a, "--next")) return 0;  /* not one plain download */
            else if (is_named(a, long_valued)) i++;
            continue;
        }
        for (const char *c = a + 1; *c; c++) {
            if (*c == 'O') { if (nout < 64) outputs[nout++] = ""; continue; }
            if (*c == 'I' || *c == ':') return 0;
            if (in_set(*c, valued)) {
                const char *value = c[1] ? c + 1 : (i + 1 < n ? args[++i] : "");
                if (*c == 'o' && nout < 64) outputs[nout++] = value;
                break;
            }
        }
    }
    for (int u = 0; u < nurl; u++) {
        const char *out = u < nout ? outputs[u] : all_remote ? "" : NULL;
        if (!out) continue;
        char remote[1024];
        if (!*out) url_name(urls[u], remote, sizeof remote, 0);
        write_download(dir, *out ? out : remote, urls[u], create_dirs);
    }
    return 0;
}

static int cmd_wget(int n, char **args) {
    static const char valued[] = "OoaPtTwQeiUBlADIRXn";
    static const char *const long_valued[] = {
        "--output-document", "--directory-prefix", "--header", "--user", "--password", "--user-agent", "--tries",
        "--timeout", "--wait", "--ca-certificate", "--certificate", "--private-key", "--post-data", "--post-file",
        "--method", "--body-data", "--load-cookies", "--save-cookies", "--output-file", "--append-output",
        "--input-file", "--execute", "--limit-rate", "--quota", "--dns-timeout", "--connect-timeout",
        "--read-timeout", "--waitretry", "--referer", "--http-user", "--http-password", "--ftp-user",
        "--ftp-password", "--proxy-user", "--proxy-password", "--bind-address", "--level", "--accept", "--reject",
        "--domains", "--include-directories", "--exclude-directories", "--progress", "--ca-directory",
        "--secure-protocol", "--ciphers", NULL};
    static const char *const whole[] = {"--recursive", "--mirror", "--page-requisites", "--spider",
                                        "--force-directories", "--input-file", "--content-disposition", NULL};
    const char *document = NULL, *dir = NULL, *urls[64];
    int nurl = 0, operands_only = 0;
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (operands_only || a[0] != '-' || !a[1]) {
            if (nurl < 64) urls[nurl++] = a;
            continue;
        }
        if (!strcmp(a, "--")) { operands_only = 1; continue; }
        if (a[1] == '-') {
            const char *value = i + 1 < n ? args[i + 1] : "";
            size_t k = strcspn(a, "=");
            if (is_named(a, whole) || (a[k] && !strncmp(a, "--input-file", k))) return 0;
            if (!strcmp(a, "--output-document")) { document = value; i++; }
            else if (!strcmp(a, "--directory-prefix")) { dir = value; i++; }
            else if (!strncmp(a, "--output-document=", 18)) document = a + 18;
            else if (!strncmp(a, "--directory-prefix=", 19)) dir = a + 19;
            else if (is_named(a, long_valued)) i++;
            continue;
        }
        for (const char *c = a + 1; *c; c++) {
            if (in_set(*c, "rmpxi")) return 0;  /* recursive, mirror, requisites, host dirs, input file */
            if (in_set(*c, valued)) {
                const char *value = c[1] ? c + 1 : (i + 1 < n ? args[++i] : "");
                if (*c == 'O') document = value;
                if (*c == 'P') dir = value;
                break;
            }
        }
    }
    if (!nurl) return 0;
    if (document) {
        write_download(NULL, document, urls[0], 0);
        return 0;
    }
    for (int u = 0; u < nurl; u++) {
        char name[1024];
        url_name(urls[u], name, sizeof name, 1);
        write_download(dir, *name ? name : "index.html", urls[u], dir != NULL);
    }
    return 0;
}

/* --- pure text filters: the real one, from the store's static busybox -----------------------
 * ``arch="$(dpkg --print-architecture | awk -F- '{ print $NF }')"; case "$arch" in amd64) ...;;
 * *) exit 1`` (docker-library redis): a silent awk took the ``exit 1`` branch. A filter that
 * reads only its stdin and writes only its stdout (no file operand, no option that names a
 * file or edits in place) computes the same output from the same input on every machine, so
 * the stub runs the real one on the stdin it was given (what builtins and stubs printed) and
 * exits with its status. Only the option letters listed here, each as GNU and busybox both
 * read it, are let through; any other form stays a silent stub. The scenario's failure still
 * wins: a failing invocation is not run (main). grep is not here: on a stub's empty output a
 * real ``grep -q`` would fail where the real build's grep finds its line. */

typedef struct {
    const char *name;
    const char *flags;    /* option letters without a value */
    const char *valued;   /* option letters with a value (attached or the next argument) */
    const char *program;  /* valued letters that give the program (awk -e, sed -e) */
    int program_operand;  /* the first operand is the program unless a program letter gave it */
    int min_operands, max_operands;  /* other operands (names for basename/dirname; no files) */
    int numeric_count;    /* ``head -1``, ``tail -5`` */
} filter_spec;

static const filter_spec filters[] = {
    {"awk", "", "Fv", "", 1, 0, 0, 0},
    {"sed", "nrE", "e", "e", 1, 0, 0, 0},
    {"cut", "sn", "bcdf", "", 0, 0, 0, 0},
    {"head", "qv", "nc", "", 0, 0, 0, 1},
    {"tail", "qv", "nc", "", 0, 0, 0, 1},
    {"sort", "nrugMbdfiVsz", "kt", "", 0, 0, 0, 0},
    {"uniq", "cdui", "fsw", "", 0, 0, 0, 0},
    {"tac", "", "", "", 0, 0, 0, 0},
    {"rev", "", "", "", 0, 0, 0, 0},
    {"basename", "", "", "", 0, 1, 2, 0},
    {"dirname", "", "", "", 0, 1, 1, 0},
    {NULL, NULL, NULL, NULL, 0, 0, 0, 0},
};

static const filter_spec *pure_filter(const char *name, int n, char **args) {
    const filter_spec *spec = NULL;
    for (int k = 0; filters[k].name; k++)
        if (!strcmp(filters[k].name, name)) spec = &filters[k];
    if (!spec) return NULL;
    int operands = 0, have_program = 0, operands_only = 0;
    for (int i = 0; i < n; i++) {
        const char *a = args[i];
        if (operands_only || a[0] != '-' || !a[1]) {
            if (!strcmp(a, "-")) return NULL;  /* stdin named as a file: not worth the forms */
            operands++;
            continue;
        }
        if (!strcmp(a, "--")) { operands_only = 1; continue; }
        if (a[1] == '-') return NULL;  /* long options differ between implementations */
        if (spec->numeric_count && strspn(a + 1, "0123456789") == strlen(a + 1)) continue;
        for (const char *c = a + 1; *c; c++) {
            if (in_set(*c, spec->flags)) continue;
            if (!in_set(*c, spec->valued)) return NULL;
            if (!c[1] && ++i >= n) return NULL;
            have_program |= in_set(*c, spec->program);
            break;
        }
    }
    if (spec->program_operand && !have_program) operands--;  /* the program itself */
    if (spec->program_operand && !have_program && operands < 0) return NULL;
    return operands >= spec->min_operands && operands <= spec->max_operands ? spec : NULL;
}

static sigset_t original_mask;

/* Run the filter; its exit status (128 + signal when a signal ended it, 127 when busybox
 * could not run: sandbox.unavailable() checks it is there). */
static int run_filter(int argc, char **argv) {
    pid_t child = fork();
    if (child < 0) return 125;
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &original_mask, NULL);
        char **applet = calloc((size_t)argc, sizeof *applet);
        if (!applet) _exit(125);
        applet[0] = (char *)base(argv[1]);
        for (int i = 2; i < argc; i++) applet[i - 1] = argv[i];
        execv(BUSYBOX, applet);
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) return 125;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int effects(int argc, char **argv, const char *cwd) {
    /* ``sudo [-H|-E|-u USER ...] CMD ARGS``: the stub stands for sudo and the command it runs
     * (the build runs as root), so CMD's effects apply: ``sudo rm -rf /var/lib/apt/lists/*``
     * deletes the lists a later install reads. */
    int inner = wrapped(argc, argv), at = inner ? inner : 1;
    const char *name = base(argv[at]);
    int n = argc - at - 1;
    char **args = argv + at + 1;
    int machine = cmd_machine(name, n, args);
    if (machine >= 0) return machine;
    if (!strcmp(name, "mkdir")) return cmd_mkdir(n, args);
    if (!strcmp(name, "apt-get") || !strcmp(name, "apt")) return cmd_apt(n, args);
    if (!strcmp(name, "add-apt-repository") || !strcmp(name, "apt-add-repository")) return cmd_add_repository(n, args);
    if (!strcmp(name, "apk")) return cmd_apk(n, args);
    if (!strcmp(name, "yum") || !strcmp(name, "dnf") || !strcmp(name, "microdnf")) return cmd_yum(n, args);
    if (!strcmp(name, "rm")) return cmd_rm(n, args, cwd);
    if (!strcmp(name, "tr")) return cmd_tr(n, args);
    if (!strcmp(name, "git")) return cmd_git(n, args);
    if (!strcmp(name, "curl")) return cmd_curl(n, args);
    if (!strcmp(name, "wget")) return cmd_wget(n, args);
    return 0;
}

/* --- the record ----------------------------------------------------------------------------- */

static long pipe_inode(int fd) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) ? (long)st.st_ino : 0;
}

/* The process tree above this invocation, up to the RUN's shell (PID 1 of the sandbox's PID
 * namespace), read from /proc:
 * - the pipe inodes on each ancestor's stdin and stdout: a command run by a pipeline member
 *   (``echo "$(grep x | awk y)" | sha256sum -c -``: grep and awk run under the echo subshell
 *   whose stdout is sha256sum's stdin) runs concurrently with the other members;
 * - the async root: the topmost process that ignores SIGINT where the RUN's shell does not.
 *   A shell without job control starts every asynchronous list (``cmd &``) with SIGINT and
 *   SIGQUIT ignored (POSIX 2.11; dash's forkchild, bash's "asynchronous commands ignore
 *   SIGINT"), an ignored disposition survives exec and is inherited, so that process is the
 *   background job's first process; PIDs in the fresh namespace are handed out in fork order,
 *   which places the job's start among the commands before it. */
static long fd_pipe(long pid, int fd) {
    char path[64], target[64];
    snprintf(path, sizeof path, "/proc/%ld/fd/%d", pid, fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = 0;
    return strncmp(target, "pipe:[", 6) == 0 ? strtol(target + 6, NULL, 10) : 0;
}

static int proc_status_state(long pid, long *ppid, int *ignores_int, char *state) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    size_t len;
    char *text = slurp(path, &len);
    if (!text) return 0;
    char *p = strstr(text, "\nPPid:");
    *ppid = p ? strtol(p + 6, NULL, 10) : 0;
    p = strstr(text, "\nSigIgn:");
    unsigned long long mask = p ? strtoull(p + 8, NULL, 16) : 0;
    *ignores_int = (int)((mask >> (SIGINT - 1)) & 1);
    p = strstr(text, "\nState:");
    *state = p ? p[strspn(p + 7, " \t") + 7] : '?';
    free(text);
    return 1;
}

static int proc_status(long pid, long *ppid, int *ignores_int) {
    char state;
    return proc_status_state(pid, ppid, ignores_int, &state);
}

/* ``sleep`` in a script gives its background jobs time to run. In the stub world every
 * command takes no time, so after a sleep every job started before it has done all it would
 * do: the sleep stub waits until no other process is left in the RUN's namespace (but the
 * RUN's shell, this stub's ancestors and zombies) — a background job's process may not even
 * ignore SIGINT yet, just forked — for at most SLEEP_LIMIT_MS (a job that never ends,
 * ``while :; do sleep 1; done &``). Without this a job that a later ``kill $!`` ends leaves
 * its record or not by chance. */
#define SLEEP_LIMIT_MS 2000

static int background_left(void) {
    long ppid;
    int ignores;
    long mine[64];
    int depth = 0;
    for (long pid = (long)getpid(); pid > 1 && depth < 64; depth++) {
        mine[depth] = pid;
        if (!proc_status(pid, &ppid, &ignores)) break;
        pid = ppid;
    }
    DIR *dir = opendir("/proc");
    if (!dir) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(dir))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 1) continue;
        int own = 0;
        for (int k = 0; k < depth; k++) own |= mine[k] == pid;
        char state;
        if (!own && proc_status_state(pid, &ppid, &ignores, &state) && state != 'Z') found = 1;
    }
    closedir(dir);
    return found;
}

static void let_background_run(void) {
    for (int waited = 0; waited < SLEEP_LIMIT_MS && background_left(); waited++) usleep(1000);
}

static void ancestry(buf *rec) {
    long ppid, pid = (long)getpid(), root = 0;
    int shell_ignores = 0, ignores;
    if (!proc_status(1, &ppid, &shell_ignores)) shell_ignores = 1;  /* no /proc: nothing is async */
    buf pipes = {0};
    long count = 0;
    for (int depth = 0; pid > 1 && depth < 64; depth++) {
        if (!proc_status(pid, &ppid, &ignores)) break;
        if (ignores && !shell_ignores) root = pid;
        if (pid != (long)getpid()) {
            for (int fd = 0; fd < 2; fd++) {
                long inode = fd_pipe(pid, fd);
                if (inode) { nfield(&pipes, inode); count++; }
            }
        }
        pid = ppid;
    }
    nfield(rec, root);
    nfield(rec, count);
    if (pipes.len) put(rec, pipes.data, pipes.len);
    free(pipes.data);
}

static int skipped_env(const char *entry) {
    static const char *const names[] = {"_", "PWD", "OLDPWD", "SHLVL", NULL};
    for (int i = 0; names[i]; i++) {
        size_t k = strlen(names[i]);
        if (strncmp(entry, names[i], k) == 0 && entry[k] == '=') return 1;
    }
    return 0;
}

/* A command reading a pipe reads it to the end, as the program it stands for would
 * (``echo "$sum *file" | sha256sum -c -``): a stub that exits first leaves the writer a
 * SIGPIPE, which kills a builtin ``echo`` (exit 141 under ``set -o pipefail``) or a
 * ``{ ...; }`` subshell before its later commands, depending on who the scheduler ran first:
 * traces that differed between two builds of the same file. Bounded: 16 MiB, or 5 s without
 * data from a writer that never closes its end. */
static void drain_stdin(void) {
    if (!pipe_inode(0)) return;
    char chunk[65536];
    size_t total = 0;
    struct pollfd ready = {0, POLLIN, 0};
    while (total < (16u << 20) && poll(&ready, 1, 5000) > 0) {
        ssize_t got = read(0, chunk, sizeof chunk);
        if (got <= 0) return;
        total += (size_t)got;
    }
}

int main(int argc, char **argv) {
    /* Record before a signal can end it: a background job's stub that a later ``kill $!``
     * reaches mid-way would leave no record, or leave one, by chance. The stub returns at once
     * either way; the pending signal is dropped at exit. */
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &original_mask);
    if (argc < 2) return 127;
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
    int log = open(LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    struct stat st;
    if (log < 0 || fstat(log, &st) != 0 || st.st_size > LOG_LIMIT) return 127;

    int status = scenario_status(argc, argv, cwd);
    if (status == 0)
        status = pure_filter(base(argv[1]), argc - 2, argv + 2) ? run_filter(argc, argv) : effects(argc, argv, cwd);
    if (!strcmp(base(argv[1]), "sleep")) let_background_run();
    drain_stdin();

    mode_t mask = umask(0);
    umask(mask);
    char octal[16];
    snprintf(octal, sizeof octal, "%04o", (unsigned)mask);

    buf rec = {0};
    nfield(&rec, status);
    sfield(&rec, argv[1]);
    nfield(&rec, argc - 2);
    for (int i = 2; i < argc; i++) sfield(&rec, argv[i]);
    sfield(&rec, cwd);
    sfield(&rec, octal);
    nfield(&rec, pipe_inode(0));
    nfield(&rec, pipe_inode(1));
    nfield(&rec, (long)getpid());
    nfield(&rec, (long)getppid());
    long envc = 0;
    for (char **e = environ; *e; e++) envc += !skipped_env(*e);
    nfield(&rec, envc);
    for (char **e = environ; *e; e++)
        if (!skipped_env(*e)) sfield(&rec, *e);
    ancestry(&rec);
    put(&rec, "\n", 1);
    if (write(log, rec.data, rec.len) < 0) return 125;
    return status;
}
