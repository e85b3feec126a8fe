#!/bin/sh
# Creates every topic listed in kafka/topics.yaml ("name: partitions") on a Kafka broker.
#
#   sh kafka/create-topics.sh [BOOTSTRAP]     (default: $KAFKA_BOOTSTRAP, else localhost:29092)
#
# Uses kafka-topics.sh (Apache Kafka; docker-compose.yml runs this script in the kafka image)
# or, when that is not on PATH, `tansu topic create` (the tansu broker). Topics that exist
# already are left as they are.
set -eu
PATH="$PATH:/opt/kafka/bin"  # where the apache/kafka image keeps kafka-topics.sh
here=$(cd "$(dirname "$0")" && pwd)
bootstrap=${1:-${KAFKA_BOOTSTRAP:-localhost:29092}}
replication=${REPLICATION_FACTOR:-1}
if command -v kafka-topics.sh >/dev/null 2>&1; then
  tool=kafka
elif command -v tansu >/dev/null 2>&1; then
  tool=tansu
else
  echo "create-topics.sh: neither kafka-topics.sh nor tansu is on PATH" >&2
  exit 2
fi
grep -v '^[[:space:]]*#' "$here/topics.yaml" | while IFS=': ' read -r topic partitions; do
  case "$topic" in ''|---) continue ;; esac
  echo "topic $topic ($partitions partitions)"
  if [ "$tool" = kafka ]; then
    kafka-topics.sh --bootstrap-server "$bootstrap" --create --if-not-exists \
      --topic "$topic" --partitions "$partitions" --replication-factor "$replication"
  else
    tansu topic create "$topic" --broker "tcp://$bootstrap" --partitions "$partitions"
  fi
done
