"""The learning-rate explorer, measured in a real browser: slider move -> new plot on screen (issue 20).

JupyterLab on a temporary directory with one notebook, Debian's chromium driven by Playwright (as the browser tests
do, tests/browser/). The notebook shows four explorers: the bowl (course.explorer.make_bowl_widget) and the digit
network of notebook 06 (course.explorer.make_digits_widget, with notebook 06's explorer_run / explorer_cost written
with the reference network), each twice: as the course draws it now, and with the old full-rebuild render path
(``course.descent_view.REBUILD = True`` while the baseline widget is built) as the baseline of the same run; and a
floor: the same slider, interactive and Output widget showing PNGs drawn beforehand (the cost of everything but the
drawing). The kernel's CPU time per move is read from /proc (10 ms ticks).

One move: Playwright focuses the eta slider's handle and presses ArrowRight (or ArrowLeft); in the page,
performance.now() is taken at the keydown (capture phase), and a MutationObserver on that explorer's output waits for
an <img> with a new src, then ``img.decode()`` and two animation frames (the frame that shows it is painted): the
difference is the latency. Between moves the kernel goes idle. The widgets take turns move by move, so a busy
moment on the shared machine hurts them alike.

Each explorer moves N steps right, then N steps back left. On the bowl every move is a fresh run (cheap). On the
digit network the moves right are first visits of an eta (the training run of the notebook, about 0.1-0.3 s, plus the
contour map, then the redraw); the moves back left revisit cached runs (course.explorer.RunCache), so they cost the
redraw only. The ``digits:`` line is the moves back (the redraw, what the explorer controls); the first visits are
printed on a line of their own.

    .venv/bin/python benchmarks/explorer.py             # 15 moves each way per widget, 2.5-3.5 min at load 7-10
    .venv/bin/python benchmarks/explorer.py --quick     # 2 moves each way: a smoke run (about 1 min)
    .venv/bin/python benchmarks/explorer.py --moves 30 --no-baseline

Prints ``bowl: median X ms, p95 Y ms``, ``digits: median X ms, p95 Y ms``, the first-visit line, the load average,
``RATIO bowl new/rebuild [median]: R`` (and digits) against the baseline measured in the same run, the kernel's CPU
per move with its RATIO lines, and the floor.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

sys.path.insert(0, str(C.REPO / "tests" / "browser"))
import helpers as H  # noqa: E402  (tests/browser/helpers.py: open_notebook, run_all, wait_kernel_idle)
import labserver  # noqa: E402  (tests/browser/labserver.py: serve, stop, quiet_settings)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
NOTEBOOK = "explorer_bench.ipynb"
TARGETS_MS = {"bowl": 150.0, "digits": 250.0}
# Start on the slider's grid (log10 eta a multiple of its step 0.01): a key press snaps to that grid, so from 3.0 the
# walk right would visit 10^0.48, 10^0.49, ... and the walk back end on 10^0.47, a setting never run before.
BOWL_ETA0 = 10 ** -0.82    # 0.151; 15 steps right reach 0.214: oscillating -> past 2/lambda_max = 0.2 (diverging)
DIGITS_ETA0 = 10 ** 0.48   # 3.02, next to notebook 06's start (3.0)

SETUP = '''\
import numpy as np
from course import descent_view, explorer
from course import digits as _digits
from autograder.reference import mlp
try:  # as notebook 06: small matrices, one BLAS thread
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except ImportError:
    pass

# notebook 06's explorer_run and explorer_cost, with the reference network (784-16-16-10, sigmoid, squared error)
SIZES = [784, 16, 16, 10]
X_train, y_train, _, _ = _digits.load_mnist()
Y_train = mlp.one_hot(y_train)


def init_params(sizes, rng):
    Ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        eps = np.sqrt(6.0 / (n_in + n_out))
        Ws.append(rng.uniform(-eps, eps, size=(n_out, n_in)))
        bs.append(rng.uniform(-0.1, 0.1, size=(n_out, 1)))
    return Ws, bs


def minibatches(m, batch_size, rng):
    order = np.random.default_rng(rng).permutation(m)
    return [order[k:k + batch_size] for k in range(0, m, batch_size)]


def cost(Ws, bs, X, Y):
    return float(mlp.cost(Ws, bs, X, Y))


def sgd_epoch(Ws, bs, X, Y, eta, batches):
    Ws, bs = list(Ws), list(bs)
    for idx in batches:
        dWs, dbs = mlp.backprop(Ws, bs, X[:, idx], Y[:, idx])
        Ws = [W - eta * dW for W, dW in zip(Ws, dWs)]
        bs = [b - eta * db for b, db in zip(bs, dbs)]
    return Ws, bs


X_explore, Y_explore = X_train.copy(), Y_train.copy()
X_contour, Y_contour = X_train[:, :1000].copy(), Y_train[:, :1000].copy()


def explorer_run(eta, batch_size):
    rng = np.random.default_rng(0)
    Ws, bs = init_params(SIZES, np.random.default_rng(1))
    thetas, costs = [explorer.flatten(Ws, bs)], [cost(Ws, bs, X_contour, Y_contour)]
    for chunk in minibatches(X_explore.shape[1], 200, rng):
        Ws, bs = sgd_epoch(Ws, bs, X_explore[:, chunk], Y_explore[:, chunk], eta,
                           minibatches(len(chunk), batch_size, rng))
        thetas.append(explorer.flatten(Ws, bs))
        costs.append(cost(Ws, bs, X_contour, Y_contour))
    return np.array(thetas), np.array(costs)


def explorer_cost(theta):
    Ws_, bs_ = explorer.unflatten(theta, SIZES)
    return cost(Ws_, bs_, X_contour, Y_contour)


def build(kind, rebuild):
    """An explorer drawn the current way, or (rebuild=True) with the old full-rebuild render path."""
    had = hasattr(descent_view, "REBUILD")
    old = getattr(descent_view, "REBUILD", False)
    descent_view.REBUILD = rebuild
    try:
        if kind == "floor":
            return floor_widget()
        if kind == "bowl":
            return explorer.make_bowl_widget(eta=ETA_BOWL)
        cache = explorer.RunCache(explorer_run, explorer_cost)
        return explorer.make_digits_widget(cache, eta=ETA_DIGITS, batch_size=10, steps_per_point=200)
    finally:
        descent_view.REBUILD = old
        if not had:
            del descent_view.REBUILD


def floor_widget():
    """The explorer's path without the drawing: the same slider and interactive, each move showing one of two PNGs
    drawn beforehand (bowl figures, as the explorer encodes them), set as the Output widget's outputs."""
    import ipywidgets as widgets
    pngs = [descent_view.png_output(explorer.plot_bowl(e))["data"]["image/png"] for e in (ETA_BOWL, 0.2)]
    moves = []

    def update(eta):
        if "w" in built:
            moves.append(eta)
            built["w"].out.outputs = ({"output_type": "display_data", "metadata": {},
                                       "data": {"image/png": pngs[len(moves) % 2], "text/plain": "<floor>"}},)
    built = {}
    w = built["w"] = widgets.interactive(update, {"clear_output": False}, eta=descent_view.eta_slider(ETA_BOWL))
    w.update()
    return w


print("kernel pid:", __import__("os").getpid())
print("REBUILD switch:", "yes" if hasattr(descent_view, "REBUILD") else "no (both variants draw the same way)")
'''

# In the page: the keydown time, and a promise per move that resolves when the watched output shows a new, decoded,
# painted image.
WATCH = """() => {
    window.__ex = {t0: null, done: null};
    document.addEventListener('keydown', () => { window.__ex.t0 = performance.now(); }, true);
}"""
ARM = """([cells, i]) => {
    const root = document.querySelectorAll(cells)[i].querySelector('.widget-interact .widget-output');
    const old = (root.querySelector('img') || {}).src || '';
    window.__ex.t0 = null;
    window.__ex.done = new Promise((resolve, reject) => {
        const timer = setTimeout(() => { obs.disconnect(); reject(new Error('no new plot within 30 s')); }, 30000);
        const check = () => {
            const img = root.querySelector('img');
            if (!img || !img.src || img.src === old) return;
            obs.disconnect();
            clearTimeout(timer);
            img.decode().catch(() => null).then(() => requestAnimationFrame(() => requestAnimationFrame(() => {
                resolve(performance.now() - window.__ex.t0);
            })));
        };
        const obs = new MutationObserver(check);
        obs.observe(root, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
    });
}"""


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f} {b:.2f} {c:.2f}"


def notebook(path: Path, variants: list[tuple[str, bool]]) -> None:
    import nbformat
    nb = nbformat.v4.new_notebook()
    cells = [nbformat.v4.new_code_cell(f"ETA_BOWL, ETA_DIGITS = {BOWL_ETA0}, {DIGITS_ETA0}\n" + SETUP)]
    for kind, rebuild in variants:
        cells.append(nbformat.v4.new_code_cell(f"build({kind!r}, rebuild={rebuild})"))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, str(path))


def env_for(base: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{labserver.VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("NBGRADER_EXECUTION", None)
    env.pop("JUPYTER_TOKEN", None)
    for name, var in (("config", "JUPYTER_CONFIG_DIR"), ("runtime", "JUPYTER_RUNTIME_DIR"),
                      ("settings", "JUPYTERLAB_SETTINGS_DIR"), ("workspaces", "JUPYTERLAB_WORKSPACES_DIR"),
                      ("data", "JUPYTER_DATA_DIR"), ("ipython", "IPYTHONDIR")):
        (base / name).mkdir()
        env[var] = str(base / name)
    labserver.quiet_settings(base / "settings")
    return env


def percentile(xs: list[float], q: float) -> float:
    """The q-th percentile, linear between order statistics (numpy's default)."""
    import numpy as np
    return float(np.percentile(xs, q))


def summary(xs: list[float]) -> str:
    return f"median {statistics.median(xs):.0f} ms, p95 {percentile(xs, 95):.0f} ms"


def cpu_ms(pid: int | None) -> float:
    """The CPU time (user + system) a process has used so far, in ms (from /proc: 10 ms ticks)."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return 1000.0 * (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(page, variants, moves: int, kernel: int | None = None) -> dict:
    """{(kind, rebuild): {"right": [ms...], "left": [ms...], "cpu right": [kernel CPU ms...], "cpu left": [...]}}: the
    variants take turns, move by move."""
    out = {v: {"right": [], "left": [], "cpu right": [], "cpu left": []} for v in variants}
    page.evaluate(WATCH)
    for direction, key in (("right", "ArrowRight"), ("left", "ArrowLeft")):
        for i in range(moves):
            for v in variants:
                cell = variants.index(v) + 1  # cell 0 is the set-up
                handle = page.locator(H.CELLS).nth(cell).locator(".widget-interact .widget-slider .noUi-handle").first
                handle.focus()
                page.evaluate(ARM, [H.CELLS, cell])
                cpu0 = cpu_ms(kernel)
                page.keyboard.press(key)
                ms = page.evaluate("window.__ex.done")
                out[v][direction].append(ms)
                H.wait_kernel_idle(page)
                out[v][f"cpu {direction}"].append(cpu_ms(kernel) - cpu0)
                time.sleep(0.15)  # let the page settle before the next move
            if (i + 1) % 5 == 0 or i + 1 == moves:
                print(f"  {direction}: {i + 1}/{moves} moves (load {load()})", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--moves", type=int, default=15, help="moves each way (right, then back left) per explorer")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 2 moves each way")
    ap.add_argument("--no-baseline", action="store_true", help="skip the full-rebuild baseline (no RATIO figures)")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor (the same widgets, no drawing)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (server log)")
    args = ap.parse_args()
    moves = 2 if args.quick else args.moves
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        print("Debian's chromium is missing: apt-get install chromium (make chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    for line in C.machine_lines()[:3]:
        print(line)
    print(f"load average at start: {load()} on {os.cpu_count()} CPUs")
    variants = [("bowl", False), ("digits", False)]
    if not args.no_baseline:
        variants = [("bowl", False), ("bowl", True), ("digits", False), ("digits", True)]
    if not args.no_floor:
        variants.append(("floor", False))
    base = Path(tempfile.mkdtemp(prefix="explorer-bench-"))
    root = base / "root"
    root.mkdir()
    notebook(root / NOTEBOOK, variants)
    env = env_for(base)
    t_start = time.monotonic()
    server = labserver.serve(root, env, secrets.token_hex(16), base, who="JupyterLab (benchmark)")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(base / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
                viewport={"width": 1400, "height": 1000}, env=env)
            context.set_default_timeout(60_000)
            page = context.new_page()
            H.open_notebook(page, server, NOTEBOOK, "bench" + secrets.token_hex(4))
            cs = H.run_all(page, timeout=300)
            errors = [c["error"] for c in cs if c["error"]]
            if errors:
                print("the benchmark notebook wrote errors:\n" + "\n".join(e[-1500:] for e in errors), file=sys.stderr)
                return 1
            print(cs[0]["output"].strip())
            found = re.search(r"kernel pid: (\d+)", cs[0]["output"])
            kernel = int(found.group(1)) if found else None
            page.locator(f"{H.NOTEBOOK} .widget-interact .widget-output img").nth(len(variants) - 1).wait_for()
            print(f"{len(variants)} explorers shown; {moves} moves right then {moves} back left on each "
                  f"(load {load()})", flush=True)
            res = measure(page, variants, moves, kernel)
            context.close()
    finally:
        labserver.stop(server)
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}")
    end_load = load()

    print()
    print(f"load average at end: {end_load} on {os.cpu_count()} CPUs; {time.monotonic() - t_start:.0f} s in all")
    bowl = res[("bowl", False)]["right"] + res[("bowl", False)]["left"]
    digits_cached = res[("digits", False)]["left"]
    digits_first = res[("digits", False)]["right"]
    print(f"bowl: {summary(bowl)}   ({len(bowl)} moves; target median <= {TARGETS_MS['bowl']:.0f} ms; "
          f"load {end_load})")
    print(f"digits: {summary(digits_cached)}   ({len(digits_cached)} moves back to cached runs: the redraw; target "
          f"median <= {TARGETS_MS['digits']:.0f} ms; load {end_load})")
    print(f"digits first visit (includes the notebook's training run and the contour map): {summary(digits_first)}   "
          f"({len(digits_first)} moves)")
    if not args.no_baseline:
        b_bowl = res[("bowl", True)]["right"] + res[("bowl", True)]["left"]
        b_cached, b_first = res[("digits", True)]["left"], res[("digits", True)]["right"]
        print(f"baseline (full rebuild) bowl: {summary(b_bowl)}")
        print(f"baseline (full rebuild) digits: {summary(b_cached)}")
        print(f"baseline (full rebuild) digits first visit: {summary(b_first)}")
        for name, new, old in (("bowl", bowl, b_bowl), ("digits", digits_cached, b_cached),
                               ("digits first visit", digits_first, b_first)):
            print(f"RATIO {name} new/rebuild [median]: {statistics.median(new) / statistics.median(old):.2f}")
    # the kernel's CPU per move: less sensitive to the load than the latency (the moves the two lines above count)
    cpu = {(k, rb): statistics.mean(r["cpu left"] if k == "digits" else r["cpu right"] + r["cpu left"])
           for (k, rb), r in res.items()}
    cpu_first = {rb: statistics.mean(r["cpu right"]) for (k, rb), r in res.items() if k == "digits"}
    print("kernel CPU per move (mean; /proc, 10 ms ticks): "
          + ", ".join(f"{k}{' rebuild' if rb else ''} {ms:.0f} ms" for (k, rb), ms in cpu.items())
          + "; digits first visit " + ", ".join(f"{'rebuild ' if rb else ''}{ms:.0f} ms" for rb, ms in cpu_first.items()))
    if ("bowl", True) in cpu:
        for k in ("bowl", "digits"):
            print(f"RATIO {k} kernel CPU new/rebuild [mean]: {cpu[(k, False)] / cpu[(k, True)]:.2f}")
    if not args.no_floor:
        floor = res[("floor", False)]["right"] + res[("floor", False)]["left"]
        print(f"floor (the same slider, kernel and Output widget, a PNG drawn beforehand: no drawing): "
              f"{summary(floor)}   ({len(floor)} moves)")
    for name, xs in (("bowl", bowl), ("digits", digits_cached)):
        print(f"  {name} raw ms: {', '.join(f'{x:.0f}' for x in xs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
