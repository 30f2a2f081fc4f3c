"""QGIS edits a real territorio: starts the server with an editor account and runs
tests/qgis/edit.py in the QGIS >= 3.44 chroot (scripts/qgis-python), then stops the server.

Run by the machine's Python (standard library only), after scripts/qgis-chroot:
    /usr/bin/python3 tests/qgis/edit_session.py [BINARY]   (default target/debug/territorio)
The server serves the demo catalogue on a free port, with a fresh temporary data folder (the
edits go there; examples/ stays as it is) and an accounts file holding one editor of
`projects` with a random password. The server's log is printed when the session fails. The exit
status is edit.py's (1 when a check failed).
"""
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER = "qgis-editor"
SESSION_TIMEOUT_S = 300


def start_server(binary, data_dir, accounts):
    """The server, its landing page URL, and the lines it has written to stderr so far."""
    proc = subprocess.Popen(
        [binary, "serve", "--catalog", os.path.join(ROOT, "examples", "cremona", "catalog.toml"),
         "--data-dir", data_dir, "--accounts", accounts, "--addr", "127.0.0.1:0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TERRITORIO_LOG": os.environ.get("TERRITORIO_LOG", "info")})
    log, found, url = [], threading.Event(), []

    # The pipe is read to its end, so a talkative server never blocks on a full pipe.
    def read():
        for line in proc.stderr:
            log.append(line)
            m = re.search(r"territorio is serving at (http://\S+?)/?(\s|$)", line)
            if m and not url:
                url.append(m.group(1))
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    found.wait(60)
    if not url:
        proc.kill()
        sys.exit("territorio did not start:\n" + "".join(log))
    return proc, url[0], log


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                             os.path.join(ROOT, "target", "debug", "territorio"))
    password = secrets.token_urlsafe(18)
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qgis-edit-", dir=os.path.join(ROOT, "target")) as tmp:
        data_dir, accounts = os.path.join(tmp, "data"), os.path.join(tmp, "accounts.toml")
        os.mkdir(data_dir)
        subprocess.run([binary, "accounts", "--file", accounts, "add-user", USER,
                        "--edit", "projects", "--password-stdin"],
                       input=password, text=True, check=True, timeout=30)
        proc, url, log = start_server(binary, data_dir, accounts)
        try:
            status = subprocess.run(
                [os.path.join(ROOT, "scripts", "qgis-python"),
                 os.path.join(ROOT, "tests", "qgis", "edit.py"), "--url", url,
                 "--collection", "projects", "--user", USER,
                 "--password=" + password],  # "=": a password may begin with "-"
                timeout=SESSION_TIMEOUT_S).returncode
        except subprocess.TimeoutExpired:
            print(f"the QGIS session took more than {SESSION_TIMEOUT_S} s", flush=True)
            status = 1
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if status != 0:
            print("territorio's log:\n" + "".join(log), file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
