#!/usr/bin/env python3
"""Run every Pillarbox test suite and print one closing line: N passed, N failed.

Suites, in order: unit (cmocka binaries under build/test/unit), power-loss
(tests/powerloss/*.py), fuzz-smoke (each libFuzzer target over its seed corpus
for a bounded time), end-to-end on the sim (tests/e2e/*.py) and the QEMU boot
tests (tests/qemu/*.py).  A test counts once; a whole binary or script that
crashes counts as one failure.
"""
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(ROOT)

FUZZ_SECONDS = int(os.environ.get("PB_FUZZ_SECONDS", "20"))
passed = 0
failed = 0
failures = []


def record(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        failures.append(name + (": " + detail if detail else ""))
    print(("PASS " if ok else "FAIL ") + name, flush=True)


def run_unit():
    bins = sorted(glob.glob("build/test/unit/test_*"))
    srcs = sorted(glob.glob("tests/unit/test_*.c"))
    for src in srcs:
        name = os.path.splitext(os.path.basename(src))[0]
        path = os.path.join("build/test/unit", name)
        if path not in bins:
            record("unit/" + name, False, "did not build")
            continue
        env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="stdout",
                   ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
                   UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
        try:
            p = subprocess.run([path], cwd=ROOT, env=env, capture_output=True,
                               text=True, timeout=600)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            record("unit/" + name, False, "timed out")
            continue
        sys.stdout.write(out)
        # cmocka lists the failed tests a second time after "listed below:".
        run_part = out.split("listed below:")[0]
        cases_ok = re.findall(r"^\[\s+OK\s+\] (\S+)", run_part, re.M)
        cases_bad = re.findall(r"^\[\s+FAILED\s+\] (\S+)$", run_part, re.M)
        for c in cases_ok:
            record("unit/%s/%s" % (name, c), True)
        for c in cases_bad:
            record("unit/%s/%s" % (name, c), False)
        if p.returncode != 0 and not cases_bad:
            record("unit/" + name, False, "exit status %d" % p.returncode)


def run_fuzz():
    for path in sorted(glob.glob("tests/fuzz/fuzz_*.c")):
        name = os.path.splitext(os.path.basename(path))[0]
        binary = os.path.join("build/fuzz/bin", name)
        if not os.path.exists(binary):
            record("fuzz/" + name, False, "did not build")
            continue
        seeds = os.path.join("tests/fuzz/corpus", name)
        work = os.path.join("build/fuzz/corpus", name)
        os.makedirs(work, exist_ok=True)
        args = [binary, "-max_total_time=%d" % FUZZ_SECONDS, "-timeout=10",
                "-rss_limit_mb=2048", "-print_final_stats=1", work]
        if os.path.isdir(seeds):
            args.append(seeds)
        p = subprocess.run(args, capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
        tail = "\n".join(p.stderr.splitlines()[-6:])
        print(tail)
        record("fuzz/" + name, p.returncode == 0, "libFuzzer exit %d" % p.returncode)


# Runs one unittest file in a child and prints "PBRESULT ok|fail test_id" lines.
UNITTEST_CHILD = r"""
import sys, unittest
sys.path.insert(0, sys.argv[2])
class R(unittest.TextTestResult):
    def addSuccess(self, t):
        super().addSuccess(t); print("PBRESULT ok " + t.id(), flush=True)
    def addFailure(self, t, e):
        super().addFailure(t, e); print("PBRESULT fail " + t.id(), flush=True)
    def addError(self, t, e):
        super().addError(t, e); print("PBRESULT fail " + t.id(), flush=True)
suite = unittest.defaultTestLoader.discover(sys.argv[2], pattern=sys.argv[1])
unittest.TextTestRunner(resultclass=R, verbosity=2, stream=sys.stdout).run(suite)
"""


def run_python(pattern, suite):
    for path in sorted(glob.glob(pattern)):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            p = subprocess.run([sys.executable, "-c", UNITTEST_CHILD, os.path.basename(path),
                                os.path.dirname(path)], capture_output=True, text=True,
                               timeout=1800)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired:
            record("%s/%s" % (suite, name), False, "timed out")
            continue
        sys.stdout.write(out)
        results = re.findall(r"^PBRESULT (ok|fail) (\S+)$", out, re.M)
        for verdict, test in results:
            record("%s/%s" % (suite, test), verdict == "ok")
        if not results:
            record("%s/%s" % (suite, name), False, "no test ran (exit %d)" % p.returncode)


def main():
    # PB_SUITES picks suites (e.g. "fuzz" for make fuzz); all by default.
    suites = os.environ.get("PB_SUITES", "unit powerloss fuzz e2e qemu").split()
    start = time.time()
    if "unit" in suites:
        run_unit()
    if "powerloss" in suites:
        run_python("tests/powerloss/test_*.py", "powerloss")
    if "fuzz" in suites:
        run_fuzz()
    if "e2e" in suites:
        run_python("tests/e2e/test_*.py", "e2e")
    if "qemu" in suites:
        run_python("tests/qemu/test_*.py", "qemu")
    print("\n%d s" % (time.time() - start))
    for f in failures:
        print("failed: " + f)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
