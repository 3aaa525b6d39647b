/* rdtime.h -- empty: rd.h beside it has what rdkafka_performance.c needs */
#include "rd.h"
