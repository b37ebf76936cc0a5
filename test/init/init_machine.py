"""A Dataproc node for running the init actions: prepares what the artifacts bucket holds (a Kafka release built
from the cached Maven jars, a Node.js release from this machine's node, the generator bundle), the cluster metadata,
and runs machine.sh in fresh namespaces, whose results the tests read."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HOSTNAME = "clickstream-stream-m"
FQDN = f"{HOSTNAME}.us-central1-a.c.clickstream-dev.internal"
BUNDLE_URI = "gs://clickstream-artifacts/generator/generator.cjs"
PROJECT = "clickstream-dev"
# The Kafka principals whose passwords the stack keeps in Secret Manager, one secret each.
KAFKA_PRINCIPALS = ("admin", "generator", "stream", "shipper")


def secret_name(principal: str) -> str:
    return f"projects/{PROJECT}/secrets/clickstream-kafka-{principal}"


def stack_constant(name: str, module: str = "streaming") -> str:
    """A constant of the stack, so the test installs what the stack deploys."""
    match = re.search(rf'export const {name} = "?([^";]+)"?;', (REPO / "stacks" / f"{module}.ts").read_text())
    assert match, f"{name} not found in stacks/{module}.ts"
    return match.group(1)


KAFKA_VERSION = stack_constant("KAFKA_VERSION", "releases")
NODE_VERSION = stack_constant("NODE_VERSION", "releases")
KAFKA_PORT = stack_constant("KAFKA_PORT")
# Where stacks/artifacts.ts stages the releases (stacks/releases.ts names them).
KAFKA_RELEASE_URI = f"gs://clickstream-artifacts/releases/kafka_2.13-{KAFKA_VERSION}.tgz"
NODE_RELEASE_URI = f"gs://clickstream-artifacts/releases/node-v{NODE_VERSION}-linux-x64.tar.xz"


def cache_dir() -> Path:
    return Path(os.environ.get("CLICKSTREAM_CACHE", Path.home() / ".cache" / "clickstream-pipeline"))


def master_metadata(**overrides: str) -> dict[str, str]:
    """The metadata stacks/streaming.ts sets on the streaming cluster, plus the role Dataproc adds."""
    return {
        "dataproc-role": "Master",
        "kafka-release-uri": KAFKA_RELEASE_URI,
        "kafka-release-sha256": "0" * 64,  # a well-formed digest until kafka_release stages the release
        "kafka-port": KAFKA_PORT,
        "kafka-topic": "weblogs",
        "kafka-partitions": "3",
        "kafka-retention-hours": "72",
        "node-release-uri": NODE_RELEASE_URI,
        "node-release-sha256": "0" * 64,  # likewise, until node_release
        "generator-bundle-uri": BUNDLE_URI,
        "generator-topic": "weblogs",
        "generator-rate": "20",
        "kafka-mode": "dataproc",
        "kafka-bootstrap": f"clickstream-stream-m:{KAFKA_PORT}",
        "generator-format": "json",
        **{f"kafka-{p}-secret": secret_name(p) for p in KAFKA_PRINCIPALS},
        **overrides,
    }


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
    tar.addfile(info, io.BytesIO(data))


def kafka_release(machine: Machine, sha256: str | None = None) -> Path:
    """Apache's kafka_2.13-V.tgz layout (bin/, config/kraft/, libs/) where the stack stages it in the artifacts
    bucket, and its SHA-256 in the metadata as the stack records it (or the given, wrong, one)."""
    libs = cache_dir() / f"kafka-{KAFKA_VERSION}" / "libs"
    assert (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file(), f"Kafka jars missing in {libs}: run 'npm run setup'"
    top = f"kafka_2.13-{KAFKA_VERSION}"
    tarball = machine.bucket / KAFKA_RELEASE_URI.removeprefix("gs://")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball, "w:gz", compresslevel=1) as tar:
        for path in sorted((HERE / "kafka-dist").rglob("*")):
            if path.is_file():
                _add_bytes(tar, f"{top}/{path.relative_to(HERE / 'kafka-dist')}", path.read_bytes(),
                           0o755 if os.access(path, os.X_OK) else 0o644)
        for jar in sorted(libs.glob("*.jar")):
            _add_bytes(tar, f"{top}/libs/{jar.name}", jar.read_bytes(), 0o644)
    machine.set_metadata("kafka-release-sha256", sha256 or hashlib.sha256(tarball.read_bytes()).hexdigest())
    return tarball


def node_release(machine: Machine, release: Path, sha256: str | None = None) -> None:
    """This machine's node, packed as nodejs.org's Linux x64 release, where the stack stages it, and its SHA-256."""
    staged = machine.bucket / NODE_RELEASE_URI.removeprefix("gs://")
    staged.parent.mkdir(parents=True, exist_ok=True)
    (packed,) = release.glob("*.tar.xz")
    shutil.copy2(packed, staged)
    machine.set_metadata("node-release-sha256", sha256 or hashlib.sha256(staged.read_bytes()).hexdigest())


def build_node_release(dest: Path) -> Path:
    """Packs this machine's node binary as an official Linux x64 release (slow: xz), once per session."""
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    top = f"node-{version}-linux-x64"
    dest.mkdir(parents=True)
    staging = dest / "staging" / top
    (staging / "bin").mkdir(parents=True)
    shutil.copy2(shutil.which("node"), staging / "bin" / "node")
    (staging / "LICENSE").write_text("Node.js is licensed for use as follows: MIT\n")
    tarball = dest / f"{top}.tar.xz"
    subprocess.run(f"tar -C {staging.parent} --owner=1000 --group=1000 -cf - {top} | xz -0 -T2 >{tarball}",
                   shell=True, check=True)
    shutil.rmtree(dest / "staging")
    return dest


def build_generator_bundle(dest: Path) -> Path:
    """The generator bundle exactly as `npm run build:generator` builds it, written to dest instead of dist/."""
    script = json.loads((REPO / "package.json").read_text())["scripts"]["build:generator"]
    argv = [a if not a.startswith("--outfile=") else f"--outfile={dest}" for a in script.split()]
    subprocess.run([str(REPO / "node_modules" / ".bin" / argv[0]), *argv[1:], "--log-level=warning"],
                   cwd=REPO, check=True)
    return dest


@dataclass
class Machine:
    """One node's state folder; each run() boots it again from what earlier runs left in its overlays."""

    state: Path
    metadata: dict[str, str] = field(default_factory=master_metadata)
    # Each principal's password, as Secret Manager would hold it (only the gcloud stand-in serves them).
    passwords: dict[str, str] = field(
        default_factory=lambda: {p: f"{p}-{secrets.token_urlsafe(12)}" for p in KAFKA_PRINCIPALS})

    def __post_init__(self) -> None:
        boundary = self.state / "boundary"
        for sub in ("calls", "journal", "web", "gcs", "secrets"):
            (boundary / sub).mkdir(parents=True, exist_ok=True)
        # The broker and the generator read their passwords as their own users: calls are recorded for any user.
        (boundary / "calls").chmod(0o1777)
        (boundary / "calls" / "gcloud").touch()
        (boundary / "calls" / "gcloud").chmod(0o666)
        for principal, password in self.passwords.items():
            (boundary / "secrets" / secret_name(principal).rsplit("/", 1)[1]).write_text(password)
        for key, value in self.metadata.items():
            self.set_metadata(key, value)
        usr_bin = self.state / "lower" / "usr" / "bin"
        usr_bin.mkdir(parents=True, exist_ok=True)
        for name in ("curl", "gcloud", "systemctl"):
            shutil.copy2(HERE / "standins" / name, usr_bin / name)
        google = self.state / "lower" / "usr" / "share" / "google"
        google.mkdir(parents=True, exist_ok=True)
        shutil.copy2(HERE / "standins" / "get_metadata_value", google / "get_metadata_value")
        etc = self.state / "lower" / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "hosts").write_text(f"127.0.0.1 localhost\n10.128.0.2 {FQDN} {HOSTNAME}\n")
        (etc / "hostname").write_text(f"{HOSTNAME}\n")

    def set_metadata(self, key: str, value: str) -> None:
        attributes = self.state / "boundary" / "metadata" / "attributes"
        attributes.mkdir(parents=True, exist_ok=True)
        (attributes / key).write_text(value)

    @property
    def web(self) -> Path:
        return self.state / "boundary" / "web"

    @property
    def bucket(self) -> Path:
        return self.state / "boundary" / "gcs"

    def run(self, *steps: str, timeout: float = 240) -> None:
        """Boots the machine, runs the steps (see machine.sh) and shuts it down with everything it started."""
        subprocess.run(
            ["unshare", "--mount", "--net", "--uts", "--pid", "--fork", "--mount-proc", "--kill-child",
             "bash", str(HERE / "machine.sh"), str(self.state), HOSTNAME, *steps],
            check=True, timeout=timeout)

    def result(self, name: str) -> str:
        return (self.state / "results" / name).read_text()

    def rc(self, name: str) -> int:
        return int(self.result(f"{name}.rc"))

    def calls(self, tool: str) -> list[str]:
        path = self.state / "boundary" / "calls" / tool
        return path.read_text().splitlines() if path.exists() else []

    def written(self, path: str) -> Path:
        """Where a file the machine wrote under /etc, /opt, /usr or /var landed."""
        return self.state / "upper" / path.lstrip("/")

    def written_files(self) -> list[str]:
        upper = self.state / "upper"
        return sorted("/" + str(p.relative_to(upper)) for p in upper.rglob("*") if not p.is_dir())
