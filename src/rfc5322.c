/* rfc5322.c -- stub, to be written. */
#include "common.h"
