#!/usr/bin/env python3
"""SMTP-in benchmark: the appliance on the sim board against Postfix, side by side.

Postfix's smtp-source sends 2,000 messages of 4 KiB payload, over 1 and over
10 parallel sessions (each session keeps its connection, -d), in plain SMTP
on loopback, to:
  (a) the appliance on the sim board (fresh flash; a message is answered 250
      only once it is on flash), and
  (b) a private Postfix instance on loopback that delivers to a Maildir with
      its default durability (queue file fsynced before 250).
It prints messages/s accepted for each and the ratio appliance/Postfix, and
for Postfix also the rate until every message is in the Maildir.
A benchmark, not a test: nothing here asserts a speed. Needs root (for the
private Postfix), the postfix package and build/sim/pillarbox-sim (make sim).

    python3 tests/bench/smtp_bench.py [--messages N] [--size BYTES] [--sessions 1,10]
"""
import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

from board import bench_ready, free_port_offset, start_sim  # noqa: E402
from private_postfix import SMTP_SOURCE, PrivatePostfix, available  # noqa: E402

RUN_TIMEOUT = 900


def smtp_source(port, messages, size, sessions, rcpt, drain=None):
    """Run smtp-source against 127.0.0.1:port; return the seconds it took."""
    argv = [SMTP_SOURCE, "-4", "-d", "-s", str(sessions), "-m", str(messages), "-l", str(size),
            "-M", "bench-client.example.net", "-f", "sender@example.net", "-t", rcpt,
            "127.0.0.1:%d" % port]
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    end = start + RUN_TIMEOUT
    while p.poll() is None:
        if time.monotonic() > end:
            p.kill()
            p.wait()
            raise RuntimeError("smtp-source did not finish in %d s" % RUN_TIMEOUT)
        if drain:
            drain(0.05)
        else:
            time.sleep(0.01)
    took = time.monotonic() - start
    out = p.stdout.read().decode(errors="replace")
    p.stdout.close()
    if p.returncode != 0:
        raise RuntimeError("smtp-source failed (%d): %s" % (p.returncode, out[-2000:]))
    return took


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on 127.0.0.1:%d" % port)


def bench_appliance(messages, size, sessions):
    d = tempfile.mkdtemp(prefix="pillarbox-bench-")
    b = None
    try:
        b = start_sim(flash=os.path.join(d, "flash.img"), flash_size="64M")
        b.expect(r"services: SMTP listening on port 25", timeout=60)
        b.expect(r"network: address 10\.0\.2\.15", timeout=60)
        for c in ("domain add example.test", "user add bench@example.test bench-pw"):
            out = b.command(c)
            if "error:" in out:
                raise RuntimeError(out)
        # Keep reading the console while the run goes, so its log lines
        # never back up into the board.
        took = smtp_source(b.offset + 25, messages, size, sessions, "bench@example.test",
                           drain=b._read)
        accepted = b.out.count("result=250")
        if accepted != messages:
            raise RuntimeError("the appliance logged %d accepted messages, not %d"
                               % (accepted, messages))
        b.send("poweroff")
        b.wait(60)
        return took
    finally:
        if b:
            b.kill()
        shutil.rmtree(d, ignore_errors=True)


def count_files(path):
    try:
        return len(os.listdir(path))
    except OSError:
        return 0


def bench_postfix(messages, size, sessions):
    port = free_port_offset() + 25
    nobody = pwd.getpwnam("nobody")
    pf = PrivatePostfix("bench", {
        "virtual_mailbox_domains": "bench.test",
        "virtual_mailbox_maps": "static:bench/Maildir/",
        "virtual_uid_maps": "static:%d" % nobody.pw_uid,
        "virtual_gid_maps": "static:%d" % nobody.pw_gid,
    }, smtpd_port=port)
    try:
        mail = os.path.join(pf.dir, "mail")
        os.makedirs(mail)
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
        pf.postconf("virtual_mailbox_base=" + mail)
        pf.start()
        wait_port(port)
        start = time.monotonic()
        took = smtp_source(port, messages, size, sessions, "bench@bench.test")
        new = os.path.join(mail, "bench", "Maildir", "new")
        end = time.monotonic() + RUN_TIMEOUT
        while count_files(new) < messages:
            if time.monotonic() > end:
                raise RuntimeError("Postfix delivered %d of %d to the Maildir:\n%s"
                                   % (count_files(new), messages, pf.log_text()[-3000:]))
            time.sleep(0.02)
        delivered = time.monotonic() - start
        return took, delivered
    finally:
        pf.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--sessions", default="1,10")
    args = ap.parse_args()
    bench_ready("smtp_bench", available() or (None if os.path.isabs(SMTP_SOURCE) else "smtp-source is missing"))

    print("SMTP in: %d messages of %d bytes, smtp-source -d, plain SMTP on loopback, %d CPUs"
          % (args.messages, args.size, os.cpu_count() or 0), flush=True)
    rows = []
    for sessions in [int(s) for s in args.sessions.split(",")]:
        a = bench_appliance(args.messages, args.size, sessions)
        p, p_all = bench_postfix(args.messages, args.size, sessions)
        ra, rp, rp_all = args.messages / a, args.messages / p, args.messages / p_all
        rows.append((sessions, ra, rp, rp_all))
        print("  %2d session(s): appliance %7.0f msg/s accepted | Postfix %7.0f msg/s accepted"
              " (%5.0f msg/s into Maildir) | appliance/Postfix %.2f"
              % (sessions, ra, rp, rp_all, ra / rp), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
