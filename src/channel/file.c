/*
 * file.c: the local file channel (CH6), for demos and tests. Publishing appends one
 * JSON line to a file; deleting appends another. Nothing leaves the machine.
 *
 * Settings: {"path": "NAME"}, a relative path resolved under ctx->file_dir (the files
 * folder of the installation). Absolute paths and ".." components are refused, so a
 * workspace editor cannot make the server write anywhere else. Missing folders are
 * created.
 *
 * The file is JSON lines, one event a line, written with O_APPEND and one write() per
 * line, then fsync()ed before publish reports success:
 *
 *   {"type":"publish","idempotency_key":K,"occurrence_id":N,"post_id":N,
 *    "planned_at":"2026-11-23T19:45:00Z","published_at":"...","text":"...","link":null,
 *    "media":[{"id":N,"sha256":"HEX","type":"image/jpeg","width":W,"height":H,"bytes":N,"frames":1,
 *              "alt":"..."}]}
 *
 * (media is there when the post has images, P16: what each is and its alt text, never the
 * bytes; the image itself is samtale's, GET .../media/{id}.)
 *   {"type":"delete","remote_id":K,"deleted_at":"..."}
 *
 * The remote id of a published line is its idempotency key. Idempotency: under an
 * exclusive flock() the file is scanned for a publish line with the same key (or a
 * delete line with the same remote id) before appending, so a retry after a crash or a
 * second worker never writes the line twice. The scan reads the file in chunks and skips
 * lines longer than FILE_LINE_MAX, so its memory is bounded whatever is in the file. A
 * torn last line (a crash in the middle of a write) is left alone and the next line starts
 * on a line of its own.
 */
#include "channel/channel.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_LINE_MAX (1024 * 1024) /* longest line the idempotency scan looks at */
#define FILE_PATH_MAX 4096
#define FILE_KEY_MAX 80

/* Keys and remote ids are written into the JSON as they are and found again by plain
 * substring search, so they must need no escaping: printable ASCII without quotes,
 * backslashes or spaces. */
static int key_ok(const char *key)
{
    size_t n = 0;
    if(!key)
        return 0;
    for(; key[n]; n++)
        if((unsigned char)key[n] <= 0x20 || (unsigned char)key[n] >= 0x7f || key[n] == '"' ||
           key[n] == '\\')
            return 0;
    return n > 0 && n <= FILE_KEY_MAX;
}

/* 1 when errno describes a condition that may pass (a full disk, too many open files). */
static int transient_errno(int e)
{
    return e == ENOSPC || e == EIO || e == EINTR || e == EAGAIN || e == EMFILE ||
           e == ENFILE || e == EDQUOT || e == ENOMEM;
}

/* Checks settings.path and writes the full path into out. On refusal fills res
 * (CHANNEL_FAIL) and returns 0; returns 1 when the path is usable. */
static int resolve_path(const struct channel_ctx *ctx, char *out, size_t n, const char **rel,
                        struct channel_result *res)
{
    json_t *v = ctx->settings ? json_object_get(ctx->settings, "path") : NULL;
    const char *p = json_string_value(v), *c;
    size_t len;
    *rel = "";
    if(!p || !*p) {
        channel_result_set(res, CHANNEL_FAIL,
                "This file channel has no path. Set the channel's path to a file name under "
                "the files folder, such as posts.jsonl.");
        return 0;
    }
    *rel = p;
    len = strlen(p);
    if(p[0] == '/') {
        channel_result_set(res, CHANNEL_FAIL,
                "The file channel's path %.200s is absolute. Use a path under the files "
                "folder, such as posts.jsonl.", p);
        return 0;
    }
    for(c = p;;) { /* every component, c at its first character */
        if(c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0')) {
            channel_result_set(res, CHANNEL_FAIL,
                    "The file channel's path %.200s leaves the files folder (it contains "
                    "\"..\"). Use a path under the files folder, such as posts.jsonl.", p);
            return 0;
        }
        if(!(c = strchr(c, '/')))
            break;
        c++;
    }
    if(p[len - 1] == '/' || utf8_has_control(p)) {
        channel_result_set(res, CHANNEL_FAIL,
                "The file channel's path %.200s is not a file name. Use a path under the "
                "files folder, such as posts.jsonl.", p);
        return 0;
    }
    if(!ctx->file_dir || !*ctx->file_dir) {
        channel_result_set(res, CHANNEL_FAIL,
                "samtale has no files folder configured, so file channels cannot write. "
                "Ask the administrator to set one.");
        return 0;
    }
    if((size_t)snprintf(out, n, "%s/%s", ctx->file_dir, p) >= n) {
        channel_result_set(res, CHANNEL_FAIL, "The file channel's path is too long. Use a shorter name.");
        return 0;
    }
    return 1;
}

/* Creates every folder above the file named by path (like mkdir -p of its dirname). */
static int make_parents(char *path)
{
    for(char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if(mkdir(path, 0700) && errno != EEXIST) {
            int e = errno;
            *s = '/';
            errno = e;
            return -1;
        }
        *s = '/';
    }
    return 0;
}

/* 1 when line (NUL-terminated) is an event of this type whose field equals value. */
static int line_matches(const char *line, size_t len, const char *type, const char *field,
                        const char *value)
{
    json_t *j;
    int hit;
    if(!strstr(line, value)) /* cheap filter; value needs no escaping (key_ok) */
        return 0;
    j = json_loadb(line, len, 0, NULL);
    hit = j && json_is_object(j) &&
          json_is_string(json_object_get(j, "type")) &&
          !strcmp(json_string_value(json_object_get(j, "type")), type) &&
          json_is_string(json_object_get(j, field)) &&
          !strcmp(json_string_value(json_object_get(j, field)), value);
    json_decref(j);
    return hit;
}

/* Scans fd from the start for an event of this type with field == value. Sets *found.
 * Memory is bounded by FILE_LINE_MAX; longer lines are skipped. Returns SAM_OK, SAM_EIO
 * (errno set) or SAM_ENOMEM. */
static int scan(int fd, const char *type, const char *field, const char *value, int *found)
{
    char chunk[65536];
    struct buf line;
    off_t off = 0;
    ssize_t got;
    int skipping = 0, rc = SAM_OK;

    *found = 0;
    buf_init(&line, FILE_LINE_MAX);
    for(;;) {
        got = pread(fd, chunk, sizeof(chunk), off);
        if(got < 0) {
            if(errno == EINTR)
                continue;
            rc = SAM_EIO;
            goto out;
        }
        if(got == 0)
            break;
        off += got;
        for(ssize_t i = 0, start = 0; i <= got; i++) {
            if(i < got && chunk[i] != '\n')
                continue;
            /* chunk[start..i) belongs to the current line; at i == got it continues. */
            if(!skipping) {
                rc = buf_append(&line, chunk + start, (size_t)(i - start));
                if(rc == SAM_ETOOBIG) {
                    skipping = 1;
                    buf_reset(&line);
                    rc = SAM_OK;
                } else if(rc) {
                    goto out;
                }
            }
            if(i < got) {
                if(!skipping && line_matches(buf_str(&line), line.len, type, field, value)) {
                    *found = 1;
                    goto out;
                }
                skipping = 0;
                buf_reset(&line);
            }
            start = i + 1;
        }
    }
    /* A last line without a newline (a torn write) still counts when it is whole JSON. */
    if(!skipping && line.len && line_matches(buf_str(&line), line.len, type, field, value))
        *found = 1;
out:
    buf_cleanup(&line);
    return rc;
}

/* Appends one event line to the file at path unless an event of type with field ==
 * value is already there. Fills res with the outcome; returns SAM_ENOMEM only. */
static int append_once(char *path, const char *rel, const char *type, const char *field,
                       const char *value, const char *line, struct channel_result *res,
                       int *appended)
{
    int fd = -1, found = 0, rc = SAM_OK, created, e;
    struct stat st;
    struct buf out;
    char last = '\n';
    ssize_t w;

    *appended = 0;
    buf_init(&out, (size_t)FILE_LINE_MAX + 2);
    if(make_parents(path)) {
        e = errno;
        channel_result_set(res, transient_errno(e) ? CHANNEL_RETRY : CHANNEL_FAIL,
                "Could not create the folder for %.200s in the files folder: %s.", rel,
                strerror(e));
        goto out;
    }
    created = stat(path, &st) != 0;
    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if(fd < 0) {
        e = errno;
        channel_result_set(res, transient_errno(e) ? CHANNEL_RETRY : CHANNEL_FAIL,
                "Could not open %.200s in the files folder: %s.", rel, strerror(e));
        goto out;
    }
    while(flock(fd, LOCK_EX) && errno == EINTR)
        ;
    rc = scan(fd, type, field, value, &found);
    if(rc == SAM_EIO) {
        rc = SAM_OK;
        e = errno;
        channel_result_set(res, CHANNEL_RETRY, "Could not read %.200s: %s.", rel, strerror(e));
        goto out;
    }
    if(rc)
        goto out;
    if(found) {
        res->outcome = CHANNEL_OK;
        goto out;
    }
    if(fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
        last = '\n';
    /* One line, one write(): a torn previous line is ended first, in the same write. */
    if((last != '\n' && (rc = buf_puts(&out, "\n"))) || (rc = buf_puts(&out, line)) ||
       (rc = buf_puts(&out, "\n"))) {
        if(rc == SAM_ETOOBIG) {
            rc = SAM_OK;
            channel_result_set(res, CHANNEL_FAIL, "The post is too large for a file channel (over 1 MiB).");
        }
        goto out;
    }
    do {
        w = write(fd, out.data, out.len);
    } while(w < 0 && errno == EINTR);
    if(w != (ssize_t)out.len) {
        e = w < 0 ? errno : ENOSPC;
        channel_result_set(res, CHANNEL_RETRY, "Could not write to %.200s: %s.", rel, strerror(e));
        goto out;
    }
    if(fsync(fd)) {
        e = errno;
        channel_result_set(res, CHANNEL_RETRY, "Could not save %.200s to disk: %s.", rel, strerror(e));
        goto out;
    }
    if(created) {
        /* The new file's name must survive a crash too: sync its folder. */
        char *slash = strrchr(path, '/');
        int dfd;
        *slash = '\0';
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        *slash = '/';
        if(dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    *appended = 1;
    res->outcome = CHANNEL_OK;
out:
    if(fd >= 0)
        close(fd); /* releases the lock */
    buf_cleanup(&out);
    return rc;
}

static int file_publish(const struct channel_ctx *ctx, const struct channel_post *post,
                        struct channel_result *res)
{
    char path[FILE_PATH_MAX], planned[32], now[32];
    const char *rel;
    char *line = NULL;
    json_t *j = NULL;
    int rc = SAM_OK, appended = 0;

    channel_result_clear(res);
    if(!key_ok(post->idempotency_key)) {
        channel_result_set(res, CHANNEL_FAIL, "samtale made an unusable idempotency key for this post; "
                                   "this is a bug, please report it.");
        return sam_fail(SAM_EINVAL, "an idempotency key must be 1 to 80 printable characters "
                                    "without spaces, quotes or backslashes");
    }
    if(!resolve_path(ctx, path, sizeof(path), &rel, res))
        return SAM_OK;
    if(!post->text || utf8_count(post->text, strlen(post->text)) < 0 ||
       (post->link && utf8_count(post->link, strlen(post->link)) < 0)) {
        channel_result_set(res, CHANNEL_FAIL, "The post's text or link is not valid UTF-8. Edit the post "
                                   "and publish again.");
        return SAM_OK;
    }
    time_rfc3339(post->planned_at, planned, sizeof(planned));
    time_rfc3339(time_now(), now, sizeof(now));
    j = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s?}", "type", "publish",
                  "idempotency_key", post->idempotency_key, "occurrence_id",
                  (json_int_t)post->occurrence_id, "post_id", (json_int_t)post->post_id,
                  "planned_at", planned, "published_at", now, "text", post->text, "link",
                  post->link);
    if(j && post->nmedia && json_object_set_new(j, "media", channel_media_json(post))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    if(!j || !(line = json_dumps(j, JSON_COMPACT))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    rc = append_once(path, rel, "publish", "idempotency_key", post->idempotency_key, line, res,
                     &appended);
    if(rc || res->outcome != CHANNEL_OK)
        goto out;
    snprintf(res->remote_id, sizeof(res->remote_id), "%s", post->idempotency_key);
    if(appended) /* each its own call, so that both are texts of the catalogues */
        channel_result_say(res, "Written to %.200s in the files folder.", rel);
    else
        channel_result_say(res, "Already in %.200s in the files folder; not written again.", rel);
out:
    free(line);
    json_decref(j);
    return rc;
}

static int file_remove(const struct channel_ctx *ctx, const char *remote_id_in,
                       struct channel_result *res)
{
    char path[FILE_PATH_MAX], now[32], remote_id[FILE_KEY_MAX + 2];
    const char *rel;
    char *line = NULL;
    json_t *j = NULL;
    int rc = SAM_OK, appended = 0;

    /* Copied first: the caller may pass res->remote_id, which result_clear wipes. */
    snprintf(remote_id, sizeof(remote_id), "%s", remote_id_in ? remote_id_in : "");
    channel_result_clear(res);
    if(!key_ok(remote_id)) {
        channel_result_set(res, CHANNEL_FAIL, "This is not the id of something a file channel wrote; "
                                   "there is nothing to delete.");
        return SAM_OK;
    }
    if(!resolve_path(ctx, path, sizeof(path), &rel, res))
        return SAM_OK;
    time_rfc3339(time_now(), now, sizeof(now));
    j = json_pack("{s:s, s:s, s:s}", "type", "delete", "remote_id", remote_id, "deleted_at", now);
    if(!j || !(line = json_dumps(j, JSON_COMPACT))) {
        rc = SAM_ENOMEM;
        goto out;
    }
    rc = append_once(path, rel, "delete", "remote_id", remote_id, line, res, &appended);
    if(rc || res->outcome != CHANNEL_OK)
        goto out;
    snprintf(res->remote_id, sizeof(res->remote_id), "%s", remote_id);
    if(appended)
        channel_result_say(res, "Marked as deleted in %.200s.", rel);
    else
        channel_result_say(res, "Already deleted in %.200s.", rel);
out:
    free(line);
    json_decref(j);
    return rc;
}

const struct channel_ops channel_file_ops = {
    .kind = "file",
    .can_publish = 1,
    .can_delete = 1,
    .publish = file_publish,
    .remove = file_remove,
};
