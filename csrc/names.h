/* Turning user-supplied names into the ASCII form c-ares sends, with the checks that must
 * happen before anything is sent. */
#ifndef PYCARES_NG_NAMES_H
#define PYCARES_NG_NAMES_H

#include "module.h"

/* Room for the longest acceptable name in text form (escapes make text longer than wire). */
#define NAME_BUF_SIZE 1100

/* Encodes `name` (str or bytes; non-ASCII str through IDNA) into buf, NUL-terminated.
 * `what` names the argument in error messages. Returns the length, or -1 with TypeError or
 * ValueError set: NUL inside, over 253 octets, a label over 63 octets or empty. */
Py_ssize_t name_encode(module_state *st, PyObject *name, char *buf, const char *what);

/* Checks an already-ASCII name; returns NULL if fine, else a static message. */
const char *name_check(const char *s, size_t n);

#endif
