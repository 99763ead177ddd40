"""The embedded call media server: a local Janus (Debian ``janus``) that ``make run`` starts beside the app.

Only what calls need is loaded: the WebSocket transport on loopback (the API secret on every request; browsers
never reach it) and the VideoRoom plugin (audio rooms that record each publisher to its own ``.mjr``). The
configuration is written into the var folder at each start, from the settings: ``JANUS_API_SECRET``, the port of
the first ``JANUS_URLS`` entry, ``CALL_RTP_PORTS``. Tests start their own on free ports with :func:`write_config`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

LIBRARY_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")
PLUGINS = ("libjanus_videoroom.so",)
TRANSPORTS = ("libjanus_websockets.so",)
INSTALL_HINT = "apt-get install janus janus-tools (Debian 12)"


def janus_binary() -> str | None:
    return shutil.which("janus")


def pp_rec_binary() -> str | None:
    return shutil.which("janus-pp-rec")


def _library_dir() -> Path:
    for candidate in (LIBRARY_DIR, *Path("/usr/lib").glob("*/janus")):
        if (candidate / "plugins" / PLUGINS[0]).exists():
            return candidate
    return LIBRARY_DIR


def write_config(folder: Path, *, ws_port: int, secret: str, rtp_ports: str = "20000-40000") -> Path:
    """Write a Janus configuration into ``folder`` and return it (for ``janus -F folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    library = _library_dir()
    for kind, names in (("plugins", PLUGINS), ("transports", TRANSPORTS)):
        linked = folder / kind
        linked.mkdir(exist_ok=True)
        for name in names:
            link = linked / name
            if not link.exists():
                link.symlink_to(library / kind / name)
    (folder / "janus.jcfg").write_text(
        f"""general: {{
  configs_folder = "{folder}"
  plugins_folder = "{folder / "plugins"}"
  transports_folder = "{folder / "transports"}"
  events_folder = "{folder / "events"}"
  loggers_folder = "{folder / "loggers"}"
  debug_level = 3
  api_secret = "{secret}"
  admin_secret = "{secret}"
  session_timeout = 60
  reclaim_session_timeout = 0
}}
media: {{
  rtp_port_range = "{rtp_ports}"
}}
nat: {{
  nice_debug = false
  ice_ignore_list = "vmnet"
}}
plugins: {{ }}
transports: {{ }}
events: {{ }}
loggers: {{ }}
""",
        encoding="utf-8",
    )
    (folder / "janus.transport.websockets.jcfg").write_text(
        f"""general: {{
  json = "compact"
  ws = true
  ws_port = {ws_port}
  ws_ip = "127.0.0.1"
  wss = false
}}
admin: {{
  admin_ws = false
  admin_wss = false
}}
""",
        encoding="utf-8",
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text(
        f"""general: {{
  admin_key = "{secret}"
  lock_rtp_forward = true
}}
""",
        encoding="utf-8",
    )
    for empty in ("events", "loggers"):
        (folder / empty).mkdir(exist_ok=True)
    return folder


def command(binary: str, folder: Path) -> list[str]:
    """The command line of a Janus using ``folder``'s configuration, logging to ``janus.log`` there."""
    return [binary, "-F", str(folder), "-C", str(folder / "janus.jcfg"), "-o", "-N", "-L", str(folder / "janus.log")]
