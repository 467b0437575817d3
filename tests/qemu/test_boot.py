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
import random
import re
import select
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ELF = os.path.join(ROOT, "build", "arm", "pillarbox.elf")
QEMU = "qemu-system-arm"
SERVICE_PORTS = (25, 587, 465, 143, 993, 110, 995, 80, 443)
PROMPT = "pillarbox> "
FLASH_BYTES = 4 * 1024 * 1024
TIMEOUT = 60  # seconds for any one step (boot to address, a reply, exit)


def free_port_offset():
    """An offset whose host ports (offset + each service port) are all free."""
    for _ in range(200):
        offset = random.randrange(20000, 60000, 10)
        socks = []
        try:
            for port in SERVICE_PORTS:
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", offset + port))
            return offset
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port offset")


def qemu_argv(elf, flash, offset, flash_bytes=FLASH_BYTES):
    """The command line of "make run", with the console on a plain pipe."""
    fwd = ",".join("hostfwd=tcp:127.0.0.1:%d-:%d" % (offset + p, p) for p in SERVICE_PORTS)
    return [QEMU, "-M", "mps2-an500", "-nographic", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native",
            "-serial", "stdio",
            "-nic", "user,model=lan9118," + fwd,
            "-kernel", elf,
            "-append", "flash=%s flash-size=%d port-offset=%d" % (flash, flash_bytes, offset)]


class Qemu:
    """QEMU running the image, its console on stdin/stdout pipes."""

    def __init__(self, argv):
        self.out = ""   # console output so far, carriage returns removed
        self.pos = 0    # expect() looks for its pattern from here on
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=ROOT)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def _read(self, timeout):
        """Append what arrives within timeout; False on end of output."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return True
        data = self.proc.stdout.read()
        if not data:
            return False
        self.out += data.decode("utf-8", "replace").replace("\r", "")
        return True

    def expect(self, pattern, timeout=TIMEOUT):
        """Wait for the regex after the previous match; return the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out after %ds waiting for %r; console:\n%s"
                                     % (timeout, pattern, self.out[-3000:]))
            if not self._read(min(left, 0.5)):
                m = rx.search(self.out, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise AssertionError("QEMU ended (status %s) while waiting for %r; console:\n%s"
                                     % (self.proc.poll(), pattern, self.out[-3000:]))

    def send(self, line):
        self.proc.stdin.write((line + "\r").encode())
        self.proc.stdin.flush()

    def command(self, line, timeout=TIMEOUT):
        """Type a command; return what the console printed up to the next prompt."""
        self.send(line)
        self.expect(re.escape(line) + r"\s*\n", timeout)
        start = self.pos
        self.expect(re.escape(PROMPT), timeout)
        return self.out[start:self.pos - len(PROMPT)]

    def wait(self, timeout=TIMEOUT):
        """Wait for QEMU to exit; return its status (output is drained)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            if not self._read(0.2):
                break
        status = self.proc.wait(max(0.1, deadline - time.monotonic()))
        while self._read(0):
            pass
        return status

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


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
