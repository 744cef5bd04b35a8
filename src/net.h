/* net.h -- stub, to be written. */
#ifndef NET_H
#define NET_H
#include "common.h"
#endif
