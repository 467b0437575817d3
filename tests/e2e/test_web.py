"""The web page end to end on the sim, with http.client and ssl: first-boot
setup with the setup code from the console, sign-in, a user added on the
page who then logs in over IMAPS; nothing but sign-in, setup, static files
and autoconfiguration without a session; POSTs without the CSRF token
refused with nothing changed; 414/431/413 for oversized requests; 404 for
paths that try to climb; the security headers on every response; wrong
passwords slow the next try down; autoconfiguration XML element by
element (and fetched with curl); 503 when the connection pool is full.
"""
import hashlib
import http.client
import os
import imaplib
import re
import smtplib
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from board import start_sim
from test_dns import DnsServer, Zone
from test_outbound import Sink
from test_smtp_delivery import unverified

ADMIN_PW = "admin pw \"quoted\" \\ ok"
USER = "alice@example.test"
USER_PW = "alice-pw"
PROTECTED = ("/", "/users", "/aliases", "/settings", "/queue", "/log", "/tls", "/network", "/dns")
SECURITY = {
    "content-security-policy": "default-src 'self'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def read_text(path):
    with open(path) as f:
        return f.read()


class Web(unittest.TestCase):
    def setUp(self):
        self.board = b = start_sim(flash_size="8M")
        b.expect(r"services: web page listening on port 443 \(TLS\)")
        b.expect(r"services: web page listening on port 80")
        self.code = b.expect(r"setup code: ([0-9A-Z]{5}-[0-9A-Z]{5})").group(1)
        b.expect(r"network: address 10\.0\.2\.15")
        self.cookie = None
        self.csrf = None

    def tearDown(self):
        self.board.kill()

    # ------------------------------------------------------------ helpers

    def request(self, method, path, body=None, headers=None, https=True, cookie=True):
        port = self.board.offset + (443 if https else 80)
        if https:
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=unverified())
        else:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        h = dict(headers or {})
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body)
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if cookie and self.cookie:
            h["Cookie"] = "pb_session=" + self.cookie
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        self.check_security_headers(r, https)
        return r, data.decode("utf-8", "replace")

    def check_security_headers(self, r, https):
        for name, value in SECURITY.items():
            self.assertIn(value, r.getheader(name, ""), "%s missing on %d" % (name, r.status))
        hsts = r.getheader("strict-transport-security")
        if https:
            self.assertEqual(hsts, "max-age=31536000")
        else:
            self.assertIsNone(hsts)

    def raw(self, data, https=True):
        """Send bytes as they are; return the status of the answer."""
        port = self.board.offset + (443 if https else 80)
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        if https:
            s = unverified().wrap_socket(s)
        s.sendall(data)
        got = b""
        while b"\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", got)
        self.assertIsNotNone(m, got[:200])
        return int(m.group(1))

    def console(self, line):
        return self.board.command(line)

    def setup_box(self):
        r, body = self.request("POST", "/setup", {
            "code": self.code.lower(), "password": ADMIN_PW, "password2": ADMIN_PW,
            "domain": "example.test", "hostname": "mail.example.test",
            "user": USER, "userpw": USER_PW})
        self.assertEqual(r.status, 303, body)
        self.assertEqual(r.getheader("location"), "/login")

    def sign_in(self, password=ADMIN_PW):
        r, body = self.request("POST", "/login", {"password": password}, cookie=False)
        if r.status != 303:
            return r, body
        cookie = r.getheader("set-cookie")
        for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
            self.assertIn(flag, cookie)
        self.cookie = re.match(r"pb_session=([0-9a-f]{32});", cookie).group(1)
        r2, page = self.request("GET", "/users")
        self.assertEqual(r2.status, 200)
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]{32})"', page).group(1)
        return r, body

    def ready(self):
        self.setup_box()
        r, _ = self.sign_in()
        self.assertEqual(r.status, 303)

    # -------------------------------------------------------------- tests

    def test_first_boot_setup_then_user_logs_in_over_imaps(self):
        # Before setup everything leads to /setup.
        for path in ("/", "/login", "/users"):
            r, _ = self.request("GET", path)
            self.assertEqual((r.status, r.getheader("location")), (303, "/setup"))
        r, body = self.request("GET", "/setup")
        self.assertEqual(r.status, 200)
        self.assertIn('id="setup-code"', body)
        self.assertEqual(r.getheader("cache-control"), "no-store")
        # A wrong code changes nothing.
        r, body = self.request("POST", "/setup", {
            "code": "AAAAA-AAAAA", "password": ADMIN_PW, "password2": ADMIN_PW,
            "domain": "example.test", "hostname": "mail.example.test", "user": USER, "userpw": USER_PW})
        self.assertEqual(r.status, 403)
        self.assertIn("wrong setup code", body)
        self.assertIn("no domains yet", self.console("domain list"))
        # Mismatched admin passwords change nothing either.
        r, body = self.request("POST", "/setup", {
            "code": self.code, "password": ADMIN_PW, "password2": "other",
            "domain": "example.test", "hostname": "mail.example.test", "user": USER, "userpw": USER_PW})
        self.assertEqual(r.status, 400)
        self.assertIn("no domains yet", self.console("domain list"))
        self.setup_box()
        self.assertIn("mail.example.test", self.console("show config"))
        self.assertIn(USER, self.console("user list"))
        self.assertIn("no setup code", self.console("show setup-code"))
        r, _ = self.request("GET", "/setup")
        self.assertEqual((r.status, r.getheader("location")), (303, "/login"))
        # The code is spent.
        r, _ = self.request("POST", "/setup", {"code": self.code})
        self.assertEqual(r.status, 303)
        # Sign in, add a user on the page.
        r, _ = self.sign_in()
        self.assertEqual((r.status, r.getheader("location")), (303, "/"))
        r, body = self.request("POST", "/users", {"csrf": self.csrf, "action": "add",
                                                  "address": "bob@example.test", "password": "bob pw"})
        self.assertEqual(r.status, 200)
        self.assertIn("user bob@example.test added", body)
        self.assertNotIn("bob pw", body)
        self.assertIn("bob@example.test", self.console("user list"))
        self.assertNotIn("bob pw", self.console("show log 100"))
        # The console's error, shown on the page, nothing changed.
        r, body = self.request("POST", "/users", {"csrf": self.csrf, "action": "add",
                                                  "address": "carol@nowhere.test", "password": "x"})
        self.assertIn("error: domain nowhere.test is not configured", body)
        self.assertNotIn("carol", self.console("user list"))
        # Both users log in over IMAPS.
        for user, pw in ((USER, USER_PW), ("bob@example.test", "bob pw")):
            m = imaplib.IMAP4_SSL("127.0.0.1", self.board.offset + 993, ssl_context=unverified(), timeout=30)
            typ, _ = m.login(user, pw)
            self.assertEqual(typ, "OK")
            m.logout()
        # Sign out: the session is gone.
        r, _ = self.request("POST", "/logout", {"csrf": self.csrf})
        self.assertEqual((r.status, r.getheader("location")), (303, "/login"))
        r, _ = self.request("GET", "/users")
        self.assertEqual((r.status, r.getheader("location")), (303, "/login"))

    def test_nothing_without_a_session(self):
        self.setup_box()
        for path in PROTECTED + ("/nonexistent", "/logout"):
            r, _ = self.request("GET", path)
            self.assertEqual((r.status, r.getheader("location")), (303, "/login"), path)
            r, _ = self.request("POST", path, {"action": "add", "address": "x@example.test", "password": "p"})
            self.assertEqual(r.status, 401, path)
        # A made-up session token is no session.
        self.cookie = "0" * 32
        r, _ = self.request("GET", "/users")
        self.assertEqual(r.status, 303)
        self.cookie = None
        self.assertNotIn("x@example.test", self.console("user list"))
        for path in ("/login", "/static/app.css", "/static/app.js", "/mail/config-v1.1.xml",
                     "/.well-known/autoconfig/mail/config-v1.1.xml"):
            r, _ = self.request("GET", path)
            self.assertEqual(r.status, 200, path)
        r, _ = self.request("POST", "/autodiscover/autodiscover.xml", "<x/>",
                            {"Content-Type": "text/xml"})
        self.assertEqual(r.status, 200)

    def test_every_page_with_a_session(self):
        self.ready()
        titles = {"/": "Dashboard", "/users": "Users", "/aliases": "Aliases and domains",
                  "/settings": "Mail settings", "/queue": "Queue", "/log": "Log",
                  "/tls": "TLS certificate", "/network": "Network", "/dns": "DNS records"}
        for path, title in titles.items():
            r, body = self.request("GET", path)
            self.assertEqual(r.status, 200, path)
            self.assertIn("<h1>%s</h1>" % title, body)
            self.assertEqual(r.getheader("cache-control"), "no-store")
            self.assertIn('id="logout"', body)
        r, body = self.request("GET", "/")
        self.assertRegex(body, r'id="uptime">0d 00:0\d:\d\d<')
        self.assertIn('id="queue-length">0 messages waiting', body)
        r, body = self.request("GET", "/tls")
        fpr = re.search(r'id="tls-fingerprint">([0-9A-F:]{95})<', body).group(1)
        self.assertIn(fpr, self.console("show status") + self.console("show log 100"))
        self.assertRegex(body, r'id="tls-expiry">20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC<')
        self.assertIn('id="tls-upload-form"', body)
        r, body = self.request("GET", "/log")
        self.assertIn("web: admin signed in from", body)
        # HEAD: the headers of the page, no body.
        r, body = self.request("HEAD", "/log")
        self.assertEqual(r.status, 200)
        self.assertGreater(int(r.getheader("content-length")), 100)
        self.assertEqual(body, "")
        r, body = self.request("GET", "/users?mailbox=" + urllib.parse.quote(USER))
        self.assertIn("INBOX", body)
        r, body = self.request("GET", "/static/app.css")
        self.assertEqual(r.getheader("content-type"), "text/css; charset=utf-8")
        self.assertIn("body", body)
        for path in ("/static/nope.css", "/static/", "/static/../static/app.css", "/head.html",
                     "/static/head.html", "/nope"):
            r, _ = self.request("GET", path)
            self.assertEqual(r.status, 404, path)
        # Settings through the page, checked on the console.
        r, body = self.request("POST", "/settings", {"csrf": self.csrf, "action": "limits",
                                                     "max_size": "10M", "require_rdns": "on"})
        self.assertEqual(r.status, 200)
        config = self.console("show config")
        self.assertIn("set smtp max-size 10485760", config)
        self.assertIn("set smtp require-rdns on", config)
        r, body = self.request("POST", "/settings", {"csrf": self.csrf, "action": "limits", "max_size": "1K"})
        self.assertIn('class="msg err"', body)
        self.assertIn("set smtp max-size 10485760", self.console("show config"))
        r, body = self.request("POST", "/settings", {"csrf": self.csrf, "action": "relay",
                                                     "relayhost": "smtp.example.net:587",
                                                     "relay_user": "office", "relay_pass": "s3cret-relay"})
        self.assertEqual(r.status, 200)
        self.assertNotIn("s3cret-relay", body)
        self.assertIn("one is set", body)
        config = self.console("show config")
        self.assertIn("smtp.example.net:587", config)
        self.assertIn("relayhost-auth office: AUTH PLAIN or LOGIN after TLS", body)
        self.assertIn("console: relayhost-auth office", self.console("show log 20"))
        r, body = self.request("GET", "/settings")
        self.assertNotIn("s3cret-relay", body)
        r, body = self.request("GET", "/log")
        self.assertNotIn("s3cret-relay", body)
        self.assertNotIn(ADMIN_PW, body)
        # Domains and aliases.
        r, body = self.request("POST", "/aliases", {"csrf": self.csrf, "action": "alias-add",
                                                    "address": "sales@example.test", "targets": USER})
        self.assertIn("sales@example.test", self.console("alias list"))
        r, body = self.request("POST", "/aliases", {"csrf": self.csrf, "action": "domain-add",
                                                    "domain": "example.org"})
        self.assertIn("example.org", self.console("domain list"))
        r, body = self.request("POST", "/aliases", {"csrf": self.csrf, "action": "catchall",
                                                    "domain": "example.test", "catchall": USER})
        self.assertIn("catch-all: " + USER, self.console("domain list"))
        # Network: the host name.
        r, body = self.request("POST", "/network", {"csrf": self.csrf, "action": "hostname",
                                                    "hostname": "mx.example.test"})
        self.assertIn("mx.example.test", self.console("show config"))
        # Queue: an unknown ID is the console's error.
        r, body = self.request("POST", "/queue", {"csrf": self.csrf, "action": "delete", "id": "nope"})
        self.assertIn('class="msg err"', body)
        # Delete the user.
        r, body = self.request("POST", "/users", {"csrf": self.csrf, "action": "del", "address": USER})
        self.assertNotIn(USER, self.console("user list"))

    def test_post_without_csrf_changes_nothing(self):
        self.ready()
        for fields in ({}, {"csrf": "0" * 32}, {"csrf": self.csrf[:-1]}, {"csrf": self.csrf + "0"}):
            f = dict(fields, action="add", address="mallory@example.test", password="x")
            r, _ = self.request("POST", "/users", f)
            self.assertEqual(r.status, 403, fields)
            r, _ = self.request("POST", "/settings", dict(fields, action="limits", max_size="2M"))
            self.assertEqual(r.status, 403)
            r, _ = self.request("POST", "/logout", fields)
            self.assertEqual(r.status, 403)
        self.assertNotIn("mallory", self.console("user list"))
        self.assertNotIn("max-size 2097152", self.console("show config"))
        r, _ = self.request("GET", "/users")
        self.assertEqual(r.status, 200)       # still signed in

    def test_oversized_and_climbing_requests(self):
        self.setup_box()
        self.assertEqual(self.raw(b"GET /" + b"a" * 2100 + b" HTTP/1.1\r\nHost: h\r\n\r\n"), 414)
        self.assertEqual(self.raw(b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X-Pad: " + b"p" * 100 + b"\r\n" * 1
                                  + (b"X-Pad: " + b"p" * 100 + b"\r\n") * 90 + b"\r\n"), 431)
        self.assertEqual(self.raw(b"POST /login HTTP/1.1\r\nHost: h\r\nContent-Length: 70000\r\n"
                                  b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"), 413)
        self.assertEqual(self.raw(b"POST /login HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 501)
        self.assertEqual(self.raw(b"POST /login HTTP/1.1\r\nHost: h\r\n\r\n"), 411)
        for path in (b"/../etc/passwd", b"/static/../../x", b"/static/%2e%2e/app.css", b"/%2E%2E/x",
                     b"/static/..%5capp.css"):
            self.assertEqual(self.raw(b"GET " + path + b" HTTP/1.1\r\nHost: h\r\n\r\n"), 404, path)
            self.assertEqual(self.raw(b"GET " + path + b" HTTP/1.1\r\nHost: h\r\n\r\n", https=False), 404, path)
        # The server still answers.
        r, _ = self.request("GET", "/login")
        self.assertEqual(r.status, 200)

    def test_wrong_passwords_slow_down(self):
        self.setup_box()
        r, body = self.sign_in("wrong")
        self.assertEqual(r.status, 401)
        self.assertIn("wrong password", body)
        # Right at once: refused unchecked until the delay is over.
        r, body = self.sign_in()
        self.assertEqual(r.status, 429)
        self.assertGreaterEqual(int(r.getheader("retry-after")), 1)
        self.assertIsNone(self.cookie)
        time.sleep(1.2)
        r, _ = self.sign_in()
        self.assertEqual(r.status, 303)
        self.assertIsNotNone(self.cookie)

    def test_port_80_redirects_except_autoconfig(self):
        r, _ = self.request("GET", "/users?x=1", https=False)
        self.assertEqual((r.status, r.getheader("location")), (301, "https://127.0.0.1/users?x=1"))
        r, _ = self.request("GET", "/", https=False, headers={"Host": "mail.example.test:8080"})
        self.assertEqual(r.getheader("location"), "https://mail.example.test/")
        r, _ = self.request("GET", "/", https=False, headers={"Host": "evil\"<x>"})
        self.assertEqual(r.getheader("location"), "https://pillarbox/")
        r, _ = self.request("GET", "/.well-known/autoconfig/mail/config-v1.1.xml", https=False)
        self.assertEqual(r.status, 200)

    def check_thunderbird(self, text, domain):
        root = ET.fromstring(text)
        self.assertEqual(root.tag, "clientConfig")
        self.assertEqual(root.get("version"), "1.1")
        prov = root.find("emailProvider")
        self.assertEqual(prov.get("id"), domain)
        self.assertEqual(prov.findtext("domain"), domain)
        servers = [(s.tag, s.get("type"), s.findtext("hostname"), s.findtext("port"), s.findtext("socketType"),
                    s.findtext("username"), s.findtext("authentication"))
                   for s in prov if s.tag in ("incomingServer", "outgoingServer")]
        h = "mail.example.test"
        self.assertEqual(servers, [
            ("incomingServer", "imap", h, "993", "SSL", "%EMAILADDRESS%", "password-cleartext"),
            ("incomingServer", "pop3", h, "995", "SSL", "%EMAILADDRESS%", "password-cleartext"),
            ("outgoingServer", "smtp", h, "465", "SSL", "%EMAILADDRESS%", "password-cleartext"),
            ("outgoingServer", "smtp", h, "587", "STARTTLS", "%EMAILADDRESS%", "password-cleartext"),
        ])

    def test_autoconfig(self):
        self.setup_box()
        for https in (True, False):
            for path in ("/.well-known/autoconfig/mail/config-v1.1.xml", "/mail/config-v1.1.xml"):
                r, body = self.request("GET", path + "?emailaddress=" + urllib.parse.quote(USER), https=https)
                self.assertEqual(r.status, 200)
                self.assertTrue(r.getheader("content-type").startswith("application/xml"))
                self.check_thunderbird(body, "example.test")
                r, body = self.request("GET", path, https=https)
                self.check_thunderbird(body, "example.test")
        # Markup in the address is not echoed.
        r, body = self.request("GET", "/mail/config-v1.1.xml?emailaddress=%3Cx%3E%40evil")
        self.check_thunderbird(body, "example.test")
        req = ('<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
               'exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>%s</EMailAddress>'
               '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/'
               'responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>' % USER)
        ns = {"a": "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"}
        for path in ("/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"):
            r, body = self.request("POST", path, req, {"Content-Type": "text/xml"})
            self.assertEqual(r.status, 200)
            root = ET.fromstring(body)
            acct = root.find("a:Response/a:Account", ns)
            self.assertEqual(acct.findtext("a:AccountType", namespaces=ns), "email")
            protos = [(p.findtext("a:Type", namespaces=ns), p.findtext("a:Server", namespaces=ns),
                       p.findtext("a:Port", namespaces=ns), p.findtext("a:SSL", namespaces=ns),
                       p.findtext("a:Encryption", namespaces=ns), p.findtext("a:LoginName", namespaces=ns))
                      for p in acct.findall("a:Protocol", ns)]
            h = "mail.example.test"
            self.assertEqual(protos, [("IMAP", h, "993", "on", None, USER), ("POP3", h, "995", "on", None, USER),
                                      ("SMTP", h, "465", "on", None, USER), ("SMTP", h, "587", "on", "TLS", USER)])
        r, _ = self.request("GET", "/autodiscover/autodiscover.xml")
        self.assertEqual(r.status, 405)
        curl = shutil.which("curl")
        if not curl:
            self.skipTest("curl is not installed")
        for url in ("http://127.0.0.1:%d/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=%s"
                    % (self.board.offset + 80, USER),
                    "https://127.0.0.1:%d/mail/config-v1.1.xml" % (self.board.offset + 443)):
            out = subprocess.run([curl, "-sSfk", "--max-time", "30", url], capture_output=True, text=True,
                                 timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.check_thunderbird(out.stdout, "example.test")

    def test_pool_full_answers_503(self):
        port = self.board.offset + 80
        held = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(4)]
        try:
            # Each of them is a live connection: a request on one is answered.
            time.sleep(0.5)
            held[0].sendall(b"GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: h\r\n\r\n")
            self.assertTrue(held[0].recv(64).startswith(b"HTTP/1.1 200"))
            self.assertEqual(self.raw(b"GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: h\r\n\r\n", https=False), 503)
        finally:
            for s in held:
                s.close()
        time.sleep(0.5)
        self.assertEqual(self.raw(b"GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: h\r\n\r\n", https=False), 200)


    # ----------------------------------------------- DNS records, MTA-STS

    def test_dns_records_page_and_check(self):
        server = DnsServer(Zone())
        self.addCleanup(server.close)
        self.setup_box()
        self.sign_in()
        self.assertNotIn("error:", self.console("set dns 10.0.2.2:%d" % server.port))
        r, page = self.request("GET", "/dns")
        self.assertEqual(r.status, 200)
        # The records, ready to copy: name, type, value in their own cells.
        self.assertIn('<td class="copy">example.test</td><td>MX</td><td class="copy">'
                      '10 mail.example.test.</td>', page)
        self.assertIn("<td>TXT</td><td class=\"copy\">&quot;v=spf1 mx -all&quot;</td>", page)
        self.assertIn("_dmarc.example.test", page)
        self.assertRegex(page, r"_25\._tcp\.mail\.example\.test</td><td>TLSA</td><td class=\"copy\">"
                               r"3 1 1 [0-9a-f]{64}</td>")
        # 10.0.2.15 is private: the A record is a placeholder, explained.
        self.assertIn("PUBLIC-IPV4-OF-THE-OFFICE", page)
        self.assertIn('id="dns-placeholder-0"', page)
        self.assertIn("DKIM", page)
        self.assertIn("mode: testing", page)
        self.assertIn('id="dns-check"', page)
        # A check without the CSRF token starts nothing.
        r, _ = self.request("POST", "/dns", {"action": "check", "domain": "example.test"})
        self.assertEqual(r.status, 403)
        # An unknown domain is refused.
        r, page = self.request("POST", "/dns", {"csrf": self.csrf, "action": "check",
                                                "domain": "nowhere.test"})
        self.assertEqual(r.status, 400)
        self.assertIn("no such mail domain", page)
        r, _ = self.request("POST", "/dns", {"csrf": self.csrf, "action": "check",
                                             "domain": "example.test"})
        self.assertEqual(r.status, 303)
        self.assertEqual(r.getheader("location"), "/dns")
        # The page refreshes itself while the check runs, then shows each verdict.
        deadline = time.time() + 60
        while True:
            r, page = self.request("GET", "/dns")
            self.assertEqual(r.status, 200)
            if 'id="dns-checking"' not in page:
                break
            self.assertIn('http-equiv="refresh"', page)
            self.assertEqual(r.getheader("refresh"), "2")
            self.assertLess(time.time(), deadline, "the check never finished")
            time.sleep(0.5)
        self.assertIsNone(r.getheader("refresh"))
        row = lambda name, typ: re.search(r"<tr><td class=\"copy\">%s</td><td>%s</td>.*?</tr>"
                                          % (re.escape(name), typ), page).group(0)
        self.assertIn(">present<", row("example.test", "TXT"))
        mx = row("example.test", "MX")
        self.assertIn(">different<br>found: 10 mx1.example.test. | 20 mx2.example.test.", mx)
        self.assertIn(">missing<", row("_dmarc.example.test", "TXT"))
        self.assertIn(">missing<", row("_25._tcp.mail.example.test", "TLSA"))
        names = {(n, t) for _, n, t, _, _ in server.zone.seen}
        self.assertIn(("_dmarc.example.test", 16), names)

    def test_mta_sts_policy(self):
        self.setup_box()
        r, body = self.request("GET", "/.well-known/mta-sts.txt", cookie=False)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.getheader("content-type"), "text/plain; charset=utf-8")
        # RFC 8461 3.2: CRLF lines; testing while the certificate is self-signed.
        self.assertEqual(body, "version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\n"
                               "max_age: 604800\r\n")
        # Only over HTTPS (RFC 8461 3.3): port 80 sends the client there.
        r, _ = self.request("GET", "/.well-known/mta-sts.txt", https=False)
        self.assertEqual(r.status, 301)
        self.assertEqual(r.getheader("location"), "https://127.0.0.1/.well-known/mta-sts.txt")

    # --------------------------------------------------------- certificate

    def served_fingerprint(self, port):
        with socket.create_connection(("127.0.0.1", self.board.offset + port), timeout=30) as s:
            with unverified().wrap_socket(s) as t:
                der = t.getpeercert(binary_form=True)
        return ":".join("%02X" % x for x in hashlib.sha256(der).digest())

    @unittest.skipUnless(shutil.which("openssl"), "needs the openssl CLI")
    def test_certificate_upload_regenerate_restart(self):
        d = tempfile.mkdtemp(prefix="pillarbox-")
        self.addCleanup(shutil.rmtree, d, True)
        pem = {}
        for name in ("office", "other"):
            key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-nodes", "-keyout", key, "-out", crt, "-days", "90",
                            "-subj", "/CN=%s.example.test" % name], check=True, capture_output=True)
            pem[name] = (read_text(crt), read_text(key))
        self.setup_box()
        self.sign_in()
        r, page = self.request("GET", "/tls")
        old = re.search(r'id="tls-fingerprint">([0-9A-F:]{95})<', page).group(1)
        self.assertIn('id="tls-issuer">self-signed<', page)
        self.assertEqual(self.served_fingerprint(993), old)
        self.assertNotIn('id="tls-pending"', page)

        # A key of another certificate: refused, plainly, nothing changed.
        r, page = self.request("POST", "/tls", {"csrf": self.csrf, "action": "upload",
                                                "cert": pem["office"][0], "key": pem["other"][1]})
        self.assertEqual(r.status, 400)
        self.assertIn("the private key does not belong to the certificate; nothing was changed", page)
        self.assertNotIn('id="tls-pending"', page)
        self.assertIn(old, self.console("show tls"))
        # Without the CSRF token: refused.
        r, _ = self.request("POST", "/tls", {"action": "upload", "cert": pem["office"][0],
                                             "key": pem["office"][1]})
        self.assertEqual(r.status, 403)
        # A body over the upload's limit: 413.
        r, _ = self.request("POST", "/tls", {"csrf": self.csrf, "action": "upload",
                                             "cert": "x" * 17000, "key": "y"})
        self.assertEqual(r.status, 413)

        # A mail client connected before the change keeps its session.
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.board.offset + 993, ssl_context=unverified())
        self.addCleanup(imap.sock.close)
        imap.login(USER, USER_PW)

        # The office's own: kept, with a warning about the name, in use at once.
        der = ssl.PEM_cert_to_DER_cert(pem["office"][0])
        want = ":".join("%02X" % x for x in hashlib.sha256(der).digest())
        r, page = self.request("POST", "/tls", {"csrf": self.csrf, "action": "upload",
                                                "cert": pem["office"][0], "key": pem["office"][1]})
        self.assertEqual(r.status, 200, page)
        self.assertIn("warning: the certificate does not name mail.example.test", page)
        self.assertIn("certificate imported, SHA-256 fingerprint %s: in use now for new connections" % want,
                      page)
        self.assertIn('id="tls-fingerprint">%s<' % want, page)
        self.assertIn('id="tls-subject">CN=office.example.test<', page)
        self.assertIn('id="tls-issuer">self-signed<', page)      # openssl req -x509: issuer == subject
        self.assertNotIn('id="tls-pending"', page)
        self.assertEqual(self.served_fingerprint(993), want)
        self.assertEqual(self.served_fingerprint(443), want)
        self.assertEqual(self.served_fingerprint(995), want)
        with smtplib.SMTP("127.0.0.1", self.board.offset + 25, timeout=30) as smtp:   # STARTTLS too
            smtp.starttls(context=unverified())
            der = smtp.sock.getpeercert(binary_form=True)
            self.assertEqual(":".join("%02X" % x for x in hashlib.sha256(der).digest()), want)
        self.assertEqual(imap.noop()[0], "OK")                    # the old session lives on
        self.assertNotIn("BEGIN PRIVATE KEY", self.board.out)

        # Regenerate needs the typed confirmation.
        r, page = self.request("POST", "/tls", {"csrf": self.csrf, "action": "regenerate", "confirm": "yes"})
        self.assertEqual(r.status, 400)
        self.assertIn("the TLS key was kept", page)
        # Confirmed while a session on the first certificate is open: at
        # most two TLS configurations, so this one waits for a restart.
        r, page = self.request("POST", "/tls", {"csrf": self.csrf, "action": "regenerate",
                                                "confirm": "regenerate"})
        self.assertEqual(r.status, 200, page)
        new = re.search(r"new self-signed certificate, SHA-256 fingerprint ([0-9A-F:]{95}): kept; it takes "
                        r"effect after a restart", page).group(1)
        self.assertNotIn(new, (old, want))
        self.assertIn('id="tls-pending"', page)
        self.assertIn('id="tls-new-fingerprint">%s<' % new, page)
        self.assertIn('id="tls-new-subject">CN=mail.example.test<', page)
        self.assertIn('id="tls-fingerprint">%s<' % want, page)   # still in use
        self.assertEqual(self.served_fingerprint(993), want)
        self.assertEqual(imap.noop()[0], "OK")
        imap.logout()
        self.board.expect(r"services: the previous TLS certificate is no longer in use", timeout=30)

        r, page = self.request("POST", "/tls", {"csrf": self.csrf, "action": "restart"})
        self.assertEqual(r.status, 200)
        self.assertIn('id="tls-restarting"', page)
        self.board.expect(r"web: restart asked")
        self.board.expect(r"services: web page listening on port 443", timeout=60)
        self.board.expect(r"network: address 10\.0\.2\.15", timeout=60)
        self.assertEqual(self.served_fingerprint(993), new)
        self.assertEqual(self.served_fingerprint(443), new)

    # ------------------------------------------------------------- network

    def test_network_addressing(self):
        self.setup_box()
        self.sign_in()
        r, page = self.request("GET", "/network")
        self.assertIn('<code id="ip-saved">dhcp</code>', page)
        self.assertIn("applies at the next restart", page)
        self.assertIn('<option value="dhcp" selected>', page)
        self.assertIn('id="net-restart"', page)
        # A gateway outside the network: the console's error, nothing changed.
        r, page = self.request("POST", "/network", {"csrf": self.csrf, "action": "ip", "mode": "static",
                                                    "address": "192.168.1.20/24", "gateway": "10.9.9.9"})
        self.assertEqual(r.status, 400)
        self.assertIn("error: &#39;set ip dhcp&#39; or &#39;set ip ADDR/PREFIX GATEWAY&#39;", page)
        self.assertIn('<code id="ip-saved">dhcp</code>', page)
        # Static without its gateway: refused before the console.
        r, page = self.request("POST", "/network", {"csrf": self.csrf, "action": "ip", "mode": "static",
                                                    "address": "192.168.1.20/24", "gateway": ""})
        self.assertEqual(r.status, 400)
        self.assertIn("needs the address with its prefix length and the gateway", page)
        r, page = self.request("POST", "/network", {"csrf": self.csrf, "action": "ip", "mode": "static",
                                                    "address": "192.168.1.20/24", "gateway": "192.168.1.1"})
        self.assertEqual(r.status, 200, page)
        self.assertIn("ip 192.168.1.20/24 192.168.1.1: applied at the next reboot", page)
        self.assertIn('<code id="ip-saved">192.168.1.20/24 192.168.1.1</code>', page)
        self.assertIn('<option value="static" selected>', page)
        self.assertIn('value="192.168.1.1"', page)
        self.assertIn("set ip 192.168.1.20/24 192.168.1.1", self.console("show config"))
        # The running address is still the DHCP one until the restart.
        self.assertIn("10.0.2.15", self.console("show status"))
        r, page = self.request("POST", "/network", {"csrf": self.csrf, "action": "ip", "mode": "dhcp"})
        self.assertEqual(r.status, 200, page)
        self.assertIn('<code id="ip-saved">dhcp</code>', page)
        self.assertNotIn("set ip 192.168.1.20", self.console("show config"))

    # ----------------------------------------------------------- dashboard

    def test_dashboard_counts_messages_in_and_out(self):
        # A board whose outbound MX (10.0.2.100, see test_outbound) is a sink.
        sink = Sink()
        self.addCleanup(sink.close)
        dns = DnsServer(Zone())
        self.addCleanup(dns.close)
        self.board.kill()
        self.board = b = start_sim(flash_size="8M", extra=[
            "--guestfwd", "10.0.2.100:25=127.0.0.1:%d" % sink.port])
        self.code = b.expect(r"setup code: ([0-9A-Z]{5}-[0-9A-Z]{5})").group(1)
        b.expect(r"network: address 10\.0\.2\.15")
        self.setup_box()
        self.sign_in()
        for c in ("alias add fwd@example.test bob@example.net", "set dns 10.0.2.2:%d" % dns.port):
            self.assertNotIn("error:", self.console(c), c)
        r, page = self.request("GET", "/")
        self.assertIn('<td id="messages-in">0</td>', page)
        self.assertIn('<td id="messages-out">0</td>', page)
        self.assertIn("since midnight UTC", page)
        with smtplib.SMTP("127.0.0.1", b.offset + 25, timeout=30) as s:
            s.ehlo("client.example.net")
            self.assertEqual(s.sendmail("sender@example.net", [USER], b"Subject: in\r\n\r\nhi\r\n"), {})
            self.assertEqual(s.sendmail("sender@example.net", ["fwd@example.test"],
                                        b"Subject: out\r\n\r\nhi\r\n"), {})
        b.expect(r"relay: \S+: done, 1 sent, 0 failed", timeout=60)
        r, page = self.request("GET", "/")
        self.assertIn('<td id="messages-in">2</td>', page)
        self.assertIn('<td id="messages-out">1</td>', page)
        self.assertEqual(len(sink.messages), 1)
        self.assertIn('<td id="queue-length">0 messages waiting</td>', page)

    # ----------------------------------------------------------- console

    def test_log_line_during_page_command_redraws_operator_line(self):
        self.setup_box()
        self.sign_in()
        b = self.board
        self.console("help")
        # The operator is half-way through typing a command at the serial port.
        b.proc.stdin.write(b"show vers")
        b.proc.stdin.flush()
        b.expect(r"show vers")
        # A page command that logs: the log line reaches the UART, the page
        # shows only the command's reply.
        r, page = self.request("POST", "/users", {"csrf": self.csrf, "action": "add",
                                                  "address": "bob@example.test", "password": "bob-pw-1"})
        self.assertEqual(r.status, 200)
        self.assertIn("bob@example.test", page)
        self.assertNotIn("console: user bob@example.test added", page)
        # ... and the prompt with the partial line comes back right after it.
        b.expect(r"console: user bob@example\.test added\npillarbox> show vers", timeout=10)
        b.proc.stdin.write(b"ion\r\n")
        b.proc.stdin.flush()
        b.expect(r"Pillarbox \S+", timeout=10)

if __name__ == "__main__":
    unittest.main()
