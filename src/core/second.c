/*
 * second.c: the second factor of a login (X6): TOTP codes (RFC 6238) from an
 * authenticator app, and recovery codes for when the phone is gone.
 *
 * A login with a right password on an account that has the factor gets a challenge
 * instead of a session: a random secret the client sends back with a code within
 * CORE_CHALLENGE_SECONDS. A challenge takes CORE_CHALLENGE_TRIES wrong codes, then it is
 * gone and the password must be given again (which the login limiter counts). A code is
 * accepted once: the time step it matched is stored, and no code of that step or an
 * earlier one works again.
 */
#include "core/core.h"
#include "util/err.h"
#include "util/timeutil.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int core_challenge_open(struct core *c, const struct store_user *u, const char *addr, int64_t now, char *out,
                        size_t n)
{
    struct store_challenge ch;
    unsigned char hash[32];
    int rc;
    memset(&ch, 0, sizeof(ch));
    core_random_token("mfa_", out, n);
    core_token_hash(out, hash);
    ch.user_id = u->id;
    snprintf(ch.address, sizeof(ch.address), "%s", addr ? addr : "");
    ch.created_at = now;
    ch.expires_at = now + CORE_CHALLENGE_SECONDS;
    rc = store_challenge_insert(c->st, hash, &ch);
    if(rc)
        sodium_memzero(out, n);
    return rc;
}
