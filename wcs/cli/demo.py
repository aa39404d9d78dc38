"""The README's first command: a real round trip through ``wcscmd`` against a local ``wcs-emulator``.

Starts an emulator on a free 127.0.0.1 port with a throw-away data directory, writes a ``.wcscfg``
pointing at it, then runs the installed command-line tools as a user would — put, multiput of a file
larger than one block, list, stat, get back, etag comparison, del — printing each command and its
output. Everything it made is removed at the end.
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional

BUCKET = "demo"


def _tool(name: str, module: str) -> List[str]:
    # The console script installed beside this interpreter is what a user types; one found elsewhere on
    # PATH could be another package's (the official SDK also installs a `wcscmd`). From a checkout,
    # run the module with this interpreter.
    script = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(script) and os.access(script, os.X_OK):
        return [script]
    return [sys.executable, "-c", "import sys; from %s import main; sys.exit(main())" % module]


def preview(text: str, limit: int = 400) -> str:
    """The first whole lines of ``text`` (about ``limit`` characters) and how many were left out.

    Never cut inside a line: half a JSON string reads like a corrupt file.
    """
    lines = text.strip().splitlines()
    shown: List[str] = []
    used = 0
    for line in lines:
        if shown and used + len(line) + 1 > limit:
            break
        shown.append(line)
        used += len(line) + 1
    if len(shown) < len(lines):
        shown.append("... (%d more lines)" % (len(lines) - len(shown)))
    return "\n".join(shown)


class Demo:
    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self.config = os.path.join(workdir, "wcscfg")
        self.wcscmd = _tool("wcscmd", "wcs.cli.wcscmd")
        self.etag_cal = _tool("wcs_etag_cal", "wcs.cli.etag_cal")
        self.emulator: Optional[subprocess.Popen] = None

    def start_emulator(self) -> str:
        cmd = [sys.executable, "-m", "wcs.emulator", "--port", "0", "--data-dir", os.path.join(self.workdir, "data"),
               "--bucket", BUCKET, "--write-config", self.config]
        print("$ wcs-emulator --port 0 --bucket %s --write-config %s" % (BUCKET, self.config), flush=True)
        self.emulator = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.emulator.stdout is not None  # stdout=PIPE
        line = self.emulator.stdout.readline().strip()
        if not line.startswith("WCS emulator listening on "):
            raise RuntimeError("the emulator did not start (it printed %r)" % line)
        print(line, flush=True)
        return line.rsplit(" ", 1)[1]

    def stop_emulator(self) -> None:
        if self.emulator and self.emulator.poll() is None:
            self.emulator.terminate()
            try:
                self.emulator.wait(10)
            except subprocess.TimeoutExpired:
                self.emulator.kill()
                self.emulator.wait()

    def run(self, shown: str, argv: List[str]) -> str:
        print("\n$ %s %s" % (shown, " ".join(shlex.quote(a) for a in argv)), flush=True)
        tool = self.wcscmd if shown == "wcscmd" else self.etag_cal
        extra = ["-c", self.config, "--quiet"] if shown == "wcscmd" else []
        proc = subprocess.run(tool + extra + argv, cwd=self.workdir, stdout=subprocess.PIPE, text=True)
        print(proc.stdout.rstrip(), flush=True)
        if proc.returncode != 0:
            raise RuntimeError("%s %s failed with exit status %d" % (shown, argv[0], proc.returncode))
        return proc.stdout

    def make_file(self, name: str, size: int) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "wb") as fp:
            remaining = size
            while remaining:
                n = min(remaining, 1 << 20)
                fp.write(os.urandom(n))
                remaining -= n
        return path

    def round_trip(self) -> None:
        self.start_emulator()
        small = self.make_file("small.bin", 300 * 1024)
        big = self.make_file("big.bin", 9 * 1024 * 1024 + 123)  # three 4 MiB blocks
        self.run("wcscmd", ["put", "wcs://%s/hello/small.bin" % BUCKET, small])
        self.run("wcscmd", ["multiput", "wcs://%s/hello/big.bin" % BUCKET, big])
        self.run("wcscmd", ["list", "wcs://%s" % BUCKET, "listing.json"])
        with open(os.path.join(self.workdir, "listing.json"), encoding="utf-8") as fp:
            print("(listing.json)\n" + preview(fp.read()), flush=True)
        self.run("wcscmd", ["stat", "wcs://%s/hello/big.bin" % BUCKET])
        self.run("wcscmd", ["get", "wcs://%s/hello/big.bin" % BUCKET, "big.copy"])
        etags = self.run("wcs_etag_cal", ["etag", big, os.path.join(self.workdir, "big.copy")])
        original, copy = etags.strip().splitlines()[-1].split()
        if original != copy:
            raise RuntimeError("downloaded bytes differ: %s != %s" % (original, copy))
        print("etags match: %s" % original, flush=True)
        self.run("wcscmd", ["del", "wcs://%s/hello/small.bin" % BUCKET])
        self.run("wcscmd", ["del", "wcs://%s/hello/big.bin" % BUCKET])
        self.run("wcscmd", ["listbucket"])


def main(argv: Optional[List[str]] = None) -> int:
    workdir = tempfile.mkdtemp(prefix="wcs-demo-")
    demo = Demo(workdir)
    try:
        demo.round_trip()
    except (RuntimeError, OSError) as exc:
        print("\ndemo failed: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        demo.stop_emulator()
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nRound trip OK: put, multiput, list, stat, get, etag check and del all succeeded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
