"""Real mail clients from Debian against the sim board: mbsync (isync)
syncs the account to a local Maildir and back, curl lists and fetches over
IMAPS, fetchmail downloads over POP3S.

The appliance's certificate is self-signed: curl and fetchmail are told not
to verify it; mbsync has no such switch, so its CertificateFile holds the
appliance's own certificate (a "host" certificate: trusted as it is).
"""
import glob
import imaplib
import os
import poplib
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
import unittest

from board import start_sim
from test_smtp_delivery import unverified

USER, PASSWORD = "alice@example.test", "alice-pw"
PROVISION = ("domain add example.test", "user add %s %s" % (USER, PASSWORD))
FIRST = b"From: sender@example.net\r\nSubject: first\r\n\r\nThe first message.\r\n"
SECOND = (b"From: sender@example.net\r\nSubject: second\r\n\r\n"
          + b"The second message, longer.\r\n" * 300)
FROM_SERVER = b"From: alice@example.test\r\nSubject: made on the server\r\n\r\nserver side\r\n"
FROM_LOCAL = b"From: alice@example.test\r\nSubject: made in the maildir\r\n\r\nlocal side\r\n"


def untuid(msg):
    return re.sub(rb"(?m)^X-TUID: [^\r\n]*\r?\n", b"", msg, count=1)


def tool(name):
    return shutil.which(name) is not None


class ImapClients(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self):
        b = self.board = start_sim(flash=os.path.join(self.dir, "flash.img"), flash_size="8M")
        b.expect(r"services: POP3S listening on port 995 \(TLS\)")
        b.expect(r"services: IMAPS listening on port 993 \(TLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            for body in (FIRST, SECOND):
                self.assertEqual(s.sendmail("sender@example.net", [USER], body), {})
        return b

    def imaps(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.board.offset + 993, ssl_context=unverified(),
                              timeout=30)
        m.login(USER, PASSWORD)
        return m

    def server_inbox(self):
        """INBOX over imaplib: {body: flags} (bodies are unique here)."""
        m = self.imaps()
        typ, data = m.select("INBOX", readonly=True)
        out = {}
        if int(data[0]):
            typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[])")
            for item in data:
                if isinstance(item, tuple):
                    flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode().split()
                    out[item[1]] = set(flags)
        m.logout()
        return out

    def run_tool(self, argv, **kw):
        p = subprocess.run(argv, capture_output=True, timeout=120, **kw)
        self.assertEqual(p.returncode, 0, "%s failed: %s %s" % (argv[0], p.stdout, p.stderr))
        return p.stdout

    # ------------------------------------------------------------ mbsync ---

    @unittest.skipUnless(tool("mbsync"), "mbsync (isync) not installed")
    def test_mbsync_both_ways(self):
        b = self.boot()
        cert = ssl.get_server_certificate(("127.0.0.1", b.offset + 993))
        with open(os.path.join(self.dir, "appliance.pem"), "w") as f:
            f.write(cert)
        maildir = os.path.join(self.dir, "Mail")
        os.mkdir(maildir)
        conf = os.path.join(self.dir, "mbsyncrc")
        with open(conf, "w") as f:
            f.write("""IMAPAccount pb
Host 127.0.0.1
Port %d
User %s
Pass %s
SSLType IMAPS
CertificateFile %s

IMAPStore pb-remote
Account pb

MaildirStore pb-local
Path %s/
Inbox %s/INBOX

Channel pb
Far :pb-remote:
Near :pb-local:
Patterns INBOX
Create Near
Sync All
SyncState *
""" % (b.offset + 993, USER, PASSWORD, os.path.join(self.dir, "appliance.pem"), maildir,
                maildir))
        mbsync = ["mbsync", "-c", conf, "pb"]
        self.run_tool(mbsync, env=dict(os.environ, HOME=self.dir))

        def local():
            """The Maildir: {message with CRLF line ends: (path, flags)}.
            A Maildir keeps LF line ends, and mbsync adds an X-TUID header
            field to what it transfers; both are undone here."""
            out = {}
            for path in glob.glob(os.path.join(maildir, "INBOX", "*", "*")):
                with open(path, "rb") as f:
                    flags = path.rsplit(":2,", 1)[1] if ":2," in path else ""
                    out[untuid(f.read()).replace(b"\n", b"\r\n")] = (path, flags)
            return out

        server = self.server_inbox()
        here = local()
        # Both messages arrived, byte for byte as IMAP serves them.
        self.assertEqual(len(here), 2)
        self.assertTrue(set(here) == set(server), "the Maildir differs from the appliance")
        first = next(k for k in here if k.endswith(FIRST))
        second = next(k for k in here if k.endswith(SECOND))

        # In the Maildir: read the first message, write a new one.
        path, flags = here[first]
        os.rename(path, os.path.join(maildir, "INBOX", "cur",
                                     os.path.basename(path).split(":2,")[0] + ":2,S"))
        with open(os.path.join(maildir, "INBOX", "new", "%d.local.test" % time.time()), "wb") as f:
            f.write(FROM_LOCAL.replace(b"\r\n", b"\n"))
        # On the appliance: flag the second message, append a new one.
        m = self.imaps()
        m.select("INBOX")
        typ, data = m.search(None, "SUBJECT", "second")
        self.assertEqual(m.store(data[0].decode(), "+FLAGS", "(\\Flagged)")[0], "OK")
        self.assertEqual(m.append("INBOX", None, None, FROM_SERVER)[0], "OK")
        m.logout()

        self.run_tool(mbsync, env=dict(os.environ, HOME=self.dir))

        server = {untuid(k): v for k, v in self.server_inbox().items()}
        here = local()
        self.assertEqual(len(server), 4)
        self.assertEqual(len(here), 4)
        # The Maildir's changes reached the appliance ...
        self.assertIn("\\Seen", server[first])
        self.assertIn(FROM_LOCAL, server)
        # ... and the appliance's reached the Maildir.
        self.assertIn("F", here[second][1])
        self.assertIn(FROM_SERVER, here)
        self.assertNotIn("\\Seen", server[second])

    # -------------------------------------------------------------- curl ---

    @unittest.skipUnless(tool("curl"), "curl not installed")
    def test_curl_lists_and_fetches(self):
        b = self.boot()
        url = "imaps://127.0.0.1:%d/" % (b.offset + 993)
        auth = ["--user", "%s:%s" % (USER, PASSWORD), "--insecure", "--silent", "--show-error"]
        listing = self.run_tool(["curl"] + auth + [url]).decode()
        for name in ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"):
            self.assertRegex(listing, r'\* LIST \([^)]*\) "/" "?%s"?\r?\n' % name)
        body = self.run_tool(["curl"] + auth + [url + "INBOX;UID=2"])
        self.assertTrue(body.endswith(SECOND))
        self.assertIn(body, self.server_inbox())

    # --------------------------------------------------------- fetchmail ---

    @unittest.skipUnless(tool("fetchmail"), "fetchmail not installed")
    def test_fetchmail_pop3s(self):
        b = self.boot()
        out = os.path.join(self.dir, "fetched")
        os.mkdir(out)
        rc = os.path.join(self.dir, "fetchmailrc")
        with open(rc, "w") as f:
            f.write('set no syslog\n'
                    'set invisible\n'
                    'poll 127.0.0.1 with proto POP3 port %d auth password\n'
                    '  user "%s" there with password "%s" is "%s" here\n'
                    '  options ssl no sslcertck no rewrite\n'
                    '  mda "/bin/sh -c \'cat > %s/msg.$$\'"\n'
                    % (b.offset + 995, USER, PASSWORD, os.environ.get("USER", "root"), out))
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=self.dir, FETCHMAILHOME=self.dir)
        self.run_tool(["fetchmail", "-f", rc, "--nodetach"], env=env)
        got = []
        for path in sorted(glob.glob(os.path.join(out, "msg.*"))):
            with open(path, "rb") as f:
                got.append(f.read())
        self.assertEqual(len(got), 2)
        # fetchmail hands the MDA the message with LF line ends.
        self.assertTrue(any(g.endswith(FIRST.replace(b"\r\n", b"\n")) for g in got))
        self.assertTrue(any(g.endswith(SECOND.replace(b"\r\n", b"\n")) for g in got))
        # fetchmail deleted what it fetched: the maildrop is empty now.
        p = poplib.POP3_SSL("127.0.0.1", b.offset + 995, context=unverified(), timeout=30)
        p.user(USER)
        p.pass_(PASSWORD)
        self.assertEqual(p.stat()[0], 0)
        p.quit()


if __name__ == "__main__":
    unittest.main()
