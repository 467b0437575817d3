"""Outbound throughput of the sim: N messages of 4 KiB queued (the sink
refusing them with 451 at first), then `queue flush` with the sink taking
them; prints messages/s from the flush to the last delivery.  A
measurement, not a test: run by hand (python3 tests/bench/outbound_bench.py [N])
after make sim.
"""
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import test_dns  # noqa: E402
from board import start_sim  # noqa: E402
from test_outbound import Sink  # noqa: E402


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    dns = test_dns.DnsServer(test_dns.Zone())
    sink = Sink()
    sink.rcpt = lambda addr, t: "451 4.3.0 not yet"
    b = start_sim(flash_size="64M", extra=["--guestfwd", "10.0.2.100:25=127.0.0.1:%d" % sink.port])
    try:
        b.expect(r"network: address 10\.0\.2\.15")
        for c in ("domain add example.test", "user add alice@example.test pw",
                  "alias add fwd@example.test bob@example.net", "set dns 10.0.2.2:%d" % dns.port):
            b.command(c)
        body = b"From: alice@example.test\r\nSubject: bench\r\n\r\n" + (b"x" * 78 + b"\r\n") * 51
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=60) as s:
            for _ in range(n):
                s.sendmail("alice@example.test", ["fwd@example.test"], body)
        deadline = time.time() + 120
        while b.out.count("status=deferred") < n and time.time() < deadline:
            b._read(0.2)
        sink.rcpt = lambda addr, t: "250 2.1.5 Ok"
        start = time.time()
        b.command("queue flush", timeout=120)
        while len(sink.messages) < n and time.time() < deadline + 300:
            b._read(0.05)
        while b.out.count("done, 1 sent") < n and time.time() < deadline + 300:
            b._read(0.05)
        took = time.time() - start
        print("outbound: %d messages of %d octets in %.2f s: %.1f messages/s (sink got %d)"
              % (n, len(body), took, n / took, len(sink.messages)))
        b.send("poweroff")
        b.wait(30)
    finally:
        b.kill()
        sink.close()
        dns.close()


if __name__ == "__main__":
    main()
