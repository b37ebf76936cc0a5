#!/usr/bin/env bash
# Alters topic and user (SCRAM) configuration.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.admin.ConfigCommand "$@"
