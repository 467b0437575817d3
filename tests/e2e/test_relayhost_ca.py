"""End-to-end: the relay host's certificate checked against the CA roots
bundled in the image, when no fingerprint is pinned.

The sim used here (build/test/pillarbox-sim-testca) is the firmware whose
bundle also holds a test CA made at build time (build/test/testca/, never
part of the product), so that a relay host certificate can be signed by a
trusted root.  The relay host is relay.example.net, named by the test DNS
server at 10.0.2.104, which --guestfwd connects to a TLS sink on the host
(test_dane.TlsSink).  Checked: a certificate from a CA outside the bundle
is refused and the mail deferred, with nothing sent in plaintext; one from
the bundled test CA is accepted; a trusted certificate naming another host
is refused, until its fingerprint is pinned; a relay host given as an
address without a pin is refused.
"""
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import test_dns
from board import ROOT, start_sim
from test_dane import TlsSink, make_ca_chain
from test_outbound import BODY

SIM_TESTCA = os.path.join(ROOT, "build", "test", "pillarbox-sim-testca")
TESTCA = os.path.join(ROOT, "build", "test", "testca")
RELAY = "relay.example.net"
test_dns.ZONE[RELAY] = {test_dns.T_A: (60, [socket.inet_aton("10.0.2.104")], False)}


def sign_with_test_ca(directory, host):
    """A P-256 key and a certificate for host signed by the bundled test CA;
    returns (cert, key, sha256 of the certificate DER)."""
    key, csr = os.path.join(directory, host + ".key"), os.path.join(directory, host + ".csr")
    cert, ext = os.path.join(directory, host + ".pem"), os.path.join(directory, host + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\n" % host)
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", csr, "-subj", "/CN=" + host], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(TESTCA, "ca.crt"),
                    "-CAkey", os.path.join(TESTCA, "ca.key"), "-CAcreateserial",
                    "-CAserial", os.path.join(directory, "serial"),
                    "-days", "2", "-extfile", ext, "-out", cert], check=True, capture_output=True)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, hashlib.sha256(der).hexdigest()


class RelayhostCa(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SIM_TESTCA):
            raise AssertionError("%s is missing (make build/test/pillarbox-sim-testca)" % SIM_TESTCA)
        cls.certdir = tempfile.mkdtemp(prefix="pillarbox-certs-")
        cls.trusted = sign_with_test_ca(cls.certdir, RELAY)
        cls.misnamed = sign_with_test_ca(cls.certdir, "other.example.net")
        untrusted_dir = os.path.join(cls.certdir, "untrusted")
        os.makedirs(untrusted_dir)
        cls.untrusted = make_ca_chain(untrusted_dir, RELAY)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.dns = test_dns.DnsServer(test_dns.Zone())
        self.sink = None
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        if self.sink:
            self.sink.close()
        self.dns.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self, cert, key, relayhost=RELAY + ":587"):
        self.sink = TlsSink(cert, key, auth=("relay-user", "relay-pw"))
        b = self.board = start_sim(flash=os.path.join(self.dir, "flash.img"), flash_size="8M", binary=SIM_TESTCA,
                                   extra=["--guestfwd", "10.0.2.104:587=127.0.0.1:%d" % self.sink.port])
        b.expect(r"services: SMTP listening on port 25")
        b.expect(r"network: address 10\.0\.2\.15")
        for c in ("domain add example.test", "user add alice@example.test alice-pw",
                  "alias add fwd@example.test bob@anywhere.example", "set dns 10.0.2.2:%d" % self.dns.port,
                  "set relayhost " + relayhost, "set relayhost-auth relay-user relay-pw"):
            self.assertNotIn("error:", b.command(c), c)
        return b

    def send(self, b):
        import smtplib
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            s.ehlo("client.example.test")
            self.assertEqual(s.sendmail("alice@example.test", ["fwd@example.test"], BODY), {})

    def assert_nothing_sent(self):
        """No message reached the sink, and before TLS only EHLO and
        STARTTLS went to it (no login, no mail in plaintext)."""
        time.sleep(0.5)
        self.assertEqual(self.sink.messages, [])
        for line in self.sink.plain.split(b"\r\n"):
            if line:
                self.assertRegex(line, rb"^(EHLO \S+|STARTTLS|QUIT)$")
        self.assertFalse(any(l.startswith(b"AUTH") for l in self.sink.tls_lines))

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(30), 0)
        self.board.kill()
        self.board = None

    def test_ca_outside_the_bundle_defers(self):
        chain, key, _ = self.untrusted
        b = self.boot(chain, key)
        self.send(b)
        b.expect(r"relay: \d+ of \d+ CA roots of ca-certificates \S+ loaded for the relay host "
                 r"\(\d+ KiB of TLS arena\)", timeout=60)
        b.expect(r"TLS: certificate not accepted: untrusted \(no path to a known root\); this host is skipped",
                 timeout=60)
        b.expect(r"to=<bob@anywhere\.example> .*status=deferred")
        self.assert_nothing_sent()
        self.assertIn("bob@anywhere.example", b.command("show queue"))
        self.poweroff()

    def test_bundled_ca_delivers(self):
        cert, key, _ = self.trusted
        b = self.boot(cert, key)
        self.send(b)
        b.expect(r"to=<bob@anywhere\.example> relay=relay\.example\.net\[10\.0\.2\.104\]:587 tls=TLSv1\.[23] "
                 r"cert=verified\(CA roots\) status=sent", timeout=60)
        time.sleep(1)
        self.assertEqual(len(self.sink.messages), 1)
        self.assertTrue(self.sink.messages[0][3])
        self.assertTrue(self.sink.messages[0][2].endswith(BODY))
        self.poweroff()

    def test_name_mismatch_defers_until_pinned(self):
        cert, key, fingerprint = self.misnamed
        b = self.boot(cert, key)
        self.send(b)
        b.expect(r"TLS: certificate not accepted: name mismatch; this host is skipped", timeout=60)
        b.expect(r"to=<bob@anywhere\.example> .*status=deferred")
        self.assert_nothing_sent()
        # The operator pins that very certificate: the pin decides, not the name.
        self.assertNotIn("error:", b.command("set relayhost-fingerprint " + fingerprint))
        b.command("queue flush")
        b.expect(r"to=<bob@anywhere\.example> relay=relay\.example\.net\[10\.0\.2\.104\]:587 tls=TLSv1\.[23] "
                 r"pin=matched status=sent", timeout=60)
        time.sleep(1)
        self.assertEqual(len(self.sink.messages), 1)
        self.poweroff()

    def test_address_without_pin_defers(self):
        cert, key, _ = self.trusted
        b = self.boot(cert, key, relayhost="[10.0.2.104]:587")
        self.send(b)
        b.expect(r"the relay host is an address: its certificate cannot be checked by name", timeout=60)
        b.expect(r"status=deferred")
        time.sleep(0.5)
        self.assertEqual(self.sink.messages, [])
        self.assertEqual(self.sink.handshakes, 0)
        self.poweroff()


if __name__ == "__main__":
    unittest.main()
