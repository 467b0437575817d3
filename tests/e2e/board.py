"""Drive a Pillarbox board (the sim process, or QEMU) through its serial console.

Used by the end-to-end and QEMU tests: start the board on a fresh flash file,
read the console until a pattern appears, send commands, power off.
Standard library only.
"""
import os
import random
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIM = os.path.join(ROOT, "build", "sim", "pillarbox-sim")
SIM_DIAG = os.path.join(ROOT, "build", "test", "pillarbox-sim-diag")
ARM_ELF = os.path.join(ROOT, "build", "arm", "pillarbox.elf")
SERVICE_PORTS = (25, 587, 465, 143, 993, 110, 995, 80, 443)
PROMPT = "pillarbox> "


def free_port_offset():
    """An offset whose host ports (offset + each service port) are all free."""
    for _ in range(200):
        offset = random.randrange(20000, 60000, 10)
        socks = []
        try:
            for p in SERVICE_PORTS:
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", offset + p))
                socks.append(s)
            return offset
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port offset")


class Board:
    """A running board with its console on a pipe."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.out = ""          # everything read so far, CR removed
        self.pos = 0           # where the next expect() starts looking
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        data = self.proc.stdout.read()
        if not data:
            return None
        self.out += data.decode("utf-8", "replace").replace("\r", "")
        return True

    def expect(self, pattern, timeout=30):
        """Wait for regex pattern after the last match; return the match."""
        rx = re.compile(pattern, re.M)
        end = time.time() + timeout
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = end - time.time()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; console said:\n%s"
                                     % (pattern, self.out[-3000:]))
            if self._read(min(left, 0.5)) is None:
                m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise AssertionError("console closed while waiting for %r; it said:\n%s"
                                     % (pattern, self.out[-3000:]))

    def send(self, line):
        self.proc.stdin.write((line + "\r\n").encode())
        self.proc.stdin.flush()

    def command(self, line, timeout=30):
        """Send a command; return its output (up to the next prompt)."""
        self.expect_prompt_settled()
        self.send(line)
        self.expect(re.escape(line) + r"\n", timeout)
        start = self.pos
        self.expect(re.escape(PROMPT), timeout)
        return self.out[start:self.pos - len(PROMPT)]

    def expect_prompt_settled(self):
        # Commands are accepted at any time; nothing to wait for on a pipe.
        pass

    def wait(self, timeout=30):
        """Wait for the board to exit; return its status.  The console is
        read meanwhile, so a board with much to say cannot block on it."""
        deadline = time.time() + timeout
        while self.proc.poll() is None and time.time() < deadline:
            if self._read(0.2) is None:
                break
        try:
            rc = self.proc.wait(max(0.1, deadline - time.time()))
        finally:
            while self._read(0.1):
                pass
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


def bench_ready(prog, reason=None):
    """A benchmark's first step: exit with one plain line when the sim is
    not built, or when reason (why a reference peer cannot run) is set."""
    if not os.path.exists(SIM):
        sys.exit("%s: %s is missing; run make sim first" % (prog, SIM))
    if reason:
        sys.exit("%s: %s" % (prog, reason))


def start_sim(flash=None, flash_size="4M", offset=None, extra=(), binary=SIM):
    """Start build/sim/pillarbox-sim on flash (a new temporary file by default)."""
    if flash is None:
        d = tempfile.mkdtemp(prefix="pillarbox-")
        flash = os.path.join(d, "flash.img")
    if offset is None:
        offset = free_port_offset()
    argv = [binary, "--flash", flash, "--port-offset", str(offset)]
    if flash_size:
        argv += ["--flash-size", flash_size]
    argv += list(extra)
    b = Board(argv)
    b.flash = flash
    b.offset = offset
    return b
