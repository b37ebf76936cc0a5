#!/usr/bin/env bash
# Prints each partition's latest offset.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.GetOffsetShell "$@"
