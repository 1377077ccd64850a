#!/usr/bin/env bash
# Make sure the local services the test suite talks to are up; start any that is down.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # name port
    for _ in $(seq 1 60); do up "$2" && { echo "services: $1 is up on :$2"; return 0; }; sleep 1; done
    echo "services: $1 did not come up on :$2" >&2
    return 1
}

if ! up 5432; then
    echo "services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
wait_for PostgreSQL 5432

if ! up 6379; then
    echo "services: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi
wait_for Redis 6379

if ! up 5672; then
    echo "services: starting RabbitMQ"
    rabbitmq-server -detached || true
fi
wait_for RabbitMQ 5672

if ! up 3306; then
    echo "services: starting MariaDB"
    service mariadb start || (mysqld_safe >/dev/null 2>&1 &) || true
fi
wait_for MariaDB 3306
# The tests connect as root without a password (TICKWORK_TEST_MARIADB, tests/mariadb_databases.py),
# the way Debian's package leaves root on 127.0.0.1 for a local test server.
if ! mysql --protocol=TCP -h 127.0.0.1 -u root -e "SELECT 1" >/dev/null; then
    echo "services: MariaDB refuses root@127.0.0.1 without a password; the tests need it" >&2
    exit 1
fi
# A test server: a commit need not reach the disk before it returns (as PGOPTIONS'
# synchronous_commit=off does for PostgreSQL in tests/conftest.py); it is visible all the same.
mysql --protocol=TCP -h 127.0.0.1 -u root -e "SET GLOBAL innodb_flush_log_at_trx_commit = 2"
