"""The documentation says what the code does.

docs/cli-reference.md is the commands' own help, regenerated and compared. Every
console example in README.md and docs/*.md is run, and its output compared with
the text shown: a fenced block whose info string is ``console``, in which a line
starting with ``$ `` is a command (continued on the next line after a ``\\``),
and the lines up to the next command are its output. Each example runs with
bash in a folder of its own, against a copy of the store built from the shipped
seed, at 100 columns; the copy's path is shown as ``layers/crossings.gpkg``.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "cli-reference.md"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
#: How the store's path is shown in the examples, wherever the test's copy lies.
STORE_SHOWN = "layers/crossings.gpkg"
COLUMNS = "100"


def load_reference_script() -> ModuleType:
    """docs/cli_reference.py, imported from its path (docs/ is not a package)."""
    spec = importlib.util.spec_from_file_location("cli_reference", DOCS / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_diff(generated: str, stored: str) -> list[str]:
    """The lines by which the stored reference differs from the generated one."""
    return list(
        difflib.unified_diff(
            stored.splitlines(),
            generated.splitlines(),
            "docs/cli-reference.md",
            "generated",
            lineterm="",
        )
    )


def test_cli_reference_is_current() -> None:
    generated = load_reference_script().reference()
    diff = reference_diff(generated, REFERENCE.read_text(encoding="utf-8"))
    assert not diff, (
        "docs/cli-reference.md does not match the commands' help: run "
        "`python docs/cli_reference.py` and commit the result\n" + "\n".join(diff[:60])
    )


def test_cli_reference_check_detects_a_missing_line() -> None:
    generated = load_reference_script().reference()
    lines = generated.splitlines(keepends=True)
    option = next(i for i, line in enumerate(lines) if line.lstrip().startswith("--km"))
    stale = "".join(lines[:option] + lines[option + 1 :])
    diff = reference_diff(generated, stale)
    assert diff
    assert any(line.startswith("+") and "--km" in line for line in diff)


def test_cli_reference_has_every_command() -> None:
    from geo.cli import cli

    text = REFERENCE.read_text(encoding="utf-8")
    headings = re.findall(r"^## crossings (\S+(?: \S+)?)$", text, flags=re.MULTILINE)
    expected = []
    for name in sorted(cli.commands):  # a group's commands follow it, each with its options
        expected += [
            name,
            *(f"{name} {sub}" for sub in sorted(getattr(cli.commands[name], "commands", {}))),
        ]
    assert headings == expected
    assert "users add" in headings


# --- console examples ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One ``$ `` command of an example, as written, and the output shown after it."""

    lines: tuple[str, ...]
    output: str

    @property
    def script(self) -> str:
        """The command as bash runs it (a ``\\`` at a line's end continues it)."""
        return "\n".join(line.removeprefix("$ ") for line in self.lines)


@dataclass(frozen=True)
class Example:
    """A console block: its commands, run in order in one folder against one store."""

    page: str
    line: int
    commands: tuple[Command, ...]

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def transcript(self, outputs: list[str] | None = None) -> str:
        """The block as shown, or with other outputs in place of those shown."""
        parts: list[str] = []
        for i, command in enumerate(self.commands):
            parts.extend(command.lines)
            output = command.output if outputs is None else outputs[i]
            if output:
                parts.append(output)
        return "\n".join(parts)


def normal(text: str) -> str:
    """Text with trailing spaces and trailing empty lines removed."""
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")


def parse_examples(text: str, page: str) -> list[Example]:
    """Every console block of a Markdown text, with the line number of its first command."""
    lines = text.splitlines()
    examples: list[Example] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        i += 1
        commands: list[Command] = []
        first = 0
        current: list[str] = []
        output: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            if lines[i].startswith("$ "):
                if current:
                    commands.append(Command(tuple(current), normal("\n".join(output))))
                first = first or i + 1
                current, output = [lines[i]], []
                while current[-1].endswith("\\") and i + 1 < len(lines):
                    i += 1
                    current.append(lines[i])
            elif current:
                output.append(lines[i])
            i += 1
        if current:
            commands.append(Command(tuple(current), normal("\n".join(output))))
        if commands:
            examples.append(Example(page, first, tuple(commands)))
        i += 1
    return examples


def all_examples() -> list[Example]:
    examples: list[Example] = []
    for path in PAGES:
        page = str(path.relative_to(ROOT))
        examples.extend(parse_examples(path.read_text(encoding="utf-8"), page))
    return examples


EXAMPLES = all_examples()


def run_example(example: Example, store: Path, cwd: Path) -> list[str]:
    """Run each command of an example; return their outputs, stdout and stderr as one."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["COLUMNS"] = COLUMNS
    env["CROSSINGS_STORE"] = str(store)
    env["PYTHONIOENCODING"] = "utf-8"
    outputs = []
    for command in example.commands:
        done = subprocess.run(
            ["bash", "-c", command.script],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
        text = done.stdout.decode("utf-8", errors="replace").replace(str(store), STORE_SHOWN)
        outputs.append(normal(text))
    return outputs


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_console_example(example: Example, shipped_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "store" / "crossings.gpkg"
    store.parent.mkdir()
    shutil.copyfile(shipped_store, store)
    work = tmp_path / "work"
    work.mkdir()
    outputs = run_example(example, store, work)
    assert example.transcript(outputs) == example.transcript(), (
        f"{example.id}: the output differs from the text shown"
    )


def test_there_are_console_examples() -> None:
    pages = {example.page for example in EXAMPLES}
    assert "README.md" in pages
    assert len(EXAMPLES) >= 20


def test_examples_are_parsed_as_written() -> None:
    text = "\n".join(
        [
            "intro",
            "```console",
            "$ crossings observe x \\",
            '    --summary "y"',
            '{"id": "o-1"}',
            "$ crossings validate   ",
            "layers/crossings.gpkg: ok   ",
            "",
            "```",
            "```sh",
            "$ crossings map",
            "```",
        ]
    )
    (example,) = parse_examples(text, "page.md")
    assert example.id == "page.md:3"
    assert [c.script for c in example.commands] == [
        'crossings observe x \\\n    --summary "y"',
        "crossings validate   ",
    ]
    assert [c.output for c in example.commands] == ['{"id": "o-1"}', "layers/crossings.gpkg: ok"]
    assert example.transcript(['{"id": "o-2"}', "layers/crossings.gpkg: ok"]) != (
        example.transcript()
    )


# --- links --------------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_links_within_the_repository_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            if anchor not in anchors(linked.read_text(encoding="utf-8")):
                broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links to nothing: {broken}"


def test_readme_lists_every_command_once() -> None:
    from geo.cli import cli

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `crossings ([a-z]+)", text, flags=re.MULTILINE)
    assert listed == sorted(cli.commands)


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 180
