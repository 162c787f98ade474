/* test_submission.c — unit tests of submission_collect: submissions built with
 * the tar and zip tools (and by hand when the tools refuse to make something
 * hostile), each in a fresh temporary directory. Every safety rule has a test
 * that fails without it. */
#define _GNU_SOURCE
#include "submission.h"

#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *work; /* a fresh directory per test */
static char *sub;  /* work/sub: a submission directory, and the files archived */
static char *dest; /* work/dest: where the wanted files go */
static submission_result_t res;

static void setup(void)
{
    char tmpl[] = "/tmp/alab-submission-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    work = xstrdup(tmpl);
    sub = path_join(work, "sub");
    dest = path_join(work, "dest");
    mkdir_p(sub);
    mkdir_p(dest);
    res = (submission_result_t){0};
}

static void teardown(void)
{
    submission_result_free(&res);
    rm_rf(work);
    free(work);
    free(sub);
    free(dest);
}

/* Runs a shell command in work; the test fails when it does. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd;
    ck_assert_int_ge(vasprintf(&cmd, fmt, ap), 0);
    va_end(ap);
    char *full = xasprintf("cd '%s' && (%s) >/dev/null 2>&1", work, cmd);
    int rc = system(full);
    ck_assert_msg(rc == 0, "command failed (%d): %s", rc, cmd);
    free(full);
    free(cmd);
}

/* Writes a file of the submission, below sub. */
static void put(const char *rel, const char *text)
{
    char *p = path_join(sub, rel);
    char *dir = path_dirname(p);
    mkdir_p(dir);
    ck_assert(write_file_atomic(p, text, strlen(text)));
    free(dir);
    free(p);
}

/* Collects the space-separated wanted names from work/<rel> into dest. */
static bool collect(const char *rel, const char *wanted)
{
    strvec_t w = {0};
    sv_push_words(&w, wanted);
    char *p = path_join(work, rel);
    bool ok = submission_collect(p, &w, dest, &res);
    free(p);
    sv_free(&w);
    return ok;
}

static void expect_error(const char *needle)
{
    ck_assert_msg(res.error != NULL, "no error, expected one with \"%s\"", needle);
    ck_assert_msg(strstr(res.error, needle) != NULL, "error \"%s\" lacks \"%s\"", res.error,
                  needle);
    ck_assert_msg(strchr(res.error, '\n') == NULL, "the error is one line: %s", res.error);
}

static void expect_note(const char *needle)
{
    strbuf_t all = {0};
    for (size_t i = 0; i < res.notes.n; i++) {
        if (strstr(res.notes.v[i], needle) != NULL) {
            free(all.s);
            return;
        }
        sb_printf(&all, "\n  %s", res.notes.v[i]);
    }
    ck_abort_msg("no note with \"%s\"; notes:%s", needle, all.s != NULL ? all.s : " none");
}

static void expect_copied(const char *name, const char *text)
{
    char *p = path_join(dest, name);
    struct stat st;
    ck_assert_msg(lstat(p, &st) == 0 && S_ISREG(st.st_mode), "%s was not copied", name);
    size_t len;
    char *got = read_file(p, &len);
    ck_assert_str_eq(got, text);
    free(got);
    free(p);
}

static void expect_dest_empty(void)
{
    DIR *d = opendir(dest);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        ck_assert_msg(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0,
                      "dest should be empty, holds %s", e->d_name);
    closedir(d);
}

/* ---- what is taken ---- */

START_TEST(tgz_top_level_files_are_taken)
{
    put("pool.c", "int pool;\n");
    put("util.c", "int util;\n");
    put("notes.txt", "hello\n");
    sh("tar -C sub -czf s.tgz pool.c util.c notes.txt");
    ck_assert_msg(collect("s.tgz", "pool.c util.c"), "error: %s", res.error);
    ck_assert_ptr_null(res.error);
    expect_copied("pool.c", "int pool;\n");
    expect_copied("util.c", "int util;\n");
    ck_assert_int_eq(res.copied.n, 2);
    expect_note("ignored 1 other file");
}
END_TEST

/* Students zip the folder they worked in. */
START_TEST(zip_of_a_folder_is_found_inside)
{
    put("proj/src/pool.c", "int pool;\n");
    put("proj/Makefile", "all:\n");
    sh("cd sub && zip -qr ../s.zip proj");
    ck_assert_msg(collect("s.zip", "pool.c"), "error: %s", res.error);
    expect_copied("pool.c", "int pool;\n");
    expect_note("took pool.c from proj/src/pool.c");
}
END_TEST

START_TEST(format_is_told_by_content_not_name)
{
    put("pool.c", "int pool;\n");
    sh("cd sub && zip -q ../zip.tar.gz pool.c && tar -czf ../tgz.zip pool.c && "
       "tar -cf ../tar.txt pool.c && tar -cjf ../noext pool.c");
    const char *names[] = {"zip.tar.gz", "tgz.zip", "tar.txt", "noext"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *p = path_join(dest, "pool.c");
        unlink(p);
        free(p);
        submission_result_free(&res);
        ck_assert_msg(collect(names[i], "pool.c"), "%s: %s", names[i], res.error);
        expect_copied("pool.c", "int pool;\n");
    }
}
END_TEST

START_TEST(top_level_wins_over_folders)
{
    put("pool.c", "new\n");
    put("old/pool.c", "old\n");
    sh("tar -C sub -cf s.tar old pool.c");
    ck_assert_msg(collect("s.tar", "pool.c"), "error: %s", res.error);
    expect_copied("pool.c", "new\n");
    expect_note("ignored old/pool.c");
}
END_TEST

START_TEST(two_files_of_a_name_are_refused)
{
    put("a/pool.c", "a\n");
    put("b/pool.c", "b\n");
    put("util.c", "u\n");
    sh("tar -C sub -cf s.tar a b util.c");
    ck_assert(!collect("s.tar", "pool.c util.c"));
    expect_error("two files named pool.c: a/pool.c, b/pool.c");
    expect_copied("util.c", "u\n"); /* the others are still taken */
    char *p = path_join(dest, "pool.c");
    ck_assert(access(p, F_OK) != 0);
    free(p);
}
END_TEST

/* tar -r appends: the same path twice could hold two versions. */
START_TEST(same_path_twice_is_refused)
{
    put("pool.c", "v1\n");
    sh("tar -C sub -cf s.tar pool.c && echo v2 > sub/pool.c && tar -C sub -rf s.tar pool.c");
    ck_assert(!collect("s.tar", "pool.c"));
    expect_error("the archive holds pool.c 2 times");
    expect_dest_empty();
}
END_TEST

START_TEST(missing_files_are_named_and_the_rest_copied)
{
    put("pool.c", "p\n");
    sh("tar -C sub -czf s.tgz pool.c");
    ck_assert(!collect("s.tgz", "pool.c arena.c util.h"));
    expect_error("arena.c and util.h are missing from the archive");
    expect_copied("pool.c", "p\n");
    ck_assert_int_eq(res.copied.n, 1);
    submission_result_free(&res);
    ck_assert(!collect("s.tgz", "nope.c"));
    expect_error("nope.c is missing from the archive");
}
END_TEST

/* ---- hostile archives ---- */

START_TEST(dotdot_entries_are_never_taken)
{
    put("pool.c", "evil pool\n");
    put("evil", "evil\n");
    put("inner/keep", "\n");
    sh("cd sub/inner && tar -cPf ../../s.tar ../pool.c ../evil keep");
    ck_assert(!collect("s.tar", "pool.c"));
    expect_error("pool.c is in the archive only under an unsafe path (../pool.c)");
    expect_note("ignored an entry with an unsafe path: ../evil");
    expect_dest_empty();
    char *outside = path_join(work, "evil");
    ck_assert(access(outside, F_OK) != 0);
    free(outside);
}
END_TEST

START_TEST(absolute_entries_are_never_taken)
{
    put("pool.c", "abs\n");
    sh("tar -cPf s.tar '%s/pool.c'", sub);
    ck_assert(!collect("s.tar", "pool.c"));
    expect_error("only under an unsafe path (/");
    expect_dest_empty();
}
END_TEST

START_TEST(symlink_entries_are_not_followed)
{
    sh("ln -s /etc/passwd sub/pool.c && ln -s /etc/hostname sub/other && "
       "tar -C sub -cf s.tar pool.c other && cd sub && zip -qy ../s.zip pool.c");
    ck_assert(!collect("s.tar", "pool.c"));
    expect_error("pool.c is a symbolic link; links are not followed");
    expect_note("skipped a symbolic link: other");
    expect_dest_empty();
    submission_result_free(&res);
    ck_assert(!collect("s.zip", "pool.c"));
    expect_error("pool.c is a symbolic link; links are not followed");
    expect_dest_empty();
}
END_TEST

/* tar stores the second name of a file as a hard link to the first. */
START_TEST(hardlink_entries_are_not_followed)
{
    put("real.c", "real\n");
    sh("cd sub && ln real.c pool.c && tar -cf ../s.tar real.c pool.c");
    ck_assert(!collect("s.tar", "pool.c"));
    expect_error("pool.c is a hard link; links are not followed");
    expect_dest_empty();
}
END_TEST

START_TEST(devices_and_fifos_are_ignored)
{
    sh("mkfifo sub/pool.c sub/pipe && tar -C sub -cf s.tar pool.c pipe && "
       "tar -rPf s.tar --transform 's,.*,util.c,' /dev/null");
    ck_assert(!collect("s.tar", "pool.c util.c"));
    expect_error("pool.c is a FIFO, not a regular file");
    expect_error("util.c is a character device, not a regular file");
    expect_note("skipped a FIFO: pipe");
    expect_dest_empty();
}
END_TEST

START_TEST(wanted_file_over_the_size_cap_is_refused)
{
    put("pool.c", "small\n");
    sh("head -c 2M /dev/zero > sub/util.c && head -c 2M /dev/zero > sub/data.bin && "
       "tar -C sub -czf s.tgz pool.c util.c data.bin");
    ck_assert(!collect("s.tgz", "pool.c util.c"));
    expect_error("util.c is larger than 1 MiB");
    expect_copied("pool.c", "small\n");
    char *p = path_join(dest, "util.c");
    ck_assert(access(p, F_OK) != 0);
    free(p);
}
END_TEST

/* 100 MiB of zeros compress to about 100 KiB. */
START_TEST(zip_bomb_is_stopped)
{
    put("pool.c", "p\n");
    sh("truncate -s 100M sub/zeros && tar -C sub -czf bomb.tgz pool.c zeros && rm sub/zeros");
    ck_assert(!collect("bomb.tgz", "pool.c"));
    expect_error("the archive expands to more than 64 MiB");
    expect_dest_empty();
}
END_TEST

START_TEST(too_many_entries_are_stopped)
{
    put("pool.c", "p\n");
    sh("mkdir sub/many && cd sub/many && seq 1 10001 | xargs touch");
    sh("tar -C sub -cf many.tar pool.c many");
    ck_assert(!collect("many.tar", "pool.c"));
    expect_error("the archive expands to more than 10000 entries");
    expect_dest_empty();
}
END_TEST

START_TEST(damaged_archive_is_reported)
{
    put("pool.c", "p\n");
    sh("head -c 300000 /dev/urandom > sub/noise && tar -C sub -czf whole.tgz pool.c noise && "
       "head -c 150000 whole.tgz > cut.tgz");
    ck_assert(!collect("cut.tgz", "pool.c"));
    expect_error("the archive is damaged: ");
    expect_dest_empty();
}
END_TEST

START_TEST(encrypted_zip_entry_is_reported)
{
    put("pool.c", "secret\n");
    sh("cd sub && zip -q -P hunter2 ../s.zip pool.c");
    ck_assert(!collect("s.zip", "pool.c"));
    expect_error("pool.c is encrypted");
    expect_dest_empty();
}
END_TEST

/* ---- what the path is ---- */

START_TEST(missing_path_and_non_archives_are_told_apart)
{
    ck_assert(!collect("nothing-here", "pool.c"));
    expect_error("nothing-here does not exist");
    submission_result_free(&res);

    sh("echo 'int main;' > x.txt");
    ck_assert(!collect("x.txt", "pool.c"));
    expect_error("x.txt is neither a directory nor an archive (tar, tar.gz, zip)");
    submission_result_free(&res);

    /* A FIFO would block whoever opens it: it is refused unopened. */
    sh("mkfifo pipe");
    ck_assert(!collect("pipe", "pool.c"));
    expect_error("pipe is neither a directory nor an archive");
    submission_result_free(&res);

    /* Nor is a device: reading /dev/zero would look like an empty tar. */
    strvec_t w = {0};
    sv_push(&w, "pool.c");
    ck_assert(!submission_collect("/dev/zero", &w, dest, &res));
    expect_error("/dev/zero is neither a directory nor an archive");
    sv_free(&w);
}
END_TEST

/* libarchive's "all formats" would read this text file as an mtree archive
 * holding an (empty) pool.c: only tar and zip are accepted. */
START_TEST(only_tar_and_zip_are_read)
{
    sh("printf '#mtree\\npool.c type=file contents=/etc/passwd\\n' > m.txt");
    ck_assert(!collect("m.txt", "pool.c"));
    expect_error("m.txt is neither a directory nor an archive");
    expect_dest_empty();
}
END_TEST

START_TEST(wanted_names_must_be_plain)
{
    put("pool.c", "p\n");
    const char *bad[] = {"sub/pool.c", ".", "..", "pool.c pool.c"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(!collect("sub", bad[i]), "\"%s\" should be refused", bad[i]);
        expect_error("internal error");
        submission_result_free(&res);
    }
    strvec_t w = {0};
    sv_push(&w, "");
    ck_assert(!submission_collect(sub, &w, dest, &res));
    expect_error("internal error");
    sv_free(&w);
    expect_dest_empty();
}
END_TEST

/* A file already in dest, here a link to a file outside, is never written
 * through: files are created with O_EXCL | O_NOFOLLOW. */
START_TEST(dest_files_are_created_never_reused)
{
    put("pool.c", "student\n");
    sh("echo precious > outside && ln -s ../outside dest/pool.c");
    ck_assert(!collect("sub", "pool.c"));
    expect_error("cannot write pool.c");
    size_t len;
    char *p = path_join(work, "outside"), *text = read_file(p, &len);
    ck_assert_str_eq(text, "precious\n");
    free(text);
    free(p);
}
END_TEST

/* ---- hostile directories ---- */

START_TEST(directory_flat_and_nested)
{
    put("pool.c", "p\n");
    put("deep/er/util.c", "u\n");
    put("README", "r\n");
    ck_assert_msg(collect("sub", "pool.c util.c"), "error: %s", res.error);
    expect_copied("pool.c", "p\n");
    expect_copied("util.c", "u\n");
    expect_note("took util.c from deep/er/util.c");
    expect_note("ignored 1 other file");
    submission_result_free(&res);
    rm_rf(dest);
    mkdir_p(dest);
    put("other/pool.c", "o\n");
    put("more/pool.c", "m\n");
    ck_assert(collect("sub", "pool.c")); /* the top level wins */
    expect_copied("pool.c", "p\n");
}
END_TEST

START_TEST(directory_symlinks_are_not_followed)
{
    put("../elsewhere/util.c", "outside\n");
    sh("ln -s /etc/passwd sub/pool.c && ln -s ../elsewhere sub/linked");
    ck_assert(!collect("sub", "pool.c util.c"));
    expect_error("pool.c is a symbolic link; links are not followed");
    expect_error("util.c is missing from the directory");
    expect_note("skipped a symbolic link: linked");
    expect_dest_empty();
}
END_TEST

START_TEST(directory_depth_is_limited)
{
    put("1/2/3/4/5/6/7/8/pool.c", "eight\n");
    put("1/2/3/4/5/6/7/8/9/util.c", "nine\n");
    ck_assert(!collect("sub", "pool.c util.c"));
    expect_copied("pool.c", "eight\n");
    expect_error("util.c is missing");
    expect_note("did not look below 8 levels of folders: 1/2/3/4/5/6/7/8/9");
}
END_TEST

START_TEST(directory_entries_are_capped)
{
    put("pool.c", "p\n");
    sh("mkdir sub/many && cd sub/many && seq 1 10001 | xargs touch");
    ck_assert(!collect("sub", "pool.c"));
    expect_error("the directory holds more than 10000 entries");
    expect_dest_empty();
}
END_TEST

START_TEST(directory_file_over_the_size_cap_is_refused)
{
    sh("head -c 1048577 /dev/zero > sub/pool.c");
    ck_assert(!collect("sub", "pool.c"));
    expect_error("pool.c is larger than 1 MiB");
    expect_dest_empty();
}
END_TEST

/* Opening a FIFO for reading blocks until a writer comes: the test's timeout
 * catches a grader that opens it. */
START_TEST(directory_fifo_is_not_opened)
{
    sh("mkfifo sub/pool.c");
    ck_assert(!collect("sub", "pool.c"));
    expect_error("pool.c is a FIFO, not a regular file");
    expect_dest_empty();
}
END_TEST

/* A file name may hold a newline or a terminal escape: messages stay one
 * clean line. */
START_TEST(hostile_names_are_cleaned_in_messages)
{
    char *odd = path_join(sub, "x\n\033[2Jy");
    ck_assert_int_eq(symlink("/etc/passwd", odd), 0);
    free(odd);
    ck_assert(!collect("sub", "pool.c"));
    expect_note("skipped a symbolic link: x??[2Jy");
    for (size_t i = 0; i < res.notes.n; i++)
        for (const char *p = res.notes.v[i]; *p != '\0'; p++)
            ck_assert_msg((unsigned char)*p >= 0x20, "control byte in note: %s", res.notes.v[i]);
}
END_TEST

TCase *submission_tests(void)
{
    TCase *tc = tcase_create("submission");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, tgz_top_level_files_are_taken);
    tcase_add_test(tc, zip_of_a_folder_is_found_inside);
    tcase_add_test(tc, format_is_told_by_content_not_name);
    tcase_add_test(tc, top_level_wins_over_folders);
    tcase_add_test(tc, two_files_of_a_name_are_refused);
    tcase_add_test(tc, same_path_twice_is_refused);
    tcase_add_test(tc, missing_files_are_named_and_the_rest_copied);
    tcase_add_test(tc, dotdot_entries_are_never_taken);
    tcase_add_test(tc, absolute_entries_are_never_taken);
    tcase_add_test(tc, symlink_entries_are_not_followed);
    tcase_add_test(tc, hardlink_entries_are_not_followed);
    tcase_add_test(tc, devices_and_fifos_are_ignored);
    tcase_add_test(tc, wanted_file_over_the_size_cap_is_refused);
    tcase_add_test(tc, zip_bomb_is_stopped);
    tcase_add_test(tc, too_many_entries_are_stopped);
    tcase_add_test(tc, damaged_archive_is_reported);
    tcase_add_test(tc, encrypted_zip_entry_is_reported);
    tcase_add_test(tc, missing_path_and_non_archives_are_told_apart);
    tcase_add_test(tc, only_tar_and_zip_are_read);
    tcase_add_test(tc, wanted_names_must_be_plain);
    tcase_add_test(tc, dest_files_are_created_never_reused);
    tcase_add_test(tc, directory_flat_and_nested);
    tcase_add_test(tc, directory_symlinks_are_not_followed);
    tcase_add_test(tc, directory_depth_is_limited);
    tcase_add_test(tc, directory_entries_are_capped);
    tcase_add_test(tc, directory_file_over_the_size_cap_is_refused);
    tcase_add_test(tc, directory_fifo_is_not_opened);
    tcase_add_test(tc, hostile_names_are_cleaned_in_messages);
    return tc;
}
