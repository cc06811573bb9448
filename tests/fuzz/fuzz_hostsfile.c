/* libFuzzer target for csrc/hostsfile.c: each input is a hosts file (written to a private file
 * named by CARES_HOSTS); it is parsed, then searched forward for names taken from the input and
 * the usual ones, and in reverse for every address it holds, under ASan+UBSan. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostsfile.h"

static char path[64];

static void lookups(hosts_cache **cache, const char *name)
{
    static const int families[] = {AF_INET, AF_INET6, AF_UNSPEC};
    for (int i = 0; i < 3; i++) {
        struct ares_addrinfo *ai = NULL;
        (void)hosts_forward(cache, path, name, families[i], i != 1, &ai);
        if (ai != NULL) {
            for (struct ares_addrinfo_node *n = ai->nodes; n != NULL; n = n->ai_next) {
                struct hostent *h = NULL;
                const void *addr = n->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)n->ai_addr)->sin_addr
                                                           : (const void *)&((struct sockaddr_in6 *)n->ai_addr)->sin6_addr;
                if (hosts_reverse(cache, path, n->ai_family, addr, &h) == ARES_SUCCESS)
                    hosts_hostent_free(h);
            }
            hosts_addrinfo_free(ai);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0') {
        snprintf(path, sizeof(path), "/tmp/fuzz-hosts-%d", (int)getpid());
        setenv("CARES_HOSTS", path, 1); /* for libcares; pycares_ng's reader is given path */
    }
    FILE *fp = fopen(path, "wb");
    if (fp == NULL)
        return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    hosts_cache *cache = NULL;
    lookups(&cache, "localhost");
    lookups(&cache, "a");
    /* every token of the input as a name */
    char *copy = malloc(size + 1);
    if (copy != NULL) {
        memcpy(copy, data, size);
        copy[size] = '\0';
        int count = 0;
        for (char *save = NULL, *tok = strtok_r(copy, " \t\r\n\v\f#", &save); tok != NULL && count < 16;
             tok = strtok_r(NULL, " \t\r\n\v\f#", &save), count++)
            lookups(&cache, tok);
        free(copy);
    }
    hosts_cache_free(cache);
    return 0;
}
