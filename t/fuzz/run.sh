#!/bin/bash
# t/fuzz/run.sh - run the built libFuzzer targets, FUZZ_JOBS (default 2) at a time, each
# for FUZZ_SECONDS (default 60) on its seed corpus t/fuzz/corpus/<target>/; new inputs
# go to t/fuzz/build/new/<target>/ (the repository's corpus is only read), crash, leak,
# timeout and out-of-memory inputs to t/fuzz/build/crash/<target>/, logs to
# t/fuzz/build/log/<target>.log.
# Prints per target: executions, exec/s, coverage (cov, ft), findings; then, for each
# finding, the sanitizer's summary, the input file and its first bytes. Exit 1 if any
# target found something (or could not run).
# Run from anywhere: t/fuzz/run.sh [target ...]   (make fuzz does)
set -u

cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
out=t/fuzz/build
if [ $# -eq 0 ]; then
    set -- $(cd t/fuzz && ls fuzz_*.c | sed 's/\.c$//')
fi
# UBSan stops at the first report (the objects are also built with
# -fno-sanitize-recover=undefined); LeakSanitizer runs after every input that
# allocated more than it freed (libFuzzer's -detect_leaks, on by default).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

# One target: run it, then write its result line to $out/result/<target>.
run_one() {
    local t=$1 log="$out/log/$1.log" rc execs speed last cov ft found
    rm -rf "$out/crash/$t"
    mkdir -p "$out/new/$t" "$out/crash/$t"
    if [ ! -x "$out/$t" ]; then
        echo "$t ? ? ? ? not built (make fuzz-build)" >"$out/result/$t"
        return
    fi
    # Every target starts from its seeds in the repository (t/fuzz/seeds.py writes them).
    if [ -z "$(ls -A "t/fuzz/corpus/$t" 2>/dev/null)" ]; then
        echo "$t ? ? ? ? no seed corpus in t/fuzz/corpus/$t" >"$out/result/$t"
        return
    fi
    # The scratch dir comes first: libFuzzer writes new inputs to the first corpus dir.
    "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$out/crash/$t/" -print_final_stats=1 \
        "$out/new/$t" "t/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    found=$(find "$out/crash/$t" -type f | wc -l)
    if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
        found="$found (exit $rc)"
    fi
    echo "$t ${execs:-?} ${speed:-?} ${cov:-?} ${ft:-?} $found" >"$out/result/$t"
}

rm -rf "$out/result"
mkdir -p "$out/result" "$out/log"
running=0
for t in "$@"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
    run_one "$t" &
    running=$((running + 1))
done
wait

status=0
printf '%-16s %12s %8s %6s %6s %s\n' target execs exec/s cov ft findings
for t in "$@"; do
    read -r name execs speed cov ft found <"$out/result/$t"
    printf '%-16s %12s %8s %6s %6s %s\n' "$name" "$execs" "$speed" "$cov" "$ft" "$found"
    [ "$found" = 0 ] || status=1
done
for t in "$@"; do
    [ "$(cut -d' ' -f6 "$out/result/$t")" = 0 ] && continue
    echo
    echo "== $t: $out/log/$t.log"
    grep -E '^(INFO: Seed:|==[0-9]+==ERROR|SUMMARY|.*runtime error:|.*ERROR: libFuzzer)' \
        "$out/log/$t.log" | head -10
    for f in "$out/crash/$t"/*; do
        [ -f "$f" ] || continue
        echo "-- input $f ($(wc -c <"$f") bytes; reproduce: $out/$t $f)"
        od -A d -c "$f" | head -16
    done
done
exit $status
