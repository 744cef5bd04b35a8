/* json.h -- stub, to be written. */
#ifndef JSON_H
#define JSON_H
#include "common.h"
#endif
