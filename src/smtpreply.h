/* smtpreply.h -- stub, to be written. */
#ifndef SMTPREPLY_H
#define SMTPREPLY_H
#include "common.h"
#endif
