/* sasl.h -- stub, to be written. */
#ifndef SASL_H
#define SASL_H
#include "common.h"
#endif
