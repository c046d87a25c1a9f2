"""A closed pipe (``snntorch-ext list | head -1``) ends the program quietly."""

from __future__ import annotations

import subprocess
import sys


def test_output_into_a_closed_pipe_ends_quietly():
    program = subprocess.Popen(
        [sys.executable, "-c", "from snntorch_ext.cli import run; run()", "list"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    program.stdout.read(10)
    program.stdout.close()  # the reader goes away after the first bytes, as `head -c 10` does
    _, err = program.communicate(timeout=120)
    assert program.returncode == 0
    assert b"Traceback" not in err and b"BrokenPipe" not in err
