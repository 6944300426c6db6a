#!/usr/bin/env bash
# Give the Dagster instance at $DAGSTER_HOME its configuration: deploy/dagster.yaml (embedded
# SQLite storage, pools of one slot) unless it already has a non-empty dagster.yaml.
set -euo pipefail
: "${DAGSTER_HOME:?set DAGSTER_HOME (the Makefile sets \$PHM_DATA_DIR/dagster_home)}"
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$DAGSTER_HOME"
if [ ! -s "$DAGSTER_HOME/dagster.yaml" ]; then
    cp "$here/deploy/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"
    echo "instance: $DAGSTER_HOME/dagster.yaml (from deploy/dagster.yaml)"
fi
