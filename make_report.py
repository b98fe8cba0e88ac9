#!/usr/bin/env python3
"""Build the report editions: see `python make_report.py --help`."""

import sys

from reportkit.cli import main

if __name__ == '__main__':
    sys.exit(main())
