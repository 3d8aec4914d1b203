#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Test tooling (not product code): a real PyKMIP server on loopback with
certificates generated at test time, plus bare TLS servers presenting bad
certificates for negative tests.

Library use:
    with PyKmipServer(workdir) as srv: srv.port, srv.ca, srv.client_cert, ...

Command line (CTest fixtures):
    pykmip_harness.py start DIR [TEST_SERVER]
                                    # certificates, PyKMIP, the TLS decoys, and
                                    # tests/server's kmip_test_server if given
    pykmip_harness.py restart DIR   # PyKMIP again on the same port and database
    pykmip_harness.py stop DIR
DIR/env then holds KEY=VALUE lines: PORT, CA, CLIENT_CERT, CLIENT_KEY,
OTHER_CA_PORT, WRONG_NAME_PORT, EXPIRED_PORT, TLS11_PORT, IPV6_PORT (a TLS
server on [::1] with the good certificate), EC_CLIENT_CERT, CHAIN_PORT and
CHAIN_{OLD_ROOT,EXPIRED_INT,FUTURE_INT,MISSING_INT}_PORT (chains through an
intermediate, verified with CHAIN_CA, or EXPIRED_CA for OLD_ROOT), CN_ONLY_PORT
(CN=localhost, no SAN), BAD_IP_SAN_PORT (an iPAddress SAN of 3 bytes), DNS_IP_SAN_PORT (DNS name 127.0.0.1, no iPAddress), STATIC_RSA_PORT (TLS 1.2, static RSA
key exchange only), ENCRYPTED_CLIENT_KEY and CLIENT_KEY_PASSWORD_FILE, ...
"""
import datetime
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

PYTHON = "/usr/bin/python3"  # Debian's python3, which has python3-pykmip


def _key(kind="rsa"):
    if kind == "p521":
        return ec.generate_private_key(ec.SECP521R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def _save(d, name, key, cert):
    _write(os.path.join(d, name + ".key"), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    _write(os.path.join(d, name + ".crt"), cert.public_bytes(serialization.Encoding.PEM))


def _ca(d, name, cn, parent=None, valid=(-1, 30)):
    """A CA certificate, self-signed or issued by parent (key, cert); valid
    is (first day, last day) relative to now, so it can be expired (-30, -2)
    or not valid yet (2, 30)."""
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_key, issuer = (key, subject) if parent is None else (parent[0], parent[1].subject)
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now + datetime.timedelta(days=valid[0]))
            .not_valid_after(now + datetime.timedelta(days=valid[1]))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(issuer_key, hashes.SHA256()))
    _save(d, name, key, cert)
    return key, cert


def _leaf(d, name, ca, cn, dns=(), ips=(), eku=ExtendedKeyUsageOID.SERVER_AUTH, days=30,
          expired=False, kind="rsa", raw_san=None):
    ca_key, ca_cert = ca
    key = _key(kind)
    now = datetime.datetime.utcnow()
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)
    if expired:
        start, end = now - datetime.timedelta(days=30), now - datetime.timedelta(days=2)
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
         .issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number()).not_valid_before(start)
         .not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
         .add_extension(x509.ExtendedKeyUsage([eku]), critical=False))
    names = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if raw_san is not None:  # DER written as is, malformed on purpose
        b = b.add_extension(x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
                                                       raw_san), critical=False)
    _save(d, name, key, b.sign(ca_key, hashes.SHA256()))


def make_certs(d, client_cn="keyring_client"):
    """CA, server (localhost, 127.0.0.1, ::1), client (EKU clientAuth; its CN
    owns the objects), a P-521 client, and the negative certificates: a server
    certificate from another CA, one for the wrong name, an expired one."""
    os.makedirs(d, exist_ok=True)
    ca = _ca(d, "ca", "keyring_kmip test CA")
    other = _ca(d, "other-ca", "some other CA")
    _leaf(d, "server", ca, "localhost", dns=["localhost"], ips=["127.0.0.1", "::1"])
    _leaf(d, "client", ca, client_cn, eku=ExtendedKeyUsageOID.CLIENT_AUTH)
    # the client key again, encrypted (PKCS#8, AES-256-CBC), and its pass phrase
    with open(os.path.join(d, "client.key"), "rb") as f:
        client_key = serialization.load_pem_private_key(f.read(), None)
    _write(os.path.join(d, "client-encrypted.key"), client_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"keyring pass phrase")))
    _write(os.path.join(d, "client-pass.txt"), b"keyring pass phrase\n")
    _leaf(d, "client-p521", ca, client_cn, eku=ExtendedKeyUsageOID.CLIENT_AUTH, kind="p521")
    _leaf(d, "server-other-ca", other, "localhost", dns=["localhost"], ips=["127.0.0.1"])
    _leaf(d, "server-wrong-name", ca, "kms.example.com", dns=["kms.example.com"])
    _leaf(d, "server-expired", ca, "localhost", dns=["localhost"], ips=["127.0.0.1"],
          expired=True)
    # chains through an intermediate CA (the server sends it with -cert_chain):
    # good, expired root, expired intermediate, intermediate not valid yet;
    # the good one served without its intermediate is the "missing" case
    local = dict(dns=["localhost"], ips=["127.0.0.1"])
    root = _ca(d, "chain-ca", "keyring_kmip chain root")
    old_root = _ca(d, "expired-ca", "keyring_kmip expired root", valid=(-60, -2))
    for name, parent, valid in (("chain", root, (-1, 30)), ("chain-old-root", old_root, (-30, 30)),
                                ("chain-expired-int", root, (-30, -2)),
                                ("chain-future-int", root, (2, 30))):
        inter = _ca(d, name + "-int", name + " intermediate", parent=parent, valid=valid)
        _leaf(d, name + "-leaf", inter, "localhost", **local)
    # CN=localhost and no subjectAltName: refused by name (RFC 9525)
    _leaf(d, "server-cn-only", ca, "localhost")
    # subjectAltName: DNS kms.example.com and an iPAddress of 3 bytes (4 or 16 are valid)
    _leaf(d, "server-bad-ip-san", ca, "kms.example.com",
          raw_san=b"\x30\x16\x82\x0fkms.example.com\x87\x03\x7f\x00\x00")
    # "127.0.0.1" as a DNS name only: no match for the address 127.0.0.1
    _leaf(d, "server-dns-ip-san", ca, "localhost", dns=["127.0.0.1"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=30, host="127.0.0.1"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(what + " exited early")
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(what + " did not start within %d s" % timeout)


def start_pykmip(d, port):
    conf = os.path.join(d, "server.conf")
    os.makedirs(os.path.join(d, "policies"), exist_ok=True)
    with open(conf, "w") as f:
        f.write("[server]\nhostname=127.0.0.1\nport=%d\n" % port)
        f.write("certificate_path=%s/server.crt\nkey_path=%s/server.key\n" % (d, d))
        f.write("ca_path=%s/ca.crt\nauth_suite=TLS1.2\n" % d)
        f.write("policy_path=%s/policies\nenable_tls_client_auth=True\n" % d)
        f.write("logging_level=DEBUG\ndatabase_path=%s/pykmip.db\n" % d)
    log = open(os.path.join(d, "pykmip.out"), "ab")
    proc = subprocess.Popen(
        [PYTHON, "-c", "from kmip.services.server.server import main; main()",
         "-f", conf, "-l", os.path.join(d, "server.log")],
        stdout=log, stderr=log, start_new_session=True)
    wait_port(port, proc, "PyKMIP server")
    return proc


def start_decoy(d, port, cert, extra=(), host="127.0.0.1"):
    """A bare TLS server (openssl s_server) presenting `cert`."""
    log = open(os.path.join(d, "decoy-%d.out" % port), "ab")
    where = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    proc = subprocess.Popen(
        ["openssl", "s_server", "-quiet", "-accept", where,
         "-cert", os.path.join(d, cert + ".crt"), "-key", os.path.join(d, cert + ".key"),
         *extra], stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    wait_port(port, proc, "openssl s_server on %s" % where, host=host)
    return proc


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
        self.proc = start_pykmip(self.dir, self.port)
        return self

    def __exit__(self, *exc):
        stop_proc(self.proc)
        return False


def stop_proc(proc_or_pid):
    """Stops a process started in its own session, and everything it forked
    (PyKMIP forks a process per client session, which inherits the listening
    socket): waits until the whole process group is gone."""
    pid = proc_or_pid if isinstance(proc_or_pid, int) else proc_or_pid.pid
    for sig, rounds in ((signal.SIGTERM, 10), (signal.SIGKILL, 50)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        for _ in range(rounds):
            if not isinstance(proc_or_pid, int):
                proc_or_pid.poll()  # reap our own child
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def stop_procs(pids):
    """stop_proc for many process groups at once: each signal goes to all of
    them before waiting, so stopping a dozen decoys takes as long as one."""
    alive = list(pids)
    for sig, rounds in ((signal.SIGTERM, 10), (signal.SIGKILL, 50)):
        for pid in alive:
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                pass
        for _ in range(rounds):
            still = []
            for pid in alive:
                try:
                    os.killpg(pid, 0)
                    still.append(pid)
                except ProcessLookupError:
                    pass
            alive = still
            if not alive:
                return
            time.sleep(0.1)


def read_env(d):
    env = {}
    with open(os.path.join(d, "env")) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            env[k] = v
    return env


def start_test_server(d, binary, name="testsrv", extra=()):
    """Our own KMIP test server (tests/server), with the same certificates."""
    port_file = os.path.join(d, name + ".port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(d, name + ".out"), "ab")
    proc = subprocess.Popen([binary, "--cert", d + "/server.crt", "--key", d + "/server.key",
                             "--ca", d + "/ca.crt", "--port-file", port_file, *extra],
                            stdout=log, stderr=log, start_new_session=True)
    deadline = time.time() + 10
    while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("kmip_test_server did not start; see testsrv.out")
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, int(f.read())


def cmd_start(d, test_server=None):
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    # a fresh fixture starts with an empty database (restart keeps it):
    # PyKMIP's Locate evaluates every object it holds, so the objects an
    # earlier run of the suites left made the races several times slower
    # with every run in the same build directory
    for old in ("pykmip.db", "pykmip.db-journal"):
        if os.path.exists(os.path.join(d, old)):
            os.unlink(os.path.join(d, old))
    make_certs(d)
    env = {"DIR": d, "CA": d + "/ca.crt", "CLIENT_CERT": d + "/client.crt",
           "CLIENT_KEY": d + "/client.key", "EC_CLIENT_CERT": d + "/client-p521.crt",
           "EC_CLIENT_KEY": d + "/client-p521.key", "OTHER_CA": d + "/other-ca.crt",
           "CHAIN_CA": d + "/chain-ca.crt", "EXPIRED_CA": d + "/expired-ca.crt",
           "ENCRYPTED_CLIENT_KEY": d + "/client-encrypted.key",
           "CLIENT_KEY_PASSWORD_FILE": d + "/client-pass.txt"}
    env["PORT"] = str(free_port())
    env["PID"] = str(start_pykmip(d, int(env["PORT"])).pid)
    for key, cert, extra, host in (
            ("OTHER_CA", "server-other-ca", (), "127.0.0.1"),
            ("WRONG_NAME", "server-wrong-name", (), "127.0.0.1"),
            ("EXPIRED", "server-expired", (), "127.0.0.1"),
            ("TLS11", "server", ("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"), "127.0.0.1"),
            ("IPV6", "server", (), "::1"),
            ("CHAIN", "chain-leaf", ("-cert_chain", d + "/chain-int.crt"), "127.0.0.1"),
            ("CHAIN_OLD_ROOT", "chain-old-root-leaf",
             ("-cert_chain", d + "/chain-old-root-int.crt"), "127.0.0.1"),
            ("CHAIN_EXPIRED_INT", "chain-expired-int-leaf",
             ("-cert_chain", d + "/chain-expired-int-int.crt"), "127.0.0.1"),
            ("CHAIN_FUTURE_INT", "chain-future-int-leaf",
             ("-cert_chain", d + "/chain-future-int-int.crt"), "127.0.0.1"),
            ("CHAIN_MISSING_INT", "chain-leaf", (), "127.0.0.1"),
            ("CN_ONLY", "server-cn-only", (), "127.0.0.1"),
            ("BAD_IP_SAN", "server-bad-ip-san", (), "127.0.0.1"),
            ("DNS_IP_SAN", "server-dns-ip-san", (), "127.0.0.1"),
            ("STATIC_RSA", "server", ("-tls1_2", "-cipher", "AES256-GCM-SHA384"), "127.0.0.1")):
        port = free_port()
        env[key + "_PORT"] = str(port)
        env[key + "_PID"] = str(start_decoy(d, port, cert, extra, host).pid)
    if test_server:
        proc, port = start_test_server(d, test_server)
        env["TESTSRV_PORT"] = str(port)
        env["TESTSRV_PID"] = str(proc.pid)
        proc, port = start_test_server(d, test_server, "testsrv10", ["--no-discover-versions"])
        env["TESTSRV10_PORT"] = str(port)
        env["TESTSRV10_PID"] = str(proc.pid)
    with open(os.path.join(d, "env"), "w") as f:
        for k, v in env.items():
            f.write("%s=%s\n" % (k, v))
    print("PyKMIP on 127.0.0.1:%s, decoys ready, env in %s/env" % (env["PORT"], d))


def cmd_restart(d):
    env = read_env(d)
    stop_proc(int(env["PID"]))
    env["PID"] = str(start_pykmip(env["DIR"], int(env["PORT"])).pid)
    with open(os.path.join(d, "env"), "w") as f:
        for k, v in env.items():
            f.write("%s=%s\n" % (k, v))


def cmd_kill(d):
    stop_proc(int(read_env(d)["PID"]))


def cmd_stop(d):
    env = read_env(d)
    stop_procs([int(v) for k, v in env.items() if k.endswith("PID")])


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("start", "restart", "stop", "kill") \
            or (len(sys.argv) == 4 and sys.argv[1] != "start"):
        sys.exit(__doc__)
    if sys.argv[1] == "start":
        cmd_start(*sys.argv[2:])
    else:
        {"restart": cmd_restart, "stop": cmd_stop, "kill": cmd_kill}[sys.argv[1]](sys.argv[2])
