/* login.h -- stub. */
#ifndef LOGIN_H
#define LOGIN_H
#include "common.h"
#endif
