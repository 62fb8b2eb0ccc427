"""The lean access logger (portal/gunicorn_logging.py) writes exactly gunicorn's access line."""

from __future__ import annotations

import base64
import datetime
from types import SimpleNamespace

import pytest
from gunicorn import glogging
from gunicorn.config import Config

from portal.gunicorn_logging import AccessLogger

EVERY_ATOM = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(m)s %(U)s %(q)s %(H)s %(b)s %(B)s "%(f)s" "%(a)s" %(T)s %(D)s '
    "%(M)s %(L)s %(p)s %({x-request-id}o)s %({User-Agent}i)s %({path_info}e)s %({missing}i)s %({missing}o)s "
    "%({x-dup}o)s %(zz)s"
)


def _logger(cls, access_log_format: str):
    cfg = Config()
    cfg.set("access_log_format", access_log_format)
    logger = cls(cfg)
    logger.now = lambda: "[06/Dec/2026:01:02:03 +0000]"  # the one atom that moves with the clock
    return logger


def _exchange(sent=17):
    basic = base64.b64encode(b"alice:secret").decode()
    req = SimpleNamespace(headers=[("HOST", "portal.example"), ("USER-AGENT", 'wrk "quoted"')])
    resp = SimpleNamespace(
        status="201 Created",
        sent=sent,
        headers=[("Content-Type", "application/json"), ("X-Request-ID", "abc123"), ("X-Dup", "1"), ("X-Dup", "2")],
    )
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/api/v1/check?x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "PATH_INFO": "/api/v1/check",
        "QUERY_STRING": "x=1",
        "HTTP_USER_AGENT": 'wrk "quoted"',
        "HTTP_AUTHORIZATION": f"Basic {basic}",
    }
    return resp, req, environ, datetime.timedelta(seconds=1, microseconds=234567)


@pytest.mark.parametrize("sent", [17, None])
def test_every_atom_is_gunicorns(sent):
    ours, theirs = _logger(AccessLogger, EVERY_ATOM), _logger(glogging.Logger, EVERY_ATOM)
    args = _exchange(sent)
    line = EVERY_ATOM % glogging.SafeAtoms(ours.atoms(*args))
    assert line == EVERY_ATOM % glogging.SafeAtoms(theirs.atoms(*args))
    assert " alice " in line and "abc123" in line and '\\"quoted\\"' in line  # the atoms were really there


def test_only_the_named_atoms_are_built():
    """The point of the class: the production format's seven atoms, not sixty."""
    from importlib import util

    spec = util.spec_from_file_location("conf", "portal/gunicorn.conf.py")
    conf = util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    assert conf.logger_class == "portal.gunicorn_logging.AccessLogger"
    atoms = _logger(AccessLogger, conf.access_log_format).atoms(*_exchange())
    assert set(atoms) == {"h", "r", "s", "b", "M", "a", "{x-request-id}o"}
    theirs = glogging.SafeAtoms(_logger(glogging.Logger, conf.access_log_format).atoms(*_exchange()))
    assert conf.access_log_format % glogging.SafeAtoms(atoms) == conf.access_log_format % theirs
