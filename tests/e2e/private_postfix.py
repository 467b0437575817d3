"""A private Postfix instance for tests and benchmarks (Debian's postfix package).

Everything lives under one directory: main.cf and master.cf, the queue, the
data directory and the log file. It binds only loopback addresses, delivers
nothing locally, and never changes or uses the system's own Postfix
configuration or queue. Start it with start(), stop it with stop() (safe
to call more than once, and after a failed start). Standard library only.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import time



def _tool(name):
    """A Postfix command, found on PATH (root's PATH has the sbin directories)."""
    return shutil.which(name) or name


POSTFIX = _tool("postfix")
POSTCONF = _tool("postconf")
SENDMAIL = _tool("sendmail")
POSTQUEUE = _tool("postqueue")
SMTP_SOURCE = _tool("smtp-source")


def available():
    """Why Postfix cannot be used here, or None when it can."""
    for tool in (POSTFIX, POSTCONF, SENDMAIL, POSTQUEUE):
        if not os.path.isabs(tool):
            return "%s is missing (install the postfix package)" % tool
    if os.getuid() != 0:
        return "a private Postfix instance needs root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "there is no postfix user"
    return None


# The services a private instance needs, none of them chrooted (the chroot
# would need copies of system files inside the temporary queue directory).
# Columns: service type private unpriv chroot wakeup maxproc command.
MASTER_CF = """\
pickup     unix  n  -  n  1   1  pickup
cleanup    unix  n  -  n  -   0  cleanup
qmgr       unix  n  -  n  300 1  qmgr
tlsmgr     unix  -  -  n  1000? 1 tlsmgr
rewrite    unix  -  -  n  -   -  trivial-rewrite
bounce     unix  -  -  n  -   0  bounce
defer      unix  -  -  n  -   0  bounce
trace      unix  -  -  n  -   0  bounce
verify     unix  -  -  n  -   1  verify
flush      unix  n  -  n  1000? 0 flush
proxymap   unix  -  -  n  -   -  proxymap
proxywrite unix  -  -  n  -   1  proxymap
smtp       unix  -  -  n  -   -  smtp
relay      unix  -  -  n  -   -  smtp
showq      unix  n  -  n  -   -  showq
error      unix  -  -  n  -   -  error
retry      unix  -  -  n  -   -  error
discard    unix  -  -  n  -   -  discard
virtual    unix  -  n  n  -   -  virtual
anvil      unix  -  -  n  -   1  anvil
scache     unix  -  -  n  -   1  scache
postlog    unix-dgram n - n - 1  postlogd
"""


class PrivatePostfix:
    """One Postfix instance under a temporary directory.

    settings: extra main.cf parameters. smtpd_port: when set, an SMTP server
    listens on 127.0.0.1:smtpd_port (otherwise the instance only sends).
    """

    def __init__(self, name, settings=None, smtpd_port=None, smtpd_args=()):
        reason = available()
        if reason:
            raise RuntimeError(reason)
        self.dir = tempfile.mkdtemp(prefix="pillarbox-postfix-")
        self.started = False
        try:
            self._configure(name, settings, smtpd_port, smtpd_args)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def _configure(self, name, settings, smtpd_port, smtpd_args):
        os.chmod(self.dir, 0o755)
        self.config = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "spool")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "maillog")
        for d in (self.config, self.queue, self.data):
            os.makedirs(d)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        master = MASTER_CF
        if smtpd_port:
            master += "127.0.0.1:%d inet n - n - - smtpd %s\n" % (smtpd_port, " ".join(smtpd_args))
        with open(os.path.join(self.config, "master.cf"), "w") as f:
            f.write(master)
        open(os.path.join(self.config, "main.cf"), "w").close()
        base = {
            "compatibility_level": "3.6",
            "myhostname": "%s.pillarbox-test.invalid" % name,
            "mydomain": "pillarbox-test.invalid",
            "myorigin": "$myhostname",
            "syslog_name": "postfix-%s" % name,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "maillog_file": self.log,
            "maillog_file_prefixes": self.dir,
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "mydestination": "",
            "local_recipient_maps": "",
            "local_transport": "error:5.1.1 no local delivery here",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "smtputf8_enable": "no",
            "message_size_limit": "50000000",
            "mailbox_size_limit": "0",
            "virtual_mailbox_limit": "0",
            "smtpd_banner": "$myhostname ESMTP",
            "smtp_dns_support_level": "disabled",
        }
        base.update(settings or {})
        self.postconf(*("%s=%s" % kv for kv in base.items()))

    def env(self):
        return dict(os.environ, MAIL_CONFIG=self.config)

    def postconf(self, *assignments):
        if assignments:
            p = subprocess.run([POSTCONF, "-c", self.config, "-e"] + list(assignments),
                               capture_output=True, text=True, timeout=30)
            if p.returncode != 0:
                raise RuntimeError("postconf failed: " + p.stderr)

    def value(self, name):
        p = subprocess.run([POSTCONF, "-c", self.config, "-h", name], check=True,
                           capture_output=True, text=True, timeout=30)
        return p.stdout.strip()

    def start(self):
        p = subprocess.run([POSTFIX, "-c", self.config, "start"], capture_output=True,
                           text=True, timeout=60, env=self.env())
        self.started = True
        if p.returncode != 0:
            raise RuntimeError("postfix start failed: %s%s\n%s" % (p.stdout, p.stderr, self.log_text()))
        # master answers once its pid file is locked and services are up.
        end = time.time() + 20
        while time.time() < end:
            if subprocess.run([POSTFIX, "-c", self.config, "status"], capture_output=True,
                              timeout=30, env=self.env()).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("postfix did not come up:\n" + self.log_text())

    def stop(self):
        if not self.started:
            return
        self.started = False
        try:
            subprocess.run([POSTFIX, "-c", self.config, "stop"], capture_output=True,
                           timeout=60, env=self.env())
        except subprocess.TimeoutExpired:
            pass
        # "stop" returns before master has gone; wait for it so the directory
        # can be removed, and kill it (by its own pid) if it lingers.
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        end = time.time() + 20
        pid = None
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            pass
        while pid and time.time() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            if pid:
                try:
                    subprocess.run([POSTFIX, "-c", self.config, "abort"], capture_output=True,
                                   timeout=30, env=self.env())
                except subprocess.TimeoutExpired:
                    pass

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def sendmail(self, sender, recipients, message, timeout=60):
        """Hand a message to this instance as a local user would (sendmail -C)."""
        p = subprocess.run([SENDMAIL, "-C", self.config, "-i", "-f", sender] + list(recipients),
                           input=message, capture_output=True, timeout=timeout, env=self.env())
        if p.returncode != 0:
            raise RuntimeError("sendmail failed (%d): %s" % (p.returncode, p.stderr.decode()))

    def queue_size(self):
        """Messages still in this instance's queue (incoming, active, deferred)."""
        n = 0
        for sub in ("maildrop", "incoming", "active", "deferred", "hold"):
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def flush(self):
        subprocess.run([POSTQUEUE, "-c", self.config, "-f"], capture_output=True,
                       timeout=30, env=self.env())

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
