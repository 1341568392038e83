/*
 * dlrt_file.h — reading and writing whole files safely, for the compiler and the runtime alike.
 *
 * Reading: only regular files are read (a FIFO, a device, a socket or a directory is refused
 * without blocking on it), and a file over the caller's size limit is refused before a byte of
 * it is read, so /dev/zero, /dev/urandom or a FIFO never make a reader hang or grow without
 * bound. The limits are documented in docs/cli.md ("Files").
 *
 * Writing: dlrt_write_file replaces a regular file (or creates a missing one) atomically: the
 * bytes go to a fresh, exclusively created temporary in the target's directory, are flushed to
 * disk, and the temporary is renamed over the target; on any failure the temporary is removed
 * and the target is untouched. An existing target that is not a regular file (/dev/null, a
 * FIFO, a terminal) is written in place and never replaced; a symbolic link is followed.
 * Functions return 0 (or a pointer/fd) on success and -1 (NULL) with "PATH: what is wrong" in
 * err[errlen].
 */
#ifndef DLRT_FILE_H
#define DLRT_FILE_H
#include <stddef.h>
#include <stdint.h>

#define DLRT_SOURCE_MAX ((uint64_t)16 << 20) /* largest model source (.dl) read: 16 MiB */
#define DLRT_FILE_MAX ((uint64_t)4 << 30)    /* largest weights, data or module file: 4 GiB */

/* Opens path for reading if it is a regular file of at most `limit` bytes; `what` names the
 * file's role in messages ("model source", "weights file"). Returns the descriptor or -1. */
int dlrt_open_read(const char *path, uint64_t limit, const char *what, char *err, size_t errlen);

/* The whole regular file at `path` (at most `limit` bytes), NUL-terminated after its *size
 * bytes (free() it); NULL with a message naming the file when it cannot be opened or read. */
unsigned char *dlrt_read_file_max(const char *path, uint64_t limit, const char *what, size_t *size,
                                  char *err, size_t errlen);

/* dlrt_read_file_max with the DLRT_FILE_MAX limit. */
unsigned char *dlrt_read_file(const char *path, size_t *size, char *err, size_t errlen);

/* Writes size bytes of data to path as described above. */
int dlrt_write_file(const char *path, const void *data, size_t size, char *err, size_t errlen);

#endif
