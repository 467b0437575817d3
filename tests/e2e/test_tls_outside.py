"""TLS from outside: a host client reaches the appliance's TLS stack through
the port forward and sees what a mail client would: TLS 1.3 (or 1.2 with a
forward-secret suite), the self-signed certificate whose fingerprint the
console printed, and its data back intact.  Older protocols and static-RSA
suites are refused.

The sim runs as build/test/pillarbox-sim-diag: the product firmware with its
service table replaced by a TLS echo listener on 443 (tests/e2e/diag_services.c),
until the real TLS services (SMTP's STARTTLS, 465, 993, 995, 443) exist.
"""
import hashlib
import os
import socket
import ssl
import subprocess
import unittest

from board import SIM_DIAG, start_sim

FPR = r"SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})"


class TlsFromOutside(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        b = cls.board = start_sim(binary=SIM_DIAG)
        cls.fingerprint = b.expect(r"identity: TLS certificate for pillarbox, " + FPR).group(1)
        b.expect(r"diag: TLS echo listening on port 443")
        b.expect(r"network: address 10\.0\.2\.15")
        cls.port = b.offset + 443

    @classmethod
    def tearDownClass(cls):
        cls.board.send("poweroff")
        rc = cls.board.wait(20)
        cls.board.kill()
        assert rc == 0, "poweroff exit status %r" % rc

    def s_client(self, *args):
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port,
                            "-servername", "pillarbox"] + list(args),
                           input=b"", capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")

    def test_openssl_tls13_and_the_printed_certificate(self):
        rc, out = self.s_client("-tls1_3", "-showcerts")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"New, TLSv1\.3, Cipher is TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)")
        self.assertIn("subject=O = Pillarbox, CN = pillarbox", out)
        pem = out[out.index("-----BEGIN CERTIFICATE-----"):out.index("-----END CERTIFICATE-----") + 25]
        der = ssl.PEM_cert_to_DER_cert(pem)
        fpr = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
        self.assertEqual(fpr, self.fingerprint)

    def test_openssl_tls12_forward_secret(self):
        rc, out = self.s_client("-tls1_2")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"New, TLSv1\.2, Cipher is ECDHE-")
        self.assertIn("Secure Renegotiation IS supported", out)

    def test_old_protocols_refused(self):
        for flag in ("-tls1_1", "-tls1"):
            rc, out = self.s_client(flag, "-cipher", "DEFAULT:@SECLEVEL=0")
            self.assertNotEqual(rc, 0, flag)
            self.assertRegex(out, r"Cipher is \(NONE\)|alert|error")

    def test_static_rsa_refused(self):
        rc, out = self.s_client("-tls1_2", "-cipher", "AES256-GCM-SHA384:AES128-SHA256")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("Cipher is (NONE)", out)

    def test_one_mebibyte_echo(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        data = os.urandom(1 << 20)
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="pillarbox") as s:
                self.assertEqual(s.version(), "TLSv1.3")
                der = s.getpeercert(binary_form=True)
                fpr = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
                self.assertEqual(fpr, self.fingerprint)
                got = bytearray()
                sent = 0
                s.setblocking(False)
                import select
                while len(got) < len(data):
                    w = [s] if sent < len(data) else []
                    r, w, _ = select.select([s], w, [], 30)
                    self.assertTrue(r or w, "stalled at %d/%d" % (len(got), len(data)))
                    if w:
                        try:
                            sent += s.send(data[sent:sent + 16384])
                        except ssl.SSLWantWriteError:
                            pass
                    if r:
                        try:
                            chunk = s.recv(65536)
                        except ssl.SSLWantReadError:
                            continue
                        self.assertTrue(chunk, "closed early at %d" % len(got))
                        got += chunk
                self.assertEqual(bytes(got), data)


if __name__ == "__main__":
    unittest.main()
