# Sourced by the snap_dump and snap_restore cases.
. "$TOP/tests/functions.sh"
MK=$HELPERS/mkstore
DUMP=$BIN/snap_dump
RESTORE=$BIN/snap_restore

# perl_store OUT CHUNK_SECTORS SIZE VALID < "old new" lines: write a store
# with a writer independent of libsnapcow's (header, areas at chunk
# 1 + (per_area + 1) * a, zero padding, a zeroed area after a full one).
perl_store() {
	perl -e '
	my ($out, $cs, $size, $valid) = @ARGV;
	my $cb = $cs * 512; my $per = $cb / 16; my @r;
	open(my $f, "+>", $out) or die "$out: $!"; binmode $f;
	truncate($f, $size) or die;
	while (<STDIN>) { my ($o, $n) = split; push @r, pack("Q<Q<", $o, $n); }
	for (my $a = 0; ; $a++) {
		my @c = splice(@r, 0, $per);
		my $buf = join("", @c); $buf .= "\0" x ($cb - length $buf);
		seek($f, (1 + ($per + 1) * $a) * $cb, 0); print $f $buf;
		last if @c < $per;
	}
	seek($f, 0, 0); print $f pack("VVVV", 0x70416e53, $valid, 1, $cs);
	close $f or die;' "$@"
}

# shuffled_records N PER_AREA SEED: N records whose new chunks are the
# kernel's first N data chunks in a shuffled order; old chunk = 3 * i + 1.
shuffled_records() {
	perl -e '
	my ($n, $per, $s) = @ARGV; my @new; my $c = 2;
	for (1 .. $n) { push @new, $c; $c++; $c++ if $c % ($per + 1) == 1; }
	for (my $i = $n - 1; $i > 0; $i--) {
		$s = ($s * 1103515245 + 12345) % 2147483648;
		my $j = $s % ($i + 1); @new[$i, $j] = @new[$j, $i];
	}
	print 3 * $_ + 1, " $new[$_]\n" for 0 .. $n - 1;' "$@"
}

# meta_cmp A B CHUNK_SECTORS AREAS: compare the header chunk and the AREAS
# area chunks of stores A and B byte for byte (positions computed here).
meta_cmp() {
	local a=$1 b=$2 cb=$(($3 * 512)) areas=$4 per i chunk n=0 bad=0
	per=$((cb / 16))
	for ((i = -1; i < areas; i++)); do
		chunk=$((i < 0 ? 0 : 1 + (per + 1) * i))
		n=$((n + 1))
		cmp -s -i $((chunk * cb)):$((chunk * cb)) -n $cb "$a" "$b" ||
			{ echo "metadata chunk $chunk differs"; bad=1; }
	done
	echo "metadata chunks compared: $n ($( [ $bad = 0 ] && echo identical || echo DIFFERENT))"
}

# areas_in DUMP: number of <area> elements of an XML dump.
areas_in() {
	grep -c '<area ' "$1"
}

# perl_table STORE: walk the table the kernel's way, independently of
# libsnapcow; print "old new" per record.
perl_table() {
	perl -e '
	open(my $f, "<", $ARGV[0]) or die; binmode $f;
	read($f, my $h, 16); my ($m, $v, $ver, $cs) = unpack("VVVV", $h);
	my $cb = $cs * 512; my $per = $cb / 16;
	AREA: for (my $a = 0; ; $a++) {
		seek($f, (1 + ($per + 1) * $a) * $cb, 0);
		read($f, my $buf, $cb) == $cb or die "area $a unreadable\n";
		for my $i (0 .. $per - 1) {
			my ($o, $n) = unpack("Q<Q<", substr($buf, 16 * $i, 16));
			last AREA if $n == 0;
			print "$o $n\n";
		}
	}' "$1"
}

# dump_records XML: the "old new" pairs of an XML dump, in order.
dump_records() {
	sed -n 's/.*<exception old="\([0-9]*\)" new="\([0-9]*\)"\/>.*/\1 \2/p' "$1"
}
