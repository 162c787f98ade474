/* kit_view.c — where the sandbox user sees the kit.
 *
 * Compilers and test programs run as an unprivileged user, and read the kit:
 * the exercise's headers and tests, the harness, the reference, and the
 * grading's scratch directory under build/. A kit cloned where that user cannot
 * go (a root clone in /root, mode 0700: every Docker image, every root VM) is
 * copied, read-only and owned by root, to /var/tmp/alab-kit/<hash>/, where the
 * hash mixes a key only root can read with the kit's path and the size and
 * time of every file copied: a
 * changed kit gets a new copy, an unchanged one is reused with its object
 * cache. The copy is made in a temporary directory and renamed into place, so
 * parallel gradings never see half of one.
 */
#define _GNU_SOURCE
#include "kit_view.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define VIEW_BASE "/var/tmp/alab-kit"

/* What sandboxed processes read of the kit, relative to its root. */
static const char *const shared_dirs[] = {"exercises", "grader/harness", "solutions", "skeletons",
                                          NULL};

/* Can uid:gid read and enter every directory of the kit they need? */
static bool user_can_reach(const char *root, unsigned uid, unsigned gid)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
            _exit(2);
        for (size_t i = 0; shared_dirs[i] != NULL; i++) {
            char *d = path_join(root, shared_dirs[i]);
            if (is_dir(d) && access(d, R_OK | X_OK) != 0)
                _exit(1);
        }
        _exit(access(root, R_OK | X_OK) == 0 ? 0 : 1);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

/* ---- the fingerprint of what is copied: paths, sizes, times ---- */

static uint64_t fp_hash = 1469598103934665603ULL; /* FNV-1a, nftw has no user pointer */

static void fp_mix(const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        fp_hash = (fp_hash ^ p[i]) * 1099511628211ULL;
}

static int fp_visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)f;
    fp_mix(path, strlen(path));
    if (type == FTW_F) {
        fp_mix(&st->st_size, sizeof st->st_size);
        fp_mix(&st->st_mtim, sizeof st->st_mtim);
    }
    return 0;
}

/* ---- the copy ---- */

static size_t copy_src_len;
static const char *copy_dst;

static int copy_visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)f;
    char *to = xasprintf("%s%s", copy_dst, path + copy_src_len);
    int rc = 0;
    if (type == FTW_D)
        rc = mkdir(to, 0755) == 0 || errno == EEXIST ? 0 : -1;
    else if (type == FTW_F) {
        size_t n = 0;
        char *data = read_file(path, &n);
        int fd = data != NULL ? open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                                     (st->st_mode & 0111) ? 0755 : 0644)
                              : -1;
        rc = fd >= 0 && write(fd, data, n) == (ssize_t)n ? 0 : -1;
        if (fd >= 0)
            close(fd);
        free(data);
    } /* links and the rest are not kit material: left out */
    free(to);
    return rc;
}

static bool copy_tree(const char *from, const char *to)
{
    copy_src_len = strlen(from);
    copy_dst = to;
    return !is_dir(from) || nftw(from, copy_visit, 32, FTW_PHYS) == 0;
}

/* A directory only root may change: ours, not a planted one. */
static bool is_safe_dir(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           (st.st_mode & 022) == 0;
}

static char *make_view(const char *root, char **why)
{
    fp_hash = 1469598103934665603ULL;
    fp_mix(root, strlen(root));
    for (size_t i = 0; shared_dirs[i] != NULL; i++) {
        char *d = path_join(root, shared_dirs[i]);
        if (is_dir(d))
            nftw(d, fp_visit, 32, FTW_PHYS);
        free(d);
    }
    mkdir(VIEW_BASE, 0711);
    if (!is_safe_dir(VIEW_BASE) || chmod(VIEW_BASE, 0711) != 0) {
        *why = xasprintf("%s is not a directory that only root may write", VIEW_BASE);
        return NULL;
    }
    /* The base cannot be listed, and the copies' names mix in a key only root
     * can read: other users of the machine cannot find the copy of a kit
     * (solutions, hidden tests) that was closed to them. */
    char *keyfile = path_join(VIEW_BASE, ".key");
    char *key = read_file(keyfile, NULL);
    if (key == NULL) {
        key = random_token();
        int fd = open(keyfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ssize_t unused = write(fd, key, strlen(key));
            (void)unused;
            close(fd);
        }
        free(key);
        key = read_file(keyfile, NULL);
    }
    free(keyfile);
    if (key == NULL) {
        *why = xasprintf("cannot keep a key in %s: %s", VIEW_BASE, strerror(errno));
        return NULL;
    }
    fp_mix(key, strlen(key));
    free(key);
    char *view = xasprintf("%s/%016llx", VIEW_BASE, (unsigned long long)fp_hash);
    char *ready = path_join(view, ".complete");
    if (is_safe_dir(view) && is_file(ready)) {
        free(ready);
        return view;
    }
    char *tmp = xasprintf("%s/.new-%d", VIEW_BASE, (int)getpid());
    rm_rf(tmp);
    bool ok = mkdir(tmp, 0755) == 0;
    for (size_t i = 0; ok && shared_dirs[i] != NULL; i++) {
        char *from = path_join(root, shared_dirs[i]), *to = path_join(tmp, shared_dirs[i]);
        char *parent = path_dirname(to);
        mkdir_p(parent);
        ok = copy_tree(from, to);
        free(parent);
        free(from);
        free(to);
    }
    char *marker = path_join(tmp, ".complete"), *build = path_join(tmp, "build");
    ok = ok && mkdir(build, 0755) == 0 && write_file_atomic(marker, root, strlen(root));
    if (ok && rename(tmp, view) != 0 && !(is_safe_dir(view) && is_file(ready)))
        ok = false; /* another grading's copy won the rename: use it */
    if (!ok)
        *why = xasprintf("cannot copy the kit to %s: %s", view, strerror(errno));
    rm_rf(tmp);
    free(marker);
    free(build);
    free(tmp);
    free(ready);
    if (!ok) {
        free(view);
        return NULL;
    }
    return view;
}

char *kit_view(const char *root, unsigned uid, unsigned gid)
{
    if (uid == 0 || user_can_reach(root, uid, gid))
        return xstrdup(root);
    char *why = NULL;
    char *view = make_view(root, &why);
    if (view == NULL)
        die("the sandbox user (uid %u) cannot read the kit at %s (a parent directory is closed "
            "to other users), and %s; clone the kit where every user may read it (/opt, /srv)",
            uid, root, why);
    return view;
}
