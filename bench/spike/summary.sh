#!/usr/bin/env bash
# Summarise a raw.tsv written by bench/spike/run.sh:
#   bash bench/spike/summary.sh RAW.tsv
# Per target and path: medians over the "clean" runs (other processes used at
# most MAX_OTHER % of a core and steal was at most MAX_STEAL %), or over all
# runs when none was clean; the minimum CPU per request over all runs (noise
# on a shared VM only ever adds CPU time, so the minimum is the least-disturbed
# figure); ratios to nginx for each.
set -euo pipefail
awk -F'\t' -v maxo="${MAX_OTHER:-15}" -v maxs="${MAX_STEAL:-25}" '
function median(s,   a, n, i, j, t) {
	n = split(s, a, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
NR == 1 { next }
{
	k = $2 SUBSEP $3
	if (!(($2) in seenT)) { seenT[$2] = 1; T[++nt] = $2 }
	if (!(($3) in seenP)) { seenP[$3] = 1; P[++np] = $3 }
	all[k]++
	if (!(k in mincpu) || $7 + 0 < mincpu[k]) mincpu[k] = $7 + 0
	clean = ($9 + 0 <= maxo && $10 + 0 <= maxs)
	if (clean) { nclean[k]++; crps[k] = crps[k] " " $4; ccpu[k] = ccpu[k] " " $7; cutil[k] = cutil[k] " " $8 + 0 }
	arps[k] = arps[k] " " $4; acpu[k] = acpu[k] " " $7; autil[k] = autil[k] " " $8 + 0
}
function pick(k, c, a) { return nclean[k] ? median(c) : median(a) }
END {
	printf "Per target and path: medians over clean runs (other processes <= %s%% of a core, steal <= %s%%),\n", maxo, maxs
	printf "or over all runs when none was clean; min = lowest CPU/request of all runs. Ratios are to nginx.\n\n"
	printf "| target | path | req/s | req/s vs nginx | CPU us/req | CPU/req vs nginx | min CPU us/req | min vs nginx | core busy | clean runs |\n"
	printf "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	for (j = 1; j <= np; j++) {
		n = "nginx" SUBSEP P[j]
		nr = pick(n, crps[n], arps[n]); nc = pick(n, ccpu[n], acpu[n]); nm = mincpu[n]
		for (i = 1; i <= nt; i++) {
			k = T[i] SUBSEP P[j]
			if (!all[k]) continue
			r = pick(k, crps[k], arps[k]); c = pick(k, ccpu[k], acpu[k]); u = pick(k, cutil[k], autil[k])
			printf "| %s | %s | %.0f | %.2fx | %.1f | %.2fx | %.1f | %.2fx | %.0f%% | %d/%d |\n", T[i], P[j], r, (nr ? r / nr : 0), c, (nc ? c / nc : 0), mincpu[k], (nm ? mincpu[k] / nm : 0), u, nclean[k], all[k]
		}
	}
}' "$1"
