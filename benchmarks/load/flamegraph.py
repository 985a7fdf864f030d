"""A flame graph (SVG) drawn from collapsed stacks (`frame;frame;frame count` lines).

Why not py-spy's own `--format flamegraph`: a second recorder per worker doubled the cost of
profiling (on two cores, four py-spy processes halved the server's saturation rate), while one
raw recording holds everything the picture needs. Frames narrower than `min_share` of all
samples are merged into their parent, which keeps a 30 s profile's SVG to some 100 kB.
Hovering a box shows its frame, samples and share (the SVG `<title>`), as in flamegraph.pl.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

__all__ = ["Node", "read_collapsed", "render_svg"]

WIDTH = 1200
ROW = 16
FONT = 11
CHAR_PX = 6.2
"""Approximate width of one character of the 11 px monospace font, to cut labels."""


@dataclass
class Node:
    """One frame in the tree of stacks, with the samples of every stack through it."""

    name: str
    samples: int = 0
    children: dict[str, Node] = field(default_factory=dict)

    def add(self, frames: list[str], count: int) -> None:
        self.samples += count
        node = self
        for frame in frames:
            node = node.children.setdefault(frame, Node(frame))
            node.samples += count

    def depth(self) -> int:
        return 1 + max((child.depth() for child in self.children.values()), default=0)


def read_collapsed(paths: list[Path]) -> list[tuple[list[str], int]]:
    """The stacks of one or more raw files, root first, with their sample counts."""
    stacks: list[tuple[list[str], int]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if stack and count.isdigit():
                stacks.append((stack.split(";"), int(count)))
    return stacks


def _colour(name: str) -> str:
    """Warm colours as flamegraph.pl uses, stable per frame name; our own code is greener."""
    digest = hashlib.blake2b(name.encode(), digest_size=2).digest()
    if any(f"({package}/" in name for package in ("api", "bot", "nlu", "ledger")):
        return f"rgb({120 + digest[0] % 60},{190 + digest[1] % 50},90)"
    return f"rgb({205 + digest[0] % 50},{80 + digest[1] % 130},50)"


def render_svg(stacks: list[tuple[list[str], int]], title: str, min_share: float = 0.002
               ) -> str:
    """The flame graph of `stacks` (root at the bottom, as flamegraph.pl draws it)."""
    root = Node("all")
    for frames, count in stacks:
        root.add(frames, count)
    total = max(root.samples, 1)
    minimum = total * min_share
    boxes: list[str] = []

    def draw(node: Node, x: float, level: int, height: int) -> None:
        width = node.samples / total * WIDTH
        y = height - (level + 1) * ROW
        share = node.samples / total * 100
        label = node.name if len(node.name) * CHAR_PX < width - 4 else (
            node.name[:max(0, int((width - 4) / CHAR_PX) - 2)] + ".." if width > 30 else "")
        boxes.append(
            f'<g><title>{escape(node.name)} ({node.samples} samples, {share:.2f} %)</title>'
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW - 1}" '
            f'fill="{_colour(node.name)}" rx="2"/>'
            + (f'<text x="{x + 3:.1f}" y="{y + ROW - 4}">{escape(label)}</text>' if label
               else "") + "</g>")
        offset = x
        for child in sorted(node.children.values(), key=lambda c: c.name):
            if child.samples >= minimum:
                draw(child, offset, level + 1, height)
            offset += child.samples / total * WIDTH

    levels = _visible_depth(root, minimum)
    height = (levels + 2) * ROW
    draw(root, 0.0, 0, height)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'font-family="monospace" font-size="{FONT}">'
            f'<text x="4" y="{FONT + 2}" font-size="{FONT + 2}">{escape(title)} '
            f'({root.samples} samples; frames under {min_share * 100:g} % merged into their '
            f'parent)</text>' + "".join(boxes) + "</svg>\n")


def _visible_depth(node: Node, minimum: float) -> int:
    return 1 + max((_visible_depth(child, minimum) for child in node.children.values()
                    if child.samples >= minimum), default=0)
