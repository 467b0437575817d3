"""The ARM image as the office's MX: on QEMU's mps2-an500, EHLO offers the
same extensions as on the sim (the size limit printed right: newlib-nano's
printf has no %llu), and a message sent over STARTTLS to a user provisioned
from the console is acknowledged once it is on the flash file."""
import os
import shutil
import smtplib
import ssl
import tempfile
import unittest

from test_boot import ELF, Qemu, free_port_offset, qemu_argv


class QemuSmtp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-qemu-")
        self.offset = free_port_offset()
        self.qemu = Qemu(qemu_argv(ELF, os.path.join(self.dir, "flash.img"), self.offset))

    def tearDown(self):
        self.qemu.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_ehlo_and_delivery_over_starttls(self):
        q = self.qemu
        q.expect(r"services: SMTP listening on port 25 \(STARTTLS\)")
        q.expect(r"network: address 10\.0\.2\.15")
        self.assertIn("domain example.test added", q.command("domain add example.test"))
        self.assertIn("user alice@example.test added", q.command("user add alice@example.test pw"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", self.offset + 25, timeout=60) as s:
            code, caps = s.ehlo("client.example.net")
            self.assertEqual(code, 250)
            self.assertIn(b"SIZE 26214400", caps)
            s.starttls(context=ctx)
            s.ehlo("client.example.net")
            body = b"Subject: from the host\r\n\r\n" + b"hello, board\r\n" * 500
            self.assertEqual(s.sendmail("sender@example.net", ["alice@example.test"], body), {})
        m = q.expect(r"smtp: (\w+) from=<sender@example\.net> rcpts=1 size=(\d+) peer=10\.0\.2\.2 "
                     r"tls=TLSv1\.[23] result=250")
        self.assertGreater(int(m.group(2)), len(body))
        q.send("poweroff")
        self.assertEqual(q.wait(), 0)


if __name__ == "__main__":
    unittest.main()
