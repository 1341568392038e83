/*
 * dlrt_file.c — bounded reads of regular files and the one atomic file writer (dlrt_file.h).
 *
 * Invariants: a reader never blocks on a FIFO (it is opened non-blocking, then refused) and
 * never reads more than its limit; the writer never leaves a temporary behind, never replaces a
 * file that is not regular, and leaves the target untouched when anything fails. Temporaries
 * are created with O_EXCL under a random name (as mkstemp does, but with the usual 0666 & ~umask
 * permissions instead of 0600, and without changing the process's umask, which other threads
 * of a user's program may depend on), relative to the target's directory (openat, renameat), so
 * no temporary path is ever built that could be longer than the target's own.
 */
#define _XOPEN_SOURCE 700 /* realpath, openat */
#include "dlrt_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* "a FIFO", "a directory", ...: what a non-regular file is, for messages */
static const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

/* "16 MiB", "4 GiB": a limit for messages */
static const char *size_text(uint64_t n, char *buf, size_t len) {
    if (n >= (1u << 30) && n % (1u << 30) == 0) snprintf(buf, len, "%llu GiB", (unsigned long long)(n >> 30));
    else if (n >= (1u << 20) && n % (1u << 20) == 0) snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
    else snprintf(buf, len, "%llu bytes", (unsigned long long)n);
    return buf;
}

/* checks an open descriptor's file: regular, within limit (0 or -1 with a message) */
static int check_readable(int fd, const char *path, uint64_t limit, const char *what, char *err,
                          size_t errlen) {
    struct stat st;
    char lim[32];
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: is %s; a %s must be a regular file", path, kind_of(st.st_mode),
                 what);
        return -1;
    }
    if ((uint64_t)st.st_size > limit) {
        snprintf(err, errlen, "%s: %lld bytes is over the %s limit for a %s", path,
                 (long long)st.st_size, size_text(limit, lim, sizeof lim), what);
        return -1;
    }
    return 0;
}

int dlrt_open_read(const char *path, uint64_t limit, const char *what, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (check_readable(fd, path, limit, what, err, errlen) != 0) {
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

/* reads fd to its end into *buf (grown as needed, at most limit bytes); 0, or an errno value,
 * or -1 when the file grew past the limit while it was read */
static int read_all(int fd, unsigned char **buf, size_t *len, size_t cap, uint64_t limit) {
    for (;;) {
        if (*len + 1 >= cap) {
            unsigned char *bigger = realloc(*buf, cap * 2);
            if (!bigger) return ENOMEM;
            *buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, *buf + *len, cap - *len - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return errno;
        if (got == 0) return 0;
        *len += (size_t)got;
        if (*len > limit) return -1;
    }
}

unsigned char *dlrt_read_file_max(const char *path, uint64_t limit, const char *what, size_t *size,
                                  char *err, size_t errlen) {
    int fd = dlrt_open_read(path, limit, what, err, errlen);
    if (fd < 0) return NULL;
    struct stat st;
    size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 2 : 4096;
    size_t len = 0;
    unsigned char *buf = malloc(cap);
    int bad = buf ? read_all(fd, &buf, &len, cap, limit) : ENOMEM;
    close(fd);
    if (bad) {
        char lim[32];
        if (bad < 0)
            snprintf(err, errlen, "%s: grew past the %s limit for a %s while it was read", path,
                     size_text(limit, lim, sizeof lim), what);
        else snprintf(err, errlen, "%s: cannot read: %s", path, strerror(bad));
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    *size = len;
    return buf;
}

unsigned char *dlrt_read_file(const char *path, size_t *size, char *err, size_t errlen) {
    return dlrt_read_file_max(path, DLRT_FILE_MAX, "file", size, err, errlen);
}

/* ---- writing ---- */

/* writes all of data to fd; 0 or an errno value */
static int write_all(int fd, const void *data, size_t size) {
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static int write_error(const char *path, int e, char *err, size_t errlen) {
    snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
    return -1;
}

/* an existing file that is not regular (a device, a FIFO): written where it is */
static int write_in_place(const char *path, const void *data, size_t size, char *err,
                          size_t errlen) {
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return write_error(path, errno, err, errlen);
    int e = write_all(fd, data, size);
    if (close(fd) != 0 && !e && errno != EINTR) e = errno;
    return e ? write_error(path, e, err, errlen) : 0;
}

/* the directory holding target, opened (fd, or -errno); *base gets target's last component.
 * Temporaries are named relative to it, so they fit wherever the target's path fits. */
static int open_parent(const char *target, const char **base) {
    const char *slash = strrchr(target, '/');
    *base = slash ? slash + 1 : target;
    char *dir = slash ? malloc((size_t)(slash - target) + 2) : NULL;
    if (slash && !dir) return -ENOMEM;
    if (dir) {
        size_t n = slash == target ? 1 : (size_t)(slash - target); /* "/f": the root */
        memcpy(dir, target, n);
        dir[n] = 0;
    }
    int fd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    free(dir);
    return fd >= 0 ? fd : -e;
}

/* creates a fresh temporary in directory dirfd, its name in tmp; fd or -errno */
static int create_temp(int dirfd, char tmp[32]) {
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)tmp;
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t r = (seed + ++counter) * 0x9e3779b97f4a7c15ULL;
        char name[9];
        for (int i = 0; i < 8; i++, r /= 36) name[i] = digits[r % 36];
        name[8] = 0;
        snprintf(tmp, 32, ".dlc-%s.tmp", name); /* 17 bytes */
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) return fd >= 0 ? fd : -errno;
    }
    return -EEXIST;
}

/* the temporary's bytes, mode (old's, when replacing a file) and flush to disk; 0 or errno */
static int fill_temp(int fd, const struct stat *old, const void *data, size_t size) {
    int e = old && fchmod(fd, old->st_mode & 07777) != 0 ? errno : 0;
    if (!e) e = write_all(fd, data, size);
    if (!e && fsync(fd) != 0 && errno != EINVAL && errno != EROFS) e = errno;
    if (close(fd) != 0 && !e && errno != EINTR) e = errno;
    return e;
}

/* target (a regular file, or missing) replaced by a temporary renamed over it; messages name
 * path (what the user wrote; target is it with links resolved) */
static int write_replacing(const char *path, const char *target, const struct stat *old,
                           const void *data, size_t size, char *err, size_t errlen) {
    const char *base;
    char tmp[32];
    int dirfd = open_parent(target, &base);
    if (dirfd < 0) return write_error(path, -dirfd, err, errlen);
    int fd = create_temp(dirfd, tmp);
    int e = fd < 0 ? -fd : fill_temp(fd, old, data, size);
    if (fd >= 0 && !e && renameat(dirfd, tmp, dirfd, base) != 0) e = errno;
    if (fd >= 0 && e) unlinkat(dirfd, tmp, 0);
    close(dirfd);
    return e ? write_error(path, e, err, errlen) : 0;
}

int dlrt_write_file(const char *path, const void *data, size_t size, char *err, size_t errlen) {
    struct stat st;
    if (!path[0]) {
        snprintf(err, errlen, "cannot write a file with an empty name");
        return -1;
    }
    if (stat(path, &st) != 0)
        return errno == ENOENT ? write_replacing(path, path, NULL, data, size, err, errlen)
                               : write_error(path, errno, err, errlen);
    if (S_ISDIR(st.st_mode)) return write_error(path, EISDIR, err, errlen);
    if (!S_ISREG(st.st_mode)) return write_in_place(path, data, size, err, errlen);
    if (access(path, W_OK) != 0) return write_error(path, errno, err, errlen);
    struct stat link;
    if (lstat(path, &link) != 0 || !S_ISLNK(link.st_mode))
        return write_replacing(path, path, &st, data, size, err, errlen);
    char *real = realpath(path, NULL); /* a symbolic link: replace the file it names */
    if (!real) return write_error(path, errno, err, errlen);
    int status = write_replacing(path, real, &st, data, size, err, errlen);
    free(real);
    return status;
}
