#!/bin/sh
# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
# One command: install the build dependencies (Debian 12), build oauthmail in
# ./build and send a first message end to end through the embedded demo (a
# local OAuth authorization server and an SMTP server on 127.0.0.1).
set -eu
cd "$(dirname "$0")"
sh scripts/install-deps
sh scripts/build
sh demo/run "$PWD/build"
