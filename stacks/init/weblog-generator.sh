#!/usr/bin/env bash
# Dataproc initialization action: Node.js 22 and the web-log generator bundle on the streaming cluster's
# master, run live as the systemd service weblog-generator: after kafka.service when the broker runs beside
# it (kafka-mode dataproc), or to Managed Kafka's bootstrap address as the VM's service account (managed).
# A timer polls the bundle's object in the artifacts bucket and restarts the service when `pulumi up`
# uploaded a new one. Settings come from the cluster's metadata (set by the Pulumi stack):
#   generator-bundle-uri, generator-topic, generator-rate, node-release-uri, node-release-sha256, kafka-port, kafka-mode,
#   kafka-bootstrap, generator-format, kafka-generator-secret (dataproc mode: the generator's SCRAM password, read at each start)
# Each value is checked against what it may be before it is used.
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

NODE_RELEASE_URI="$(checked_metadata node-release-uri '^gs://[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]/releases/[A-Za-z0-9._-]{1,200}$' 'a release staged in the artifacts bucket')"
NODE_RELEASE_SHA256="$(checked_metadata node-release-sha256 '^[0-9a-f]{64}$' 'a SHA-256 digest in hex')"
BUNDLE_URI="$(checked_metadata generator-bundle-uri '^gs://[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]/[A-Za-z0-9._/-]{1,1000}$' 'a gs:// object URI')"
TOPIC="$(checked_metadata generator-topic '^[A-Za-z0-9._-]{1,249}$' 'a Kafka topic name')"
RATE="$(checked_metadata generator-rate '^[1-9][0-9]{0,4}$' 'a number of entries per second')"
FORMAT="$(checked_metadata generator-format '^(json|combined)$' 'json or combined')"
APP_DIR=/opt/weblog-generator
KAFKA_MODE="$(checked_metadata kafka-mode '^(dataproc|managed)$' 'dataproc or managed')"
if [[ "${KAFKA_MODE}" == managed ]]; then
  BROKERS="$(checked_metadata kafka-bootstrap '^[A-Za-z0-9.-]{1,253}:[0-9]{1,5}$' 'a host:port')"
  KAFKA_AUTH=google
  PASSWORD_FROM=""
  # No broker here: start once the network is up; the generator retries until Managed Kafka answers.
  AFTER_KAFKA=$'After=network-online.target\nWants=network-online.target'
else
  # The broker's advertised listener on this master, as the generator's SCRAM principal.
  BROKERS="$(hostname -f):$(checked_metadata kafka-port '^[1-9][0-9]{3,4}$' 'a port number of 4 or 5 digits')"
  KAFKA_AUTH=scram
  PASSWORD_FROM="$(checked_metadata kafka-generator-secret \
    '^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/secrets/[A-Za-z0-9_-]{1,255}$' 'a Secret Manager secret name')"
  AFTER_KAFKA=$'After=kafka.service\nRequires=kafka.service'
fi

# The Node.js release `pulumi up` fetched, verified against nodejs.org's SHASUMS256.txt and staged in the artifacts
# bucket: read over Private Google Access, and checked again against the digest the stack recorded.
if [[ ! -x /usr/local/bin/node ]]; then
  workdir="$(mktemp -d)"
  gcloud storage cp "${NODE_RELEASE_URI}" "${workdir}/node.tar.xz" --quiet
  if [[ "$(sha256sum "${workdir}/node.tar.xz" | cut -d' ' -f1)" != "${NODE_RELEASE_SHA256}" ]]; then
    echo "Node.js release ${NODE_RELEASE_URI} does not match the SHA-256 the stack staged it with; refusing to install it." >&2
    exit 1
  fi
  tar -xJf "${workdir}/node.tar.xz" -C /usr/local --strip-components=1 --no-same-owner
  rm -rf "${workdir}"
fi

id -u weblog >/dev/null 2>&1 || useradd --system --home-dir "${APP_DIR}" --shell /usr/sbin/nologin weblog
mkdir -p "${APP_DIR}"

# Fetches the bundle when its generation changed; exits 0 either way, prints "changed" when it did.
cat >"${APP_DIR}/fetch-bundle.sh" <<FETCH
#!/usr/bin/env bash
set -euo pipefail
generation="\$(gcloud storage objects describe "${BUNDLE_URI}" --format='value(generation)')"
if [[ "\${generation}" != "\$(cat "${APP_DIR}/generation" 2>/dev/null || true)" ]]; then
  gcloud storage cp "${BUNDLE_URI}" "${APP_DIR}/generator.cjs.new" --quiet
  mv "${APP_DIR}/generator.cjs.new" "${APP_DIR}/generator.cjs"
  echo "\${generation}" >"${APP_DIR}/generation"
  echo changed
fi
FETCH
chmod 0755 "${APP_DIR}/fetch-bundle.sh"
"${APP_DIR}/fetch-bundle.sh"

# A script, not an inline ExecStart: systemd would expand the $( ) itself.
cat >"${APP_DIR}/refresh.sh" <<REFRESH
#!/usr/bin/env bash
set -euo pipefail
if [[ "\$(${APP_DIR}/fetch-bundle.sh)" == changed ]]; then
  systemctl restart weblog-generator.service
fi
REFRESH
chmod 0755 "${APP_DIR}/refresh.sh"

# The generator's password is read from Secret Manager at each start and handed over in its environment only.
PASSWORD_LINES=""
if [[ -n "${PASSWORD_FROM}" ]]; then
  PASSWORD_LINES="GENERATOR_KAFKA_PASSWORD=\"\$(gcloud secrets versions access '${PASSWORD_FROM}/versions/latest')\"
export GENERATOR_KAFKA_PASSWORD"
fi
cat >"${APP_DIR}/start.sh" <<START
#!/usr/bin/env bash
set -euo pipefail
${PASSWORD_LINES}
exec /usr/local/bin/node ${APP_DIR}/generator.cjs --brokers ${BROKERS} --topic ${TOPIC} --rate ${RATE} \\
  --kafka-auth ${KAFKA_AUTH} --format ${FORMAT}
START
chmod 0755 "${APP_DIR}/start.sh"

cat >/etc/systemd/system/weblog-generator.service <<UNIT
[Unit]
Description=Clickstream web-log generator (live traffic into Kafka)
${AFTER_KAFKA}

[Service]
User=weblog
WorkingDirectory=${APP_DIR}
ExecStart=${APP_DIR}/start.sh
# SIGTERM makes the generator flush what it buffered and print its summary before exiting.
KillSignal=SIGTERM
TimeoutStopSec=60
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
UNIT

cat >/etc/systemd/system/weblog-generator-refresh.service <<UNIT
[Unit]
Description=Restart the web-log generator when a new bundle was deployed

[Service]
Type=oneshot
ExecStart=${APP_DIR}/refresh.sh
UNIT

cat >/etc/systemd/system/weblog-generator-refresh.timer <<UNIT
[Unit]
Description=Check for a new web-log generator bundle every five minutes

[Timer]
OnBootSec=5min
OnUnitActiveSec=5min

[Install]
WantedBy=timers.target
UNIT

systemctl daemon-reload
systemctl enable --now weblog-generator.service weblog-generator-refresh.timer
