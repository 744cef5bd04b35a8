/* addr.h -- stub, to be written. */
#ifndef ADDR_H
#define ADDR_H
#include "common.h"
#endif
