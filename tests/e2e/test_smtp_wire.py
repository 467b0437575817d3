"""SMTP on the wire: the server on port 25 through the sim's port forward,
talking to Python's smtplib, openssl's STARTTLS client and raw sockets.

Until the flash store exists the test build (build/test/pillarbox-sim-diag)
runs the real SMTP server over a recording backend that logs each committed
message as "diag: stored ID rcpts=N size=S body-sha256=HEX".
"""
import hashlib
import re
import socket
import smtplib
import ssl
import subprocess
import time
import unittest

from board import SIM_DIAG, start_sim


def unverified():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class SmtpWire(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        b = cls.board = start_sim(binary=SIM_DIAG)
        b.expect(r"diag: SMTP listening on port 25")
        b.expect(r"network: address 10\.0\.2\.15")
        cls.port = b.offset + 25

    @classmethod
    def tearDownClass(cls):
        cls.board.send("poweroff")
        rc = cls.board.wait(20)
        cls.board.kill()
        assert rc == 0, "poweroff exit status %r" % rc

    def stored(self, timeout=20):
        m = self.board.expect(r"diag: stored (\w+) rcpts=(\d+) size=(\d+) body-sha256=([0-9a-f]+)",
                              timeout)
        return m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        f = s.makefile("rb")
        greeting = f.readline()
        self.assertTrue(greeting.startswith(b"220 2.0.0 mx.example.test ESMTP"), greeting)
        return s, f

    def test_smtplib_plain_then_starttls(self):
        body = (b"Subject: hello\r\nFrom: a@example.net\r\n\r\n.leading dot\r\n"
                + b"8-bit: gr\xc3\xbc\xc3\x9fe\r\n" + (b"y" * 900 + b"\r\n") * 300)
        digest = hashlib.sha256(body).hexdigest()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            code, caps = s.ehlo("client.example.net")
            self.assertEqual(code, 250)
            for ext in (b"SIZE 26214400", b"PIPELINING", b"8BITMIME", b"ENHANCEDSTATUSCODES",
                        b"SMTPUTF8", b"CHUNKING", b"STARTTLS"):
                self.assertIn(ext, caps)
            self.assertEqual(s.sendmail("a@example.net", ["alice@example.test", "bob@example.test"],
                                        body, mail_options=["BODY=8BITMIME"]), {})
            qid, rcpts, _, sha = self.stored()
            self.assertEqual((rcpts, sha), (2, digest))
            self.assertRegex(self.board.expect(r"smtp: %s .*" % qid).group(0),
                             r"from=<a@example\.net> rcpts=2 .* tls=no result=250")

            s.starttls(context=unverified())
            code, caps = s.ehlo("client.example.net")
            self.assertNotIn(b"STARTTLS", caps)
            self.assertEqual(s.sendmail("a@example.net", ["alice@example.test"], body), {})
            qid, rcpts, _, sha = self.stored()
            self.assertEqual((rcpts, sha), (1, digest))
            self.assertRegex(self.board.expect(r"smtp: %s .*" % qid).group(0),
                             r"tls=TLSv1\.[23] result=250")
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as e:
                s.sendmail("a@example.net", ["x@elsewhere.example"], body)
            self.assertEqual(e.exception.recipients["x@elsewhere.example"][0], 554)

    def test_openssl_starttls(self):
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port,
                            "-starttls", "smtp", "-tls1_3", "-ign_eof"],
                           input=b"EHLO probe.example.net\r\nQUIT\r\n", capture_output=True,
                           timeout=30)
        out = p.stdout.decode(errors="replace")
        self.assertRegex(out, r"New, TLSv1\.3, Cipher is TLS_")
        self.assertIn("250-mx.example.test Hello probe.example.net", out)
        self.assertIn("221 2.0.0 mx.example.test closing connection", out)

    def test_starttls_injection_is_dropped(self):
        s, f = self.raw()
        s.sendall(b"EHLO probe.example.net\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        # The NOOP rides in the same packet as STARTTLS: it must be thrown away.
        s.sendall(b"STARTTLS\r\nNOOP\r\n")
        self.assertTrue(f.readline().startswith(b"220 2.0.0 Ready to start TLS"))
        t = unverified().wrap_socket(s, server_hostname="mx.example.test")
        t.settimeout(2)
        with self.assertRaises(socket.timeout):
            data = t.recv(100)
            self.fail("server answered an injected command: %r" % data)
        t.settimeout(10)
        t.sendall(b"NOOP\r\n")
        self.assertTrue(t.recv(100).startswith(b"250 2.0.0 Ok"))
        t.close()

    def test_smuggling_probes_make_no_second_message(self):
        for end in (b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r"):
            s, f = self.raw()
            s.sendall(b"EHLO probe.example.net\r\nMAIL FROM:<a@example.net>\r\n"
                      b"RCPT TO:<alice@example.test>\r\nDATA\r\n")
            while not f.readline().startswith(b"354 "):
                pass
            s.sendall(b"Subject: first\r\n\r\nbody" + end +
                      b"MAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                      b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n")
            replies = f.read().decode()
            f.close()
            s.close()
            self.assertRegex(replies, r"^554 5\.6\.0 Message refused: it contains a bare (LF|CR)",
                             repr(end))
            self.assertNotIn("250 2.1.0", replies, repr(end))
            self.assertNotIn("queued as", replies, repr(end))
        # Nothing was stored for any probe.
        self.assertNotRegex(self.board.out[self.board.pos:], r"diag: stored")

    def test_client_that_never_reads_is_dropped(self):
        # A small receive buffer, so the replies it never reads pile up in
        # the appliance and not in this host's socket buffers.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(30)
        s.connect(("127.0.0.1", self.port))
        dropped = False
        try:
            for _ in range(4000):
                s.sendall(b"NOOP\r\n" * 1000)
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            dropped = True
        s.close()
        self.assertTrue(dropped)
        self.board.expect(r"smtp: [\d.]+: dropped, it sends without reading replies")
        # Others are still served.
        c, f = self.raw()
        c.sendall(b"NOOP\r\n")
        self.assertTrue(f.readline().startswith(b"250 2.0.0 Ok"))
        f.close()
        c.close()

    def test_session_limit(self):
        held = [self.raw() for _ in range(16)]
        try:
            extra = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            reply = extra.makefile("rb").readline()
            self.assertTrue(reply.startswith(b"421 4.3.2 Too many connections"), reply)
            extra.close()
            # The sessions already open are unaffected.
            s, f = held[0]
            s.sendall(b"HELO probe.example.net\r\nMAIL FROM:<a@example.net>\r\n"
                      b"RCPT TO:<alice@example.test>\r\nDATA\r\nSubject: ok\r\n\r\nok\r\n.\r\n")
            lines = [f.readline() for _ in range(5)]
            self.assertTrue(lines[4].startswith(b"250 2.0.0 Ok: queued as"), lines)
            self.stored()
        finally:
            for s, f in held:
                f.close()
                s.close()
        time.sleep(1)
        # Once they are gone, new sessions are welcome again.
        s, f = self.raw()
        f.close()
        s.close()


if __name__ == "__main__":
    unittest.main()
