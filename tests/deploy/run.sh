#!/bin/sh
# Deploy (root): the systemd units checked offline (systemd-analyze verify and security: this
# machine's init is not systemd), and their capability set proven for real: tcpdrop as nobody
# with exactly those capabilities (setpriv) traces a drop; the OCI image (make image, buildah)
# run by podman with only those capabilities traces a drop made on the host; the Kubernetes
# DaemonSet parsed offline (kubectl, yamllint) and its pod template run by podman kube play.
# Every drop is made here, in a network namespace of this run, and traced with --netns-id.
. "$(dirname "$0")/../lib.sh"

sh "$TOP/tests/deploy/deps.sh" || { fail deploy-deps "cannot install the deploy packages"; exit 1; }
missing=""
need_live deploy "podman buildah runc systemd-analyze kubectl yamllint jq setpriv timeout curl \
	nsenter" \
	"$TCPDROP" "$TESTBIN/tcpconn" || exit 1
TCPCONN=$TESTBIN/tcpconn
export CONTAINERS_CONF="$TOP/tests/deploy/containers.conf"

ID=$$
NS=tddeploy-$ID
IMAGE=localhost/tcpdrop-test:$ID
POD=tcpdrop-test-$ID
W=$(mktemp -d "$TMPDIR/tcpdrop-deploy.XXXXXX") || exit 1
chmod 755 "$W"
BG=""
pause_before=$(podman images -q localhost/podman-pause 2>/dev/null)

cleanup() {
	for p in $BG; do
		kill "$p" 2>/dev/null
	done
	for p in "$POD" "$POD-site"; do
		podman pod rm -f "$p" >/dev/null 2>&1
	done
	podman rm -f "$POD-run" >/dev/null 2>&1
	podman rmi -f "$IMAGE" >/dev/null 2>&1
	# The pause image podman builds for kube play's pods, unless it was there before.
	if [ -z "$pause_before" ]; then
		for i in $(podman images -q localhost/podman-pause 2>/dev/null); do
			podman rmi -f "$i" >/dev/null 2>&1
		done
	fi
	"$IP" netns del "$NS" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# One namespace with loopback up: a connect() to its closed port 9 is a NO_SOCKET drop.
if ! { "$IP" netns add "$NS" && "$IP" -n "$NS" link set lo up; } 2>"$W/err"; then
	fail deploy-netns "$(cat "$W/err")"
	exit 1
fi
NSID=$(stat -L -c %i "/run/netns/$NS")
drop() {
	"$TCPCONN" connect "$NS" 127.0.0.1 0 127.0.0.1 9 >/dev/null 2>&1
}

# wait_for FILE PATTERN SEC: until a line of FILE matches (then status 0), at most SEC seconds.
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# ---- systemd units: the installed ones, as a PREFIX install writes them ----------------------

PREFIX=$W/prefix
if ! make -s -C "$TOP" install PREFIX="$PREFIX" > "$W/make.log" 2>&1; then
	fail deploy-units-install "make install PREFIX=...: $(tail -3 "$W/make.log")"
	exit 1
fi
UNITS=$PREFIX/share/tcpdrop/systemd
cp "$UNITS/tcpdrop@.service" "$W/tcpdrop@alert.service"
for u in "$UNITS/tcpdrop-prom.service" "$W/tcpdrop@alert.service"; do
	n=$(basename "$u")
	# verify: its messages are warnings with status 0 too (an unknown key): none is allowed.
	if MANPATH=$PREFIX/share/man systemd-analyze verify "$u" > "$W/verify" 2>&1 &&
		[ ! -s "$W/verify" ]; then
		pass "deploy-verify-$n"
	else
		fail "deploy-verify-$n" "systemd-analyze verify: $(head -5 "$W/verify")"
	fi
	systemd-analyze security --offline=yes "$u" > "$W/security" 2>&1
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$W/security")
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }'; then
		pass "deploy-security-$n: exposure $score (at most 4.0)"
	else
		fail "deploy-security-$n" "exposure [$score], more than 4.0: $(grep '✗' "$W/security" |
			head -20)"
	fi
	check_grep "deploy-syscalls-$n" '^SystemCallFilter=@system-service bpf perf_event_open$' "$u"
done

# The capability sets of the units, as setpriv takes them: "+bpf,+perfmon,+syslog".
caps_of() {
	sed -n 's/^AmbientCapabilities=//p' "$1" | tr ' ' '\n' | sed 's/^CAP_//' |
		tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, -
}
CAPS=$(caps_of "$UNITS/tcpdrop@.service")
# The exporter starts as root with only its bounding set, and --user drops to nobody.
PROMCAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNITS/tcpdrop-prom.service" | tr ' ' '\n' |
	sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, -)
check_eq deploy-unit-exporter-caps "+bpf,+perfmon,+setuid,+setgid" "$PROMCAPS"
check_grep deploy-unit-exporter-metrics '^ExecStart=.* --metrics [0-9]* --user nobody' \
	"$UNITS/tcpdrop-prom.service"
check_eq deploy-unit-bounding-is-ambient "$CAPS" "$(sed -n 's/^CapabilityBoundingSet=//p' \
	"$UNITS/tcpdrop@.service" | tr ' ' '\n' | sed 's/^CAP_//' | tr 'A-Z' 'a-z' |
	sed 's/^/+/' | paste -sd, -)"

# ---- The same privilege, for real: nobody with exactly those capabilities --------------------

# as_nobody CAPS ARGS...: tcpdrop as nobody:nogroup, no groups, CAPS in every set.
as_nobody() {
	c=$1
	shift
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps="-all${c:+,$c}" \
		--ambient-caps="-all${c:+,$c}" --bounding-set="-all${c:+,$c}" "$TCPDROP" "$@"
}

# trace_nobody NAME CAPS ARGS...: start it, make a drop once it runs, wait for it to end.
trace_nobody() {
	name=$1 c=$2
	shift 2
	as_nobody "$c" --netns-id "$NSID" -c 1 -d 20 "$@" > "$W/$name.out" 2> "$W/$name.err" &
	pid=$!
	BG="$BG $pid"
	# The probe is attached when -v says "probe: ..." (earlier -v lines, such as the ring
	# buffers' or the kernel count's, come before the load); a run that fails ends in 10 s.
	wait_for "$W/$name.err" "probe: " 10
	sleep 0.2
	drop
	wait "$pid"
	echo $?
}

rc=$(trace_nobody setpriv "$CAPS" -v)
ROW="- (SYN)  *NO_SOCKET"
if [ "$rc" = 0 ] && grep -q "127.0.0.1:[0-9]* *> 127.0.0.1:9 .*$ROW" "$W/setpriv.out"; then
	pass "deploy-setpriv-trace: nobody with $CAPS traced the drop"
else
	fail deploy-setpriv-trace "status $rc, caps $CAPS: $(cat "$W/setpriv.err" "$W/setpriv.out" |
		head -8)"
fi
# Stacks named, not bare addresses: that is CAP_SYSLOG's part.
check_grep deploy-setpriv-stack-named '^	tcp_v4_rcv+0x' "$W/setpriv.out"
check_nogrep deploy-setpriv-no-root-message 'needs root' "$W/setpriv.err"

# The exporter's unit, its own command line (the port moved to 127.0.0.1 and one of this run):
# root with only the unit's bounding set; --user leaves nobody with no capability, and a
# scrape counts the drop.
MPORT=$((20000 + ID % 10000))
args=$(sed -n 's/^ExecStart=[^ ]* //p' "$UNITS/tcpdrop-prom.service" |
	sed "s/--metrics [0-9]*/--metrics 127.0.0.1:$MPORT/")
# shellcheck disable=SC2086
setpriv --inh-caps=-all --bounding-set="-all,$PROMCAPS" "$TCPDROP" $args -v --netns-id "$NSID" \
	-d 60 > "$W/exporter.out" 2> "$W/exporter.err" &
epid=$!
BG="$BG $epid"
scrape() {
	curl -s -m 5 "http://127.0.0.1:$MPORT/metrics" > "$W/scrape" 2>/dev/null
}
if wait_for "$W/exporter.err" "running as nobody\|tcpdrop: [^r]" 20 && scrape &&
	grep -q '^tcpdrop_build_info{' "$W/scrape"; then
	check_eq deploy-exporter-user "nobody 0000000000000000" \
		"$(ps -o user= -p "$epid") $(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$epid/status")"
	drop
	i=0
	while [ $i -lt 100 ] && scrape &&
		! grep -q '^tcpdrop_drops_total{reason="NO_SOCKET"} 1$' "$W/scrape"; do
		sleep 0.1
		i=$((i + 1))
	done
	if grep -q '^tcpdrop_drops_total{reason="NO_SOCKET"} 1$' "$W/scrape"; then
		pass "deploy-exporter-metrics: the unit's command, as root with $PROMCAPS then nobody, counted the drop"
	else
		fail deploy-exporter-metrics "$(grep -v '^#' "$W/scrape" | head -5)"
	fi
else
	fail deploy-exporter-metrics "$(cat "$W/exporter.err" "$W/scrape" 2>/dev/null | head -8)"
fi
kill "$epid" 2>/dev/null
wait "$epid"
check_eq deploy-exporter-stop "0" "$?"

# node_exporter's textfile way: the prom script as nobody with the capabilities it needs.
rc=$(trace_nobody prom "+bpf,+perfmon" -v --no-stack -s prom -- file=-)
if [ "$rc" = 0 ] && grep -q '^tcpdrop_drops_total{reason="NO_SOCKET",port="9"} 1$' "$W/prom.out"; then
	pass "deploy-setpriv-prom: nobody with +bpf,+perfmon counted the drop"
else
	fail deploy-setpriv-prom "status $rc: $(cat "$W/prom.err" "$W/prom.out" | head -8)"
fi

# ---- The image, and podman running it with the same capabilities ----------------------------

if ! make -s -C "$TOP" image IMAGE="$IMAGE" > "$W/image.log" 2>&1; then
	fail deploy-image "make image: $(tail -5 "$W/image.log")"
	exit 1
fi
layers=$(podman image inspect --format '{{len .RootFS.Layers}}' "$IMAGE" 2>&1)
entry=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$IMAGE" 2>&1)
check_eq "deploy-image: FROM scratch, one layer" "1 [\"/usr/sbin/tcpdrop\"]" "$layers $entry"

# The engine's default seccomp profile, with bpf and perf_event_open for CAP_BPF, CAP_PERFMON.
sh "$TOP/contrib/containers/seccomp.sh" > "$W/tcpdrop-seccomp.json" 2> "$W/err" ||
	fail deploy-seccomp "$(cat "$W/err")"
PODCAPS=$(echo "$CAPS" | tr -d +)
RUN="podman run --name $POD-run --rm --cap-drop all --cap-add $PODCAPS --read-only --network none
	--pid host --security-opt seccomp=$W/tcpdrop-seccomp.json"
v=$(timeout 60 $RUN "$IMAGE" --version 2>&1 | head -1)
check_eq deploy-podman-version "$("$TCPDROP" --version | head -1)" "$v"

timeout 60 $RUN "$IMAGE" -v --netns-id "$NSID" -c 1 -d 20 > "$W/podman.out" 2> "$W/podman.err" &
pid=$!
BG="$BG $pid"
wait_for "$W/podman.err" "probe: \|Error" 30
sleep 0.2
drop
wait "$pid"
rc=$?
if [ "$rc" = 0 ] && grep -q "> 127.0.0.1:9 .*$ROW" "$W/podman.out"; then
	pass "deploy-podman-trace: --cap-add $PODCAPS (not --privileged) traced a drop on the host"
else
	fail deploy-podman-trace "status $rc: $(cat "$W/podman.err" "$W/podman.out" | head -8)"
fi
check_grep deploy-podman-stack-named '^	tcp_v4_rcv+0x' "$W/podman.out"

# ---- The DaemonSet: parsed offline, its pod template run by podman kube play ----------------

K8S=$TOP/contrib/kubernetes/tcpdrop.yaml
if yamllint -s -c "$TOP/contrib/kubernetes/.yamllint" "$K8S" > "$W/yamllint" 2>&1; then
	pass deploy-yamllint
else
	fail deploy-yamllint "$(head -5 "$W/yamllint")"
fi
# The client parses every object without a cluster (label --local), to JSON for what follows.
if kubectl label --local -f "$K8S" tcpdrop-test=yes -o json > "$W/k8s.json" 2> "$W/err"; then
	check_eq deploy-kubectl-kinds "Namespace ConfigMap DaemonSet" \
		"$(jq -r .kind "$W/k8s.json" | paste -sd ' ' -)"
else
	fail deploy-kubectl "kubectl label --local: $(head -3 "$W/err")"
	exit 1
fi
jq 'select(.kind == "DaemonSet")' "$W/k8s.json" > "$W/ds.json"
# k8s_check NAME JQ-EXPR: true in the DaemonSet.
k8s_check() {
	if [ "$(jq -r "$2" "$W/ds.json")" = true ]; then
		pass "deploy-k8s-$1"
	else
		fail "deploy-k8s-$1" "not true in the DaemonSet: $2"
	fi
}
C='.spec.template.spec.containers[0]'
# The units' tracing set, and SETUID, SETGID for --user.
K8SCAPS=$(echo "$PODCAPS,setuid,setgid" | tr 'a-z' 'A-Z' | tr , '\n' | jq -R . | jq -sc .)
k8s_check not-privileged "$C.securityContext.privileged == false and
	$C.securityContext.allowPrivilegeEscalation == false"
k8s_check capabilities "$C.securityContext.capabilities == {drop: [\"ALL\"], add: $K8SCAPS}"
k8s_check read-only-root "$C.securityContext.readOnlyRootFilesystem == true"
k8s_check host-pid ".spec.template.spec.hostPID == true"
k8s_check host-paths-read-only "[.spec.template.spec.volumes[] | select(.hostPath) | .name] as \$h |
	(\$h | length) > 0 and ([$C.volumeMounts[] | select(.name as \$n | \$h | index(\$n)) |
	.readOnly] | all) and ([.spec.template.spec.volumes[].hostPath.path // empty] |
	index(\"/sys/kernel/btf\") != null)"
k8s_check resources "$C.resources.requests.cpu and $C.resources.requests.memory and
	$C.resources.limits.cpu and $C.resources.limits.memory and true"
k8s_check metrics-port ".spec.template.metadata.annotations as \$a | \$a[\"prometheus.io/scrape\"]
	== \"true\" and ($C.ports[] | select(.name == \"metrics\") | .containerPort | tostring) ==
	\$a[\"prometheus.io/port\"]"
k8s_check metrics-user "($C.args | index(\"--metrics\")) != null and
	($C.args | index(\"--user\")) != null and
	$C.args[($C.args | index(\"--metrics\")) + 1] == .spec.template.metadata.annotations[\"prometheus.io/port\"]"
k8s_check node-name "$C.env[] | select(.name == \"NODE_NAME\") | .valueFrom.fieldRef.fieldPath ==
	\"spec.nodeName\""
k8s_check configmap "[.spec.template.spec.volumes[] | select(.configMap.name == \"tcpdrop\")] |
	length == 1"

# kube play: podman 4.3 takes a Pod, not a DaemonSet; the Pod is the template, changed only
# where podman cannot do what Kubernetes does, or where this test must narrow it:
#   - its name; our image tag; a seccomp annotation for the profile above (RuntimeDefault
#     here is containers-common 0.50's, which allows bpf only with CAP_SYS_ADMIN);
#   - no ports (podman maps ports only with a bridge network, which would change the host's
#     network; the test runs with --network none);
#   - NODE_NAME as a value (podman has no spec.nodeName for the downward API);
#   - --netns-id and -c 1 after the args: this run's drop only.
play() {
	name=$1
	shift
	jq -c --arg ns "$NSID" --arg image "$IMAGE" --arg node "$(hostname)" --arg name "$name" \
		--argjson args "$1" '
		select(.kind == "ConfigMap"),
		(select(.kind == "DaemonSet") | .spec.template | {apiVersion: "v1", kind: "Pod",
		metadata: (.metadata + {name: $name, annotations: (.metadata.annotations +
			{"seccomp.security.alpha.kubernetes.io/pod": "localhost/tcpdrop-seccomp.json"})}),
		spec: (.spec | .containers[0] |= (.image = $image | del(.ports) |
			.args = (if $args == null then .args else $args end) + ["--netns-id", $ns, "-c", "1"] |
			.env |= map(if .name == "NODE_NAME" then {name, value: $node} else . end)))})
		' "$W/k8s.json" | awk '{ print "---"; print }' > "$W/$name.yaml"
	(cd "$W" && timeout 60 podman kube play --build=false --network none \
		--seccomp-profile-root "$W" "$W/$name.yaml") > "$W/$name.play" 2>&1
}

# logs_wait CONTAINER PATTERN SEC
logs_wait() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		podman logs "$1" > "$W/logs" 2>&1
		grep -q -- "$2" "$W/logs" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

if play "$POD" null; then
	pass deploy-kube-play
	# Its metrics port, inside the pod's network namespace, once tcpdrop runs as nobody.
	i=0
	kport=$(jq -r "select(.kind == \"DaemonSet\") | $C.ports[0].containerPort" "$W/k8s.json")
	while [ $i -lt 200 ]; do
		kpid=$(podman inspect --format '{{.State.Pid}}' "$POD-tcpdrop" 2>/dev/null)
		[ -n "$kpid" ] && [ "$kpid" != 0 ] &&
			nsenter -t "$kpid" -n curl -s -m 2 "http://127.0.0.1:$kport/metrics" \
				> "$W/kscrape" 2>/dev/null && grep -q '^tcpdrop_build_info{' "$W/kscrape" &&
			break
		sleep 0.1
		i=$((i + 1))
	done
	if grep -q '^tcpdrop_build_info{' "$W/kscrape" 2>/dev/null; then
		check_eq deploy-kube-metrics "nobody" "$(ps -o user= -p "$kpid")"
	else
		fail deploy-kube-metrics "no /metrics on port $kport: $(podman logs "$POD-tcpdrop" 2>&1 |
			head -5)"
	fi
	# -s json prints nothing before the first drop: give the probe the time to attach.
	sleep 2
	drop
	if logs_wait "$POD-tcpdrop" "\"dport\":9,.*\"reason\":\"NO_SOCKET\".*\"netns\":$NSID" 20; then
		pass "deploy-kube-trace: the DaemonSet's pod (-s json) logged the drop"
	else
		fail deploy-kube-trace "$(head -5 "$W/logs")"
	fi
	state=$(podman inspect --format '{{.HostConfig.Privileged}} {{.EffectiveCaps}}' \
		"$POD-tcpdrop" 2>&1)
	check_eq deploy-kube-capabilities "false [$(echo "$K8SCAPS" | tr -d '[]"' | tr , '\n' |
		sort | sed 's/^/CAP_/' | paste -sd ' ' -)]" "$state"
else
	fail deploy-kube-play "$(cat "$W/$POD.play")"
fi
podman pod rm -f "$POD" >/dev/null 2>&1

# The ConfigMap's script, as the README says to run it: the node's name from the downward API.
if play "$POD-site" '["-s", "/etc/tcpdrop/site.lua"]'; then
	sleep 2
	drop
	if logs_wait "$POD-site-tcpdrop" "^$(hostname) .* 127.0.0.1:[0-9]* > 127.0.0.1:9 NO_SOCKET" 20
	then
		pass "deploy-kube-configmap: site.lua from the ConfigMap, NODE_NAME set"
	else
		fail deploy-kube-configmap "$(head -5 "$W/logs")"
	fi
else
	fail deploy-kube-configmap "$(cat "$W/$POD-site.play")"
fi
