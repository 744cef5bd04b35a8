/* tls.h -- stub, to be written. */
#ifndef TLS_H
#define TLS_H
#include "common.h"
#endif
