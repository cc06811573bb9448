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

/* As name_encode, for a request's name: a name that is well-formed input but not a valid DNS
 * name (over 253 octets, a label over 63 octets or empty, a lone backslash) returns NAME_REPORT
 * with no exception set, for the caller to report through the callback as ARES_EBADNAME, as
 * pycares 4 and libcares do. Wrong types, a NUL inside and IDNA failures still raise. */
#define NAME_REPORT (-2)
Py_ssize_t name_encode_request(module_state *st, PyObject *name, char *buf, const char *what);

/* Checks an already-ASCII name; returns NULL if fine, else a static message. */
const char *name_check(const char *s, size_t n);

#endif
