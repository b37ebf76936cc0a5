#!/usr/bin/env bash
# Asks every broker on this machine to shut down cleanly.
set -euo pipefail
pkill -TERM -f 'java.*kafka\.Kafka ' || { echo "No kafka server to stop"; exit 1; }
