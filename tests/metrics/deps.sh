#!/bin/sh
# What tests/metrics checks --metrics with: a real Prometheus server (and its promtool), and
# node_exporter for the prom script's textfile. Installed through contrib/deps.sh like the rest.
exec sh "$(dirname "$0")/../../contrib/deps.sh" -w metrics prometheus prometheus-node-exporter curl
