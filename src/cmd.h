/* cmd.h -- stub, to be written. */
#ifndef CMD_H
#define CMD_H
#include "common.h"
#endif
