"""Power cuts during IMAP changes: APPEND, STORE and EXPUNGE are each
replayed with the sim's power cut at every flash operation in turn, and
after the reboot the folder matches exactly what was acknowledged.

- An APPEND answered OK is there, byte for byte; one not answered is
  absent or there in full, never in part.
- A STORE answered OK has set the flag on every message it named; one not
  answered has set it on all of them or on none (the three changes are one
  store transaction).
- An EXPUNGE answered OK has removed the \\Deleted message; one not
  answered has removed it or left it whole, with its flag.
- A RENAME INBOX answered OK has moved every message to the new folder;
  whatever the cut, INBOX exists and no message is lost.

The folder is read back over IMAPS after the reboot, as a client sees it.
"""
import imaplib
import os
import re
import shutil
import tempfile
import unittest

from board import start_sim
from test_smtp_delivery import unverified

USER, PASSWORD = "alice@example.test", "alice-pw"
PROVISION = ("domain add example.test", "user add %s %s" % (USER, PASSWORD))
BASE_BODIES = [b"Subject: base %d\r\n\r\n" % i + b"base message line\r\n" * (40 * i)
               for i in (1, 2, 3)]
APPENDED = b"Subject: appended\r\n\r\n" + b"appended line of text\r\n" * 600
SWEEP_MAX = 80      # more flash operations than any one of the operations takes
CUT_ERRORS = (imaplib.IMAP4.error, OSError, EOFError, AssertionError)


class ImapPowerCut(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self, flash, extra=()):
        b = self.board = start_sim(flash=flash, flash_size="8M", extra=list(extra))
        b.expect(r"services: IMAPS listening on port 993 \(TLS\)", timeout=20)
        b.expect(r"network: address 10\.0\.2\.15", timeout=20)
        return b

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(30), 0)
        self.board.kill()
        self.board = None

    def imaps(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.board.offset + 993, ssl_context=unverified(),
                              timeout=20)
        m.login(USER, PASSWORD)
        return m

    def folder(self, flash):
        """Boot on flash without a cut; the INBOX as [(uid, flags, body)]."""
        self.boot(flash)
        m = self.imaps()
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        msgs = []
        if int(data[0]) > 0:
            typ, data = m.fetch("1:*", "(UID FLAGS BODY.PEEK[])")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                head = item[0].decode()
                uid = int(re.search(r"UID (\d+)", head).group(1))
                flags = set(re.search(r"FLAGS \(([^)]*)\)", head).group(1).split())
                msgs.append((uid, flags, item[1]))
        m.logout()
        self.poweroff()
        return msgs

    def make_base(self, deleted_second=False):
        """A powered-off flash with three messages in INBOX."""
        flash = os.path.join(self.dir, "base-%d.img" % deleted_second)
        b = self.boot(flash)
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        m = self.imaps()
        for i, body in enumerate(BASE_BODIES):
            flags = "(\\Deleted)" if deleted_second and i == 1 else None
            self.assertEqual(m.append("INBOX", flags, None, body)[0], "OK")
        m.logout()
        self.poweroff()
        return flash

    def sweep(self, base, operation, check):
        """Run operation(imap) on a copy of base with the power cut at flash
        operation 1, 2, ... until one run completes without a cut; check
        (run, acknowledged, folder) after each reboot.  Returns how many
        runs lost power before and after the acknowledgement."""
        before = after = 0
        for n in range(1, SWEEP_MAX + 1):
            flash = os.path.join(self.dir, "cut-%d.img" % n)
            shutil.copy(base, flash)
            b = self.board = start_sim(flash=flash, flash_size="8M",
                                       extra=["--powercut-after", str(n)])
            ok, m = False, None
            try:
                b.expect(r"network: address 10\.0\.2\.15", timeout=20)
                m = imaplib.IMAP4_SSL("127.0.0.1", b.offset + 993, ssl_context=unverified(),
                                      timeout=20)
                m.login(USER, PASSWORD)
                self.assertEqual(m.select("INBOX")[0], "OK")
                ok = operation(m)
                try:
                    m.logout()
                except CUT_ERRORS:
                    pass
            except CUT_ERRORS:
                pass
            if m is not None:
                try:
                    m.shutdown()
                except OSError:
                    pass
            cut = b.proc.poll() is not None
            if cut:
                rc = b.wait(30)
            else:
                b.send("poweroff")
                rc = b.wait(30)
            b.kill()
            self.board = None
            self.assertIn(rc, (0, 99), "run %d ended with %r" % (n, rc))
            self.cut_flash = flash
            check(n, ok, self.folder(flash))
            os.unlink(flash)
            if rc == 99:
                after += ok
                before += not ok
            else:
                self.assertTrue(ok, "run %d: no power cut, yet no OK" % n)
                if os.environ.get("PB_VERBOSE"):
                    print("%d runs: %d cut before the OK, %d after" % (n, before, after))
                return before, after
        self.fail("the operation still wrote to flash after %d operations" % SWEEP_MAX)

    def test_append(self):
        base = self.make_base()

        def append(m):
            typ, data = m.append("INBOX", "(\\Seen)", None, APPENDED)
            return typ == "OK"

        def check(n, ok, msgs):
            self.assertEqual([b for _, _, b in msgs[:3]], BASE_BODIES,
                             "run %d: the messages already there changed" % n)
            if ok:
                self.assertEqual(len(msgs), 4, "run %d: acknowledged APPEND lost" % n)
            self.assertLessEqual(len(msgs), 4)
            for uid, flags, body in msgs[3:]:
                self.assertEqual(body, APPENDED, "run %d: APPEND kept in part" % n)
                self.assertIn("\\Seen", flags, "run %d: APPEND kept without its flag" % n)

        before, after = self.sweep(base, append, check)
        self.assertGreater(before, 0)   # the sweep really cut before the OK

    def test_store(self):
        base = self.make_base()

        def store(m):
            typ, data = m.store("1:3", "+FLAGS", "(\\Flagged \\Answered)")
            return typ == "OK"

        def check(n, ok, msgs):
            self.assertEqual([b for _, _, b in msgs], BASE_BODIES,
                             "run %d: STORE changed the messages" % n)
            flagged = [("\\Flagged" in f and "\\Answered" in f) for _, f, _ in msgs]
            if ok:
                self.assertEqual(flagged, [True] * 3, "run %d: acknowledged STORE lost" % n)
            else:
                self.assertIn(flagged, ([True] * 3, [False] * 3),
                              "run %d: STORE kept in part" % n)

        before, after = self.sweep(base, store, check)
        self.assertGreater(before, 0)

    def test_expunge(self):
        base = self.make_base(deleted_second=True)

        def expunge(m):
            typ, data = m.expunge()
            return typ == "OK" and data == [b"2"]

        def check(n, ok, msgs):
            bodies = [b for _, _, b in msgs]
            if ok:
                self.assertEqual(bodies, [BASE_BODIES[0], BASE_BODIES[2]],
                                 "run %d: acknowledged EXPUNGE lost" % n)
            elif len(msgs) == 3:
                self.assertEqual(bodies, BASE_BODIES, "run %d: a message changed" % n)
                self.assertIn("\\Deleted", msgs[1][1], "run %d: \\Deleted lost" % n)
            else:
                self.assertEqual(bodies, [BASE_BODIES[0], BASE_BODIES[2]],
                                 "run %d: EXPUNGE removed the wrong message" % n)
            for uid, flags, body in msgs:
                if body != BASE_BODIES[1]:
                    self.assertNotIn("\\Deleted", flags)

        before, after = self.sweep(base, expunge, check)
        self.assertGreater(before, 0)

    def bodies(self, flash, names):
        """Boot on flash without a cut; {folder: [bodies]} of the folders
        that exist among names."""
        self.boot(flash)
        m = self.imaps()
        out = {}
        for name in names:
            typ, data = m.select(name, readonly=True)
            if typ != "OK":
                continue
            out[name] = []
            if int(data[0]) > 0:
                typ, data = m.fetch("1:*", "(BODY.PEEK[])")
                out[name] = [item[1] for item in data if isinstance(item, tuple)]
        m.logout()
        self.poweroff()
        return out

    def test_rename_inbox(self):
        base = self.make_base()

        def rename(m):
            typ, data = m.rename("INBOX", "Old")
            return typ == "OK"

        def check(n, ok, msgs):
            got = self.bodies(self.cut_flash, ("INBOX", "Old"))
            self.assertIn("INBOX", got, "run %d: INBOX is gone" % n)
            if ok:
                self.assertEqual(got["INBOX"], [], "run %d: INBOX not emptied" % n)
                self.assertEqual(got["Old"], BASE_BODIES, "run %d: acknowledged RENAME lost" % n)
            for body in BASE_BODIES:
                self.assertIn(body, got["INBOX"] + got.get("Old", []), "run %d: a message lost" % n)

        before, after = self.sweep(base, rename, check)
        self.assertGreater(before, 0)


if __name__ == "__main__":
    unittest.main()
