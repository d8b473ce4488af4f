#!/usr/bin/env bash
# CPU profile of the published service under the Bench load, one scenario at a time: check, then a record-mode
# track. Run after ./build.sh --target=Bench (it leaves the build, the tools and the data in usage_slices_bench).
#   bench/profile.sh            → artifacts/profile/<scenario>.perf, and the shares printed by assembly and by frame
# perf samples the CPU (cpu-clock, 999 Hz, with call graphs); DOTNET_PerfMapEnabled=1 names the JIT-compiled frames.
# dotnet-trace's CPU sampling on Linux needs the kernel's user_events, which this machine lacks; its thread-time
# samples count waiting threads too, so perf is the CPU profiler here.
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/profile
rm -rf "$out" && mkdir -p "$out"
command -v perf >/dev/null || apt-get install -y -q linux-perf >/dev/null
export BENCH_SCRIPTS=$PWD/bench/scripts
export ASPNETCORE_ENVIRONMENT=Production Auth__SigningKey=$(head -c 48 /dev/urandom | base64 | tr -d '\n') \
  ConnectionStrings__Postgres="Host=localhost;Port=5432;Database=usage_slices_bench;Username=usage_slices;Password=usage_slices" \
  Database__Schema=usage_slices_bench RateLimiting__PermitsPerSecond=0 Logging__LogLevel__Default=Warning \
  DOTNET_EnableWriteXorExecute=0 DOTNET_PerfMapEnabled=1
service=http://127.0.0.1:5200
dotnet artifacts/publish/UsageSlices.Api.dll --urls $service > "$out/service.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -sf $service/health/ready >/dev/null && break; sleep 0.1; done
token=$(cd artifacts/publish && dotnet UsageSlices.Api.dll token --scopes usage:admin --sub bench --hours 2 2>/dev/null | tail -n 1)
# Long enough for tiered compilation to settle: after 30 s the JIT was still a fifth of the CPU, after 105 s under 1%.
env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d60s -s bench/scripts/track.lua $service >/dev/null 2>&1
env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d45s -s bench/scripts/read.lua $service >/dev/null 2>&1
for scenario in check track; do
  script=read.lua; [ $scenario = track ] && script=track.lua
  env TOKEN="$token" ORGS=1000 wrk -t2 -c32 -d25s --latency -s bench/scripts/$script $service > "$out/$scenario.wrk" 2>&1 &
  wrk_pid=$!
  sleep 3
  perf record -F 999 -e cpu-clock -g -p $pid -o "$out/$scenario.perf" -- sleep 15 > "$out/$scenario.record" 2>&1
  wait $wrk_pid
  echo "== $scenario: $(grep '^RESULT' "$out/$scenario.wrk")"
  echo "-- exclusive CPU by assembly (or native library)"
  # perl, not awk: Debian's mawk has no capture groups, and perl-base is always there.
  perf report -i "$out/$scenario.perf" --stdio --no-children --sort dso,symbol -g none 2>/dev/null | perl -ne '
    next unless /^ +([0-9.]+)% +(\[JIT\] tid \d+|\S+) +\[(.)\] +(.*)$/;
    my ($pct, $dso, $kind, $sym) = ($1, $2, $3, $4);
    my $key = $kind eq "k" ? "kernel"
      : $dso =~ /^libcoreclr/ ? "runtime (libcoreclr: GC, type system, stubs)"
      : $dso =~ /^libclrjit/ ? "JIT compiler"
      : $dso =~ /^\[JIT\]/ ? ($sym =~ /\[([A-Za-z][\w.]*)\]/ ? $1 : "JIT code without a name")
      : $dso;
    $share{$key} += $pct;
    END { printf "%6.2f%%  %s\n", $share{$_}, $_ for sort { $share{$b} <=> $share{$a} } keys %share }' | head -20 || true
  echo "-- inclusive, the application's own frames"
  perf report -i "$out/$scenario.perf" --stdio --children --sort symbol -g none 2>/dev/null \
    | grep -E '^ +[0-9.]+% +[0-9.]+% .*\[(UsageSlices.Api|Marten|Npgsql|Wolverine|System.Net.Security)\]' | sed -E 's/ +- +- *$//' | cut -c1-200 | head -25 || true
done
