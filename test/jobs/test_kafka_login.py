"""The streaming job's SCRAM login: the password comes from Secret Manager (gcloud) when the job starts, never
from its arguments."""

from __future__ import annotations

import os
import stat

import pytest

from jobs import kafka_login
from jobs.weblog_stream import parse_args

REQUIRED = ["--bootstrap-servers", "b:9092", "--raw", "r", "--quarantine", "q", "--checkpoint", "c", "--markers", "m"]
SECRET = "projects/my-clickstream-dev/secrets/clickstream-kafka-stream"


@pytest.fixture
def gcloud(tmp_path, monkeypatch):
    """A gcloud on PATH that answers `secrets versions access` for one secret, as Secret Manager would."""
    script = tmp_path / "gcloud"
    script.write_text('#!/usr/bin/env bash\n[[ "$*" == "secrets versions access '
                      f'{SECRET}/versions/latest" ]] && echo s3cretPassw0rd && exit 0\n'
                      'echo "ERROR: (gcloud.secrets.versions.access) NOT_FOUND" >&2; exit 1\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_the_job_names_its_password_secret_and_reads_the_password_from_secret_manager(gcloud):
    args = parse_args([*REQUIRED, "--kafka-sasl-user", "stream", "--kafka-password-secret", SECRET])
    assert "s3cretPassw0rd" not in repr(vars(args))
    jaas = kafka_login.scram_jaas_config(args.kafka_sasl_user, kafka_login.secret_value(args.kafka_password_secret))
    assert jaas == ('org.apache.kafka.common.security.scram.ScramLoginModule required username="stream"'
                    ' password="s3cretPassw0rd";')


def test_a_secret_that_cannot_be_read_stops_the_job_naming_it(gcloud):
    with pytest.raises(RuntimeError, match="reading projects/my-clickstream-dev/secrets/other from Secret Manager"):
        kafka_login.secret_value("projects/my-clickstream-dev/secrets/other")


@pytest.mark.parametrize("name", ["clickstream-kafka-stream", "projects/p/secrets/s; rm -rf /", "projects/x/secrets/"])
def test_a_secret_name_that_is_not_projects_p_secrets_s_is_refused(name):
    with pytest.raises(ValueError, match="--kafka-password-secret must be projects/PROJECT/secrets/SECRET"):
        kafka_login.secret_value(name)


@pytest.mark.parametrize("password", ['pa"ss', "pa\\\\ss", "pa\\nss"])
def test_a_password_that_would_break_out_of_the_jaas_line_is_refused(password):
    with pytest.raises(ValueError, match="cannot be put in a JAAS line"):
        kafka_login.scram_jaas_config("stream", password)
