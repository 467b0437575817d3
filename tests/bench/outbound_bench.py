#!/usr/bin/env python3
"""Outbound benchmark: the appliance's queue runner against Postfix relaying
the same load to the same sink, in the same run.

The sink is a private Postfix on loopback that delivers example.net into a
Maildir.  For each of plaintext and STARTTLS (the sink offers STARTTLS with
an ECDSA P-256 certificate, or not at all):
  (a) smtp-source submits N messages of SIZE octets over one plain SMTP
      session on loopback to the appliance (sim board, fresh flash), to a
      local alias that points at bench@example.net; a test DNS server names
      the MX 10.0.2.100, which the sim's --guestfwd connects to the sink;
  (b) smtp-source submits the same load the same way to a second private
      Postfix, whose relayhost is the sink (opportunistic TLS, as the
      appliance's).
The clock runs from the first submission to the moment the sink's Maildir
holds all N.  It prints messages/s for each and the ratio appliance/Postfix,
and how many SMTP sessions the sink saw for them (the appliance's guestfwd
costs one relay process per connection).  No speed is asserted anywhere;
the run fails loudly only when a message is missing at the sink.  Needs
root (private Postfix), the postfix package and build/sim/pillarbox-sim.

    python3 tests/bench/outbound_bench.py [--messages N] [--size BYTES] [--modes plain,starttls]
"""
import argparse
import os
import pwd
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
sys.path.insert(0, HERE)

import test_dns  # noqa: E402
from board import bench_ready, free_port_offset, start_sim  # noqa: E402
from private_postfix import SMTP_SOURCE, PrivatePostfix, available  # noqa: E402
from smtp_bench import smtp_source, wait_port  # noqa: E402

RUN_TIMEOUT = 1200
test_dns.ZONE.update({
    "example.net": {test_dns.T_MX: (3600, [struct.pack(">H", 10) + test_dns.wire_name("mx.example.net")], False)},
    "mx.example.net": {test_dns.T_A: (3600, [bytes([10, 0, 2, 100])], False)},
})


def relay_limits():
    """(connections at once, messages per connection) of the queue runner,
    as smtp/smtp_relay.h sets them."""
    with open(os.path.join(HERE, "..", "..", "smtp", "smtp_relay.h")) as f:
        h = f.read()
    conns = int(re.search(r"#define SMTP_RELAY_CONNS\s+(\d+)", h).group(1))
    more = int(re.search(r"#define SMTP_RELAY_SESSION_MSGS\s+(\d+)", h).group(1))
    return conns, more + 1


def make_ecdsa_cert(directory, name):
    """A self-signed ECDSA P-256 certificate for name; returns (key, cert) paths."""
    key, cert = os.path.join(directory, name + ".key"), os.path.join(directory, name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name,
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    os.chmod(key, 0o644)  # a throwaway key that Postfix's unprivileged daemons read
    return key, cert


class Sink:
    """A private Postfix on 127.0.0.1:port delivering example.net to a Maildir."""

    def __init__(self, tls_files=None):
        self.port = free_port_offset() + 25
        nobody = pwd.getpwnam("nobody")
        settings = {
            "virtual_mailbox_domains": "example.net",
            "virtual_mailbox_maps": "static:sink/Maildir/",
            "virtual_uid_maps": "static:%d" % nobody.pw_uid,
            "virtual_gid_maps": "static:%d" % nobody.pw_gid,
            "smtpd_tls_security_level": "may" if tls_files else "none",
        }
        if tls_files:
            settings["smtpd_tls_chain_files"] = "%s,%s" % tls_files
            settings["smtpd_tls_loglevel"] = "1"
        self.pf = PrivatePostfix("sink", settings, smtpd_port=self.port)
        mail = os.path.join(self.pf.dir, "mail")
        os.makedirs(mail)
        os.chown(mail, nobody.pw_uid, nobody.pw_gid)
        self.pf.postconf("virtual_mailbox_base=" + mail)
        self.new = os.path.join(mail, "sink", "Maildir", "new")
        self.pf.start()
        wait_port(self.port)

    def delivered(self):
        try:
            return len(os.listdir(self.new))
        except OSError:
            return 0

    def sessions(self):
        """(SMTP sessions so far, of which with TLS) from the sink's log."""
        log = self.pf.log_text()
        return log.count(" connect from "), log.count("TLS connection established from")

    def close(self):
        self.pf.cleanup()


def wait_sink(sink, want, drain, what):
    end = time.monotonic() + RUN_TIMEOUT
    while sink.delivered() < want:
        if time.monotonic() > end:
            raise RuntimeError("%s: the sink has %d of %d messages after %d s"
                               % (what, sink.delivered(), want, RUN_TIMEOUT))
        drain(0.05)


def bench_appliance(sink, messages, size):
    d = tempfile.mkdtemp(prefix="pillarbox-bench-")
    dns = test_dns.DnsServer(test_dns.Zone())
    b = None
    try:
        b = start_sim(flash=os.path.join(d, "flash.img"), flash_size="64M",
                      extra=["--guestfwd", "10.0.2.100:25=127.0.0.1:%d" % sink.port])
        b.expect(r"services: SMTP listening on port 25", timeout=60)
        b.expect(r"network: address 10\.0\.2\.15", timeout=60)
        for c in ("domain add example.test", "alias add fwd@example.test bench@example.net",
                  "set dns 10.0.2.2:%d" % dns.port):
            out = b.command(c)
            if "error:" in out:
                raise RuntimeError(c + ": " + out)
        base, (s0, t0) = sink.delivered(), sink.sessions()
        start = time.monotonic()
        smtp_source(b.offset + 25, messages, size, 1, "fwd@example.test", drain=b._read)
        wait_sink(sink, base + messages, b._read, "appliance")
        took = time.monotonic() - start
        s1, t1 = sink.sessions()
        b.send("poweroff")
        b.wait(60)
        return took, s1 - s0, t1 - t0
    finally:
        if b:
            b.kill()
        dns.close()
        shutil.rmtree(d, ignore_errors=True)


def bench_postfix(sink, messages, size):
    port = free_port_offset() + 25
    pf = PrivatePostfix("relay", {
        "relayhost": "[127.0.0.1]:%d" % sink.port,
        "smtp_tls_security_level": "may",
    }, smtpd_port=port)
    try:
        pf.start()
        wait_port(port)
        base, (s0, t0) = sink.delivered(), sink.sessions()
        start = time.monotonic()
        smtp_source(port, messages, size, 1, "bench@example.net")
        wait_sink(sink, base + messages, time.sleep, "Postfix")
        took = time.monotonic() - start
        s1, t1 = sink.sessions()
        return took, s1 - s0, t1 - t0
    finally:
        pf.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--modes", default="plain,starttls")
    args = ap.parse_args()
    bench_ready("outbound_bench", available() or (None if os.path.isabs(SMTP_SOURCE) else "smtp-source is missing"))

    print("Outbound: %d messages of %d bytes submitted over 1 plain SMTP session, timed until a"
          " Postfix sink has them all, %d CPUs" % (args.messages, args.size, os.cpu_count() or 0),
          flush=True)
    tmp = tempfile.mkdtemp(prefix="pillarbox-bench-")
    try:
        tls_files = make_ecdsa_cert(tmp, "mx.example.net")
        for mode in args.modes.split(","):
            sink = Sink(tls_files if mode == "starttls" else None)
            try:
                a, a_sess, a_tls = bench_appliance(sink, args.messages, args.size)
                p, p_sess, p_tls = bench_postfix(sink, args.messages, args.size)
            finally:
                sink.close()
            if mode == "starttls" and (a_tls < a_sess or p_tls < p_sess):
                raise RuntimeError("STARTTLS run: only %d of %d appliance sessions and %d of %d"
                                   " Postfix sessions used TLS" % (a_tls, a_sess, p_tls, p_sess))
            ra, rp = args.messages / a, args.messages / p
            print("  %-8s: appliance %6.1f msg/s (%d sessions to the sink) | Postfix relay %6.1f msg/s"
                  " (%d sessions) | appliance/Postfix %.2f"
                  % (mode, ra, a_sess, rp, p_sess, ra / rp), flush=True)
        print("  (the sim reaches the sink through --guestfwd, which starts one relay process per"
              " connection; the appliance delivers over at most %d connections at once, each carrying"
              " up to %d messages, Postfix over up to 20)" % relay_limits(), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
