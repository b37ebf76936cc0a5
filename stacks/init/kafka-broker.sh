#!/usr/bin/env bash
# Dataproc initialization action: one Apache Kafka 3.9 broker in KRaft mode (combined broker and
# controller, no ZooKeeper) on the master of the single-node streaming cluster, run by systemd, plus the
# pipeline's topic. Settings come from the cluster's metadata (set by the Pulumi stack):
#   kafka-release-uri, kafka-release-sha256, kafka-port, kafka-topic, kafka-partitions, kafka-retention-hours
set -euxo pipefail

metadata() { /usr/share/google/get_metadata_value "attributes/$1"; }

if [[ "$(metadata dataproc-role)" != "Master" ]]; then
  exit 0
fi

RELEASE_URI="$(metadata kafka-release-uri)"
RELEASE_SHA256="$(metadata kafka-release-sha256)"
PORT="$(metadata kafka-port)"
TOPIC="$(metadata kafka-topic)"
PARTITIONS="$(metadata kafka-partitions)"
RETENTION_HOURS="$(metadata kafka-retention-hours)"
KAFKA_HOME=/opt/kafka
DATA_DIR=/var/lib/kafka/data
HOST_FQDN="$(hostname -f)"

# The release `pulumi up` fetched, verified against Apache's published SHA-512 and staged in the artifacts bucket:
# read over Private Google Access, nothing from outside Google. Checked again against the digest the stack recorded.
if [[ ! -x "${KAFKA_HOME}/bin/kafka-server-start.sh" ]]; then
  workdir="$(mktemp -d)"
  gcloud storage cp "${RELEASE_URI}" "${workdir}/kafka.tgz" --quiet
  if [[ "$(sha256sum "${workdir}/kafka.tgz" | cut -d' ' -f1)" != "${RELEASE_SHA256}" ]]; then
    echo "Kafka release ${RELEASE_URI} does not match the SHA-256 the stack staged it with; refusing to install it." >&2
    exit 1
  fi
  mkdir -p "${KAFKA_HOME}"
  tar -xzf "${workdir}/kafka.tgz" -C "${KAFKA_HOME}" --strip-components=1
  rm -rf "${workdir}"
fi

id -u kafka >/dev/null 2>&1 || useradd --system --home-dir /var/lib/kafka --shell /usr/sbin/nologin kafka
mkdir -p "${DATA_DIR}" /var/log/kafka
chown -R kafka:kafka /var/lib/kafka /var/log/kafka

cat >"${KAFKA_HOME}/config/kraft/pipeline.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST_FQDN}:9093
listeners=PLAINTEXT://0.0.0.0:${PORT},CONTROLLER://${HOST_FQDN}:9093
advertised.listeners=PLAINTEXT://${HOST_FQDN}:${PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${DATA_DIR}
num.partitions=${PARTITIONS}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# The topic is created below with the stack's partition count; a typo in a client must not create another.
auto.create.topics.enable=false
log.retention.hours=${RETENTION_HOURS}
PROPS

# Formatting twice would refuse to start (cluster id mismatch): only format empty storage.
if [[ ! -f "${DATA_DIR}/meta.properties" ]]; then
  # runuser, not sudo: root needs no policy to drop privileges, and util-linux is on every image.
  runuser -u kafka -- "${KAFKA_HOME}/bin/kafka-storage.sh" format \
    -t "$("${KAFKA_HOME}/bin/kafka-storage.sh" random-uuid)" \
    -c "${KAFKA_HOME}/config/kraft/pipeline.properties"
fi

JAVA_HOME_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
cat >/etc/systemd/system/kafka.service <<UNIT
[Unit]
Description=Apache Kafka broker (KRaft) for the clickstream pipeline
After=network-online.target
Wants=network-online.target

[Service]
User=kafka
Environment=JAVA_HOME=${JAVA_HOME_DIR}
# Quoted: systemd splits an unquoted Environment= value on whitespace and would drop -Xmx1g.
Environment="KAFKA_HEAP_OPTS=-Xms512m -Xmx1g"
Environment=LOG_DIR=/var/log/kafka
ExecStart=${KAFKA_HOME}/bin/kafka-server-start.sh ${KAFKA_HOME}/config/kraft/pipeline.properties
ExecStop=${KAFKA_HOME}/bin/kafka-server-stop.sh
Restart=always
RestartSec=5
LimitNOFILE=100000
TimeoutStopSec=60

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now kafka.service

# Init actions must finish within their timeout: wait for the broker to answer, at most 3 minutes.
for _ in $(seq 1 36); do
  if "${KAFKA_HOME}/bin/kafka-topics.sh" --bootstrap-server "${HOST_FQDN}:${PORT}" --list >/dev/null 2>&1; then
    break
  fi
  sleep 5
done
"${KAFKA_HOME}/bin/kafka-topics.sh" --bootstrap-server "${HOST_FQDN}:${PORT}" --create --if-not-exists \
  --topic "${TOPIC}" --partitions "${PARTITIONS}" --replication-factor 1
