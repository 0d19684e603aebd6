#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on a free loopback port as a non-root user, exports
# ENCLAVE_TEST_PG_URL for the storage contract suite, runs the given command, and removes the cluster.
# Usage: bash scripts/with-postgres.sh npm test
set -euo pipefail

find_bin() {
  command -v "$1" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1
}
INITDB=$(find_bin initdb)
PG_CTL=$(find_bin pg_ctl)
if [ -z "$INITDB" ] || [ -z "$PG_CTL" ]; then
  echo "PostgreSQL server binaries not found: apt-get install -y postgresql" >&2
  exit 1
fi

PGDIR=$(mktemp -d /tmp/enclave-pg.XXXXXX)
PGPORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  id enclavepg >/dev/null 2>&1 || useradd --system --no-create-home enclavepg
  chown enclavepg "$PGDIR"
  RUNAS=(runuser -u enclavepg --)
fi
cleanup() {
  "${RUNAS[@]}" "$PG_CTL" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGDIR"
}
trap cleanup EXIT

"${RUNAS[@]}" "$INITDB" -D "$PGDIR/data" -U enclave --auth=trust -E UTF8 >/dev/null
"${RUNAS[@]}" "$PG_CTL" -D "$PGDIR/data" -l "$PGDIR/log" -w \
  -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null

export ENCLAVE_TEST_PG_URL="postgres://enclave@127.0.0.1:$PGPORT/postgres"
echo "PostgreSQL test cluster on 127.0.0.1:$PGPORT" >&2
"$@"
