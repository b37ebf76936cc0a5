"""The Dataproc init actions (stacks/init/) run as root on an isolated node, with only the metadata server,
the downloads, the bucket and systemd replaced at their boundary: the broker and the generator really start."""

from __future__ import annotations

import json
import os
import re
import shlex
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
    REPO,
    Machine,
    build_generator_bundle,
    build_node_release,
    kafka_release,
    master_metadata,
    node_release,
)


@pytest.fixture(scope="module", autouse=True)
def isolated_machine_possible():
    """These tests need root and unshare. Elsewhere they skip, except under CI=true, where they must run: a
    CI that cannot run them fails instead of passing without them."""
    if os.geteuid() == 0 and shutil.which("unshare"):
        return
    reason = "needs root and unshare to isolate a machine"
    if os.environ.get("CI") == "true":
        pytest.fail(f"the init-action tests cannot run here ({reason}), and CI=true requires them", pytrace=False)
    pytest.skip(reason)


ACTIONS = ("kafka-broker.sh", "weblog-generator.sh")
BOOTSTRAP = f"{FQDN}:{KAFKA_PORT}"
KAFKA_BIN = "/opt/kafka/bin"
# The generator produces from the moment its unit starts; wait for its events, at most 30 attempts.
OFFSETS = (f"for _ in $(seq 30); do out=$({KAFKA_BIN}/kafka-get-offsets.sh --bootstrap-server {BOOTSTRAP} "
           "--command-config /run/admin.properties --topic weblogs);"
           " [[ $(awk -F: '{s+=$3} END {print s+0}' <<<\"$out\") -gt 0 ]] && break; sleep 1; done;"
           ' echo "$out"')
# Anchored patterns, so that pgrep does not find the shell running it.
PROCESS = ("pid=$(pgrep -f {pattern}); ps -o user= -p $pid; tr '\\0' ' ' </proc/$pid/cmdline; echo;"
           " tr '\\0' '\\n' </proc/$pid/environ")


# A restarted unit runs start.sh before it execs node: wait for node, at most 50 attempts.
GENERATOR_PID = ("for _ in $(seq 50); do pgrep -f '^/usr/local/bin/node /opt/weblog-generator/' && break;"
                 " sleep 0.2; done")
# A record stamped 2001-09-09: the broker must store its own clock instead.
FORGED_MS = 1_000_000_000_000
PROBES = [
    {"name": "anonymous-produce", "user": None, "action": "produce", "topic": "weblogs"},
    {"name": "wrong-password-produce", "user": "intruder", "action": "produce", "topic": "weblogs"},
    {"name": "generator-produce", "user": "generator", "action": "produce", "topic": "weblogs",
     "timestamp": str(FORGED_MS)},
    {"name": "shipper-produce", "user": "shipper", "action": "produce", "topic": "weblogs"},
    {"name": "generator-produce-other-topic", "user": "generator", "action": "produce", "topic": "__consumer_offsets"},
    {"name": "generator-create-topic", "user": "generator", "action": "createTopic", "topic": "elsewhere"},
    {"name": "generator-delete-records", "user": "generator", "action": "deleteRecords", "topic": "weblogs"},
    {"name": "generator-grants-itself", "user": "generator", "action": "createAcl"},
    {"name": "stream-produce", "user": "stream", "action": "produce", "topic": "weblogs"},
    {"name": "stream-delete-records", "user": "stream", "action": "deleteRecords", "topic": "weblogs"},
]
# A client's settings as a principal, for the Java tools.
CLIENT_CONFIG = ("printf '%s\\n' security.protocol=SASL_PLAINTEXT sasl.mechanism=SCRAM-SHA-512"
                 " 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
                 " username=\"{user}\" password=\"{password}\";' >/run/{user}.properties")
# Reads partition 0 without a consumer group (as Spark's source does), printing each record's timestamp.
READ = (f"{KAFKA_BIN}/kafka-console-consumer.sh --bootstrap-server {BOOTSTRAP} --topic weblogs --partition 0"
        " --offset earliest --max-messages 1 --timeout-ms 15000 --consumer.config /run/{user}.properties"
        " --property print.timestamp=true")


def probe_step(machine: Machine) -> str:
    passwords = " ".join(f"PROBE_PASSWORD_{u.upper()}={p}" for u, p in machine.passwords.items())
    return (f"sh:probe:{passwords} PROBE_PASSWORD_INTRUDER=guess /usr/local/bin/node {REPO}/test/init/kafka_probe.cjs"
            f" {BOOTSTRAP} {shlex.quote(json.dumps(PROBES))}")
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
        *(f"sh:config-{user}:" + CLIENT_CONFIG.format(user=user, password=machine.passwords[user])
          for user in ("admin", "stream", "generator")),
        f"sh:topic:{KAFKA_BIN}/kafka-topics.sh --bootstrap-server {BOOTSTRAP} --command-config /run/admin.properties"
        " --describe --topic weblogs",
        f"sh:offsets:{OFFSETS}",
        probe_step(machine),
        "sh:read-as-stream:" + READ.format(user="stream"),
        "sh:read-as-generator:" + READ.format(user="generator"),
        "sh:listening:cat /proc/net/tcp /proc/net/tcp6",
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
    for line in (f"listeners=CLIENTS://0.0.0.0:{KAFKA_PORT},CONTROLLER://127.0.0.1:9093",
                 f"advertised.listeners=CLIENTS://{FQDN}:{KAFKA_PORT}",
                 "listener.security.protocol.map=CLIENTS:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
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
    user, cmdline, *environ = master.result("generator.log").splitlines()
    assert user.strip() == "weblog"
    assert cmdline.split() == ["/usr/local/bin/node", "/opt/weblog-generator/generator.cjs", "--brokers", BOOTSTRAP,
                               "--topic", "weblogs", "--rate", "20", "--kafka-auth", "scram",
                               "--format", "json"]
    # Its password, read from Secret Manager when it started, is in its environment only.
    assert f"GENERATOR_KAFKA_PASSWORD={master.passwords['generator']}" in environ
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
    scripts = [master.written(f"/opt/weblog-generator/{name}")
               for name in ("fetch-bundle.sh", "refresh.sh", "start.sh")]
    scripts.append(master.written("/opt/kafka/pipeline/start-broker.sh"))
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
    downloads = set(Path("/tmp").glob("tmp.*/kafka.tgz"))  # mktemp -d of the init action (its /tmp is this one)
    node.run("run:kafka-broker.sh:1", timeout=60)
    assert node.rc("kafka-broker.sh.1") == 1
    assert set(Path("/tmp").glob("tmp.*/kafka.tgz")) <= downloads, "the refused download is left behind"
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
    start = node.written("/opt/weblog-generator/start.sh").read_text()
    assert f"--brokers {managed} --topic weblogs --rate 20 \\\n  --kafka-auth google" in start, start
    assert "secrets" not in start and "PASSWORD" not in start
    assert "kafka.service" not in unit
    assert "After=network-online.target" in unit
    assert not node.written("/opt/kafka").exists()


def probe_outcomes(master) -> dict[str, str]:
    assert master.rc("probe") == 0, master.result("probe.log")
    return json.loads(master.result("probe.log").splitlines()[-1])


def test_a_client_without_a_valid_scram_password_is_refused(master):
    outcome = probe_outcomes(master)
    assert not outcome["anonymous-produce"].startswith("ok"), outcome
    assert outcome["wrong-password-produce"].startswith("KafkaJSSASLAuthenticationError"), outcome


def test_the_generator_and_a_shipper_may_write_the_topic_and_nothing_else(master):
    outcome = probe_outcomes(master)
    assert outcome["generator-produce"].startswith("ok"), outcome
    assert outcome["shipper-produce"].startswith("ok"), outcome
    for check in ("generator-produce-other-topic", "generator-create-topic", "generator-delete-records",
                  "generator-grants-itself"):
        assert "AUTHORIZATION_FAILED" in outcome[check] or "not authorized" in outcome[check].lower(), (check, outcome)
    read = master.result("read-as-generator.log")
    assert "TopicAuthorizationException" in read, read


def test_the_streaming_principal_may_read_the_topic_but_not_write_or_delete(master):
    outcome = probe_outcomes(master)
    for check in ("stream-produce", "stream-delete-records"):
        assert "AUTHORIZATION_FAILED" in outcome[check] or "not authorized" in outcome[check].lower(), (check, outcome)
    assert master.rc("read-as-stream") == 0, master.result("read-as-stream.log")
    assert re.search(r"^LogAppendTime:\d{13}\t", master.result("read-as-stream.log"), re.MULTILINE), \
        master.result("read-as-stream.log")


def test_a_producers_forged_timestamp_is_replaced_by_the_brokers_append_time(master):
    outcome = probe_outcomes(master)["generator-produce"]
    appended = int(re.search(r"logAppendTime (-?\d+)", outcome).group(1))
    assert appended > FORGED_MS + 10 * 365 * 86400 * 1000, outcome  # the broker's clock, not 2001's
    assert "message.timestamp.type=LogAppendTime" in master.result("topic.log"), master.result("topic.log")


def test_the_controller_listens_on_loopback_only_and_clients_only_on_the_kafka_port(master):
    # The local address of each socket in state LISTEN (0A), IPv4 or IPv6, in the kernel's hex.
    listening = {fields[1] for fields in map(str.split, master.result("listening.log").splitlines())
                 if len(fields) > 3 and fields[3] == "0A"}
    loopback = {"0100007F:2385", "0000000000000000FFFF00000100007F:2385", "00000000000000000000000001000000:2385"}
    controller = {address for address in listening if address.endswith(":2385")}  # port 9093
    assert controller and controller <= loopback, listening
    assert any(address.endswith(f":{int(KAFKA_PORT):04X}") for address in listening), listening
    props = master.written("/opt/kafka/config/kraft/pipeline.properties").read_text().splitlines()
    assert "controller.quorum.voters=1@127.0.0.1:9093" in props
    assert "super.users=User:admin" in props


def test_no_password_is_written_to_any_file_or_log_the_init_actions_leave(master):
    files = [master.state / "upper" / path.lstrip("/") for path in master.written_files()]
    files = [path for path in files if not path.is_symlink()]
    logs = [master.state / "results" / f"{action}.{n}.log" for action in ACTIONS for n in (1, 2)]
    journal = list((master.state / "boundary" / "journal").iterdir())
    for path in [*files, *logs, *journal]:
        data = path.read_bytes()
        for principal, password in master.passwords.items():
            assert password.encode() not in data, f"{principal}'s password in {path}"


@pytest.mark.parametrize(("action", "key", "hostile", "accepts"), [
    ("kafka-broker.sh", "kafka-topic", "weblogs$(touch /etc/pwned)", "a Kafka topic name"),
    ("kafka-broker.sh", "kafka-release-uri", "gs://clickstream-artifacts/releases/k.tgz; touch /etc/pwned",
     "a release staged in the artifacts bucket"),
    ("kafka-broker.sh", "kafka-port", "9092\nlisteners=PLAINTEXT://0.0.0.0:9094", "a port number of 4 or 5 digits"),
    ("kafka-broker.sh", "kafka-stream-secret", "projects/p-roject/secrets/s'; touch /etc/pwned; '",
     "a Secret Manager secret name"),
    ("weblog-generator.sh", "generator-bundle-uri", "gs://bucket/generator.cjs\"; touch /etc/pwned; \"",
     "a gs:// object URI"),
    ("weblog-generator.sh", "generator-rate", "20 --brokers evil:9092", "a number of entries per second"),
])
def test_a_hostile_metadata_value_stops_the_init_action_before_it_writes_or_downloads_anything(
        tmp_path, action, key, hostile, accepts):
    node = Machine(tmp_path, master_metadata(**{key: hostile}))
    node.run(f"run:{action}:1", timeout=60)
    assert node.rc(f"{action}.1") == 1, node.result(f"{action}.1.log")
    assert f"Metadata {key} is not {accepts}; refusing to use it." in node.result(f"{action}.1.log")
    assert node.written_files() == []
    assert node.calls("curl") == node.calls("systemctl") == []
