"""POP3 end to end on the sim: mail delivered over SMTP is read with
Python's poplib over STLS (port 110) and over TLS from the first byte
(995), byte for byte; TOP, UIDL stable across sessions and a reboot,
DELE+QUIT really removes, logins refused without TLS, a wrong password
answered only after a delay.
"""
import base64
import poplib
import smtplib
import socket
import time
import unittest

from board import start_sim
from test_smtp_delivery import split_trace, unverified

PROVISION = (
    "domain add example.test",
    "user add alice@example.test alice-pw",
    "user add bob@example.test bob-pw",
)

BODY1 = (b"From: sender@example.net\r\nSubject: first\r\n\r\n"
         b"Hello Alice.\r\n.a line that starts with a dot\r\n..two dots\r\n.\r\n"
         b"8-bit: \xc3\xa9t\xc3\xa9\r\n" + (b"y" * 990 + b"\r\n") * 300)
BODY2 = b"From: sender@example.net\r\nSubject: second\r\n\r\nline 1\r\nline 2\r\nline 3\r\n"
BODY3 = b"From: sender@example.net\r\nSubject: third\r\n\r\nlate\r\n"


def whole(lines):
    """A message as poplib returns it (dot-unstuffed lines) back to bytes."""
    return b"".join(line + b"\r\n" for line in lines)


class Pop3(unittest.TestCase):
    def setUp(self):
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()

    def boot(self, flash=None):
        b = self.board = start_sim(flash=flash, flash_size="8M")
        b.expect(r"services: POP3 listening on port 110 \(STLS\)")
        b.expect(r"services: POP3S listening on port 995 \(TLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        return b

    def deliver(self, rcpt, body):
        with smtplib.SMTP("127.0.0.1", self.board.offset + 25, timeout=30) as s:
            self.assertEqual(s.sendmail("sender@example.net", [rcpt], body), {})

    def stls(self, user="alice@example.test", password="alice-pw"):
        p = poplib.POP3("127.0.0.1", self.board.offset + 110, timeout=30)
        p.stls(context=unverified())
        p.user(user)
        p.pass_(password)
        return p

    def pop3s(self, user="alice@example.test", password="alice-pw"):
        p = poplib.POP3_SSL("127.0.0.1", self.board.offset + 995, timeout=30, context=unverified())
        p.user(user)
        p.pass_(password)
        return p

    def test_read_top_uidl_dele(self):
        b = self.boot()
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        self.deliver("alice@example.test", BODY1)
        self.deliver("alice@example.test", BODY2)

        p = poplib.POP3("127.0.0.1", self.board.offset + 110, timeout=30)
        p.stls(context=unverified())
        caps = p.capa()
        self.assertIn("TOP", caps)
        self.assertIn("UIDL", caps)
        self.assertIn("USER", caps)
        self.assertEqual(caps.get("SASL"), ["PLAIN"])
        self.assertNotIn("STLS", caps)      # TLS is on already
        p.user("alice@example.test")
        p.pass_("alice-pw")
        count, octets = p.stat()
        self.assertEqual(count, 2)
        sizes = [int(x.split()[1]) for x in p.list()[1]]
        self.assertEqual(sum(sizes), octets)
        # RETR: what SMTP delivered, byte for byte, behind the trace headers.
        for n, body in ((1, BODY1), (2, BODY2)):
            msg = whole(p.retr(n)[1])
            self.assertEqual(len(msg), sizes[n - 1])
            rp, received, stored = split_trace(msg)
            self.assertEqual(rp, b"Return-Path: <sender@example.net>")
            self.assertTrue(received.startswith(b"Received: from "))
            self.assertEqual(stored, body)
        # TOP: the header and n lines of the body.
        top0 = whole(p.top(2, 0)[1])
        self.assertTrue(top0.endswith(b"Subject: second\r\n\r\n"))
        top2 = whole(p.top(2, 2)[1])
        self.assertTrue(top2.endswith(b"Subject: second\r\n\r\nline 1\r\nline 2\r\n"))
        uidl1 = p.uidl()[1]
        self.assertEqual(len(uidl1), 2)
        # Mail that arrives during the session shows at the next login.
        self.deliver("alice@example.test", BODY3)
        self.assertEqual(p.stat()[0], 2)
        p.quit()

        p = self.pop3s()
        self.assertEqual(p.stat()[0], 3)
        uidl2 = p.uidl()[1]
        self.assertEqual(uidl2[:2], uidl1)      # the same ids in a new session
        p.quit()
        b.expect(r"pop3: session peer=10\.0\.2\.2 tls=TLSv1\.[23] user=alice@example\.test "
                 r"retrieved=2 deleted=0 result=quit")

        # Across a reboot too.
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        p = self.stls()
        self.assertEqual(p.uidl()[1], uidl2)
        # DELE marks, RSET unmarks, DELE + QUIT removes.
        p.dele(1)
        self.assertEqual(p.stat()[0], 2)
        p.rset()
        self.assertEqual(p.stat()[0], 3)
        p.dele(1)
        p.quit()
        p = self.pop3s()
        self.assertEqual(p.stat()[0], 2)
        left = p.uidl()[1]
        self.assertEqual([x.split()[1] for x in left], [x.split()[1] for x in uidl2[1:]])
        self.assertEqual(split_trace(whole(p.retr(1)[1]))[2], BODY2)
        p.quit()
        # Bob's maildrop is his own, and empty.
        p = self.pop3s("bob@example.test", "bob-pw")
        self.assertEqual(p.stat(), (0, 0))
        p.quit()

    def test_refusals(self):
        b = self.boot()
        for c in PROVISION:
            b.command(c)
        # Without TLS, no login: the client is told to use STLS.
        p = poplib.POP3("127.0.0.1", b.offset + 110, timeout=30)
        self.assertIn("STLS", p.capa())
        with self.assertRaises(poplib.error_proto) as e:
            p.user("alice@example.test")
        self.assertIn(b"-ERR [AUTH]", e.exception.args[0])
        self.assertIn(b"STLS", e.exception.args[0])
        p.quit()
        # Commands pipelined behind STLS are thrown away, not run under TLS.
        with socket.create_connection(("127.0.0.1", b.offset + 110), timeout=30) as raw:
            f = raw.makefile("rb")
            self.assertTrue(f.readline().startswith(b"+OK"))
            raw.sendall(b"STLS\r\nUSER alice@example.test\r\n")
            self.assertEqual(f.readline(), b"+OK Begin TLS negotiation\r\n")
            with unverified().wrap_socket(raw) as tls:
                tls.sendall(b"NOOP\r\n")
                tf = tls.makefile("rb")
                # Had USER been read, this would be "+OK Send PASS".
                self.assertEqual(tf.readline(), b"-ERR Log in first\r\n")
                tf.close()
            f.close()
        # A wrong password is refused, and only after a delay.
        p = poplib.POP3_SSL("127.0.0.1", b.offset + 995, timeout=30, context=unverified())
        p.user("alice@example.test")
        start = time.monotonic()
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_("wrong")
        elapsed = time.monotonic() - start
        self.assertTrue(e.exception.args[0].startswith(b"-ERR [AUTH]"))
        self.assertGreaterEqual(elapsed, 1.0)
        # The session goes on: the right password works, here by SASL PLAIN.
        plain = base64.b64encode(b"\0alice@example.test\0alice-pw").decode()
        self.assertTrue(p._shortcmd("AUTH PLAIN " + plain).startswith(b"+OK"))
        self.assertEqual(p.stat(), (0, 0))
        # A second session on the same maildrop is refused while this one runs.
        q = self.pop3s("bob@example.test", "bob-pw")
        q.quit()
        r = poplib.POP3_SSL("127.0.0.1", b.offset + 995, timeout=30, context=unverified())
        r.user("alice@example.test")
        with self.assertRaises(poplib.error_proto) as e:
            r.pass_("alice-pw")
        self.assertTrue(e.exception.args[0].startswith(b"-ERR [IN-USE]"))
        r.quit()
        p.quit()
        # Past the session pool: told so, and the sessions running carry on.
        conns = [poplib.POP3("127.0.0.1", b.offset + 110, timeout=30) for _ in range(8)]
        with self.assertRaises(poplib.error_proto) as e:
            poplib.POP3("127.0.0.1", b.offset + 110, timeout=30)
        self.assertEqual(e.exception.args[0], b"-ERR [SYS/TEMP] too many connections, try again later")
        with self.assertRaises(poplib.error_proto) as e:
            conns[0].noop()
        self.assertEqual(e.exception.args[0], b"-ERR Log in first")
        for c in conns:
            c.quit()
        b.expect(r"pop3: session peer=10\.0\.2\.2 tls=no user=- retrieved=0 deleted=0 result=quit")


if __name__ == "__main__":
    unittest.main()
