#!/usr/bin/env bash
# A private Docker engine for dockopt's end-to-end tests and `dockopt verify`.
#
#   bash scripts/engine.sh install   # apt-get install docker.io debootstrap busybox-static (idempotent)
#   bash scripts/engine.sh up        # start a private dockerd, write $DOCKOPT_ENGINE_DIR/env
#   bash scripts/engine.sh images    # import busybox:latest, debian:bookworm{,-slim} & aliases (cached)
#   bash scripts/engine.sh status    # exit 0 when the daemon answers, 3 when it does not
#   bash scripts/engine.sh down      # stop it (by its pid file), kill leftovers, unmount everything
#   bash scripts/engine.sh purge     # down, then delete the whole engine dir (images, cache)
#   bash scripts/engine.sh env       # print the env file (DOCKER_HOST, DOCKOPT_DOCKER_CLI)
#
# Everything lives under ${DOCKOPT_ENGINE_DIR:-/tmp/dockopt-engine}: data-root, exec-root, socket,
# pid file, log, the rootfs tarball cache and timings.log. Nothing touches a system dockerd: the
# daemon is found only through our own pid file / --pidfile argument, containers run in our own
# cgroup parent and containerd namespace.
#
# Why these daemon flags: the engine must leave the host's network alone (no iptables/NAT
# rules, no docker0 bridge), hence --iptables=false --ip-masq=false --bridge=none; containers
# and builds therefore use `--network host` to reach Debian's mirror (the only network there is).
#
# Why two clients: Debian's docker.io ships /usr/bin/docker 20.10, which drives both the legacy
# builder and BuildKit (DOCKER_BUILDKIT=1) against this 20.10 daemon. A newer docker client that
# may sit earlier on PATH (/usr/local/bin/docker) has no buildx plugin, so it refuses BuildKit
# builds. The env file therefore names Debian's client as DOCKOPT_DOCKER_CLI.
set -euo pipefail
# Command substitutions keep errexit too (bash >= 4.4), so a failing helper inside $(...) stops us.
shopt -s inherit_errexit

ENGINE_DIR="${DOCKOPT_ENGINE_DIR:-/tmp/dockopt-engine}"
# The recipe version is part of the cached tarball names: bump it when the rootfs recipe changes so
# stale tarballs are not reused.
RECIPE=1
SUITE=bookworm
DEB_PACKAGES=(docker.io debootstrap busybox-static)
DEFAULT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'engine.sh: %s\n' "$*" >&2; }
die() { printf 'engine.sh: error: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# timed NAME CMD... : run CMD, report and record its wall time (timings feed dockopt's estimates).
# CMD runs in a subshell with its own `set -e`: calling it as `"$@" || rc=$?` would silently turn
# errexit off for the whole function tree below it, so failures would no longer stop a step.
timed() {
  local name=$1; shift
  local t0 t1 rc
  t0=$(now_ms)
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  t1=$(now_ms)
  local ms=$((t1 - t0))
  local secs
  secs=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  log "$name took ${secs}s"
  if [ -d "$ENGINE_DIR" ]; then
    printf '%s\t%s\t%ss\trc=%d\n' "$(date -u +%FT%TZ)" "$name" "$secs" "$rc" >>"$ENGINE_DIR/timings.log"
  fi
  return "$rc"
}

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (dockerd, debootstrap and mounts need it)"; }

resolve_dirs() {
  case "$ENGINE_DIR" in
    /*) ;;
    *) ENGINE_DIR="$(pwd)/$ENGINE_DIR" ;;
  esac
  # mountinfo escapes whitespace and unix sockets have a 108-byte path limit: refuse early rather
  # than fail obscurely inside dockerd/containerd.
  case "$ENGINE_DIR" in
    *[[:space:]]*) die "DOCKOPT_ENGINE_DIR must not contain whitespace: '$ENGINE_DIR'" ;;
  esac
  ENGINE_DIR="${ENGINE_DIR%/}"
  DATA_ROOT="$ENGINE_DIR/data"
  EXEC_ROOT="$ENGINE_DIR/exec"
  PIDFILE="$ENGINE_DIR/dockerd.pid"
  SOCK="$ENGINE_DIR/docker.sock"
  DAEMON_LOG="$ENGINE_DIR/dockerd.log"
  ENV_FILE="$ENGINE_DIR/env"
  CACHE="$ENGINE_DIR/cache"
  STATE="$ENGINE_DIR/state"
  if [ ${#EXEC_ROOT} -gt 60 ]; then
    die "DOCKOPT_ENGINE_DIR is too long for containerd's socket paths: '$ENGINE_DIR'"
  fi
  # A short per-engine-dir id keeps cgroups and containerd namespaces of two engines apart.
  ENGINE_ID="dockopt-$(printf '%s' "$ENGINE_DIR" | sha256sum | cut -c1-10)"
}

# Debian's client, not whatever `docker` comes first on PATH (see the header).
debian_cli() {
  local p
  p="$(dpkg -L docker.io 2>/dev/null | grep -E '^/usr/bin/docker$' | head -n1 || true)"
  [ -n "$p" ] && [ -x "$p" ] || die "Debian's docker client not found: run 'bash scripts/engine.sh install'"
  printf '%s\n' "$p"
}

dockerd_bin() {
  local p
  p="$(dpkg -L docker.io 2>/dev/null | grep -E '/dockerd$' | head -n1 || true)"
  [ -n "$p" ] && [ -x "$p" ] || die "dockerd not found: run 'bash scripts/engine.sh install'"
  printf '%s\n' "$p"
}

dk() { "$CLI" --host "unix://$SOCK" "$@"; }

# ---------------------------------------------------------------------------------------- install

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

cmd_install() {
  need_root
  local missing=() p
  for p in "${DEB_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    log "install: ${DEB_PACKAGES[*]} already installed"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  timed "apt-get update" apt-get update -q >/dev/null
  # --no-install-recommends: the recommends (apparmor, git, needrestart, ...) are not needed
  # for a private daemon and needrestart would try to restart services.
  timed "apt-get install ${missing[*]}" \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # The package enables docker.service/socket; policy-rc.d blocks their start here, and we never
  # want a system daemon competing for /run/containerd or /var/lib/docker anyway.
  log "install: done (client $(debian_cli), daemon $(dockerd_bin))"
}

# ------------------------------------------------------------------------------- process handling

# PIDs of processes whose argv contains every given word (exact argv elements).
pids_with_args() {
  local d pid
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ -r "$d/cmdline" ] || continue
    local args=()
    # 2>/dev/null first: the process may vanish between the glob and the read.
    mapfile -d '' -t args 2>/dev/null <"$d/cmdline" || continue
    [ ${#args[@]} -gt 0 ] || continue
    local want ok=1
    for want in "$@"; do
      local found=0 a
      for a in "${args[@]}"; do
        if [ "$a" = "$want" ]; then found=1; break; fi
      done
      if [ $found -eq 0 ]; then ok=0; break; fi
    done
    [ $ok -eq 1 ] && printf '%s\n' "$pid"
  done
  return 0
}

# Our dockerd: the process named in our pid file if it really is a dockerd started with our
# --pidfile, else any dockerd started with our --pidfile (pid file deleted or stale).
our_dockerd_pids() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid="$(tr -dc '0-9' <"$PIDFILE" || true)"
    if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
      tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$PIDFILE"; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  pids_with_args --pidfile "$PIDFILE"
}

alive() { [ -e "/proc/$1" ] && ! grep -qE '^State:\s+Z' "/proc/$1/status" 2>/dev/null; }

# stop_pids GRACE_SECONDS PID... : TERM, wait, then KILL.
stop_pids() {
  local grace=$1; shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  local i p any
  for ((i = 0; i < grace * 10; i++)); do
    any=0
    for p in "$@"; do alive "$p" && any=1; done
    [ $any -eq 0 ] && return 0
    sleep 0.1
  done
  log "down: pids $* ignored SIGTERM for ${grace}s, sending SIGKILL"
  kill -KILL "$@" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    any=0
    for p in "$@"; do alive "$p" && any=1; done
    [ $any -eq 0 ] && return 0
    sleep 0.1
  done
}

# Directories of our cgroup parent in every hierarchy (v1 controllers and v2). Containers and
# RUN steps are placed under a *relative* cgroup parent, i.e. below dockerd's own cgroup, so they
# stay inside whatever cgroup the caller runs in; find them wherever that is.
our_cgroups() {
  [ -d /sys/fs/cgroup ] || return 0
  find /sys/fs/cgroup -maxdepth 6 -type d -name "$ENGINE_ID" 2>/dev/null || true
}

kill_cgroup_procs() {
  local cg pids=()
  while IFS= read -r cg; do
    [ -n "$cg" ] || continue
    while IFS= read -r p; do [ -n "$p" ] && pids+=("$p"); done < <(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null || true)
  done < <(our_cgroups)
  # cgroup v1 lists the same process once per controller hierarchy.
  if [ ${#pids[@]} -gt 0 ]; then mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -un); fi
  if [ ${#pids[@]} -gt 0 ]; then
    log "down: killing ${#pids[@]} leftover container processes"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 0.2
  fi
  # Empty cgroup dirs are removed bottom-up; failures (still busy) are harmless.
  while IFS= read -r cg; do
    [ -n "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done < <(our_cgroups)
}

our_mounts() {
  # Field 5 of mountinfo is the mount point; deepest first so nested mounts go before parents.
  awk -v root="$ENGINE_DIR" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo |
    awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

unmount_all() {
  local m left
  for _ in 1 2 3 4 5; do
    left=0
    while IFS= read -r m; do
      [ -n "$m" ] || continue
      left=1
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(our_mounts)
    [ $left -eq 0 ] && return 0
  done
  if [ -n "$(our_mounts)" ]; then
    log "down: mounts still present under $ENGINE_DIR:"
    our_mounts >&2
    return 1
  fi
}

# ------------------------------------------------------------------------------------------- up

daemon_answers() { timeout 10 "$CLI" --host "unix://$SOCK" info >/dev/null 2>&1; }

write_env() {
  local tmp="$ENV_FILE.tmp.$$"
  {
    echo "# written by scripts/engine.sh up; source with: set -a; . $ENV_FILE; set +a"
    echo "DOCKER_HOST=unix://$SOCK"
    echo "DOCKOPT_DOCKER_CLI=$CLI"
    echo "DOCKOPT_ENGINE_DIR=$ENGINE_DIR"
  } >"$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

start_daemon() {
  local dockerd
  dockerd="$(dockerd_bin)"
  mkdir -p "$DATA_ROOT" "$EXEC_ROOT"
  rm -f "$SOCK"
  # setsid + every fd redirected: the daemon must not hold the caller's terminal or pipes (a CI
  # step reading our stdout would otherwise never see EOF).
  setsid "$dockerd" \
    --storage-driver overlay2 \
    --iptables=false --ip-masq=false --bridge=none \
    --data-root "$DATA_ROOT" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$PIDFILE" \
    --host "unix://$SOCK" \
    --cgroup-parent "$ENGINE_ID" \
    --containerd-namespace "$ENGINE_ID" \
    --containerd-plugins-namespace "$ENGINE_ID-plugins" \
    >>"$DAEMON_LOG" 2>&1 </dev/null &
  local pid=$!
  disown "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 600; i++)); do
    if daemon_answers; then return 0; fi
    if ! alive "$pid"; then
      log "dockerd exited during start; last lines of $DAEMON_LOG:"
      tail -n 25 "$DAEMON_LOG" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  log "dockerd did not answer within 60s; last lines of $DAEMON_LOG:"
  tail -n 25 "$DAEMON_LOG" >&2 || true
  return 1
}

cmd_up() {
  need_root
  mkdir -p "$ENGINE_DIR"
  local running
  running="$(our_dockerd_pids)"
  if [ -n "$running" ] && daemon_answers; then
    log "up: already running (pid $(echo "$running" | head -n1)) at unix://$SOCK"
    write_env
    return 0
  fi
  if [ -n "$running" ]; then
    # Alive but not answering: a wedged or half-started daemon. Start from a clean state.
    log "up: dockerd (pid $running) does not answer; restarting it"
    cmd_down
  else
    # A crashed daemon can leave its netns/overlay mounts and a stale pid file behind.
    kill_cgroup_procs
    unmount_all || true
    rm -f "$PIDFILE"
  fi
  timed "dockerd start" start_daemon
  write_env
  log "up: dockerd $(dk version -f '{{.Server.Version}}') on unix://$SOCK; env in $ENV_FILE"
}

# ------------------------------------------------------------------------------------------ down

cmd_down() {
  need_root
  [ -d "$ENGINE_DIR" ] || { log "down: $ENGINE_DIR does not exist; nothing to do"; return 0; }
  local pids
  mapfile -t pids < <(our_dockerd_pids)
  if [ ${#pids[@]} -gt 0 ]; then
    # dockerd stops its containers (up to 15 s each by default) and its containerd on TERM.
    timed "dockerd stop" stop_pids 30 "${pids[@]}"
  else
    log "down: no dockerd running for $ENGINE_DIR"
  fi
  # Whatever survived a crash or SIGKILL: the supervised containerd and its shims are recognised
  # by their socket/config paths inside our exec-root, containers by our cgroup parent.
  local rest=()
  mapfile -t rest < <(
    pids_with_args --config "$EXEC_ROOT/containerd/containerd.toml"
    pids_with_args -address "$EXEC_ROOT/containerd/containerd.sock"
  )
  if [ ${#rest[@]} -gt 0 ] && [ -n "${rest[0]}" ]; then
    log "down: stopping leftover containerd/shim pids ${rest[*]}"
    stop_pids 10 "${rest[@]}"
  fi
  kill_cgroup_procs
  unmount_all
  rm -f "$PIDFILE" "$SOCK" "$ENV_FILE"
  log "down: stopped; no mounts left under $ENGINE_DIR"
}

cmd_purge() {
  cmd_down
  rm -rf --one-file-system "$ENGINE_DIR"
  log "purge: removed $ENGINE_DIR"
}

# ---------------------------------------------------------------------------------------- status

cmd_status() {
  local pids
  pids="$(our_dockerd_pids | tr '\n' ' ')"
  echo "engine dir:  $ENGINE_DIR"
  echo "client:      $CLI"
  if [ -n "$pids" ] && daemon_answers; then
    echo "state:       running (pid ${pids% })"
    echo "DOCKER_HOST: unix://$SOCK"
    echo "server:      $(dk version -f '{{.Server.Version}}')"
    echo "images:"
    dk images --format '  {{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' | sort
    echo "mounts:      $(our_mounts | wc -l)"
    return 0
  fi
  if [ -n "$pids" ]; then
    echo "state:       not answering (pid ${pids% }); see $DAEMON_LOG"
  else
    echo "state:       stopped"
  fi
  echo "mounts:      $(our_mounts | wc -l)"
  return 3
}

# ---------------------------------------------------------------------------------------- images

# The Debian mirror apt is configured with (deb822 or one-line sources), so builds and debootstrap
# use the same, reachable, mirror.
apt_mirrors() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && files+=("$f")
  done
  MIRROR=""
  SECURITY_MIRROR=""
  local uris suites line
  for f in "${files[@]}"; do
    if [[ $f == *.sources ]]; then
      # deb822 stanzas: pair each URIs with the Suites of the same stanza.
      while IFS=$'\t' read -r uris suites; do
        case " $suites " in
          *" $SUITE-security "*) [ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR="${uris%% *}" ;;
          *" $SUITE "*) [ -n "$MIRROR" ] || MIRROR="${uris%% *}" ;;
        esac
      done < <(awk 'BEGIN{RS=""; FS="\n"} /(^|\n)Types:[^\n]*deb([ \t\n]|$)/ && !/(^|\n)Enabled:[ \t]*no/ {
          u=""; s="";
          for (i=1;i<=NF;i++) { if ($i ~ /^URIs:/) {u=$i; sub(/^URIs:[ \t]*/,"",u)}
                                if ($i ~ /^Suites:/) {s=$i; sub(/^Suites:[ \t]*/,"",s)} }
          if (u != "") print u "\t" s }' "$f")
    else
      while read -r line; do
        # deb [options] URI SUITE COMPONENTS...
        # No globbing: "[arch=amd64]" would otherwise match one-letter file names.
        set -f
        # shellcheck disable=SC2086
        set -- $line
        set +f
        [ "${1:-}" = deb ] || continue
        shift
        if [[ ${1:-} == "["* ]]; then
          while [ $# -gt 0 ] && [[ $1 != *"]" ]]; do shift; done
          [ $# -gt 0 ] && shift
        fi
        case "${2:-}" in
          "$SUITE-security" | "$SUITE/updates") [ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR="$1" ;;
          "$SUITE") [ -n "$MIRROR" ] || MIRROR="$1" ;;
        esac
      done < <(grep -E '^[[:space:]]*deb[[:space:]]' "$f" || true)
    fi
  done
  [ -n "$MIRROR" ] || MIRROR="http://deb.debian.org/debian"
  MIRROR="${MIRROR%/}"
  [ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR="${MIRROR%/debian}/debian-security"
  SECURITY_MIRROR="${SECURITY_MIRROR%/}"
}

# The apt/dpkg configuration official Debian images carry (debuerreotype-minimizing-config).
# docker-clean matters most for dockopt: it empties /var/cache/apt/archives after every install,
# so "apt-get clean" is a no-op on these bases exactly as on Docker Hub's.
write_minimizing_config() {
  local root=$1
  cat >"$root/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh

# For most Docker users, "apt-get install" only happens during "docker build",
# where starting services doesn't work and often fails in humorous ways. This
# prevents those failures by stopping the services from attempting to start.

exit 101
EOF
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup" <<'EOF'
# For most Docker users, package installs happen during "docker build", which
# doesn't survive power loss and gets restarted clean afterwards anyhow, so
# this minor tweak gives us a nice speedup (much nicer on spinning disks,
# obviously).

force-unsafe-io
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'EOF'
# Since Docker users are looking for the smallest possible final images, the
# following emerges as a very common pattern:

#   RUN apt-get update \
#       && apt-get install -y <packages> \
#       && <do some compilation work> \
#       && apt-get purge -y --auto-remove <packages>

# By default, APT will actually _keep_ packages installed via Recommends or
# Depends if another package Suggests them, even and including if the package
# that originally caused them to be installed is removed.  Setting this to
# "false" ensures that APT is appropriately aggressive about removing the
# packages it added.

# https://aptitude.alioth.debian.org/doc/en/ch02s05s05.html#configApt-AutoRemove-SuggestsImportant
Apt::AutoRemove::SuggestsImportant "false";
EOF
  # Written out in full on purpose: some hosts (this one included) carry a docker-clean whose
  # Post-Invoke lines were removed, so copying the host's file would not give the official one.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
# Since for most Docker users, package installs happen in "docker build" steps,
# they essentially become individual layers due to the way Docker handles
# layering, especially using CoW filesystems.  What this means for us is that
# the caches that APT keeps end up just wasting space in those layers, making
# our layers unnecessarily large (especially since we'll normally never use
# these caches again and will instead just "docker build" again and make a brand
# new image).

# Ideally, these would just be invoking "apt-get clean", but in our testing,
# that ended up being cyclic and we got stuck on APT's lock, so we get this fun
# creation that's essentially just "apt-get clean".
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };

Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";

# Note that we do realize this isn't the ideal way to do this, and are always
# open to better suggestions (https://github.com/debuerreotype/debuerreotype/issues).
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-gzip-indexes" <<'EOF'
# Since Docker users using "RUN apt-get update && apt-get install -y ..." in
# their Dockerfiles don't go delete the lists files afterwards, we want them to
# be as small as possible on-disk, so we explicitly request that Apt keep them
# compressed on-disk too instead of decompressing them.

# For comparison, an "apt-get update" layer without this on a pristine
# "debian:wheezy" base image was "29.88 MB", where with this it was only
# "8.273 MB".

Acquire::GzipIndexes "true";
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
# In Docker, we don't often need the "Translations" files, so we're just wasting
# time and space by downloading them, and this inhibits that.  For users that do
# need them, it's a simple matter to delete this file and "apt-get update". :)

Acquire::Languages "none";
EOF
  chmod 0644 "$root"/etc/apt/apt.conf.d/docker-* "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
}

write_sources() {
  local root=$1
  rm -f "$root/etc/apt/sources.list"
  mkdir -p "$root/etc/apt/sources.list.d"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# What debuerreotype-fixup and its tar excludes drop: logs and caches with build-time content.
strip_rootfs() {
  local root=$1
  rm -f "$root/var/log/dpkg.log" "$root/var/log/bootstrap.log" "$root/var/log/alternatives.log" \
    "$root/var/log/apt/history.log" "$root/var/log/apt/term.log" \
    "$root/var/cache/ldconfig/aux-cache" "$root/run/mount/utab" \
    "$root/etc/resolv.conf" "$root/etc/hostname"
  rmdir "$root/run/mount" 2>/dev/null || true
  find "$root/var/cache/apt" "$root/var/lib/apt/lists" -mindepth 1 -delete 2>/dev/null || true
  # Docker provides /dev, /proc, /sys at run time; device nodes in a layer are only noise.
  find "$root/dev" "$root/proc" "$root/sys" -mindepth 1 -delete 2>/dev/null || true
  rm -rf "$root/debootstrap"
}

# The "-slim" variant (debuerreotype-slimify): drop docs/man/locales and tell dpkg to keep them out.
slimify() {
  local root=$1
  # Quoted: these are dpkg/find patterns, never to be globbed against the host.
  local excludes=('/usr/share/doc/*' '/usr/share/groff/*' '/usr/share/info/*' '/usr/share/linda/*'
    '/usr/share/lintian/overrides/*' '/usr/share/locale/*' '/usr/share/man/*')
  local includes=('/usr/share/doc/*/copyright' '/usr/share/doc/kde/HTML/C/*' '/usr/share/gnome/help/*/C/*'
    '/usr/share/locale/all_languages' '/usr/share/locale/currency/*' '/usr/share/locale/l10n/*'
    '/usr/share/locale/languages' '/usr/share/locale/locale.alias' '/usr/share/omf/*/*-C.emf')
  local keep=() inc ex
  for inc in "${includes[@]}"; do
    [ ${#keep[@]} -eq 0 ] || keep+=(-o)
    keep+=(-path "$inc")
  done
  local cfg="$root/etc/dpkg/dpkg.cfg.d/docker"
  {
    echo '# This is the "slim" variant of the Debian base image.'
    echo '# Many files which are normally unnecessary in containers are excluded,'
    echo '# and this configuration file keeps them that way.'
    echo
    for ex in "${excludes[@]}"; do echo "path-exclude $ex"; done
    echo
    for inc in "${includes[@]}"; do echo "path-include $inc"; done
  } >"$cfg"
  chmod 0644 "$cfg"
  for ex in "${excludes[@]}"; do
    local dir="${ex%/\*}"
    [ -d "$root$dir" ] || continue
    # Run find inside the chroot so absolute symlinks resolve against the image, not the host.
    chroot "$root" find "$dir" -depth -mindepth 1 -not \( "${keep[@]}" \) -not \( -type d -o -type l \) -delete
    # Removing a dangling symlink can empty a directory and vice versa: repeat (bounded).
    for _ in 1 2 3 4 5 6 7 8; do
      [ -n "$(chroot "$root" find "$dir" -depth -mindepth 1 \( -empty -o -xtype l \) -print -quit)" ] || break
      chroot "$root" find "$dir" -depth -mindepth 1 \( -empty -o -xtype l \) -exec rm -rf {} +
    done
  done
}

# Deterministic tar of a rootfs (sorted, numeric owners) for `docker import`.
tar_rootfs() {
  local root=$1 out=$2
  tar --numeric-owner --sort=name -C "$root" -cf "$out.tmp" .
  mv -f "$out.tmp" "$out"
}

WORK=""
cleanup_work() {
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    # debootstrap mounts proc/sys inside the target; a failed run can leave them mounted.
    local m
    while IFS= read -r m; do
      [ -n "$m" ] && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
    done < <(awk -v root="$WORK" 'index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    rm -rf --one-file-system "$WORK"
  fi
}

run_debootstrap() {
  # Output to a log file (shown on failure) but the timing line still reaches stderr.
  debootstrap --variant=minbase "$SUITE" "$1" "$MIRROR" >"$2" 2>&1
}

build_debian_tarballs() {
  local full=$1 slim=$2
  WORK="$(mktemp -d "$ENGINE_DIR/work.XXXXXX")"
  trap cleanup_work EXIT
  local root="$WORK/rootfs"
  apt_mirrors
  log "images: debootstrap --variant=minbase $SUITE from $MIRROR (security: $SECURITY_MIRROR)"
  if ! timed "debootstrap $SUITE" run_debootstrap "$root" "$WORK/debootstrap.log"; then
    tail -n 30 "$WORK/debootstrap.log" >&2 || true
    [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  write_minimizing_config "$root"
  write_sources "$root"
  strip_rootfs "$root"
  timed "tar debian:$SUITE" tar_rootfs "$root" "$full"
  timed "slimify" slimify "$root"
  timed "tar debian:$SUITE-slim" tar_rootfs "$root" "$slim"
  cleanup_work
  trap - EXIT
  WORK=""
}

build_busybox_tarball() {
  local out=$1
  local bb
  bb="$(dpkg -L busybox-static | grep -E '/busybox$' | head -n1)"
  [ -x "$bb" ] || die "busybox-static's binary not found"
  WORK="$(mktemp -d "$ENGINE_DIR/work.XXXXXX")"
  trap cleanup_work EXIT
  local root="$WORK/rootfs" a
  # Same shape as Docker Hub's busybox image: one static binary with every applet linked in /bin.
  mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" "$root/var/tmp" "$root/home" "$root/usr" \
    "$root/dev" "$root/proc" "$root/sys"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 0700 "$root/root"
  cp "$bb" "$root/bin/busybox"
  for a in $("$bb" --list); do
    [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar_rootfs "$root" "$out"
  cleanup_work
  trap - EXIT
  WORK=""
}

# import_image TARBALL CMD TAG... : import once per tarball content; re-tag if tags drifted.
import_image() {
  local tarball=$1 cmd=$2; shift 2
  local sum stamp id="" cur tag
  sum="$(sha256sum "$tarball" | cut -d' ' -f1)"
  stamp="$STATE/import-$(basename "$tarball").$sum"
  if [ -f "$stamp" ]; then
    id="$(cat "$stamp")"
    dk image inspect "$id" >/dev/null 2>&1 || id=""
  fi
  if [ -z "$id" ]; then
    id="$(timed "docker import $1" dk import \
      --change "ENV PATH=$DEFAULT_PATH" --change "CMD [\"$cmd\"]" "$tarball" "$1")"
    mkdir -p "$STATE"
    rm -f "$STATE/import-$(basename "$tarball")".*
    printf '%s\n' "$id" >"$stamp"
  fi
  for tag in "$@"; do
    cur="$(dk image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
    [ "$cur" = "$id" ] || dk tag "$id" "$tag"
  done
  log "images: $* -> ${id:7:12} ($(dk image inspect -f '{{.Size}}' "$id") bytes)"
}

cmd_images() {
  need_root
  daemon_answers || die "no daemon at unix://$SOCK: run 'bash scripts/engine.sh up' first"
  mkdir -p "$CACHE" "$STATE"
  local stale
  for stale in "$ENGINE_DIR"/work.*; do
    [ -d "$stale" ] || continue
    WORK="$stale"; cleanup_work; WORK=""
  done
  local bbtar="$CACHE/busybox-r$RECIPE.tar"
  local full="$CACHE/debian-$SUITE-r$RECIPE.tar" slim="$CACHE/debian-$SUITE-slim-r$RECIPE.tar"
  [ -f "$bbtar" ] || timed "busybox rootfs" build_busybox_tarball "$bbtar"
  if [ ! -f "$full" ] || [ ! -f "$slim" ]; then
    timed "debian rootfs (debootstrap + config + tar)" build_debian_tarballs "$full" "$slim"
  else
    log "images: reusing cached rootfs tarballs in $CACHE"
  fi
  local bbver
  bbver="$(dpkg-query -W -f='${Version}' busybox-static | sed -E 's/^[0-9]+://; s/-.*//')"
  import_image "$bbtar" sh busybox:latest "busybox:$bbver"
  import_image "$full" bash "debian:$SUITE" debian:12 debian:stable debian:latest
  import_image "$slim" bash "debian:$SUITE-slim" debian:12-slim debian:stable-slim
}

# ------------------------------------------------------------------------------------------ main

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  resolve_dirs
  case "$cmd" in
    install) timed "install" cmd_install ;;
    up) CLI="$(debian_cli)"; timed "up" cmd_up ;;
    images) CLI="$(debian_cli)"; timed "images" cmd_images ;;
    down) timed "down" cmd_down ;;
    purge) cmd_purge ;;
    status) CLI="$(debian_cli)"; cmd_status ;;
    env) cat "$ENV_FILE" ;;
    -h | --help | help | "") usage ;;
    *) usage >&2; die "unknown subcommand '$cmd'" ;;
  esac
}

main "$@"
