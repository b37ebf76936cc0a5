#!/usr/bin/env bash
# Dataproc initialization action: one Apache Kafka 3.9 broker in KRaft mode (combined broker and
# controller, no ZooKeeper) on the master of the single-node streaming cluster, run by systemd, plus the
# pipeline's topic. Clients authenticate with SASL/SCRAM-SHA-512 and the StandardAuthorizer admits each
# principal to what its role needs (see the ACLs below); the controller listens on 127.0.0.1 only.
# Passwords come from Secret Manager each time the broker starts, never from a file. Settings come from
# the cluster's metadata (set by the Pulumi stack), each checked before use:
#   kafka-release-uri, kafka-release-sha256, kafka-port, kafka-topic, kafka-partitions, kafka-retention-hours,
#   kafka-admin-secret, kafka-generator-secret, kafka-stream-secret, kafka-shipper-secret
set -euxo pipefail

metadata() { /usr/share/google/get_metadata_value "attributes/$1"; }

# A metadata value lands in root's files and commands: only a value the pattern allows whole is used.
checked_metadata() {
  local key="$1" pattern="$2" value
  value="$(metadata "${key}")"
  if [[ ! "${value}" =~ ${pattern} ]]; then
    echo "Metadata ${key} is not ${3}; refusing to use it." >&2
    exit 1
  fi
  printf '%s' "${value}"
}

if [[ "$(metadata dataproc-role)" != "Master" ]]; then
  exit 0
fi

SECRET_NAME='^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/secrets/[A-Za-z0-9_-]{1,255}$'
RELEASE_URI="$(checked_metadata kafka-release-uri '^gs://[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]/releases/[A-Za-z0-9._-]{1,200}$' 'a release staged in the artifacts bucket')"
RELEASE_SHA256="$(checked_metadata kafka-release-sha256 '^[0-9a-f]{64}$' 'a SHA-256 digest in hex')"
PORT="$(checked_metadata kafka-port '^[1-9][0-9]{3,4}$' 'a port number of 4 or 5 digits')"
TOPIC="$(checked_metadata kafka-topic '^[A-Za-z0-9._-]{1,249}$' 'a Kafka topic name')"
PARTITIONS="$(checked_metadata kafka-partitions '^[1-9][0-9]{0,3}$' 'a partition count from 1 to 9999')"
RETENTION_HOURS="$(checked_metadata kafka-retention-hours '^[1-9][0-9]{0,5}$' 'a number of hours')"
ADMIN_SECRET="$(checked_metadata kafka-admin-secret "${SECRET_NAME}" 'a Secret Manager secret name')"
declare -A CLIENT_SECRETS=()
CLIENT_SECRETS[generator]="$(checked_metadata kafka-generator-secret "${SECRET_NAME}" 'a Secret Manager secret name')"
CLIENT_SECRETS[stream]="$(checked_metadata kafka-stream-secret "${SECRET_NAME}" 'a Secret Manager secret name')"
CLIENT_SECRETS[shipper]="$(checked_metadata kafka-shipper-secret "${SECRET_NAME}" 'a Secret Manager secret name')"
KAFKA_HOME=/opt/kafka
DATA_DIR=/var/lib/kafka/data
HOST_FQDN="$(hostname -f)"

# The release `pulumi up` fetched, verified against Apache's published SHA-512 and staged in the artifacts bucket:
# read over Private Google Access, nothing from outside Google. Checked again against the digest the stack recorded.
if [[ ! -x "${KAFKA_HOME}/bin/kafka-server-start.sh" ]]; then
  workdir="$(mktemp -d)"
  trap 'rm -rf "${workdir}"' EXIT # a refused or broken download leaves nothing behind
  gcloud storage cp "${RELEASE_URI}" "${workdir}/kafka.tgz" --quiet
  if [[ "$(sha256sum "${workdir}/kafka.tgz" | cut -d' ' -f1)" != "${RELEASE_SHA256}" ]]; then
    echo "Kafka release ${RELEASE_URI} does not match the SHA-256 the stack staged it with; refusing to install it." >&2
    exit 1
  fi
  mkdir -p "${KAFKA_HOME}"
  tar -xzf "${workdir}/kafka.tgz" -C "${KAFKA_HOME}" --strip-components=1
  rm -rf "${workdir}"
  trap - EXIT
fi

id -u kafka >/dev/null 2>&1 || useradd --system --home-dir /var/lib/kafka --shell /usr/sbin/nologin kafka
mkdir -p "${DATA_DIR}" /var/log/kafka
chown -R kafka:kafka /var/lib/kafka /var/log/kafka

PIPELINE_DIR="${KAFKA_HOME}/pipeline"
mkdir -p "${PIPELINE_DIR}"

# The passwords are resolved from the process's environment by Kafka's EnvVarConfigProvider, so no file holds one.
cat >"${KAFKA_HOME}/config/kraft/pipeline.properties" <<PROPS
process.roles=broker,controller
node.id=1
# The controller is reached from this node only: the broker in the same process, the init action's tools.
controller.quorum.voters=1@127.0.0.1:9093
listeners=CLIENTS://0.0.0.0:${PORT},CONTROLLER://127.0.0.1:9093
advertised.listeners=CLIENTS://${HOST_FQDN}:${PORT}
listener.security.protocol.map=CLIENTS:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=CLIENTS
config.providers=env
config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
# Clients: SCRAM-SHA-512, credentials in the cluster metadata (the password itself never crosses the wire).
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.clients.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="\${env:KAFKA_ADMIN_PASSWORD}";
# KRaft's controller cannot use SCRAM (its credentials live in the metadata it serves): PLAIN, on loopback only.
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="\${env:KAFKA_ADMIN_PASSWORD}" user_admin="\${env:KAFKA_ADMIN_PASSWORD}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
# Only the init action's admin (also the broker's own principal) is a super user; a principal without an ACL gets nothing.
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=${DATA_DIR}
num.partitions=${PARTITIONS}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# The topic is created below with the stack's partition count; a typo in a client must not create another.
auto.create.topics.enable=false
log.retention.hours=${RETENTION_HOURS}
# "Received" is the broker's clock: a producer's timestamp is replaced when the entry is appended.
log.message.timestamp.type=LogAppendTime
PROPS

# The init action's own admin client; the password again from the environment.
cat >"${PIPELINE_DIR}/admin.properties" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
config.providers=env
config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="\${env:KAFKA_ADMIN_PASSWORD}";
PROPS

# Reads the admin password from Secret Manager at every start (as the VM's service account), then runs the broker.
cat >"${PIPELINE_DIR}/start-broker.sh" <<START
#!/usr/bin/env bash
set -euo pipefail
KAFKA_ADMIN_PASSWORD="\$(gcloud secrets versions access '${ADMIN_SECRET}/versions/latest')"
export KAFKA_ADMIN_PASSWORD
exec ${KAFKA_HOME}/bin/kafka-server-start.sh ${KAFKA_HOME}/config/kraft/pipeline.properties
START
chmod 0755 "${PIPELINE_DIR}/start-broker.sh"

secret() { gcloud secrets versions access "$1/versions/latest"; }
set +x  # no password may reach the init action's log
KAFKA_ADMIN_PASSWORD="$(secret "${ADMIN_SECRET}")"
export KAFKA_ADMIN_PASSWORD
set -x

# Formatting twice would refuse to start (cluster id mismatch): only format empty storage. The admin's SCRAM
# credential goes in with the format, so the broker can authenticate its first client.
if [[ ! -f "${DATA_DIR}/meta.properties" ]]; then
  set +x
  # runuser, not sudo: root needs no policy to drop privileges, and util-linux is on every image.
  runuser -u kafka -- "${KAFKA_HOME}/bin/kafka-storage.sh" format \
    -t "$("${KAFKA_HOME}/bin/kafka-storage.sh" random-uuid)" \
    -c "${KAFKA_HOME}/config/kraft/pipeline.properties" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=${KAFKA_ADMIN_PASSWORD}]"
  set -x
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
ExecStart=${PIPELINE_DIR}/start-broker.sh
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

admin() { "${KAFKA_HOME}/bin/$1" --bootstrap-server "${HOST_FQDN}:${PORT}" --command-config "${PIPELINE_DIR}/admin.properties" "${@:2}"; }

# Init actions must finish within their timeout: wait for the broker to answer, at most 3 minutes.
for _ in $(seq 1 36); do
  if admin kafka-topics.sh --list >/dev/null 2>&1; then
    break
  fi
  sleep 5
done
admin kafka-topics.sh --create --if-not-exists --topic "${TOPIC}" --partitions "${PARTITIONS}" --replication-factor 1 \
  --config message.timestamp.type=LogAppendTime
# A topic created by an earlier version of this action gets the broker's clock too.
admin kafka-configs.sh --alter --entity-type topics --entity-name "${TOPIC}" --add-config message.timestamp.type=LogAppendTime

# Each client's SCRAM credential, set again on a re-run so that a rotated secret takes effect.
set +x
for user in "${!CLIENT_SECRETS[@]}"; do
  admin kafka-configs.sh --alter --entity-type users --entity-name "${user}" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$(secret "${CLIENT_SECRETS[${user}]}")]"
done
set -x

# Producers write the topic and nothing else; the streaming job reads it and nothing else. Write implies Describe.
for producer in generator shipper; do
  admin kafka-acls.sh --add --allow-principal "User:${producer}" --operation Write --topic "${TOPIC}"
done
admin kafka-acls.sh --add --allow-principal User:stream --operation Read --operation Describe --topic "${TOPIC}"
