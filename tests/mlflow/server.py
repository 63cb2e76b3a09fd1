"""`mlflow server`, for hoist-testkit's MlflowServer: the same CLI, but the
server and its workers go when the test process that started it goes.

    python tests/mlflow/server.py server --backend-store-uri ... --port PORT

Started in its own process group with stdin a pipe the test process holds
open: end of file means the test is gone (even killed without running
destructors), so the whole group is killed. (The same idea as
HOIST_EXIT_ON_STDIN_EOF in tests/emulator/server.py; here the group, since
`mlflow server` runs uvicorn as a child process.)
"""

import os
import signal
import sys
import threading

from mlflow.cli import cli


def _exit_with_the_test():
    sys.stdin.read()
    os.killpg(0, signal.SIGKILL)


# Only as a group leader: never kill the group of whoever ran this by hand.
if os.getpgid(0) == os.getpid():
    threading.Thread(target=_exit_with_the_test, daemon=True).start()

sys.exit(cli())
