#!/bin/sh
# The replica: on first start, a pg_basebackup -R of the primary (standby.signal and
# primary_conninfo written by it); then PostgreSQL, following the primary read-only.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready --host primary --port 5432; do sleep 1; done
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --host primary --port 5432 \
    --username replicator --pgdata "$PGDATA" -R -X stream --checkpoint fast
  chmod 700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c max_standby_streaming_delay=30s
