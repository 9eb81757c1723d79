/* test_web.c: web/: the one table from error codes to HTTP statuses, and the route
 * table's shape (unique routes, workspace routes carry a permission). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/err.h"
#include "web/web.h"

static void status_table(void **state)
{
    static const struct {
        int rc;
        const char *field;
        int status;
        const char *code;
    } cases[] = {
        {SAM_EINVAL, "name", 422, "validation_failed"},
        {SAM_EBADREQ, NULL, 400, "bad_request"},
        {SAM_ENOTFOUND, NULL, 404, "not_found"},
        {SAM_ECONFLICT, "name", 409, "conflict"},
        {SAM_EAUTH, NULL, 401, "unauthorized"},
        {SAM_EPERM, NULL, 403, "forbidden"},
        {SAM_EPERM, "second_factor", 403, "second_factor_required"},
        {SAM_ETOOBIG, NULL, 413, "payload_too_large"},
        {SAM_ETOOBIG, "settings", 422, "validation_failed"},
        {SAM_ERATE, NULL, 429, "rate_limited"},
        {SAM_EUNSUPPORTED, NULL, 501, "not_implemented"},
        {SAM_ESTORE, NULL, 500, "internal"},
        {SAM_ENOMEM, NULL, 500, "internal"},
        {SAM_EIO, NULL, 502, "peer_unavailable"},
        {SAM_EINTERNAL, NULL, 500, "internal"},
    };
    (void)state;
    for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *code = NULL;
        assert_int_equal(web_status_for(cases[i].rc, cases[i].field, &code), cases[i].status);
        assert_string_equal(code, cases[i].code);
    }
}

static void route_table(void **state)
{
    struct buf b;
    (void)state;
    assert_true(web_nroutes > 20);
    for(size_t i = 0; i < web_nroutes; i++) {
        const struct web_route *r = &web_routes[i];
        assert_int_equal(r->pattern[0], '/');
        assert_non_null(r->fn);
        /* Anything inside a workspace asks for a permission there. */
        if(strstr(r->pattern, "{wid}"))
            assert_true(r->perm != 0);
        /* Only the operations endpoints, login and the secret-bearing links (calendar
         * token, OAuth state, invitation link) are public. */
        if(r->flags & ROUTE_PUBLIC)
            assert_true(!strncmp(r->pattern, "/healthz", 8) || !strncmp(r->pattern, "/readyz", 7) ||
                        !strncmp(r->pattern, "/metrics", 8) || !strcmp(r->pattern, "/api/v1/auth/login") ||
                        !strcmp(r->pattern, "/ical/{token}") || !strcmp(r->pattern, "/api/v1/auth/second-factor") ||
                        !strcmp(r->pattern, "/api/v1/invitations/{token}") ||
                        !strcmp(r->pattern, "/api/v1/invitations/{token}/accept") ||
                        !strcmp(r->pattern, "/api/v1/oauth/mastodon/callback"));
        for(size_t j = 0; j < i; j++)
            assert_false(!strcmp(r->method, web_routes[j].method) && !strcmp(r->pattern, web_routes[j].pattern));
    }
    buf_init(&b, 1 << 16);
    assert_int_equal(web_routes_list(&b), SAM_OK);
    assert_non_null(strstr(buf_str(&b), "GET /api/v1/workspaces/{wid}/channels\n"));
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_table),
        cmocka_unit_test(route_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
