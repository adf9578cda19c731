# lib-provider.sh — helpers for the provider tests (t06NN): the fake provider server (tests/fake-provider.py) and
# its control API, a configuration whose repository "hr" names itself at one of the six providers, tokens.
# Sourced after test-lib.sh and lib-delivery.sh (the fake Bytebase server).

FP_PID=
FP_URL=

# start_fake_provider: starts tests/fake-provider.py (stops a running one first).
start_fake_provider () {
	stop_fake_provider
	rm -f "$TRASH_DIRECTORY/fp.port"
	python3 "$TEST_SRCDIR/fake-provider.py" --port-file "$TRASH_DIRECTORY/fp.port" \
		--log "$TRASH_DIRECTORY/fp.log" >>"$TRASH_DIRECTORY/fp.stderr" 2>&1 &
	FP_PID=$!
	_i=0
	while ! test -s "$TRASH_DIRECTORY/fp.port"
	do
		_i=$((_i + 1))
		if test $_i -gt 200
		then
			echo >&2 "fake-provider did not start"
			cat >&2 "$TRASH_DIRECTORY/fp.stderr"
			return 1
		fi
		sleep 0.05
	done
	FP_URL=http://127.0.0.1:$(cat "$TRASH_DIRECTORY/fp.port")
}

stop_fake_provider () {
	if test -n "$FP_PID"
	then
		kill "$FP_PID" 2>/dev/null
		wait "$FP_PID" 2>/dev/null
		FP_PID=
	fi
	return 0
}

test_at_exit 'stop_fake; stop_fake_provider'

# fp METHOD PATH [JSON]: a control call (/__fake/...) to the fake provider, the reply on stdout.
fp () {
	curl -sS -f -X "$1" -H 'Content-Type: application/json' ${3+--data "$3"} "$FP_URL$2"
}

# The six flavours: provider key of the fake, provider setting, clone url, api_url suffix, repository id, token.
# prov_set FLAVOUR: sets P_KIND P_PROVIDER P_URL P_API P_REPO P_TOKEN P_SECRET (what the fake sees).
prov_set () {
	case "$1" in
	github)
		P_KIND=github P_PROVIDER=github P_URL=https://github.com/acme/hr.git P_API=/github P_REPO=acme/hr
		P_TOKEN=ghp_T0kenGitHub0123456789 P_SECRET=$P_TOKEN ;;
	ghes)
		P_KIND=github P_PROVIDER=github P_URL=git@ghe.example.com:acme/hr.git P_API=/ghes/api/v3 P_REPO=acme/hr
		P_TOKEN=ghp_T0kenGHES0123456789 P_SECRET=$P_TOKEN ;;
	gitlab)
		P_KIND=gitlab P_PROVIDER=gitlab P_URL=https://gitlab.example.com/group/sub/hr.git P_API=/gitlab/api/v4
		P_REPO=group/sub/hr P_TOKEN=glpat-T0kenGitLab0123456789 P_SECRET=$P_TOKEN ;;
	bitbucket)
		P_KIND=bitbucket P_PROVIDER=bitbucket P_URL=git@bitbucket.org:ws/hr.git P_API=/bitbucket/2.0 P_REPO=ws/hr
		P_TOKEN=bbbot:ATBBT0kenBitbucket0123 P_SECRET=$P_TOKEN ;;
	azure)
		P_KIND=azure P_PROVIDER=azure P_URL='https://acme@dev.azure.com/acme/Data%20Team/_git/hr'
		P_API=/azure/acme P_REPO='acme/Data Team/hr' P_TOKEN=azpatT0kenAzure0123456789 P_SECRET=$P_TOKEN ;;
	gitea)
		P_KIND=gitea P_PROVIDER=gitea P_URL=ssh://git@gitea.example.com:2222/acme/hr.git P_API=/gitea/api/v1
		P_REPO=acme/hr P_TOKEN=giteaT0ken0123456789abcdef P_SECRET=$P_TOKEN ;;
	*)
		echo >&2 "unknown flavour $1"; return 1 ;;
	esac
}

FLAVOURS="github ghes gitlab bitbucket azure gitea"

# fp_token [RIGHTS_JSON] [EXTRA_JSON_MEMBERS]: registers $P_SECRET for user bbbot with RIGHTS (default read+comment).
fp_token () {
	fp POST /__fake/tokens "{\"provider\": \"$P_KIND\", \"token\": \"$P_SECRET\", \"user\": \"bbbot\",
		\"rights\": ${1:-[\"read\", \"comment\"]}${2:+, $2}}" >/dev/null
}

# fp_pr NUMBER STATE BASE MERGE_SHA COMMITS_JSON [EXTRA]: a pull request in the fake's repository $P_REPO.
fp_pr () {
	fp POST /__fake/prs "{\"provider\": \"$P_KIND\", \"repo\": \"$P_REPO\", \"number\": $1, \"state\": \"$2\",
		\"base\": \"$3\", \"merge_commit_sha\": ${4:-null}, \"commits\": $5${6:+, $6}}" >/dev/null
}

# write_token: the token file (mode 600).
write_token () {
	(umask 077 && printf '%s\n' "${1-$P_TOKEN}" >"$TRASH_DIRECTORY/provider-token")
}

# write_provider_config [REPO SETTINGS...]: Bytebase (fake, v2) and repository hr at $TRASH/hr.git (hook installed,
# deliver none) named at the provider of prov_set by url, with api_url at the fake provider and the token file.
write_provider_config () {
	write_key &&
	write_token &&
	write_config <<-EOF
	bytebase = {
	  url = "$FAKE_URL";
	  service_account = "$FAKE_ACCOUNT";
	  service_key_file = "$TRASH_DIRECTORY/service-key";
	  timeout = ${DELIVERY_TIMEOUT:-5};
	};
	hook = { deliver = "none"; };
	repositories = (
	  { name = "hr"; path = "$TRASH_DIRECTORY/hr.git"; branch = "main"; base_directory = "bytebase";
	    project = "hr"; url = "$P_URL"; provider = "$P_PROVIDER"; token_file = "$TRASH_DIRECTORY/provider-token";
	    api_url = "$FP_URL$P_API"; $* }
	);
	EOF
}

# commit_sha [REV]: the full id of REV (default HEAD) in the work clone.
commit_sha () {
	git -C "$TRASH_DIRECTORY/hr" rev-parse "${1:-HEAD}"
}

# fp_comments FILE: every comment the fake provider holds, as JSON.
fp_comments () {
	fp GET /__fake/comments >"$1"
}
