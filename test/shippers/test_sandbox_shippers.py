"""The shipper configs for the sandbox (shippers/): each sends to the sandbox's Kafka port and topic, and the
records it would send, built from its own keys, get position ids from the streaming job's real mapping.
Neither Vector nor Fluent Bit can be installed here (no Debian, PyPI or npm package), so the configs are read,
not run: Vector's TOML with the standard library, Fluent Bit's classic format with the small reader below."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tomllib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs import access_log
from jobs.weblog_contract import load_contract
from jobs.weblog_parse import parse

REPO = Path(__file__).resolve().parents[2]
CONTRACT = load_contract()
LINE = ('203.0.113.9 - - [26/Nov/2026:14:05:07 +0000] "GET /products/P000001 HTTP/1.1" 200 512 '
        '"https://shop.example/" "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"')


def sandbox_constant(name: str) -> str:
    """A constant the sandbox exports (sandbox/**/*.ts), so the configs follow the sandbox's own values."""
    for source in sorted((REPO / "sandbox").rglob("*.ts")):
        match = re.search(rf'export const {name} = "?([^";]+)"?;', source.read_text())
        if match:
            return match.group(1)
    raise AssertionError(f"the sandbox exports no {name}")


SANDBOX_KAFKA = f"127.0.0.1:{sandbox_constant('KAFKA_PORT')}"
SANDBOX_TOPIC = sandbox_constant("TOPIC")


def fluent_bit_sections(text: str) -> list[tuple[str, dict[str, str]]]:
    """Fluent Bit's classic format: [SECTION] headers, then indented `Key value` lines; keys are case-insensitive."""
    sections: list[tuple[str, dict[str, str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[([A-Z_]+)\]", line)
        if header:
            sections.append((header.group(1), {}))
            continue
        if not sections or not raw[:1].isspace():
            raise ValueError(f"line {number} is neither a [SECTION] nor an indented `Key value`: {raw!r}")
        key, _, value = line.partition(" ")
        sections[-1][1][key.lower()] = value.strip()
    return sections


def the_one(sections: list[tuple[str, dict[str, str]]], kind: str, name: str) -> dict[str, str]:
    found = [keys for section, keys in sections if section == kind and keys.get("name") == name]
    assert len(found) == 1, f"one [{kind}] named {name}, found {len(found)}"
    return found[0]


def vector_record(line: str, offset: int) -> tuple[str, str, dict]:
    """Vector's config -> (broker, topic, the JSON its kafka sink sends for a line at an offset of its file)."""
    config = tomllib.loads((REPO / "shippers" / "vector.toml").read_text())
    [(source_id, source)] = config["sources"].items()
    [sink] = config["sinks"].values()
    assert (source["type"], sink["type"], sink["inputs"]) == ("file", "kafka", [source_id])
    assert sink["encoding"]["codec"] == "json"
    record = {"message": line, "source_type": "file", "timestamp": "2026-11-26T14:05:08Z",
              source["host_key"]: "web-1", source["file_key"]: source["include"][0], source["offset_key"]: offset}
    return sink["bootstrap_servers"], sink["topic"], record


def fluent_bit_record(line: str, offset: int) -> tuple[str, str, dict]:
    """Fluent Bit's config -> (broker, topic, the JSON its kafka output sends for a line at an offset of its file)."""
    sections = fluent_bit_sections((REPO / "shippers" / "fluent-bit.conf").read_text())
    tail = the_one(sections, "INPUT", "tail")
    added = the_one(sections, "FILTER", "record_modifier")["record"].split(" ", 1)
    kafka = the_one(sections, "OUTPUT", "kafka")
    assert (added[1], kafka["format"]) == ("${HOSTNAME}", "json")
    record = {"@timestamp": 1795961108.0, "log": line,  # tail without a parser puts the line under "log"
              tail["path_key"]: tail["path"], tail["offset_key"]: offset, added[0]: "web-1"}
    return kafka["brokers"], kafka["topics"], record


SHIPPERS = {"Vector": vector_record, "Fluent Bit": fluent_bit_record}


@pytest.mark.parametrize("shipper", SHIPPERS)
def test_the_shipper_sends_to_the_sandboxs_kafka_port_and_topic(shipper):
    broker, topic, _ = SHIPPERS[shipper](LINE, 0)
    assert (broker, topic) == (SANDBOX_KAFKA, SANDBOX_TOPIC)


@pytest.mark.parametrize("shipper", SHIPPERS)
def test_the_shippers_records_give_each_line_its_position_id_so_a_file_shipped_twice_counts_once(spark, shipper):
    offsets = (0, len(LINE) + 1)
    records = [json.dumps(SHIPPERS[shipper](LINE, offset)[2]) for offset in offsets]
    received = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    frame = spark.createDataFrame(
        [(bytearray(r.encode()), SANDBOX_TOPIC, 0, i, received) for i, r in enumerate(records * 2)],
        "value binary, topic string, partition int, offset long, timestamp timestamp")
    settings = access_log.settings_from(argparse.Namespace(product_url_pattern=None, cart_method=None,
                                                           cart_url_pattern=None, counted_statuses=None))
    valid, bad = parse(access_log.entries_from_access_log(frame, settings, CONTRACT), CONTRACT)
    assert bad.count() == 0
    ids = [r.event_id for r in sorted(valid.collect(), key=lambda r: r.kafka_offset)]
    digest = hashlib.sha256(LINE.encode()).hexdigest()
    path = "/var/log/nginx/access.log"
    expected = [str(uuid.uuid5(CONTRACT.event_id_namespace, f"file\x00web-1\x00{path}\x00{o}\x00{digest}"))
                for o in offsets]
    assert ids == expected * 2, "two identical lines stay two visits; the same lines shipped again keep their ids"


def test_the_classic_format_reader_refuses_a_line_outside_a_section():
    assert fluent_bit_sections("[INPUT]\n    Name tail\n    Path /x\n") == [("INPUT", {"name": "tail", "path": "/x"})]
    with pytest.raises(ValueError, match="line 1"):
        fluent_bit_sections("Name tail\n")
