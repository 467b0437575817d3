#!/usr/bin/env python3
"""TLS handshakes per second: the appliance's submission server on 587
against Postfix's smtpd, side by side in the same run.

Each of N client processes (Python's smtplib and ssl, certificate not
verified, no session resumption: every handshake is a full one) repeats
EHLO, STARTTLS, the handshake, EHLO, QUIT.  Both servers use an ECDSA
P-256 key (the appliance makes its own at first boot; Postfix gets one made
here with openssl).  It prints completed sessions per second for each and
the ratio appliance/Postfix.  No speed is asserted; the run fails loudly
only when a session fails.  Needs root (private Postfix), the postfix
package and build/sim/pillarbox-sim.

    python3 tests/bench/tls_bench.py [--handshakes N] [--clients C]
"""
import argparse
import concurrent.futures
import os
import shutil
import smtplib
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
sys.path.insert(0, HERE)

from board import bench_ready, free_port_offset, start_sim  # noqa: E402
from outbound_bench import make_ecdsa_cert  # noqa: E402
from private_postfix import PrivatePostfix, available  # noqa: E402
from smtp_bench import wait_port  # noqa: E402


def client(port, count, start_at):
    """count sessions with STARTTLS; returns (first start, last end, TLS versions seen)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    while time.time() < start_at:
        time.sleep(0.001)
    first, versions = time.time(), set()
    for _ in range(count):
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
            s.ehlo("bench-client.example.net")
            code, msg = s.starttls(context=ctx)
            if code != 220:
                raise RuntimeError("STARTTLS answered %d %r" % (code, msg))
            versions.add(s.sock.version())
            code, _ = s.ehlo("bench-client.example.net")
            if code != 250:
                raise RuntimeError("EHLO after STARTTLS answered %d" % code)
    return first, time.time(), versions


def run(port, handshakes, clients):
    """Sessions per second of the server on port, and the TLS versions used."""
    per = [handshakes // clients + (1 if i < handshakes % clients else 0) for i in range(clients)]
    start_at = time.time() + 1.0  # every process started before the clock runs
    with concurrent.futures.ProcessPoolExecutor(clients) as pool:
        results = list(pool.map(client, [port] * clients, per, [start_at] * clients))
    took = max(r[1] for r in results) - min(r[0] for r in results)
    return handshakes / took, set().union(*(r[2] for r in results))


def bench_appliance(handshakes, clients):
    d = tempfile.mkdtemp(prefix="pillarbox-bench-")
    b = None
    try:
        b = start_sim(flash=os.path.join(d, "flash.img"), flash_size="8M")
        b.expect(r"services: submission listening on port 587", timeout=120)
        b.expect(r"network: address 10\.0\.2\.15", timeout=60)
        # The console is read by a second thread meanwhile, so that the log
        # lines of many sessions never back up into the board.
        pool = concurrent.futures.ThreadPoolExecutor(1)
        fut = pool.submit(run, b.offset + 587, handshakes, clients)
        while not fut.done():
            b._read(0.05)
        pool.shutdown()
        rate = fut.result()
        b.send("poweroff")
        b.wait(60)
        return rate
    finally:
        if b:
            b.kill()
        shutil.rmtree(d, ignore_errors=True)


def bench_postfix(tls_files, handshakes, clients):
    port = free_port_offset() + 587
    pf = PrivatePostfix("tls", {
        "smtpd_tls_security_level": "may",
        "smtpd_tls_chain_files": "%s,%s" % tls_files,
    }, smtpd_port=port)
    try:
        pf.start()
        wait_port(port)
        return run(port, handshakes, clients)
    finally:
        pf.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--handshakes", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=8)
    args = ap.parse_args()
    bench_ready("tls_bench", available())
    print("TLS: %d sessions of EHLO, STARTTLS, handshake (ECDSA P-256, no resumption), EHLO, QUIT"
          " from %d client processes, %d CPUs" % (args.handshakes, args.clients, os.cpu_count() or 0),
          flush=True)
    tmp = tempfile.mkdtemp(prefix="pillarbox-bench-")
    try:
        tls_files = make_ecdsa_cert(tmp, "tls.example.net")
        a, av = bench_appliance(args.handshakes, args.clients)
        p, pv = bench_postfix(tls_files, args.handshakes, args.clients)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("  587 STARTTLS: appliance %6.1f handshakes/s (%s) | Postfix %6.1f handshakes/s (%s)"
          " | appliance/Postfix %.2f" % (a, ",".join(sorted(av)), p, ",".join(sorted(pv)), a / p),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
