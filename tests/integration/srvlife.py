# SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors
"""srvlife.py -- the life of a test server (oauth_server.py, smtpd.py,
api_server.py, pf_milter.py): it ends at once on SIGTERM (and SIGINT),
ends when the test that started it is gone, and tells the test its port
through a file that appears whole.

    srvlife.exit_on(signal.SIGTERM, signal.SIGINT)
    srvlife.exit_with_parent(opts.parent_pid)   # 0: no parent to watch
    srvlife.write_port(path, port)
"""

import os
import signal
import threading
import time


def _bye(*_):
    os._exit(0)


def exit_on(*signals):
    """Exit (status 0, no clean-up) on each of these signals."""
    for s in signals:
        signal.signal(s, _bye)


def exit_with_parent(pid):
    """Exit within a second of process pid ending (a thread polls it)."""
    if not pid:
        return

    def watch():
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass
            time.sleep(1)
    threading.Thread(target=watch, daemon=True).start()


def write_port(path, port):
    """Write "PORT\\n" to path by rename: a reader sees all of it or none."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)
