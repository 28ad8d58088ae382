# yardstick test harness: runs a solution in a fresh namespace, then a test
# in that namespace.
#
# One contract, two callers.  A cold job runs this file as __main__, one
# process per test: the per-test token arrives on stdin (read before any
# untrusted code runs), solution.py and test.py are in the working
# directory.  The warm worker imports it and calls `run` once per test in an
# item process that serves all the tests of one solution (warm_server.py).
#
# A test passes when the solution and the test complete; the harness then
# prints the token last on stdout.  Code that calls exit() (or os._exit)
# before that never prints it, so an early exit fails the test.  The token
# guards against accidents, not forgery: code in the same process can read it.
import functools
import linecache
import sys
import traceback


@functools.lru_cache(maxsize=4)
def _compile(source, filename):
    return compile(source, filename, "exec")


def execute(ns, source, filename):
    """Runs `source` in `ns`.  Returns the exit status a process running
    only this would have: 0 done, 1 exception (traceback on stderr),
    3 exit() called."""
    # Tracebacks show the source lines even when no file holds them.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(_compile(source, filename), ns)
    except SystemExit as e:
        print(f"{filename} called exit({e.code!r})", file=sys.stderr)
        return 3
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def run(solution, test, token):
    """Runs `solution` in a fresh module namespace (not __main__, so its
    `if __name__ == "__main__":` block stays out), then `test` in it, and
    prints `token` when both completed.  Returns the exit status."""
    ns = {"__name__": "__solution__", "__builtins__": __builtins__}
    status = execute(ns, solution, "solution.py")
    if status == 0:
        status = execute(ns, test, "test.py")
    if status == 0:
        sys.stdout.write("\n" + token + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    return status


if __name__ == "__main__":
    import os

    token = sys.stdin.readline().strip()
    with open("solution.py", encoding="utf-8") as f:
        solution = f.read()
    with open("test.py", encoding="utf-8") as f:
        test = f.read()
    os._exit(run(solution, test, token))
