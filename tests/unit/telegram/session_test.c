/* Session files and strings: every fixture made by Telethon, GramJS and Pyrogram's published
 * schemas (tests/interop/sessions, see session_fixtures.py) read field by field; the Pyrogram
 * export written, read back and opened by Python's sqlite3; hostile files refused with the
 * right error and nothing left behind. */
#include "core/common.h"

#include "core/secret.h"
#include "telegram/session_file.h"
#include "telegram/session_string.h"

#include "../check.h"

#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define FIXTURES DM_SOURCE_ROOT "/tests/interop/sessions/"

static char tmpdir[] = "/tmp/dm-session-test-XXXXXX";

static bool key_is(const struct tg_session *s, int seed)
{
    for (int i = 0; i < TG_AUTH_KEY_BYTES; i++)
        if (s->auth_key[i] != (unsigned char)((seed + i) % 256)) return false;
    return true;
}

struct want {
    const char *file;
    enum tg_session_kind kind;
    int version, dc, api_id;
    bool test;
    int64_t user_id;
    bool bot;
    const char *addr;
    int port;
    int64_t date;
    int seed;
};

static const struct want wants[] = {
    {"telethon.session", TG_SESSION_TELETHON_FILE, 7, 2, 0, false, 0, false, "149.154.167.51", 443,
     0, 1},
    {"telethon_string.txt", TG_SESSION_TELETHON_STRING, 0, 4, 0, false, 0, false, "149.154.167.91",
     443, 0, 2},
    {"telethon_string_ipv6.txt", TG_SESSION_TELETHON_STRING, 0, 2, 0, false, 0, false,
     "2001:67c:4e8:f002::a", 8443, 0, 3},
    {"gramjs_string.txt", TG_SESSION_GRAMJS_STRING, 0, 2, 0, false, 0, false, "127.0.0.1", 10443, 0,
     4},
    {"pyrogram_v2.session", TG_SESSION_PYROGRAM_FILE, 2, 2, 0, false, 123456789, false, "", 0,
     1700000000, 5},
    {"pyrogram_v3.session", TG_SESSION_PYROGRAM_FILE, 3, 1, 12345, false, 5000000001, true, "", 0,
     1700000100, 6},
    {"pyrogram_v3_migrated.session", TG_SESSION_PYROGRAM_FILE, 3, 3, 23456, true, 777, false, "", 0,
     1700000200, 7},
    {"pyrogram_v7.session", TG_SESSION_PYROGRAM_FILE, 7, 2, 34567, false, 888, false,
     "149.154.167.51", 443, 1700000300, 8},
    {"pyrogram_string.txt", TG_SESSION_PYROGRAM_STRING, 0, 2, 45678, false, 999, false, "", 0, 0,
     9},
    {"pyrogram_string_old32.txt", TG_SESSION_PYROGRAM_STRING, 0, 5, 0, true, 1001, true, "", 0, 0,
     10},
    {"pyrogram_string_old64.txt", TG_SESSION_PYROGRAM_STRING, 0, 4, 0, false, 6000000002, false, "",
     0, 0, 11},
    /* doorman's own export of pyrogram_v7.session (session_check.sh opens it with Python) */
    {"doorman_export.session", TG_SESSION_PYROGRAM_FILE, 3, 2, 34567, false, 888, false, "", 0,
     1700000300, 8},
};

static bool matches(const struct tg_session *s, const struct want *w)
{
    bool ok = s->kind == w->kind && s->schema_version == w->version && s->dc_id == w->dc &&
              s->api_id == w->api_id && s->test_mode == w->test && s->user_id == w->user_id &&
              s->is_bot == w->bot && strcmp(s->server_address, w->addr) == 0 &&
              s->port == w->port && s->date == w->date && key_is(s, w->seed);
    if (!ok)
        fprintf(stderr,
                "%s: kind %d v%d dc %d api %d test %d user %" PRId64 " bot %d %s:%d date %" PRId64
                "\n",
                w->file, s->kind, s->schema_version, s->dc_id, s->api_id, s->test_mode, s->user_id,
                s->is_bot, s->server_address, s->port, s->date);
    return ok;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

static dm_err read_fixture(const struct want *w, struct tg_session *s, struct dm_error *e)
{
    char path[512];
    snprintf(path, sizeof path, FIXTURES "%s", w->file);
    if (strstr(w->file, ".session")) return tg_session_read_file(path, s, e);
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text) return dm_fail(e, DM_ENOTFOUND, "no fixture %s", path);
    dm_err rc = tg_session_parse_string(text, s, e);
    free(text);
    return rc;
}

static void test_fixtures(void)
{
    for (size_t i = 0; i < DM_ARRAY_LEN(wants); i++) {
        struct tg_session s;
        struct dm_error e = {0};
        dm_err rc = read_fixture(&wants[i], &s, &e);
        if (rc != DM_OK) fprintf(stderr, "%s: %s\n", wants[i].file, e.msg);
        CHECK(rc == DM_OK);
        CHECK(matches(&s, &wants[i]));
        tg_session_wipe(&s);
        CHECK(s.dc_id == 0 && s.auth_key[1] == 0);
    }
    printf("read %zu fixtures (Telethon file/strings, GramJS string, Pyrogram v2/v3/v3 migrated/v7 "
           "files and strings, doorman's export)\n",
           DM_ARRAY_LEN(wants));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        n += de->d_name[0] != '.' || (de->d_name[1] && strcmp(de->d_name, "..") != 0);
    if (d) closedir(d);
    return n;
}

/* Runs session_fixtures.py verify-export on path; -1 when Python is not there. */
static int python_verify(const char *path)
{
    if (access("/usr/bin/python3", X_OK) != 0) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", DM_SOURCE_ROOT "/tests/interop/session_fixtures.py",
              "verify-export", path, "2", "34567", "0", "888", "0", "1700000300", "8",
              (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static void test_write(void)
{
    struct tg_session s, back;
    struct dm_error e = {0};
    CHECK(tg_session_read_file(FIXTURES "pyrogram_v7.session", &s, &e) == DM_OK);
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/sessions", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    CHECK(tg_session_path(dir, "exported_1", path, sizeof path, &e) == DM_OK);
    CHECK(tg_session_write_pyrogram(path, &s, false, &e) == DM_OK);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(count_entries(dir) == 1); /* no temp file left */
    CHECK(tg_session_read_file(path, &back, &e) == DM_OK);
    CHECK(matches(&back, &wants[DM_ARRAY_LEN(wants) - 1]));
    int py = python_verify(path);
    CHECK(py == 0 || py == -1);
    printf("export: written 0600, read back, Python sqlite3 check %s\n",
           py == 0    ? "passed"
           : py == -1 ? "skipped (no /usr/bin/python3)"
                      : "FAILED");
    /* DM_SESSION_EXPORT=<tests/interop/sessions/doorman_export.session> refreshes the fixture */
    const char *to = getenv("DM_SESSION_EXPORT");
    if (to && *to) {
        size_t n = 0;
        char *img = slurp(path, &n);
        FILE *f = img ? fopen(to, "wb") : NULL;
        CHECK(f && fwrite(img, 1, n, f) == n);
        if (f) fclose(f);
        free(img);
        printf("export copied to %s\n", to);
    }

    /* no overwrite unless asked; the file stays as it was */
    struct tg_session other = s;
    other.dc_id = 4;
    CHECK(tg_session_write_pyrogram(path, &other, false, &e) == DM_EEXISTS);
    CHECK(strstr(e.msg, "already exists") != NULL);
    CHECK(tg_session_read_file(path, &back, &e) == DM_OK && back.dc_id == 2);
    CHECK(tg_session_write_pyrogram(path, &other, true, &e) == DM_OK);
    CHECK(tg_session_read_file(path, &back, &e) == DM_OK && back.dc_id == 4);
    CHECK(count_entries(dir) == 1);

    /* a directory others can read is refused; nothing is written */
    char open_dir[256], p2[512];
    snprintf(open_dir, sizeof open_dir, "%s/open", tmpdir);
    CHECK(mkdir(open_dir, 0755) == 0 && chmod(open_dir, 0755) == 0);
    CHECK(tg_session_path(open_dir, "x", p2, sizeof p2, &e) == DM_OK);
    CHECK(tg_session_write_pyrogram(p2, &s, false, &e) == DM_EFORBIDDEN);
    CHECK(strstr(e.msg, "0700") != NULL);
    CHECK(count_entries(open_dir) == 0);
    /* a missing directory, and a session that is not usable */
    snprintf(p2, sizeof p2, "%s/missing/x.session", tmpdir);
    CHECK(tg_session_write_pyrogram(p2, &s, false, &e) == DM_ENOTFOUND);
    other.dc_id = 0;
    CHECK(tg_session_path(dir, "bad", p2, sizeof p2, &e) == DM_OK);
    CHECK(tg_session_write_pyrogram(p2, &other, false, &e) == DM_EINVAL);
    CHECK(count_entries(dir) == 1);

    /* the Pyrogram string export is byte for byte Python's struct + base64 */
    size_t len = 0;
    char *want = slurp(FIXTURES "pyrogram_string.txt", &len);
    CHECK(want && tg_session_parse_string(want, &s, &e) == DM_OK);
    char str[TG_PYROGRAM_STRING_SIZE];
    CHECK(tg_session_to_pyrogram_string(&s, str, sizeof str, &e) == DM_OK);
    CHECK(want && strncmp(str, want, strlen(str)) == 0 && want[strlen(str)] == '\n');
    CHECK(tg_session_to_pyrogram_string(&s, str, 100, &e) == DM_ETOOBIG);
    free(want);
    /* and a Telethon session exported as a Pyrogram string parses back */
    CHECK(tg_session_read_file(FIXTURES "telethon.session", &s, &e) == DM_OK);
    CHECK(tg_session_to_pyrogram_string(&s, str, sizeof str, &e) == DM_OK);
    CHECK(tg_session_parse_string(str, &back, &e) == DM_OK && back.dc_id == 2 &&
          back.kind == TG_SESSION_PYROGRAM_STRING && key_is(&back, 1));
    tg_session_wipe(&s);
    tg_session_wipe(&back);
}

/* Makes an SQLite file at <tmpdir>/name from sql (a Pyrogram v3 layout unless sql says). */
static void make_db(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    unlink(path);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "make_db: %s\n", msg);
        CHECK(0);
    }
    sqlite3_free(msg);
    sqlite3_close(db);
}

#define V3_SESSIONS                                                                                \
    "CREATE TABLE sessions (dc_id INTEGER PRIMARY KEY, api_id INTEGER, test_mode INTEGER, "        \
    "auth_key BLOB, date INTEGER NOT NULL, user_id INTEGER, is_bot INTEGER);"                      \
    "CREATE TABLE peers (id INTEGER PRIMARY KEY, access_hash INTEGER, type INTEGER NOT NULL, "     \
    "username TEXT, phone_number TEXT, last_update_on INTEGER);"                                   \
    "CREATE TABLE version (number INTEGER PRIMARY KEY); INSERT INTO version VALUES (3);"
#define V3_ROW "INSERT INTO sessions VALUES (2, 1, 0, randomblob(256), 1, 5, 0);"

struct hostile {
    const char *name;
    const char *sql; /* NULL: contents made in the test */
    dm_err code;
    const char *says;
};

static const struct hostile hostiles[] = {
    {"wrong_schema", "CREATE TABLE sessions (foo TEXT); INSERT INTO sessions VALUES ('x');",
     DM_EINVAL, "other columns"},
    {"no_sessions", "CREATE TABLE peers (id INTEGER);", DM_EINVAL, "no sessions table"},
    {"empty_sessions", V3_SESSIONS, DM_EINVAL, "is empty"},
    {"short_key", V3_SESSIONS "INSERT INTO sessions VALUES (2, 1, 0, randomblob(255), 1, 5, 0);",
     DM_EINVAL, "255 bytes, not 256"},
    {"null_key", V3_SESSIONS "INSERT INTO sessions VALUES (2, 1, 0, NULL, 1, 5, 0);", DM_EINVAL,
     "no auth key"},
    {"text_key", V3_SESSIONS "INSERT INTO sessions VALUES (2, 1, 0, 'k', 1, 5, 0);", DM_EINVAL,
     "not 256"},
    {"zero_key", V3_SESSIONS "INSERT INTO sessions VALUES (2, 1, 0, zeroblob(256), 1, 5, 0);",
     DM_EINVAL, "no auth key"},
    {"bad_dc", V3_SESSIONS "INSERT INTO sessions VALUES (0, 1, 0, randomblob(256), 1, 5, 0);",
     DM_EINVAL, "dc_id is out of range"},
    {"text_user", V3_SESSIONS "INSERT INTO sessions VALUES (2, 1, 0, randomblob(256), 1, 'u', 0);",
     DM_EINVAL, "user_id is not a number"},
    {"trigger",
     V3_SESSIONS V3_ROW "CREATE TRIGGER evil AFTER UPDATE ON sessions BEGIN "
                        "DELETE FROM peers; END;",
     DM_EINVAL, "trigger (evil)"},
    {"trigger_named_like_pyrogram",
     V3_SESSIONS V3_ROW "CREATE TRIGGER trg_peers_last_update_on AFTER UPDATE ON sessions BEGIN "
                        "DELETE FROM peers; END;",
     DM_EINVAL, "trigger"},
    {"view", V3_SESSIONS V3_ROW "CREATE VIEW v AS SELECT * FROM sessions;", DM_EINVAL, "view (v)"},
    {"sessions_view",
     "CREATE TABLE s (dc_id INTEGER, auth_key BLOB); CREATE VIEW sessions AS SELECT * FROM s;",
     DM_EINVAL, "view"},
    {"virtual", V3_SESSIONS V3_ROW "CREATE VIRTUAL TABLE r USING rtree(id, a, b);", DM_EINVAL,
     "virtual table"},
    {"computed",
     "CREATE TABLE sessions (dc_id INTEGER PRIMARY KEY, test_mode INTEGER, auth_key BLOB, "
     "date INTEGER, user_id INTEGER, is_bot INTEGER, x AS (abs(-1)));",
     DM_EINVAL, "computed column"},
};

static void expect(const char *path, dm_err code, const char *says)
{
    struct tg_session s;
    struct dm_error e = {0};
    dm_err rc = tg_session_read_file(path, &s, &e);
    if (rc != code || !strstr(e.msg, says))
        fprintf(stderr, "%s: got %s \"%s\", wanted %s \"%s\"\n", path, dm_errname(rc), e.msg,
                dm_errname(code), says);
    CHECK(rc == code);
    CHECK(strstr(e.msg, says) != NULL);
    CHECK(code == DM_ENOTFOUND ||
          strncmp(e.msg, "This file is not a Pyrogram or Telethon session: ", 49) == 0);
    tg_session_wipe(&s);
}

static void test_hostile(void)
{
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/uploads", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    int made = 0;
    for (size_t i = 0; i < DM_ARRAY_LEN(hostiles); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, hostiles[i].name);
        make_db(path, hostiles[i].sql);
        made++;
        expect(path, hostiles[i].code, hostiles[i].says);
    }

    /* not SQLite */
    snprintf(path, sizeof path, "%s/text", dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 100; i++)
        fputs("this is not a database\n", f);
    fclose(f);
    made++;
    expect(path, DM_EINVAL, "not an SQLite database");

    /* every truncated copy of a real file is refused (and never crashes) */
    size_t len = 0;
    char *img = slurp(FIXTURES "pyrogram_v3.session", &len);
    CHECK(img && len > 4096);
    snprintf(path, sizeof path, "%s/truncated", dir);
    f = fopen(path, "wb");
    fwrite(img, 1, len / 2, f);
    fclose(f);
    made++;
    expect(path, DM_EINVAL, "cut short");
    int refused = 0, tried = 0;
    for (size_t n = 0; n < len; n += 97, tried++) {
        struct tg_session s;
        refused += tg_session_read_bytes(img, n, &s, NULL) == DM_EINVAL;
    }
    CHECK(refused == tried);
    /* bytes flipped in the middle: an error or a session, never a crash */
    for (size_t at = 100; at < len; at += 331) {
        img[at] ^= 0x5a;
        struct tg_session s;
        struct dm_error e;
        dm_err rc = tg_session_read_bytes(img, len, &s, &e);
        CHECK(rc == DM_OK || rc == DM_EINVAL);
        img[at] ^= 0x5a;
    }
    free(img);

    /* 200 MB (sparse): refused from its size, at once */
    snprintf(path, sizeof path, "%s/huge", dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 200L << 20) == 0);
    close(fd);
    made++;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect(path, DM_ETOOBIG, "209715200 bytes");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("200 MB upload refused in %.1f ms\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);

    /* a WAL-mode Pyrogram file is read without making -wal or -shm files next to it */
    snprintf(path, sizeof path, "%s/wal", dir);
    make_db(path, "PRAGMA journal_mode=WAL;" V3_SESSIONS V3_ROW);
    made++;
    CHECK(count_entries(dir) == made);
    struct tg_session s;
    struct dm_error e;
    CHECK(tg_session_read_file(path, &s, &e) == DM_OK && s.dc_id == 2 && s.api_id == 1);
    tg_session_wipe(&s);
    snprintf(path, sizeof path, "%s/missing", dir);
    expect(path, DM_ENOTFOUND, "cannot open");
    expect(dir, DM_EINVAL, "not a regular file");

    /* reading never creates a file (journal, WAL, lock) next to the upload */
    CHECK(count_entries(dir) == made);
    printf("%d hostile files refused with their reasons; %d truncations refused; nothing left "
           "behind\n",
           made - 1, refused);
}

static void test_strings(void)
{
    struct tg_session s;
    struct dm_error e = {0};
    size_t len = 0;
    char *t = slurp(FIXTURES "telethon_string.txt", &len);
    /* wrapped and indented as a paste may be */
    char wrapped[1024];
    snprintf(wrapped, sizeof wrapped, "  %.100s\n%.100s\r\n\t%s  ", t, t + 100, t + 200);
    CHECK(tg_session_parse_string(wrapped, &s, &e) == DM_OK && s.dc_id == 4 && key_is(&s, 2));
    /* without Telethon's '=' padding */
    char *eq = strchr(t, '=');
    if (eq) *eq = 0;
    CHECK(tg_session_parse_string(t, &s, &e) == DM_OK && s.dc_id == 4);
    free(t);

    static const struct {
        const char *s;
        const char *says;
    } bad[] = {
        {"", "empty"},
        {"   \n", "empty"},
        {"hello world!", "not base64"},
        {"1AAAA", "decodes to 3 bytes"},
        {"1AAAAAAAA", "decodes to 6 bytes"},
        {"AAAA", "decodes to 3 bytes"},
    };
    for (size_t i = 0; i < DM_ARRAY_LEN(bad); i++) {
        dm_err rc = tg_session_parse_string(bad[i].s, &s, &e);
        CHECK(rc == DM_EINVAL && strstr(e.msg, bad[i].says));
        if (!strstr(e.msg, bad[i].says)) fprintf(stderr, "'%s': %s\n", bad[i].s, e.msg);
    }
    char longs[2000];
    memset(longs, 'A', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    CHECK(tg_session_parse_string(longs, &s, &e) == DM_EINVAL && strstr(e.msg, "too long"));
    /* a Pyrogram-length string with an all-zero key, and one with dc 0 */
    unsigned char raw[271] = {0};
    char text[400];
    raw[0] = 2;
    sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    CHECK(tg_session_parse_string(text, &s, &e) == DM_EINVAL && strstr(e.msg, "no auth key"));
    raw[0] = 0;
    raw[10] = 1;
    sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    CHECK(tg_session_parse_string(text, &s, &e) == DM_EINVAL && strstr(e.msg, "data centre"));
    CHECK(strncmp(e.msg, "This is not a Pyrogram, Telethon or GramJS string session: ", 59) == 0);
    printf("strings: pasted with whitespace and without padding accepted; %zu bad ones refused\n",
           DM_ARRAY_LEN(bad) + 3);
}

static void test_names(void)
{
    CHECK(tg_session_name_valid("main"));
    CHECK(tg_session_name_valid("my_account-2"));
    char n64[65], n65[66];
    memset(n64, 'a', 64);
    n64[64] = 0;
    memset(n65, 'a', 65);
    n65[65] = 0;
    CHECK(tg_session_name_valid(n64));
    CHECK(!tg_session_name_valid(n65));
    static const char *bad[] = {"",          "../../etc/x", "a/b",  "a b", ".hidden",
                                "x.session", "é",           "a\nb", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(!tg_session_name_valid(bad[i]));
    CHECK(!tg_session_name_valid(NULL));
    char path[64];
    struct dm_error e;
    CHECK(tg_session_path("data/sessions", "acc_1", path, sizeof path, &e) == DM_OK &&
          strcmp(path, "data/sessions/acc_1.session") == 0);
    CHECK(tg_session_path("data/sessions", "../../etc/x", path, sizeof path, &e) == DM_EINVAL);
    CHECK(tg_session_path("data/sessions", n64, path, sizeof path, &e) == DM_ETOOBIG);
    printf("names: [A-Za-z0-9_-]{1,64} only; paths built from valid names only\n");
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    char p[768];
    for (struct dirent *de; d && (de = readdir(d));) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

/* doorman's stored files: sealed with the master key, read back only with it; a plain file
 * (an older doorman's) read as well and sealed in place, once; a file that is no session left
 * as it is. */
static void test_sealed(void)
{
    struct secret_key key, other_key;
    randombytes_buf(key.k, sizeof key.k);
    randombytes_buf(other_key.k, sizeof other_key.k);
    struct tg_session s, back;
    struct dm_error e = {0};
    CHECK(tg_session_read_file(FIXTURES "pyrogram_v7.session", &s, &e) == DM_OK);
    char dir[256], path[512], plain[512];
    snprintf(dir, sizeof dir, "%s/sealed", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    CHECK(tg_session_path(dir, "s1", path, sizeof path, &e) == DM_OK);
    CHECK(tg_session_write_sealed(path, &s, &key, false, &e) == DM_OK);
    CHECK(tg_session_write_sealed(path, &s, &key, false, &e) == DM_EEXISTS);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(count_entries(dir) == 1);
    size_t n = 0;
    char *raw = slurp(path, &n);
    CHECK(raw && tg_session_is_sealed(raw, n));
    bool key_found = false;
    for (size_t i = 0; raw && i + 32 <= n; i++)
        key_found |= memcmp(raw + i, s.auth_key, 32) == 0;
    CHECK(!key_found);
    free(raw);
    /* with the master key: the session and a plain Pyrogram v3 image; without it: nothing */
    unsigned char *img = NULL;
    size_t len = 0;
    bool sealed = false;
    CHECK(tg_session_read_stored(path, &key, &back, &img, &len, &sealed, &e) == DM_OK);
    CHECK(sealed && back.dc_id == s.dc_id && memcmp(back.auth_key, s.auth_key, 256) == 0);
    CHECK(img && len > 100 && memcmp(img, "SQLite format 3", 16) == 0);
    struct tg_session from_img;
    CHECK(tg_session_read_bytes(img, len, &from_img, &e) == DM_OK);
    CHECK(from_img.kind == TG_SESSION_PYROGRAM_FILE && from_img.schema_version == 3);
    CHECK(tg_session_read_stored(path, &other_key, &back, NULL, NULL, NULL, &e) == DM_ECRYPTO);
    CHECK(strstr(e.msg, "another master key") != NULL);
    CHECK(tg_session_read_file(path, &back, &e) == DM_EINVAL); /* an upload of it */
    CHECK(strstr(e.msg, "sealed") != NULL);
    /* an older doorman's plain file: read, sealed in place with the same bytes inside, once */
    CHECK(tg_session_path(dir, "old", plain, sizeof plain, &e) == DM_OK);
    CHECK(tg_session_write_pyrogram(plain, &s, false, &e) == DM_OK);
    CHECK(tg_session_read_stored(plain, &key, &back, NULL, NULL, &sealed, &e) == DM_OK && !sealed);
    size_t before_len = 0;
    char *before = slurp(plain, &before_len);
    bool converted = false;
    CHECK(tg_session_seal_file(plain, &key, &converted, &e) == DM_OK && converted);
    CHECK(count_entries(dir) == 2);
    CHECK(stat(plain, &st) == 0 && (st.st_mode & 0777) == 0600);
    unsigned char *img2 = NULL;
    size_t len2 = 0;
    CHECK(tg_session_read_stored(plain, &key, &back, &img2, &len2, &sealed, &e) == DM_OK && sealed);
    CHECK(before && len2 == before_len && memcmp(img2, before, len2) == 0);
    size_t n1 = 0, n2 = 0;
    char *once = slurp(plain, &n1);
    CHECK(tg_session_seal_file(plain, &key, &converted, &e) == DM_OK && !converted);
    char *twice = slurp(plain, &n2);
    CHECK(once && twice && n1 == n2 && memcmp(once, twice, n1) == 0);
    /* a file that is no session is not sealed and not changed */
    char junk[512];
    snprintf(junk, sizeof junk, "%s/junk.session", dir);
    FILE *f = fopen(junk, "wb");
    CHECK(f && fputs("not a session at all", f) >= 0);
    if (f) fclose(f);
    CHECK(tg_session_seal_file(junk, &key, &converted, &e) == DM_EINVAL && !converted);
    size_t jn = 0;
    char *j = slurp(junk, &jn);
    CHECK(j && jn == 20 && memcmp(j, "not a session at all", 20) == 0);
    CHECK(count_entries(dir) == 3);
    printf("sealed: written 0600 without the key in it, opened only with the master key; "
           "a plain file sealed in place once\n");
    free(j);
    free(once);
    free(twice);
    free(before);
    secret_wipe(img, len);
    free(img);
    secret_wipe(img2, len2);
    free(img2);
    tg_session_wipe(&s);
    tg_session_wipe(&back);
    tg_session_wipe(&from_img);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_fixtures();
    CHECK(secret_init() == DM_OK);
    test_write();
    test_sealed();
    test_hostile();
    test_strings();
    test_names();
    rm_tree(tmpdir);
    return CHECK_DONE();
}
