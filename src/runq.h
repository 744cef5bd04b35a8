/* runq.h -- stub, to be written. */
#ifndef RUNQ_H
#define RUNQ_H
#include "common.h"
#endif
