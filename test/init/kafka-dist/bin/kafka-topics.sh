#!/usr/bin/env bash
# Lists, creates and describes topics.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.TopicCommand "$@"
