"""End-to-end: settings live in the flash store and survive reboots and power cuts."""
import os
import re
import shutil
import tempfile
import unittest

from board import start_sim

POWERCUT_STATUS = 99


class SimStorage(unittest.TestCase):
    def setUp(self):
        self.board = None
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self, flash, extra=()):
        self.board = start_sim(flash=flash, flash_size=None if os.path.exists(flash) else "2M",
                               extra=extra)
        self.board.expect(r"storage: mounted \d+ KiB in \d+ ms")
        return self.board

    def poweroff(self):
        self.board.send("poweroff")
        self.assertEqual(self.board.wait(20), 0)
        self.board = None

    def test_hostname_survives_reboot(self):
        flash = os.path.join(self.dir, "flash.img")
        b = self.boot(flash)
        out = b.command("set hostname mail.example.test")
        self.assertIn("hostname set to mail.example.test", out)
        b.send("reboot")
        b.expect(r"rebooting")
        b.expect(r"storage: mounted \d+ KiB in \d+ ms: 1 blocks in use")
        b.expect(r"identity: TLS certificate kept on flash")
        self.assertRegex(b.command("show status"), r"hostname\s+mail\.example\.test")
        out = b.command("show storage")
        for field in ("capacity", "used", "live", "dead", "free", "reserve", "erase count min",
                      "mount time"):
            self.assertIn(field, out)
        self.assertRegex(b.command("storage check"), r"storage check: \d+ records read, 0 corrupt, 0 problems")
        self.poweroff()

    def test_identity_survives_reboot(self):
        flash = os.path.join(self.dir, "flash.img")
        b = self.boot(flash)
        fpr = r"SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})"
        first = b.expect(r"identity: TLS certificate for pillarbox, " + fpr).group(1)
        b.send("reboot")
        b.expect(r"rebooting")
        self.assertEqual(b.expect(r"identity: TLS certificate kept on flash, " + fpr).group(1), first)
        self.poweroff()
        b = self.boot(flash)
        self.assertEqual(b.expect(r"identity: TLS certificate kept on flash, " + fpr).group(1), first)
        self.poweroff()
        # A blank store makes a new one.
        b = self.boot(os.path.join(self.dir, "blank.img"))
        other = b.expect(r"identity: TLS certificate for pillarbox, " + fpr).group(1)
        self.assertNotEqual(other, first)
        self.poweroff()

    def test_powercut_during_set_hostname(self):
        base = os.path.join(self.dir, "base.img")
        b = self.boot(base)
        b.command("set hostname old.example.test")
        self.poweroff()
        results = []
        # The commit of the new name is a block erase, its header and one
        # record; then GC releases the block of the old name: cut at each
        # of them, and once past the end.
        for n in range(1, 7):
            flash = os.path.join(self.dir, "cut%d.img" % n)
            shutil.copy(base, flash)
            b = self.boot(flash, extra=["--powercut-after", str(n)])
            b.send("set hostname new.example.test")
            try:
                b.expect(r"hostname set to new\.example\.test", timeout=10)
                acked = True
            except AssertionError:
                acked = False
            if acked:
                # Housekeeping after the reply (GC releasing the block of
                # the old name) may be where the power goes.
                b.send("poweroff")
                self.assertIn(b.wait(20), (0, POWERCUT_STATUS))
                self.board = None
            else:
                self.assertEqual(b.wait(20), POWERCUT_STATUS)
                self.board = None
            b = self.boot(flash)
            status = b.command("show status")
            m = re.search(r"hostname\s+(\S+)", status)
            self.assertIsNotNone(m, status)
            name = m.group(1)
            if acked:
                self.assertEqual(name, "new.example.test")
            else:
                self.assertIn(name, ("old.example.test", "new.example.test"))
            self.assertRegex(b.command("storage check"), r", 0 problems")
            self.poweroff()
            results.append((n, acked, name))
        # Some cuts came before the acknowledgement, and one run finished.
        self.assertTrue(any(not a for _, a, _ in results))
        self.assertTrue(any(a for _, a, _ in results))


if __name__ == "__main__":
    unittest.main()
