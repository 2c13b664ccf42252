#ifndef SECIRC_CRESOLV_SHIM_H
#define SECIRC_CRESOLV_SHIM_H
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <string.h>
#include <netdb.h>

/* One TXT query through the system resolver library (glibc's libresolv), on a private resolver
   state (res_ninit: thread-safe, nothing shared with other lookups). With `server` (IPv4), the
   query goes to it alone instead of /etc/resolv.conf's name servers (tests run their own DNS
   server). `timeout_seconds` per try, `tries` tries. Returns the answer's length (the whole DNS
   message in `answer`), or -1 with `*error` set to h_errno. In a shim because `struct
   __res_state`'s fields and the C_IN / T_TXT macros do not import cleanly. */
static inline int secirc_res_query_txt(const char *name, const struct sockaddr_in *server, int timeout_seconds,
                                       int tries, unsigned char *answer, int length, int *error) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) { *error = NO_RECOVERY; return -1; }
    if (server != NULL) {
        state.nsaddr_list[0] = *server;
        state.nscount = 1;
    }
    state.retrans = timeout_seconds > 0 ? timeout_seconds : 1;
    state.retry = tries > 0 ? tries : 1;
    int n = res_nquery(&state, name, C_IN, T_TXT, answer, length);
    *error = n < 0 ? state.res_h_errno : 0;
    res_nclose(&state);
    return n;
}
#endif
