"""IMAP on the sim board with Python's imaplib: STARTTLS (143) and implicit
TLS (993), login, LIST with special-use folders, a message delivered by
SMTP fetched byte for byte, flags, copy, move, append, search, expunge,
IDLE seeing a delivery, and the state surviving a reboot."""
import imaplib
import smtplib
import socket
import ssl
import time
import unittest

from board import start_sim
from test_smtp_delivery import unverified

PROVISION = ("domain add example.test", "user add alice@example.test alice-pw")
BODY = (b"From: sender@example.net\r\nSubject: hello imap\r\n\r\n"
        b"Hello Alice.\r\n8-bit: \xc3\xa9t\xc3\xa9\r\n" + (b"z" * 900 + b"\r\n") * 200)


class Imap(unittest.TestCase):
    def setUp(self):
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()

    def boot(self, flash=None):
        b = self.board = start_sim(flash=flash, flash_size="8M")
        b.expect(r"services: IMAP listening on port 143 \(STARTTLS\)")
        b.expect(r"services: IMAPS listening on port 993 \(TLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        return b

    def deliver(self, body):
        with smtplib.SMTP("127.0.0.1", self.board.offset + 25, timeout=30) as s:
            self.assertEqual(s.sendmail("sender@example.net", ["alice@example.test"], body), {})

    def starttls(self):
        m = imaplib.IMAP4("127.0.0.1", self.board.offset + 143, timeout=30)
        self.assertIn("LOGINDISABLED", m.capabilities)
        m.starttls(ssl_context=unverified())
        m.login("alice@example.test", "alice-pw")
        return m

    def imaps(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.board.offset + 993, ssl_context=unverified(),
                              timeout=30)
        m.login("alice@example.test", "alice-pw")
        return m

    def test_session(self):
        b = self.boot()
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        self.deliver(BODY)
        m = self.starttls()
        typ, lst = m.list()
        text = b"\n".join(lst)
        self.assertIn(b'(\\HasNoChildren \\Sent) "/" "Sent"', text)
        self.assertIn(b'"Trash"', text)
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"1"])
        typ, data = m.uid("FETCH", "1", "(BODY.PEEK[])")
        self.assertTrue(data[0][1].endswith(BODY))  # after Return-Path: and Received:
        typ, data = m.search(None, "SUBJECT", "imap")
        self.assertEqual(data, [b"1"])
        m.store("1", "+FLAGS", "(\\Flagged)")
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertIn(b"\\Flagged", data[0])
        typ, data = m.copy("1", "Archive")
        self.assertEqual(typ, "OK")
        typ, data = m.append("Drafts", "(\\Draft)", None, b"Subject: draft\r\n\r\nwip\r\n")
        self.assertIn(b"APPENDUID", data[0])
        # Over implicit TLS, a second session sees the copy and the draft.
        n = self.imaps()
        self.assertEqual(n.select("Archive")[1], [b"1"])
        typ, data = n.fetch("1", "(BODY.PEEK[] FLAGS)")
        self.assertTrue(data[0][1].endswith(BODY))  # after Return-Path: and Received:
        self.assertEqual(n.select("Drafts")[1], [b"1"])
        # IDLE in the second session sees an SMTP delivery to INBOX.
        n.select("INBOX")
        tag = n._new_tag()
        n.send(tag + b" IDLE\r\n")
        self.assertTrue(n.readline().startswith(b"+"))
        self.deliver(b"Subject: second\r\n\r\nagain\r\n")
        n.sock.settimeout(5)
        t0 = time.time()
        line = n.readline()
        self.assertEqual(line, b"* 2 EXISTS\r\n")
        self.assertLess(time.time() - t0, 3)
        n.send(b"DONE\r\n")
        self.assertIn(b"OK", n.readline())
        # Move and expunge in the first.
        m.store("1", "+FLAGS", "(\\Deleted)")
        m.expunge()
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"1"])
        self.assertEqual(m.store("1", "+FLAGS", "(Work)")[0], "OK")    # a keyword
        m.logout()
        n.logout()
        # State survives a reboot.
        b.send("reboot")
        b.expect(r"services: IMAPS listening on port 993 \(TLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        m = self.imaps()
        self.assertEqual(m.select("Archive")[1], [b"1"])
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertIn(b"\\Flagged", data[0])
        self.assertEqual(m.select("INBOX")[1], [b"1"])
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertIn(b"FLAGS (Work)", data[0])
        typ, data = m.fetch("1", "(RFC822.SIZE)")
        inbox_size = int(data[0].split(b"RFC822.SIZE ")[1].rstrip(b")"))
        m.logout()
        # The console shows the same folders with their counts and sizes:
        # INBOX holds the second delivery, Archive the flagged copy, Drafts
        # the draft (none of them read), the other three folders are empty.
        out = b.command("show mailbox Alice@Example.test")
        self.assertRegex(out, r"\nINBOX +1 +1 +%d *\n" % inbox_size)
        self.assertRegex(out, r"\nArchive +1 +1 +\d+ \\Archive\n")
        self.assertRegex(out, r"\nDrafts +1 +1 +%d \\Drafts\n" % len(b"Subject: draft\r\n\r\nwip\r\n"))
        self.assertRegex(out, r"\nTrash +0 +0 +0 \\Trash\n")
        self.assertIn("6 folders, 3 messages, 3 unseen,", out)
        self.assertIn("error: user nobody@example.test does not exist",
                      b.command("show mailbox nobody@example.test"))

    def test_condstore(self):
        """CONDSTORE (RFC 7162) through imaplib: a flag change made in one
        session is what the other's CHANGEDSINCE returns, HIGHESTMODSEQ
        grows, a conditional STORE refuses a message changed since, and
        modseqs survive a reboot."""
        b = self.boot()
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        self.deliver(b"Subject: one\r\n\r\nfirst\r\n")
        self.deliver(b"Subject: two\r\n\r\nsecond\r\n")
        m, n = self.imaps(), self.imaps()
        self.assertIn("CONDSTORE", m.capabilities)
        typ, data = m.enable("CONDSTORE")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.response("ENABLED")[1], [b"CONDSTORE"])
        m.select("INBOX")
        h0 = int(m.response("HIGHESTMODSEQ")[1][-1])
        self.assertGreater(h0, 0)
        typ, data = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %d)" % h0)
        self.assertEqual(data, [None])      # nothing changed since
        n.select("INBOX")
        n.store("2", "+FLAGS", "(\\Flagged)")
        typ, data = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %d)" % h0)
        lines = [d for d in data if d]
        self.assertTrue(lines)
        self.assertTrue(all(d.startswith(b"2 (") for d in lines), lines)
        self.assertIn(b"\\Flagged", lines[-1])
        m2 = int(lines[-1].split(b"MODSEQ (")[1].split(b")")[0])
        self.assertGreater(m2, h0)
        typ, data = m.status("INBOX", "(HIGHESTMODSEQ)")
        h1 = int(data[0].split(b"HIGHESTMODSEQ ")[1].rstrip(b")"))
        self.assertGreaterEqual(h1, m2)
        # Message 2 changed after h0: a STORE conditional on h0 leaves it
        # alone and says so; message 1 gets the flag.
        typ, data = m._simple_command("STORE", "1:2", "(UNCHANGEDSINCE %d)" % h0, "+FLAGS",
                                      "(\\Seen)")
        self.assertEqual(typ, "OK")
        self.assertIn(b"[MODIFIED 2]", data[-1])
        typ, data = n.fetch("1:2", "(FLAGS MODSEQ)")
        text = b" ".join(d for d in data if isinstance(d, bytes))
        self.assertRegex(text, rb"1 \(.*FLAGS \(\\Seen\)")
        self.assertNotRegex(text, rb"2 \([^)]*FLAGS \([^)]*\\Seen")
        typ, data = n.search(None, "MODSEQ", str(m2))
        self.assertRegex(data[0], rb"^1 2 \(MODSEQ \d+\)$")
        typ, data = n.fetch("1:2", "(MODSEQ)")
        before = sorted(d for d in data if isinstance(d, bytes) and b"MODSEQ" in d)
        m.logout()
        n.logout()
        b.send("reboot")
        b.expect(r"services: IMAPS listening on port 993 \(TLS\)")
        b.expect(r"network: address 10\.0\.2\.15")
        m = self.imaps()
        m.enable("CONDSTORE")
        m.select("INBOX")
        h2 = int(m.response("HIGHESTMODSEQ")[1][-1])
        self.assertGreaterEqual(h2, h1)
        typ, data = m.fetch("1:2", "(MODSEQ)")
        after = sorted(d for d in data if isinstance(d, bytes) and b"MODSEQ" in d)
        self.assertEqual(after, before)
        typ, data = m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE %d)" % h2)
        self.assertEqual(data, [None])
        m.logout()

    def test_folder_names_esearch_keywords(self):
        """A folder made by a rev1 client in modified UTF-7 is the same
        folder a UTF-8 client and the console see; ESEARCH answers with
        counts and ranges; keyword names come back once unused; RENAME
        INBOX moves the mail out."""
        b = self.boot()
        for c in PROVISION:
            self.assertNotIn("error:", b.command(c), c)
        for i in range(5):
            self.deliver(b"Subject: n%d\r\n\r\nbody\r\n" % i)
        m = self.imaps()
        self.assertIn("ESEARCH", m.capabilities)
        self.assertIn("UTF8=ACCEPT", m.capabilities)
        self.assertEqual(m.create("Entw&APw-rfe")[0], "OK")
        with self.assertRaises(imaplib.IMAP4.error):     # BAD: not modified UTF-7
            m.create('"bad&name"')
        lst = b"\n".join(m.list()[1])
        self.assertIn(b'"Entw&APw-rfe"', lst)
        self.assertNotIn(b"bad&name", lst)
        self.assertRegex(b.command("show mailbox alice@example.test"), "\nEntw\u00fcrfe +0 +0 +0")
        n = self.imaps()
        n.enable("UTF8=ACCEPT")
        lst = b"\n".join(n.list()[1])
        self.assertIn('"Entw\u00fcrfe"'.encode("utf-8"), lst)
        n.logout()
        # ESEARCH: UIDs 1..5, 2 and 4 expunged.
        m.select("INBOX")
        m.store("2,4", "+FLAGS", "(\\Deleted)")
        m.expunge()
        typ, data = m.uid("SEARCH", "RETURN (MIN MAX COUNT ALL) ALL")
        self.assertEqual(typ, "OK")
        es = m.response("ESEARCH")[1][-1]
        self.assertTrue(es.endswith(b"UID MIN 1 MAX 5 COUNT 3 ALL 1,3,5"), es)
        m.uid("SEARCH", "RETURN (COUNT ALL) 1:*")
        es = m.response("ESEARCH")[1][-1]
        self.assertTrue(es.endswith(b"UID COUNT 3 ALL 1,3,5"), es)
        m.uid("SEARCH", "RETURN (MIN MAX) ALL")
        es = m.response("ESEARCH")[1][-1]
        self.assertTrue(es.endswith(b"UID MIN 1 MAX 5"), es)
        # Twelve keywords over time, never more than eleven in use at once.
        names = " ".join("K%d" % i for i in range(11))
        self.assertEqual(m.store("1", "+FLAGS", "(%s)" % names)[0], "OK")
        self.assertEqual(m.store("1", "+FLAGS", "(K11)")[0], "NO")
        self.assertEqual(m.store("1", "-FLAGS", "(K0)")[0], "OK")
        self.assertEqual(m.store("1", "+FLAGS", "(K11)")[0], "OK")
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertIn(b"K11", data[0])
        self.assertNotIn(b"K0 ", data[0])
        # RENAME INBOX: the three messages move, INBOX stays empty.
        m.close()
        self.assertEqual(m.rename("INBOX", "Old")[0], "OK")
        self.assertEqual(m.status("Old", "(MESSAGES)")[1], [b'"Old" (MESSAGES 3)'])
        self.assertEqual(m.status("INBOX", "(MESSAGES DELETED)")[1], [b'"INBOX" (MESSAGES 0 DELETED 0)'])
        self.deliver(b"Subject: after\r\n\r\nbody\r\n")
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1], [b'"INBOX" (MESSAGES 1)'])
        m.logout()


if __name__ == "__main__":
    unittest.main()
