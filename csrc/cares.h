/* The one place c-ares is included.
 *
 * pycares_ng uses only the classic API that exists unchanged from c-ares 1.18 to 1.34
 * (ares_query/ares_search/ares_process_fd/ares_get_servers_ports ...). Newer releases mark
 * several of these deprecated; that is a deliberate choice here, so the warnings are switched
 * off on purpose rather than by accident. */
#ifndef PYCARES_NG_CARES_H
#define PYCARES_NG_CARES_H

#define CARES_NO_DEPRECATED 1
#include <ares.h>

#ifndef ARES_FLAG_NO_DFLT_SVR
#define ARES_FLAG_NO_DFLT_SVR (1 << 9) /* c-ares >= 1.22; a no-op on older libraries */
#endif

#ifndef ARES_ENOSERVER
#define ARES_ENOSERVER 26 /* c-ares >= 1.32; pycares_ng reports it on older libraries too */
#endif

#endif
