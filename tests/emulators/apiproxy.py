"""Shared by the git and registry test servers: pass a token-API request
through to an emulator, so that one origin serves both a resource (git, a
registry) and the token API, as one tokenring account url covers both;
and ask the emulator whether a token is currently valid."""
import json
import urllib.error
import urllib.parse
import urllib.request


def forward(handler, upstream, body):
    """Send handler's request (with body) to upstream; return (code,
    content type, body) of the answer, errors included."""
    req = urllib.request.Request(upstream + handler.path, data=body,
                                 method=handler.command)
    if handler.headers.get("Content-Type"):
        req.add_header("Content-Type", handler.headers["Content-Type"])
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def token_valid(check_url, token):
    """Whether the emulator at check_url (GET ?token=...) calls token valid."""
    url = check_url + ("&" if "?" in check_url else "?") + \
        urllib.parse.urlencode({"token": token})
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.load(r).get("valid") is True
    except (OSError, ValueError):
        return False
