#!/bin/sh
# Names (root, live): the owner fields of real drops (e.cgroup, e.container, e.container_id,
# e.runtime, e.pod, e.pod_namespace, e.pod_uid) and --container, --pod, on real components:
# (a) cgroups made here in the kubelet's (cgroupfs and systemd drivers), Docker's and systemd's
# styles, processes of ours moved into them in network namespaces of this run, the kubelet's log
# links laid out here (TCPDROP_KUBELET_LOGS), drops with no socket (a SYN to a closed port) and
# with one (a SYN on an ESTABLISHED connection); (b) a podman container; (c) a dockerd of this
# run, its own roots and socket. Images are built here from busybox-static: no registry. Every
# run of tcpdrop is limited to a namespace of this run, or to what --container/--pod names.
. "$(dirname "$0")/../lib.sh"

sh "$TOP/tests/owners/deps.sh" || { fail names-deps "cannot install the owners packages"; exit 1; }
missing=""
need_live names "podman runc dockerd timeout setpriv findmnt" "$TCPDROP" "$TESTBIN/segsend" \
	"$TESTBIN/tcpconn" "$TESTBIN/tdutil" /bin/busybox || exit 1
SEGSEND=$TESTBIN/segsend
TCPCONN=$TESTBIN/tcpconn
TDUTIL=$TESTBIN/tdutil
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker)

ID=$$
NAME=tdnames-$ID
IMAGE=localhost/tdnames:$ID
W=$(mktemp -d "$TMPDIR/tcpdrop-names.XXXXXX") || exit 1
chmod 755 "$W"
CG2=$(findmnt -n -t cgroup2 -o TARGET | head -1)
REL=/tcpdrop-names-$ID
BG=""
DOCKERD=""
PODMAN="podman --runtime runc --cgroup-manager cgroupfs --events-backend file"
LIMITS="--ulimit nofile=20000:20000 --ulimit nproc=32768:32768"
NSS=""
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
	if [ -d "$CG2$REL" ]; then
		# What the test placed in its cgroups (grandchildren of ours among them) must be gone
		# before the directories can go: a left cgroup is met by every later run as a pod.
		find "$CG2$REL" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do
			kill -9 "$p" 2>/dev/null
		done
		i=0
		while [ -d "$CG2$REL" ] && [ $i -lt 50 ]; do
			find "$CG2$REL" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$CG2$REL" ] && sleep 0.1
			i=$((i + 1))
		done
		[ -d "$CG2$REL" ] && echo "FAIL names-cleanup: $CG2$REL is still there after 5 s"
	fi
	for t in docker libpod_parent; do
		case " $had_tops " in *" $t "*) continue ;; esac
		for h in /sys/fs/cgroup/*/"$t"; do
			[ -d "$h" ] && rmdir "$h" 2>/dev/null
		done
	done
	for n in $NSS; do
		"$IP" netns del "$n" 2>/dev/null
	done
	grep -o " ${W}[^ ]*" /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	[ -n "${NAMES_KEEP:-}" ] && echo "names: kept $W" || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ -z "$CG2" ]; then
	fail names-cgroup2 "no cgroup2 mount: findmnt -t cgroup2 finds none"
	exit 1
fi

# The fields of each drop, one line each; "ready" once the probe is attached.
cat > "$W/fields.lua" <<'LUA'
function init()
	print("ready")
	io.stdout:flush()
end
function drop(e)
	print(table.concat({ e.reason, tostring(e.has_socket), e.cgroup, e.container,
		e.container_id, e.runtime, e.pod, e.pod_namespace, e.pod_uid }, " "))
	io.stdout:flush()
end
LUA

# fields_line REASON HAS_SOCKET CGROUP CONTAINER ID RUNTIME POD NAMESPACE POD_UID
fields_line() {
	echo "$*"
}

# start NAME ARGS...: tcpdrop -s fields.lua ARGS in the background, once attached ($TP).
start() {
	tname=$1
	shift
	"$TDUTIL" timeout 60 "$TCPDROP" -s "$W/fields.lua" "$@" > "$W/$tname.out" \
		2> "$W/$tname.err" &
	TP=$!
	if ! "$TDUTIL" waitfor "$W/$tname.out" ready 30 $TP; then
		fail "names-$tname-start" "$(head -3 "$W/$tname.err")"
		return 1
	fi
}

# finish NAME WANTED: the run ends (its -c), and printed exactly WANTED after "ready".
finish() {
	wait "$TP"
	rc=$?
	if [ "$rc" != 0 ]; then
		fail "names-$1" "exit $rc: $(head -3 "$W/$1.err")"
		return 1
	fi
	check_eq "names-$1" "$2" "$(sed 1d "$W/$1.out")"
}

# finish_flow NAME WANTED: the same, the reason left out (where the kernel's name may vary).
finish_flow() {
	wait "$TP"
	rc=$?
	if [ "$rc" != 0 ]; then
		fail "names-$1" "exit $rc: $(head -3 "$W/$1.err")"
		return 1
	fi
	check_eq "names-$1" "$2" "$(sed 1d "$W/$1.out" | cut -d' ' -f2-)"
}

# in_cg DIR CMD...: CMD run in cgroup DIR (as a container's processes are), in the foreground.
in_cg() {
	d=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$d" "$@"
}

# sleeper DIR NS: a process of ours in cgroup DIR and network namespace NS.
sleeper() {
	in_cg "$1" "$IP" netns exec "$2" sleep 300 > /dev/null 2>&1 &
	BG="$BG $!"
}

# newns NAME: a network namespace of this run, loopback up; its inode in $NSINO.
newns() {
	"$IP" netns add "$1" && "$IP" -n "$1" link set lo up || return 1
	NSS="$NSS $1"
	NSINO=$(stat -L -c %i "/run/netns/$1")
}

# closed DIR NS PORT: from cgroup DIR, in NS, a SYN to 127.0.0.1:9 (nothing listens): NO_SOCKET.
closed() {
	in_cg "$1" "$IP" netns exec "$2" "$SEGSEND" 127.0.0.1 "$3" 127.0.0.1 9 S > /dev/null
}

# ---- (a) cgroups of our making, in the kubelet's, Docker's and systemd's styles -------------

CID1=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c1c1c1c1/')
CID2=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c2c2c2c2/')
CID3=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c3c3c3c3/')
CID4=$(printf '%064x' "$ID" | sed 's/^0\{8\}/c4c4c4c4/')
UID1=$(printf '1d1d1d1d-0000-4000-8000-%012x' "$ID")
UID2=$(printf '2d2d2d2d-0000-4000-8000-%012x' "$ID")
UID2_=$(echo "$UID2" | tr - _)
POD1=$REL/kubepods/besteffort/pod$UID1
K1=$POD1/cri-containerd-$CID1.scope
POD2=$REL/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod$UID2_.slice
K2=$POD2/cri-containerd-$CID2.scope
K3=$POD2/cri-containerd-$CID3.scope
D1=$REL/docker/$CID4
U1=$REL/system.slice/tdnames-$ID.service
for d in "$K1" "$K2" "$K3" "$D1" "$U1"; do
	if ! mkdir -p "$CG2$d" 2> "$W/err"; then
		fail names-mkdir "$(cat "$W/err")"
		exit 1
	fi
done
LOGS=$W/log/containers
mkdir -p "$LOGS" "$W/log/pods/shop_web-${ID}_$UID1/nginx" "$W/log/pods/kube-system_dns-${ID}_$UID2/coredns"
: > "$W/log/pods/shop_web-${ID}_$UID1/nginx/0.log"
: > "$W/log/pods/kube-system_dns-${ID}_$UID2/coredns/0.log"
ln -s "$W/log/pods/shop_web-${ID}_$UID1/nginx/0.log" "$LOGS/web-${ID}_shop_nginx-$CID1.log"
ln -s "$W/log/pods/kube-system_dns-${ID}_$UID2/coredns/0.log" \
	"$LOGS/dns-${ID}_kube-system_coredns-$CID2.log"
export TCPDROP_KUBELET_LOGS=$LOGS
# No Docker or podman files for the cgroups made here: their names are unknown, their ids not.
export TCPDROP_DOCKER_ROOT=$W/nodocker
export TCPDROP_PODMAN_ROOT=$W/nopodman

NS1=tdnames-1-$ID NS2=tdnames-2-$ID NS3=tdnames-3-$ID NS4=tdnames-4-$ID
newns "$NS1" && INO1=$NSINO && newns "$NS2" && INO2=$NSINO && newns "$NS3" && INO3=$NSINO &&
	newns "$NS4" && INO4=$NSINO || { fail names-netns "cannot make the namespaces"; exit 1; }
# The pod web (cgroupfs driver): one container, nginx, in NS1. The pod dns (systemd driver): two
# containers sharing NS2. A Docker-style container in NS3, a systemd service in NS4.
sleeper "$CG2$K1" "$NS1"
sleeper "$CG2$K2" "$NS2"
sleeper "$CG2$K3" "$NS2"
sleeper "$CG2$D1" "$NS3"
sleeper "$CG2$U1" "$NS4"

NGINX="containerd web-$ID shop $UID1"
# A drop with no socket in a container's namespace names it; in a pod's shared one, the pod.
start k-nosocket --netns-id "$INO1" -c 1 &&
	closed "$CG2$K1" "$NS1" 40001 &&
	finish k-nosocket "$(fields_line NO_SOCKET false - nginx "$CID1" $NGINX)"
start k-pod-netns --netns-id "$INO2" -c 1 &&
	closed "$CG2$K2" "$NS2" 40002 &&
	finish k-pod-netns "$(fields_line NO_SOCKET false - - - - "dns-$ID" kube-system "$UID2")"
start docker-style --netns-id "$INO3" -c 1 &&
	closed "$CG2$D1" "$NS3" 40003 &&
	finish docker-style "$(fields_line NO_SOCKET false - - "$CID4" docker - - -)"
start systemd-unit --netns-id "$INO4" -c 1 &&
	closed "$CG2$U1" "$NS4" 40004 &&
	finish systemd-unit "$(fields_line NO_SOCKET false - "tdnames-$ID.service" - systemd - - -)"

# With a socket: a connection held by a process in nginx's cgroup, and a SYN on it, which the
# ESTABLISHED socket drops: named by the socket's cgroup (bpf/owner.h records it).
in_cg "$CG2$K1" "$IP" netns exec "$NS1" "$TCPCONN" -t 300 estab - 127.0.0.1 8080 - 127.0.0.1 \
	> "$W/conn" 2> "$W/conn.err" &
BG="$BG $!"
if "$TDUTIL" waitfor "$W/conn" " " 10 $!; then
	read -r CPORT RCV SND < "$W/conn"
	start k-socket --netns-id "$INO1" -c 1 &&
		in_cg "$CG2$K1" "$IP" netns exec "$NS1" "$SEGSEND" 127.0.0.1 "$CPORT" 127.0.0.1 \
			8080 S 12345 > /dev/null &&
		finish_flow k-socket "$(fields_line true "$K1" nginx "$CID1" $NGINX)"
	# The drop is the socket's: not NO_SOCKET (its reason is the kernel's to name).
	check_nogrep names-k-socket-reason "^NO_SOCKET" "$W/k-socket.out"
else
	fail names-k-socket-connection "$(head -3 "$W/conn.err")"
fi

# --pod: only the pod's drops, in the kernel: NS2 (dns) first, then NS1 (web); -c 1 ends it.
start pod-filter --pod "shop/web-$ID" -c 1 &&
	closed "$CG2$K2" "$NS2" 40011 &&
	closed "$CG2$K1" "$NS1" 40012 &&
	finish pod-filter "$(fields_line NO_SOCKET false - nginx "$CID1" $NGINX)"
# A pod by its name alone; the other pod's drops kept out.
start pod-filter-name --pod "dns-$ID" -c 1 &&
	closed "$CG2$K1" "$NS1" 40013 &&
	closed "$CG2$K3" "$NS2" 40014 &&
	finish pod-filter-name "$(fields_line NO_SOCKET false - - - - "dns-$ID" kube-system "$UID2")"
# The socket's cgroup passes --pod where its namespace does not: a connection held in the dns
# pod's second container's cgroup, in NS4 (not the pod's namespace); a NO_SOCKET drop in NS4
# first is kept out, the SYN on the connection passes.
in_cg "$CG2$K3" "$IP" netns exec "$NS4" "$TCPCONN" -t 300 estab - 127.0.0.1 8081 - 127.0.0.1 \
	> "$W/conn3" 2> "$W/conn3.err" &
BG="$BG $!"
if "$TDUTIL" waitfor "$W/conn3" " " 10 $!; then
	read -r CPORT3 RCV3 SND3 < "$W/conn3"
	start pod-filter-cgroup --pod "kube-system/dns-$ID" -c 1 &&
		closed "$CG2$U1" "$NS4" 40015 &&
		in_cg "$CG2$K3" "$IP" netns exec "$NS4" "$SEGSEND" 127.0.0.1 "$CPORT3" 127.0.0.1 \
			8081 S 12345 > /dev/null &&
		finish_flow pod-filter-cgroup "$(fields_line true "$K3" - "$CID3" containerd "dns-$ID" \
			kube-system "$UID2")"
else
	fail names-pod-filter-cgroup-connection "$(head -3 "$W/conn3.err")"
fi

# The shipped printer and aggregations on a drop of the web pod: wide's last columns (OWNER "-":
# no socket), summary's by=pod table, count(e.pod, e.reason). -v says when the probe is attached.
# run_v NAME PORT ARGS...: tcpdrop -v ARGS, a NO_SOCKET drop from PORT in NS1 once attached.
run_v() {
	tname=$1 sport=$2
	shift 2
	"$TDUTIL" timeout 60 "$TCPDROP" -v --netns-id "$INO1" -c 1 "$@" > "$W/$tname.out" \
		2> "$W/$tname.err" &
	TP=$!
	if ! "$TDUTIL" waitfor "$W/$tname.err" "probe: " 30 $TP; then
		fail "names-$tname-start" "$(grep -v libbpf "$W/$tname.err" | head -3)"
		return 1
	fi
	closed "$CG2$K1" "$NS1" "$sport"
	wait "$TP"
}
run_v wide 40041 -s wide --no-stack
check_eq names-wide-columns "segsend - shop/web-$ID/nginx" \
	"$(sed -n 2p "$W/wide.out" | awk '{ print $(NF-2), $(NF-1), $NF }')"
check_eq names-wide-header "COMM OWNER CONTAINER/POD" \
	"$(head -1 "$W/wide.out" | awk '{ print $(NF-2), $(NF-1), $NF }')"
run_v summary-by-pod 40042 -s summary -- by=pod
check_grep names-summary-by-pod "^shop/web-$ID  *NO_SOCKET  *1 " "$W/summary-by-pod.out"
run_v count-pod 40043 -e 'count(e.pod, e.reason)'
check_grep names-count-pod "^web-$ID  *NO_SOCKET  *1$" "$W/count-pod.out"
# prom's by=: a label more, from the events (the kernel counts no names).
run_v prom-by-pod 40044 -s prom -- file=- by=pod
check_eq names-prom-by-pod "tcpdrop_drops_total{reason=\"NO_SOCKET\",port=\"9\",pod=\"shop/web-$ID\"} 1" \
	"$(grep '^tcpdrop_drops_total' "$W/prom-by-pod.out")"
check_nogrep names-prom-by-pod-no-kernel-table "counted in the kernel" "$W/prom-by-pod.err"
run_v prom-by-container 40045 -s prom -- file=- by=container
check_eq names-prom-by-container \
	"tcpdrop_drops_total{reason=\"NO_SOCKET\",port=\"9\",container=\"nginx\"} 1" \
	"$(grep '^tcpdrop_drops_total' "$W/prom-by-container.out")"

# A name that matches nothing: one line, exit 2, nothing traced.
"$TDUTIL" timeout 30 "$TCPDROP" --pod "shop/nosuch-$ID" -d 5 > "$W/nopod.out" 2> "$W/nopod.err"
check_eq names-pod-none-exit 2 $?
# Its last line (what hides names, if anything, is said before it).
check_eq names-pod-none-line \
	"tcpdrop: --pod shop/nosuch-$ID: no running pod nosuch-$ID in namespace shop" \
	"$(tail -1 "$W/nopod.err")"
"$TDUTIL" timeout 30 "$TCPDROP" --container "nosuch-$ID" -d 5 > "$W/noctr.out" 2> "$W/noctr.err"
check_eq names-container-none-exit 2 $?
check_eq names-container-none-line \
	"tcpdrop: --container nosuch-$ID: no running container has that name or id" \
	"$(tail -1 "$W/noctr.err")"

# --user: what only root reads (namespaces of processes not nobody's) was read before the drop.
# Two drops (the SYN and the RST that answers it) and two runs of the namespace scan a second
# apart, as nobody: each warning said once, not once per drop or scan.
start user-nobody --user nobody --netns-id "$INO1" -c 3 &&
	closed "$CG2$K1" "$NS1" 40021 && sleep 1.2 &&
	closed "$CG2$K1" "$NS1" 40022 &&
	finish user-nobody "$(for i in 1 2 3; do fields_line NO_SOCKET false - nginx "$CID1" $NGINX; done)"
check_eq names-user-nobody-warnings-once "" "$(grep -v libbpf "$W/user-nobody.err" | sort | uniq -d)"

# replay NAME WANTED ACTION...: a live run (-w, -s json, --netns-id $RINO, -c 1) while ACTION makes
# a drop; its file replayed (-r -s json) names exactly what the live run named, WANTED (one line
# per drop: the seven names, owners.py fields); the same file without the names the recording
# wrote (owners.py strip, as a file of an older tcpdrop) names nothing.
OWNERS="/usr/bin/python3 $TOP/tests/names/owners.py"
replay() {
	tname=$1 want=$2
	shift 2
	"$TDUTIL" timeout 60 "$TCPDROP" -v -w "$W/$tname.pcapng" --netns-id "$RINO" -c 1 -s json \
		> "$W/$tname.live" 2> "$W/$tname.err" &
	TP=$!
	if ! "$TDUTIL" waitfor "$W/$tname.err" "probe: " 30 $TP; then
		fail "names-$tname-record" "$(grep -v libbpf "$W/$tname.err" | head -3)"
		return 1
	fi
	"$@" < /dev/null > /dev/null 2>&1
	wait "$TP"
	$OWNERS fields "$W/$tname.live" > "$W/$tname.live.f"
	"$TCPDROP" -r "$W/$tname.pcapng" -s json > "$W/$tname.replay" 2> "$W/$tname.rerr"
	$OWNERS fields "$W/$tname.replay" > "$W/$tname.replay.f"
	check_eq "names-$tname-live" "$want" "$(sort -u "$W/$tname.live.f")"
	# The file may hold a drop more than -c 1 let the live run print (the RST a SYN drew).
	check_eq "names-$tname-replay" "$(cat "$W/$tname.live.f")" \
		"$(head -n "$(wc -l < "$W/$tname.live.f")" "$W/$tname.replay.f")"
	# Written once, with the first drop: every drop here has the same id.
	check_eq "names-$tname-once" 1 "$($OWNERS count "$W/$tname.pcapng")"
	$OWNERS strip "$W/$tname.pcapng" "$W/$tname.old.pcapng"
	"$TCPDROP" -r "$W/$tname.old.pcapng" -s json > "$W/$tname.old" 2> "$W/$tname.oerr"
	$OWNERS fields "$W/$tname.old" > "$W/$tname.old.f"
	check_eq "names-$tname-old-file" "- - - - - - -" "$(sort -u "$W/$tname.old.f")"
	# What the file held besides: the drops themselves, the same in both.
	check_eq "names-$tname-old-drops" "$(wc -l < "$W/$tname.replay.f")" \
		"$(wc -l < "$W/$tname.old.f")"
}
# A kubelet-style pod's drop without a socket (its netns), and one with (its cgroup), replayed.
RINO=$INO2
replay replay-pod "- - - - dns-$ID kube-system $UID2" closed "$CG2$K2" "$NS2" 40031
RINO=$INO1
if [ -n "${CPORT:-}" ]; then
	replay replay-socket "$K1 nginx $CID1 $NGINX" in_cg "$CG2$K1" "$IP" netns exec "$NS1" \
		"$SEGSEND" 127.0.0.1 "$CPORT" 127.0.0.1 8080 S 12346
fi
unset TCPDROP_DOCKER_ROOT TCPDROP_PODMAN_ROOT

# ---- (b) podman: a container of a local image, --network none, drops made inside ------------

mkdir -p "$W/rootfs/bin"
cp /bin/busybox "$W/rootfs/bin/busybox"
for a in sleep sh nc; do
	ln -s busybox "$W/rootfs/bin/$a"
done
tar -C "$W/rootfs" -cf "$W/rootfs.tar" .

# changed NAME TEXT: wait (at most 30 s) until run NAME says its ids changed, to TEXT.
changed() {
	i=0
	while [ $i -lt 300 ] && ! grep -q "its ids changed: .*$2" "$W/$1.err"; do
		kill -0 "$TP" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	grep -q "its ids changed: .*$2" "$W/$1.err" ||
		{ fail "names-$1-changed" "no '$2' in: $(grep -v libbpf "$W/$1.err" | tail -3)"; return 1; }
}

# engine NAME EXEC...: drops inside the container (EXEC runs a command in it) name it and its
# id, by its namespace and under --container (a drop on the host, first, is kept out).
engine() {
	e=$1 cid=$2
	shift 2
	start "$e-netns" --netns-id "$(stat -L -c %i "/proc/$pid/ns/net")" -c 1 &&
		"$@" nc 127.0.0.1 9 < /dev/null > /dev/null 2>&1
	finish "$e-netns" "$(fields_line NO_SOCKET false - "$NAME" "$cid" "$e" - - -)"
	start "$e-container" --container "$NAME" -c 1 &&
		timeout 5 busybox nc 127.0.0.1 9 < /dev/null > /dev/null 2>&1
	"$@" nc 127.0.0.1 9 < /dev/null > /dev/null 2>&1
	finish "$e-container" "$(fields_line NO_SOCKET false - "$NAME" "$cid" "$e" - - -)"
	short=$(echo "$cid" | cut -c1-12)
	start "$e-container-short-id" --container "$short" -c 1 &&
		"$@" nc 127.0.0.1 9 < /dev/null > /dev/null 2>&1
	finish "$e-container-short-id" "$(fields_line NO_SOCKET false - "$NAME" "$cid" "$e" - - -)"
	# Stopped, then started again: a new namespace (its inode may be reused), found by the next
	# look (every 2 s), and the drops inside pass again.
	start "$e-restart" -v --container "$NAME" -c 1 &&
		$STOP > /dev/null 2>&1 && changed "$e-restart" ", 0 network namespaces" &&
		$START > /dev/null 2>&1 && changed "$e-restart" ", 1 network namespaces" &&
		"$@" nc 127.0.0.1 9 < /dev/null > /dev/null 2>&1
	finish "$e-restart" "$(fields_line NO_SOCKET false - "$NAME" "$cid" "$e" - - -)"
}

if timeout 60 $PODMAN import -q "$W/rootfs.tar" "$IMAGE" > "$W/podman.log" 2>&1 &&
	timeout 60 $PODMAN run -d $LIMITS --network none --name "$NAME" "$IMAGE" /bin/sleep 300 \
		> "$W/podman.log" 2>&1; then
	cid=$(tail -1 "$W/podman.log")
	pid=$($PODMAN inspect -f '{{.State.Pid}}' "$NAME")
	STOP="timeout 60 $PODMAN stop -t 0 $NAME" START="timeout 60 $PODMAN start $NAME"
	engine podman "$cid" $PODMAN exec "$NAME"
	# Started again by engine's last step: its namespace is a new one.
	pid=$($PODMAN inspect -f '{{.State.Pid}}' "$NAME")
	RINO=$(stat -L -c %i "/proc/$pid/ns/net")
	replay replay-podman "- $NAME $cid podman - - -" $PODMAN exec "$NAME" nc 127.0.0.1 9
	$PODMAN rm -f -t 0 "$NAME" >/dev/null 2>&1
else
	fail names-podman-run "$(tail -5 "$W/podman.log")"
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
	fail names-dockerd "did not answer: $(tail -5 "$W/dockerd.log")"
elif $DK import "$W/rootfs.tar" "$IMAGE" > "$W/docker.log" 2>&1 &&
	$DK run -d --network none --name "$NAME" "$IMAGE" /bin/sleep 300 > "$W/docker.log" 2>&1
then
	cid=$(tail -1 "$W/docker.log")
	pid=$($DK inspect -f '{{.State.Pid}}' "$NAME")
	export TCPDROP_DOCKER_ROOT=$W/docker
	STOP="$DK stop -t 0 $NAME" START="$DK start $NAME"
	engine docker "$cid" $DK exec "$NAME"
	unset TCPDROP_DOCKER_ROOT
	$DK rm -f "$NAME" >/dev/null 2>&1
	$DK rmi -f "$IMAGE" >/dev/null 2>&1
else
	fail names-docker-run "$(tail -5 "$W/docker.log")"
fi
