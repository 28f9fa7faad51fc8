#!/bin/bash
# A single-node Pacemaker + Corosync cluster for agent-facts-pacemaker-live.test.ts. Runs as PID 1
# of fresh mount, network, UTS and PID namespaces (see the test's `unshare` call), so that nothing
# on the host is touched: /etc/corosync, /var/lib/{pacemaker,corosync}, /var/log/pacemaker come
# from $1 (a temporary directory), /run and /dev/shm are private tmpfs, corosync binds to this
# namespace's own loopback. It ends, and the kernel kills every process in the namespace with it,
# when its stdin closes (the test ended or died) or after $2 seconds at the latest.
set -euo pipefail
state=$1
lifetime=${2:-120}

ip link set lo up
hostname tandem-pcmk1
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mkdir -p /run/lock /run/crm /run/resource-agents
for d in etc-corosync lib-pacemaker lib-corosync log-pacemaker; do mkdir -p "$state/$d"; done
mkdir -p "$state"/lib-pacemaker/{cib,pengine,blackbox,cores}
chown -R hacluster:haclient "$state/lib-pacemaker" "$state/log-pacemaker"
chmod 0750 "$state/lib-pacemaker/cib"
mount --bind "$state/etc-corosync" /etc/corosync
mount --bind "$state/lib-pacemaker" /var/lib/pacemaker
mount --bind "$state/lib-corosync" /var/lib/corosync
mount --bind "$state/log-pacemaker" /var/log/pacemaker

export PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none PCMK_debug=no
corosync -f >"$state/corosync.out" 2>&1 &
for _ in $(seq 100); do corosync-cfgtool -s >/dev/null 2>&1 && break; sleep 0.1; done
pacemakerd -f >"$state/pacemakerd.out" 2>&1 &
echo ready >"$state/namespace-ready"

read -r -t "$lifetime" _ || true
