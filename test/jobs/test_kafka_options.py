"""The streaming job's --kafka-option passthrough: how the stack hands Managed Kafka's SASL settings to the source."""

import pytest

from jobs.weblog_stream import parse_args

REQUIRED = ["--bootstrap-servers", "b:9092", "--raw", "r", "--quarantine", "q", "--checkpoint", "c", "--markers", "m"]


def test_each_kafka_option_is_kept_in_order_with_any_equals_sign_in_its_value():
    args = parse_args([*REQUIRED, "--kafka-option", "kafka.security.protocol=SASL_SSL",
                       "--kafka-option", "kafka.sasl.jaas.config=Module required a=b;"])
    assert args.kafka_option == [("kafka.security.protocol", "SASL_SSL"),
                                 ("kafka.sasl.jaas.config", "Module required a=b;")]


def test_no_kafka_option_by_default():
    assert parse_args(REQUIRED).kafka_option == []


@pytest.mark.parametrize("bad", ["security.protocol=SASL_SSL", "kafka.security.protocol", "kafka.=x"])
def test_an_option_not_written_kafka_key_equals_value_stops_the_job_at_start(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args([*REQUIRED, "--kafka-option", bad])
    assert exit_info.value.code == 2
    assert f"expected kafka.KEY=VALUE, got '{bad}'" in capsys.readouterr().err
