"""Outbound delivery end to end on the sim: mail for an alias that points
outside goes from the queue to the domain's MX, found through a test DNS
server on the host (test_dns.Zone), which names an MX at 10.0.2.100; the
sim's --guestfwd connects that address to a recording SMTP sink on the
host (below, standard library only).  Retries after 4xx, DSNs after 5xx,
the queue across a reboot, and power cuts during delivery.
"""
import os
import re
import shutil
import smtplib
import socket
import socketserver
import struct
import tempfile
import threading
import time
import unittest

import test_dns
from board import start_sim
from test_smtp_delivery import inbox, message, queue

T_A, T_MX = test_dns.T_A, test_dns.T_MX
test_dns.ZONE.update({
    "example.net": {T_MX: (60, [struct.pack(">H", 10) + test_dns.wire_name("mx.example.net")], False)},
    "mx.example.net": {T_A: (60, [bytes([10, 0, 2, 100])], False)},
    "nullmx.example.net": {T_MX: (60, [b"\0\0\0"], False)},
})


class Sink:
    """A recording SMTP server on 127.0.0.1.  rcpt(addr, n) and data(n)
    give the reply to RCPT and to the final dot of transaction n (from 1)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []      # (mail from, [rcpts], data)
        self.transactions = 0
        self.lines = []         # every command line received
        self.rcpt = lambda addr, n: "250 2.1.5 Ok"
        self.data = lambda n: "250 2.0.0 Ok: queued"
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                try:
                    self.session()
                except OSError:
                    pass    # the appliance went away (a power cut, a poweroff)

            def session(self):
                w = self.wfile
                w.write(b"220 sink.example.net ESMTP\r\n")
                mail, rcpts, n = None, [], 0
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    with sink.lock:
                        sink.lines.append(line)
                    cmd = line.decode("latin-1").strip()
                    verb = cmd.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        w.write(b"250-sink.example.net\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                                b"250-SIZE 10000000\r\n250 SMTPUTF8\r\n")
                    elif verb == "MAIL":
                        with sink.lock:
                            sink.transactions += 1
                            n = sink.transactions
                        mail, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                        w.write(b"250 2.1.0 Ok\r\n")
                    elif verb == "RCPT":
                        addr = cmd[8:].split(">")[0].lstrip("<")
                        reply = sink.rcpt(addr, n)
                        if reply.startswith("2"):
                            rcpts.append(addr)
                        w.write(reply.encode() + b"\r\n")
                    elif verb == "DATA":
                        if not rcpts:
                            w.write(b"554 5.5.1 No valid recipients\r\n")
                            continue
                        w.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        data = b""
                        while True:
                            l = self.rfile.readline()
                            if not l:
                                return      # cut off before the final dot: nothing accepted
                            if l == b".\r\n":
                                break
                            data += l[1:] if l.startswith(b".") else l
                        reply = sink.data(n)
                        if reply.startswith("2"):
                            with sink.lock:
                                sink.messages.append((mail, rcpts, data))
                        w.write(reply.encode() + b"\r\n")
                    elif verb == "QUIT":
                        w.write(b"221 2.0.0 Bye\r\n")
                        return
                    elif verb == "RSET":
                        w.write(b"250 2.0.0 Ok\r\n")
                    else:
                        w.write(b"502 5.5.2 Not here\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


BODY = (b"From: alice@example.test\r\nTo: fwd@example.test\r\nSubject: outbound\r\n\r\n"
        b"hello\r\n.a line that starts with a dot\r\n..two dots\r\n8-bit: \xc3\xa9t\xc3\xa9\r\n"
        + b"z" * 700 + b"\r\n") * 6


class OutboundRig:
    """The rig of an outbound test, shared with test_outbound_powercut.py:
    a flash file in a scratch directory, the test DNS server, the sink,
    and the board booted with 10.0.2.100:25 forwarded to the sink.  Mixed
    into a unittest.TestCase."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        self.zone = test_dns.Zone()
        self.dns = test_dns.DnsServer(self.zone)
        self.sink = Sink()
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        self.sink.close()
        self.dns.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self, extra=()):
        b = self.board = start_sim(flash=self.flash, flash_size="8M", extra=[
            "--guestfwd", "10.0.2.100:25=127.0.0.1:%d" % self.sink.port] + list(extra))
        b.expect(r"services: SMTP listening on port 25")
        b.expect(r"network: address 10\.0\.2\.15")
        return b

    def provision(self, b, target="bob@example.net"):
        for c in ("domain add example.test", "user add alice@example.test alice-pw",
                  "alias add fwd@example.test " + target, "set dns 10.0.2.2:%d" % self.dns.port):
            self.assertNotIn("error:", b.command(c), c)

    def send(self, b, body=BODY, sender="alice@example.test"):
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            s.ehlo("client.example.test")
            self.assertEqual(s.sendmail(sender, ["fwd@example.test"], body), {})

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(30), 0)
        self.board.kill()
        self.board = None


class Outbound(OutboundRig, unittest.TestCase):
    def test_delivered_byte_identical_exactly_once(self):
        b = self.boot()
        self.provision(b)
        self.send(b)
        b.expect(r"relay: \S+ to=<bob@example\.net> relay=mx\.example\.net\[10\.0\.2\.100\]:25 tls=no dane=no "
                 r"status=sent \(250 2\.0\.0 Ok: queued\)", timeout=60)
        b.expect(r"relay: \S+: done, 1 sent, 0 failed")
        self.assertIn("the queue is empty", b.command("show queue"))
        time.sleep(2)
        self.assertEqual(len(self.sink.messages), 1)
        mail, rcpts, data = self.sink.messages[0]
        self.assertEqual((mail, rcpts), ("alice@example.test", ["bob@example.net"]))
        # What arrives is what the appliance received, with its Received:
        # line in front and no Return-Path:.
        self.assertTrue(data.startswith(b"Received: from client.example.test"), data[:80])
        self.assertFalse(b"Return-Path:" in data)
        self.assertTrue(data.endswith(BODY), data[-200:])
        lines = b"".join(self.sink.lines)
        self.assertIn(b"BODY=8BITMIME", lines)
        self.assertIn(b"SIZE=", lines)
        self.poweroff()

    def test_451_then_retry_delivers_once(self):
        self.sink.rcpt = lambda addr, n: "451 4.7.1 Greylisted, try again" if n <= 2 else "250 2.1.5 Ok"
        b = self.boot()
        self.provision(b)
        self.send(b)
        b.expect(r"status=deferred \(451 4\.7\.1 Greylisted, try again\)", timeout=60)
        out = b.command("show queue")
        self.assertRegex(out, r"attempts 1 to <bob@example\.net> next in \d+ s last error: "
                              r"mx\.example\.net said: 451 4\.7\.1 Greylisted")
        # Reboot: the queue and its error are on flash.
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertIn("attempts 1 to <bob@example.net>", b.command("show queue"))
        self.assertIn("1 entry due now", b.command("queue flush"))
        b.expect(r"status=deferred", timeout=60)
        self.assertIn("1 entry due now", b.command("queue flush"))
        b.expect(r"status=sent", timeout=60)
        b.expect(r"done, 1 sent")
        time.sleep(2)
        self.assertEqual(len(self.sink.messages), 1)
        self.assertIn("the queue is empty", b.command("show queue"))
        self.poweroff()

    def test_550_bounces_to_local_sender(self):
        self.sink.rcpt = lambda addr, n: "550 5.1.1 <%s>: Recipient address rejected: User unknown" % addr
        b = self.boot()
        self.provision(b)
        self.send(b)
        b.expect(r"status=bounced \(550 5\.1\.1", timeout=60)
        b.expect(r"relay: \S+: DSN for 1 recipient\(s\) to <alice@example\.test>")
        self.assertIn("the queue is empty", b.command("show queue"))
        self.poweroff()
        msgs = inbox(self.flash, "alice@example.test")
        self.assertEqual(len(msgs), 1)
        dsn = message(self.flash, "alice@example.test", msgs[0][0])
        self.assertTrue(dsn.startswith(b"Return-Path: <>\r\n"))
        self.assertIn(b"Content-Type: multipart/report; report-type=delivery-status;", dsn)
        self.assertIn(b"From: Mail Delivery System <MAILER-DAEMON@pillarbox>", dsn)
        self.assertIn(b"Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\nStatus: 5.1.1", dsn)
        self.assertIn(b"Diagnostic-Code: smtp; 550 5.1.1", dsn)
        self.assertIn(b"Content-Type: text/rfc822-headers\r\n\r\nReceived: from client.example.test", dsn)
        self.assertIn(b"Subject: outbound\r\n", dsn)
        self.assertNotIn(b"hello\r\n", dsn)        # headers only, not the body
        self.assertEqual(len(self.sink.messages), 0)

    def test_due_entries_share_a_connection(self):
        """Eight entries due at once for one domain: the four delivery slots
        each carry several on one connection, every message arrives once."""
        n = 8
        self.sink.rcpt = lambda addr, k: "451 4.7.1 Greylisted, try again"
        b = self.boot()
        self.provision(b)
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            for i in range(n):
                body = BODY.replace(b"Subject: outbound", b"Subject: outbound %d" % i)
                self.assertEqual(s.sendmail("alice@example.test", ["fwd@example.test"], body), {})
        for _ in range(n):
            b.expect(r"status=deferred \(451 4\.7\.1", timeout=60)
        self.sink.rcpt = lambda addr, k: "250 2.1.5 Ok"
        with self.sink.lock:
            ehlo_before = sum(1 for l in self.sink.lines if l.startswith(b"EHLO"))
        self.assertIn("%d entries due now" % n, b.command("queue flush"))
        for _ in range(n):
            b.expect(r"status=sent", timeout=60)
        time.sleep(1)
        with self.sink.lock:
            sessions = sum(1 for l in self.sink.lines if l.startswith(b"EHLO")) - ehlo_before
            subjects = sorted(re.search(rb"Subject: (outbound \d+)", m[2]).group(1) for m in self.sink.messages)
        self.assertEqual(subjects, sorted(b"outbound %d" % i for i in range(n)))
        self.assertLess(sessions, n)
        self.assertIn("on the open connection to mx.example.net[10.0.2.100]:25", b.out)
        self.assertIn("the queue is empty", b.command("show queue"))
        self.poweroff()

    def test_delay_notice_once(self):
        self.sink.rcpt = lambda addr, n: "451 4.7.1 Greylisted, try again"
        b = self.boot()
        self.provision(b)
        self.assertIn("error:", b.command("set queue delay-notice soon"))
        self.assertNotIn("error:", b.command("set queue delay-notice 3s"))
        self.assertIn("set queue delay-notice 3s", b.command("show config"))
        self.send(b)
        b.expect(r"status=deferred \(451 4\.7\.1", timeout=60)
        time.sleep(3)
        # The next attempt finds the entry older than 3 s: one notice.
        b.command("queue flush")
        b.expect(r"relay: \S+: delay notice for 1 recipient\(s\) to <alice@example\.test>", timeout=60)
        b.expect(r"1 deferred; next attempt")
        # Later attempts never send another.
        b.command("queue flush")
        b.expect(r"status=deferred", timeout=60)
        b.expect(r"1 deferred; next attempt")
        self.assertIn("attempts 3 to <bob@example.net>", b.command("show queue"))
        # off is a setting too, and survives a reboot.
        self.assertNotIn("error:", b.command("set queue delay-notice off"))
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertIn("set queue delay-notice off", b.command("show config"))
        self.poweroff()
        self.assertEqual(b.out.count("delay notice for"), 1)
        msgs = inbox(self.flash, "alice@example.test")
        self.assertEqual(len(msgs), 1)
        dsn = message(self.flash, "alice@example.test", msgs[0][0])
        self.assertTrue(dsn.startswith(b"Return-Path: <>\r\n"))
        self.assertIn(b"Subject: Delayed Mail (still being retried)\r\n", dsn)
        self.assertIn(b"Content-Type: multipart/report; report-type=delivery-status;", dsn)
        self.assertIn(b"Final-Recipient: rfc822; bob@example.net\r\nAction: delayed\r\nStatus: 4.7.1\r\n"
                      b"Will-Retry-Until: ", dsn)
        self.assertIn(b"Diagnostic-Code: smtp; 451 4.7.1 Greylisted", dsn)
        self.assertIn(b"You do not need to send it again", dsn)
        self.assertEqual(len(self.sink.messages), 0)

    def test_no_bounce_for_a_bounce_and_null_mx(self):
        b = self.boot()
        self.provision(b, "bob@nullmx.example.net")
        self.send(b, sender="")
        b.expect(r"status=bounced \(556 5\.1\.10", timeout=60)
        b.expect(r"no DSN for a message from <>")
        self.assertIn("the queue is empty", b.command("show queue"))
        self.poweroff()
        self.assertEqual(inbox(self.flash, "alice@example.test"), [])

    def test_loop_bounces(self):
        b = self.boot()
        self.provision(b)
        looping = b"".join(b"Received: from hop%d.example by x; Thu, 1 Jan 2026 00:00:00 +0000\r\n" % i
                           for i in range(51)) + BODY
        self.send(b, body=looping)
        b.expect(r"status=bounced \(554 5\.4\.6 Too many Received: headers", timeout=60)
        self.poweroff()
        self.assertEqual(len(self.sink.messages), 0)
        self.assertEqual(len(inbox(self.flash, "alice@example.test")), 1)

    def test_power_cut_during_delivery_never_loses(self):
        """Power cuts at the first flash operations of a delivery (its
        commit, right after the sink's 250): after the reboot the message
        has reached the sink at least once and at most twice, and the
        queue ends empty."""
        for cut in (1, 2, 3, 4):
            with self.subTest(cut=cut):
                shutil.rmtree(self.dir, ignore_errors=True)
                os.makedirs(self.dir)
                self.sink.messages.clear()
                # First boot: the message is queued; the sink holds the
                # attempt at RCPT while the board powers off, so the entry
                # stays due (nothing recorded).
                hold = threading.Event()
                self.sink.rcpt = lambda addr, n: (hold.wait(30), "451 4.3.0 Not yet")[1]
                b = self.boot()
                self.provision(b)
                self.send(b)
                b.expect(r"relay: \S+ attempt 1 to example\.net", timeout=60)
                time.sleep(0.5)
                self.poweroff()
                hold.set()
                # Second boot, the power cut at the cut-th flash operation:
                # the first ones are the delivery's commit.
                self.sink.rcpt = lambda addr, n: "250 2.1.5 Ok"
                b = self.board = start_sim(flash=self.flash, flash_size="8M", extra=[
                    "--guestfwd", "10.0.2.100:25=127.0.0.1:%d" % self.sink.port,
                    "--powercut-after", str(cut)])
                deadline = time.time() + 30
                while b.proc.poll() is None and "done, 1 sent" not in b.out and time.time() < deadline:
                    b._read(0.2)
                if b.proc.poll() is None:
                    self.poweroff()
                else:
                    self.assertEqual(b.proc.returncode, 99)
                    b.kill()
                    self.board = None
                # Third boot: whatever is left goes out.
                b = self.boot()
                if "attempts" in b.command("show queue"):
                    b.command("queue flush")
                    b.expect(r"done, 1 sent", timeout=60)
                self.assertIn("the queue is empty", b.command("show queue"))
                self.poweroff()
                self.assertIn(len(self.sink.messages), (1, 2), "cut %d" % cut)


if __name__ == "__main__":
    unittest.main()
