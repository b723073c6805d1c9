"""The embedded content with the fields the real listings lack, for page-type tests.

The embedded days in content/ are real API answers with real upvotes, keywords and
organizations, but which topics and organizations they hold depends on the days chosen.
This copies them into a project with deterministic upvotes, keywords found in each paper's
own title and abstract, and five organizations, so the page-type tests can name topics
("Reasoning", "Large Language Models") and organizations ("google") that are sure to exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from generator import history, store
from generator.models import Organization

#: Phrases a paper gets as a keyword when its title or abstract contains them.
PHRASES = (
    "large language models",
    "reinforcement learning",
    "diffusion models",
    "video generation",
    "benchmark",
    "agents",
    "reasoning",
    "multimodal",
    "image generation",
    "robotics",
    "retrieval",
    "speech",
    "3D",
    "fine-tuning",
    "vision-language models",
    "code generation",
)
ORGS = (
    ("google", "Google"),
    ("nvidia", "NVIDIA"),
    ("meta", ""),
    ("qwen", "Qwen"),
    ("allenai", "Ai2"),
)


def _number(text: str, modulo: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % modulo


def enrich(content: Path, out: Path) -> None:
    """Copy every day of `content` into `out` with upvotes, keywords and organizations."""
    for day in store.load_all(content):
        papers = []
        for paper in day.papers:
            text = f"{paper.title} {paper.summary}".casefold()
            keywords = [p.title() if p.islower() else p for p in PHRASES if p.casefold() in text]
            org_index = _number(paper.id + "org", 10)
            org = None
            if org_index < len(ORGS):
                name, fullname = ORGS[org_index]
                org = Organization(name=name, fullname=fullname or None)
            papers.append(
                paper.model_copy(
                    update={
                        "upvotes": _number(paper.id, 120),
                        "keywords": keywords,
                        "organization": org,
                        "comments": _number(paper.id + "c", 9),
                    }
                )
            )
        store.save_day(out, day.model_copy(update={"papers": papers}))


def add_history(content: Path, days: int = 3) -> None:
    """Two captures of the newest `days` days' papers, 25 h apart, the first at half their
    upvotes: sparklines on their pages and a full Rising page."""
    recent = [day for day in store.load_all(content) if day.papers][-days:]
    counts = {p.id: (p.upvotes, p.comments) for day in recent for p in day.papers}
    first = dt.datetime.combine(recent[-1].date, dt.time(2, 45), tzinfo=dt.UTC)
    history.append(content, first, {pid: (up // 2, c, None) for pid, (up, c) in counts.items()})
    history.append(
        content,
        first + dt.timedelta(hours=25),
        {pid: (up, c, None) for pid, (up, c) in counts.items()},
    )
