/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* unit.h -- what every cmocka unit test includes. */
#ifndef UNIT_H
#define UNIT_H

#include "common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#endif
