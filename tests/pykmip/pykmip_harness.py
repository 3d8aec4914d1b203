"""Test tooling: a real PyKMIP server on loopback with certificates made at
test time. Used by the integration tests; not part of the product.

    with PyKmipServer(workdir) as srv:
        srv.port, srv.ca, srv.client_cert, srv.client_key, srv.log_path
"""
import os
import socket
import subprocess
import sys
import time

PYTHON = "/usr/bin/python3"  # Debian's python3, which has python3-pykmip


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d, client_cn="keyring_client"):
    """A CA, a server certificate for localhost/127.0.0.1 and a client
    certificate with EKU clientAuth (PyKMIP requires it; its CN owns the
    objects)."""
    os.makedirs(d, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=keyring_kmip test CA", "-keyout", "ca.key", "-out", "ca.crt",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, cn, ext in (
            ("server", "localhost",
             "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
            ("client", client_cn, "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + cn,
                 "-keyout", name + ".key", "-out", name + ".csr", cwd=d)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-days", "2", "-extfile", name + ".ext",
                 "-out", name + ".crt", cwd=d)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PyKmipServer:
    def __init__(self, workdir, port=None):
        self.dir = os.path.abspath(workdir)
        self.port = port or free_port()
        self.proc = None

    def __enter__(self):
        make_certs(self.dir)
        self.ca = os.path.join(self.dir, "ca.crt")
        self.client_cert = os.path.join(self.dir, "client.crt")
        self.client_key = os.path.join(self.dir, "client.key")
        self.log_path = os.path.join(self.dir, "server.log")
        os.makedirs(os.path.join(self.dir, "policies"), exist_ok=True)
        conf = os.path.join(self.dir, "server.conf")
        with open(conf, "w") as f:
            f.write("[server]\nhostname=127.0.0.1\nport=%d\n" % self.port)
            f.write("certificate_path=%s/server.crt\nkey_path=%s/server.key\n" % (self.dir, self.dir))
            f.write("ca_path=%s\nauth_suite=TLS1.2\n" % self.ca)
            f.write("policy_path=%s/policies\nenable_tls_client_auth=True\n" % self.dir)
            f.write("logging_level=DEBUG\ndatabase_path=%s/pykmip.db\n" % self.dir)
        self.proc = subprocess.Popen(
            [PYTHON, "-c", "from kmip.services.server.server import main; main()",
             "-f", conf, "-l", self.log_path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("PyKMIP server exited; see " + self.log_path)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("PyKMIP server did not start within 30 s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return False
