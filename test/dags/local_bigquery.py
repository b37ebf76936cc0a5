"""The local BigQuery-API server (bqemulator, installed by scripts/setup.d/50-bigquery-emulator.sh) for the DAG's
tests, and the provider's BigQueryHook pointed at it: the official client speaks BigQuery's REST API to it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud.bigquery import Client, SchemaField, Table

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CLICKSTREAM_CACHE", Path.home() / ".cache" / "clickstream-pipeline"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_bigquery(project: str, gcs_root: Path) -> Iterator[str]:
    """The server's endpoint, on a free 127.0.0.1 port, stopped on exit."""
    root = CACHE / "bqemulator"
    port = _free_port()
    env = {**os.environ, "HOME": str(root / "home"), "BQEMU_GCS_LOCAL_ROOT": str(gcs_root)}
    server = subprocess.Popen(  # noqa: S603 (our own pinned binary, fixed arguments)
        [str(root / "venv" / "bin" / "bqemulator"), "start", "--rest-host", "127.0.0.1", "--rest-port", str(port),
         "--grpc-host", "127.0.0.1", "--grpc-port", "0", "--project", project, "--ephemeral"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the local BigQuery server did not listen on {port}") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def local_client(endpoint: str, project: str, location: str | None = None) -> Client:
    return Client(project=project, location=location, credentials=AnonymousCredentials(),
                  client_options=ClientOptions(api_endpoint=endpoint))


def create_lineage_table(client: Client, table: str) -> None:
    """The loader's lineage table, from its schema file, in a new dataset."""
    client.create_dataset(table.rsplit(".", 1)[0])
    schema = json.loads((REPO / "functions/loader/warehouse/hourly_activity_loads.schema.json").read_text())
    client.create_table(Table(table, [SchemaField(c["name"], c["type"], c["mode"]) for c in schema]))


class LocalBigQueryHook(BigQueryHook):
    endpoint: ClassVar[str]

    def get_client(self, project_id=None, location=None) -> Client:
        return local_client(self.endpoint, project_id, location)
