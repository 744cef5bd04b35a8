/* token.c -- stub, to be written. */
#include "common.h"
