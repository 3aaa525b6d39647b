/* fuzz_repl.c -- libFuzzer harness: ElectLeaders and reassignment decoders, reassignment plans */
#include <stdint.h>
#include <stdlib.h>

#include "../unit/fuzz_repl.h"

int		 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char	*__ubsan_default_options(void);

/* Without this UBSan reports and carries on; halt so the input is kept. */
const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_repl_one(data, size);
	return 0;
}
