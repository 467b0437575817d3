"""The console's own protection and its last resort, on the sim: an admin
password (asked twice, never echoed) locks the console at boot and after
`logout`, wrong passwords cost growing waits, and `factory-reset` erases
everything in one step after a typed confirmation."""
import os
import shutil
import tempfile
import time
import unittest

from board import start_sim


class ConsoleAdmin(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        self.board = None

    def tearDown(self):
        if self.board:
            self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def boot(self):
        b = self.board = start_sim(flash=self.flash, flash_size="4M")
        b.expect(r"network: address 10\.0\.2\.15")
        return b

    def test_password_locks_the_console(self):
        b = self.boot()
        self.assertIn("error: no admin password is set", b.command("logout"))
        b.command("domain add example.test")
        b.send("passwd")
        b.expect("Password: ")
        b.send("Tr0ub4dor&3")
        b.expect("Password again: ")
        b.send("Tr0ub4dor&3")
        b.expect("admin password set")
        b.send("logout")
        b.expect("login: ")
        b.send("guess")
        b.expect(r"error: wrong password; the next try is possible in 1 s")
        b.send("Tr0ub4dor&3")                     # too soon: not even checked
        b.expect(r"error: too soon after a wrong password")
        time.sleep(1.2)
        b.send("Tr0ub4dor&3")
        b.expect("welcome")
        self.assertIn("example.test", b.command("domain list"))
        # Locked again at boot.
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        b.expect("login: ")
        b.send("domain del example.test")          # a command is only a wrong password here
        b.expect(r"error: wrong password")
        time.sleep(1.2)
        b.send("Tr0ub4dor&3")
        b.expect("welcome")
        self.assertIn("example.test", b.command("domain list"))
        self.assertNotIn("Tr0ub4dor", b.out)       # never echoed
        b.expect_prompt_settled()
        b.send("poweroff")
        self.assertEqual(b.wait(30), 0)

    def test_factory_reset(self):
        b = self.boot()
        for c in ("domain add example.test", "user add alice@example.test pw",
                  "set hostname mail.example.test"):
            self.assertNotIn("error:", b.command(c), c)
        b.send("passwd")
        b.expect("Password: ")
        b.send("adminpw")
        b.expect("Password again: ")
        b.send("adminpw")
        b.expect("admin password set")
        b.send("factory-reset")
        b.expect("Type 'erase' to erase everything")
        b.send("no")
        b.expect("nothing was erased")
        self.assertIn("alice@example.test", b.command("user list"))
        b.send("factory-reset")
        b.expect("Type 'erase' to erase everything")
        b.send("erase")
        b.expect("everything is erased; rebooting")
        b.expect(r"network: address 10\.0\.2\.15")
        # No admin password, no accounts, the default name.
        self.assertIn("no domains yet", b.command("domain list"))
        self.assertIn("no users yet", b.command("user list"))
        self.assertIn("pillarbox", b.command("show status"))
        self.assertNotIn("mail.example.test", b.command("show status"))
        # And it works as new.
        self.assertNotIn("error:", b.command("domain add example.test"))
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertIn("example.test", b.command("domain list"))
        self.assertIn(" 0 problems", b.command("storage check"))

    def test_show_config_clones_a_box(self):
        """show config prints commands; pasted into a blank box they give
        the same configuration; plain show config holds no password nor
        verifier, show config secrets has them (verifiers only) for a clone."""
        b = self.boot()
        for c in ("set hostname mail.example.test", "domain add example.test", "domain add other.test",
                  "user add alice@example.test alice-secret", "user add bob@other.test bob-secret",
                  "alias add sales@example.test alice@example.test,bob@other.test",
                  "set catchall other.test bob@other.test", "set smtp max-size 10M",
                  "set submission hide-client on", "set queue lifetime 2d",
                  "set relayhost smtp.provider.test:465", "set relayhost-tls implicit",
                  'set relayhost-auth office "relay pw \\"x\\""'):
            self.assertNotIn("error:", b.command(c), c)
        # Plain show config: no password nor anything one could be guessed from.
        plain = b.command("show config")
        self.assertNotIn("scram-sha-256", plain)
        self.assertNotIn("relay pw", plain)
        self.assertIn("# user alice@example.test (password not shown", plain)
        self.assertIn("set relayhost-tls implicit\n", plain)
        config = b.command("show config secrets")
        self.assertNotIn("alice-secret", config)
        self.assertIn("user import alice@example.test scram-sha-256$4096$", config)
        self.assertIn('set relayhost-auth office "relay pw \\"x\\""\n', config)
        b.send("poweroff")
        self.assertEqual(b.wait(30), 0)
        b.kill()

        clone = start_sim(flash=os.path.join(self.dir, "clone.img"), flash_size="4M")
        self.board = clone
        clone.expect(r"network: address 10\.0\.2\.15")
        for line in config.splitlines():
            if line.strip() and not line.startswith("#"):
                self.assertNotIn("error:", clone.command(line), line)
        self.assertEqual(clone.command("show config secrets"), config)
        self.assertEqual(clone.command("show config"), plain)
        self.assertIn("error: 'nonsense' is not a password verifier",
                      clone.command("user import carol@example.test nonsense"))
        # The imported password works for a login (POP3 over TLS).
        import poplib
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        p = poplib.POP3_SSL("127.0.0.1", clone.offset + 995, context=ctx, timeout=30)
        try:
            p.user("alice@example.test")
            self.assertTrue(p.pass_("alice-secret").startswith(b"+OK"))
        finally:
            p.quit()

    def test_tab_completes_command_words(self):
        b = self.boot()
        b.expect_prompt_settled()
        b.proc.stdin.write(b"se\tsm\tmax-size 25M\n")
        b.proc.stdin.flush()
        b.expect(r"smtp: max-size 26214400 bytes")
        b.expect_prompt_settled()
        b.proc.stdin.write(b"s\t")                # several: they are listed
        b.proc.stdin.flush()
        b.expect(r"show +set|set +show")
        b.proc.stdin.write(b"how sto\t\n")
        b.proc.stdin.flush()
        b.expect(r"capacity")


    def test_static_ip_survives_reboot(self):
        """A static address is kept on flash, used from the next boot, keeps
        the appliance reachable, and show config round-trips it."""
        b = self.boot()
        self.assertIn("error:", b.command("set ip 10.0.2.15/24 192.168.1.1"))   # gateway elsewhere
        self.assertIn("error:", b.command("set ip 10.0.2.255/24 10.0.2.2"))     # broadcast
        self.assertIn("set ip dhcp\n", b.command("show config"))
        self.assertIn("applied at the next reboot", b.command("set ip 10.0.2.15/24 10.0.2.2"))
        config = b.command("show config")
        self.assertIn("set ip 10.0.2.15/24 10.0.2.2\n", config)
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15 \(static\), gateway 10\.0\.2\.2")
        status = b.command("show status")
        self.assertRegex(status, r"ipv4 +10\.0\.2\.15\n")
        self.assertIn("configured   10.0.2.15/24 10.0.2.2", status)
        self.assertEqual(b.command("show config"), config)
        import poplib
        p = poplib.POP3("127.0.0.1", b.offset + 110, timeout=30)    # reachable
        self.assertTrue(p.getwelcome().startswith(b"+OK"))
        p.quit()
        self.assertIn("ip dhcp", b.command("set ip dhcp"))
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15 \(DHCP\)")

    def test_lockout_settings(self):
        """After N failed logins from one address the next login is refused
        for the lockout window, then accepted."""
        import imaplib
        import ssl
        b = self.boot()
        for c in ("domain add example.test", "user add alice@example.test right-pw",
                  "set auth max-failures 2", "set auth lockout 3s"):
            self.assertNotIn("error:", b.command(c), c)
        self.assertIn("error:", b.command("set auth max-failures 0"))
        self.assertIn("error:", b.command("set auth lockout 8d"))
        config = b.command("show config")
        self.assertIn("set auth max-failures 2\nset auth lockout 3s\n", config)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

        def login(pw):
            m = imaplib.IMAP4_SSL("127.0.0.1", b.offset + 993, ssl_context=ctx, timeout=30)
            try:
                m.login("alice@example.test", pw)
                m.logout()
                return True
            except imaplib.IMAP4.error:
                m.shutdown()
                return False

        self.assertFalse(login("wrong"))
        self.assertFalse(login("wrong"))
        self.assertFalse(login("right-pw"))         # locked out: the right password is refused
        time.sleep(3.5)
        self.assertTrue(login("right-pw"))          # the window is over
        # The settings survive a reboot.
        b.send("reboot")
        b.expect(r"network: address 10\.0\.2\.15")
        self.assertEqual(b.command("show config"), config)

    def test_show_log_follow(self):
        """show log follow prints new lines as they come, until a key."""
        import poplib
        b = self.boot()
        self.assertIn("Pillarbox", b.command("show log 50"))
        self.assertIn("error: N must be", b.command("show log 0"))
        b.send("show log follow")
        b.expect("following the log; press any key to stop")
        p = poplib.POP3("127.0.0.1", b.offset + 110, timeout=30)
        p.quit()
        b.expect(r"pop3")                        # a line logged while following
        self.assertNotRegex(b.out[b.pos - 200:], r"pillarbox> [^\n]*pop3")
        b.proc.stdin.write(b"q")
        b.proc.stdin.flush()
        b.expect("stopped following the log")
        self.assertIn("Pillarbox", b.command("show version"))


if __name__ == "__main__":
    unittest.main()
