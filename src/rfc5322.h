/* rfc5322.h -- stub, to be written. */
#ifndef RFC5322_H
#define RFC5322_H
#include "common.h"
#endif
