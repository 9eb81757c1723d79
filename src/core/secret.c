/*
 * secret.c: the key that encrypts channel secrets, and sealing with it.
 *
 * The key never enters the database: it comes from the configuration (base64) or from a
 * file of its own (mode 0600, created with a random key on first use). A sealed secret is
 * a 24-byte random nonce followed by XSalsa20-Poly1305 ciphertext (libsodium secretbox),
 * so a stolen database file yields no credentials, and tampering is detected.
 */
#include "core/core.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int key_from_b64(struct core *c, const char *b64, const char *where)
{
    size_t len = 0;
    unsigned char tmp[64];
    if(sodium_base642bin(tmp, sizeof(tmp), b64, strlen(b64), " \n\r\t", &len, NULL,
                         sodium_base64_VARIANT_ORIGINAL) || len != sizeof(c->key)) {
        sodium_memzero(tmp, sizeof(tmp));
        return sam_fail(SAM_EINVAL, "%s does not hold a 32-byte base64 key", where);
    }
    memcpy(c->key, tmp, sizeof(c->key));
    sodium_memzero(tmp, sizeof(tmp));
    return SAM_OK;
}

int core_key_load(struct core *c, const char *key_b64, const char *key_file)
{
    char text[128];
    int fd;
    ssize_t n;

    if(key_b64 && *key_b64)
        return key_from_b64(c, key_b64, "secret_key");
    fd = open(key_file, O_RDONLY | O_CLOEXEC);
    if(fd < 0 && errno == ENOENT) {
        unsigned char key[32];
        char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
        randombytes_buf(key, sizeof(key));
        sodium_bin2base64(b64, sizeof(b64), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
        fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if(fd < 0)
            return sam_fail(SAM_EIO, "cannot create key file %s: %s", key_file, strerror(errno));
        n = write(fd, b64, strlen(b64));
        if(n == (ssize_t)strlen(b64))
            n = write(fd, "\n", 1);
        if(n < 0 || fsync(fd)) {
            close(fd);
            unlink(key_file);
            return sam_fail(SAM_EIO, "cannot write key file %s", key_file);
        }
        close(fd);
        memcpy(c->key, key, sizeof(c->key));
        sodium_memzero(key, sizeof(key));
        return SAM_OK;
    }
    if(fd < 0)
        return sam_fail(SAM_EIO, "cannot read key file %s: %s", key_file, strerror(errno));
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if(n <= 0)
        return sam_fail(SAM_EIO, "key file %s is empty", key_file);
    text[n] = '\0';
    int rc = key_from_b64(c, text, key_file);
    sodium_memzero(text, sizeof(text));
    return rc;
}

int core_secret_seal(const struct core *c, const void *plain, size_t len, unsigned char **out,
                     size_t *outlen)
{
    size_t total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *buf = malloc(total);
    if(!buf)
        return SAM_ENOMEM;
    randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, plain, len, buf, c->key);
    *out = buf;
    *outlen = total;
    return SAM_OK;
}

int core_secret_open(const struct core *c, const unsigned char *sealed, size_t len, char **out,
                     size_t *outlen)
{
    size_t plen;
    char *p;
    if(len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return sam_fail(SAM_EINVAL, "stored secret is truncated");
    plen = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    p = malloc(plen + 1);
    if(!p)
        return SAM_ENOMEM;
    if(crypto_secretbox_open_easy((unsigned char *)p, sealed + crypto_secretbox_NONCEBYTES,
                                  len - crypto_secretbox_NONCEBYTES, sealed, c->key)) {
        free(p);
        return sam_fail(SAM_EINVAL, "stored secret cannot be decrypted: wrong key file?");
    }
    p[plen] = '\0';
    *out = p;
    *outlen = plen;
    return SAM_OK;
}
