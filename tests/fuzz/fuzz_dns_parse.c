/* libFuzzer target for csrc/dns_parse.c: every input is walked through the header reader,
 * every record, every typed RDATA decoder and the TXT/SVCB iterators, under ASan+UBSan. */
#include <stddef.h>
#include <stdint.h>

#include "dns_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)dns_walk_message(data, size);
    return 0;
}
