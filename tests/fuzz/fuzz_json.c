/* fuzz_json.c -- libFuzzer harness: kproduce's JSON line reader and the writer */
#include <stdlib.h>
#include <string.h>

#include "kp_json.h"
#include "../unit/fuzz_json.h"

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
	fuzz_json_lines(data, size);
	return 0;
}
