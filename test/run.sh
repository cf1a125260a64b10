#!/bin/sh
# Runs test binaries and test scripts, and prints "N passed, N failed".
# Each one prints lines "pass: X", "fail: X" or "skip: X"; a program that
# exits non-zero without printing a failure counts as one failure.

passed=0
failed=0
skipped=0
failures=""
out=${TMPDIR:-/tmp}/jetest.$$
for t in "$@"; do
	case $t in
	*.sh) sh "$t" > "$out" 2> "$out.err" ;;
	*) "$t" > "$out" 2> "$out.err" ;;
	esac
	rc=$?
	p=$(grep -c '^pass: ' "$out")
	f=$(grep -c '^fail: ' "$out")
	s=$(grep -c '^skip: ' "$out")
	cat "$out"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "fail: $t (exit status $rc)"
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		failures="$failures $t"
		echo "---- stderr of $t:"
		tail -n 40 "$out.err"
		echo "----"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done
rm -f "$out" "$out.err"
[ -n "$failures" ] && echo "failing:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
