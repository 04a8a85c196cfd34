#!/bin/sh
# Run once by the postgis image when the primary's data folder is new: a role the replica
# streams WAL with, allowed from the compose network, and the WAL archive's folder (beside
# PGDATA on the same volume; archive_command copies each finished WAL segment there).
set -eu
mkdir -p /var/lib/postgresql/data/archive
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
