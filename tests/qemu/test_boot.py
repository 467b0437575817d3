#!/usr/bin/env python3
"""Boot the ARM image on QEMU's mps2-an500 and talk to it over the console.

Each test starts build/arm/pillarbox.elf on a fresh temporary flash file,
with the service ports forwarded from a free host port offset, reads the
serial console (QEMU's stdio, a pipe here) and types commands into it:

  - the firmware gets 10.0.2.15 from QEMU's DHCP server and says so;
  - "show version" names Pillarbox and the board, mps2-an500;
  - "poweroff" ends QEMU with exit status 0;
  - "reboot" restarts the firmware on the same flash file;
  - a setting and the TLS identity survive a reboot and a new QEMU on the
    same flash file.

Every wait is bounded; a test that fails kills QEMU.  Standard library only.
Run alone with: python3 tests/qemu/test_boot.py
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from board import PROMPT, SERVICE_PORTS, Board, free_port_offset  # noqa: E402
ELF = os.path.join(ROOT, "build", "arm", "pillarbox.elf")
QEMU = "qemu-system-arm"
FLASH_BYTES = 4 * 1024 * 1024
TIMEOUT = 60  # seconds for any one step (boot to address, a reply, exit)


def qemu_argv(elf, flash, offset, flash_bytes=FLASH_BYTES):
    """The command line of "make run", with the console on a plain pipe."""
    fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % (offset + p, p) for p in SERVICE_PORTS)
    return [QEMU, "-M", "mps2-an500", "-nographic", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native",
            "-serial", "stdio",
            "-nic", "user,model=lan9118," + fwd,
            "-kernel", elf,
            "-append", "flash=%s flash-size=%d port-offset=%d" % (flash, flash_bytes, offset)]


class Qemu(Board):
    """QEMU running the image, its console on stdin/stdout pipes: the sim
    tests' console driver, with QEMU's longer waits."""

    def expect(self, pattern, timeout=TIMEOUT):
        return super().expect(pattern, timeout)

    def command(self, line, timeout=TIMEOUT):
        return super().command(line, timeout)

    def wait(self, timeout=TIMEOUT):
        return super().wait(timeout)


class QemuBootTest(unittest.TestCase):

    def setUp(self):
        self.assertTrue(os.path.isfile(ELF), "%s is missing: make arm did not build it" % ELF)
        self.assertIsNotNone(shutil.which(QEMU), "%s is not installed" % QEMU)
        self.tmp = tempfile.mkdtemp(prefix="pillarbox-qemu-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.flash = os.path.join(self.tmp, "flash.img")
        self.offset = free_port_offset()
        self.qemu = Qemu(qemu_argv(ELF, self.flash, self.offset))
        self.addCleanup(self.qemu.kill)

    def expect_address(self):
        self.qemu.expect(r"10\.0\.2\.15")

    def test_boot_dhcp_version_poweroff(self):
        self.expect_address()

        reply = self.qemu.command("show version")
        self.assertIn("Pillarbox", reply)
        self.assertIn("mps2-an500", reply)

        self.qemu.send("poweroff")
        self.assertEqual(self.qemu.wait(), 0, "console:\n" + self.qemu.out[-3000:])
        # The board created the flash file, erased, at the size asked for.
        self.assertEqual(os.path.getsize(self.flash), FLASH_BYTES)

    def test_reboot_comes_back_on_the_same_flash(self):
        self.expect_address()
        self.qemu.send("reboot")
        self.qemu.expect(r"Pillarbox\b.*mps2-an500")  # the boot banner again
        self.expect_address()
        self.qemu.send("poweroff")
        self.assertEqual(self.qemu.wait(), 0, "console:\n" + self.qemu.out[-3000:])
        self.assertEqual(os.path.getsize(self.flash), FLASH_BYTES)

    def test_setting_survives_reboot(self):
        fpr = r"SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})"
        first = self.qemu.expect(r"identity: TLS certificate for pillarbox, " + fpr).group(1)
        self.qemu.expect(re.escape(PROMPT))
        reply = self.qemu.command("set hostname mail.example.test")
        self.assertIn("hostname set to mail.example.test", reply)
        self.qemu.send("reboot")
        self.qemu.expect(r"Pillarbox\b.*mps2-an500")
        self.assertEqual(self.qemu.expect(r"identity: TLS certificate kept on flash, " + fpr).group(1),
                         first)
        self.qemu.expect(re.escape(PROMPT))
        self.assertRegex(self.qemu.command("show status"), r"hostname\s+mail\.example\.test")
        self.qemu.send("poweroff")
        self.assertEqual(self.qemu.wait(), 0, "console:\n" + self.qemu.out[-3000:])
        # Another QEMU on the same flash file: a cold boot.
        self.qemu = Qemu(qemu_argv(ELF, self.flash, self.offset))
        self.addCleanup(self.qemu.kill)
        self.qemu.expect(r"storage: mounted")
        self.qemu.expect(re.escape(PROMPT))
        self.assertRegex(self.qemu.command("show status"), r"hostname\s+mail\.example\.test")
        self.qemu.send("poweroff")
        self.assertEqual(self.qemu.wait(), 0, "console:\n" + self.qemu.out[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
