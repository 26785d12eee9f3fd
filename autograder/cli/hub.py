"""``python -m autograder hub [setup|run|teardown]``: the demo JupyterHub (``make hub``, docs/hub.md). Needs root.

    setup      users, homes, the exchange, the grader's course directory and the two venvs (idempotent)
    run        setup, then start the hub in the foreground; Ctrl-C stops it (the default)
    teardown   delete the demo users and the data root (the venvs stay)
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..grading import nbg


def add_parser(sub):
    p = sub.add_parser("hub", help="the demo JupyterHub: one course, its formgrader, the exchange (root)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", nargs="?", default="run", choices=["setup", "run", "teardown"])
    p.add_argument("--root", type=Path, default=Path("/srv/bpfs-hub"), help="data: state, homes, exchange")
    p.add_argument("--envs", type=Path, default=Path("/opt/bpfs-hub"), help="the hub and student venvs")
    p.add_argument("--port", type=int, default=8000, help="the hub's public port on 127.0.0.1 (0: any free port)")
    p.add_argument("--hide", action="append", type=Path, default=None,
                   help="a directory hidden from users' servers (default: the folder holding this checkout); every git "
                        "checkout of the course found on the machine is hidden too")
    p.add_argument("--prefix", default="bpfs-hub-", help="prefix of the demo's system user names (default bpfs-hub-)")
    p.add_argument("--assignment", action="append", default=None, dest="assignments",
                   help="generate only this assignment for the formgrader (repeatable; default: every one in source/)")
    p.add_argument("--cull-idle", type=int, default=3600, metavar="SECONDS",
                   help="stop a user's server after this long idle (jupyterhub-idle-culler; 0: never). Their saved "
                        "work stays in their home")
    return p


def run(args, parser) -> int:
    from ..hub import provision, run as hubrun
    from ..hub.layout import Hub
    hide = args.hide if args.hide is not None else [nbg.ROOT.parent]
    hub = Hub(root=args.root, envs=args.envs, cull_idle=args.cull_idle, prefix=args.prefix)
    if args.step != "teardown":
        hub.hide = provision.hidden_dirs(hub, [str(h) for h in hide])
        print("hidden from students' servers: " + (", ".join(hub.hide) or "nothing"))
    if args.step == "teardown":
        provision.teardown(hub)
        print(f"deleted the demo users and {hub.root}")
        return 0
    provision.setup(hub, assignments=args.assignments)
    if args.step == "setup":
        print(f"set up {hub.root}; start it with: python -m autograder hub run")
        return 0
    hubrun.pick_ports(hub, args.port or None)
    return hubrun.serve_forever(hub)
