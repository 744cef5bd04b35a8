/* store_kernel.c -- stub, to be written. */
#include "common.h"
