/*
 * build.c — turning generated C into a loaded model. The shared object is cached by a hash of
 * (source, compiler command): a second run of the same model skips the C compiler. clang is
 * the C driver, falling back to cc. The cache entry is written under a temporary name and
 * renamed, so an interrupted build never leaves a broken entry behind.
 */
#include "driver.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int dlc_write_file_atomic(const char *path, const char *text) {
    char err[1024];
    if (dlrt_write_file(path, text, strlen(text), err, sizeof err) == 0) return 0;
    fprintf(stderr, "dlc: error: %s\n", err);
    return -1;
}

static uint64_t fnv1a(uint64_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

uint64_t dlc_cache_hash(uint64_t h, const char *text) { return fnv1a(h ? h : 0xcbf29ce484222325ULL, text); }

int dlc_path(char *buf, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (len >= 0 && (size_t)len < n) return 0;
    fprintf(stderr, "dlc: error: %.200s...: path too long (at most %zu bytes)\n", buf, n - 1);
    return -1;
}

int dlc_mkdir_p(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

const char *dlc_cache_dir(const dlc_options *o, char *buf, size_t n) {
    const char *env = getenv("DLC_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int bad;
    if (o->cache_dir) bad = dlc_path(buf, n, "%s", o->cache_dir);
    else if (env && *env) bad = dlc_path(buf, n, "%s", env);
    else if (xdg && *xdg) bad = dlc_path(buf, n, "%s/dlc", xdg);
    else bad = dlc_path(buf, n, "%s/.cache/dlc", home && *home ? home : "/tmp");
    return bad ? NULL : buf;
}

static int on_path(const char *prog) {
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        int n = snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, prog);
        if (n > 0 && (size_t)n < sizeof buf && access(buf, X_OK) == 0) return 1;
        path = end ? end + 1 : NULL;
    }
    return 0;
}

int dlc_run_command(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int dlc_run_into(char *const argv[], const char *tmp, const char *path) {
    if (dlc_run_command(argv) == 0 && rename(tmp, path) == 0) return 0;
    remove(tmp);
    return -1;
}

/* OpenBLAS as dlc was built with it, when this machine has it (a dlc carried to a machine
 * without it, such as the GPU machine, builds models with the portable GEMM instead) and
 * $DLC_PORTABLE_GEMM is unset or 0 (set, the built-in GEMM: tools/numeric_kernels.sh) */
static int have_openblas(void) {
    const char *portable = getenv("DLC_PORTABLE_GEMM");
    if (portable && *portable && strcmp(portable, "0") != 0) return 0;
    return access(DLC_OPENBLAS_LIBRARY, R_OK) == 0 && access(DLC_CBLAS_INCLUDE_DIR "/cblas.h", R_OK) == 0;
}

/* compiler argv for src -> out; the same text feeds the cache key */
static int compiler_argv(const char *cc, const char *src, const char *out, char **argv) {
    int n = 0, blas = have_openblas();
    argv[n++] = (char *)cc;
    static char *const flags[] = {"-std=c99", "-O3", "-march=native", "-fPIC", "-shared",
#ifndef DLC_GENERATED_C_SERIAL /* see CMakeLists.txt: sanitized builds */
                                  "-fopenmp",
#endif
                                  NULL};
    for (int i = 0; flags[i]; i++) argv[n++] = flags[i];
    if (blas) {
        argv[n++] = "-DDLC_USE_CBLAS";
        argv[n++] = "-I" DLC_CBLAS_INCLUDE_DIR;
    }
    argv[n++] = "-o";
    argv[n++] = (char *)out;
    argv[n++] = (char *)src;
    if (blas) argv[n++] = DLC_OPENBLAS_LIBRARY;
    argv[n++] = "-lm";
    argv[n] = NULL;
    return n;
}

static int compile_into_cache(const char *dir, const char *key, const char *cc, const char *source,
                              const char *so_path, int quiet) {
    char c_path[4096], tmp_so[4096];
    if (dlc_path(c_path, sizeof c_path, "%s/%s.c", dir, key) ||
        dlc_path(tmp_so, sizeof tmp_so, "%s/%s.so.tmp.%ld", dir, key, (long)getpid()) ||
        dlc_write_file_atomic(c_path, source))
        return -1;
    char *argv[20];
    compiler_argv(cc, c_path, tmp_so, argv);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (dlc_run_into(argv, tmp_so, so_path)) {
        fprintf(stderr, "dlc: error: the C compiler (%s) failed on the generated code %s\n", cc, c_path);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!quiet)
        fprintf(stderr, "dlc: compiled the model with %s in %.2fs\n", cc,
                (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);
    return 0;
}

const dlrt_model_desc *dlc_build_and_load(const char *source, const char *prefix,
                                          const dlc_options *o, void **handle) {
    char dir[3072], so_path[4096], key[32];
    if (!dlc_cache_dir(o, dir, sizeof dir)) return NULL;
    if (dlc_mkdir_p(dir) != 0) {
        fprintf(stderr, "dlc: error: cache directory %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    const char *cc = on_path("clang") ? "clang" : "cc";
    char *argv[20];
    int argc = compiler_argv(cc, "", "", argv);
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, source);
    for (int i = 0; i < argc; i++) h = fnv1a(h, argv[i]);
    snprintf(key, sizeof key, "%016llx", (unsigned long long)h);
    if (dlc_path(so_path, sizeof so_path, "%s/%s.so", dir, key)) return NULL;
    if (access(so_path, R_OK) == 0) {
        if (!o->quiet) fprintf(stderr, "dlc: using the cached build %s\n", so_path);
    } else if (compile_into_cache(dir, key, cc, source, so_path, o->quiet)) {
        return NULL;
    }
    *handle = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    char sym[256];
    if (dlc_path(sym, sizeof sym, "%s_model", prefix)) return NULL;
    const dlrt_model_desc *(*entry)(void) = NULL;
    if (*handle) *(void **)&entry = dlsym(*handle, sym);
    if (!entry) {
        fprintf(stderr, "dlc: error: %s: cannot load: %s\n", so_path, dlerror());
        return NULL;
    }
    return entry();
}
