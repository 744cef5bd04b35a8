/* bs.c -- stub, to be written. */
#include "common.h"
