"""Every way a command can end: one line on stderr, naming what the user typed, with a documented exit code.

0 ok, 1 the model or the domain, 2 the command line, 3 a bug in archstat, 130 interrupted.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from archstat.analysis.analyze import analyze
from archstat.analysis.loading import load_model
from archstat.analysis.tracing.lazy_dynamo import _StandIn
from archstat.cli.main import main
from archstat.errors import ArchstatError, UsageError, one_line
from archstat.measure import latency
from archstat.registry import get_model

REPO = Path(__file__).resolve().parent.parent
CPP_FRAMES = ("Exception raised from", "frame #", "most recent call first")
CLI = "import sys; from archstat.cli.main import main; sys.exit(main(sys.argv[1:]))"


def _env() -> dict[str, str]:
    """This checkout first on the path of a child Python."""
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@dataclass(frozen=True)
class Ending:
    code: int
    out: str
    err: str

    @property
    def line(self) -> str:
        """The one stderr line, asserted to be exactly one."""
        assert self.err.endswith("\n") and self.err.count("\n") == 1, f"not one line: {self.err!r}"
        assert not any(frame in self.err for frame in CPP_FRAMES), self.err
        return self.err.rstrip("\n")


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Ending]:
    def invoke(*args: object) -> Ending:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Ending(code, captured.out, captured.err)

    return invoke


def user_file(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text("import sys, warnings\nimport torch\nfrom torch import nn\n\n" + textwrap.dedent(body))
    return path


NET = """
class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        {forward}
"""


def net(directory: Path, name: str, forward: str) -> str:
    return f"{user_file(directory, name, NET.format(forward=forward))}:Net"


# --- SystemExit and KeyboardInterrupt from the user's code -------------------------------------------

def test_bare_sys_exit_at_import_is_an_error_not_a_silent_success(run: Callable[..., Ending],
                                                                  tmp_path: Path) -> None:
    path = user_file(tmp_path, "exits", "sys.exit()\n")
    ending = run("summary", f"{path}:Net")
    assert ending.code == 1 and ending.out == ""
    assert ending.line == f"archstat: error: importing {path} called sys.exit()"


def test_sys_exit_in_a_factory_names_the_factory(run: Callable[..., Ending], tmp_path: Path) -> None:
    path = user_file(tmp_path, "factory", "def build():\n    sys.exit('bye')\n")
    ending = run("summary", f"{path}:build")
    assert ending.code == 1
    assert ending.line == "archstat: error: building build called sys.exit('bye')"


def test_sys_exit_in_forward_names_the_model(run: Callable[..., Ending], tmp_path: Path) -> None:
    ending = run("summary", net(tmp_path, "fwd_exit", "sys.exit(3)"), "--input", "1x3x8x8")
    assert ending.code == 1
    assert ending.line.startswith("archstat: error: the forward of Net called sys.exit(3) at Net")


def test_sys_exit_anywhere_else_is_one_line(run: Callable[..., Ending], monkeypatch: pytest.MonkeyPatch) -> None:
    analyze_module = importlib.import_module("archstat.analysis.analyze")   # the package exports the function

    def exits(*args: object, **kwargs: object) -> None:
        sys.exit(4)

    monkeypatch.setattr(analyze_module, "analyze", exits)
    ending = run("summary", "lenet5")
    assert (ending.code, ending.line) == (1, "archstat: error: the model's code called sys.exit(4)")


@pytest.mark.parametrize("where", ["import", "forward"])
def test_keyboard_interrupt_from_user_code_is_130(run: Callable[..., Ending], tmp_path: Path, where: str) -> None:
    if where == "import":
        spec = f"{user_file(tmp_path, 'int_import', 'raise KeyboardInterrupt')}:Net"
    else:
        spec = net(tmp_path, "int_forward", "raise KeyboardInterrupt")
    ending = run("summary", spec, "--input", "1x3x8x8")
    assert (ending.code, ending.out, ending.line) == (130, "", "archstat: interrupted")


# --- parsers: deep nesting, huge numbers ---------------------------------------------------------------

@pytest.mark.parametrize(("value", "fragment"), [
    ("[" * 2000 + "]" * 2000, "nested too deeply"),
    ("-" * 3000 + "1", "nested too deeply"),           # RecursionError in the compiler
    ("[" * 150 + "]" * 150, "no option 'x'"),          # parses; then x is not an option
    ("9" * 5000, "too large"),                          # int() refuses over 4300 digits
    ("9" * 30, "too large"),
    ("{[1]: 2}", "not a valid literal"),                # TypeError: unhashable
    ("1" * 20_000, "characters long"),
], ids=["brackets", "minus-signs", "shallow", "5000-digits", "beyond-int64", "unhashable", "very-long"])
def test_hostile_option_values_are_one_line(run: Callable[..., Ending], value: str, fragment: str) -> None:
    ending = run("summary", "lenet5", "-O", f"x={value}")
    assert ending.code == 2
    line = ending.line
    assert line.startswith("archstat: error:") and fragment in line
    assert "-O x" in line or "'x'" in line
    assert len(line) < 400


@pytest.mark.parametrize("args", [
    ["--stack", "9" * 5000 + "x3"],
    ["--stack", "3x3", "--vs", "3x" + "7" * 5000],
    ["--stack", "3x3s" + "2" * 40],
    ["--stack", "max" + "3" * 5000],
], ids=["kernel-5000-digits", "vs-5000-digits", "stride-40-digits", "pool-5000-digits"])
def test_huge_numbers_in_a_stack_are_one_line(run: Callable[..., Ending], args: list[str]) -> None:
    ending = run("rf", *args)
    option = "--vs" if "--vs" in args else "--stack"
    assert ending.code == 2
    assert ending.line.startswith(f"archstat: error: malformed {option} ") and "larger than" in ending.line
    assert len(ending.line) < 400


def json_cases(tmp_path: Path) -> dict[str, Path]:
    texts = {
        "deep": "[" * 100_000 + "]" * 100_000,
        "huge-int": '{"models": {"a": {"ms": ' + "9" * 5000 + "}}}",
        "beyond-int64": '{"models": {"a": {"ms": 99999999999999999999}}}',
        "infinite": '{"models": {"a": {"ms": 1e999}}}',
        "nan": '{"models": {"a": {"ms": NaN}}}',
    }
    paths = {}
    for name, text in texts.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(text)
    return paths


@pytest.mark.parametrize("case", ["deep", "huge-int", "beyond-int64", "infinite", "nan"])
@pytest.mark.parametrize("option", ["--from", "--latency"])
def test_hostile_json_is_one_line(run: Callable[..., Ending], tmp_path: Path, case: str, option: str) -> None:
    path = json_cases(tmp_path)[case]
    args = ["latency", "--from", path] if option == "--from" else ["compare", "lenet5", "--latency", path]
    ending = run(*args)
    assert ending.code == 2
    assert ending.line.startswith(f"archstat: error: {option} {path}: ")
    assert "internal error" not in ending.line and len(ending.line) < 400


def test_an_input_beyond_int64_is_one_clear_line(run: Callable[..., Ending]) -> None:
    ending = run("summary", "lenet5", "--input", "1x3x99999999999999999999x2")
    assert ending.code == 2
    assert ending.line == ("archstat: error: --input '1x3x99999999999999999999x2': a size above 2,147,483,647 "
                           "(2³¹ − 1) is not supported")


def test_the_library_strips_cpp_backtraces_from_torch_errors() -> None:
    with pytest.raises(ArchstatError) as caught:
        analyze("lenet5", (1, 1, 2**70, 2))
    assert not any(frame in str(caught.value) for frame in CPP_FRAMES)
    cpp = ("boom Exception raised from f at x.cpp:1 (most recent call first):\n"
           "frame #0: c10::Error::Error() + 0x9d (0x7f in libc10.so)\nframe #1: ...")
    assert one_line(cpp) == "boom"


@pytest.mark.parametrize(("args", "option"), [
    (["rf", "--stack", "3x3", "--size", "0x0"], "--size"),
    (["rf", "--stack", "3x3", "--size", "56"], "--size"),
    (["rf", "lenet5", "--input", "1x0x32x32"], "--input"),
    (["latency", "lenet5", "--input", "1x0"], "--input"),
    (["compare", "lenet5", "--input", "x"], "--input"),
])
def test_shape_errors_name_the_option_typed(run: Callable[..., Ending], args: list[str], option: str) -> None:
    ending = run(*args)
    assert ending.code == 2 and ending.line.startswith(f"archstat: error: malformed {option} ")


# --- builder options ---------------------------------------------------------------------------------

def test_a_zero_size_option_blames_the_option_not_the_input(run: Callable[..., Ending]) -> None:
    ending = run("summary", "resnet18", "-O", "num_classes=0")
    assert ending.code == 2
    assert ending.line.startswith("archstat: error: cannot build resnet18 with options num_classes=0: they leave "
                                  "fc.weight with no elements (0x512); check the values")
    assert "too small" not in ending.line


@pytest.mark.parametrize("value", ["None", "10"])
def test_an_unknown_option_is_refused_even_as_none(run: Callable[..., Ending], value: str) -> None:
    ending = run("summary", "vgg16", "-O", f"num_clases={value}")
    assert ending.code == 2
    assert ending.line == ("archstat: error: cannot build vgg16: it has no option 'num_clases'; "
                           "did you mean num_classes? it takes num_classes, dropout")


def test_get_model_refuses_unknown_options_and_keeps_defaults_for_none() -> None:
    with pytest.raises(UsageError, match="it has no option 'width'; it takes num_classes"):
        get_model("lenet5", width=None)
    default = get_model("lenet5")
    assert [p.shape for p in get_model("lenet5", num_classes=None).parameters()] == [
        p.shape for p in default.parameters()]


# --- warnings ---------------------------------------------------------------------------------------

def test_warnings_from_a_failing_model_join_its_one_line(run: Callable[..., Ending], tmp_path: Path) -> None:
    spec = net(tmp_path, "warns_fails", "warnings.warn('odd input'); warnings.warn('twice', RuntimeWarning); "
                                        "raise ValueError('boom')")
    ending = run("summary", spec, "--input", "1x3x8x8")
    assert ending.code == 1
    assert ending.line.endswith(": boom (2 warnings while it ran, the first: UserWarning: odd input)")


def test_warnings_from_a_working_model_stay_quiet(run: Callable[..., Ending], tmp_path: Path) -> None:
    spec = net(tmp_path, "warns", "warnings.warn('odd input'); return self.conv(x)")
    ending = run("summary", spec, "--input", "1x3x8x8")
    assert (ending.code, ending.err) == (0, "")
    assert "Conv2d" in ending.out


# --- torch.compile and torch.compiler.disable ----------------------------------------------------------

def test_a_compiled_module_records_quietly_with_the_same_numbers(run: Callable[..., Ending], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Python prints an exception raised in __del__ through sys.unraisablehook (pytest turns it into a warning)
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.object}"))
    path = user_file(tmp_path, "compiled", NET.format(forward="return torch.relu(self.conv(x))") +
                     "\ndef compiled():\n    return torch.compile(Net())\n")
    compiled = run("summary", f"{path}:compiled", "--input", "1x3x8x8", "--format", "json")
    gc.collect()
    assert unraisable == []
    plain = run("summary", f"{path}:Net", "--input", "1x3x8x8", "--format", "json")
    assert (compiled.code, compiled.err) == (0, "")
    assert json.loads(compiled.out)["totals"] == json.loads(plain.out)["totals"]


def test_the_lazy_dynamo_stand_in_takes_reason() -> None:
    def fn(x: torch.Tensor) -> torch.Tensor:
        return x

    stand_in = _StandIn()
    assert stand_in.disable(fn, True, reason="not traceable") is fn
    assert stand_in.disable(reason="as a decorator")(fn) is fn
    assert stand_in.guarded == [fn, fn]


def test_compiler_disable_inside_a_forward(tmp_path: Path) -> None:
    # A fresh process: the stand-in only serves while torch._dynamo has never been imported.
    spec = net(tmp_path, "disabled", "return torch.compiler.disable(lambda y: y * 2, reason='eager')(self.conv(x))")
    done = subprocess.run([sys.executable, "-c", CLI, "summary", spec, "--input", "1x3x8x8"], cwd=tmp_path,
                          env=_env(), capture_output=True, text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert "Conv2d" in done.stdout


# --- the latency sweep when the allocator runs out ----------------------------------------------------

@pytest.mark.parametrize("message", [
    "DefaultCPUAllocator: can't allocate memory: you tried to allocate 1073741824 bytes. Error code 12 "
    "(Cannot allocate memory)",
    "DefaultCPUAllocator: not enough memory: you tried to allocate 1073741824 bytes.",
    "CUDA out of memory. Tried to allocate 2.00 GiB",
])
def test_the_sweep_keeps_what_fitted(run: Callable[..., Ending], monkeypatch: pytest.MonkeyPatch,
                                     message: str) -> None:
    real = latency.measure_batch

    def runner(model: torch.nn.Module, shape: tuple[int, ...], batch: int, *args: object) -> object:
        if batch >= 8:
            raise RuntimeError(message)
        return real(model, shape, batch, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(latency, "measure_batch", runner)
    assert latency.is_out_of_memory(RuntimeError(message)) and latency.is_out_of_memory(MemoryError())
    assert not latency.is_out_of_memory(RuntimeError("shape mismatch"))
    ending = run("latency", "lenet5", "--batch", "1,2,8,16", "--warmup", "0", "--repeat", "1", "--format", "json")
    assert (ending.code, ending.err) == (0, "")
    result = json.loads(ending.out)
    assert "largest batch that fit is 2" in json.dumps(result)


# --- users' files that edit sys.path -----------------------------------------------------------------

def test_a_user_file_that_edits_sys_path_keeps_its_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = list(sys.path)
    added = str(tmp_path / "user_libs")
    path = user_file(tmp_path, "edits_path", f"sys.path.insert(0, {added!r})\n" + NET.format(forward="return x"))
    load_model(f"{path}:Net")
    assert sys.path == [added, *before]   # archstat's own entry (the file's folder) is gone, the user's stays


def test_a_module_that_puts_the_cwd_on_sys_path_keeps_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    monkeypatch.chdir(tmp_path)
    before = list(sys.path)
    name = "archstat_endings_cwd_on_path"
    user_file(tmp_path, name, f"sys.path.append({str(tmp_path)!r})\n" + NET.format(forward="return x"))
    try:
        load_model(f"{name}:Net")
    finally:
        sys.modules.pop(name, None)
    assert sys.path == [*before, str(tmp_path)]


# --- Ctrl-C in a real process ------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat_line = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat_line.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _descendants(pid: int) -> dict[int, str]:
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            try:
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            todo.append(child)
    return found


def _alive(pid: int, cmdline: str) -> bool:
    """Running (not a zombie) and still the same program."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        now = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return state != "Z" and now == cmdline


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen[bytes]:
    """archstat as a terminal starts it: in its own process group, with Ctrl-C's default action
    even where the test runner was started with SIGINT ignored (a non-interactive shell's `&`),
    which the child would inherit and keep."""
    return subprocess.Popen([sys.executable, "-c", CLI, *args], cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(proc: subprocess.Popen[bytes]) -> tuple[float, str]:
    """Ctrl-C as a terminal sends it (to the process group); the seconds until exit, and stderr."""
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    try:
        _, err = proc.communicate(timeout=60)   # a guard against a hang, not a speed test
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("archstat did not exit within 60 s of Ctrl-C")
    return time.monotonic() - sent, err.decode()


def _wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes], what: str) -> None:
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"archstat ended (exit {proc.returncode}) before {what}: {proc.stderr.read().decode()}")
        time.sleep(0.05)


def test_ctrl_c_during_a_forward_is_one_line(tmp_path: Path) -> None:
    marker = tmp_path / "forward-started"
    spec = net(tmp_path, "slow", f"open({str(marker)!r}, 'w').close(); import time; time.sleep(600)")
    proc = _start(["summary", spec, "--input", "1x3x8x8"], tmp_path)
    _wait_for(marker.exists, proc, "the forward started")
    _, err = _interrupt(proc)
    assert (proc.returncode, err) == (130, "archstat: interrupted\n")


CHROMIUM = os.environ.get("BROWSER_PATH", "/usr/bin/chromium")


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="no Chromium for figure export")
def test_ctrl_c_during_figure_export_kills_the_browser_and_exits(tmp_path: Path) -> None:
    pytest.importorskip("kaleido")
    proc = _start(["figures", "--format", "png", "--out", str(tmp_path / "figures")], tmp_path)
    browser: dict[int, str] = {}

    def browser_started() -> bool:
        browser.update(_descendants(proc.pid))
        return any("chrom" in cmdline for cmdline in browser.values())

    _wait_for(browser_started, proc, "the browser started")
    _, err = _interrupt(proc)   # how fast it exits is measured by benchmarks/interrupt.py, not here
    assert proc.returncode == 130
    assert [line for line in err.splitlines() if not line.startswith("wrote ")] == ["archstat: interrupted"]
    left = {pid: cmdline for pid, cmdline in browser.items() if _alive(pid, cmdline)}
    assert left == {}, f"browser processes left behind: {left}"
