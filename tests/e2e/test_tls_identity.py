"""End-to-end: the appliance's TLS certificate from the console.  `show
tls` tells fingerprint, subject and expiry; `tls import` takes a PEM
certificate and key made by the openssl CLI (refusing a key of another
certificate); `tls regenerate` makes a new self-signed one after a typed
confirmation; either is served on IMAPS at once (new connections) and
after a reboot."""
import hashlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from board import start_sim


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def served_fingerprint(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        with ctx.wrap_socket(s) as t:
            der = t.getpeercert(binary_form=True)
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl CLI")
class TlsIdentity(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.board = None
        for name, cn in (("office", "mail.example.test"), ("other", "other.example.test")):
            key, crt = os.path.join(self.dir, name + ".key"), os.path.join(self.dir, name + ".crt")
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "90", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=DNS:" + cn)

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def paste(self, b, text):
        b.send("tls import")
        b.expect(r"then a line with only '\.'")
        for line in text.splitlines():
            b.send(line)
        b.send(".")

    def test_show_import_regenerate(self):
        flash = os.path.join(self.dir, "flash.img")
        b = self.board = start_sim(flash=flash)
        b.expect(r"network: address 10\.0\.2\.15")
        out = b.command("show tls")
        fpr = re.search(r"fingerprint ([0-9A-F:]{95})", out).group(1)
        self.assertIn("subject     CN=pillarbox", out)
        self.assertRegex(out, r"not after   20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC")
        self.assertIn("self-signed", out)
        self.assertEqual(served_fingerprint(b.offset + 993), fpr)

        # A key that belongs to another certificate: refused, nothing changes.
        self.paste(b, self.read("office.crt") + self.read("other.key"))
        b.expect("error: the private key does not belong to the certificate")
        self.assertIn(fpr, b.command("show tls"))

        # The office's own: taken, with a warning about the name.
        crt = self.read("office.crt")
        der = ssl.PEM_cert_to_DER_cert(crt)
        want = ":".join("%02X" % x for x in hashlib.sha256(der).digest())
        self.paste(b, crt + self.read("office.key"))
        b.expect(r"warning: the certificate does not name pillarbox")
        b.expect(r"certificate imported, SHA-256 fingerprint " + want)
        b.expect(r"in use now for new connections")
        out = b.command("show tls")
        self.assertIn("CN=mail.example.test", out)
        self.assertIn("in use      yes", out)
        self.assertNotIn("PRIVATE KEY", b.out)        # the paste is never echoed
        self.assertEqual(served_fingerprint(b.offset + 993), want)    # at once, no reboot
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertEqual(served_fingerprint(b.offset + 993), want)

        # Regenerate: asks first; 'no' keeps it.
        b.send("tls regenerate")
        b.expect("Type 'regenerate'")
        b.send("no")
        b.expect("the TLS key was kept")
        b.send("tls regenerate")
        b.expect("Type 'regenerate'")
        b.send("regenerate")
        new = b.expect(r"new self-signed certificate, SHA-256 fingerprint ([0-9A-F:]{95})").group(1)
        self.assertNotEqual(new, want)
        b.expect(r"in use now for new connections")
        self.assertEqual(served_fingerprint(b.offset + 993), new)
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertEqual(served_fingerprint(b.offset + 993), new)

    def test_power_cut_while_regenerating(self):
        """A power cut at each flash operation of 'tls regenerate': after
        the reboot the appliance serves either the old certificate or the
        new one, always with its own key (the handshake works), and the
        store is consistent: key and certificate are one transaction."""
        flash = os.path.join(self.dir, "flash.img")
        b = self.board = start_sim(flash=flash)
        b.expect(r"network: address 10\.0\.2\.15")
        old = served_fingerprint(b.offset + 993)
        b.send("poweroff")
        self.assertEqual(b.wait(30), 0)
        b.kill()
        seen_new = False
        for cut in range(1, 16):
            b = self.board = start_sim(flash=flash, extra=["--powercut-after", str(cut)])
            try:
                b.expect(r"network: address 10\.0\.2\.15")
                b.send("tls regenerate")
                b.expect("Type 'regenerate'")
                b.send("regenerate")
                b.expect(r"in use now|error:")
                cut_hit = False     # the whole regenerate fitted before the cut
            except AssertionError:
                cut_hit = True
            rc = b.wait(10) if cut_hit else None
            if cut_hit:
                self.assertEqual(rc, 99, "cut %d: %s" % (cut, b.out[-800:]))
            b.kill()
            b = self.board = start_sim(flash=flash)
            b.expect(r"network: address 10\.0\.2\.15")
            served = served_fingerprint(b.offset + 993)
            self.assertIn("fingerprint " + served, b.command("show tls"), "cut %d" % cut)
            self.assertIn(" 0 problems", b.command("storage check"), "cut %d" % cut)
            seen_new = seen_new or served != old
            old = served
            b.send("poweroff")
            self.assertEqual(b.wait(30), 0)
            b.kill()
            self.board = None
            if not cut_hit:
                break
        self.assertTrue(seen_new, "no regenerate ever reached flash")
        self.assertFalse(cut_hit, "still cutting after 15 flash operations")


if __name__ == "__main__":
    unittest.main()
