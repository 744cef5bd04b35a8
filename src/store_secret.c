/* store_secret.c -- stub, to be written. */
#include "common.h"
