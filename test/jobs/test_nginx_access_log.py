"""A real nginx (Debian's package) serves product and cart URLs; real HTTP requests whose counts are known
write its access log in the standard combined format; Kafka's own console producer ships the log as a
file shipper would (each line in an envelope with host, file and byte offset); the streaming job
(--input-format combined) and the hourly HiveQL then give exactly the requests made. The same log shipped
a second time keeps every line's event_id."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dags.weblog_hourly_steps import parse_hour
from jobs.hourly_local import run_hour
from jobs.weblog_contract import load_contract
from jobs.weblog_stream import parse_args, run

NGINX = os.environ.get("NGINX_PATH", "/usr/sbin/nginx")
KAFKA_LIBS = Path(os.environ.get("CLICKSTREAM_CACHE", Path.home() / ".cache" / "clickstream-pipeline")) \
    / "kafka-3.9.2" / "libs"
HOST = "shop-web-1"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

NGINX_CONF = """
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log combined;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location /products/ {{ return 200 "a product page\\n"; }}
        location /cart/items/ {{
            if ($request_method != POST) {{ return 405; }}
            return 201 "added\\n";
        }}
        location /static/ {{ return 200 "body {{}}\\n"; }}
        location / {{ return 404; }}
    }}
}}
"""

# (method, path, status nginx answers); the first two are the byte-identical pair sent in one second.
VISITS = [("GET", "/products/P000001", 200)] * 2 + [
    ("GET", "/products/sku-123?ref=home", 200),
    ("GET", "/products/P990001-blue", 200),
]
CART_ADDS = [("POST", "/cart/items/P000001", 201)] + [("POST", "/cart/items/sku-123", 201)] * 2
IGNORED = [
    ("GET", "/static/app.css", 200),  # an asset
    ("GET", "/about", 404),  # not a product page
    ("GET", "/cart/items/P000001", 405),  # not the cart method, and a status that does not count
    ("POST", "/products/P000001", 200),  # not a page visit
]
# What the hourly table must hold per product: (visits, cart additions).
EXPECTED = {"P000001": (2, 1), "sku-123": (1, 2), "P990001-blue": (1, 0)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=b"qty=1" if method == "POST" else None, headers={"User-Agent": USER_AGENT})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def shipped_records(log: bytes, path: str) -> list[bytes]:
    """The log as Vector's file source sends it to Kafka (encoding json, offset_key "offset")."""
    records, offset = [], 0
    for raw in log.splitlines(keepends=True):
        records.append(json.dumps({"message": raw.rstrip(b"\n").decode(), "file": path, "host": HOST,
                                   "offset": offset, "source_type": "file"}).encode())
        offset += len(raw)
    return records


def console_produce(bootstrap: str, topic: str, records: list[bytes]) -> None:
    """Kafka's own console producer, one record per input line."""
    done = subprocess.run(
        ["java", "-cp", f"{KAFKA_LIBS}/*", "kafka.tools.ConsoleProducer", "--bootstrap-server", bootstrap,
         "--topic", topic, "--producer-property", "acks=all"],
        input=b"\n".join(records) + b"\n", capture_output=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]


def stream(spark, bootstrap: str, topic: str, root: Path) -> None:
    run(spark, parse_args([
        "--bootstrap-servers", bootstrap, "--topic", topic, "--raw", str(root / "events"),
        "--quarantine", str(root / "quarantine"), "--checkpoint", str(root / "_checkpoints"),
        "--markers", str(root / "_complete"), "--available-now", "--idle-complete-seconds", "0",
        "--input-format", "combined",
    ]))


def hourly_table(spark, root: Path, hour: str, run_id: str) -> dict[str, tuple[int, int]]:
    names = run_hour(spark, parse_hour(hour), str(root / "events"), str(root / "quarantine"),
                     str(root / "staging"), str(root / "curated"), run_id=run_id)
    table = {}
    for name in names:
        for line in (root / "curated" / name).read_text().splitlines():
            _, product, visits, cart_adds, _ = line.split(",")
            table[product] = (int(visits), int(cart_adds))
    return table


def access_log_counts(records: list[logging.LogRecord]) -> dict[str, Counter]:
    """Per streaming query, the summed counts of its 'access log:' lines."""
    per_query: dict[str, Counter] = {}
    for record in records:
        message = record.getMessage()
        if message.startswith("access log: "):
            counts = json.loads(message.removeprefix("access log: "))
            per_query.setdefault(counts.pop("query"), Counter()).update(
                {k: v for k, v in counts.items() if k != "batch"})
    return per_query


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    if not os.access(NGINX, os.X_OK):
        pytest.fail(f"nginx is missing at {NGINX}: run 'npm run setup' (scripts/setup.d/70-nginx.sh)")
    root = tmp_path_factory.mktemp("nginx")
    port = free_port()
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, port=port))
    server = subprocess.Popen([NGINX, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()
                time.sleep(0.05)
        # All requests in one UTC hour, whose counts the table must show.
        if (datetime.now(UTC).minute, datetime.now(UTC).second) >= (59, 50):
            time.sleep(15)
        hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
        while time.time() % 1 > 0.5:  # the identical pair well inside one second
            time.sleep(0.01)
        statuses = [request(port, m, p) for m, p, _ in [*VISITS, *CART_ADDS, *IGNORED]]
        assert datetime.now(UTC).strftime("%Y-%m-%dT%H") == hour
    finally:
        os.killpg(server.pid, signal.SIGQUIT)  # graceful: workers finish and the log is complete
        server.wait(timeout=20)
    return {"root": root, "hour": hour, "statuses": statuses, "log": (root / "access.log").read_bytes()}


@pytest.fixture(scope="module")
def pipeline(nginx, spark, kafka_bootstrap, tmp_path_factory):
    """The log shipped, streamed and aggregated; then shipped and streamed once more."""
    root = tmp_path_factory.mktemp("nginx-raw")
    topic = "access-log-" + root.name.replace("_", "-")
    records = shipped_records(nginx["log"], "/var/log/nginx/access.log")
    captured: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = captured.append
    job_log = logging.getLogger("weblog_stream")
    job_log.addHandler(handler)
    level = job_log.level
    job_log.setLevel(logging.INFO)
    try:
        console_produce(kafka_bootstrap, topic, records)
        stream(spark, kafka_bootstrap, topic, root)
        first_table = hourly_table(spark, root, nginx["hour"], "first")
        first_raw = spark.read.parquet(str(root / "events")).select("event_id", "product_id").collect()
        first_counts = access_log_counts(captured)

        console_produce(kafka_bootstrap, topic, records)  # the same file shipped again
        stream(spark, kafka_bootstrap, topic, root)
        second_raw = spark.read.parquet(str(root / "events")).select("event_id").collect()
    finally:
        job_log.removeHandler(handler)
        job_log.setLevel(level)
    return {"root": root, "hour": nginx["hour"], "records": records, "first_table": first_table,
            "first_raw": first_raw,
            "first_counts": first_counts, "second_raw": second_raw}


def test_nginx_answered_every_request_as_configured(nginx):
    assert nginx["statuses"] == [status for _, _, status in [*VISITS, *CART_ADDS, *IGNORED]]
    lines = nginx["log"].decode().splitlines()
    assert len(lines) == len(VISITS) + len(CART_ADDS) + len(IGNORED)
    assert lines[0] == lines[1], "two requests in one second write byte-identical lines"


def test_the_hourly_table_equals_the_requests_made(pipeline):
    assert pipeline["first_table"] == EXPECTED


def test_byte_identical_lines_are_two_visits_with_two_event_ids(pipeline):
    ids = [r.event_id for r in pipeline["first_raw"]]
    assert len(ids) == len(set(ids)) == len(VISITS) + len(CART_ADDS)
    # Each line's id is its position in the file and its bytes: the identical pair starts at byte 0 and after line 1.
    ns = load_contract().event_id_namespace
    first_line = json.loads(pipeline["records"][0])["message"]
    second_line_at = len(first_line.encode()) + 1
    digest = hashlib.sha256(first_line.rstrip("\n").encode()).hexdigest()
    assert {str(uuid.uuid5(ns, f"file\x00{HOST}\x00/var/log/nginx/access.log\x00{offset}\x00{digest}"))
            for offset in (0, second_line_at)} <= set(ids)


def test_lines_that_are_not_product_pages_or_cart_adds_are_ignored_and_counted(pipeline):
    counts = pipeline["first_counts"]
    assert counts, "the streaming job logged no access-log counts"
    for query, c in counts.items():
        assert (c["lines"], c["visit"], c["cart_add"], c["ignored"], c["malformed"]) == (
            len(pipeline["records"]), len(VISITS), len(CART_ADDS), len(IGNORED), 0), query


def test_a_reshipped_log_keeps_every_lines_event_id(pipeline):
    first = Counter(r.event_id for r in pipeline["first_raw"])
    second = Counter(r.event_id for r in pipeline["second_raw"])
    assert set(second) == set(first), "the same lines, the same ids: no new event"
    assert set(second.values()) == {2}, "each line arrived twice (delivery is at least once)"


def test_a_reshipped_log_leaves_the_hourly_table_unchanged(pipeline, spark):
    assert hourly_table(spark, pipeline["root"], pipeline["hour"], "second") == EXPECTED
