"""A real MTA as the sender: Debian's Postfix, as a private instance on
loopback relaying to the appliance on the sim board, delivers 200 messages
(some with 8-bit bodies, one of 10 MB) over STARTTLS to two users; all of
them arrive, each once and byte for byte. And swaks: a STARTTLS delivery
succeeds, and SMTP-smuggling probes sent as raw data make no second message.

What is on flash is read back after power-off with build/test/store-dump.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from board import start_sim
from private_postfix import PrivatePostfix
from test_smtp_delivery import inbox, message, split_trace

PROVISION = (
    "domain add example.test",
    "user add alice@example.test alice-pw",
    "user add bob@example.test bob-pw",
)
COUNT = 200
BIG = 10 * 1024 * 1024
DELIVERY_TIMEOUT = 600
ACCEPTED = re.compile(r"^.*smtp: \S+ from=<[^>]*> rcpts=(\d+) size=(\d+) peer=\S+ tls=(\S+) result=250.*$",
                      re.M)


def recipients_of(i):
    if i % 10 == 5:
        return ["alice@example.test", "bob@example.test"]
    return ["alice@example.test" if i % 2 == 0 else "bob@example.test"]


def body_of(i):
    """Message i as handed to sendmail (LF line ends): 8-bit on every third."""
    rcpts = recipients_of(i)
    head = ("From: Sender <sender@example.net>\nTo: %s\nSubject: message %d of %d\n"
            "Date: Mon, 01 Jan 2024 12:00:00 +0000\nMessage-ID: <m%d@sender.example.net>\n"
            "MIME-Version: 1.0\n" % (", ".join(rcpts), i, COUNT, i)).encode()
    if i % 3 == 0:
        head += b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
        text = ("Grüße aus Köln, message %d: déjà vu, naïve café, 東京, Ωμέγα\n" % i).encode()
    else:
        head += b"Content-Type: text/plain; charset=us-ascii\n"
        text = b"Plain text, message %d.\n" % i
    lines = [text, b".a line that starts with a dot\n", b"..two dots\n", b"\n"]
    if i == 0:
        # The big one: 10 MB of 8-bit lines (under 998 octets each), some of
        # them starting with a dot, some blank.
        pattern = []
        for n in range(64):
            line = (b"." if n % 7 == 0 else b"") + (("%04d " % n) + "äöü€ " * 12 + "x" * (n * 5)).encode()
            pattern.append(line + b"\n")
            if n % 13 == 0:
                pattern.append(b"\n")
        chunk = b"".join(pattern)
        need = BIG - len(head) - 1
        lines = [(chunk * (need // len(chunk) + 1))[:need]]
        # Cut at a line end and pad with one plain line to land on 10 MB.
        cut = lines[0].rfind(b"\n") + 1
        rest = need - cut
        lines = [lines[0][:cut], b"y" * (rest - 1) + b"\n"] if rest else [lines[0][:cut]]
    return head + b"\n" + b"".join(lines)


def as_stored(sent):
    return sent.replace(b"\n", b"\r\n")


def strip_header(msg, name):
    """The message without its first header if that header is `name`."""
    if not msg.lower().startswith(name.lower() + b":"):
        raise AssertionError("expected a %r header first, got %r" % (name, msg[:200]))
    lines = msg.split(b"\r\n")
    n = 1
    while n < len(lines) and lines[n][:1] in (b"\t", b" "):
        n += 1
    return b"\r\n".join(lines[n:])


class PostfixSender(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        self.board = None
        self.postfix = None

    def tearDown(self):
        try:
            if self.postfix:
                self.postfix.cleanup()      # postfix stop, even after a failure
        finally:
            if self.board:
                self.board.kill()
            shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self):
        b = self.board = start_sim(flash=self.flash, flash_size="64M")
        b.expect(r"services: SMTP listening on port 25 \(STARTTLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        return b

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(60), 0)
        self.board.kill()
        self.board = None

    def accepted(self):
        return ACCEPTED.findall(self.board.out)

    def test_postfix_delivers_200_messages_over_starttls(self):
        b = self.boot()
        pf = self.postfix = PrivatePostfix("sender", {
            "relayhost": "[127.0.0.1]:%d" % (b.offset + 25),
            "smtp_tls_security_level": "may",
            "smtp_tls_loglevel": "1",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtp_destination_concurrency_limit": "8",
            "smtp_connect_timeout": "10s",
        })
        pf.start()
        sent = {}
        for i in range(COUNT):
            msg = body_of(i)
            sent["<m%d@sender.example.net>" % i] = (recipients_of(i), as_stored(msg))
            pf.sendmail("sender@example.net", recipients_of(i), msg)
        self.assertGreaterEqual(len(sent["<m0@sender.example.net>"][1]), BIG)

        # Wait until the appliance has answered 250 to all of them and
        # Postfix's queue is empty.
        end = time.time() + DELIVERY_TIMEOUT
        while time.time() < end:
            self.board._read(0.5)
            if len(self.accepted()) >= COUNT and pf.queue_size() == 0:
                break
        else:
            self.fail("after %d s: %d accepted by the appliance, %d still queued in Postfix;"
                      " Postfix said:\n%s\nappliance said:\n%s"
                      % (DELIVERY_TIMEOUT, len(self.accepted()), pf.queue_size(),
                         pf.log_text()[-4000:], b.out[-3000:]))
        time.sleep(1)   # nothing more should come
        self.board._read(0.5)
        acc = self.accepted()
        self.assertEqual(len(acc), COUNT)
        self.assertEqual(sum(int(r) for r, _, _ in acc), sum(len(r) for r, _ in sent.values()))
        for _, _, tls in acc:
            self.assertRegex(tls, r"^TLSv1\.[23]$")
        log = pf.log_text()
        self.assertEqual(len(re.findall(r"status=sent \(250 ", log)),
                         sum(len(r) for r, _ in sent.values()), log[-4000:])
        self.assertIn("TLS connection established to 127.0.0.1", log)
        self.assertNotRegex(log, r"status=(bounced|deferred)")
        pf.cleanup()
        self.postfix = None
        self.poweroff()

        # Every message is in each of its recipients' inboxes once, byte for
        # byte below the appliance's trace headers and Postfix's own Received.
        seen = {}
        for user in ("alice@example.test", "bob@example.test"):
            msgs = inbox(self.flash, user)
            self.assertEqual(len(msgs), sum(user in r for r, _ in sent.values()), user)
            for uid, size, _ in msgs:
                rp, received, rest = split_trace(message(self.flash, user, uid))
                self.assertEqual(rp, b"Return-Path: <sender@example.net>")
                self.assertIn(b"with ESMTPS", received)
                self.assertIn(b"TLS", received)
                body = strip_header(rest, b"Received")
                m = re.search(rb"^Message-ID: (<[^>]+>)\r$", body, re.M)
                self.assertIsNotNone(m, body[:500])
                mid = m.group(1).decode()
                self.assertIn(mid, sent)
                self.assertNotIn((user, mid), seen, "delivered twice")
                seen[(user, mid)] = True
                self.assertIn(user, sent[mid][0])
                self.assertEqual(body, sent[mid][1], "%s differs for %s" % (mid, user))
        big = [s for s in inbox(self.flash, "alice@example.test") if s[1] > BIG]
        self.assertEqual(len(big), 1)


class Swaks(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        b = self.board = start_sim(flash=self.flash, flash_size="8M")
        b.expect(r"services: SMTP listening on port 25 \(STARTTLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def swaks(self, *args):
        argv = ["swaks", "--server", "127.0.0.1:%d" % (self.board.offset + 25),
                "--from", "sender@example.net", "--helo", "client.example.net",
                "--timeout", "20"] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    def test_swaks_starttls_and_smuggling_probes(self):
        p = self.swaks("--to", "alice@example.test", "--tls")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"=== TLS started with cipher TLSv1\.[23]")
        self.assertRegex(p.stdout, r"<~  250 [^\n]*queued as")

        # Raw DATA (no line-end fix-up by swaks): an end of data made of bare
        # LF or bare CR, then a second transaction for bob. None of them may
        # end the first message; bob must never get anything.
        smuggled = ("MAIL FROM:<sender@example.net>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                    "Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
        for eod in ("\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r.\r", "\r\n.\r"):
            data = "Subject: probe %r\r\n\r\nfirst part%s%sstill the first\r\n" % (eod, eod, smuggled)
            path = os.path.join(self.dir, "probe.eml")
            with open(path, "w", newline="") as f:
                f.write(data)
            p = self.swaks("--to", "alice@example.test", "--data", "@" + path, "--no-data-fixup")
            self.assertRegex(p.stdout, r"<\*\* 554 5\.6\.0 ", "probe %r:\n%s" % (eod, p.stdout))
            # The appliance still serves after each probe.
            p = self.swaks("--to", "alice@example.test", "--tls", "--body", "after %r" % eod)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(60), 0)
        self.board.kill()
        self.board = None
        self.assertEqual(inbox(self.flash, "bob@example.test"), [])
        for uid, _, _ in inbox(self.flash, "alice@example.test"):
            self.assertNotIn(b"Subject: smuggled", message(self.flash, "alice@example.test", uid))


if __name__ == "__main__":
    unittest.main()
