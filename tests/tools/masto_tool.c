/*
 * masto_tool.c: drives the Mastodon connector's account calls for the integration tests
 * (tests/integration/test_mastodon.py runs it against the contract mock):
 *   masto_tool INSTANCE register REDIRECT
 *   masto_tool INSTANCE authorize CLIENT_ID REDIRECT
 *   masto_tool INSTANCE exchange CLIENT_ID CLIENT_SECRET REDIRECT CODE
 *   masto_tool INSTANCE verify TOKEN
 *   masto_tool INSTANCE mentions TOKEN [SINCE_ID]
 * Prints JSON; exits 1 with the error on failure.
 */
#include <stdio.h>
#include <string.h>

#include "channel/mastodon.h"
#include "util/err.h"
#include "util/netpolicy.h"

int main(int argc, char **argv)
{
    char a[512], b[512];
    json_t *j = NULL;
    int rc;
    netpolicy_configure(1, NULL); /* the contract mock is on 127.0.0.1 */
    if(argc < 3)
        return fprintf(stderr, "usage: masto_tool INSTANCE register|authorize|exchange|verify|mentions ...\n"), 2;
    if(!strcmp(argv[2], "register") && argc == 4) {
        rc = masto_register_app(argv[1], argv[3], a, sizeof(a), b, sizeof(b));
        if(!rc)
            j = json_pack("{s:s, s:s}", "client_id", a, "client_secret", b);
    } else if(!strcmp(argv[2], "authorize") && argc == 5) {
        rc = masto_authorize_url(argv[1], argv[3], argv[4], a, sizeof(a));
        if(!rc)
            j = json_pack("{s:s}", "url", a);
    } else if(!strcmp(argv[2], "exchange") && argc == 7) {
        rc = masto_exchange_code(argv[1], argv[3], argv[4], argv[5], argv[6], a, sizeof(a));
        if(!rc)
            j = json_pack("{s:s}", "access_token", a);
    } else if(!strcmp(argv[2], "verify") && argc == 4) {
        rc = masto_verify(argv[1], argv[3], &j);
    } else if(!strcmp(argv[2], "mentions") && (argc == 4 || argc == 5)) {
        rc = masto_mentions(argv[1], argv[3], argc == 5 ? argv[4] : "", &j);
    } else {
        return fprintf(stderr, "masto_tool: bad arguments\n"), 2;
    }
    if(rc) {
        fprintf(stderr, "masto_tool: %s\n", sam_errmsg(rc));
        return 1;
    }
    json_dumpf(j, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(j);
    return 0;
}
