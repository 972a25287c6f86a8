# Sourced by the kernel-* cases: compare snap_info's figures on a store the
# real kernel wrote with what the kernel's status line said (the fixture's
# info file, written inside the VM by tests/vm/fixtures/NAME.guest).
. "$TOP/tests/functions.sh"
[ -x "$BIN/snap_info" ] || ts_skip "$BIN/snap_info not built"

# kernel_fixture NAME IMAGE: decompress, run snap_info, compare the keys.
kernel_fixture() {
	local name=$1 img=$2 info=$DATA/kernel/$1/info json k want got
	[ -f "$info" ] && [ -f "$DATA/kernel/$name/$img.xz" ] ||
		ts_skip "kernel fixture $name not there yet (make it with tests/vm/make-fixtures $name)"
	mkdir -p "$TS_TMP/$name"
	unxz_fixture "$name/$img" || ts_skip "cannot decompress $name/$img.xz"
	json=$("$BIN/snap_info" -f json "$TS_TMP/$name/$img")
	echo "snap_info: ret $?"
	# info keys -> snap_info keys
	for k in exceptions:exceptions allocated_sectors:allocated_sectors \
		 metadata_sectors:metadata_sectors chunk_sectors:chunk_sectors \
		 cow_size_bytes:store_size; do
		# sparse-overflow records the figures the kernel showed after the
		# recovery reactivated it: key_recovered / cow_size_bytes_at_overflow.
		want=$(sed -n -e "s/^${k%%:*}=//p" -e "s/^${k%%:*}_recovered=//p" \
			-e "s/^${k%%:*}_at_overflow=//p" "$info" | head -1)
		[ -n "$want" ] || continue
		got=$(echo "$json" | sed -n "s/^ *\"${k#*:}\": \([0-9]*\),*$/\1/p")
		if [ "$got" = "$want" ]; then
			echo "${k#*:}: same as the kernel"
		else
			echo "${k#*:}: snap_info $got, kernel $want"
		fi
	done
	sum=$(checksum "$TS_TMP/$name/$img")
	want=$(sed -n "s/^origin_size_bytes=//p" "$info" | head -1)
	run "$BIN/snap_check" ${want:+--origin-size "$want"} "$TS_TMP/$name/$img" | sed 's/^snap_check: [^ ]*: //'
	[ "$(checksum "$TS_TMP/$name/$img")" = "$sum" ] || echo "CHANGED: $img"
}
