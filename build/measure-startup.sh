#!/usr/bin/env bash
# Run ./build.sh --target=Publish first; needs the local database of ./build.sh --target=EnsureDatabase.
# Measures how long the published service takes from exec to /health/ready = 200.
cd "$(dirname "$0")/../artifacts/publish"
export ASPNETCORE_ENVIRONMENT=Production Auth__SigningKey=$(head -c 48 /dev/urandom | base64) ConnectionStrings__Postgres="${ConnectionStrings__Postgres:-Host=localhost;Database=usage_slices;Username=usage_slices;Password=usage_slices}" ASPNETCORE_URLS=http://127.0.0.1:3100
start=$(date +%s.%N)
dotnet UsageSlices.Api.dll > /tmp/ready-run.log 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:3100/health/ready >/dev/null; do sleep 0.02; done
ready=$(date +%s.%N)
rss=$(ps -o rss= -p $pid)
kill $pid; wait $pid 2>/dev/null
echo "ready after $(awk -v a="$ready" -v b="$start" 'BEGIN { printf "%.2f", a - b }') s; RSS ${rss} KiB"
