#!/usr/bin/env bash
# Formats KRaft storage and mints cluster ids.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
