#!/usr/bin/env bash
# Adds and lists ACLs.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.admin.AclCommand "$@"
