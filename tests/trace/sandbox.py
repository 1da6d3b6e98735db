"""Throwaway roots in which a RUN's shell runs for real and every other command is the stub.

A *store* (one per process, under /dev/shm) holds the compiled stub, dash, bash and their
libraries. A *root* is a directory tree: the world's skeleton (``world.py``), the store's
files hard-linked in (cheap; nothing in a root writes to them: ``rm``/``ln``/``cp`` are stubs),
and a file ``#!/.trace/stub`` for every command name the scripts may run. A RUN is
``unshare --pid --net --mount-proc --root=ROOT --wd=CWD SHELL...``: its own PID namespace
(the shell is PID 1 as in a container, a stray ``kill -9 -1`` or a background job cannot
reach outside, everything dies with it), no network (bash's /dev/tcp), /proc mounted for
/dev/stdout and /dev/fd, and a wall-clock timeout.

Needs root, util-linux ``unshare`` with --root/--wd/--mount-proc, a C compiler (``cc``) for
the stub, dash and bash, and busybox (Debian's busybox-static, which CI provisions with
``scripts/engine.sh install``): the stub runs the pure text filters (awk, sed, cut, ...) for
real through it (stub.c); ``unavailable()`` says in one line what is missing.
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import multiprocessing.util
import os
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.trace import declared, world

STUB_SOURCE = Path(__file__).with_name("stub.c")
STUB_FILE = b"#!/.trace/stub\n"
BUSYBOX = ".trace/busybox"  # inside a root (stub.c runs the pure text filters with it)
RUN_TIMEOUT = 20.0  # seconds per RUN: stubs return at once, so only an endless loop gets near it
SHELLS = ("dash", "bash")


@dataclass(frozen=True, slots=True)
class Record:
    """One stub invocation, as the stub recorded it."""

    status: int
    path: str
    args: tuple[str, ...]
    cwd: str
    umask: str
    stdin_pipe: int
    stdout_pipe: int
    pid: int
    ppid: int
    env: tuple[str, ...]
    async_root: int = 0  # the first process of the background job it runs in (0: none)
    ancestor_pipes: tuple[int, ...] = ()  # pipe inodes on its ancestors' stdin/stdout


@dataclass(frozen=True, slots=True)
class RunResult:
    status: int
    records: tuple[Record, ...]
    stderr: str
    timed_out: bool
    overflow: bool


def _field(data: bytes, pos: int) -> tuple[str, int]:
    colon = data.index(b":", pos)
    length = int(data[pos:colon])
    end = colon + 1 + length
    return os.fsdecode(data[colon + 1 : end]), end


def parse_log(data: bytes) -> list[Record]:
    records: list[Record] = []
    pos = 0
    while pos < len(data):
        values: list[str] = []

        def take() -> str:
            nonlocal pos
            value, pos = _field(data, pos)
            values.append(value)
            return value

        status = int(take())
        path = take()
        args = tuple(take() for _ in range(int(take())))
        cwd, umask, stdin_pipe, stdout_pipe = take(), take(), int(take()), int(take())
        pid, ppid = int(take()), int(take())
        env = tuple(sorted(take() for _ in range(int(take()))))
        async_root = int(take())
        ancestor_pipes = tuple(int(take()) for _ in range(int(take())))
        if data[pos : pos + 1] != b"\n":
            raise ValueError("corrupt trace log")
        pos += 1
        records.append(Record(status, path, args, cwd, umask, stdin_pipe, stdout_pipe, pid, ppid, env, async_root,
                              ancestor_pipes))
    return records


def key_bytes(path: str, args: tuple[str, ...], cwd: str) -> bytes:
    """An invocation's identity as the stub encodes it (cache flags already removed)."""
    def field(text: str) -> bytes:
        raw = os.fsencode(text)
        return str(len(raw)).encode() + b":" + raw

    kept = declared.without_cache_flags(path, args)
    return field(path) + field(str(len(kept))) + b"".join(field(a) for a in kept) + field(cwd)


# --- availability and the per-process store ------------------------------------------------

def _shared_libraries(binary: str) -> list[str]:
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False).stdout
    libs = []
    for line in out.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > parts.index("=>") + 1 and parts[parts.index("=>") + 1].startswith("/"):
            libs.append(parts[parts.index("=>") + 1])
        elif parts and parts[0].startswith("/"):
            libs.append(parts[0])
    return libs


def _compile_stub() -> Path:
    source = STUB_SOURCE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    cached = Path(tempfile.gettempdir()) / f"dockopt-trace-stub-{digest}"
    if cached.exists():
        return cached
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("no C compiler (cc) to build the command stub")
    partial = cached.with_suffix(f".{os.getpid()}")
    for flags in (["-static"], []):  # static when libc.a is there; else dynamic (libc is in the root)
        done = subprocess.run([cc, "-O2", *flags, "-o", str(partial), str(STUB_SOURCE)],
                              capture_output=True, text=True, check=False)
        if done.returncode == 0:
            os.replace(partial, cached)
            return cached
    raise RuntimeError(f"cannot compile the command stub: {done.stderr.strip().splitlines()[-1:]}")


@dataclass(slots=True)
class Store:
    path: Path
    files: dict[str, Path]  # path inside a root -> the store's copy (hard-linked into roots)
    inodes: frozenset[int]


def _sweep(base: Path) -> None:
    """Remove the stores of processes that are gone (a killed run cannot clean up after itself)."""
    for stale in base.glob("dockopt-trace-*-*"):
        pid = stale.name.split("-")[2]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(stale, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _store_for(pid: int) -> Store:
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    _sweep(base)
    path = Path(tempfile.mkdtemp(prefix=f"dockopt-trace-{pid}-", dir=base))
    atexit.register(shutil.rmtree, path, True)
    # Pool workers end with os._exit, which skips atexit: multiprocessing's finalizers run.
    multiprocessing.util.Finalize(None, shutil.rmtree, args=(path, True), exitpriority=0)
    stub = _compile_stub()
    wanted: dict[str, str] = {".trace/stub": str(stub)}
    for name in SHELLS:
        binary = shutil.which(name)
        if binary is None:
            raise RuntimeError(f"{name} is not installed")
        wanted[f"usr/bin/{name}"] = os.path.realpath(binary)
        for lib in _shared_libraries(binary) + _shared_libraries(str(stub)):
            wanted[lib.lstrip("/")] = os.path.realpath(lib)
    # The real text filters (stub.c, pure_filter), outside PATH: a script's own ``busybox``
    # is a command like any other, a stub.
    busybox = shutil.which("busybox")
    if busybox is None:
        raise RuntimeError("busybox is not installed (apt-get install busybox-static): the stub runs "
                           "the pure text filters (awk, sed, cut, ...) with it")
    wanted[BUSYBOX] = os.path.realpath(busybox)
    for lib in _shared_libraries(busybox):
        wanted[lib.lstrip("/")] = os.path.realpath(lib)
    files: dict[str, Path] = {}
    for inside, source in wanted.items():
        copy = path / "files" / inside.replace("/", "_")
        copy.parent.mkdir(exist_ok=True)
        shutil.copy2(source, copy)
        files[inside] = copy
    return Store(path, files, frozenset(p.stat().st_ino for p in files.values()))


def store() -> Store:
    return _store_for(os.getpid())


@functools.lru_cache(maxsize=1)
def unavailable() -> str | None:
    """None when roots can be made and run here, else one line saying what is missing."""
    if os.geteuid() != 0:
        return "the trace harness needs root (chroot and namespaces); not root here"
    if shutil.which("unshare") is None:
        return "the trace harness needs util-linux unshare; not installed"
    try:
        root = new_root(Layout(names=frozenset({"mkdir", "ls", "awk"})), "dash")
    except (RuntimeError, OSError) as error:
        return f"the trace harness cannot build its sandbox: {error}"
    try:
        result = run(root, ["/bin/sh", "-c", "cd /tmp && mkdir -p made && ls made >/dev/null"],
                     dict(world.BASE_ENV), "/")
        filtered = run(root, ["/bin/sh", "-c", '[ "$(echo a-b | awk -F- \'{ print $NF }\')" = b ]'],
                       dict(world.BASE_ENV), "/")
    except OSError as error:
        return f"the trace harness cannot run its sandbox: {error}"
    finally:
        remove_root(root)
    if result.status != 0 or [r.args for r in result.records] != [("-p", "made"), ("made",)]:
        return f"the trace harness's sandbox does not work here: exit {result.status}: {result.stderr.strip()[:200]}"
    if filtered.status != 0:
        return f"the trace harness's busybox does not run its text filters: {filtered.stderr.strip()[:200]}"
    return None


# --- roots ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Layout:
    """What a fresh root holds besides the skeleton (the same for both sides of a proof)."""

    names: frozenset[str] = frozenset()  # bare command names: a stub in /usr/bin
    paths: frozenset[str] = frozenset()  # absolute command paths: a stub there
    dirs: frozenset[str] = frozenset()  # directories the scripts cd into and nothing creates
    files: frozenset[str] = frozenset()  # files the scripts source (``. /etc/x``)
    relative: frozenset[str] = frozenset()  # relative command paths (./configure): a stub in each of dirs
    # variables a sourced file the harness stands in for would set (``. "$APACHE_ENVVARS"``,
    # then ``set -u`` reads $APACHE_LOCK_DIR): each of ``files`` assigns them a value, and the
    # base image's environment has them (run.execute: php's PHP_INI_DIR)
    variables: frozenset[str] = frozenset()


REAL_PROGRAMS = frozenset({"sh", "bash", "dash", "ash"})


def _write_stub(path: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o755)
    except (IsADirectoryError, NotADirectoryError, FileNotFoundError):
        return
    try:
        os.write(fd, STUB_FILE)
    finally:
        os.close(fd)


def place_stub(root: Path, inside: str) -> None:
    """A stub at an absolute path inside the root (parents created), unless something is there."""
    target = root / inside.lstrip("/")
    if os.path.lexists(target):
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        return
    _write_stub(target)


def new_root(layout: Layout, shell: str) -> Path:
    """A fresh root whose /bin/sh is ``shell`` (dash or bash)."""
    st = store()
    root = Path(tempfile.mkdtemp(prefix="root-", dir=st.path))
    for directory in world.SKELETON:
        (root / directory).mkdir(parents=True, exist_ok=True)
    for link, target in world.MERGED_USR_LINKS.items():
        os.symlink(target, root / link)
    (root / ".trace" / "groups").mkdir(parents=True)
    for inside, copy in st.files.items():
        target = root / inside
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(copy, target)
    os.link(st.files[f"usr/bin/{shell}"], root / "usr/bin/sh")
    os.link(st.files[f"usr/bin/{shell}"], root / "usr/bin/ash")
    (root / ".trace/cacheflags").write_text(declared.stub_table())
    (root / ".trace/packages").write_text(world.package_table())
    (root / ".trace/relative").write_text("".join(f"{command}\n" for command in sorted(layout.relative)))
    for name in world.EMPTY_FILES:
        (root / name).touch()
    for name, (major, minor) in {"null": (1, 3), "zero": (1, 5), "random": (1, 8), "urandom": (1, 9)}.items():
        os.mknod(root / "dev" / name, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(root / "dev" / name, 0o666)
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{fd}", root / "dev" / name)
    os.symlink("/proc/self/fd", root / "dev/fd")
    before = _directories(root)
    for directory in sorted(layout.dirs):
        try:
            (root / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            continue
        for command in layout.relative:
            place_stub(root, os.path.normpath(os.path.join(directory, command)))
    bin_dir = root / "usr/bin"
    for name in layout.names:
        if name not in REAL_PROGRAMS and not os.path.lexists(bin_dir / name):
            _write_stub(bin_dir / name)
    for path in sorted(layout.paths):
        if os.path.basename(path) not in REAL_PROGRAMS:
            place_stub(root, path)
    for path in sorted(layout.files):
        target = root / path.lstrip("/")
        if not os.path.lexists(target):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
            except OSError:
                pass
    if layout.variables:
        _assign(root, layout.files, layout.variables)
    # The directories made here for the layout (a fill's ``cd`` target, a stubbed file's
    # parents): the build's own first ``mkdir`` of one succeeds (stub.c, claim_filled).
    filled = sorted(_directories(root) - before)
    (root / ".trace/filled").write_text("".join(f"{path}\n" for path in filled))
    return root


def _assign(root: Path, files: frozenset[str], variables: frozenset[str]) -> None:
    """Append to each stand-in for a sourced file a default for each variable (``${NAME=...}``
    keeps a value already set)."""
    lines = "".join(f': "${{{name}=/filled/{name}}}"\n' for name in sorted(variables)).encode()
    for path in sorted(files):
        target = root / path.lstrip("/")
        try:
            if target.is_file() and not target.is_symlink() and target.stat().st_ino not in store().inodes:
                with open(target, "ab") as handle:
                    handle.write(lines)
        except OSError:
            continue


def _directories(root: Path) -> set[str]:
    """Every directory under the root, as an absolute path inside it (/.trace and /proc left out)."""
    found: set[str] = set()
    for directory, dirs, _ in os.walk(root):
        if directory == str(root):
            dirs[:] = [d for d in dirs if d not in (".trace", "proc", "dev")]
        found.update("/" + os.path.relpath(os.path.join(directory, d), root) for d in dirs)
    return found


def copy_root(source: Path) -> Path:
    """A copy of a root (a stage built FROM another, a paused build): store files hard-linked,
    everything else copied with its mode (owners and times do not matter here)."""
    st = store()
    target = Path(tempfile.mkdtemp(prefix="root-", dir=st.path))
    _copy_tree(str(source), str(target), st.inodes)
    return target


def _copy_tree(source: str, target: str, shared: frozenset[int]) -> None:
    with os.scandir(source) as entries:
        for entry in entries:
            src, dst = entry.path, os.path.join(target, entry.name)
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(src), dst)
            elif stat.S_ISDIR(info.st_mode):
                os.mkdir(dst)
                os.chmod(dst, stat.S_IMODE(info.st_mode))
                _copy_tree(src, dst, shared)
            elif stat.S_ISCHR(info.st_mode):
                os.mknod(dst, info.st_mode, info.st_rdev)
            elif info.st_ino in shared:
                os.link(src, dst)
            elif stat.S_ISREG(info.st_mode):
                with open(src, "rb") as reader:
                    data = reader.read()
                fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
                try:
                    os.write(fd, data)
                    os.fchmod(fd, stat.S_IMODE(info.st_mode))
                finally:
                    os.close(fd)
            # sockets and fifos a script left behind are not part of a build's state


def remove_root(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def _unshare() -> str:
    # Absolute: the RUN's own PATH (an ENV PATH) is what the child gets, not the host's.
    return shutil.which("unshare") or "unshare"


def run(root: Path, argv: list[str], env: dict[str, str], cwd: str, *, fail: bytes | None = None,
        seen: int = 0, timeout: float = RUN_TIMEOUT) -> RunResult:
    """Run ``argv`` (a shell or an exec-form command) in ``root`` as one RUN; its stub records.

    ``fail`` is the scenario's failing invocation (status, occurrence, key), ``seen`` how many
    times its key was recorded before this RUN.
    """
    trace = root / ".trace"
    (trace / "log").write_bytes(b"")
    if fail is not None:
        (trace / "fail").write_bytes(fail)
        (trace / "count").write_text(f"{seen}\n")
    else:
        for name in ("fail", "count"):
            (trace / name).unlink(missing_ok=True)
    command = [_unshare(), "--pid", "--net", "--fork", "--kill-child", "--mount-proc=/proc",
               f"--root={root}", f"--wd={cwd}", *argv]
    timed_out = False
    try:
        # close_fds=False lets subprocess use posix_spawn (a fork of this process costs ~10 ms);
        # Python's own descriptors are not inheritable anyway (PEP 446).
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout, check=False, close_fds=False)
        status, stderr = done.returncode, done.stderr
    except subprocess.TimeoutExpired as expired:
        timed_out, status, stderr = True, -9, expired.stderr or b""
    data = (trace / "log").read_bytes()
    overflow = len(data) > 4 << 20
    records = parse_log(data[: data.rfind(b"\n") + 1]) if data else []
    return RunResult(status, tuple(records), stderr.decode("utf-8", "replace")[-20000:], timed_out, overflow)
