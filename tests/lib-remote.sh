# lib-remote.sh — real git servers on 127.0.0.1 for the poller's tests: `git daemon` and `git http-backend` behind
# tests/git-http-server.py (basic auth, a token as password). Sourced after test-lib.sh. Servers are stopped when
# the script exits (stop_servers runs from an EXIT trap).

SERVER_PIDS=

stop_servers () {
	for _pid in $SERVER_PIDS
	do
		kill "$_pid" 2>/dev/null
	done
	SERVER_PIDS=
}
test_at_exit stop_servers

# free_port: an ephemeral port the kernel just handed out (closed again at once).
free_port () {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port PORT: until something listens on 127.0.0.1:PORT (10 s at most).
wait_for_port () {
	python3 - "$1" <<-'EOF'
	import socket, sys, time
	deadline = time.time() + 10
	while time.time() < deadline:
	    try:
	        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()
	        sys.exit(0)
	    except OSError:
	        time.sleep(0.05)
	sys.exit(1)
	EOF
}

# start_git_daemon BASE_PATH: serves BASE_PATH on git://127.0.0.1:$DAEMON_PORT/, logging (--verbose) to
# $TRASH/daemon.log; upload-pack's packet trace (the "want" lines of real fetches) goes to $TRASH/daemon-packet.log.
start_git_daemon () {
	for _try in 1 2 3
	do
		DAEMON_PORT=$(free_port) || return 1
		GIT_TRACE_PACKET=$TRASH/daemon-packet.log \
		git daemon --export-all --base-path="$1" --reuseaddr --listen=127.0.0.1 --port="$DAEMON_PORT" \
			--verbose --informative-errors "$1" 2>>"$TRASH/daemon.log" &
		_pid=$!
		SERVER_PIDS="$SERVER_PIDS $_pid"
		if wait_for_port "$DAEMON_PORT" && kill -0 "$_pid" 2>/dev/null
		then
			DAEMON_URL=git://127.0.0.1:$DAEMON_PORT
			return 0
		fi
	done
	echo >&2 "git daemon did not start"
	return 1
}

# start_http_git ROOT TOKEN_FILE: git http-backend for every repository under ROOT on $HTTP_URL, basic auth with
# the token; requests logged to $TRASH/http.log as "METHOD PATH STATUS USER".
start_http_git () {
	rm -f "$TRASH/http.port"
	python3 "$TEST_SRCDIR/git-http-server.py" --root "$1" --token-file "$2" --log "$TRASH/http.log" \
		--port-file "$TRASH/http.port" 2>>"$TRASH/http.err" &
	SERVER_PIDS="$SERVER_PIDS $!"
	for _i in $(test_seq 100)
	do
		test -s "$TRASH/http.port" && break
		sleep 0.1
	done
	HTTP_PORT=$(cat "$TRASH/http.port") &&
	HTTP_URL=http://127.0.0.1:$HTTP_PORT
}

# start_stalling_http: a server that accepts connections and never answers, on $STALL_URL.
start_stalling_http () {
	rm -f "$TRASH/stall.port"
	python3 "$TEST_SRCDIR/git-http-server.py" --root "$TRASH" --stall --log "$TRASH/stall.log" \
		--port-file "$TRASH/stall.port" 2>>"$TRASH/http.err" &
	SERVER_PIDS="$SERVER_PIDS $!"
	for _i in $(test_seq 100)
	do
		test -s "$TRASH/stall.port" && break
		sleep 0.1
	done
	STALL_URL=http://127.0.0.1:$(cat "$TRASH/stall.port")
}

# write_secret FILE VALUE: a private (mode 600) secret file.
write_secret () {
	(umask 077 && printf '%s\n' "$2" >"$1")
}

# push_migration WORKDIR PATH [CONTENT]: commits PATH in WORKDIR and pushes main to its origin.
push_migration () {
	(
		cd "$1" &&
		add_file "$2" "${3-CREATE TABLE t_$(basename "$2" .sql) (id int);}" &&
		git commit -q -m "Add $2" &&
		git push -q origin HEAD:main 2>/dev/null
	)
}

# issue_paths [ARGS...]: one line per migration file of every issue, "REPOSITORY PATH", in queue order.
issue_paths () {
	issues_json "$@" >"$TRASH/.issues.json" &&
	json_query '["%s %s" % (i["repository"], f["path"]) for i in d for f in i["files"]]' "$TRASH/.issues.json"
}
