#!/usr/bin/env bash
# Runs the backend contract suite ($1) with a standalone ZooKeeper server on
# loopback for its ZooKeeper backend (tests/zookeeper/zk_lock_test.sh starts
# it, passes its address in $ZK_CONNECT, and stops it afterwards).
exec tests/zookeeper/zk_lock_test.sh "$1"
