"""Mail for the office, end to end on the sim: provisioned from the console,
delivered over SMTP (plain and STARTTLS) by Python's smtplib, kept on flash
byte for byte, and never lost or half-kept when the power is cut.

What is on flash is read back after power-off with build/test/store-dump.
"""
import os
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import unittest

import test_dns
from board import ROOT, start_sim

DUMP = os.path.join(ROOT, "build", "test", "store-dump")
PROVISION = (
    "domain add example.test",
    "user add alice@example.test alice-pw",
    "user add bob@example.test bob-pw",
    "alias add team@example.test alice@example.test,bob@example.test",
)


def unverified():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def inbox(flash, user):
    p = subprocess.run([DUMP, flash, "list", user], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("store-dump list failed: " + p.stderr)
    return [tuple(int(x) for x in line.split()) for line in p.stdout.splitlines()]


def message(flash, user, uid):
    p = subprocess.run([DUMP, flash, "cat", user, str(uid)], capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("store-dump cat failed: " + p.stderr.decode())
    return p.stdout


def queue(flash):
    p = subprocess.run([DUMP, flash, "queue"], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("store-dump queue failed: " + p.stderr)
    return [line.split() for line in p.stdout.splitlines()]


def queued_message(flash, name):
    p = subprocess.run([DUMP, flash, "qcat", name], capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("store-dump qcat failed: " + p.stderr.decode())
    return p.stdout


def split_trace(msg):
    """(Return-Path line, Received header, body) of a delivered message."""
    first, rest = msg.split(b"\r\n", 1)
    lines = rest.split(b"\r\n")
    n = 1
    while n < len(lines) and lines[n].startswith(b"\t"):
        n += 1
    return first, b"\r\n".join(lines[:n]), b"\r\n".join(lines[n:])


class SmtpDelivery(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self, flash=None, extra=()):
        b = self.board = start_sim(flash=flash or self.flash, flash_size="8M", extra=extra)
        b.expect(r"services: SMTP listening on port 25 \(STARTTLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        return b

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(30), 0)
        self.board.kill()
        self.board = None

    def test_console_provisioning(self):
        b = self.boot()
        out = b.command("user add alice@example.test pw")
        self.assertIn("error: domain example.test is not configured", out)
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        self.assertIn("error: alice@example.test already exists", b.command("user add alice@example.test x"))
        self.assertIn("error: domain example.test still has users or aliases",
                      b.command("domain del example.test"))
        self.assertIn("error: 'not-an-address' is not a valid address",
                      b.command("user add not-an-address pw"))
        self.assertIn("example.test", b.command("domain list"))
        users = b.command("user list")
        self.assertIn("alice@example.test", users)
        self.assertIn("bob@example.test", users)
        self.assertIn("team@example.test -> alice@example.test,bob@example.test",
                      b.command("alias list"))
        self.assertIn("goes to bob@example.test", b.command("set catchall example.test bob@example.test"))
        # Without a password on the line, it is asked for twice and not echoed.
        b.send("user add carol@example.test")
        b.expect(r"Password: ")
        b.send("sekrit-carol")
        b.expect(r"Password again: ")
        b.send("sekrit-carol")
        b.expect(r"user carol@example\.test added")
        b.send("user passwd carol@example.test")
        b.expect(r"Password: ")
        b.send("one")
        b.expect(r"Password again: ")
        b.send("two")
        b.expect(r"error: the two passwords differ; nothing was changed")
        self.assertNotIn("sekrit", b.out)
        self.assertIn("(catch-all: bob@example.test)", b.command("domain list"))
        # All of it is on flash: it is still there after a reboot.
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertIn("team@example.test -> alice@example.test,bob@example.test",
                      b.command("alias list"))
        self.assertIn("(catch-all: bob@example.test)", b.command("domain list"))
        self.poweroff()

    def test_delivery_is_byte_identical(self):
        b = self.boot()
        for c in PROVISION:
            b.command(c)
        body = (b"From: sender@example.net\r\nSubject: report\r\n\r\n"
                b".a line that starts with a dot\r\n8-bit: \xc3\xa9t\xc3\xa9\r\n"
                + b"z" * 900 + b"\r\n") * 40
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            s.ehlo("client.example.net")
            # The alias and alice+tag both reach alice: she gets one copy.
            self.assertEqual(s.sendmail("sender@example.net", ["team@example.test",
                                                               "alice+reports@example.test"], body), {})
            s.starttls(context=unverified())
            s.ehlo("client.example.net")
            self.assertEqual(s.sendmail("sender@example.net", ["bob@example.test"], body), {})
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as e:
                s.sendmail("sender@example.net", ["nobody@example.test"], body)
            self.assertEqual(e.exception.recipients["nobody@example.test"][0], 550)
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as e:
                s.sendmail("sender@example.net", ["someone@elsewhere.example"], body)
            self.assertEqual(e.exception.recipients["someone@elsewhere.example"][0], 554)
        b.expect(r"smtp: \w+ from=<sender@example\.net> rcpts=2 size=\d+ peer=10\.0\.2\.2 tls=no result=250")
        b.expect(r"smtp: \w+ from=<sender@example\.net> rcpts=1 .* tls=TLSv1\.[23] result=250")
        self.poweroff()

        alice = inbox(self.flash, "alice@example.test")
        bob = inbox(self.flash, "bob@example.test")
        self.assertEqual(len(alice), 1)
        self.assertEqual(len(bob), 2)
        for user, uid, tls in (("alice@example.test", alice[0][0], False),
                               ("bob@example.test", bob[0][0], False),
                               ("bob@example.test", bob[1][0], True)):
            rp, received, stored = split_trace(message(self.flash, user, uid))
            self.assertEqual(rp, b"Return-Path: <sender@example.net>")
            self.assertTrue(received.startswith(b"Received: from client.example.net ([10.0.2.2])"))
            self.assertIn(b"by pillarbox (Pillarbox) with ESMTP" + (b"S" if tls else b" "), received)
            self.assertEqual(stored, body)
        self.assertEqual(bob[0][1], alice[0][1])  # one body for both: same size

    def test_alias_forwarding_outside_is_queued(self):
        """An alias with targets at other domains: the local copy is
        delivered, the rest waits in the outbound queue (one entry per
        domain, the same body without our Return-Path:), across reboots."""
        b = self.boot()
        # A resolver that never answers: delivery attempts fail for now
        # (4.4.3) and the entries wait.
        for c in PROVISION + ("alias add fwd@example.test alice@example.test,"
                              "x@far.example,y@far.example,z@other.example", "set dns 10.0.2.2:9"):
            self.assertNotIn("error:", b.command(c), c)
        body = b"From: sender@example.net\r\nSubject: forwarded\r\n\r\nhello \xc3\xa9\r\n" * 20
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            s.ehlo("client.example.net")
            self.assertEqual(s.sendmail("sender@example.net", ["fwd@example.test"], body), {})
        out = b.command("show queue")
        self.assertRegex(out, r"\.1 from <sender@example\.net> size \d+ attempts \d+ to <x@far\.example> <y@far\.example>")
        self.assertRegex(out, r"\.2 from <sender@example\.net> size \d+ attempts \d+ to <z@other\.example>")
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertIn("2 entries waiting", b.command("show queue"))
        self.poweroff()

        entries = queue(self.flash)
        self.assertEqual([e[3:] for e in entries], [["x@far.example", "y@far.example"], ["z@other.example"]])
        alice = inbox(self.flash, "alice@example.test")
        self.assertEqual(len(alice), 1)
        local = message(self.flash, "alice@example.test", alice[0][0])
        rp, received, stored = split_trace(local)
        self.assertEqual(stored, body)
        for e in entries:
            out = queued_message(self.flash, e[0])
            # What goes out is what alice got, less the Return-Path: line.
            self.assertEqual(out, local[len(rp) + 2:])
            self.assertEqual(int(e[1]), len(out))

    def test_too_many_mailboxes_for_one_message(self):
        """More local mailboxes than one transaction holds: the extra RCPTs
        get 452 (send them later), and the message reaches the others."""
        b = self.boot()
        b.command("domain add example.test")
        users = ["u%02d@example.test" % i for i in range(60)]
        for u in users:
            self.assertNotIn("error:", b.command("user add %s pw" % u), u)
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            s.ehlo("client.example.net")
            refused = s.sendmail("sender@example.net", users, b"Subject: all\r\n\r\nhi\r\n")
        self.assertTrue(refused, "every recipient accepted: the limit was not reached")
        for code, text in refused.values():
            self.assertEqual(code, 452)
            self.assertIn(b"4.5.3", text)
        accepted = [u for u in users if u not in refused]
        self.assertGreaterEqual(len(accepted), 50)
        self.poweroff()
        for u in accepted[:3] + accepted[-3:]:
            self.assertEqual(len(inbox(self.flash, u)), 1, u)
        for u in list(refused)[:3]:
            self.assertEqual(len(inbox(self.flash, u)), 0, u)

    def test_smtp_settings(self):
        """Message size and timeout are settings: EHLO and the size check
        follow them at once, they survive a reboot, and bad values change
        nothing."""
        b = self.boot()
        for c in PROVISION:
            b.command(c)
        self.assertIn("max-size 26214400 bytes, timeout 300 s", b.command("set smtp timeout 300"))
        self.assertIn("error: '10' is not a number of seconds from 300 to 3600",
                      b.command("set smtp timeout 10"))
        self.assertIn("error: 'lots' is not a size from 1M to 1G", b.command("set smtp max-size lots"))
        self.assertIn("error: require-rdns is 'on' or 'off'", b.command("set smtp require-rdns maybe"))
        self.assertIn("max-size 1048576 bytes, timeout 900 s",
                      b.command("set smtp max-size 1M") + b.command("set smtp timeout 900"))
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertIn("max-size 1048576 bytes, timeout 900 s, require-rdns off",
                      b.command("set smtp require-rdns off"))
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            code, caps = s.ehlo("client.example.net")
            self.assertIn(b"SIZE 1048576", caps)
            big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 1100
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("sender@example.net", ["alice@example.test"], big)
            self.assertEqual(e.exception.smtp_code, 552)
            s.rset()
            self.assertEqual(s.sendmail("sender@example.net", ["alice@example.test"], big[:500000]), {})
        self.poweroff()
        self.assertEqual(len(inbox(self.flash, "alice@example.test")), 1)

    def test_require_rdns(self):
        """set smtp require-rdns on: a peer whose address has no PTR name is
        turned away at the greeting (554 5.7.25), one with a name is served,
        and when DNS cannot answer the peer is asked to come back (421)."""
        zone = test_dns.Zone()
        server = test_dns.DnsServer(zone)
        ptr = "2.2.0.10.in-addr.arpa"   # the host as the appliance sees it
        try:
            b = self.boot()
            for c in PROVISION + ("set dns 10.0.2.2:%d" % server.port,):
                self.assertNotIn("error:", b.command(c), c)
            self.assertIn("require-rdns on", b.command("set smtp require-rdns on"))
            with self.assertRaises(smtplib.SMTPConnectError) as e:
                smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30)
            self.assertEqual(e.exception.smtp_code, 554)
            self.assertIn(b"5.7.25", e.exception.smtp_error)
            b.expect(r"smtp: 10\.0\.2\.2: refused, no reverse DNS \(require-rdns on\)")

            test_dns.ZONE[ptr] = {test_dns.T_PTR: (3600, [test_dns.wire_name("client.example.net")], False)}
            b.command("set dns 10.0.2.2:%d" % server.port)     # forgets the cached NXDOMAIN
            with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
                self.assertEqual(s.sendmail("sender@example.net", ["alice@example.test"],
                                            b"Subject: hi\r\n\r\nhello\r\n"), {})
            self.assertIn(("udp", ptr, test_dns.T_PTR), [x[:3] for x in zone.seen])

            b.command("set dns 10.0.2.2:1")     # nobody answers there
            with self.assertRaises(smtplib.SMTPConnectError) as e:
                smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30)
            self.assertEqual(e.exception.smtp_code, 421)
            self.assertIn(b"4.7.25", e.exception.smtp_error)

            b.command("set smtp require-rdns off")
            with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
                self.assertEqual(s.noop()[0], 250)
            self.poweroff()
        finally:
            test_dns.ZONE.pop(ptr, None)
            server.close()
        self.assertEqual(len(inbox(self.flash, "alice@example.test")), 1)

    def test_power_cut_never_loses_an_acknowledged_message(self):
        # Provision once, then replay one delivery with the power cut at
        # each flash operation in turn.
        b = self.boot()
        for c in PROVISION:
            b.command(c)
        self.poweroff()
        base = os.path.join(self.dir, "base.img")
        shutil.copy(self.flash, base)
        body = b"Subject: cut\r\n\r\n" + b"line of text\r\n" * 2000
        acked, lost_power_before_ack = 0, 0
        for n in range(1, 41):
            flash = os.path.join(self.dir, "cut-%d.img" % n)
            shutil.copy(base, flash)
            b = self.board = start_sim(flash=flash, flash_size="8M",
                                       extra=["--powercut-after", str(n)])
            ok = False
            try:
                b.expect(r"network: address 10\.0\.2\.15", timeout=20)
                with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=20) as s:
                    ok = s.sendmail("sender@example.net", ["alice@example.test"], body) == {}
            except (AssertionError, OSError, smtplib.SMTPException):
                pass
            rc = b.wait(30) if b.proc.poll() is not None else None
            if rc is None:
                b.send("poweroff")
                rc = b.wait(30)
            b.kill()
            self.board = None
            self.assertIn(rc, (0, 99), "run %d ended with %r" % (n, rc))
            if rc == 99 and not ok:
                lost_power_before_ack += 1
            acked += ok
            # Power back on: the store mounts, and the message is there in
            # full if it was acknowledged; it is never there in part.
            msgs = inbox(flash, "alice@example.test")
            if ok:
                self.assertEqual(len(msgs), 1, "run %d: acknowledged message lost" % n)
            self.assertLessEqual(len(msgs), 1)
            for uid, _, _ in msgs:
                self.assertEqual(split_trace(message(flash, "alice@example.test", uid))[2], body,
                                 "run %d: message kept in part" % n)
            os.unlink(flash)
        # The sweep really cut both before and after the acknowledgement.
        self.assertGreater(lost_power_before_ack, 0)
        self.assertGreater(acked, 0)


if __name__ == "__main__":
    unittest.main()
