# Shared by the setup and test scripts: where caches and state live, and how progress is printed.
# Downloads are cached outside the clone so a second run is fast; nothing depends on the cache being there.
export CLICKSTREAM_CACHE="${CLICKSTREAM_CACHE:-$HOME/.cache/clickstream-pipeline}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
mkdir -p "$CLICKSTREAM_CACHE"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }
