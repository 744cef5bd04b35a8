/* bs.h -- stub. */
#ifndef BS_H
#define BS_H
#include "common.h"
#endif
