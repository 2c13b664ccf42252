#ifndef SECIRC_CMICROHTTPD_SHIM_H
#define SECIRC_CMICROHTTPD_SHIM_H
#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <microhttpd.h>

/* MHD_start_daemon is C-variadic, which Swift cannot call. This wrapper takes the options
 * SecIRCHTTP uses as typed parameters and passes them through MHD_OPTION_ARRAY.
 * listen_fd: a bound, listening, non-blocking socket (MHD_OPTION_LISTEN_SOCKET).
 * accept_policy: called with each accepted peer's address before a connection is made
 *   (MHD_NO closes the socket at once); may be NULL.
 * notify_connection: told when a TCP connection starts and when it closes
 *   (MHD_OPTION_NOTIFY_CONNECTION); may be NULL.
 * thread_pool_size: > 1 starts a pool of that many epoll threads.
 * per_ip_connection_limit: 0 for none (MHD_OPTION_PER_IP_CONNECTION_LIMIT).
 * https_key / https_cert: both NULL for plain HTTP; they must stay valid while the daemon runs. */
static inline struct MHD_Daemon *secirc_mhd_start_daemon(
    unsigned int flags, int listen_fd,
    MHD_AcceptPolicyCallback accept_policy, void *accept_policy_cls,
    MHD_AccessHandlerCallback handler, void *handler_cls,
    MHD_RequestCompletedCallback completed, void *completed_cls,
    MHD_NotifyConnectionCallback notify_connection, void *notify_connection_cls,
    MHD_LogCallback logger, void *logger_cls,
    size_t (*unescape)(void *cls, struct MHD_Connection *connection, char *text),
    unsigned int thread_pool_size, unsigned int connection_timeout,
    unsigned int connection_limit, unsigned int per_ip_connection_limit, size_t connection_memory_limit,
    const char *https_key, const char *https_cert, const char *https_priorities)
{
    struct MHD_OptionItem options[20];
    int n = 0;
    /* The logger goes first so that start-up messages reach it (microhttpd.h). */
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)logger, logger_cls};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, (intptr_t)listen_fd, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, completed_cls};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)connection_timeout, NULL};
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)connection_limit, NULL};
    if (notify_connection != NULL)
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_connection, notify_connection_cls};
    if (per_ip_connection_limit > 0)
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)per_ip_connection_limit, NULL};
    if (connection_memory_limit > 0)
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)connection_memory_limit, NULL};
    if (thread_pool_size > 1)
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)thread_pool_size, NULL};
    if (https_key != NULL && https_cert != NULL) {
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)https_key};
        options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)https_cert};
        if (https_priorities != NULL)
            options[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)https_priorities};
    }
    options[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return MHD_start_daemon(flags, 0, accept_policy, accept_policy_cls, handler, handler_cls,
                            MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/* MHD_get_connection_info is C-variadic too. The socket of a connection, or -1. Valid until
 * MHD_CONNECTION_NOTIFY_CLOSED for the connection has returned: libmicrohttpd closes the socket
 * only after that notification. */
static inline int secirc_mhd_connection_fd(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

/* The peer's address of a connection, or NULL. */
static inline const struct sockaddr *secirc_mhd_connection_address(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return info == NULL ? NULL : info->client_addr;
}

/* Macros with casts that Swift does not import. */
static inline ssize_t secirc_mhd_content_reader_end_of_stream(void) { return MHD_CONTENT_READER_END_OF_STREAM; }
static inline ssize_t secirc_mhd_content_reader_end_with_error(void) { return MHD_CONTENT_READER_END_WITH_ERROR; }
static inline uint64_t secirc_mhd_size_unknown(void) { return MHD_SIZE_UNKNOWN; }
#endif
