# yardstick warm Python worker.
#
# Runs inside the sandbox (namespaces, Landlock, seccomp, rlimits applied by
# the shim) and serves one job at a time: each request (one JSON line on
# stdin) is run in a forked child, which first confines itself further --
# its own resource limits, a Landlock layer allowing writes only in its own
# job directory and signals only inside itself, and the strict seccomp filter
# -- and then runs the job's script as __main__.  After each job every process
# but this worker is killed (kill(-1) inside the worker's PID namespace), so
# nothing of one job can outlive it or see the next.  Answers are one JSON
# line on stdout.
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


def set_limits():
    lim = CFG["limits"]
    resource.setrlimit(resource.RLIMIT_CPU, (lim["cpu_seconds"], lim["cpu_seconds"] + 1))
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


def child(req, job_dir, in_r, out_w, err_w, setup_w):
    try:
        os.dup2(in_r, 0)
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, setup_w)
        os.closerange(setup_w + 1, 1 << 16)
        os.chdir(job_dir)
        env = dict(CFG["env"])
        env.update(HOME=job_dir, TMPDIR=job_dir)
        env.update(dict(req.get("env", [])))
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        set_limits()
        landlock_restrict(job_dir)
        install_seccomp()
    except BaseException as e:  # nothing of the job has run: report and stop
        os.write(setup_w, f"{type(e).__name__}: {e}".encode())
        os._exit(125)
    os.close(setup_w)
    sys.stdin = sys.__stdin__ = open(0, "r", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", closefd=False, errors="backslashreplace")
    sys.argv = [req["script"]] + req.get("args", [])
    sys.path[0] = job_dir
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
            answer = run_job(json.loads(line), job_dir)
        except Exception as e:
            answer = {"error": f"{type(e).__name__}: {e}"}
        shutil.rmtree(job_dir, ignore_errors=True)
        ctrl_out.write(json.dumps(answer).encode() + b"\n")
        ctrl_out.flush()


main()
