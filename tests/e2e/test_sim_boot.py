"""End-to-end: the sim board boots, gets its address, answers, powers off."""
import os
import re
import socket
import subprocess
import tempfile
import unittest

from board import SIM, start_sim, free_port_offset

FINGERPRINT = r"SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})"


class SimBoot(unittest.TestCase):
    def setUp(self):
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()

    def test_boot_dhcp_status_poweroff(self):
        b = self.board = start_sim(flash_size="2M")
        b.expect(r"Pillarbox \S+ starting on board sim")
        b.expect(r"network: address 10\.0\.2\.15 \(DHCP\), gateway 10\.0\.2\.2", timeout=30)
        # A fresh flash file of the requested size, found blank and formatted.
        self.assertEqual(os.path.getsize(b.flash), 2 * 1024 * 1024)
        self.assertRegex(b.out, r"storage: mounted 2048 KiB .*\(blank flash: new store\)")

        out = b.command("show status")
        self.assertRegex(out, r"uptime\s+0d \d\d:\d\d:\d\d")
        self.assertRegex(out, r"ipv4 \(dhcp\)\s+10\.0\.2\.15")
        self.assertRegex(out, r"gateway\s+10\.0\.2\.2")
        self.assertRegex(out, r"dns\s+10\.0\.2\.3")
        self.assertRegex(out, r"mac\s+52:54:00:12:34:56")
        self.assertRegex(out, r"TCP_PCB\s+\d+ /\s+\d+")
        self.assertRegex(out, r"tls arena\s+\d+ /\s+\d+ bytes")

        out = b.command("show version")
        self.assertRegex(out, r"Pillarbox \d+\.\d+\.\d+ on board sim")

        b.send("poweroff")
        self.assertEqual(b.wait(20), 0)
        self.assertIn("powering off", b.out)

    def test_identity_fingerprint_is_printed(self):
        b = self.board = start_sim()
        m = b.expect(r"identity: TLS certificate for pillarbox, " + FINGERPRINT)
        self.assertEqual(len(m.group(1)), 95)
        b.send("poweroff")
        self.assertEqual(b.wait(20), 0)

    def test_hostname_and_reboot(self):
        b = self.board = start_sim()
        b.expect(r"network: address 10\.0\.2\.15")
        out = b.command("set hostname mail.example.test")
        self.assertIn("hostname set to mail.example.test", out)
        self.assertRegex(b.command("show status"), r"hostname\s+mail\.example\.test")
        out = b.command('set hostname "not valid"')
        self.assertRegex(out, r"^error: 'not valid' is not a valid hostname")
        out = b.command("frobnicate")
        self.assertIn("error: unknown command 'frobnicate'", out)
        pid = b.proc.pid
        b.send("reboot")
        # The same process comes back up on the same flash.
        b.expect(r"rebooting")
        b.expect(r"Pillarbox \S+ starting on board sim")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertEqual(b.proc.pid, pid)
        self.assertIsNone(b.proc.poll())
        b.send("poweroff")
        self.assertEqual(b.wait(20), 0)

    def test_help_lists_commands(self):
        b = self.board = start_sim()
        out = b.command("help")
        for cmd in ("show version", "show status", "show log", "set hostname NAME",
                    "reboot", "poweroff"):
            self.assertIn(cmd, out)
        b.send("poweroff")
        self.assertEqual(b.wait(20), 0)

    def test_flags(self):
        p = subprocess.run([SIM, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        for flag in ("--flash PATH", "--flash-size", "--port-offset", "--guestfwd",
                     "--powercut-after", "--help"):
            self.assertIn(flag, p.stdout)
        p = subprocess.run([SIM, "--bogus", "1"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown option: --bogus", p.stderr)
        p = subprocess.run([SIM, "--flash-size", "12Q"], capture_output=True, text=True,
                           timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--flash-size", p.stderr)

    def test_port_in_use_is_reported(self):
        offset = free_port_offset()
        s = socket.socket()
        s.bind(("127.0.0.1", offset + 25))
        s.listen(1)
        try:
            b = self.board = start_sim(offset=offset)
            self.assertEqual(b.wait(20), 2)
            self.assertIn("cannot listen on 127.0.0.1:%d for port 25" % (offset + 25), b.out)
        finally:
            s.close()

    def test_port_forward_reaches_the_appliance(self):
        # Host port offset+25 reaches the appliance's SMTP server.
        b = self.board = start_sim()
        b.expect(r"network: address 10\.0\.2\.15")
        c = socket.create_connection(("127.0.0.1", b.offset + 25), timeout=10)
        c.settimeout(10)
        self.assertTrue(c.recv(100).startswith(b"220 2.0.0 pillarbox ESMTP Pillarbox"))
        c.close()
        b.send("poweroff")
        self.assertEqual(b.wait(20), 0)


if __name__ == "__main__":
    unittest.main()
