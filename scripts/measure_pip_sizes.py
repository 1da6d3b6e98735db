"""Measure what ``pip install NAME`` adds on debian:bookworm-slim, for dockopt's size estimates.

Run from the repository root on the e2e engine (``set -a; . /tmp/dockopt-engine/env; set +a``):

    .venv/bin/python scripts/measure_pip_sizes.py NAME... > /tmp/pip_sizes.json

For each name, the host's pip fetches the wheels of it and its dependencies for CPython 3.11
(bookworm's) into a local package index (tests/e2e/originals.py); their total size is what
pip's cache keeps. In a debian:bookworm-slim container with Debian's python3-pip, each name is
installed (``--no-cache-dir --target``) from that index, served on 127.0.0.1 (the container
runs with ``--network host``), and ``du -sb`` of the target is the installed size (with the
byte-code pip compiles). Prints JSON {name: [installed bytes, wheel bytes]}.
"""
from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dockopt.verify.engine import DockerEngine  # noqa: E402
from tests.e2e.originals import LocalIndex, fetch_wheels  # noqa: E402

SCRIPT = r"""
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends python3-pip >/dev/null 2>&1 || exit 3
for name in "$@"; do
  if pip install -q --no-cache-dir --break-system-packages --index-url "$INDEX" --trusted-host "$HOST" \
       --target "/t/$name" "$name" >/dev/null 2>&1; then
    echo "$name $(du -sb "/t/$name" | cut -f1)"
  fi
done
"""


def main() -> int:
    names = sys.argv[1:]
    engine = DockerEngine.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        wheel_bytes: dict[str, int] = {}
        for name in names:
            own = root / "by-name" / name
            if fetch_wheels(own, (name,)):
                print(f"skipped {name}: no wheels", file=sys.stderr)
                continue
            wheel_bytes[name] = sum(f.stat().st_size for f in own.glob("*.whl"))
            (root / "files").mkdir(exist_ok=True)
            for wheel in own.glob("*.whl"):
                shutil.copy(wheel, root / "files" / wheel.name)
        index = LocalIndex.serve(root)
        args = index.build_args
        try:
            proc = engine.run("debian:bookworm-slim", [
                "env", f"INDEX={args['PIP_INDEX_URL']}", f"HOST={args['PIP_TRUSTED_HOST']}",
                "sh", "-c", SCRIPT, "sh", *wheel_bytes], timeout=3600)
        finally:
            index.stop()
    out = {}
    for line in proc.stdout.splitlines():
        name, _, size = line.partition(" ")
        if size.isdigit():
            out[name] = [int(size), wheel_bytes[name]]
    print(json.dumps(out, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
