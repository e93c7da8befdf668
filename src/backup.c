/* backup.c: `doorman backup DIR` (backup.h). */
#include "backup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "store/backup.h"
#include "store/store.h"

/* out (PATH_MAX bytes) = a/b; DM_ETOOBIG when it does not fit. */
static dm_err path_join(char *out, const char *a, const char *b, struct dm_error *err)
{
    if (snprintf(out, PATH_MAX, "%s/%s", a, b) < PATH_MAX) return DM_OK;
    return dm_fail(err, DM_ETOOBIG, "the path %s/%s is too long", a, b);
}

/* Makes dir 0700: a new folder, or one that exists and is empty. */
static dm_err target_prepare(const char *dir, struct dm_error *err)
{
    if (mkdir(dir, 0700) == 0) return DM_OK;
    if (errno != EEXIST) return dm_fail(err, DM_EIO, "cannot create %s: %s", dir, strerror(errno));
    DIR *d = opendir(dir);
    if (!d) return dm_fail(err, DM_EIO, "%s exists and cannot be read: %s", dir, strerror(errno));
    bool empty = true;
    for (struct dirent *de; empty && (de = readdir(d));)
        empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        return dm_fail(err, DM_EEXISTS, "%s exists and is not empty: give a new or empty directory",
                       dir);
    if (chmod(dir, 0700) != 0)
        return dm_fail(err, DM_EIO, "cannot make %s private: %s", dir, strerror(errno));
    return DM_OK;
}

/* Copies the regular file from to a new file to (0600), synced. */
static dm_err file_copy(const char *from, const char *to, struct dm_error *err)
{
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) return dm_fail(err, DM_EIO, "cannot read %s: %s", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return dm_fail(err, DM_EIO, "cannot create %s: %s", to, strerror(errno));
    }
    char buf[65536];
    ssize_t n = 0;
    dm_err e = DM_OK;
    while (!e && (n = read(in, buf, sizeof buf)) > 0)
        for (ssize_t off = 0, w; !e && off < n; off += w)
            if ((w = write(out, buf + off, (size_t)(n - off))) < 0)
                e = dm_fail(err, DM_EIO, "cannot write %s: %s", to, strerror(errno));
    if (!e && n < 0) e = dm_fail(err, DM_EIO, "cannot read %s: %s", from, strerror(errno));
    if (!e && fsync(out) != 0) e = dm_fail(err, DM_EIO, "cannot write %s: %s", to, strerror(errno));
    close(in);
    close(out);
    if (e) unlink(to);
    return e;
}

/* Copies data/secret.key; *copied false (and DM_OK) when the key is DOORMAN_SECRET_KEY's. */
static dm_err key_copy(const char *data, const char *dir, bool *copied, struct dm_error *err)
{
    char from[PATH_MAX], to[PATH_MAX];
    if (path_join(from, data, "secret.key", err) || path_join(to, dir, "secret.key", err))
        return DM_ETOOBIG;
    const char *env = getenv("DOORMAN_SECRET_KEY");
    bool exists = access(from, F_OK) == 0;
    *copied = false;
    if (!exists && env && *env) return DM_OK;
    if (!exists)
        return dm_fail(err, DM_ENOTFOUND,
                       "%s does not exist and DOORMAN_SECRET_KEY is not set: without the master "
                       "key a backup cannot be used (has doorman ever run on this data directory?)",
                       from);
    *copied = true;
    return file_copy(from, to, err);
}

static bool is_session_file(const char *dir, const struct dirent *de)
{
    size_t n = strlen(de->d_name);
    if (n <= 8 || strcmp(de->d_name + n - 8, ".session") != 0) return false;
    char p[PATH_MAX];
    struct stat st;
    return path_join(p, dir, de->d_name, NULL) == DM_OK && lstat(p, &st) == 0 &&
           S_ISREG(st.st_mode);
}

/* Copies data/sessions/<name>.session into dir/sessions (0700); *n gets how many. No sessions
 * folder in data: nothing to copy, none is made, and *n is -1. */
static dm_err sessions_copy(const char *data, const char *dir, int *n, struct dm_error *err)
{
    char from[PATH_MAX], to[PATH_MAX];
    *n = 0;
    if (path_join(from, data, "sessions", err) || path_join(to, dir, "sessions", err))
        return DM_ETOOBIG;
    DIR *d = opendir(from);
    if (!d && errno == ENOENT) {
        *n = -1;
        return DM_OK;
    }
    if (!d) return dm_fail(err, DM_EIO, "cannot read %s: %s", from, strerror(errno));
    dm_err e = mkdir(to, 0700) == 0
                   ? DM_OK
                   : dm_fail(err, DM_EIO, "cannot create %s: %s", to, strerror(errno));
    for (struct dirent *de; !e && (de = readdir(d));) {
        if (!is_session_file(from, de)) continue;
        char f[PATH_MAX], t[PATH_MAX];
        e = path_join(f, from, de->d_name, err);
        if (!e) e = path_join(t, to, de->d_name, err);
        if (!e) e = file_copy(f, t, err);
        if (!e) ++*n;
    }
    closedir(d);
    return e;
}

struct progress {
    int last_tenth;
};

/* Tells how far the database's copy is, every tenth. */
static void progress_show(void *ctx, int64_t done, int64_t total)
{
    struct progress *p = ctx;
    int tenth = total > 0 ? (int)(done * 10 / total) : 10;
    if (tenth == p->last_tenth) return;
    p->last_tenth = tenth;
    fprintf(stderr, "doorman: backup: %d%% of the database copied (%lld of %lld pages)\n",
            tenth * 10, (long long)done, (long long)total);
}

int backup_run(struct config *cfg, const char *dir)
{
    struct dm_error err = {0};
    struct stat st_data;
    if (stat(cfg->data_dir, &st_data) != 0 || !S_ISDIR(st_data.st_mode)) {
        fprintf(stderr, "doorman: backup: no data directory %s (give --data or DOORMAN_DATA)\n",
                cfg->data_dir);
        return 1;
    }
    if (target_prepare(dir, &err) || config_finish(cfg, &err)) {
        fprintf(stderr, "doorman: backup: %s\n", err.msg);
        return 1;
    }
    int status = 0;
    char db_path[PATH_MAX];
    struct store *st = NULL;
    struct progress p = {.last_tenth = -1};
    dm_err e = path_join(db_path, dir, "doorman.db", &err);
    if (!e) e = store_open(cfg->db_url, &st, &err);
    if (!e) e = store_backup_to(st, db_path, progress_show, &p, &err);
    store_close(st);
    if (e) {
        fprintf(stderr, "doorman: backup: %s\n", err.msg[0] ? err.msg : dm_strerror(e));
        status = 1;
    } else {
        printf("database: %s\n", db_path);
    }

    bool key_copied = false;
    if (key_copy(cfg->data_dir, dir, &key_copied, &err)) {
        fprintf(stderr, "doorman: backup: %s\n", err.msg);
        return 1;
    }
    if (key_copied)
        printf("master key: %s/secret.key\n", dir);
    else
        printf("master key: DOORMAN_SECRET_KEY (keep its value apart from this backup)\n");
    int sessions = 0;
    if (sessions_copy(cfg->data_dir, dir, &sessions, &err)) {
        fprintf(stderr, "doorman: backup: %s\n", err.msg);
        return 1;
    }
    if (sessions < 0)
        printf("session files: none (%s has no sessions folder)\n", cfg->data_dir);
    else
        printf("session files: %d in %s/sessions\n", sessions, dir);
    if (status == 0)
        printf("backup complete: %s (restore: docs/operations.md, Backup and restore)\n", dir);
    return status;
}
