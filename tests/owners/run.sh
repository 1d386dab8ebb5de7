#!/bin/sh
# Owners (root): cgroup ids, network namespaces and pids resolved to their container, pod or unit
# (core/sym/owners.c, through tests/tools/owners_check) on real components: (a) cgroups made here
# in the cgroup2 hierarchy, in the kubelet's (cgroupfs and systemd drivers), Docker's and systemd's
# styles, with real processes moved into them, one in a network namespace of this run, and the
# kubelet's log links laid out here; /proc hidden (hidepid) and namespaces unreadable (nobody);
# (b) a podman container (runc, --network none); (c) a dockerd of this run, its own roots and
# socket, running a container. Images are built here from busybox-static: no registry.
. "$(dirname "$0")/../lib.sh"

sh "$TOP/tests/owners/deps.sh" || { fail owners-deps "cannot install the owners packages"; exit 1; }
missing=""
need_live owners "podman runc dockerd jq timeout setpriv unshare findmnt" \
	"$TESTBIN/owners_check" /bin/busybox || exit 1
CHECK=$TESTBIN/owners_check
# Debian's client, not another docker that PATH may find first.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)

ID=$$
NS=tdowners-$ID
IMAGE=localhost/tdowners:$ID
NAME=tdowners-$ID
W=$(mktemp -d "$TMPDIR/tcpdrop-owners.XXXXXX") || exit 1
chmod 755 "$W"
CG2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
CG=$CG2/tcpdrop-owners-$ID
BG=""
DOCKERD=""
PODMAN="podman --runtime runc --cgroup-manager cgroupfs --events-backend file"
LIMITS="--ulimit nofile=20000:20000 --ulimit nproc=32768:32768"
# The engines' top cgroups, removed at the end when they are ours (absent before, empty after).
had_tops=""
for t in docker libpod_parent; do
	[ -d "$CG2/$t" ] && had_tops="$had_tops $t"
done

cleanup() {
	for p in $BG; do
		kill "$p" 2>/dev/null
	done
	$PODMAN rm -f -t 0 "$NAME" >/dev/null 2>&1
	$PODMAN rmi -f "$IMAGE" >/dev/null 2>&1
	if [ -n "$DOCKERD" ]; then
		timeout 20 "$DOCKER" -H "unix://$W/docker.sock" rm -f "$NAME" >/dev/null 2>&1
		kill "$DOCKERD" 2>/dev/null
		i=0
		while kill -0 "$DOCKERD" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$DOCKERD" 2>/dev/null
	fi
	for p in $BG; do
		wait "$p" 2>/dev/null
	done
	# Deepest first: a cgroup goes only once it has no children and no processes.
	[ -d "$CG" ] && find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
	for t in docker libpod_parent; do
		case " $had_tops " in *" $t "*) continue ;; esac
		for h in /sys/fs/cgroup/*/"$t"; do
			[ -d "$h" ] && rmdir "$h" 2>/dev/null
		done
	done
	"$IP" netns del "$NS" 2>/dev/null
	grep -o " ${W}[^ ]*" /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ -z "$CG2" ]; then
	fail owners-cgroup2 "no cgroup2 mount: findmnt -t cgroup2 finds none"
	exit 1
fi

# expect NAME WANTED ARGS...: owners_check ARGS prints exactly WANTED (its warnings aside).
expect() {
	name=$1 want=$2
	shift 2
	got=$(timeout 20 "$CHECK" "$@" 2>> "$W/warnings")
	check_eq "owners-$name" "$want" "$got"
}

# owner_line CGROUP RUNTIME ID NAME POD_UID POD NAMESPACE
owner_line() {
	echo "cgroup=$1 runtime=$2 id=$3 name=$4 pod_uid=$5 pod=$6 namespace=$7"
}

# A process of ours, moved into cgroup DIR (and first into netns NS when given): its pid in $P.
sleeper() {
	if [ -n "${2:-}" ]; then
		"$IP" netns exec "$2" sleep 120 > /dev/null 2>&1 &
	else
		sleep 120 > /dev/null 2>&1 &
	fi
	P=$!
	BG="$BG $P"
	echo "$P" > "$1/cgroup.procs"
}

# ---- (a) cgroups of our making, in the kubelet's, Docker's and systemd's styles -------------

CID1=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c1c1c1c1/')
CID2=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c2c2c2c2/')
CID3=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c3c3c3c3/')
CID4=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c4c4c4c4/')
UID1=$(printf '1d1d1d1d-0000-4000-8000-%012x' "$ID")
UID2=$(printf '2d2d2d2d-0000-4000-8000-%012x' "$ID")
UID2_=$(echo "$UID2" | tr - _)
REL=/tcpdrop-owners-$ID
K1=$REL/kubepods/besteffort/pod$UID1/cri-containerd-$CID1.scope
PODS=$REL/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$UID2_.slice
K2=$PODS/cri-containerd-$CID2.scope
K3=$PODS/cri-containerd-$CID3.scope
D1=$REL/docker/$CID4
U1=$REL/system.slice/tdowners-$ID.service
for d in "$K1" "$K2" "$K3" "$D1" "$U1"; do
	if ! mkdir -p "$CG2$d" 2> "$W/err"; then
		fail owners-mkdir "$(cat "$W/err")"
		exit 1
	fi
done
# The kubelet's links, as it makes them, to its files under pods/<namespace>_<pod>_<uid>/.
LOGS=$W/log/containers
mkdir -p "$LOGS" "$W/log/pods/shop_web-$ID-x1_$UID1/nginx" \
	"$W/log/pods/kube-system_dns-${ID}_$UID2/coredns"
: > "$W/log/pods/shop_web-$ID-x1_$UID1/nginx/0.log"
: > "$W/log/pods/kube-system_dns-${ID}_$UID2/coredns/0.log"
ln -s "$W/log/pods/shop_web-$ID-x1_$UID1/nginx/0.log" "$LOGS/web-$ID-x1_shop_nginx-$CID1.log"
ln -s "$W/log/pods/kube-system_dns-${ID}_$UID2/coredns/0.log" \
	"$LOGS/dns-${ID}_kube-system_coredns-$CID2.log"

if ! "$IP" netns add "$NS" 2> "$W/err"; then
	fail owners-netns-add "$(cat "$W/err")"
	exit 1
fi
NSINO=$(stat -L -c %i "/run/netns/$NS")
sleeper "$CG2$K1"
P1=$P
sleeper "$CG2$K2" "$NS"
P2=$P
sleeper "$CG2$K3" "$NS"
sleeper "$CG2$D1"
sleeper "$CG2$U1"
cgid() {
	stat -c %i "$CG2$1"
}
OPTS="-K $LOGS -D $W/nodocker -P $W/nopodman"
NGINX=$(owner_line "$K1" containerd "$CID1" nginx "$UID1" "web-$ID-x1" shop)
expect kubelet-cgroupfs-cgroup-id "$NGINX" $OPTS cgroup "$(cgid "$K1")"
# Pure cgroup v2 (one hierarchy at /sys/fs/cgroup, no v1 controller beside it), in a mount
# namespace of its own where this machine's hybrid mounts are gone: the same answer.
got=$(unshare -m sh -c "umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup &&
	grep -c ' - cgroup ' /proc/self/mountinfo;
	exec timeout 20 '$CHECK' $OPTS cgroup $(cgid "$K1")" 2>>"$W/warnings")
check_eq owners-pure-v2-cgroup-id "0 $NGINX" "$(echo $got)"
expect kubelet-cgroupfs-pid "$NGINX" $OPTS pid "$P1"
expect kubelet-systemd-cgroup-id \
	"$(owner_line "$K2" containerd "$CID2" coredns "$UID2" "dns-$ID" kube-system)" \
	$OPTS cgroup "$(cgid "$K2")"
# The pod's other container has no log link (as a sandbox has none): the pod from its uid.
expect kubelet-systemd-no-link \
	"$(owner_line "$K3" containerd "$CID3" - "$UID2" "dns-$ID" kube-system)" \
	$OPTS cgroup "$(cgid "$K3")"
expect kubelet-netns-names-the-pod \
	"$(owner_line "$PODS" - - - "$UID2" "dns-$ID" kube-system)" $OPTS netns "$NSINO"
expect docker-style-cgroup-id "$(owner_line "$D1" docker "$CID4" - - - -)" \
	$OPTS cgroup "$(cgid "$D1")"
expect systemd-service "$(owner_line "$U1" systemd - "tdowners-$ID.service" - - -)" \
	$OPTS cgroup "$(cgid "$U1")"
expect unknown-cgroup-id "-" $OPTS cgroup 999999999
# Rate limits: one walk for the first id, none for a second known one, none for two misses
# within the second (each counted as limited).
got=$(timeout 20 "$CHECK" $OPTS cgroup "$(cgid "$K1")" cgroup "$(cgid "$U1")" cgroup 999999999 \
	cgroup 999999998 stats 2>/dev/null | tail -1)
check_eq owners-one-walk-per-miss "walks=1 scans=0 loads=1 limited=2 full=0" "$got"
# Once per run: each of the two runs above that met the docker-style cgroup said it once.
if grep -q "Docker containers met, but $W/nodocker is absent" "$W/warnings" &&
	[ "$(grep -c 'nodocker' "$W/warnings")" = 1 ]; then
	pass "owners-docker-absent-warned-once-per-run"
else
	fail owners-docker-absent-warned-once-per-run "$(cat "$W/warnings")"
fi

# A pid and its start time: the same process, then gone.
set -- $(timeout 5 "$CHECK" stat "$P1" | tr = ' ')
check_eq owners-pid-stat-comm "comm sleep" "$1 $2"
START=$4
expect pid-is-it "1" is "$P1" "$START"
expect pid-other-start "0" is "$P1" "$((START + 1))"
expect pid-comm "sleep" comm "$P1" "$START"
kill "$P1"
wait "$P1" 2>/dev/null
expect pid-gone "0" is "$P1" "$START"
expect pid-gone-comm "-" comm "$P1" "$START"

# /proc mounted hidepid=2 (in a mount namespace of its own), read as nobody: "-", one warning.
mkdir "$W/proc"
unshare -m sh -c "mount -t proc -o hidepid=2 proc '$W/proc' &&
	exec setpriv --reuid=nobody --regid=nogroup --clear-groups '$CHECK' -p '$W/proc' \
	-K '$LOGS' netns $NSINO netns $NSINO pid $P2" > "$W/hide.out" 2> "$W/hide.err"
check_eq owners-hidepid-unknown "- - -" "$(paste -sd ' ' "$W/hide.out")"
check_eq owners-hidepid-one-warning 1 "$(grep -c "^warning: $W/proc hides other users' processes \
(hidepid)" "$W/hide.err")"
# The real /proc as nobody: others' namespaces unreadable, one warning at the scan.
setpriv --reuid=nobody --regid=nogroup --clear-groups "$CHECK" -K "$LOGS" netns "$NSINO" \
	netns "$NSINO" > "$W/nobody.out" 2> "$W/nobody.err"
check_eq owners-nobody-netns-unknown "- -" "$(paste -sd ' ' "$W/nobody.out")"
check_eq owners-nobody-one-warning 1 "$(grep -c 'ns/net unreadable (no ptrace access' \
	"$W/nobody.err")"

# ---- (b) podman: a container of a local image, its cgroup id and netns ----------------------

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
ln -s busybox "$W/rootfs/bin/sleep"
ln -s busybox "$W/rootfs/bin/sh"
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .

# engine_check NAME CID PID PARENT OPTS...: the container's cgroup id, netns and pid resolve to
# its runtime, id and name.
engine_check() {
	e=$1 cid=$2 pid=$3 dir=$4
	shift 4
	want=$(owner_line "$dir" "$e" "$cid" "$NAME" - - -)
	expect "$e-cgroup-id" "$want" "$@" cgroup "$(cgid "$dir")"
	expect "$e-netns" "$want" "$@" netns "$(stat -L -c %i "/proc/$pid/ns/net")"
	expect "$e-pid" "$want" "$@" pid "$pid"
}

if timeout 60 $PODMAN import -q "$W/rootfs.tar" "$IMAGE" > "$W/podman.log" 2>&1 &&
	timeout 60 $PODMAN run -d $LIMITS --network none --name "$NAME" "$IMAGE" /bin/sleep 120 \
		> "$W/podman.log" 2>&1; then
	cid=$(tail -1 "$W/podman.log")
	pid=$($PODMAN inspect -f '{{.State.Pid}}' "$NAME")
	conmon=$($PODMAN inspect -f '{{.State.ConmonPid}}' "$NAME")
	engine_check podman "$cid" "$pid" "/libpod_parent/libpod-$cid"
	# Its conmon is beside it, not in it.
	got=$(timeout 20 "$CHECK" pid "$conmon" 2>/dev/null)
	case $got in
	*"runtime=- id=- name=-"*) pass "owners-podman-conmon-is-not-the-container" ;;
	*) fail owners-podman-conmon-is-not-the-container "$got" ;;
	esac
	$PODMAN rm -f -t 0 "$NAME" >/dev/null 2>&1
else
	fail owners-podman-run "$(tail -5 "$W/podman.log")"
fi
$PODMAN rmi -f "$IMAGE" >/dev/null 2>&1

# ---- (c) Docker: a dockerd of this run (its roots, its socket; no iptables, no bridge) ------

DK="timeout 60 $DOCKER -H unix://$W/docker.sock"
dockerd --iptables=false --bridge=none --data-root "$W/docker" --exec-root "$W/dexec" \
	-H "unix://$W/docker.sock" --pidfile "$W/docker.pid" > "$W/dockerd.log" 2>&1 &
DOCKERD=$!
i=0
while [ $i -lt 300 ] && ! $DK version > /dev/null 2>&1; do
	kill -0 "$DOCKERD" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if ! $DK version > /dev/null 2>&1; then
	fail owners-dockerd "did not answer: $(tail -5 "$W/dockerd.log")"
elif $DK import "$W/rootfs.tar" "$IMAGE" > "$W/docker.log" 2>&1 &&
	$DK run -d --network none --name "$NAME" "$IMAGE" /bin/sleep 120 > "$W/docker.log" 2>&1
then
	cid=$(tail -1 "$W/docker.log")
	pid=$($DK inspect -f '{{.State.Pid}}' "$NAME")
	engine_check docker "$cid" "$pid" "/docker/$cid" -D "$W/docker"
	$DK rm -f "$NAME" >/dev/null 2>&1
	$DK rmi -f "$IMAGE" >/dev/null 2>&1
else
	fail owners-docker-run "$(tail -5 "$W/docker.log")"
fi
