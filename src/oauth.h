/* oauth.h -- stub, to be written. */
#ifndef OAUTH_H
#define OAUTH_H
#include "common.h"
#endif
