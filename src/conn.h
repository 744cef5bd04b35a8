/* conn.h -- stub, to be written. */
#ifndef CONN_H
#define CONN_H
#include "common.h"
#endif
