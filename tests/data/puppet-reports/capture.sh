#!/bin/sh
# Makes the reports of this folder with real Puppet 7 runs (README). Run it in an empty folder, then copy
# <name>/var/state/last_run_report.yaml to <name>.yaml here.
set -u
here=$(pwd)
run() {  # name manifest
    mkdir -p "$here/$1/conf" "$here/$1/var"
    puppet apply --certname node1.example.com --confdir "$here/$1/conf" --vardir "$here/$1/var" --codedir "$here/$1/conf/code" \
        --logdir "$here/$1/var/log" --rundir "$here/$1/var/run" --report --detailed-exitcodes "$2" 2>"$here/$1.err"
    echo "$1 rc=$?"
}
cat > changed.pp <<PP
file { '$here/target': ensure => directory }
file { '$here/target/motd': content => "managed by puppet\n", mode => '0644' }
PP
cat > failed.pp <<PP
file { '$here/missing-folder/motd': content => "never\n" }
exec { 'oci-check-fails': command => '/bin/false' }
file { '$here/target-ok': content => "fine\n" }
PP
run changed changed.pp
run unchanged changed.pp    # the same manifest again: nothing to change
run failed failed.pp
