"""The web page in a real browser: Debian's chromium, headless, driven by
python3-selenium against the sim over HTTPS.  First-boot setup with the
setup code the console prints, sign-in, a user added on the users page, the
size limit changed on the settings page, the DNS records page read; then
the new user logs in over IMAPS and sends over 465.  Every page visited is
saved as a screenshot under build/screenshots/ (phone width) for people to
look at.

The browser trusts the appliance's certificate by its key only
(--ignore-certificate-errors-spki-list with the SHA-256 of the served
certificate's public key), not every certificate.
"""
import base64
import hashlib
import imaplib
import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import unittest

from board import ROOT, start_sim
from test_smtp_delivery import unverified

# python3-selenium is installed for Debian's own python3 (tools/install-
# packages.sh); it is pure Python, so another 3.11 finds it there too.
DIST = "/usr/lib/python3/dist-packages"
if DIST not in sys.path:
    sys.path.append(DIST)
from selenium import webdriver                                     # noqa: E402
from selenium.webdriver.chrome.options import Options              # noqa: E402
from selenium.webdriver.chrome.service import Service              # noqa: E402
from selenium.webdriver.common.by import By                        # noqa: E402
from selenium.webdriver.support import expected_conditions as EC   # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait            # noqa: E402

SHOTS = os.path.join(ROOT, "build", "screenshots")
ADMIN_PW = "correct horse battery"
DOMAIN = "example.test"
HOST = "mail.example.test"
FIRST = "alice@example.test"
FIRST_PW = "alice-pw-1"
NEW = "bob@example.test"
NEW_PW = "bob pw with spaces"


def spki_sha256_b64(der_cert):
    """Base64 SHA-256 of the certificate's SubjectPublicKeyInfo (openssl CLI)."""
    pem = ssl.DER_cert_to_PEM_cert(der_cert).encode()
    pub = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=pem,
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Browser(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pillarbox-")
        self.flash = os.path.join(self.dir, "flash.img")
        b = self.board = start_sim(flash=self.flash, flash_size="8M")
        b.expect(r"services: web page listening on port 443 \(TLS\)")
        self.code = b.expect(r"setup code: ([0-9A-Z]{5}-[0-9A-Z]{5})").group(1)
        b.expect(r"network: address 10\.0\.2\.15")
        self.base = "https://127.0.0.1:%d" % (b.offset + 443)
        der = ssl.get_server_certificate(("127.0.0.1", b.offset + 443))
        spki = spki_sha256_b64(ssl.PEM_cert_to_DER_cert(der))

        o = Options()
        o.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=412,915",      # a phone's width: the page must be readable there
                  "--user-data-dir=" + os.path.join(self.dir, "chromium"),
                  "--ignore-certificate-errors-spki-list=" + spki):
            o.add_argument(a)
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        self.driver = webdriver.Chrome(service=Service(driver), options=o)
        self.driver.set_page_load_timeout(60)
        os.makedirs(SHOTS, exist_ok=True)

    def tearDown(self):
        self.driver.quit()
        self.board.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ------------------------------------------------------------ helpers

    def shot(self, name):
        """Save the whole page (not only the first screen) as build/screenshots/NAME.png."""
        d = self.driver
        h = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(412, max(915, min(int(h) + 40, 6000)))
        self.assertTrue(d.save_screenshot(os.path.join(SHOTS, name + ".png")))
        d.set_window_size(412, 915)

    def fill(self, fields):
        for eid, value in fields.items():
            el = self.driver.find_element(By.ID, eid)
            el.clear()
            el.send_keys(value)

    def submit(self, button_id):
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.find_element(By.ID, button_id).click()
        WebDriverWait(self.driver, 30).until(EC.staleness_of(old))

    def result(self):
        """The page's result line (what the command said), "" if none."""
        found = self.driver.find_elements(By.ID, "result")
        return found[0].text if found else ""

    def path(self):
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    # --------------------------------------------------------------- test

    def test_setup_sign_in_add_user_settings_dns_then_mail(self):
        d, b = self.driver, self.board

        # First boot: every page leads to the setup form.
        d.get(self.base + "/")
        self.assertEqual(self.path(), "/setup")
        self.shot("01-setup")
        self.fill({"setup-code": self.code.lower().replace("-", " "),  # as a person might type it
                   "setup-admin-password": ADMIN_PW, "setup-admin-password2": ADMIN_PW,
                   "setup-domain": DOMAIN, "setup-hostname": HOST,
                   "setup-user": FIRST, "setup-user-password": FIRST_PW})
        self.submit("setup-submit")
        self.assertEqual(self.path(), "/login", self.result())
        self.shot("02-login")
        self.assertIn(FIRST, b.command("user list").split())  # made by the setup page
        # The code is spent: setup now leads to sign-in.
        d.get(self.base + "/setup")
        self.assertEqual(self.path(), "/login")

        # Sign in.
        self.fill({"login-password": ADMIN_PW})
        self.submit("login-submit")
        self.assertEqual(self.path(), "/")
        self.assertTrue(d.find_element(By.ID, "uptime").text)
        self.shot("03-dashboard")
        cookie = d.get_cookie("pb_session")
        self.assertTrue(cookie["httpOnly"] and cookie["secure"])
        self.assertEqual(cookie["sameSite"], "Strict")

        # Add a user.
        d.find_element(By.ID, "nav-users").click()
        self.assertEqual(self.path(), "/users")
        self.fill({"user-add-address": NEW, "user-add-password": NEW_PW})
        self.submit("user-add-submit")
        self.assertIn(NEW, d.find_element(By.TAG_NAME, "body").text)
        self.assertNotIn(NEW_PW, d.page_source)
        self.shot("04-users")
        self.assertIn(NEW, b.command("user list").split())

        # Change the message size limit.
        d.find_element(By.ID, "nav-settings").click()
        self.fill({"max-size": "10M"})
        self.submit("limits-save")
        self.assertNotIn("error", self.result().lower())
        self.shot("05-settings")
        self.assertIn("set smtp max-size 10485760\n", b.command("show config"))

        # The DNS records page: the MX record to paste, for the domain.
        d.find_element(By.ID, "nav-dns").click()
        self.assertEqual(self.path(), "/dns")
        text = d.find_element(By.TAG_NAME, "body").text
        self.shot("06-dns")
        self.assertIn(DOMAIN, text)
        self.assertIn("10 %s." % HOST, text)
        self.assertIn("v=spf1", text)

        # The remaining pages render (and are on record as screenshots).
        for i, nav in enumerate(("aliases", "queue", "log", "tls", "network")):
            d.find_element(By.ID, "nav-" + nav).click()
            self.assertEqual(self.path(), "/" + nav)
            self.shot("%02d-%s" % (7 + i, nav))

        # The user made on the page reads mail over IMAPS and sends over 465.
        with imaplib.IMAP4_SSL("127.0.0.1", b.offset + 993, ssl_context=unverified()) as im:
            self.assertEqual(im.login(NEW, NEW_PW)[0], "OK")
            self.assertEqual(im.select("INBOX")[0], "OK")
        with smtplib.SMTP_SSL("127.0.0.1", b.offset + 465, timeout=30, context=unverified()) as s:
            s.login(NEW, NEW_PW)
            body = b"From: bob@example.test\r\nTo: alice@example.test\r\nSubject: hi\r\n\r\nhello\r\n"
            self.assertEqual(s.sendmail(NEW, [FIRST], body), {})
        with imaplib.IMAP4_SSL("127.0.0.1", b.offset + 993, ssl_context=unverified()) as im:
            im.login(FIRST, FIRST_PW)
            typ, data = im.select("INBOX")
            self.assertEqual(int(data[0]), 1)

        # Sign out: the dashboard needs signing in again.
        self.submit("logout")
        d.get(self.base + "/")
        self.assertEqual(self.path(), "/login")


if __name__ == "__main__":
    unittest.main()
