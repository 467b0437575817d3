#!/usr/bin/env python3
"""IMAP benchmark: the appliance on the sim board against Dovecot, side by side.

Both hold the same 2,000 messages of 4 KiB in INBOX:
  (a) the appliance on the sim board (fresh flash; the messages arrive by
      APPEND over IMAPS, pipelined with LITERAL+), and
  (b) a private Dovecot instance on loopback (dovecot-imapd, Maildir; the
      same bytes written as Maildir files, indexed by a first SELECT).
Over one IMAPS session each, after SELECT, it times
  FETCH 1:* BODY.PEEK[]   FETCH 1:* (FLAGS)   UID SEARCH ALL
  SEARCH BODY <word in 1 message of 100>
(best of 3 runs; the client only reads the bytes up to the tagged reply) and
prints the seconds and Dovecot's time / the appliance's time (above 1: the
appliance is faster). A benchmark, not a test: nothing here asserts a speed.
Needs root (for the private Dovecot), dovecot-imapd and build/sim/pillarbox-sim.

    python3 tests/bench/imap_bench.py [--messages N] [--size BYTES] [--runs N]
"""
import argparse
import os
import shutil
import socket
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

from board import bench_ready, start_sim  # noqa: E402
from private_dovecot import PrivateDovecot, available  # noqa: E402

USER, PASSWORD = "bench@example.test", "bench-pw"
NEEDLE = b"quetzalcoatl"
APPEND_BATCH = 50


def messages(n, size):
    """n distinct messages of exactly size bytes; every 100th has NEEDLE in its body."""
    out = []
    line = b"The quick brown fox jumps over the lazy dog, again and again.\r\n"
    for i in range(n):
        head = (b"From: sender%d@example.net\r\nTo: %s\r\nSubject: bench message %d\r\n"
                b"Message-ID: <%d@bench.example.net>\r\nDate: Mon, 2 Jan 2026 10:00:00 +0000\r\n\r\n"
                % (i, USER.encode(), i, i))
        body = (NEEDLE + b" is here\r\n") if i % 100 == 7 else b""
        while len(head) + len(body) + len(line) <= size:
            body += line
        pad = size - len(head) - len(body)
        if pad >= 2:
            body += b"x" * (pad - 2) + b"\r\n"
        out.append(head + body)
    return out


class Client:
    """A minimal IMAP client: one TLS socket, commands answered up to the tag."""

    def __init__(self, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=300))
        self.n = 0
        self.buf = b""
        self.read_line()        # the greeting

    def read_line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, data):
        self.sock.sendall(data)

    def tag(self):
        self.n += 1
        return b"B%05d" % self.n

    def wait(self, tag):
        """Read up to tag's reply; return (reply line, bytes read before it)."""
        marker = b"\r\n" + tag + b" "
        got = self.buf
        self.buf = b""
        start = 0
        while True:
            i = got.find(marker, start)
            if i >= 0 or got.startswith(tag + b" "):
                i = i + 2 if i >= 0 else 0
                end = got.find(b"\r\n", i)
                if end >= 0:
                    self.buf = got[end + 2:]
                    reply = got[i:end]
                    if not reply.startswith(tag + b" OK"):
                        raise RuntimeError(reply.decode(errors="replace"))
                    return reply, got[:i]
            start = max(0, len(got) - len(marker))
            data = self.sock.recv(1 << 20)
            if not data:
                raise RuntimeError("connection closed")
            got += data

    def command(self, text):
        t = self.tag()
        self.send(t + b" " + text + b"\r\n")
        return self.wait(t)

    def close(self):
        try:
            self.command(b"LOGOUT")
        except (OSError, RuntimeError):
            pass
        self.sock.close()


def login(port):
    c = Client(port)
    c.command(b"LOGIN " + USER.encode() + b" " + PASSWORD.encode())
    return c


def run_ops(port, runs):
    """Seconds (best of runs) for each operation, and what each returned."""
    c = login(port)
    c.command(b"SELECT INBOX")
    ops = [
        ("FETCH 1:* BODY.PEEK[]", b"FETCH 1:* BODY.PEEK[]"),
        ("FETCH 1:* (FLAGS)", b"FETCH 1:* (FLAGS)"),
        ("UID SEARCH ALL", b"UID SEARCH ALL"),
        ("SEARCH BODY (text)", b"SEARCH BODY " + NEEDLE),
    ]
    times, sizes = {}, {}
    for name, cmd in ops:
        best = None
        for _ in range(runs):
            t0 = time.perf_counter()
            reply, data = c.command(cmd)
            took = time.perf_counter() - t0
            best = took if best is None else min(best, took)
        times[name] = best
        if name.startswith("SEARCH BODY"):
            sizes[name] = "%d found" % (len(data.split()) - 2)
        elif name.startswith("UID SEARCH"):
            sizes[name] = "%d found" % (len(data.split()) - 2)
        else:
            sizes[name] = "%d bytes" % len(data)
    c.close()
    return times, sizes


def bench_appliance(msgs, runs):
    d = tempfile.mkdtemp(prefix="pillarbox-bench-")
    b = None
    try:
        b = start_sim(flash=os.path.join(d, "flash.img"), flash_size="64M")
        b.expect(r"services: IMAPS listening on port 993", timeout=60)
        b.expect(r"network: address 10\.0\.2\.15", timeout=60)
        for cmd in ("domain add example.test", "user add %s %s" % (USER, PASSWORD)):
            out = b.command(cmd)
            if "error:" in out:
                raise RuntimeError(out)
        port = b.offset + 993
        c = login(port)
        t0 = time.perf_counter()
        for i in range(0, len(msgs), APPEND_BATCH):
            last = None
            for m in msgs[i:i + APPEND_BATCH]:
                last = c.tag()
                c.send(last + b" APPEND INBOX {%d+}\r\n" % len(m) + m + b"\r\n")
            c.wait(last)
            b._read(0)      # keep the console drained
        load = time.perf_counter() - t0
        c.close()
        times, sizes = run_ops(port, runs)
        b.send("poweroff")
        b.wait(60)
        return times, sizes, load
    finally:
        if b:
            b.kill()
        shutil.rmtree(d, ignore_errors=True)


def bench_dovecot(msgs, runs):
    dc = PrivateDovecot(USER, PASSWORD)
    try:
        for m in msgs:
            dc.add(m)
        dc.start()
        c = login(dc.port)
        t0 = time.perf_counter()
        c.command(b"SELECT INBOX")      # Dovecot builds its index here, once
        index = time.perf_counter() - t0
        c.close()
        times, sizes = run_ops(dc.port, runs)
        return times, sizes, index
    finally:
        dc.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    bench_ready("imap_bench", available())
    msgs = messages(args.messages, args.size)
    print("IMAP: %d messages of %d bytes in INBOX, one IMAPS session on loopback, best of %d,"
          " %d CPUs" % (args.messages, args.size, args.runs, os.cpu_count() or 0), flush=True)
    a, a_sizes, a_load = bench_appliance(msgs, args.runs)
    d, d_sizes, d_index = bench_dovecot(msgs, args.runs)
    print("  loading: appliance %.2f s (APPEND, on flash) | Dovecot %.2f s (first SELECT,"
          " indexing the Maildir)" % (a_load, d_index))
    for name in a:
        print("  %-22s appliance %8.4f s (%s) | Dovecot %8.4f s (%s) | Dovecot/appliance %.2f"
              % (name, a[name], a_sizes[name], d[name], d_sizes[name], d[name] / a[name]),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
