"""The streaming job's SASL/SCRAM login to the stack's own broker: the password is read from Secret Manager
when the job starts (as the cluster's service account, with gcloud), so no argument or file holds it."""

from __future__ import annotations

import re
import subprocess

SECRET_NAME = re.compile(r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/secrets/[A-Za-z0-9_-]{1,255}$")
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"


def secret_value(name: str) -> str:
    """The latest version of a Secret Manager secret, projects/P/secrets/S."""
    if not SECRET_NAME.match(name):
        raise ValueError(f"--kafka-password-secret must be projects/PROJECT/secrets/SECRET, got '{name}'")
    done = subprocess.run(["gcloud", "secrets", "versions", "access", f"{name}/versions/latest"],
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"reading {name} from Secret Manager failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def scram_jaas_config(user: str, password: str) -> str:
    """The kafka.sasl.jaas.config value; JAAS quotes the values, so a quote or backslash in them is refused."""
    if re.search(r'["\\\n]', user + password):
        raise ValueError("a Kafka user or password with a quote, backslash or newline cannot be put in a JAAS line")
    return f'{SCRAM_LOGIN} required username="{user}" password="{password}";'
