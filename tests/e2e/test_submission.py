"""Submission, end to end on the sim: the office's own people send through
587 (STARTTLS) and 465 (TLS from the first byte) after logging in, as
Python's smtplib does it; local mail is delivered at once and mail for
other domains waits in the outbound queue.  What is on flash is read back
after power-off with build/test/store-dump."""
import os
import shutil
import smtplib
import socket
import ssl
import tempfile
import time
import unittest

from board import start_sim
from test_smtp_delivery import inbox, message, queue, queued_message, unverified

PROVISION = (
    "domain add example.test",
    "user add alice@example.test alice-pw",
    "user add bob@example.test bob-pw",
    "alias add sales@example.test alice@example.test",
    "set dns 10.0.2.2:9",       # nobody answers: mail for other domains waits in the queue
)


class Submission(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        b = self.board = start_sim(flash=self.flash, flash_size="8M")
        b.expect(r"services: submission listening on port 587 \(STARTTLS\)")
        b.expect(r"services: submission listening on port 465 \(TLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(30), 0)
        self.board.kill()
        self.board = None

    def test_587_with_starttls_and_login(self):
        b = self.board
        port = b.offset + 587
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            code, caps = s.ehlo("laptop.example.test")
            self.assertNotIn(b"AUTH", caps)          # never offered in clear
            with self.assertRaises(smtplib.SMTPNotSupportedError):
                s.login("alice@example.test", "alice-pw")
            code, text = s.docmd("AUTH", "PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABhbGljZS1wdw==")
            self.assertEqual(code, 538)
            code, text = s.docmd("MAIL", "FROM:<alice@example.test>")
            self.assertEqual(code, 530)
            s.starttls(context=unverified())
            code, caps = s.ehlo("laptop.example.test")
            self.assertIn(b"AUTH PLAIN LOGIN", caps)
            self.assertEqual(s.login("alice@example.test", "alice-pw")[0], 235)
            body = b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: lunch\r\n\r\nAt noon?\r\n"
            refused = s.sendmail("alice@example.test", ["bob@example.test", "carol@far.example"], body)
            self.assertEqual(refused, {})
            # As an alias that reaches her: fine.  As bob: refused.
            self.assertEqual(s.sendmail("sales@example.test", ["bob@example.test"], body), {})
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("bob@example.test", ["bob@example.test"], body)
            self.assertEqual(e.exception.smtp_code, 553)
            self.assertIn(b"5.7.1", e.exception.smtp_error)
            b.expect(r"smtp: 10\.0\.2\.2: logged in as alice@example\.test")
            # A catch-all reaching her does not make every address hers.
            self.assertNotIn("error:", b.command("set catchall example.test alice@example.test"))
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("ceo@example.test", ["bob@example.test"], body)
            self.assertEqual(e.exception.smtp_code, 553)
            self.assertNotIn("error:", b.command("set catchall example.test off"))
        self.assertIn("carol@far.example", b.command("show queue"))
        self.poweroff()

        bob = inbox(self.flash, "bob@example.test")
        self.assertEqual(len(bob), 2)
        msg = message(self.flash, "bob@example.test", bob[0][0])
        self.assertIn(b"with ESMTPSA id ", msg)
        self.assertIn(b"Subject: lunch\r\nDate: ", msg)   # added, where the header section ends
        self.assertIn(b"\r\nMessage-ID: <", msg)
        self.assertTrue(msg.endswith(b"\r\n\r\nAt noon?\r\n"))
        entries = queue(self.flash)
        self.assertEqual([e[3:] for e in entries], [["carol@far.example"]])
        out = queued_message(self.flash, entries[0][0])
        self.assertTrue(out.startswith(b"Received: from laptop.example.test ([10.0.2.2])"), out[:80])
        self.assertIn(b"Subject: lunch\r\nDate: ", out)

    def test_465_and_wrong_passwords(self):
        b = self.board
        self.assertIn("hide-client on", b.command("set submission hide-client on"))
        ctx = unverified()
        with smtplib.SMTP_SSL("127.0.0.1", b.offset + 465, timeout=30, context=ctx) as s:
            s.ehlo("laptop.example.test")
            start = time.monotonic()
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.login("alice@example.test", "not-her-password")
            self.assertEqual(e.exception.smtp_code, 535)
            self.assertGreaterEqual(time.monotonic() - start, 1.0)   # answered late, on purpose
            self.assertEqual(s.login("bob@example.test", "bob-pw")[0], 235)
            self.assertEqual(s.sendmail("bob@example.test", ["alice@example.test"],
                                        b"Subject: hi\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                                        b"Message-ID: <given@example.test>\r\n\r\nhello\r\n"), {})
        b.expect(r"smtp: 10\.0\.2\.2: login failed for alice@example\.test")
        # A connection that never says anything in TLS is refused service,
        # not answered in clear.
        raw = socket.create_connection(("127.0.0.1", b.offset + 465), timeout=10)
        raw.sendall(b"EHLO plain.example\r\n")
        raw.settimeout(5)
        try:
            data = raw.recv(100)
        except socket.timeout:
            data = b""
        self.assertFalse(data.startswith(b"220 "), data)
        raw.close()
        self.poweroff()

        alice = inbox(self.flash, "alice@example.test")
        self.assertEqual(len(alice), 1)
        msg = message(self.flash, "alice@example.test", alice[0][0])
        self.assertIn(b"Received: by pillarbox (Pillarbox) with ESMTPSA id ", msg)
        self.assertNotIn(b"10.0.2.2", msg)                 # hide-client
        self.assertEqual(msg.count(b"Message-ID:"), 1)      # the given one, nothing added
        self.assertEqual(msg.count(b"Date:"), 1)


if __name__ == "__main__":
    unittest.main()
