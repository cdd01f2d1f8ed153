#!/bin/sh
# Written by OCI at install (docs/puppet-runs.md): the node's first Puppet runs. Reports puppet-running, runs
# `puppet agent --test` up to 3 times (3600 s each at most), then reports puppet-success
# (and leaves Puppet's own service to run it from then on) or puppet-failure with the last run's first
# error line. Each run's output goes to /var/log/oci-puppet-run-<N>.log.
set -u
rm -f /var/lib/oci/puppet-first-run
serial=$(cat /etc/oci/system-serial)

report() {  # report STATUS [ERROR]: the error is one line of printable ASCII, so it needs no more JSON escaping
    body="{\"version\": 1, \"serial\": \"$serial\", \"status\": \"$1\""
    if [ -n "${2:-}" ]; then
        body="$body, \"error\": \"$2\""
    fi
    curl --silent --show-error --fail --max-time 30 --retry 10 --retry-delay 15 --retry-all-errors --cacert /etc/ssl/certs/oci-ca-chain.pem \
        --header "Content-Type: application/json" --data-binary "$body}" http://192.168.100.2:8080/api/v1/status > /dev/null
}

first_error() {  # first_error LOG: its first "Error:" line, cut, then escaped for JSON; Facter's own errors
    # (an unreadable /proc entry in a container) say nothing of the run.
    LC_ALL=C grep -a '^Error: ' "$1" | grep -v '^Error: Facter:' | head -n 1 | sed -e 's/^Error: //' \
        | LC_ALL=C tr -cd '\040-\176' | cut -c 1-300 | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'
}

report puppet-running
attempt=1
while :; do
    log=/var/log/oci-puppet-run-$attempt.log
    timeout 3600 puppet agent --test --detailed-exitcodes --http_keepalive_timeout 0 --color false > "$log" 2>&1
    code=$?
    case $code in
        0|2)
            systemctl enable --now puppet || echo "OCI: puppet's service did not start" >> "$log"
            report puppet-success
            exit $? ;;
    esac
    echo "OCI: puppet agent exited with code $code" >> "$log"
    [ "$attempt" -lt 3 ] || break
    attempt=$((attempt + 1))
    sleep 60
done
error=$(first_error "$log")
if [ -z "$error" ]; then
    if [ "$code" -eq 124 ]; then
        error="puppet agent did not finish within 3600 s (run $attempt)"
    else
        error="puppet agent exited with code $code (run $attempt): see $log"
    fi
fi
report puppet-failure "$error"
exit 1
