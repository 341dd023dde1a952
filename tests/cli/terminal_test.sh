#!/usr/bin/env bash
# Runs terminal_test.py (it needs a pseudo-terminal, made with Python's pty).
exec python3 "$(dirname "$0")/terminal_test.py" "$1"
