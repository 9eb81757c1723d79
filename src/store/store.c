/*
 * store.c: opening the store on the engine its URL names, and the helpers that free what
 * the store_* functions return. Kept free of any database library.
 */
#include "store/store.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

int store_sql_open(const char *target, int postgres, int pool_size, struct store **out);

int store_open(const char *url, struct store **out)
{
    *out = NULL;
    if(!strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13))
        return store_sql_open(url, 1, STORE_PG_POOL, out);
    if(!strncmp(url, "sqlite:", 7))
        url += 7;
    else if(strstr(url, "dbname=") || !strncmp(url, "host=", 5) || !strncmp(url, "user=", 5))
        /* libpq's key=value form would be taken for a file name and make a new database */
        return sam_fail(SAM_EINVAL, "give PostgreSQL as a URL (postgresql://user@host/dbname), not key=value pairs");
    if(!*url)
        return sam_fail(SAM_EINVAL, "the database path is empty");
    return store_sql_open(url, 0, STORE_SQLITE_POOL, out);
}

void store_channel_cleanup(struct store_channel *c)
{
    if(!c)
        return;
    free(c->settings);
    free(c->slots);
    free(c->secret);
    c->settings = NULL;
    c->slots = NULL;
    c->secret = NULL;
    c->secret_len = 0;
}

void store_channel_list_free(struct store_channel *items, size_t n)
{
    for(size_t i = 0; i < n; i++)
        store_channel_cleanup(&items[i]);
    free(items);
}

void store_audit_list_free(struct store_audit *items, size_t n)
{
    for(size_t i = 0; i < n; i++)
        free(items[i].detail);
    free(items);
}

void store_message_cleanup(struct store_message *m)
{
    if(!m)
        return;
    free(m->remote_id);
    free(m->remote_url);
    free(m->parent_remote_id);
    free(m->root_remote_id);
    free(m->thread_id);
    free(m->author_id);
    free(m->author_handle);
    free(m->author_name);
    free(m->text);
    memset(m, 0, sizeof(*m));
}

void store_message_list_free(struct store_message *items, size_t n)
{
    for(size_t i = 0; items && i < n; i++)
        store_message_cleanup(&items[i]);
    free(items);
}

void store_oauth_cleanup(struct store_oauth *o)
{
    if(!o)
        return;
    free(o->detail);
    if(o->secret) {
        memset(o->secret, 0, o->secret_len);
        free(o->secret);
    }
    memset(o, 0, sizeof(*o));
}

void store_mail_cleanup(struct store_mail *m)
{
    if(!m)
        return;
    free(m->subject);
    free(m->body);
    m->subject = m->body = NULL;
}

void store_mail_list_free(struct store_mail *items, size_t n)
{
    for(size_t i = 0; items && i < n; i++)
        store_mail_cleanup(&items[i]);
    free(items);
}

void store_occurrence_posts_free(struct store_occurrence_post *items, size_t n)
{
    for(size_t i = 0; items && i < n; i++) {
        free(items[i].text);
        free(items[i].variants);
        free(items[i].campaign);
    }
    free(items);
}

void store_queue_items_free(struct store_queue_item *items, size_t n)
{
    for(size_t i = 0; i < n; i++) {
        free(items[i].text);
        free(items[i].variants);
    }
    free(items);
}

void store_post_cleanup(struct store_post *p)
{
    if(!p)
        return;
    free(p->text);
    free(p->link);
    free(p->campaign);
    free(p->variants);
    free(p->override_reason);
    p->text = p->link = p->campaign = p->variants = p->override_reason = NULL;
}

void store_post_list_free(struct store_post *items, size_t n)
{
    for(size_t i = 0; i < n; i++)
        store_post_cleanup(&items[i]);
    free(items);
}

void store_approval_cleanup(struct store_approval *a)
{
    if(!a)
        return;
    free(a->note);
    free(a->post_text);
    a->note = a->post_text = NULL;
}

void store_approval_list_free(struct store_approval *items, size_t n)
{
    for(size_t i = 0; items && i < n; i++)
        store_approval_cleanup(&items[i]);
    free(items);
}

/* ---- security (X6) ---- */

void store_totp_cleanup(struct store_totp *t)
{
    if(!t)
        return;
    free(t->secret);
    free(t->pending);
    t->secret = t->pending = NULL;
    t->secret_len = t->pending_len = 0;
}


void store_media_cleanup(struct store_media *m)
{
    if(!m)
        return;
    free(m->data);
    m->data = NULL;
}

void store_post_media_list_free(struct store_post_media *items, size_t n)
{
    if(!items)
        return;
    for(size_t i = 0; i < n; i++) {
        free((char *)items[i].alt);
        store_media_cleanup(&items[i].media);
    }
    free(items);
}
