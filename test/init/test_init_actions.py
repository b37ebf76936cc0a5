"""The Dataproc init actions (stacks/init/) run as root on an isolated node, with only the metadata server,
the downloads, the bucket and systemd replaced at their boundary: the broker and the generator really start."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from init_machine import (
    BUNDLE_URI,
    FQDN,
    KAFKA_PORT,
    KAFKA_RELEASE_URI,
    NODE_RELEASE_URI,
    Machine,
    build_generator_bundle,
    build_node_release,
    kafka_release,
    master_metadata,
    node_release,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root to isolate a machine with unshare")

ACTIONS = ("kafka-broker.sh", "weblog-generator.sh")
BOOTSTRAP = f"{FQDN}:{KAFKA_PORT}"
KAFKA_BIN = "/opt/kafka/bin"
# The generator produces from the moment its unit starts; wait for its events, at most 30 attempts.
OFFSETS = (f"for _ in $(seq 30); do out=$({KAFKA_BIN}/kafka-get-offsets.sh --bootstrap-server {BOOTSTRAP} "
           "--topic weblogs); [[ $(awk -F: '{s+=$3} END {print s+0}' <<<\"$out\") -gt 0 ]] && break; sleep 1; done;"
           ' echo "$out"')
# Anchored patterns, so that pgrep does not find the shell running it.
PROCESS = ("pid=$(pgrep -f {pattern}); ps -o user= -p $pid; tr '\\0' ' ' </proc/$pid/cmdline; echo;"
           " tr '\\0' '\\n' </proc/$pid/environ")


GENERATOR_PID = "pgrep -f '^/usr/local/bin/node '"
REFRESH = "systemctl start weblog-generator-refresh.service"
UPLOADED = "/run/network-boundary/gcs/" + BUNDLE_URI.removeprefix("gs://")


def bucket_with_bundle(machine: Machine) -> None:
    uploaded = machine.bucket / BUNDLE_URI.removeprefix("gs://")
    uploaded.parent.mkdir(parents=True)
    build_generator_bundle(uploaded)


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    """A master that ran both init actions twice, as a re-run of the cluster's creation would."""
    machine = Machine(tmp_path_factory.mktemp("master"))
    kafka_release(machine)
    node_release(machine, build_node_release(tmp_path_factory.mktemp("node") / "release"))
    bucket_with_bundle(machine)
    rounds = [[f"run:{action}:{n}" for action in ACTIONS] + [f"snapshot:{n}"] for n in (1, 2)]
    machine.run(
        *rounds[0], *rounds[1], "verify",
        f"sh:topic:{KAFKA_BIN}/kafka-topics.sh --bootstrap-server {BOOTSTRAP} --describe --topic weblogs",
        f"sh:offsets:{OFFSETS}",
        "sh:broker:" + PROCESS.format(pattern="'^/usr/lib/jvm/.*/java .* kafka\\.Kafka '"),
        "sh:generator:" + PROCESS.format(pattern="'^/usr/local/bin/node '"),
        "sh:node:/usr/local/bin/node --version",
        # What the five-minute timer does, before and after `pulumi up` uploaded a new bundle.
        f"sh:pid-1:{GENERATOR_PID}", f"sh:refresh-unchanged:{REFRESH}", f"sh:pid-2:{GENERATOR_PID}",
        f"sh:upload:echo '// a new build' >>{UPLOADED}",
        f"sh:refresh-changed:{REFRESH}", f"sh:pid-3:{GENERATOR_PID}",
        timeout=280)  # seconds; about 30 on an idle 2-core machine
    return machine


def test_both_init_actions_succeed_on_the_master_and_again_when_re_run(master):
    for n in (1, 2):
        for action in ACTIONS:
            assert master.rc(f"{action}.{n}") == 0, master.result(f"{action}.{n}.log")[-3000:]


def test_the_broker_configuration_takes_host_port_partitions_and_retention_from_the_metadata(master):
    props = master.written("/opt/kafka/config/kraft/pipeline.properties").read_text()
    for line in (f"listeners=PLAINTEXT://0.0.0.0:{KAFKA_PORT},CONTROLLER://{FQDN}:9093",
                 f"advertised.listeners=PLAINTEXT://{FQDN}:{KAFKA_PORT}",
                 f"controller.quorum.voters=1@{FQDN}:9093",
                 "log.dirs=/var/lib/kafka/data", "num.partitions=3", "log.retention.hours=72",
                 "auto.create.topics.enable=false"):
        assert line in props.splitlines()
    assert "cluster.id=" in master.written("/var/lib/kafka/data/meta.properties").read_text()


def test_each_service_gets_one_system_user_without_a_login_shell(master):
    passwd = [line.split(":") for line in master.written("/etc/passwd").read_text().splitlines()]
    for user, home in (("kafka", "/var/lib/kafka"), ("weblog", "/opt/weblog-generator")):
        (entry,) = [e for e in passwd if e[0] == user]
        assert int(entry[2]) < 1000, entry  # a system account
        assert entry[5:] == [home, "/usr/sbin/nologin"]
    assert master.written("/var/lib/kafka/data").stat().st_uid == int(next(e for e in passwd if e[0] == "kafka")[2])


def test_every_unit_written_passes_systemd_analyze_verify_without_a_warning(master):
    units = sorted(p.name for p in master.written("/etc/systemd/system").glob("*.*") if p.is_file())
    assert units == ["kafka.service", "weblog-generator-refresh.service", "weblog-generator-refresh.timer",
                     "weblog-generator.service"]
    log = master.result("verify.log")
    assert master.rc("verify") == 0, log
    assert [line for line in log.splitlines() if not line.startswith("== ")] == []


def test_the_broker_runs_as_kafka_with_the_heap_the_unit_sets(master):
    user, cmdline, *environ = master.result("broker.log").splitlines()
    assert user.strip() == "kafka"
    assert "KAFKA_HEAP_OPTS=-Xms512m -Xmx1g" in environ
    assert re.search(r"java -Xms512m -Xmx1g .* kafka\.Kafka /opt/kafka/config/kraft/pipeline\.properties", cmdline)
    assert any(e.startswith("JAVA_HOME=/usr/lib/jvm/") for e in environ)


def test_the_topic_has_the_stacks_partitions_and_the_generators_events_arrive_in_it(master):
    topic = master.result("topic.log")
    assert "PartitionCount: 3" in topic, topic
    log = master.result("offsets.log")
    offsets = {p: int(o) for _, p, o in (line.split(":") for line in log.splitlines() if line.startswith("weblogs:"))}
    assert sorted(offsets) == ["0", "1", "2"], log
    assert sum(offsets.values()) > 0, (master.state / "boundary" / "journal" / "weblog-generator.service").read_text()


def test_the_generator_runs_the_bucket_bundle_on_the_installed_node_as_weblog(master):
    user, cmdline, *_ = master.result("generator.log").splitlines()
    assert user.strip() == "weblog"
    assert cmdline.split() == ["/usr/local/bin/node", "/opt/weblog-generator/generator.cjs", "--brokers", BOOTSTRAP,
                               "--topic", "weblogs", "--rate", "20", "--kafka-auth", "none",
                               "--format", "json"]
    assert master.result("node.log").strip().startswith("v")


def test_the_refresh_timer_restarts_the_generator_only_when_a_new_bundle_was_uploaded(master):
    for step in ("refresh-unchanged", "upload", "refresh-changed"):
        assert master.rc(step) == 0, master.result(f"{step}.log")
    first, unchanged, changed = (master.result(f"pid-{n}.log").strip() for n in (1, 2, 3))
    assert first == unchanged != changed and changed.isdigit()
    assert master.calls("systemctl").count("restart weblog-generator.service") == 1
    uploaded = master.bucket / BUNDLE_URI.removeprefix("gs://")
    assert master.written("/opt/weblog-generator/generator.cjs").read_bytes() == uploaded.read_bytes()
    assert uploaded.read_text().endswith("// a new build\n")


def test_the_scripts_the_generator_action_writes_pass_shellcheck(master):
    scripts = [master.written(f"/opt/weblog-generator/{name}") for name in ("fetch-bundle.sh", "refresh.sh")]
    shellcheck = Path(sys.executable).parent / "shellcheck"
    lint = subprocess.run([shellcheck, *scripts], check=False, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def test_the_units_are_enabled_for_boot_and_started(master):
    wants = master.written("/etc/systemd/system")
    assert os.readlink(wants / "multi-user.target.wants" / "kafka.service") == "/etc/systemd/system/kafka.service"
    assert (wants / "multi-user.target.wants" / "weblog-generator.service").is_symlink()
    assert (wants / "timers.target.wants" / "weblog-generator-refresh.timer").is_symlink()
    assert "enable --now kafka.service" in master.calls("systemctl")
    assert "enable --now weblog-generator.service weblog-generator-refresh.timer" in master.calls("systemctl")


def test_a_re_run_downloads_nothing_and_leaves_every_file_as_it_was(master):
    assert master.result("snapshot.1") == master.result("snapshot.2")
    assert "./etc/passwd" in master.result("snapshot.1")
    releases = [c for c in master.calls("gcloud") if "/releases/" in c]
    assert [c.split()[2] for c in releases] == [KAFKA_RELEASE_URI, NODE_RELEASE_URI]


def test_nothing_is_fetched_from_outside_google_kafka_and_node_come_from_the_artifacts_bucket(master):
    assert master.calls("curl") == []
    assert master.written("/opt/kafka/bin/kafka-server-start.sh").is_file()
    assert master.written("/usr/local/bin/node").is_file()


def test_on_a_worker_both_init_actions_do_nothing(tmp_path):
    worker = Machine(tmp_path, master_metadata(**{"dataproc-role": "Worker"}))
    worker.run(*(f"run:{action}:1" for action in ACTIONS), timeout=60)
    for action in ACTIONS:
        assert worker.rc(f"{action}.1") == 0, worker.result(f"{action}.1.log")
    assert worker.written_files() == []
    assert worker.calls("curl") == worker.calls("systemctl") == []


def test_a_staged_kafka_release_whose_sha256_is_not_the_one_the_stack_recorded_is_refused(tmp_path):
    node = Machine(tmp_path)
    kafka_release(node, sha256="ab" * 32)
    node.run("run:kafka-broker.sh:1", timeout=60)
    assert node.rc("kafka-broker.sh.1") == 1
    log = node.result("kafka-broker.sh.1.log")
    assert "does not match the SHA-256 the stack staged it with; refusing to install it" in log
    assert not node.written("/opt/kafka").exists()
    assert node.calls("systemctl") == []


def test_with_managed_kafka_the_generator_sends_to_the_bootstrap_as_the_vm_and_waits_for_no_local_broker(tmp_path):
    managed = "bootstrap.clickstream-kafka.us-central1.managedkafka.my-project.cloud.goog:9092"
    node = Machine(tmp_path, master_metadata(**{"kafka-mode": "managed", "kafka-bootstrap": managed}))
    node_release(node, build_node_release(tmp_path / "node" / "release"))
    bucket_with_bundle(node)
    node.run("run:weblog-generator.sh:1", timeout=120)
    assert node.rc("weblog-generator.sh.1") == 0, node.result("weblog-generator.sh.1.log")[-3000:]
    unit = node.written("/etc/systemd/system/weblog-generator.service").read_text()
    assert f"--brokers {managed} --topic weblogs --rate 20 --kafka-auth google" in unit
    assert "kafka.service" not in unit
    assert "After=network-online.target" in unit
    assert not node.written("/opt/kafka").exists()
