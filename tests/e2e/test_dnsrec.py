"""End-to-end: `dns records` prints what the office pastes into its
registrar, and `dns check` looks each record up through the appliance's
resolver against the test DNS server of test_dns.py, whose zone has the
SPF record right, an MX pointing elsewhere, and no DMARC record."""
import re
import unittest

from board import start_sim
from test_dns import DnsServer, Zone


class DnsRecords(unittest.TestCase):
    def setUp(self):
        self.server = DnsServer(Zone())
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        self.server.close()

    def test_records_and_check(self):
        b = self.board = start_sim()
        b.expect(r"network: address 10\.0\.2\.15", timeout=30)
        for c in ("set hostname mail.example.test", "domain add example.test",
                  "set dns 10.0.2.2:%d" % self.server.port):
            self.assertNotIn("error:", b.command(c), c)
        out = b.command("dns records example.test")
        self.assertIn("example.test MX 10 mail.example.test.\n", out)
        self.assertIn('example.test TXT "v=spf1 mx -all"\n', out)
        self.assertIn('_dmarc.example.test TXT "v=DMARC1; p=quarantine; '
                      'rua=mailto:postmaster@example.test"\n', out)
        self.assertRegex(out, r'_mta-sts\.example\.test TXT "v=STSv1; id=[0-9a-f]{16}"\n')
        self.assertRegex(out, r"_25\._tcp\.mail\.example\.test TLSA 3 1 1 [0-9a-f]{64}\n")
        self.assertIn("#   mode: testing", out)
        self.assertIn("DKIM", out)
        # Every domain when none is named; an unknown one is an error.
        self.assertIn("example.test MX 10", b.command("dns records"))
        self.assertIn("error: domain nowhere.test is not configured",
                      b.command("dns records nowhere.test"))

        b.command("dns check example.test")
        b.expect(r"dns check example\.test:", timeout=60)
        m = b.expect(r"(\d+) of (\d+) records present", timeout=60)
        report = b.out[b.pos - 2000:b.pos]
        self.assertRegex(report, r"present +example\.test TXT \"v=spf1 mx -all\"")
        self.assertRegex(report, r"different +example\.test MX 10 mail\.example\.test\.\n +found: "
                                 r"10 mx1\.example\.test\. \| 20 mx2\.example\.test\.")
        self.assertRegex(report, r"missing +_dmarc\.example\.test TXT")
        self.assertRegex(report, r"missing +_25\._tcp\.mail\.example\.test TLSA")
        self.assertEqual(m.group(1), "1")
        # The resolver was asked for each record.
        names = {(n, t) for _, n, t, _, _ in self.server.zone.seen}
        self.assertIn(("_dmarc.example.test", 16), names)
        self.assertIn(("_25._tcp.mail.example.test", 52), names)


if __name__ == "__main__":
    unittest.main()
