"""Power cuts while 200 outbound messages are in flight (the queue runner of
smtp/smtp_relay.c against the recording sink of test_outbound.py).

200 messages for bob@example.net (through an alias) are queued while the
sink holds every attempt, and the board is powered off cleanly: that flash
image is the starting point of every round.  A clean delivery run of the
image, with its flash program/erase operations counted, says how many
operations delivering everything takes (T).  Each round then restores the
image, boots with --powercut-after N (N seeded-random, one per stratum of
[1, T], strata even and log-spaced, so the cuts spread over the whole
delivery), lets the sim die with
status 99, boots again normally and flushes the queue until it is empty.

What a user would notice, asserted per round: a message that never arrives
(lost), one that arrives three times, a store that reports problems after
the reboot, a bounce for mail that did not fail.  Duplicates are allowed
only in the window between the remote's 250 and our commit: the runner has
SMTP_RELAY_JOBS = 4 delivery slots, each with at most one message between
its final dot and its commit, so one cut duplicates at most 4 messages.

Replay a failure with PB_POWERCUT_SEED=<the printed seed>.
"""
import os
import random
import re
import shutil
import smtplib
import subprocess
import sys
import threading
import time
import unittest

from board import SIM, Board, free_port_offset, start_sim
from test_outbound import OutboundRig
from test_smtp_delivery import inbox, queue

MESSAGES = 200
ROUNDS = 8           # power cuts, one round each
SLOTS = 4           # SMTP_RELAY_JOBS: messages between a 250 and its commit at once
SESSIONS = 4        # smtplib sessions used to queue the messages
MID = re.compile(rb"^Message-ID: <pc-(\d+)\.", re.M | re.I)


def body(i, seed):
    return (b"From: alice@example.test\r\nTo: fwd@example.test\r\nSubject: powercut %03d\r\n"
            b"Message-ID: <pc-%03d.%d@example.test>\r\n\r\n" % (i, i, seed)
            + b"line of message %03d\r\n" % i * 40)


def strace_works():
    """strace is installed and may trace here (ptrace can be forbidden)."""
    if not shutil.which("strace"):
        return False
    p = subprocess.run(["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=pwrite64", "-o", os.devnull,
                        "true"], capture_output=True, timeout=30)
    return p.returncode == 0


class OutboundPowercut(OutboundRig, unittest.TestCase):
    def guestfwd(self):
        return ["--guestfwd", "10.0.2.100:25=127.0.0.1:%d" % self.sink.port]

    def delivered(self, since=0):
        """{message number: copies} of what the sink accepted after since."""
        counts = {}
        with self.sink.lock:
            msgs = list(self.sink.messages[since:])
        for mail, rcpts, data in msgs:
            self.assertEqual((mail, rcpts), ("alice@example.test", ["bob@example.net"]))
            m = MID.search(data)
            self.assertIsNotNone(m, data[:300])
            n = int(m.group(1))
            counts[n] = counts.get(n, 0) + 1
        return counts

    def queue_all(self, seed):
        """Queue the messages with the sink holding every attempt at RCPT;
        power off cleanly, so every entry stays due and untouched."""
        hold = threading.Event()
        self.sink.rcpt = lambda addr, n: (hold.wait(600), "451 4.3.0 Not yet")[1]
        try:
            b = self.boot()
            self.provision(b)
            per = MESSAGES // SESSIONS
            for s0 in range(0, MESSAGES, per):
                with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=60) as s:
                    s.ehlo("client.example.test")
                    for i in range(s0, min(MESSAGES, s0 + per)):
                        self.assertEqual(s.sendmail("alice@example.test", ["fwd@example.test"],
                                                    body(i, seed)), {})
            self.poweroff()
        finally:
            hold.set()
        self.sink.rcpt = lambda addr, n: "250 2.1.5 Ok"
        entries = queue(self.flash)
        self.assertEqual(len(entries), MESSAGES, entries[:5])

    def drain(self, b, what, timeout=240):
        """Wait until the queue is empty, flushing it when it stops moving
        (an entry deferred by the cut waits for its backoff otherwise)."""
        deadline = time.time() + timeout
        last, still = None, time.time()
        while True:
            out = b.command("show queue")
            if "the queue is empty" in out:
                return
            if out != last:
                last, still = out, time.time()
            elif time.time() - still > 10:
                b.command("queue flush")
                still = time.time()
            self.assertLess(time.time(), deadline, "%s: the queue never emptied:\n%s" % (what, out[-2000:]))
            time.sleep(1)

    def storage_ok(self, b, what):
        out = b.command("storage check", timeout=120)
        m = re.search(r"storage check: \d+ records read, (\d+) corrupt, (\d+) problems", out)
        self.assertIsNotNone(m, "%s: %s" % (what, out))
        self.assertEqual(m.group(2), "0", "%s: %s" % (what, out))
        return int(m.group(1))

    def count_ops(self):
        """Flash program/erase operations of a clean boot that delivers the
        whole queue of self.flash, counted the way --powercut-after counts
        them.  With strace: the sim's pwrite(2)s on the flash file (one per
        program, one per 4 KiB erase block).  Without: the smallest power of
        two that a cut boot survives, an upper bound within a factor 2."""
        image = self.flash + ".measure"
        shutil.copyfile(self.flash, image)
        try:
            if strace_works():
                log = os.path.join(self.dir, "strace.log")
                offset = free_port_offset()
                b = self.board = Board(["strace", "-f", "--seccomp-bpf", "-qq", "-y", "-e", "trace=pwrite64",
                                        "-o", log, SIM, "--flash", self.flash, "--port-offset", str(offset),
                                        "--flash-size", "8M"] + self.guestfwd())
                b.offset = offset
                b.expect(r"network: address 10\.0\.2\.15", timeout=60)
                since = len(self.sink.messages)
                self.drain(b, "measuring run")
                self.poweroff()
                counts = self.delivered(since)
                # Without a cut every message goes exactly once.
                self.assertEqual(sorted(counts), list(range(MESSAGES)))
                self.assertEqual(set(counts.values()), {1})
                with open(log, errors="replace") as f:
                    return sum(1 for line in f if "flash.img>" in line and "pwrite64(" in line)
            n = 256
            while True:
                shutil.copyfile(image, self.flash)
                b = self.board = start_sim(flash=self.flash, flash_size="8M",
                                           extra=self.guestfwd() + ["--powercut-after", str(n)])
                done = self.wait_cut(b)
                if not done:
                    return n
                n *= 2
        finally:
            shutil.copyfile(image, self.flash)
            os.unlink(image)

    def wait_cut(self, b, timeout=240):
        """Let a --powercut-after boot run; True if it lost power, False if
        it delivered everything first (then it is powered off)."""
        deadline = time.time() + timeout
        while b.proc.poll() is None and b.out.count(": done, 1 sent") < MESSAGES:
            self.assertLess(time.time(), deadline, "the cut boot neither died nor finished")
            b._read(0.2)
        if b.proc.poll() is None:
            # The GC after the last delivery may still reach the cut.
            time.sleep(1)
            try:
                b.send("poweroff")
            except BrokenPipeError:
                pass
            rc = b.wait(30)
        else:
            rc = b.wait(5)
        b.kill()
        self.board = None
        self.assertIn(rc, (0, 99))
        return rc == 99

    def test_power_cuts_with_200_in_flight(self):
        seed = int(os.environ.get("PB_POWERCUT_SEED", random.randrange(1 << 31)))
        print("outbound power cut: PB_POWERCUT_SEED=%d" % seed, file=sys.stderr, flush=True)
        rng = random.Random(seed)
        self.queue_all(seed)
        queued = self.flash + ".queued"
        shutil.copyfile(self.flash, queued)
        total = self.count_ops()
        print("outbound power cut: a clean delivery of %d messages takes %d flash operations"
              % (MESSAGES, total), file=sys.stderr, flush=True)
        self.assertGreater(total, MESSAGES)     # at least one commit per message

        # One cut per stratum of [1, total].  Half the strata split it
        # evenly, half on a log scale: the first messages go out within the
        # first few dozen operations (a commit is one small program), while
        # the later ones share the operations with garbage collection, so
        # even strata alone would rarely cut the start of the delivery.
        half = ROUNDS // 2
        bounds = sorted({int(round(total ** (k / half))) for k in range(half + 1)} |
                        {k * total // (ROUNDS - half) for k in range(ROUNDS - half + 1)} | {0})
        cuts = [rng.randint(lo + 1, hi) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]
        rng.shuffle(cuts)
        self.assertGreaterEqual(len(cuts), 5)
        report = []
        died_rounds = 0
        for cut in cuts:
            what = "seed %d, cut at flash operation %d of %d" % (seed, cut, total)
            shutil.copyfile(queued, self.flash)
            since = len(self.sink.messages)
            b = self.board = start_sim(flash=self.flash, flash_size="8M",
                                       extra=self.guestfwd() + ["--powercut-after", str(cut)])
            died = self.wait_cut(b)
            before = self.delivered(since)
            # The reboot: the store mounts clean and the rest goes out.
            b = self.boot()
            corrupt = self.storage_ok(b, what + ", after the reboot")
            self.drain(b, what)
            self.storage_ok(b, what + ", queue drained")
            self.poweroff()
            counts = self.delivered(since)
            missing = [i for i in range(MESSAGES) if i not in counts]
            self.assertEqual(missing, [], what + ": lost")
            thrice = {i: c for i, c in counts.items() if c > 2}
            self.assertEqual(thrice, {}, what + ": delivered more than twice")
            dups = sorted(i for i, c in counts.items() if c == 2)
            # Only the messages between a 250 and its commit when the power
            # went, one per delivery slot, may go twice.
            self.assertLessEqual(len(dups), SLOTS if died else 0, "%s: duplicates %s" % (what, dups))
            for i in dups:
                self.assertEqual(before.get(i), 1, "%s: %d went twice but not across the cut" % (what, i))
            self.assertNotIn("DSN for", b.out, what)
            self.assertNotIn("delay notice for", b.out, what)
            self.assertEqual(inbox(self.flash, "alice@example.test"), [], what + ": a DSN reached the sender")
            report.append("cut %d: %s, %d before the cut, %d duplicate(s), %d torn record(s)"
                          % (cut, "died" if died else "finished first", len(before), len(dups), corrupt))
            died_rounds += died
        print("outbound power cut: " + "; ".join(report), file=sys.stderr, flush=True)
        # A clean run's operation count varies with GC timing, so a cut in
        # the last stratum may come after the end; most must not.
        self.assertGreaterEqual(died_rounds, 5, "seed %d: %s" % (seed, report))


if __name__ == "__main__":
    unittest.main()
