# yardstick warm Python worker.
#
# Runs inside the sandbox (namespaces, Landlock, seccomp, rlimits applied by
# the shim) and serves one request at a time (one JSON line on stdin; the
# answer is one JSON line on stdout):
#
# * a job ("script"): run in a forked child, which first confines itself
#   further -- its own resource limits, a Landlock layer allowing writes only
#   in its own job directory and signals only inside itself, and the strict
#   seccomp filter -- and then runs the job's script as __main__;
# * a suite ("solution" + "tests"): one forked item process, confined the
#   same way, loads the solution once and runs the tests one at a time in
#   its namespace (harness.py).  This worker times each test, reads its own
#   stdout/stderr, enforces its wall time, CPU time and output cap, and kills
#   whatever the test started before sending the next one.  A test that
#   hangs, crashes or exits the item process fails alone: the item process
#   is replaced for the tests after it.
#
# After each request every process but this worker is killed (kill(-1)
# inside the worker's PID namespace), so nothing of one request can outlive
# it or see the next.
import atexit
import ctypes
import json
import os
import runpy
import select
import shutil
import signal
import stat
import sys
import time
import traceback
import resource
import importlib.util

# The test harness shared with cold jobs, loaded from its file (isolated
# mode puts no script directory on sys.path).
_spec = importlib.util.spec_from_file_location("harness", "harness.py")
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)

# Modules preloaded for jobs: the point of a warm worker is that a forked
# child starts with the interpreter and these already initialised.
import collections, functools, itertools, math, re, string, heapq, bisect  # noqa: E401,F401
import random, typing, dataclasses, decimal, fractions, statistics  # noqa: E401,F401

CFG = json.load(open("worker.json", encoding="utf-8"))

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_CHILD_SUBREAPER = 36
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ_RIGHTS = EXECUTE | READ_FILE | READ_DIR
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


class RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def fs_rights(abi):
    if abi <= 1:
        return (1 << 13) - 1
    if abi == 2:
        return (1 << 14) - 1
    if abi <= 4:
        return (1 << 15) - 1
    return (1 << 16) - 1


def check(result, what):
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def landlock_restrict(job_dir):
    """A Landlock layer of the child's own: read beneath the system and
    interpreter paths, everything beneath its job directory, nothing else;
    signals and abstract sockets scoped to itself (ABI 6+)."""
    abi = CFG["landlock_abi"]
    if not abi:
        return
    handled = fs_rights(abi)
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = RulesetAttr(handled, 0, scoped)
    size = ctypes.sizeof(attr) if abi >= 6 else 8
    ruleset = check(libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0), "landlock_create_ruleset")

    def allow(path, access):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                access &= FILE_RIGHTS
            rule = PathBeneathAttr(access & handled, fd)
            check(libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0), f"landlock_add_rule {path}")
        finally:
            os.close(fd)

    for path in CFG["read_paths"]:
        allow(path, READ_RIGHTS)
    for path in CFG["rw_files"]:
        allow(path, READ_FILE | WRITE_FILE | TRUNCATE)
    allow(job_dir, handled)
    check(libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    os.close(ruleset)


def install_seccomp():
    for program in CFG["seccomp"]:
        raw = bytes.fromhex(program)
        buf = ctypes.create_string_buffer(raw, len(raw))
        prog = SockFprog(len(raw) // 8, ctypes.cast(buf, ctypes.c_void_p))
        check(libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER), ctypes.byref(prog), ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")


def set_limits(cpu_hard=None):
    """The job's limits.  `cpu_hard` raises the hard CPU limit above the
    soft one for an item process, whose soft limit the worker moves up test
    by test (prlimit); a job is killed one second after its soft limit."""
    lim = CFG["limits"]
    cpu = lim["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu_hard or cpu + 1))
    if lim["address_space_bytes"] is not None:
        resource.setrlimit(resource.RLIMIT_AS, (lim["address_space_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (lim["file_size_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lim["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def exit_code(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def confine(job_dir, std_fds, keep_fds=(), env_extra=(), cpu_hard=None):
    """In a fresh child of the worker, before any job code: stdin/stdout/
    stderr from `std_fds`, every other descriptor but `keep_fds` closed, the
    job directory as cwd, HOME and TMPDIR, a clean environment, the job's
    limits, a Landlock layer of its own and the strict seccomp filter."""
    for target, fd in enumerate(std_fds):
        os.dup2(fd, target)
    low = 3
    for fd in sorted(keep_fds):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)
    os.chdir(job_dir)
    env = dict(CFG["env"])
    env.update(HOME=job_dir, TMPDIR=job_dir)
    env.update(dict(env_extra))
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    set_limits(cpu_hard)
    landlock_restrict(job_dir)
    install_seccomp()


def reopen_std(argv, job_dir):
    sys.stdin = sys.__stdin__ = open(0, "r", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", closefd=False, errors="backslashreplace")
    sys.argv = argv
    sys.path[0] = job_dir


def child(req, job_dir, in_r, out_w, err_w, setup_w):
    try:
        confine(job_dir, (in_r, out_w, err_w), (setup_w,), req.get("env", []))
    except BaseException as e:  # nothing of the job has run: report and stop
        os.write(setup_w, f"{type(e).__name__}: {e}".encode())
        os._exit(125)
    os.close(setup_w)
    reopen_std([req["script"]] + req.get("args", []), job_dir)
    code = 0
    try:
        runpy.run_path(req["script"], run_name="__main__")
    except SystemExit as e:
        code = exit_code(e)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(code)


class Tail:
    def __init__(self, cap):
        self.cap, self.buf, self.total = cap, bytearray(), 0

    def push(self, data):
        self.total += len(data)
        self.buf += data
        if len(self.buf) > self.cap:
            del self.buf[: len(self.buf) - self.cap]

    def finish(self):
        return {
            "total_bytes": self.total,
            "tail": self.buf.decode("utf-8", "replace"),
            "truncated": self.total > len(self.buf),
        }


def kill_all():
    """SIGKILL every process of the namespace except this worker (and init,
    which ignores signals from inside), then reap them: we are the subreaper."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def run_job(req, job_dir):
    os.mkdir(job_dir, 0o700)
    for name, data in req["files"]:
        if name.startswith("/") or any(part in ("", ".", "..") for part in name.split("/")):
            raise ValueError(f"bad file name {name!r}")
        path = os.path.join(job_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(bytes.fromhex(data))
    stdin = bytes.fromhex(req.get("stdin", ""))
    if len(stdin) > 60000:
        raise ValueError("stdin larger than a pipe buffer")
    in_r, in_w = os.pipe()
    os.write(in_w, stdin)
    os.close(in_w)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    setup_r, setup_w = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(req, job_dir, in_r, out_w, err_w, setup_w)
    for fd in (in_r, out_w, err_w, setup_w):
        os.close(fd)
    setup_error = b""
    while chunk := os.read(setup_r, 4096):
        setup_error += chunk
    os.close(setup_r)
    if setup_error:
        kill_all()
        os.close(out_r)
        os.close(err_r)
        return {"setup_failed": setup_error.decode("utf-8", "replace")}
    pidfd = os.pidfd_open(pid)
    deadline = started + req["wall_time_ms"] / 1000
    limit = req["output_bytes"]
    tails = {out_r: Tail(CFG["tail_bytes"]), err_r: Tail(CFG["tail_bytes"])}
    open_fds = {out_r, err_r}
    forced = None
    status = None
    while status is None or open_fds:
        watch = list(open_fds) + ([pidfd] if status is None else [])
        timeout = None if forced else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select(watch, [], [], timeout)
        if not ready and forced is None:
            forced = {"kind": "wall_timeout"}
            kill_all_but_reap_later(pid)
            continue
        for fd in ready:
            if fd == pidfd:
                _, st, usage = os.wait4(pid, 0)
                status = (st, usage)
                # The job is over: whatever it left running dies now.
                kill_all()
            else:
                data = os.read(fd, 65536)
                if data:
                    tails[fd].push(data)
                else:
                    open_fds.discard(fd)
        if forced is None and tails[out_r].total + tails[err_r].total > limit:
            forced = {"kind": "output_limit"}
            kill_all_but_reap_later(pid)
            open_fds.clear()
    os.close(pidfd)
    os.close(out_r)
    os.close(err_r)
    st, usage = status
    if forced:
        outcome = forced
    elif os.WIFSIGNALED(st):
        outcome = {"kind": "signaled", "signal": os.WTERMSIG(st)}
    else:
        outcome = {"kind": "exited", "code": os.WEXITSTATUS(st)}
    return {
        "ok": {
            "outcome": outcome,
            "duration_ms": int((time.monotonic() - started) * 1000),
            "cpu_time_ms": int((usage.ru_utime + usage.ru_stime) * 1000),
            "max_rss_kb": usage.ru_maxrss,
            "stdout": tails[out_r].finish(),
            "stderr": tails[err_r].finish(),
        }
    }


def kill_all_but_reap_later(pid):
    """SIGKILL everything but do not reap the job's main process: its status
    comes through the pidfd/wait4 path of the main loop."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ------------------------------------------------------------------ suites


def item_process(req, job_dir, std_fds, tests_r, reports_w, setup_w, cpu_hard):
    """The forked item process: runs each test sent on `tests_r` (one JSON
    line: code and token) with the item's solution (harness.run), reporting
    on `reports_w` after each whether it can serve another test."""

    def report(message):
        os.write(reports_w, json.dumps(message).encode() + b"\n")

    try:
        confine(job_dir, std_fds, (tests_r, reports_w, setup_w), cpu_hard=cpu_hard)
    except BaseException as e:  # nothing of the job has run: report and stop
        os.write(setup_w, f"{type(e).__name__}: {e}".encode())
        os._exit(125)
    os.close(setup_w)
    reopen_std(["solution.py"], job_dir)
    solution = req["solution"]
    for line in os.fdopen(tests_r, "rb"):
        test = json.loads(line)
        status = harness.run(solution, test["code"], test["token"])
        # Children the test left are killed by the worker; reap them here.
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        # Timers the test set would fire during the next one.
        for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(timer, 0)
        # A thread the test left running could do the same: the worker then
        # replaces this process.
        reusable = len(os.listdir("/proc/self/task")) == 1
        usage = resource.getrusage(resource.RUSAGE_SELF)
        report({"done": status, "reusable": reusable, "max_rss_kb": usage.ru_maxrss})
    os._exit(0)


def cpu_ticks(pid):
    """User + system CPU time of a live process, in clock ticks."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except OSError:
        return True


def kill_others(keep):
    """SIGKILL every process of the namespace but init, this worker and
    `keep` (the item process), until none is left alive: what a test started
    must not run into the next test."""
    me = os.getpid()
    for _ in range(1000):
        others = [
            int(name)
            for name in os.listdir("/proc")
            if name.isdigit() and int(name) not in (1, me, keep) and not is_zombie(int(name))
        ]
        if not others:
            return
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in others:  # orphans are ours to reap (subreaper)
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


class Item:
    """A running item process and what the worker reads from it."""

    def __init__(self, req, job_dir, tests_left):
        cpu = CFG["limits"]["cpu_seconds"]
        self.cpu_seconds = cpu
        # Each test may use its own CPU seconds (+1 before SIGKILL).
        self.cpu_hard = (cpu + 1) * tests_left + 1
        in_r, in_w = os.pipe()
        os.close(in_w)  # tests read an empty stdin
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        tests_r, tests_w = os.pipe()
        reports_r, reports_w = os.pipe()
        setup_r, setup_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(tests_w)
            os.close(reports_r)
            os.close(setup_r)
            try:
                item_process(req, job_dir, (in_r, out_w, err_w), tests_r, reports_w, setup_w, self.cpu_hard)
            finally:  # never return into the worker's code
                os._exit(70)
        for fd in (in_r, out_w, err_w, tests_r, reports_w, setup_w):
            os.close(fd)
        # Confined before any job code runs (EOF), or not at all (a message).
        error = b""
        while chunk := os.read(setup_r, 4096):
            error += chunk
        os.close(setup_r)
        self.setup_error = error.decode("utf-8", "replace")
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.tests_w = tests_w
        self.reports_r = reports_r
        self.reports_open = True
        self.pending = b""
        self.out_r, self.err_r = out_r, err_r
        for fd in (out_r, err_r):
            os.set_blocking(fd, False)
        self.new_tails()
        self.ticks = 0
        self.status = None  # (wait status, rusage) once exited

    def new_tails(self):
        self.tails = {self.out_r: Tail(CFG["tail_bytes"]), self.err_r: Tail(CFG["tail_bytes"])}

    def drain(self):
        for fd, tail in self.tails.items():
            while True:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not data:
                    break
                tail.push(data)

    def output_bytes(self):
        return sum(t.total for t in self.tails.values())

    def next_event(self, deadline, limit):
        """Waits for a report, the exit of the item process, its wall
        deadline or too much output: ("report", dict), ("exited", None),
        ("wall_timeout", None) or ("output_limit", None)."""
        while True:
            if b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                try:
                    message = json.loads(line)
                except ValueError:
                    message = None
                if not isinstance(message, dict):
                    return "garbled", None
                return "report", message
            watch = [self.out_r, self.err_r, self.pidfd]
            if self.reports_open:
                watch.append(self.reports_r)
            ready, _, _ = select.select(watch, [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return "wall_timeout", None
            if self.reports_r in ready:
                data = os.read(self.reports_r, 65536)
                self.pending += data
                if data:
                    continue
                self.reports_open = False
            if self.out_r in ready or self.err_r in ready:
                self.drain()
                if self.output_bytes() > limit:
                    return "output_limit", None
            if self.pidfd in ready and b"\n" not in self.pending:
                _, st, usage = os.wait4(self.pid, 0)
                self.status = (st, usage)
                return "exited", None

    def send(self, test):
        """Starts a test, its CPU budget on top of what the process used."""
        try:
            self.ticks = cpu_ticks(self.pid)
            # RLIMIT_CPU counts whole seconds, and /proc samples CPU time in
            # ticks: the test gets its CPU seconds plus up to one more.
            used = int(self.ticks * TICK_MS / 1000) + 1
            soft = min(used + self.cpu_seconds, self.cpu_hard)
            resource.prlimit(self.pid, resource.RLIMIT_CPU, (soft, self.cpu_hard))
            os.write(self.tests_w, json.dumps({"code": test["code"], "token": test["token"]}).encode() + b"\n")
        except OSError:
            pass  # the item process ended after its last report: next_event sees it

    def end(self):
        """Kills the item process (if alive) and everything else but this
        worker, reads the last output, closes the pipes."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, st, usage = os.wait4(self.pid, 0)
            self.status = (st, usage)
        kill_all()
        for fd in (self.out_r, self.err_r):
            os.set_blocking(fd, True)
        self.drain()
        for fd in (self.pidfd, self.tests_w, self.reports_r, self.out_r, self.err_r):
            os.close(fd)


def is_status(value):
    """An exit status as the harness reports it (job code can write on the
    report pipe too, so nothing read there is trusted to be well-formed)."""
    return type(value) is int and 0 <= value <= 255


def rss_kb(message):
    value = message.get("max_rss_kb")
    return value if type(value) is int and 0 <= value < 1 << 53 else 0


def result(outcome, started, cpu_ms, max_rss_kb, tails):
    return {
        "outcome": outcome,
        "duration_ms": int((time.monotonic() - started) * 1000),
        "cpu_time_ms": int(cpu_ms),
        "max_rss_kb": max_rss_kb,
        "stdout": tails[0].finish(),
        "stderr": tails[1].finish(),
    }


def ended_outcome(status):
    st = status[0]
    if os.WIFSIGNALED(st):
        return {"kind": "signaled", "signal": os.WTERMSIG(st)}
    return {"kind": "exited", "code": os.WEXITSTATUS(st)}


def run_suite(req, job_dir):
    """Runs each of `req["tests"]` with `req["solution"]` in an item
    process; one result per test.  A test that ends the item process (exit,
    crash, signal, wall time, output cap) or leaves a thread behind fails or
    passes alone: a new item process serves the next test."""
    os.mkdir(job_dir, 0o700)
    tests = req["tests"]
    wall = req["wall_time_ms"] / 1000
    limit = req["output_bytes"]
    results = []
    item = None
    for i, test in enumerate(tests):
        started = time.monotonic()
        if item is None:
            item = Item(req, job_dir, len(tests) - i)
        else:
            item.new_tails()
        if item.setup_error:
            item.end()
            return {"setup_failed": item.setup_error}
        item.send(test)
        kind, message = item.next_event(started + wall, limit)
        done = kind == "report" and is_status(message.get("done"))
        if done and message.get("reusable") is True:
            kill_others(item.pid)
            item.drain()
            cpu_ms = (cpu_ticks(item.pid) - item.ticks) * TICK_MS
            rss = rss_kb(message)
        else:  # the item process is over, or must be
            item.end()
            usage = item.status[1]
            cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000 - item.ticks * TICK_MS
            rss = usage.ru_maxrss
        if done:
            outcome = {"kind": "exited", "code": message["done"]}
        elif kind in ("wall_timeout", "output_limit"):
            outcome = {"kind": kind}
        elif kind == "exited":
            outcome = ended_outcome(item.status)
        else:  # job code wrote on the report pipe
            outcome = {"kind": "lost", "detail": "the item process broke the harness protocol"}
        if item.output_bytes() > limit:
            outcome = {"kind": "output_limit"}
        results.append(result(outcome, started, max(0.0, cpu_ms), rss,
                              (item.tails[item.out_r], item.tails[item.err_r])))
        if item.status is not None:
            item = None
    if item is not None:
        item.end()
    return {"suite": results}


def main():
    # kill(-1) between jobs must only ever reach this worker's own namespace:
    # refuse to serve unless we are pid 2 (after init) of a fresh PID namespace.
    if not CFG.get("pid_namespace") or os.getpid() != 2:
        sys.stderr.write("warm worker refused: not in its own PID namespace\n")
        sys.exit(2)
    libc.prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    jobs = os.path.join(os.getcwd(), "jobs")
    os.mkdir(jobs, 0o700)
    ctrl_in, ctrl_out = sys.stdin.buffer, sys.stdout.buffer
    ctrl_out.write(json.dumps({"ready": sys.version.split()[0]}).encode() + b"\n")
    ctrl_out.flush()
    n = 0
    for line in ctrl_in:
        n += 1
        job_dir = os.path.join(jobs, str(n))
        try:
            req = json.loads(line)
            answer = run_suite(req, job_dir) if "tests" in req else run_job(req, job_dir)
        except Exception as e:
            answer = {"error": f"{type(e).__name__}: {e}"}
        shutil.rmtree(job_dir, ignore_errors=True)
        ctrl_out.write(json.dumps(answer).encode() + b"\n")
        ctrl_out.flush()


main()
