/* Host lookups' Python results, built at delivery from what hostdata.h copied, in pycares 4's
 * shapes (host_results.c). GIL held; each returns a new reference, or NULL with an exception. */
#ifndef PYCARES_NG_HOST_RESULTS_H
#define PYCARES_NG_HOST_RESULTS_H

#include "hostdata.h"
#include "module.h"

/* gethostbyaddr's result; `asked` (text), when not NULL, is the one address listed, as the
 * system gives it (c-ares >= 1.22 lists every address of the hosts-file entry). */
PyObject *host_result(module_state *st, const host_copy *hc, const char *asked);
/* gethostbyname's result from getaddrinfo's, as c-ares builds a hostent: the canonical name, the
 * CNAME aliases (those of `pre`, hosts-file misses, first), and the addresses of one family (for
 * AF_UNSPEC, that of the first address). */
PyObject *host_result_from_ai(module_state *st, const struct ares_addrinfo *ai, int family,
                              const struct ares_addrinfo_cname *pre);
/* getnameinfo's result (may rewrite nc's strings in place). */
PyObject *nameinfo_result(module_state *st, nameinfo_copy *nc, const nameinfo_asked *asked);
/* gethostbyname of a literal address. */
PyObject *literal_result(module_state *st, const literal_copy *lc);
/* getaddrinfo's result: ai's addresses in the plan's node shape, `pre`'s CNAMEs first. */
PyObject *addrinfo_result(module_state *st, const struct ares_addrinfo *ai, const gai_plan *plan,
                          const struct ares_addrinfo_cname *pre);
/* getaddrinfo's result for a literal host, or none. */
PyObject *sys_answer_result(module_state *st, const sys_answer *ans);
/* res (consumed) under the channel face's class names: pycares 5's for face 5, else as is. */
PyObject *host_result_in_face(module_state *st, PyObject *res, int face);

#endif
