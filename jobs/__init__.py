"""The pipeline's Spark and Hive jobs: the streaming job and the hourly steps."""
