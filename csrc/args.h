/* Argument checking shared by the Channel methods (args.c). */
#ifndef PYCARES_NG_ARGS_H
#define PYCARES_NG_ARGS_H

#include "module.h"

#include <stdint.h>

/* Minimal vectorcall parser: out[i] by position or keyword, NULL when absent. -1 on error. */
int parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
               const char *const *names, int nrequired, PyObject **out);
/* An int in [lo, hi]: 0 when obj is NULL/None, 1 with *out set, -1 with an exception. */
int int_option(PyObject *obj, const char *what, long lo, long hi, long *out);
/* int_option, with an OverflowError for a value outside the C type's [clo, chi]. */
int ctype_int_option(PyObject *obj, const char *what, long clo, long chi, long lo, long hi, long *out);
/* The same for a C uint32_t (flowinfo, scope_id), whose range a long cannot hold on ILP32:
 * OverflowError outside [0, 2**32 - 1], ValueError above hi. */
int ctype_u32_option(PyObject *obj, const char *what, uint32_t hi, uint32_t *out);
/* Non-negative finite seconds: 0 when NULL/None, 1 with *out set, -1 with an exception. */
int seconds_option(PyObject *obj, const char *what, double *out);
/* str (ASCII) or bytes without NUL, as a C string kept alive by the new reference in *keep. */
const char *text_arg(PyObject *obj, const char *what, PyObject **keep);
/* An IPv4 or IPv6 address string into family and 4/16 address octets. */
int parse_ip(PyObject *obj, const char *what, int *family, unsigned char *addr);
/* An iterable of "ip", "ip:port", "[ipv6]", "[ipv6]:port" as a malloc'd linked node array. */
int servers_parse(PyObject *servers, struct ares_addr_port_node **out, int *count);
/* strdup into PyMem; NULL with MemoryError. */
char *pymem_strdup(const char *s);

#endif
