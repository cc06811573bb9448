/* The socket functions pycares_ng gives libcares: libcares' own behaviour, except that closing a
 * socket whose "closed" sock_state_cb is still to be delivered waits for that delivery. So the fd
 * is still valid while the user unregisters it (loop.remove_reader(fd) on a closed fd raises
 * EBADF), and its number cannot be reused by a new socket before the notification arrives. */
#ifndef PYCARES_NG_SOCKETS_H
#define PYCARES_NG_SOCKETS_H

#include "channel.h"

/* Installs the functions on a new libcares channel of c. Returns an ARES_ status. */
int sockets_install(chan_core *c, ares_channel ch);

#endif
