#!/usr/bin/env python3
"""Build the report editions: see `python make_report.py --help`."""

import gc
import sys

from reportkit.cli import main

if __name__ == '__main__':
    status = main()
    # Everything the command wrote is closed by now: Python need not look through the
    # objects it holds one by one before it ends (a third of a second after a batch).
    gc.freeze()
    sys.exit(status)
