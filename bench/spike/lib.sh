# Shared helpers for bench/spike/run.sh and bench/spike/attacks.sh (sourced).
# Everything started here is recorded in PIDS and killed by PID on exit.

PIDS=()
USED_PORTS=" "

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	sleep 0.3
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	PIDS=()
}

# ensure_tools installs wrk and nginx-light from Debian if missing.
ensure_tools() {
	if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
		echo "installing wrk nginx-light ..." >&2
		timeout 300 apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq wrk nginx-light >/dev/null
	fi
	command -v taskset >/dev/null || { echo "taskset (util-linux) missing" >&2; exit 1; }
}

# build_all builds the spike binaries into $BIN.
build_all() {
	mkdir -p "$BIN"
	local t
	for t in upstream nethttp fasthttp codec rawattack; do
		timeout 300 go build -o "$BIN/$t" "./bench/spike/$t"
	done
}

# free_port prints a random TCP port on 127.0.0.1 that no socket uses, below
# the kernel's ephemeral range (so outgoing connections cannot take it).
free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	[ "$lo" -gt 11000 ] || lo=32768
	while :; do
		p=$((10000 + RANDOM % (lo - 10000)))
		[[ $USED_PORTS == *" $p "* ]] && continue
		if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
			USED_PORTS+="$p "
			echo "$p"
			return
		fi
	done
}

# wait_port PORT: wait up to 5 s for a listener.
wait_port() {
	local i
	for i in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "port $1 never opened" >&2
	return 1
}

# start NAME CORE cmd...: start a background process pinned to CORE at nice
# $NICE (default -20, so that other work on a shared machine disturbs the
# measurement less), record its PID in PID_<NAME>. nice and taskset exec, so
# the PID is the program's own.
start() {
	local name=$1 core=$2
	shift 2
	nice -n "${NICE:--20}" taskset -c "$core" "$@" >"$WORK/$name.log" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	printf -v "PID_$name" '%s' "$pid"
}

# nginx_conf DIR LISTEN_PORT UPSTREAM_PORT: write a keep-alive reverse proxy config.
nginx_conf() {
	local dir=$1
	mkdir -p "$dir/tmp"
	cat >"$dir/nginx.conf" <<NGX
worker_processes 1;
user root;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 1000000;
    upstream u {
        server 127.0.0.1:$3;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$2;
        location / {
            proxy_pass http://u;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$remote_addr;
        }
    }
}
NGX
}

# cpu_ticks PID: utime+stime of PID and its direct children (nginx workers), in clock ticks.
cpu_ticks() {
	local total=0 p f kids
	kids=$(cat /proc/"$1"/task/*/children 2>/dev/null || true)
	for p in "$1" $kids; do
		f=$(cat /proc/"$p"/stat 2>/dev/null) || continue
		f=${f##*) } # drop "pid (comm) " — comm may contain spaces
		set -- $f
		total=$((total + ${12} + ${13})) # fields 14,15 of stat = 12,13 after comm
	done
	echo "$total"
}
