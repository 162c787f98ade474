/* submission.c — finds the wanted files of a submission, in a directory tree
 * or in an archive, and copies them, flat, into a fresh directory.
 *
 * One pass over the submission records every entry whose base name is wanted
 * (a candidate) and counts or notes the rest; then each wanted name picks its
 * candidate and, when it is a regular file, writes it. Nothing from the
 * submission names a file we create: we only ever write dest/<wanted name>. */
#define _GNU_SOURCE
#include "submission.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Notes of one kind listed one by one before the rest are only counted: a
 * node_modules folder would otherwise bury the report under its links. */
#define NOTES_PER_KIND 5
/* Names from the submission are cut to this many bytes in messages. */
#define SHOWN_MAX 200
#define READ_CHUNK (64 * 1024)

/* What an entry of the submission is. Only K_FILE is ever copied. */
typedef enum {
    K_FILE,
    K_DIR,
    K_SYMLINK,
    K_HARDLINK,
    K_SPECIAL,   /* device, FIFO, socket */
    K_ENCRYPTED, /* a zip entry behind a password */
    K_UNSAFE,    /* an archive path that is absolute or climbs with ".." */
    K_DEEP,      /* below SUBMISSION_MAX_DEPTH levels of folders */
    K_UNREADABLE,
    NKINDS
} kind_t;

static const char *const kind_note[NKINDS] = {
    [K_SYMLINK] = "skipped a symbolic link",
    [K_HARDLINK] = "skipped a hard link",
    [K_ENCRYPTED] = "skipped an encrypted file",
    [K_UNSAFE] = "ignored an entry with an unsafe path",
};

static const char *const kind_plural[NKINDS] = {
    [K_SYMLINK] = "symbolic links",
    [K_HARDLINK] = "hard links",
    [K_SPECIAL] = "special files (devices, FIFOs, sockets)",
    [K_ENCRYPTED] = "encrypted files",
    [K_UNSAFE] = "entries with unsafe paths",
    [K_DEEP] = "entries too deep",
    [K_UNREADABLE] = "unreadable entries",
};

/* An entry whose base name is wanted. */
typedef struct {
    char *path; /* from the top of the submission, as found */
    int depth;  /* folders above it */
    kind_t kind;
    const char *what; /* K_SPECIAL: "a FIFO", ... */
    bool too_big;
    char *data; /* archives: the content; a directory's file is read when taken */
    size_t len;
} cand_t;

typedef struct {
    cand_t *v;
    size_t n;
} cands_t;

typedef struct {
    const strvec_t *wanted;
    cands_t *found; /* a list per wanted name */
    submission_result_t *res;
    const char *where; /* "the archive" or "the directory" */
    int rootfd;        /* directories: chosen files are opened below it */
    size_t entries;
    unsigned long long bytes; /* archives: entry data produced so far */
    size_t other_files;
    size_t noted[NKINDS];
    strvec_t problems; /* joined into res->error */
} scan_t;

/* ---- messages ---- */

/* A name from the submission, fit for a one-line message: cut, valid UTF-8,
 * no control characters (a file name may hold a newline or a terminal escape). */
static char *shown(const char *s)
{
    size_t n = strlen(s);
    bool cut = n > SHOWN_MAX;
    if (cut)
        n = SHOWN_MAX;
    char *d = xasprintf("%.*s%s", (int)n, s, cut ? "..." : "");
    for (size_t i = 0; i < n; i++)
        if (d[i] == '\n' || d[i] == '\t')
            d[i] = '?';
    utf8_clean(d, n);
    return d;
}

static bool fail(scan_t *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a problem that stops the whole submission; returns false. */
static bool fail(scan_t *sc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    sv_push(&sc->problems, msg);
    free(msg);
    return false;
}

static void note_kind(scan_t *sc, kind_t k, const char *what, const char *path)
{
    if (++sc->noted[k] > NOTES_PER_KIND)
        return;
    char *p = shown(path);
    if (k == K_SPECIAL)
        sv_pushf(&sc->res->notes, "skipped %s: %s", what, p);
    else if (k == K_UNREADABLE)
        sv_pushf(&sc->res->notes, "could not read %s: %s", p, what);
    else if (k == K_DEEP)
        sv_pushf(&sc->res->notes, "did not look below %d levels of folders: %s",
                 SUBMISSION_MAX_DEPTH, p);
    else
        sv_pushf(&sc->res->notes, "%s: %s", kind_note[k], p);
    free(p);
}

static void note_totals(scan_t *sc)
{
    for (int k = 0; k < NKINDS; k++)
        if (sc->noted[k] > NOTES_PER_KIND)
            sv_pushf(&sc->res->notes, "%zu more %s, not listed", sc->noted[k] - NOTES_PER_KIND,
                     kind_plural[k]);
    if (sc->other_files > 0)
        sv_pushf(&sc->res->notes, "ignored %zu other file%s", sc->other_files,
                 sc->other_files == 1 ? "" : "s");
}

/* "a", "a and b", "a, b and c" */
static char *words_and(const strvec_t *sv)
{
    strbuf_t sb = {0};
    for (size_t i = 0; i < sv->n; i++) {
        if (i > 0)
            sb_append(&sb, i + 1 == sv->n ? " and " : ", ");
        sb_append(&sb, sv->v[i]);
    }
    return sb_take(&sb);
}

/* ---- candidates ---- */

static long wanted_index(const scan_t *sc, const char *base)
{
    for (size_t i = 0; i < sc->wanted->n; i++)
        if (strcmp(sc->wanted->v[i], base) == 0)
            return (long)i;
    return -1;
}

/* Counts or notes an entry that is not a directory. Returns a new candidate
 * when its base name is wanted (the caller fills in a file's content), NULL
 * otherwise. Entries too deep are never candidates; unsafe ones are, only so
 * that a missing file can be explained. */
static cand_t *record(scan_t *sc, const char *path, const char *base, int depth, kind_t kind,
                      const char *what)
{
    long w = wanted_index(sc, base);
    if (kind == K_UNSAFE || kind == K_DEEP || (w < 0 && kind != K_FILE))
        note_kind(sc, kind, what, path);
    if (w < 0 || kind == K_DEEP) {
        if (w < 0 && kind == K_FILE)
            sc->other_files++;
        return NULL;
    }
    cands_t *l = &sc->found[w];
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    cand_t *c = &l->v[l->n++];
    *c = (cand_t){.path = xstrdup(path), .depth = depth, .kind = kind, .what = what};
    return c;
}

static void scan_free(scan_t *sc)
{
    for (size_t i = 0; i < sc->wanted->n; i++) {
        for (size_t j = 0; j < sc->found[i].n; j++) {
            free(sc->found[i].v[j].path);
            free(sc->found[i].v[j].data);
        }
        free(sc->found[i].v);
    }
    free(sc->found);
    sv_free(&sc->problems);
    if (sc->rootfd >= 0)
        close(sc->rootfd);
}

/* ---- directories ---- */

static kind_t kind_of_mode(mode_t mode, const char **what)
{
    if (S_ISREG(mode))
        return K_FILE;
    if (S_ISDIR(mode))
        return K_DIR;
    if (S_ISLNK(mode))
        return K_SYMLINK;
    *what = S_ISFIFO(mode)   ? "a FIFO"
            : S_ISCHR(mode)  ? "a character device"
            : S_ISBLK(mode)  ? "a block device"
            : S_ISSOCK(mode) ? "a socket"
                             : "a file of unknown type";
    return K_SPECIAL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in d, sorted so that notes and messages are the same on every run.
 * False when the tree holds too many entries. */
static bool list_names(scan_t *sc, DIR *d, strvec_t *names)
{
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (++sc->entries > SUBMISSION_MAX_ENTRIES)
            return fail(sc, "the directory holds more than %d entries", SUBMISSION_MAX_ENTRIES);
        sv_push(names, e->d_name);
    }
    if (names->n > 0)
        qsort(names->v, names->n, sizeof *names->v, cmp_str);
    return true;
}

static bool walk_dir(scan_t *sc, int fd, const char *rel, int depth);

static bool enter_dir(scan_t *sc, int dfd, const char *name, const char *rel, int depth)
{
    if (depth > SUBMISSION_MAX_DEPTH) {
        note_kind(sc, K_DEEP, NULL, rel);
        return true;
    }
    /* O_NOFOLLOW: a link swapped in since lstat is refused, not followed. */
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        note_kind(sc, K_UNREADABLE, strerror(errno), rel);
        return true;
    }
    return walk_dir(sc, fd, rel, depth);
}

/* One entry of a directory, by lstat: links are recorded as links, never
 * followed. A file's content is read only when it is taken. */
static bool walk_entry(scan_t *sc, int dfd, const char *dir_rel, const char *name, int depth)
{
    char *rel = dir_rel[0] != '\0' ? xasprintf("%s/%s", dir_rel, name) : xstrdup(name);
    struct stat st;
    const char *what = NULL;
    bool ok = true;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        note_kind(sc, K_UNREADABLE, strerror(errno), rel);
    } else if (S_ISDIR(st.st_mode)) {
        ok = enter_dir(sc, dfd, name, rel, depth + 1);
    } else {
        kind_t kind = kind_of_mode(st.st_mode, &what);
        cand_t *c = record(sc, rel, name, depth, kind, what);
        if (c != NULL && c->kind == K_FILE)
            c->too_big = st.st_size > SUBMISSION_MAX_FILE_BYTES;
    }
    free(rel);
    return ok;
}

/* Walks the directory open as fd (which it closes); its files are depth
 * levels of folders below the top. */
static bool walk_dir(scan_t *sc, int fd, const char *rel, int depth)
{
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        note_kind(sc, K_UNREADABLE, strerror(errno), rel[0] != '\0' ? rel : ".");
        close(fd);
        return true;
    }
    strvec_t names = {0};
    bool ok = list_names(sc, d, &names);
    for (size_t i = 0; ok && i < names.n; i++)
        ok = walk_entry(sc, dirfd(d), rel, names.v[i], depth);
    sv_free(&names);
    closedir(d);
    return ok;
}

/* Opens rel, a path the walk found, below rootfd one component at a time with
 * O_NOFOLLOW, so that a link swapped in since the walk is refused. */
static int open_below(int rootfd, const char *rel)
{
    char *copy = xstrdup(rel);
    int dfd = rootfd;
    char *part = copy;
    int fd = -1;
    for (char *slash; (slash = strchr(part, '/')) != NULL; part = slash + 1) {
        *slash = '\0';
        int next = openat(dfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd != rootfd)
            close(dfd);
        if (next < 0)
            goto out;
        dfd = next;
    }
    /* O_NONBLOCK: a FIFO swapped in must not hang the grader; fstat refuses it. */
    fd = openat(dfd, part, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (dfd != rootfd) {
        int saved = errno;
        close(dfd);
        errno = saved;
    }
out:
    free(copy);
    return fd;
}

/* Reads a regular file of a directory submission, at most the size cap plus a
 * byte (its size may have changed since the walk). NULL with *why set when it
 * cannot be read. */
static char *read_below(int rootfd, const char *rel, size_t *len, bool *too_big, const char **why)
{
    int fd = open_below(rootfd, rel);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        *why = strerror(errno);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        *why = "it is no longer a regular file";
        return NULL;
    }
    strbuf_t sb = {0};
    char buf[READ_CHUNK];
    ssize_t n;
    while (sb.len <= SUBMISSION_MAX_FILE_BYTES && (n = read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            *why = strerror(errno);
            close(fd);
            free(sb.s);
            return NULL;
        }
        sb_appendn(&sb, buf, (size_t)n);
    }
    close(fd);
    *too_big = sb.len > SUBMISSION_MAX_FILE_BYTES;
    *len = sb.len;
    return sb_take(&sb);
}

static bool scan_directory(scan_t *sc, int fd)
{
    sc->where = "the directory";
    sc->rootfd = fd;
    int walk_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (walk_fd < 0)
        return fail(sc, "cannot read the directory: %s", strerror(errno));
    return walk_dir(sc, walk_fd, "", 0);
}

/* ---- archives ---- */

/* The entry's path with empty and "." components dropped and '\\' read as a
 * separator too (zips made on Windows), or NULL when it is absolute or climbs
 * with "..": such an entry is never taken. *depth: the folders above it. */
static char *normalize(const char *name, int *depth)
{
    if (name[0] == '/' || name[0] == '\\')
        return NULL;
    strbuf_t sb = {0};
    int parts = 0;
    for (const char *p = name; *p != '\0';) {
        size_t n = strcspn(p, "/\\");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            free(sb.s);
            return NULL;
        }
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (parts++ > 0)
                sb_append(&sb, "/");
            sb_appendn(&sb, p, n);
        }
        p += n;
        if (*p != '\0')
            p++;
    }
    *depth = parts - 1;
    return sb_take(&sb);
}

static const char *base_of(const char *path)
{
    const char *base = path;
    for (const char *p = path; *p != '\0'; p++)
        if ((*p == '/' || *p == '\\') && p[1] != '\0')
            base = p + 1;
    return base;
}

static kind_t kind_of_entry(struct archive_entry *e, const char **what)
{
    /* Checked first: tar gives a hard link entry no file type at all. */
    if (archive_entry_hardlink(e) != NULL)
        return K_HARDLINK;
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        return archive_entry_is_encrypted(e) ? K_ENCRYPTED : K_FILE;
    case AE_IFDIR:
        return K_DIR;
    case AE_IFLNK:
        return K_SYMLINK;
    case AE_IFIFO:
        *what = "a FIFO";
        return K_SPECIAL;
    case AE_IFCHR:
        *what = "a character device";
        return K_SPECIAL;
    case AE_IFBLK:
        *what = "a block device";
        return K_SPECIAL;
    case AE_IFSOCK:
        *what = "a socket";
        return K_SPECIAL;
    default:
        *what = "an entry of unknown type";
        return K_SPECIAL;
    }
}

static bool fail_damaged(scan_t *sc, struct archive *a)
{
    const char *msg = archive_error_string(a);
    char *m = shown(msg != NULL ? msg : "unknown error");
    fail(sc, "the archive is damaged: %s", m);
    free(m);
    return false;
}

/* Reads the entry's data to its end, keeping it in keep (unless NULL) up to the
 * size cap. Every byte counts against the archive's cap, kept or not: skipping
 * a compressed entry inflates it all the same, so a bomb is stopped here. */
static bool drain(scan_t *sc, struct archive *a, strbuf_t *keep, bool *too_big)
{
    char buf[READ_CHUNK];
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, sizeof buf);
        if (n == 0)
            return true;
        if (n < 0)
            return fail_damaged(sc, a);
        sc->bytes += (unsigned long long)n;
        if (sc->bytes > SUBMISSION_MAX_TOTAL_BYTES)
            return fail(sc, "the archive expands to more than %ld MiB",
                        SUBMISSION_MAX_TOTAL_BYTES >> 20);
        if (keep == NULL || *too_big)
            continue;
        if (keep->len + (size_t)n > SUBMISSION_MAX_FILE_BYTES) {
            *too_big = true;
            free(keep->s);
            *keep = (strbuf_t){0};
        } else {
            sb_appendn(keep, buf, (size_t)n);
        }
    }
}

/* Records one entry of the archive and consumes its data. */
static bool read_entry(scan_t *sc, struct archive *a, struct archive_entry *e)
{
    /* UTF-8 first: in the C locale libarchive cannot convert a UTF-8 name to
     * the locale's charset; the raw bytes are the fallback. */
    const char *name = archive_entry_pathname_utf8(e);
    if (name == NULL)
        name = archive_entry_pathname(e);
    if (name == NULL) {
        note_kind(sc, K_UNREADABLE, "its name is not valid", "an entry");
        return drain(sc, a, NULL, NULL);
    }
    const char *what = NULL;
    kind_t kind = kind_of_entry(e, &what);
    int depth = 0;
    char *rel = normalize(name, &depth);
    cand_t *c = NULL;
    if (rel == NULL)
        c = record(sc, name, base_of(name), 0, K_UNSAFE, NULL);
    else if (kind == K_DIR || rel[0] == '\0')
        ; /* folders exist only as prefixes of the files' paths */
    else if (depth > SUBMISSION_MAX_DEPTH)
        record(sc, rel, base_of(rel), depth, K_DEEP, NULL);
    else
        c = record(sc, rel, base_of(rel), depth, kind, what);
    free(rel);
    if (kind == K_ENCRYPTED) /* its data cannot be read; skipping does not inflate it */
        return archive_read_data_skip(a) == ARCHIVE_OK || fail_damaged(sc, a);
    if (c == NULL || c->kind != K_FILE)
        return drain(sc, a, NULL, NULL);
    strbuf_t keep = {0};
    bool ok = drain(sc, a, &keep, &c->too_big);
    c->len = keep.len;
    c->data = sb_take(&keep);
    return ok;
}

static bool read_entries(scan_t *sc, struct archive *a)
{
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            return true;
        if (++sc->entries > SUBMISSION_MAX_ENTRIES)
            return fail(sc, "the archive expands to more than %d entries", SUBMISSION_MAX_ENTRIES);
        /* Headers, padding and data skipped by libarchive itself count too. */
        if (archive_filter_bytes(a, 0) > SUBMISSION_MAX_TOTAL_BYTES)
            return fail(sc, "the archive expands to more than %ld MiB",
                        SUBMISSION_MAX_TOTAL_BYTES >> 20);
        if (r == ARCHIVE_RETRY)
            continue;
        if (r < ARCHIVE_WARN)
            return fail_damaged(sc, a);
        if (!read_entry(sc, a, e))
            return false;
    }
}

static bool scan_archive(scan_t *sc, int fd, const char *shown_path)
{
    sc->where = "the archive";
    struct archive *a = archive_read_new();
    if (a == NULL)
        die("out of memory");
    /* Only what students hand in. Not archive_read_support_format_all: it
     * would also read text files as mtree descriptions of files on disk, and
     * formats nobody here needs are more parsers for a hostile input. */
    archive_read_support_format_tar(a);
    archive_read_support_format_zip(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    bool ok;
    if (archive_read_open_fd(a, fd, READ_CHUNK) == ARCHIVE_OK)
        ok = read_entries(sc, a);
    /* No format recognised it ("Unrecognized archive format"): libarchive's
     * ARCHIVE_ERRNO_FILE_FORMAT is private, and EILSEQ on Linux. */
    else if (archive_format(a) == 0 && archive_errno(a) == EILSEQ)
        ok = fail(sc, "%s is neither a directory nor an archive (tar, tar.gz, zip)", shown_path);
    else
        ok = fail_damaged(sc, a);
    archive_read_free(a);
    return ok;
}

/* ---- the submission ---- */

static bool scan(scan_t *sc, const char *path)
{
    char *p = shown(path);
    struct stat st, st2;
    bool ok = false;
    int fd = -1;
    /* The instructor named path, so a link there is followed; inside, never. */
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            fail(sc, "%s does not exist", p);
        else
            fail(sc, "cannot read %s: %s", p, strerror(errno));
    } else if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
        /* Not even opened: opening a device or a FIFO can block or act. */
        fail(sc, "%s is neither a directory nor an archive (tar, tar.gz, zip)", p);
    } else if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
        fail(sc, "cannot read %s: %s", p, strerror(errno));
    } else if (fstat(fd, &st2) != 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino) {
        fail(sc, "%s changed while it was read", p);
    } else if (S_ISDIR(st2.st_mode)) {
        ok = scan_directory(sc, fd);
        fd = -1; /* now sc->rootfd */
    } else {
        ok = scan_archive(sc, fd, p);
    }
    if (fd >= 0)
        close(fd);
    free(p);
    return ok;
}

/* "two files named pool.c: a/pool.c, b/pool.c" */
static void problem_duplicates(scan_t *sc, const char *name, const cands_t *l, size_t nsafe)
{
    strbuf_t sb = {0};
    size_t listed = 0;
    for (size_t i = 0; i < l->n && listed < 5; i++) {
        if (l->v[i].kind == K_UNSAFE)
            continue;
        char *s = shown(l->v[i].path);
        sb_printf(&sb, "%s%s", listed++ > 0 ? ", " : "", s);
        free(s);
    }
    char count[32];
    snprintf(count, sizeof count, "%zu", nsafe);
    sv_pushf(&sc->problems, "%s files named %s: %s%s", nsafe == 2 ? "two" : count, name, sb.s,
             nsafe > listed ? ", ..." : "");
    free(sb.s);
}

/* Picks the candidate for one wanted name: the one at the top level, else the
 * only one in the tree. NULL, with a problem recorded (or the name added to
 * missing), when there is none. */
static cand_t *choose(scan_t *sc, const char *name, const cands_t *l, strvec_t *missing)
{
    cand_t *top = NULL, *any = NULL, *unsafe = NULL;
    size_t ntop = 0, nsafe = 0;
    for (size_t i = 0; i < l->n; i++) {
        cand_t *c = &l->v[i];
        if (c->kind == K_UNSAFE) {
            unsafe = unsafe != NULL ? unsafe : c;
            continue;
        }
        nsafe++;
        any = c;
        if (c->depth == 0) {
            ntop++;
            top = c;
        }
    }
    if (ntop == 1)
        return top;
    if (ntop == 0 && nsafe == 1)
        return any;
    if (ntop > 1) {
        sv_pushf(&sc->problems, "%s holds %s %zu times", sc->where, name, ntop);
    } else if (nsafe > 1) {
        problem_duplicates(sc, name, l, nsafe);
    } else if (unsafe != NULL) {
        char *s = shown(unsafe->path);
        sv_pushf(&sc->problems, "%s is in %s only under an unsafe path (%s); it was not taken",
                 name, sc->where, s);
        free(s);
    } else {
        sv_push(missing, name);
    }
    return NULL;
}

/* Writes a new file in destfd, never through an existing name or a link. */
static bool write_new(int destfd, const char *name, const char *data, size_t len)
{
    int fd = openat(destfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    bool ok = true;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0)
            ok = false;
        else
            off += (size_t)w;
    }
    int saved = errno;
    if (close(fd) != 0)
        ok = false, saved = errno;
    if (!ok) {
        unlinkat(destfd, name, 0);
        errno = saved;
    }
    return ok;
}

static void take_file(scan_t *sc, cand_t *c, const char *name, int destfd, const char *dest)
{
    char *p = shown(c->path);
    const char *why = NULL;
    if (c->data == NULL && !c->too_big && sc->rootfd >= 0)
        c->data = read_below(sc->rootfd, c->path, &c->len, &c->too_big, &why);
    if (c->too_big) {
        sv_pushf(&sc->problems, "%s is larger than %ld MiB, the limit for one file", p,
                 SUBMISSION_MAX_FILE_BYTES >> 20);
    } else if (c->data == NULL) {
        sv_pushf(&sc->problems, "cannot read %s: %s", p, why != NULL ? why : "no data");
    } else if (!write_new(destfd, name, c->data, c->len)) {
        sv_pushf(&sc->problems, "cannot write %s in %s: %s", name, dest, strerror(errno));
    } else {
        sv_push(&sc->res->copied, name);
        if (c->depth > 0)
            sv_pushf(&sc->res->notes, "took %s from %s", name, p);
    }
    free(p);
}

static void take(scan_t *sc, cand_t *c, const char *name, int destfd, const char *dest)
{
    char *p = shown(c->path);
    switch (c->kind) {
    case K_FILE:
        take_file(sc, c, name, destfd, dest);
        break;
    case K_SYMLINK:
    case K_HARDLINK:
        sv_pushf(&sc->problems, "%s is a %s link; links are not followed", p,
                 c->kind == K_SYMLINK ? "symbolic" : "hard");
        break;
    case K_ENCRYPTED:
        sv_pushf(&sc->problems, "%s is encrypted; hand it in without a password", p);
        break;
    default:
        sv_pushf(&sc->problems, "%s is %s, not a regular file", p, c->what);
        break;
    }
    free(p);
}

static void take_all(scan_t *sc, int destfd, const char *dest)
{
    strvec_t missing = {0};
    for (size_t i = 0; i < sc->wanted->n; i++) {
        const char *name = sc->wanted->v[i];
        cand_t *c = choose(sc, name, &sc->found[i], &missing);
        if (c == NULL)
            continue;
        for (size_t j = 0; j < sc->found[i].n; j++) {
            cand_t *o = &sc->found[i].v[j];
            if (o != c && o->kind != K_UNSAFE) {
                char *s = shown(o->path);
                sv_pushf(&sc->res->notes, "ignored %s: took the %s at the top level", s, name);
                free(s);
            }
        }
        take(sc, c, name, destfd, dest);
    }
    if (missing.n > 0) {
        char *list = words_and(&missing);
        sv_pushf(&sc->problems, "%s %s missing from %s", list, missing.n == 1 ? "is" : "are",
                 sc->where);
        free(list);
    }
    sv_free(&missing);
}

/* A wanted name is written as dest/<name>: it must be a plain file name.
 * Anything else is a bug in the exercise's manifest or in the caller. */
static bool wanted_ok(const strvec_t *wanted, submission_result_t *res)
{
    for (size_t i = 0; i < wanted->n; i++) {
        const char *w = wanted->v[i];
        if (w[0] == '\0' || strcmp(w, ".") == 0 || strcmp(w, "..") == 0 ||
            strpbrk(w, "/\\") != NULL) {
            res->error = xasprintf("internal error: the wanted file \"%s\" is not a plain file "
                                   "name",
                                   w);
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(wanted->v[j], w) == 0) {
                res->error = xasprintf("internal error: the file %s is wanted twice", w);
                return false;
            }
    }
    return true;
}

bool submission_collect(const char *path, const strvec_t *wanted, const char *dest,
                        submission_result_t *res)
{
    *res = (submission_result_t){0};
    if (!wanted_ok(wanted, res))
        return false;
    int destfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (destfd < 0) {
        res->error =
            xasprintf("cannot open the destination directory %s: %s", dest, strerror(errno));
        return false;
    }
    scan_t sc = {.wanted = wanted, .res = res, .rootfd = -1};
    sc.found = xcalloc(wanted->n, sizeof *sc.found);
    bool scanned = scan(&sc, path);
    note_totals(&sc);
    if (scanned)
        take_all(&sc, destfd, dest);
    if (sc.problems.n > 0) {
        strbuf_t sb = {0};
        for (size_t i = 0; i < sc.problems.n; i++)
            sb_printf(&sb, "%s%s", i > 0 ? "; " : "", sc.problems.v[i]);
        res->error = sb_take(&sb);
    }
    close(destfd);
    scan_free(&sc);
    return res->error == NULL;
}

void submission_result_free(submission_result_t *res)
{
    free(res->error);
    res->error = NULL;
    sv_free(&res->notes);
    sv_free(&res->copied);
}
